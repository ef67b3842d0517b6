-- The inventory and its history. Every rule that can be a constraint is one.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE vehicles (
    id               BIGSERIAL PRIMARY KEY,
    vehicle_number   TEXT        NOT NULL CHECK (vehicle_number ~ '^[A-Z0-9-]{1,20}$'),
    vin              TEXT        CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    year             INTEGER     NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    make             TEXT        NOT NULL CHECK (length(btrim(make)) BETWEEN 1 AND 50),
    model            TEXT        NOT NULL CHECK (length(btrim(model)) BETWEEN 1 AND 50),
    trim             TEXT        NOT NULL DEFAULT '' CHECK (length(trim) <= 50),
    color            TEXT        NOT NULL DEFAULT '' CHECK (length(color) <= 30),
    mileage          INTEGER     NOT NULL CHECK (mileage BETWEEN 0 AND 2000000),
    condition        TEXT        NOT NULL CHECK (condition IN ('new', 'used', 'certified')),
    cost_cents       BIGINT      NOT NULL CHECK (cost_cents BETWEEN 0 AND 10000000000),
    list_price_cents BIGINT      NOT NULL CHECK (list_price_cents BETWEEN 0 AND 10000000000),
    status           TEXT        NOT NULL CHECK (status IN ('available', 'reserved', 'sold', 'archived')),
    location         TEXT        NOT NULL DEFAULT '' CHECK (length(location) <= 100),
    notes            TEXT        NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    received_on      DATE        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by       BIGINT      REFERENCES users (id),
    version          INTEGER     NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- What the search box matches: stock number, VIN, make, model.
    search_text      TEXT        GENERATED ALWAYS AS (
        lower(vehicle_number || ' ' || coalesce(vin, '') || ' ' || make || ' ' || model)
    ) STORED
);

-- Stock numbers are stored upper-case, so this is case-insensitive.
CREATE UNIQUE INDEX vehicles_vehicle_number_key ON vehicles (vehicle_number);
-- No two vehicles still on the lot share a VIN (a sold car may come back).
CREATE UNIQUE INDEX vehicles_vin_in_stock_key ON vehicles (vin)
    WHERE vin IS NOT NULL AND status IN ('available', 'reserved');
CREATE INDEX vehicles_search_trgm_idx ON vehicles USING gin (search_text gin_trgm_ops);
-- One index per sort order of the list (keyset pagination: sort key, id).
CREATE INDEX vehicles_received_idx ON vehicles (received_on, id);
CREATE INDEX vehicles_price_idx ON vehicles (list_price_cents, id);
CREATE INDEX vehicles_year_idx ON vehicles (year, id);
CREATE INDEX vehicles_mileage_idx ON vehicles (mileage, id);
CREATE INDEX vehicles_number_idx ON vehicles (vehicle_number, id);
CREATE INDEX vehicles_make_idx ON vehicles (make, id);
CREATE INDEX vehicles_updated_idx ON vehicles (updated_at, id);
-- The usual filtered views: by status, by make, newest first.
CREATE INDEX vehicles_status_received_idx ON vehicles (status, received_on, id);
CREATE INDEX vehicles_make_received_idx ON vehicles (make, received_on, id);

CREATE TABLE vehicle_history (
    id         BIGSERIAL PRIMARY KEY,
    vehicle_id BIGINT      NOT NULL REFERENCES vehicles (id),
    version    INTEGER     NOT NULL,
    changed_by BIGINT      REFERENCES users (id),
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    action     TEXT        NOT NULL CHECK (action IN ('created', 'edited', 'archived', 'sold', 'sale voided')),
    -- The full editable row after the change: the base of three-way merges.
    snapshot   JSONB       NOT NULL,
    -- {field: [before, after]} as people read them.
    changes    JSONB       NOT NULL DEFAULT '{}',
    -- One history row per version: two saves can never both claim a version.
    UNIQUE (vehicle_id, version)
);
