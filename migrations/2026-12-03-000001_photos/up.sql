-- Photos of a vehicle (issue 14 §1), kept in PostgreSQL so that every
-- instance serves them and a backup holds them. Each photo is kept in three
-- sizes, new JPEGs without the original's metadata (src/domain/photo); its
-- sha256 (over the three) names it in the addresses it is served at, so
-- they can be cached for good. The blobs go to this table's TOAST storage,
-- out of the way of queries that read the other columns; the README says how
-- large it grows, and how to move it to a tablespace of its own.
CREATE TABLE vehicle_photos (
    id             BIGSERIAL   PRIMARY KEY,
    vehicle_id     BIGINT      NOT NULL REFERENCES vehicles (id),
    -- The order on the vehicle's page; the first is the cover.
    position       INTEGER     NOT NULL CHECK (position >= 0),
    sha256         BYTEA       NOT NULL CHECK (length(sha256) = 32),
    thumb_jpeg     BYTEA       NOT NULL,
    thumb_width    INTEGER     NOT NULL CHECK (thumb_width BETWEEN 1 AND 160),
    thumb_height   INTEGER     NOT NULL CHECK (thumb_height BETWEEN 1 AND 160),
    page_jpeg      BYTEA       NOT NULL,
    page_width     INTEGER     NOT NULL CHECK (page_width BETWEEN 1 AND 1024),
    page_height    INTEGER     NOT NULL CHECK (page_height BETWEEN 1 AND 1024),
    full_jpeg      BYTEA       NOT NULL,
    full_width     INTEGER     NOT NULL CHECK (full_width BETWEEN 1 AND 2560),
    full_height    INTEGER     NOT NULL CHECK (full_height BETWEEN 1 AND 2560),
    -- What was uploaded, in bytes (the original itself is not kept).
    original_bytes INTEGER     NOT NULL CHECK (original_bytes > 0),
    added_by       BIGINT      REFERENCES users (id),
    added_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Checked at commit, so a reorder may pass through a moment where two
    -- photos share a place.
    CONSTRAINT vehicle_photos_position_key UNIQUE (vehicle_id, position) DEFERRABLE INITIALLY DEFERRED,
    -- The same photo twice on one vehicle is kept once.
    CONSTRAINT vehicle_photos_sha256_key UNIQUE (vehicle_id, sha256)
);
-- Serving a photo by its address.
CREATE INDEX vehicle_photos_sha256_idx ON vehicle_photos (sha256);
-- Written and read whole, never compressed again: JPEG does not shrink.
ALTER TABLE vehicle_photos ALTER COLUMN thumb_jpeg SET STORAGE EXTERNAL,
    ALTER COLUMN page_jpeg SET STORAGE EXTERNAL,
    ALTER COLUMN full_jpeg SET STORAGE EXTERNAL;

-- Who may touch them (see 2026-11-30-000001_roles): everyone signed in
-- sees them; an editor adds, reorders and removes them.
GRANT SELECT ON vehicle_photos TO pcn_viewer;
GRANT INSERT, UPDATE (position), DELETE ON vehicle_photos TO pcn_editor;
GRANT USAGE ON SEQUENCE vehicle_photos_id_seq TO pcn_editor;
