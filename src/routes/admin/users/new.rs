//! Adding a user.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::{FormPage, answer_with_link};
use crate::{
    app::AppState,
    auth::{Admin, kept_forms},
    domain::{Email, FieldErrors, PersonName, Role},
    models::{
        invitations::{self, Purpose},
        users,
    },
    web::{AppError, Flash, Page, render, see_other},
};

fn new_page(
    page: Page,
    email: String,
    first: String,
    last: String,
    role: String,
    errors: FieldErrors,
) -> FormPage {
    FormPage {
        page,
        user: None,
        email,
        first_name: first,
        last_name: last,
        role,
        active: true,
        errors,
        roles: Role::ALL.to_vec(),
        open_sessions: 0,
        two_factor_since: None,
        audit: Vec::new(),
        is_self: false,
        link_open_until: None,
    }
}

pub async fn new(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut conn = admin.db(&state).await?;
    // A form sent after the session ended comes back as typed (without
    // the password, which is never kept).
    let kept: Option<CreateForm> =
        kept_forms::restore(&session, &mut conn, &admin, "/admin/users/new").await?;
    drop(conn);
    let f = kept.unwrap_or_else(|| CreateForm {
        role: "viewer".into(),
        ..CreateForm::default()
    });
    let page = Page::new("Add a user", &session, Some(&admin)).section("admin");
    Ok(render(
        StatusCode::OK,
        &new_page(
            page,
            f.email,
            f.first_name,
            f.last_name,
            f.role,
            FieldErrors::default(),
        ),
    ))
}

#[derive(Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

pub async fn create(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.into_inner();
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&f.email));
    let first = errors.check("first_name", PersonName::parse(&f.first_name));
    let last = errors.check("last_name", PersonName::parse(&f.last_name));
    let role = Role::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Choose viewer, editor or admin.");
    }
    // No password: the person gets a link to choose their own.
    let invite = f.password.is_empty();
    let password = if invite {
        None
    } else {
        let policy = state
            .passwords
            .check_policy(
                SecretString::from(f.password),
                vec![f.email.clone(), f.first_name.clone(), f.last_name.clone()],
            )
            .await?;
        errors.check("password", policy.map_err(|p| p.message()))
    };
    let again = |errors: FieldErrors| {
        let page = Page::new("Add a user", &session, Some(&admin)).section("admin");
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_page(
                page,
                f.email.clone(),
                f.first_name.clone(),
                f.last_name.clone(),
                f.role.clone(),
                errors,
            ),
        )
    };
    let (Some(email), Some(first), Some(last), Some(role), true) =
        (email, first, last, role, errors.is_empty())
    else {
        return Ok(again(errors));
    };
    let hash = match password {
        Some(password) => state.passwords.hash(password).await?,
        None => invitations::NO_PASSWORD_YET.to_string(),
    };
    let mut conn = admin.db(&state).await?;
    let new = users::NewUser::new(&email, &first, &last, role, &hash);
    let user = match users::create(&mut conn, &new, Some(admin.id)).await? {
        Ok(user) => user,
        Err(users::CreateRefused::EmailTaken) => {
            let mut errors = FieldErrors::default();
            errors.add("email", "Someone already signs in with this email.");
            return Ok(again(errors));
        }
    };
    if invite {
        return answer_with_link(&mut conn, &state, &session, &admin, &user, Purpose::Invite).await;
    }
    Flash::success(format!(
        "Added {} as {}.",
        user.full_name(),
        role.label().to_lowercase()
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{}/edit", user.id)))
}
