-- The database enforces roles too (SPEC §2, §6). The app logs in as
-- pcn_app, which owns nothing and holds nothing itself (NOINHERIT), and acts
-- for each request as one of these roles (src/db/acting.rs), created before
-- this migration by src/db/roles.rs:
--   pcn_anon    signed out: sign-in, setup; no inventory at all
--   pcn_viewer  reads inventory and sales; writes only its own sessions
--   pcn_editor  a viewer who also writes vehicles, their history and sales
--   pcn_admin   an editor who also manages users, sessions, voids, audit
--   pcn_system  the instance's housekeeping (change replay, purges, setup)
-- Nobody may delete a sale, a history row or an audit row; rows that
-- belong to someone (sessions, presence, a password) are guarded by
-- row-level security against pcn_user_id(), the user a request acts for.

-- Whom the request acts for ('' when signed out); set with the role.
CREATE FUNCTION pcn_user_id() RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('pcn.user_id', true), '')::bigint $$;

-- Whether the statement runs as one of the app's roles (the guards below
-- hold for the app; the owner's maintenance is not theirs to stop).
CREATE FUNCTION pcn_is_app() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT current_user::text LIKE 'pcn\_%' $$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
-- (Nor may anyone create temporary objects, which could shadow a table the
-- SECURITY DEFINER functions below use: src/db/roles.rs revokes that on
-- every `pcn migrate`, as a database's rights are not copied with it.
-- Their search_path puts pg_temp last as well.)
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO pcn_anon, pcn_viewer, pcn_system;

-- users: a viewer sees everyone's name and role, never a password hash.
GRANT SELECT ON users TO pcn_anon, pcn_system;
GRANT SELECT (id, email, first_name, last_name, role, active, created_at, last_sign_in_at)
    ON users TO pcn_viewer;
GRANT UPDATE (last_sign_in_at) ON users TO pcn_anon;
GRANT INSERT ON users TO pcn_anon;                    -- the first admin only, below
GRANT UPDATE (password_hash, last_sign_in_at) ON users TO pcn_viewer;  -- own row, below
GRANT SELECT, INSERT, UPDATE ON users TO pcn_admin;
GRANT USAGE ON SEQUENCE users_id_seq TO pcn_anon, pcn_admin;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_signed_out ON users FOR SELECT TO pcn_anon, pcn_system USING (true);
CREATE POLICY users_read ON users FOR SELECT TO pcn_viewer USING (true);
CREATE POLICY users_first_admin ON users FOR INSERT TO pcn_anon
    WITH CHECK (NOT EXISTS (SELECT 1 FROM users u));
CREATE POLICY users_sign_in ON users FOR UPDATE TO pcn_anon USING (true);
CREATE POLICY users_own ON users FOR UPDATE TO pcn_viewer
    USING (id = pcn_user_id()) WITH CHECK (id = pcn_user_id());
CREATE POLICY users_admin ON users FOR ALL TO pcn_admin USING (true) WITH CHECK (true);

-- A viewer's own password hash (to check the current password before a
-- change), and nobody else's.
CREATE FUNCTION pcn_own_password_hash() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS
$$ SELECT password_hash FROM users WHERE id = pcn_user_id() $$;
REVOKE ALL ON FUNCTION pcn_own_password_hash() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pcn_own_password_hash() TO pcn_viewer;

-- sessions: signing in creates one; a signed-in user keeps and ends their
-- own; an admin ends anyone's. Whoever a connection acted for last, it
-- may look up the session of the next request's cookie (by the SHA-256 of
-- its token: the hashes open nothing), which then switches it to act for
-- that person (models::sessions::find_live).
GRANT SELECT (id, token_hash, user_id, created_at, last_seen_at, revoked_at)
    ON sessions TO pcn_anon, pcn_system;
GRANT INSERT (token_hash, user_id, ip, user_agent), UPDATE (revoked_at) ON sessions TO pcn_anon;
GRANT SELECT (id, token_hash, user_id, created_at, last_seen_at, revoked_at),
    INSERT (token_hash, user_id, ip, user_agent),
    UPDATE (last_seen_at, revoked_at) ON sessions TO pcn_viewer;
GRANT SELECT ON sessions TO pcn_admin;
GRANT USAGE ON SEQUENCE sessions_id_seq TO pcn_anon, pcn_viewer;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY sessions_read ON sessions FOR SELECT TO pcn_anon, pcn_viewer, pcn_system USING (true);
CREATE POLICY sessions_sign_in ON sessions FOR INSERT TO pcn_anon WITH CHECK (revoked_at IS NULL);
-- Signing in again ends the session that browser had (its token proves it).
CREATE POLICY sessions_replace ON sessions FOR UPDATE TO pcn_anon
    USING (true) WITH CHECK (revoked_at IS NOT NULL);
-- A password change signs this browser in afresh: a new session of one's own.
CREATE POLICY sessions_own_new ON sessions FOR INSERT TO pcn_viewer
    WITH CHECK (user_id = pcn_user_id() AND revoked_at IS NULL);
CREATE POLICY sessions_own ON sessions FOR UPDATE TO pcn_viewer
    USING (user_id = pcn_user_id()) WITH CHECK (user_id = pcn_user_id());
CREATE POLICY sessions_admin ON sessions FOR UPDATE TO pcn_admin USING (true) WITH CHECK (true);

-- An ended session stays ended, whoever asks.
CREATE FUNCTION pcn_session_stays_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pcn_is_app() AND OLD.revoked_at IS NOT NULL
       AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'permission denied: an ended session cannot be reopened' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sessions_stay_ended BEFORE UPDATE OF revoked_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION pcn_session_stays_ended();

-- Throttling and the activity page.
GRANT SELECT, INSERT, UPDATE (outcome, user_id) ON sign_in_attempts TO pcn_anon;
GRANT SELECT ON sign_in_attempts TO pcn_admin;
-- Pruning after 90 days (row locks of SKIP LOCKED need an UPDATE grant).
GRANT SELECT, DELETE, UPDATE (outcome) ON sign_in_attempts TO pcn_system;
GRANT USAGE ON SEQUENCE sign_in_attempts_id_seq TO pcn_anon;

GRANT SELECT, DELETE ON setup_tokens TO pcn_anon;
GRANT SELECT, INSERT ON setup_tokens TO pcn_system;

-- Inventory and sales.
GRANT SELECT ON vehicles, vehicle_history, sales, sales_daily TO pcn_viewer;
GRANT INSERT, UPDATE ON vehicles TO pcn_editor;
GRANT INSERT ON vehicle_history, sales TO pcn_editor;
GRANT UPDATE (voided_at, voided_by, void_reason) ON sales TO pcn_admin;
-- Archiving, and bringing an archived vehicle back, is an admin's.
CREATE FUNCTION pcn_archive_is_admins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pcn_is_app() AND current_user <> 'pcn_admin'
       AND (NEW.status = 'archived') IS DISTINCT FROM
           (TG_OP = 'UPDATE' AND OLD.status = 'archived') THEN
        RAISE EXCEPTION 'permission denied: only an admin archives a vehicle or brings it back'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER vehicles_archive_is_admins BEFORE INSERT OR UPDATE OF status ON vehicles
    FOR EACH ROW EXECUTE FUNCTION pcn_archive_is_admins();
GRANT USAGE ON SEQUENCE vehicles_id_seq, vehicle_history_id_seq, sales_id_seq TO pcn_editor;
-- Replaying missed changes (the listener) reads them as they were sent.
GRANT SELECT ON vehicles, vehicle_history, sales TO pcn_system;
-- The report's running totals follow every sale, whoever records it.
ALTER FUNCTION pcn_sales_daily_apply() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;

-- The audit log: appended to by whoever acts, in their own name; read by admins.
GRANT INSERT ON audit_log TO pcn_viewer;
GRANT SELECT ON audit_log TO pcn_admin;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO pcn_viewer;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_own_name ON audit_log FOR INSERT TO pcn_viewer
    WITH CHECK (actor_id = pcn_user_id());
CREATE POLICY audit_admin_read ON audit_log FOR SELECT TO pcn_admin USING (true);

-- Who has a vehicle open: everyone sees it, each keeps their own.
GRANT SELECT, INSERT, UPDATE, DELETE ON vehicle_presence TO pcn_viewer;
GRANT SELECT, DELETE ON vehicle_presence TO pcn_system;
ALTER TABLE vehicle_presence ENABLE ROW LEVEL SECURITY;
CREATE POLICY presence_read ON vehicle_presence FOR SELECT TO pcn_viewer, pcn_system USING (true);
CREATE POLICY presence_own ON vehicle_presence FOR ALL TO pcn_viewer
    USING (user_id = pcn_user_id()) WITH CHECK (user_id = pcn_user_id());
CREATE POLICY presence_purge ON vehicle_presence FOR DELETE TO pcn_system USING (true);
