//! `/account`: who you are, and changing your own password.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use diesel_async::AsyncConnection as _;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{SID_KEY, Viewer},
    domain::FieldErrors,
    models::{
        attempts::{self, Gate, Outcome},
        sessions, users,
    },
    web::{AppError, Flash, Page, client_ip::client_ip, render, see_other},
};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    user: users::User,
    role: &'static str,
    last_sign_in: String,
    open_sessions: i64,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: Option<String>,
    new_password: Option<String>,
}

async fn page(
    user: &Viewer,
    session: &Session,
    state: &AppState,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let record = users::find(&mut conn, user.user.id).await?;
    let open_sessions =
        sessions::count_open_for_user(&mut conn, record.id, state.config.idle_timeout).await?;
    let last_sign_in = record
        .last_sign_in_at
        .map(|t| {
            t.with_timezone(&state.config.timezone)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|| "never".into());
    Ok(render(
        status,
        &AccountPage {
            page: Page::new("Your account", session, Some(user)).section("account"),
            role: record.role().label(),
            user: record,
            last_sign_in,
            open_sessions,
            errors,
        },
    ))
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(
        &user,
        &session,
        &state,
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

/// Changes the password, ends every session of the user (a leaked cookie of
/// this very session included) and signs this browser in afresh. Guesses at
/// the current password count against the sign-in limits of SPEC §5.4.
pub async fn change_password(
    user: Viewer,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let mut conn = state.pool.get().await?;
    let record = users::find(&mut conn, user.user.id).await?;
    let attempt_id = match attempts::reserve(&mut conn, &record.email, &ip).await? {
        Gate::Open { attempt_id } => attempt_id,
        Gate::Throttled { retry_after_secs } => {
            let mut errors = FieldErrors::default();
            errors.add(
                "current_password",
                format!(
                    "Too many wrong passwords. Try again in {} minutes.",
                    (retry_after_secs + 59) / 60
                ),
            );
            drop(conn);
            let mut resp = page(
                &user,
                &session,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                errors,
            )
            .await?;
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs),
            );
            return Ok(resp);
        }
    };
    drop(conn);
    let mut errors = FieldErrors::default();
    let current_ok = state
        .passwords
        .verify(
            SecretString::from(form.current_password.unwrap_or_default()),
            Some(record.password_hash.clone()),
        )
        .await?;
    let mut conn = state.pool.get().await?;
    let outcome = if current_ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    attempts::finish(&mut conn, attempt_id, outcome, Some(record.id)).await?;
    drop(conn);
    if !current_ok {
        errors.add("current_password", "This is not your current password.");
    }
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(form.new_password.unwrap_or_default()),
            vec![
                record.email.clone(),
                record.first_name.clone(),
                record.last_name.clone(),
            ],
        )
        .await?;
    let new = errors.check("new_password", policy.map_err(|p| p.message()));
    let (true, Some(new)) = (errors.is_empty(), new) else {
        return page(
            &user,
            &session,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    };
    let hash = state.passwords.hash(new).await?;
    let mut conn = state.pool.get().await?;
    let ended = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            users::set_password_hash(conn, record.id, &hash).await?;
            sessions::revoke_all_for_user(conn, record.id, None).await
        })
        .await?;
    // This browser carries on in a brand-new session.
    session.remove(SID_KEY);
    crate::auth::session::start(&mut conn, &session, &req, &state, record.id).await?;
    let others = ended.saturating_sub(1);
    tracing::info!(user_id = record.id, others, "password changed");
    Flash::success(match others {
        0 => "Your password is changed.".to_string(),
        n => format!(
            "Your password is changed, and {n} other session{} signed out.",
            if n == 1 { " was" } else { "s were" }
        ),
    })
    .set(&session);
    Ok(see_other("/account"))
}
