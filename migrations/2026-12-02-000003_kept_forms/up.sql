-- No lost deals (issue #13 §3): a form sent after its session ended by
-- itself (idle or too old) is kept here, for the person whose session it
-- was, for an hour, and given back once, when they open that form again
-- after signing in. Only what the person typed: never the CSRF token, never
-- a password (the check below holds even if the app forgot). The browser
-- that sent it names it by a random handle in its signed cookie; only the
-- handle's SHA-256 is stored, and nothing of it is ever in a URL.
CREATE TABLE kept_forms (
    id          BIGSERIAL   PRIMARY KEY,
    handle_hash BYTEA       NOT NULL UNIQUE CHECK (length(handle_hash) = 32),
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    -- The ended session it was sent with.
    session_id  BIGINT      NOT NULL REFERENCES sessions (id),
    -- The page of the form (`/vehicles/7/sell`): where it comes back.
    form_page   TEXT        NOT NULL CHECK (form_page LIKE '/%' AND length(form_page) <= 200),
    -- The fields as sent, in order: [[name, value], …].
    fields      JSONB       NOT NULL CHECK (
        jsonb_typeof(fields) = 'array' AND octet_length(fields::text) <= 131072
        AND NOT jsonb_path_exists(fields, '$[*] ? (@[0] like_regex "password|csrf_token" flag "i")')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL DEFAULT now() + interval '1 hour',
    used_at     TIMESTAMPTZ
);
CREATE INDEX kept_forms_user_idx ON kept_forms (user_id);
CREATE INDEX kept_forms_expires_idx ON kept_forms (expires_at);

-- Whose is it (see 2026-11-30-000001_roles): the owner alone reads theirs
-- and uses it up (once: a used form stays used); the instance's
-- housekeeping deletes what expired or was used. Nobody reads another
-- person's, admins included.
GRANT SELECT, UPDATE (used_at) ON kept_forms TO pcn_viewer;
GRANT SELECT, DELETE ON kept_forms TO pcn_system;
ALTER TABLE kept_forms ENABLE ROW LEVEL SECURITY;
CREATE POLICY kept_forms_own ON kept_forms FOR SELECT TO pcn_viewer
    USING (user_id = pcn_user_id());
CREATE POLICY kept_forms_use ON kept_forms FOR UPDATE TO pcn_viewer
    USING (user_id = pcn_user_id() AND used_at IS NULL)
    WITH CHECK (user_id = pcn_user_id() AND used_at IS NOT NULL);
CREATE POLICY kept_forms_prune_read ON kept_forms FOR SELECT TO pcn_system USING (true);
CREATE POLICY kept_forms_prune ON kept_forms FOR DELETE TO pcn_system
    USING (used_at IS NOT NULL OR expires_at < now());

-- Keeping a form happens signed out (the session has ended), so the
-- signed-out role may do exactly this and nothing else with the table: it
-- proves whose session it was with the session's token itself (hashed
-- here, so knowing the stored hashes opens nothing), and a revoked session
-- or a deactivated person keeps nothing. Whether the session ended by
-- itself, and whether the form's CSRF token was that session's, the app
-- has checked (auth::kept_forms). At most 20 kept forms per person; expired
-- and used ones make room first. Answers whose it is, or NULL when it was
-- not kept.
CREATE FUNCTION pcn_keep_form(session_token text, handle_hash bytea, form_page text, fields jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE sid bigint; uid bigint;
BEGIN
    SELECT s.id, s.user_id INTO sid, uid
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = sha256(convert_to(session_token, 'UTF8'))
       AND s.revoked_at IS NULL AND u.active;
    IF sid IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM kept_forms k
     WHERE k.user_id = uid AND (k.used_at IS NOT NULL OR k.expires_at < now());
    IF (SELECT count(*) FROM kept_forms k WHERE k.user_id = uid) >= 20 THEN
        RETURN NULL;
    END IF;
    INSERT INTO kept_forms (handle_hash, user_id, session_id, form_page, fields)
    VALUES (pcn_keep_form.handle_hash, uid, sid, pcn_keep_form.form_page, pcn_keep_form.fields);
    RETURN uid;
END $$;
REVOKE ALL ON FUNCTION pcn_keep_form(text, bytea, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pcn_keep_form(text, bytea, text, jsonb) TO pcn_anon;

-- Safeguards on a sale (issue #13 §4): a manager records a deal for one of
-- the team, an editor only for themself, and always for active staff who
-- sell (editor or admin). The app answers a person with 422 first; this
-- holds if it did not.
CREATE FUNCTION pcn_sale_salesperson() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pcn_is_app() THEN
        IF current_user <> 'pcn_admin' AND NEW.salesperson_id IS DISTINCT FROM pcn_user_id() THEN
            RAISE EXCEPTION 'permission denied: only an admin records a sale for someone else'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.salesperson_id AND u.active
                                               AND u.role IN ('editor', 'admin')) THEN
            RAISE EXCEPTION 'permission denied: a sale is recorded for active staff who sell'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sales_salesperson BEFORE INSERT ON sales
    FOR EACH ROW EXECUTE FUNCTION pcn_sale_salesperson();
