-- What admins did to accounts and sales: who, when, to whom, what.
CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    actor_id       BIGINT      REFERENCES users (id),
    action         TEXT        NOT NULL,
    target_user_id BIGINT      REFERENCES users (id),
    details        TEXT        NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_user_id, at DESC);
