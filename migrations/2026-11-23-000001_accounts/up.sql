-- Staff accounts, their server-side sessions, every sign-in attempt, and the
-- one-time tokens that create the first admin.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    -- Stored lower-cased, so the plain unique index makes it case-insensitive.
    email           TEXT        NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    first_name      TEXT        NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name       TEXT        NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    role            TEXT        NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password_hash   TEXT        NOT NULL,
    active          BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_sign_in_at TIMESTAMPTZ
);

CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    -- SHA-256 of the random token the signed cookie carries: a copy of this
    -- table does not let anyone sign in.
    token_hash   BYTEA       NOT NULL UNIQUE,
    user_id      BIGINT      NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ip           TEXT,
    user_agent   TEXT,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user_open_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_last_seen_open_idx ON sessions (last_seen_at DESC) WHERE revoked_at IS NULL;

CREATE TABLE sign_in_attempts (
    id           BIGSERIAL PRIMARY KEY,
    email        TEXT        NOT NULL,
    user_id      BIGINT      REFERENCES users (id),
    ip           TEXT        NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- 'pending' while the password is being checked: it already counts
    -- against the limits, so parallel attempts cannot slip past them.
    outcome      TEXT        NOT NULL CHECK (outcome IN ('pending', 'success', 'failure', 'throttled'))
);
CREATE INDEX sign_in_attempts_email_idx ON sign_in_attempts (email, attempted_at DESC);
CREATE INDEX sign_in_attempts_ip_idx ON sign_in_attempts (ip, attempted_at DESC);
CREATE INDEX sign_in_attempts_time_idx ON sign_in_attempts (attempted_at DESC);

CREATE TABLE setup_tokens (
    token_hash BYTEA       PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
