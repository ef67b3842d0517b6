-- Live pages: every change of a vehicle or a sale is announced to every app
-- instance (NOTIFY on channel `pcn_changes`) by the transaction that makes it,
-- and who has a vehicle open for editing is kept here, not in any process.

-- One change as the event stream sends it: the vehicle history row is the
-- change (every edit, archive, sale and void writes one), so replaying missed
-- events reads the same rows. `id` is the history row's: the event id.
CREATE FUNCTION pcn_change_event(h vehicle_history) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'event', h.id,
        'kind', CASE WHEN h.action IN ('sold', 'sale voided') THEN 'sale' ELSE 'vehicle' END,
        'action', h.action,
        'vehicle_id', h.vehicle_id,
        'version', h.version,
        'by_id', h.changed_by,
        'by', (SELECT u.first_name || ' ' || u.last_name FROM users u WHERE u.id = h.changed_by),
        'at', h.changed_at,
        'fields', (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]'::jsonb)
                   FROM jsonb_object_keys(h.changes) k),
        -- The sale a sale event is about: made (or voided) by the same
        -- transaction as this history row, so stamped with the same now().
        'sale_id', CASE WHEN h.action IN ('sold', 'sale voided') THEN
            (SELECT s.id FROM sales s
             WHERE s.vehicle_id = h.vehicle_id
             ORDER BY (CASE WHEN h.action = 'sold' THEN s.created_at ELSE s.voided_at END
                       = h.changed_at) DESC NULLS LAST, s.id DESC
             LIMIT 1)
        END)
$$;

-- At commit (deferred), so the sale a sale event names exists by then and an
-- event is only sent for what is committed (NOTIFY is delivered on commit).
CREATE FUNCTION pcn_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pcn_changes', pcn_change_event(NEW)::text);
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER vehicle_history_notify
    AFTER INSERT ON vehicle_history
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION pcn_notify_change();

-- Streams end when their session does: signed out, revoked, or its person
-- deactivated or given another role. These events stay inside the app.
CREATE FUNCTION pcn_notify_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pcn_changes',
        jsonb_build_object('kind', 'session ended', 'session_id', NEW.id, 'user_id', NEW.user_id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_notify_ended
    AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION pcn_notify_session_ended();

CREATE FUNCTION pcn_notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pcn_changes',
        jsonb_build_object('kind', 'user changed', 'user_id', NEW.id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER users_notify_changed
    AFTER UPDATE OF role, active ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION pcn_notify_user_changed();

-- Who has which vehicle open for editing: one row per session, kept fresh by
-- a heartbeat from the page and read as present while `seen_at` is recent.
CREATE TABLE vehicle_presence (
    vehicle_id BIGINT      NOT NULL REFERENCES vehicles (id),
    session_id BIGINT      NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    since      TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (vehicle_id, session_id)
);
CREATE INDEX vehicle_presence_seen_idx ON vehicle_presence (seen_at);

-- Someone arrived or left: pages showing that vehicle ask who is there now.
CREATE FUNCTION pcn_notify_presence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pcn_changes', jsonb_build_object(
        'kind', 'presence',
        'vehicle_id', CASE WHEN TG_OP = 'DELETE' THEN OLD.vehicle_id ELSE NEW.vehicle_id END)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER vehicle_presence_notify
    AFTER INSERT OR DELETE ON vehicle_presence
    FOR EACH ROW EXECUTE FUNCTION pcn_notify_presence();
