-- Invitations and resets by link (issue #12 §2): an admin never needs to
-- know a staff password. A link is valid 72 hours, once; only its SHA-256
-- is stored. A newer link for the same person ends the older ones.
CREATE TABLE invitations (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL DEFAULT now() + interval '72 hours',
    -- When it was used, or replaced by a newer link.
    ended_at TIMESTAMPTZ
);
CREATE INDEX invitations_open_idx ON invitations (user_id) WHERE ended_at IS NULL;

GRANT SELECT, INSERT, UPDATE (ended_at) ON invitations TO pcn_admin;
-- A new password of one's own ends one's open links (models::users::set_password).
GRANT SELECT (user_id, ended_at), UPDATE (ended_at) ON invitations TO pcn_viewer;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY invitations_admin ON invitations FOR ALL TO pcn_admin USING (true) WITH CHECK (true);
CREATE POLICY invitations_own_read ON invitations FOR SELECT TO pcn_viewer
    USING (user_id = pcn_user_id());
CREATE POLICY invitations_own_end ON invitations FOR UPDATE TO pcn_viewer
    USING (user_id = pcn_user_id()) WITH CHECK (ended_at IS NOT NULL);

-- The signed-out role reads no invitation: it asks with the link's token
-- itself (hashed here), so knowing the stored hashes opens nothing.
CREATE FUNCTION pcn_open_invitation(token text)
RETURNS TABLE (first_name text, last_name text, email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.first_name, u.last_name, u.email
      FROM invitations i JOIN users u ON u.id = i.user_id
     WHERE i.token_hash = sha256(convert_to(token, 'UTF8')) AND i.ended_at IS NULL
       AND i.expires_at > now() AND u.active
$$;
REVOKE ALL ON FUNCTION pcn_open_invitation(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pcn_open_invitation(text) TO pcn_anon;

-- Using a link: in one statement's transaction, the link ends (once: a
-- second use finds it ended), the password is set and the person's
-- sessions end. The signed-out role may do exactly this, and no other
-- change to a password. Answers the user's id, or NULL for a link that is
-- unknown, used, replaced or expired (or whose user is deactivated).
CREATE FUNCTION pcn_accept_invitation(token text, new_hash text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE uid bigint;
BEGIN
    UPDATE invitations i SET ended_at = now()
      FROM users u
     WHERE i.token_hash = sha256(convert_to(token, 'UTF8')) AND i.ended_at IS NULL
       AND i.expires_at > now()
       AND u.id = i.user_id AND u.active
    RETURNING i.user_id INTO uid;
    IF uid IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE users SET password_hash = new_hash WHERE id = uid;
    UPDATE sessions SET revoked_at = now() WHERE user_id = uid AND revoked_at IS NULL;
    INSERT INTO audit_log (actor_id, action, target_user_id, details)
    VALUES (uid, 'password set by link', uid, 'chosen through an invitation or reset link');
    RETURN uid;
END $$;
REVOKE ALL ON FUNCTION pcn_accept_invitation(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pcn_accept_invitation(text, text) TO pcn_anon;
