//! The first admin: while no user exists, the server prints a one-time link,
//! and `/setup` with its token creates the admin. Then it is gone for good.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use diesel_async::AsyncPgConnection;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{self, sha256},
    db::Acting,
    domain::FieldErrors,
    domain::{Email, PersonName, Role},
    models::{setup_tokens, users},
    web::{AppError, Flash, Page, render, see_other},
};

/// On an empty database: makes a token and prints the link to stdout,
/// whatever the log level. Returns the link when one was made.
pub async fn announce_setup_link(
    conn: &mut AsyncPgConnection,
    public_url: &str,
) -> anyhow::Result<Option<String>> {
    if users::any_exist(conn).await? {
        return Ok(None);
    }
    let token = auth::random_token();
    setup_tokens::insert(conn, &sha256(token.as_bytes())).await?;
    let link = format!("{public_url}/setup?token={token}");
    println!(
        "\nNo users yet. Create the first admin at:\n\n    {link}\n\n(the link works once, for 24 hours)\n"
    );
    Ok(Some(link))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    page: Page,
    token: String,
    email: String,
    first_name: String,
    last_name: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    password: Option<String>,
}

const BAD_LINK: &str =
    "This setup link is not valid or has expired. Use the link the server printed when it started.";

async fn check_gate(state: &AppState, token: &str) -> Result<(), AppError> {
    let mut conn = state.db(Acting::ANON).await?;
    // The link first: the setup that uses it creates the admin and deletes
    // the link in one transaction, so a link gone by then means the admin
    // is there for the next query (404, not "bad link", to a parallel one).
    let valid = setup_tokens::is_valid(&mut conn, &sha256(token.as_bytes())).await?;
    if users::any_exist(&mut conn).await? {
        return Err(AppError::NotFound);
    }
    if !valid {
        return Err(AppError::Forbidden(BAD_LINK));
    }
    Ok(())
}

pub async fn form(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    check_gate(&state, &token).await?;
    Ok(render(
        StatusCode::OK,
        &SetupPage {
            page: Page::new("Set up PCN", &session, None),
            token,
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            errors: FieldErrors::default(),
        },
    ))
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let token = f.token.unwrap_or_default();
    // Once set up, /setup is gone (404) whatever the request carries.
    check_gate(&state, &token).await?;
    crate::auth::extract::require_csrf(&req)?;

    let (email_in, first_in, last_in) = (
        f.email.unwrap_or_default(),
        f.first_name.unwrap_or_default(),
        f.last_name.unwrap_or_default(),
    );
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&email_in));
    let first = errors.check("first_name", PersonName::parse(&first_in));
    let last = errors.check("last_name", PersonName::parse(&last_in));
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(f.password.unwrap_or_default()),
            vec![email_in.clone(), first_in.clone(), last_in.clone()],
        )
        .await?;
    let password = errors.check("password", policy.map_err(|p| p.message()));
    let (Some(email), Some(first), Some(last), Some(password)) = (email, first, last, password)
    else {
        return Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                page: Page::new("Set up PCN", &session, None),
                token,
                email: email_in,
                first_name: first_in,
                last_name: last_in,
                errors,
            },
        ));
    };
    let hash = state.passwords.hash(password).await?;

    let mut conn = state.db(Acting::ANON).await?;
    let token_hash = sha256(token.as_bytes());
    let new = users::NewUser::new(&email, &first, &last, Role::Admin, &hash);
    let created = match users::create_first_admin(&mut conn, &new, &token_hash).await? {
        Ok(user) => user,
        Err(users::FirstAdminRefused::AlreadySetUp) => return Err(AppError::NotFound),
        Err(users::FirstAdminRefused::BadLink) => return Err(AppError::Forbidden(BAD_LINK)),
    };
    auth::session::start(&mut conn, &session, &req, &state, created.id).await?;
    tracing::info!(user_id = created.id, "first admin created");
    Flash::success(format!(
        "Welcome, {}. PCN is ready: you are its first admin.",
        created.first_name
    ))
    .set(&session);
    Ok(see_other("/vehicles"))
}
