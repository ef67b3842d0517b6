DROP POLICY audit_admin_read ON audit_log;
DROP POLICY audit_own_name ON audit_log;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
DROP TRIGGER vehicles_archive_is_admins ON vehicles;
DROP FUNCTION pcn_archive_is_admins();
DROP TRIGGER sessions_stay_ended ON sessions;
DROP FUNCTION pcn_session_stays_ended();
DROP POLICY presence_purge ON vehicle_presence;
DROP POLICY presence_own ON vehicle_presence;
DROP POLICY presence_read ON vehicle_presence;
ALTER TABLE vehicle_presence DISABLE ROW LEVEL SECURITY;
ALTER FUNCTION pcn_sales_daily_apply() SECURITY INVOKER RESET search_path;
DROP FUNCTION pcn_own_password_hash();
DROP POLICY sessions_admin ON sessions;
DROP POLICY sessions_own ON sessions;
DROP POLICY sessions_own_new ON sessions;
DROP POLICY sessions_replace ON sessions;
DROP POLICY sessions_sign_in ON sessions;
DROP POLICY sessions_read ON sessions;
ALTER TABLE sessions DISABLE ROW LEVEL SECURITY;
DROP POLICY users_admin ON users;
DROP POLICY users_own ON users;
DROP POLICY users_sign_in ON users;
DROP POLICY users_first_admin ON users;
DROP POLICY users_read ON users;
DROP POLICY users_signed_out ON users;
ALTER TABLE users DISABLE ROW LEVEL SECURITY;
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['pcn_anon', 'pcn_viewer', 'pcn_editor', 'pcn_admin', 'pcn_system'] LOOP
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', r);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', r);
    EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', r);
  END LOOP;
END $$;
DROP FUNCTION pcn_user_id();
DROP FUNCTION pcn_is_app();
