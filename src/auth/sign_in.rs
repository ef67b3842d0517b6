//! The one password check behind sign-in and the account page's "current
//! password": reserve an attempt (throttling, SPEC §5.4), verify the password
//! off the request threads with no connection held, record the outcome.

use actix_web::{HttpResponse, http::header};
use secrecy::SecretString;

use crate::{
    app::AppState,
    db::Acting,
    models::{
        attempts::{self, Gate, Outcome},
        users::User,
    },
    web::AppError,
};

/// How a password check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Refused before checking: too many recent failures.
    Throttled(Throttled),
    /// Wrong password, unknown email or inactive user (indistinguishable).
    Refused,
    /// The password is right and the user active.
    Accepted { user_id: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: i64,
}

impl Throttled {
    /// Whole minutes to wait, rounded up, as people are told.
    pub fn minutes(&self) -> i64 {
        (self.retry_after_secs + 59) / 60
    }

    /// The 429 page, with `Retry-After`.
    pub fn respond(&self, mut page: HttpResponse) -> HttpResponse {
        page.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(self.retry_after_secs),
        );
        page
    }
}

/// Checks `password` for the account behind `email` (`user`, if it exists),
/// counting the attempt against `email` and `ip`. An unknown email costs the
/// same as a known one.
pub async fn check_password(
    state: &AppState,
    email: &str,
    ip: &str,
    password: SecretString,
    user: Option<&User>,
) -> Result<PasswordCheck, AppError> {
    let mut conn = state.db(Acting::ANON).await?;
    let attempt_id = match attempts::reserve(&mut conn, email, ip).await? {
        Gate::Open { attempt_id } => attempt_id,
        Gate::Throttled { retry_after_secs } => {
            return Ok(PasswordCheck::Throttled(Throttled { retry_after_secs }));
        }
    };
    // No connection is held while the password is checked.
    drop(conn);
    let matches = state
        .passwords
        .verify(password, user.map(|u| u.password_hash.clone()))
        .await?;
    let accepted = user.filter(|u| matches && u.active).map(|u| u.id);
    let outcome = match accepted {
        Some(_) => Outcome::Success,
        None => Outcome::Failure,
    };
    let mut conn = state.db(Acting::ANON).await?;
    attempts::finish(&mut conn, attempt_id, outcome, accepted).await?;
    Ok(match accepted {
        Some(user_id) => PasswordCheck::Accepted { user_id },
        None => PasswordCheck::Refused,
    })
}
