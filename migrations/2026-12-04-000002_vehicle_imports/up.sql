-- CSV import with preview (issue #14 §2): an uploaded file, parsed, kept
-- between its preview and the editor's confirmation, for the person who
-- uploaded it alone, for an hour. `rows` holds the parsed rows as the
-- preview showed them, and for each stock number that matched a vehicle
-- the id and version seen then (the base of the three-way merge on
-- confirm). Confirming writes what it did into `done` (the result page
-- reads it); a confirmed import cannot be confirmed again.
CREATE TABLE vehicle_imports (
    id          BIGSERIAL   PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    file_name   TEXT        NOT NULL CHECK (length(file_name) <= 200),
    rows        JSONB       NOT NULL CHECK (jsonb_typeof(rows) = 'array'),
    done        JSONB,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL DEFAULT now() + interval '1 hour'
);
CREATE INDEX vehicle_imports_user_idx ON vehicle_imports (user_id);
CREATE INDEX vehicle_imports_expires_idx ON vehicle_imports (expires_at);

-- Whose is it (see 2026-11-30-000001_roles): an editor keeps, reads and
-- deletes only their own; nobody sees another person's, admins included.
GRANT SELECT, INSERT, DELETE, UPDATE (done) ON vehicle_imports TO pcn_editor;
GRANT USAGE ON SEQUENCE vehicle_imports_id_seq TO pcn_editor;
ALTER TABLE vehicle_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY vehicle_imports_own ON vehicle_imports FOR ALL TO pcn_editor
    USING (user_id = pcn_user_id()) WITH CHECK (user_id = pcn_user_id());
-- The instance's housekeeping deletes what expired, whoever's it was.
GRANT SELECT, DELETE ON vehicle_imports TO pcn_system;
CREATE POLICY vehicle_imports_prune_read ON vehicle_imports FOR SELECT TO pcn_system USING (true);
CREATE POLICY vehicle_imports_prune ON vehicle_imports FOR DELETE TO pcn_system
    USING (expires_at < now());
