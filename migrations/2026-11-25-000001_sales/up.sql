-- Sales. A vehicle is sold at most once at a time (a partial unique index),
-- and its status is 'sold' exactly when it has a sale that is not voided
-- (constraint triggers checked at commit).

CREATE TABLE sales (
    id               BIGSERIAL PRIMARY KEY,
    vehicle_id       BIGINT      NOT NULL REFERENCES vehicles (id),
    sale_price_cents BIGINT      NOT NULL CHECK (sale_price_cents BETWEEN 0 AND 10000000000),
    -- The vehicle's cost when it was sold: gross profit stays what it was
    -- even if the cost is corrected later.
    cost_cents       BIGINT      NOT NULL CHECK (cost_cents BETWEEN 0 AND 10000000000),
    sold_on          DATE        NOT NULL,
    customer_name    TEXT        NOT NULL CHECK (length(btrim(customer_name)) BETWEEN 1 AND 200),
    customer_email   TEXT        NOT NULL DEFAULT '' CHECK (length(customer_email) <= 254),
    customer_phone   TEXT        NOT NULL DEFAULT '' CHECK (length(customer_phone) <= 40),
    payment_method   TEXT        NOT NULL CHECK (payment_method IN ('cash', 'finance', 'card', 'transfer')),
    salesperson_id   BIGINT      NOT NULL REFERENCES users (id),
    notes            TEXT        NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    voided_at        TIMESTAMPTZ,
    voided_by        BIGINT      REFERENCES users (id),
    void_reason      TEXT        CHECK (length(void_reason) BETWEEN 1 AND 1000),
    CHECK ((voided_at IS NULL) = (voided_by IS NULL) AND (voided_at IS NULL) = (void_reason IS NULL))
);

CREATE UNIQUE INDEX sales_one_live_sale_per_vehicle ON sales (vehicle_id) WHERE voided_at IS NULL;
CREATE INDEX sales_vehicle_idx ON sales (vehicle_id);
CREATE INDEX sales_sold_on_idx ON sales (sold_on, id);
CREATE INDEX sales_salesperson_idx ON sales (salesperson_id, sold_on, id);
CREATE INDEX sales_customer_trgm_idx ON sales USING gin (lower(customer_name) gin_trgm_ops);

CREATE FUNCTION pcn_check_sold_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vid    BIGINT;
    status TEXT;
    live   INTEGER;
BEGIN
    IF TG_TABLE_NAME = 'vehicles' THEN
        vid := NEW.id;
    ELSE
        vid := NEW.vehicle_id;
    END IF;
    SELECT v.status INTO status FROM vehicles v WHERE v.id = vid;
    SELECT count(*) INTO live FROM sales s WHERE s.vehicle_id = vid AND s.voided_at IS NULL;
    IF (status = 'sold') <> (live = 1) THEN
        RAISE EXCEPTION 'vehicle % has status % but % sale(s) not voided', vid, status, live
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER vehicles_sold_status_on_insert
    AFTER INSERT ON vehicles DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'sold')
    EXECUTE FUNCTION pcn_check_sold_status();
CREATE CONSTRAINT TRIGGER vehicles_sold_status_on_update
    AFTER UPDATE OF status ON vehicles DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN ((OLD.status = 'sold') <> (NEW.status = 'sold'))
    EXECUTE FUNCTION pcn_check_sold_status();
CREATE CONSTRAINT TRIGGER sales_sold_status
    AFTER INSERT OR UPDATE OF voided_at ON sales DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION pcn_check_sold_status();
