//! `/admin/users`: list, create, edit (names, role, active), set a password,
//! sign a user out everywhere, reset their second factor. Every change is audited, in the same
//! transaction as the change (see `models::users`).

mod edit;
mod list;
mod new;
mod password;
mod second_factor;
mod sessions;

pub use edit::{edit, update};
pub use list::list;
pub use new::{create, new};
pub use password::set_password;
pub use second_factor::reset_second_factor;
pub use sessions::revoke_sessions;

use actix_session::Session;
use actix_web::{
    HttpResponse,
    http::{
        StatusCode,
        header::{HeaderValue, LOCATION},
    },
};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::{
    app::AppState,
    auth::{SignedIn, sha256},
    domain::{FieldErrors, Role},
    models::{
        audit,
        invitations::{self, Purpose},
        users::User,
    },
    web::{AppError, Page, filters, render},
};

/// The user form, for adding (`user: None`) and for editing.
#[derive(Template)]
#[template(path = "admin/user_form.html")]
pub(super) struct FormPage {
    page: Page,
    /// `None` while creating.
    user: Option<User>,
    email: String,
    first_name: String,
    last_name: String,
    role: String,
    active: bool,
    errors: FieldErrors,
    roles: Vec<Role>,
    open_sessions: i64,
    /// Since when they sign in with a code, if they do.
    two_factor_since: Option<chrono::DateTime<chrono::Utc>>,
    audit: Vec<audit::Entry>,
    is_self: bool,
    /// When the user's open invitation or reset link expires, if one is open.
    link_open_until: Option<DateTime<Utc>>,
}

/// The one-time link, shown once to the admin who made it.
#[derive(Template)]
#[template(path = "admin/invitation.html")]
struct InvitationPage {
    page: Page,
    heading: &'static str,
    user_id: i64,
    name: String,
    email: String,
    link: String,
    expires_at: DateTime<Utc>,
    sessions_ended: usize,
}

/// Makes a link for `user` (`invitations::create`) and answers with the
/// page that shows it: 201, its `Location` the user's page.
async fn answer_with_link(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    session: &Session,
    admin: &SignedIn,
    user: &User,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let token = crate::auth::random_token();
    let (expires_at, sessions_ended) =
        invitations::create(conn, user.id, &sha256(token.as_bytes()), purpose, admin.id).await?;
    tracing::info!(user_id = user.id, ?purpose, "password link made");
    let heading = match purpose {
        Purpose::Invite => "Invitation link",
        Purpose::Reset => "Password reset link",
    };
    let mut response = render(
        StatusCode::CREATED,
        &InvitationPage {
            page: Page::new(heading, session, Some(admin)).section("admin"),
            heading,
            user_id: user.id,
            name: user.full_name(),
            email: user.email.clone(),
            link: format!("{}/invite/{token}", state.config.public_url),
            expires_at,
            sessions_ended,
        },
    );
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(&format!("/admin/users/{}/edit", user.id))
            .map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(response)
}

impl FormPage {
    /// The role drop-down's (value, label) pairs.
    fn role_options(&self) -> Vec<(&'static str, &'static str)> {
        self.roles.iter().map(|r| (r.as_str(), r.label())).collect()
    }
}
