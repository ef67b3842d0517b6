//! The code step of sign-in: who is between their password and their code
//! (in the signed cookie, for a few minutes, never as a session), and the
//! one code check behind `/login/code` and the second-factor page, counted
//! and throttled in the database like passwords (`models::attempts`).

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::{
    app::AppState,
    auth::sign_in::Throttled,
    db::Acting,
    domain::second_factor::{TotpSecret, TypedCode},
    models::{
        attempts::{self, Gate, Outcome},
        second_factor,
    },
    web::{
        AppError,
        identity::{PENDING_KEY, login_url},
    },
};

/// How long the code step waits after a right password.
pub const PENDING_SECS: i64 = 5 * 60;

/// A right password, waiting for its code.
#[derive(Serialize, Deserialize)]
struct Pending {
    user_id: i64,
    /// Unix seconds of the password check.
    at: i64,
}

/// Remembers that `user_id` gave their right password just now.
pub fn remember_pending(session: &Session, user_id: i64) -> Result<(), AppError> {
    let pending = Pending {
        user_id,
        at: chrono::Utc::now().timestamp(),
    };
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session cookie: {e}")))
}

/// The user whose password was right within `PENDING_SECS`, if any.
pub fn pending(session: &Session) -> Option<i64> {
    let p = session.get::<Pending>(PENDING_KEY).ok().flatten()?;
    let age = chrono::Utc::now().timestamp() - p.at;
    (0..PENDING_SECS).contains(&age).then_some(p.user_id)
}

/// Forgets a pending sign-in (expired, or its user can no longer finish it).
pub fn forget_pending(session: &Session) {
    if session.get::<Pending>(PENDING_KEY).ok().flatten().is_some() {
        session.remove(PENDING_KEY);
    }
}

/// The code step's address, carrying `next` as the sign-in form does.
pub fn code_url(next: &str) -> String {
    login_url(next).replacen("/login", "/login/code", 1)
}

/// How a code check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Refused before checking: too many recent wrong codes.
    Throttled(Throttled),
    /// Not a code of theirs, a used one, or they have no second factor.
    Refused,
    /// Right, and now used up; `recovery_left` when it was a recovery code.
    Accepted { recovery_left: Option<i64> },
}

/// Checks `typed` (a code from the app, or a recovery code) against the
/// confirmed factor of `user_id`, counting the attempt against that user
/// (recorded with their `email` and the address `ip`). A right code is used
/// up: its time step, or the recovery code, is never accepted again.
pub async fn check_code(
    state: &AppState,
    user_id: i64,
    email: &str,
    ip: &str,
    typed: &str,
) -> Result<CodeCheck, AppError> {
    let mut conn = state.db(Acting::ANON).await?;
    let attempt_id = match attempts::reserve_code(&mut conn, user_id, email, ip).await? {
        Gate::Open { attempt_id } => attempt_id,
        Gate::Throttled { retry_after_secs } => {
            return Ok(CodeCheck::Throttled(Throttled { retry_after_secs }));
        }
    };
    let accepted = match TypedCode::parse(typed) {
        None => None,
        Some(TypedCode::Totp(code)) => {
            let factor = second_factor::find(&mut conn, user_id)
                .await?
                .filter(|f| f.confirmed_at.is_some());
            let step = factor.and_then(|f| {
                let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default();
                TotpSecret::from_bytes(&f.secret)?.matching_step(&code, now, f.last_used_step)
            });
            match step {
                Some(step) if second_factor::take_step(&mut conn, user_id, step).await? => {
                    Some(CodeCheck::Accepted {
                        recovery_left: None,
                    })
                }
                _ => None,
            }
        }
        Some(TypedCode::Recovery(code)) => {
            if second_factor::take_recovery_code(&mut conn, user_id, &code.hash()).await? {
                let left = second_factor::recovery_codes_left(&mut conn, user_id).await?;
                Some(CodeCheck::Accepted {
                    recovery_left: Some(left),
                })
            } else {
                None
            }
        }
    };
    let outcome = match accepted {
        Some(_) => Outcome::Success,
        None => Outcome::Failure,
    };
    attempts::finish_code(&mut conn, attempt_id, outcome).await?;
    Ok(accepted.unwrap_or(CodeCheck::Refused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_step_keeps_next_as_the_sign_in_form_does() {
        assert_eq!(code_url("/vehicles"), "/login/code");
        assert_eq!(code_url("/account"), "/login/code?next=%2Faccount");
    }
}
