-- A second sign-in factor: time-based one-time codes (RFC 6238) and
-- single-use recovery codes. Sign-in attempts learn the outcomes of the code
-- step, so wrong codes are throttled from the same table as wrong passwords.

CREATE TABLE user_totp (
    user_id        BIGINT      PRIMARY KEY REFERENCES users (id),
    -- The shared secret, 20 random bytes. Checking a code needs it, so it
    -- cannot be hashed: only the app may read this table.
    secret         BYTEA       NOT NULL CHECK (length(secret) = 20),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- NULL while being set up: a factor only once a first code confirmed it.
    confirmed_at   TIMESTAMPTZ,
    -- The newest 30-second time step whose code was accepted: that code, and
    -- every older one, is refused from then on (RFC 6238 §5.2). Raised only by
    -- `UPDATE … WHERE last_used_step < $step`, so of two parallel uses of one
    -- code exactly one succeeds.
    last_used_step BIGINT      NOT NULL DEFAULT 0 CHECK (last_used_step >= 0)
);

CREATE TABLE recovery_codes (
    id         BIGSERIAL   PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    -- SHA-256 of the code as typed, normalised: the codes are random (50
    -- bits), shown once, and a copy of this table lets nobody sign in.
    code_hash  BYTEA       NOT NULL CHECK (length(code_hash) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    used_at    TIMESTAMPTZ,
    UNIQUE (user_id, code_hash)
);

-- The code step's attempts: 'code_pending' counts as a failure while it is
-- being checked, as 'pending' does for passwords.
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome_check;
ALTER TABLE sign_in_attempts ADD CONSTRAINT sign_in_attempts_outcome_check
    CHECK (outcome IN ('pending', 'success', 'failure', 'throttled',
                       'code_pending', 'code_success', 'code_failure', 'code_throttled'));
-- Wrong codes are counted per user.
CREATE INDEX sign_in_attempts_user_idx ON sign_in_attempts (user_id, attempted_at DESC);

-- Who may touch the factors (see 2026-11-30-000001_roles): the code step,
-- signed out, reads any factor and uses codes up; a signed-in person sets
-- up, confirms and removes their own; an admin sees whether anyone has one
-- and resets it.
GRANT SELECT, UPDATE (last_used_step) ON user_totp TO pcn_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp TO pcn_viewer;
ALTER TABLE user_totp ENABLE ROW LEVEL SECURITY;
CREATE POLICY totp_code_step ON user_totp FOR ALL TO pcn_anon USING (true) WITH CHECK (true);
CREATE POLICY totp_own ON user_totp FOR ALL TO pcn_viewer
    USING (user_id = pcn_user_id()) WITH CHECK (user_id = pcn_user_id());
CREATE POLICY totp_admin_read ON user_totp FOR SELECT TO pcn_admin USING (true);
CREATE POLICY totp_admin_reset ON user_totp FOR DELETE TO pcn_admin USING (true);

GRANT SELECT, UPDATE (used_at) ON recovery_codes TO pcn_anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON recovery_codes TO pcn_viewer;
GRANT USAGE ON SEQUENCE recovery_codes_id_seq TO pcn_viewer;
ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY recovery_code_step ON recovery_codes FOR ALL TO pcn_anon USING (true) WITH CHECK (true);
CREATE POLICY recovery_own ON recovery_codes FOR ALL TO pcn_viewer
    USING (user_id = pcn_user_id()) WITH CHECK (user_id = pcn_user_id());
-- An admin's reset removes codes (reading which to remove); it never makes one.
CREATE POLICY recovery_admin_read ON recovery_codes FOR SELECT TO pcn_admin USING (true);
CREATE POLICY recovery_admin_reset ON recovery_codes FOR DELETE TO pcn_admin USING (true);

-- Whoever uses a code: a used time step stays used, a used recovery code
-- stays used.
CREATE FUNCTION pcn_totp_steps_only_rise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pcn_is_app() AND NEW.last_used_step < OLD.last_used_step THEN
        RAISE EXCEPTION 'permission denied: a used time step stays used'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION pcn_recovery_codes_stay_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pcn_is_app() AND OLD.used_at IS NOT NULL AND NEW.used_at IS DISTINCT FROM OLD.used_at THEN
        RAISE EXCEPTION 'permission denied: a used recovery code stays used'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER user_totp_steps_only_rise BEFORE UPDATE OF last_used_step ON user_totp
    FOR EACH ROW EXECUTE FUNCTION pcn_totp_steps_only_rise();
CREATE TRIGGER recovery_codes_stay_used BEFORE UPDATE OF used_at ON recovery_codes
    FOR EACH ROW EXECUTE FUNCTION pcn_recovery_codes_stay_used();
