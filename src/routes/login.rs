//! Sign-in and sign-out (SPEC §5.3, §5.4).

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{
        self, CsrfChecked, MaybeSignedIn, Viewer, safe_next,
        sign_in::{self, PasswordCheck},
    },
    db::Acting,
    domain::Email,
    models::{second_factor, users},
    web::{AppError, Flash, Page, client_ip::client_ip, render, see_other},
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
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
    let page = Page::new("Sign in", &session, None);
    render(
        StatusCode::OK,
        &LoginPage {
            page,
            email: String::new(),
            next,
            error: None,
        },
    )
}

pub async fn submit(
    _csrf: CsrfChecked,
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let typed_email = form.email.unwrap_or_default();
    let email = Email::normalise_loose(&typed_email);
    let next = safe_next(form.next.as_deref());
    let ip = client_ip(&req, &state.config.trusted_proxies);
    let again = |status: StatusCode, error: String| {
        render(
            status,
            &LoginPage {
                page: Page::new("Sign in", &session, None),
                email: typed_email.trim().chars().take(254).collect(),
                next: next.clone(),
                error: Some(error),
            },
        )
    };

    let mut conn = state.db(Acting::ANON).await?;
    let user = users::find_by_email(&mut conn, &email).await?;
    drop(conn);
    let password = SecretString::from(form.password.unwrap_or_default());
    let user_id =
        match sign_in::check_password(&state, &email, &ip, password, user.as_ref()).await? {
            PasswordCheck::Accepted { user_id } => user_id,
            PasswordCheck::Throttled(throttled) => {
                let minutes = throttled.minutes();
                return Ok(throttled.respond(again(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed sign-ins. For your security, try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            )));
            }
            PasswordCheck::Refused => {
                tracing::info!(%ip, "sign-in failed");
                return Ok(again(
                    StatusCode::UNAUTHORIZED,
                    "The email or password is not right. Check both and try again.".into(),
                ));
            }
        };
    let mut conn = state.db(Acting::ANON).await?;
    // With a second factor, the password alone makes no session: the code
    // step (`/login/code`) does.
    if second_factor::is_enrolled(&mut conn, user_id).await? {
        auth::second_factor::remember_pending(&session, user_id)?;
        tracing::info!(user_id, %ip, "password accepted; code next");
        return Ok(see_other(&auth::second_factor::code_url(&next)));
    }
    auth::session::start(&mut conn, &session, &req, &state, user_id).await?;
    tracing::info!(user_id, %ip, "signed in");
    Ok(see_other(&next))
}

pub async fn logout(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(&state).await?;
    auth::session::end(&mut conn, &session, &user).await?;
    Flash::info("You are signed out.").set(&session);
    Ok(see_other("/login"))
}
