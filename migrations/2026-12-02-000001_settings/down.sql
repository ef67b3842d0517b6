DROP TABLE dealership_settings;
DROP FUNCTION pcn_notify_settings();
