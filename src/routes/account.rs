//! `/account`: who you are, and changing your own password.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{
        SID_KEY, Viewer,
        sign_in::{self, PasswordCheck},
    },
    domain::FieldErrors,
    models::{second_factor, sessions, users},
    web::{AppError, Flash, Page, client_ip::client_ip, filters, render, see_other},
};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Page,
    user: users::User,
    role: &'static str,
    open_sessions: i64,
    /// Since when they sign in with a code, if they do.
    two_factor_since: Option<chrono::DateTime<chrono::Utc>>,
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
    let mut conn = user.db(state).await?;
    let record = users::find_self(&mut conn).await?;
    let open_sessions = sessions::count_live_for_user(
        &mut conn,
        record.id,
        state.config.idle_timeout,
        state.config.session_lifetime,
    )
    .await?;
    let two_factor_since = second_factor::confirmed_since(&mut conn, record.id).await?;
    Ok(render(
        status,
        &AccountPage {
            page: Page::new("Your account", session, Some(user)).section("account"),
            role: record.role.label(),
            user: record,
            open_sessions,
            two_factor_since,
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
    let mut conn = user.db(&state).await?;
    let record = users::find_self(&mut conn).await?;
    drop(conn);
    let mut errors = FieldErrors::default();
    let current = SecretString::from(form.current_password.unwrap_or_default());
    let current_ok =
        match sign_in::check_password(&state, &record.email, &ip, current, Some(&record)).await? {
            PasswordCheck::Accepted { .. } => true,
            PasswordCheck::Refused => false,
            PasswordCheck::Throttled(throttled) => {
                errors.add(
                    "current_password",
                    format!(
                        "Too many wrong passwords. Try again in {} minutes.",
                        throttled.minutes()
                    ),
                );
                let page = page(
                    &user,
                    &session,
                    &state,
                    StatusCode::TOO_MANY_REQUESTS,
                    errors,
                )
                .await?;
                return Ok(throttled.respond(page));
            }
        };
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
    let mut conn = user.db(&state).await?;
    let ended = users::set_password(&mut conn, record.id, &hash, None).await?;
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
