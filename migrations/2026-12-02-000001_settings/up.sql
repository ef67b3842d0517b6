-- The dealership's own settings (SPEC §4, `/admin/settings`): its name,
-- address and phone for receipts, how money and dates are shown, the time
-- zone (NULL: the server's PCN_TIMEZONE), the receipt footer. One row at
-- most; none yet means the defaults (`domain::settings::Settings`).
CREATE TABLE dealership_settings (
    -- Always true: the table holds one row or none.
    id              BOOLEAN     PRIMARY KEY DEFAULT true CHECK (id),
    name            TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    address         TEXT        NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    phone           TEXT        NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    currency_symbol TEXT        NOT NULL CHECK (length(currency_symbol) BETWEEN 1 AND 5),
    currency_place  TEXT        NOT NULL CHECK (currency_place IN ('before', 'after')),
    date_format     TEXT        NOT NULL
        CHECK (date_format IN ('YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'D Mon YYYY')),
    time_zone       TEXT        CHECK (length(time_zone) BETWEEN 1 AND 64),
    receipt_footer  TEXT        NOT NULL DEFAULT '' CHECK (length(receipt_footer) <= 500),
    -- +1 on every save: an instance keeps the newest it has seen, and a form
    -- saved onto a version someone else replaced is shown again, not saved.
    version         INTEGER     NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every instance keeps the settings in memory (pages show them without a
-- query) and reads them again when told, on the channel of live changes.
CREATE FUNCTION pcn_notify_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pcn_changes', jsonb_build_object('kind', 'settings')::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER dealership_settings_notify
    AFTER INSERT OR UPDATE ON dealership_settings
    FOR EACH STATEMENT EXECUTE FUNCTION pcn_notify_settings();

-- Everyone signed in reads them (pages show them; an editor and an admin
-- hold what a viewer does), the listener reads them for its instance, and
-- only an admin changes them (see 2026-11-30-000001_roles).
GRANT SELECT ON dealership_settings TO pcn_viewer, pcn_system;
GRANT INSERT, UPDATE ON dealership_settings TO pcn_admin;
