DROP TABLE vehicle_history;
DROP TABLE vehicles;
DROP EXTENSION IF EXISTS pg_trgm;
