-- A second sign-in factor: time-based one-time codes (RFC 6238) and
-- single-use recovery codes. Sign-in attempts learn the outcomes of the code
-- step, so wrong codes are throttled from the same table as wrong passwords.

CREATE TABLE user_totp (
    user_id        BIGINT      PRIMARY KEY REFERENCES users (id),
    -- The shared secret, 20 random bytes. Checking a code needs it, so it
    -- cannot be hashed: only the app may read this table.
    secret         BYTEA       NOT NULL CHECK (length(secret) = 20),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- NULL while being set up: a factor only once a first code confirmed it.
    confirmed_at   TIMESTAMPTZ,
    -- The newest 30-second time step whose code was accepted: that code, and
    -- every older one, is refused from then on (RFC 6238 §5.2). Raised only by
    -- `UPDATE … WHERE last_used_step < $step`, so of two parallel uses of one
    -- code exactly one succeeds.
    last_used_step BIGINT      NOT NULL DEFAULT 0 CHECK (last_used_step >= 0)
);

CREATE TABLE recovery_codes (
    id         BIGSERIAL   PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    -- SHA-256 of the code as typed, normalised: the codes are random (50
    -- bits), shown once, and a copy of this table lets nobody sign in.
    code_hash  BYTEA       NOT NULL CHECK (length(code_hash) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    used_at    TIMESTAMPTZ,
    UNIQUE (user_id, code_hash)
);

-- The code step's attempts: 'code_pending' counts as a failure while it is
-- being checked, as 'pending' does for passwords.
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome_check;
ALTER TABLE sign_in_attempts ADD CONSTRAINT sign_in_attempts_outcome_check
    CHECK (outcome IN ('pending', 'success', 'failure', 'throttled',
                       'code_pending', 'code_success', 'code_failure', 'code_throttled'));
-- Wrong codes are counted per user.
CREATE INDEX sign_in_attempts_user_idx ON sign_in_attempts (user_id, attempted_at DESC);
