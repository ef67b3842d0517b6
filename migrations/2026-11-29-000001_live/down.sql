DROP TABLE vehicle_presence;
DROP FUNCTION pcn_notify_presence();
DROP TRIGGER users_notify_changed ON users;
DROP FUNCTION pcn_notify_user_changed();
DROP TRIGGER sessions_notify_ended ON sessions;
DROP FUNCTION pcn_notify_session_ended();
DROP TRIGGER vehicle_history_notify ON vehicle_history;
DROP FUNCTION pcn_notify_change();
DROP FUNCTION pcn_change_event(vehicle_history);
