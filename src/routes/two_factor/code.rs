//! `/login/code`: the second step of sign-in, for users with a second
//! factor. Their right password left a pending sign-in in the signed cookie
//! (`auth::second_factor`); a right code turns it into a session, exactly as
//! a password alone does for everyone else.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use super::minutes;
use crate::{
    app::AppState,
    auth::{
        self, CsrfChecked, MaybeSignedIn, login_url, safe_next,
        second_factor::{self, CodeCheck},
    },
    db::Acting,
    models::{self, users},
    web::{AppError, Flash, Page, client_ip::client_ip, render, see_other},
};

#[derive(Template)]
#[template(path = "two_factor/code.html")]
struct CodePage {
    page: Page,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<String>,
    next: Option<String>,
}

fn code_page(
    session: &Session,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> HttpResponse {
    render(
        status,
        &CodePage {
            page: Page::new("Sign-in code", session, None),
            next: next.to_string(),
            error,
        },
    )
}

/// Back to the sign-in form: the pending sign-in is over (too old, or its
/// user can no longer finish it).
fn start_again(session: &Session, next: &str) -> HttpResponse {
    second_factor::forget_pending(session);
    Flash::info("Your sign-in took too long. Please sign in again.").set(session);
    see_other(&login_url(next))
}

pub async fn form(
    who: MaybeSignedIn,
    session: Session,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let next = safe_next(query.next.as_deref());
    if who.0.is_some() {
        return see_other(&next);
    }
    if second_factor::pending(&session).is_none() {
        second_factor::forget_pending(&session);
        return see_other(&login_url(&next));
    }
    code_page(&session, StatusCode::OK, &next, None)
}

pub async fn submit(
    _csrf: CsrfChecked,
    who: MaybeSignedIn,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    if who.0.is_some() {
        return Ok(see_other(&next));
    }
    let Some(user_id) = second_factor::pending(&session) else {
        return Ok(start_again(&session, &next));
    };
    let mut conn = state.db(Acting::ANON).await?;
    let user = users::find(&mut conn, user_id).await?;
    let enrolled = models::second_factor::is_enrolled(&mut conn, user_id).await?;
    drop(conn);
    // Deactivated, or their factor reset, since their password was checked.
    if !user.active || !enrolled {
        return Ok(start_again(&session, &next));
    }
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let typed = form.code.unwrap_or_default();
    let recovery_left =
        match second_factor::check_code(&state, user.id, &user.email, &ip, &typed).await? {
            CodeCheck::Accepted { recovery_left } => recovery_left,
            CodeCheck::Throttled(throttled) => {
                let page = code_page(
                    &session,
                    StatusCode::TOO_MANY_REQUESTS,
                    &next,
                    Some(format!(
                        "Too many wrong codes. For your security, try again in {}.",
                        minutes(&throttled)
                    )),
                );
                return Ok(throttled.respond(page));
            }
            CodeCheck::Refused => {
                tracing::info!(user_id, %ip, "sign-in code refused");
                return Ok(code_page(
                    &session,
                    StatusCode::UNAUTHORIZED,
                    &next,
                    Some(
                        "That code is not right. Type the 6 digits your app shows now, or one of \
                         your recovery codes."
                            .into(),
                    ),
                ));
            }
        };
    let mut conn = state.db(Acting::ANON).await?;
    auth::session::start(&mut conn, &session, &req, &state, user.id).await?;
    tracing::info!(user_id, %ip, recovery = recovery_left.is_some(), "signed in with a code");
    if let Some(left) = recovery_left {
        Flash::info(format!(
            "You signed in with a recovery code, which now is used up: {left} left. \
             Lost your phone? Turn two-step sign-in off and on again under Account for new codes."
        ))
        .set(&session);
    }
    Ok(see_other(&next))
}
