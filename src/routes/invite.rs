//! `/invite/{token}`: a person an admin invited, or whose password an admin
//! reset, chooses their own password (one use, 72 hours). Public and
//! CSRF-protected; looking a link up counts against the address like a
//! sign-in (SPEC §5.4), so links cannot be guessed at speed.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{sha256, sign_in::Throttled},
    db::Acting,
    domain::FieldErrors,
    models::{
        attempts::{self, Gate, Outcome},
        invitations,
    },
    web::{AppError, Flash, Page, client_ip::client_ip, render, see_other},
};

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    page: Page,
    /// Whom the link is for; `None` when it is not (or no longer) valid.
    person: Option<Person>,
    token: String,
    errors: FieldErrors,
    /// Why nothing can be done now (too many invalid links).
    refusal: Option<String>,
}

struct Person {
    first_name: String,
    email: String,
}

#[derive(Deserialize)]
pub struct InviteForm {
    password: Option<String>,
}

/// The open link's person, counting a lookup of an unknown link as a failed
/// attempt of the address; `Err` with the page to answer when throttled.
async fn look_up(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
) -> Result<Result<Option<Person>, Throttled>, AppError> {
    let hash = sha256(token.as_bytes());
    let ip = client_ip(req, &state.config.trusted_proxies);
    // Counted per link and per address: a guesser meets the address's limit.
    let key: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("invite:{key}");
    let mut conn = state.db(Acting::ANON).await?;
    let attempt_id = match attempts::reserve(&mut conn, &key, &ip).await? {
        Gate::Open { attempt_id } => attempt_id,
        Gate::Throttled { retry_after_secs } => return Ok(Err(Throttled { retry_after_secs })),
    };
    // Only what `random_token` makes can be a link (a NUL byte, say, is
    // not even text to PostgreSQL).
    let well_formed = (1..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let found = if well_formed {
        invitations::find_open(&mut conn, token).await?
    } else {
        None
    };
    let outcome = if found.is_some() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    attempts::finish(&mut conn, attempt_id, outcome, None).await?;
    Ok(Ok(found.map(|(first_name, _, email)| Person {
        first_name,
        email,
    })))
}

fn page(
    session: &Session,
    status: StatusCode,
    person: Option<Person>,
    token: String,
    errors: FieldErrors,
) -> HttpResponse {
    let title = if person.is_some() {
        "Choose your password"
    } else {
        "This link is not valid"
    };
    render(
        status,
        &InvitePage {
            page: Page::new(title, session, None),
            person,
            token,
            errors,
            refusal: None,
        },
    )
}

fn throttled(session: &Session, t: &Throttled) -> HttpResponse {
    t.respond(render(
        StatusCode::TOO_MANY_REQUESTS,
        &InvitePage {
            page: Page::new("Too many invalid links", session, None),
            person: None,
            token: String::new(),
            errors: FieldErrors::default(),
            refusal: Some(format!(
                "Too many invalid links from your address. Try again in {} minutes.",
                t.minutes()
            )),
        },
    ))
}

pub async fn form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    Ok(match look_up(&state, &req, &token).await? {
        Err(t) => throttled(&session, &t),
        Ok(None) => page(
            &session,
            StatusCode::NOT_FOUND,
            None,
            String::new(),
            FieldErrors::default(),
        ),
        Ok(person) => page(
            &session,
            StatusCode::OK,
            person,
            token,
            FieldErrors::default(),
        ),
    })
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    crate::auth::extract::require_csrf(&req)?;
    let token = path.into_inner();
    let person = match look_up(&state, &req, &token).await? {
        Err(t) => return Ok(throttled(&session, &t)),
        Ok(None) => {
            return Ok(page(
                &session,
                StatusCode::NOT_FOUND,
                None,
                String::new(),
                FieldErrors::default(),
            ));
        }
        Ok(Some(person)) => person,
    };
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(form.into_inner().password.unwrap_or_default()),
            vec![person.email.clone(), person.first_name.clone()],
        )
        .await?;
    let password = match policy {
        Ok(p) => p,
        Err(p) => {
            let mut errors = FieldErrors::default();
            errors.add("password", p.message());
            return Ok(page(
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(person),
                token,
                errors,
            ));
        }
    };
    let hash = state.passwords.hash(password).await?;
    let mut conn = state.db(Acting::ANON).await?;
    // Used meanwhile (two tabs, two clicks): the second finds it ended.
    let Some(user_id) = invitations::accept(&mut conn, &token, &hash).await? else {
        return Ok(page(
            &session,
            StatusCode::NOT_FOUND,
            None,
            String::new(),
            FieldErrors::default(),
        ));
    };
    tracing::info!(user_id, "password chosen through a link");
    Flash::success(format!(
        "Your password is set, {}. Sign in with {} and your new password.",
        person.first_name, person.email
    ))
    .set(&session);
    Ok(see_other("/login"))
}
