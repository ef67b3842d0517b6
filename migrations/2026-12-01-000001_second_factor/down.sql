DROP INDEX sign_in_attempts_user_idx;
-- The old rule knows no code outcomes: those attempts go with the feature.
DELETE FROM sign_in_attempts WHERE outcome LIKE 'code\_%';
ALTER TABLE sign_in_attempts DROP CONSTRAINT sign_in_attempts_outcome_check;
ALTER TABLE sign_in_attempts ADD CONSTRAINT sign_in_attempts_outcome_check
    CHECK (outcome IN ('pending', 'success', 'failure', 'throttled'));
DROP TABLE recovery_codes;
DROP TABLE user_totp;
DROP FUNCTION pcn_totp_steps_only_rise();
DROP FUNCTION pcn_recovery_codes_stay_used();
