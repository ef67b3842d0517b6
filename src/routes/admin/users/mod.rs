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

use askama::Template;

use crate::{
    domain::{FieldErrors, Role},
    models::{audit, users::User},
    web::{Page, filters},
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
}

impl FormPage {
    /// The role drop-down's (value, label) pairs.
    fn role_options(&self) -> Vec<(&'static str, &'static str)> {
        self.roles.iter().map(|r| (r.as_str(), r.label())).collect()
    }
}
