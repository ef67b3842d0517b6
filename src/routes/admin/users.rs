//! `/admin/users`: list, create, edit (names, role, active), set a password,
//! sign a user out everywhere. Every change is audited.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{Admin, Current},
    domain::FieldErrors,
    domain::{Email, PersonName, Role},
    models::{
        audit, sessions,
        users::{self, UpdateOutcome, User, UserFilter},
    },
    web::{AppError, Flash, Page, render, see_other},
};

pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub last_sign_in: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    page: Page,
    rows: Vec<UserRow>,
    q: String,
    role: String,
    active: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    active: Option<String>,
}

pub async fn list(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = UserFilter {
        q: query.q.as_deref().map(|q| {
            q.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect()
        }),
        role: query.role.as_deref().and_then(Role::parse),
        active: match query.active.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let mut conn = state.pool.get().await?;
    let users = users::list(&mut conn, &filter).await?;
    let tz = state.config.timezone;
    Ok(render(
        StatusCode::OK,
        &ListPage {
            page: Page::new("Users", &session, Some(&admin)).section("admin"),
            rows: users
                .iter()
                .map(|u| UserRow {
                    id: u.id,
                    name: u.full_name(),
                    email: u.email.clone(),
                    role: u.role(),
                    active: u.active,
                    last_sign_in: u
                        .last_sign_in_at
                        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_else(|| "never".into()),
                })
                .collect(),
            q: filter.q.unwrap_or_default(),
            role: filter
                .role
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            active: query.active.unwrap_or_default(),
        },
    ))
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct FormPage {
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
    audit: Vec<audit::Entry>,
    is_self: bool,
}

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
        audit: Vec::new(),
        is_self: false,
    }
}

pub async fn new(admin: Admin, session: Session) -> HttpResponse {
    let page = Page::new("Add a user", &session, Some(&admin)).section("admin");
    render(
        StatusCode::OK,
        &new_page(
            page,
            String::new(),
            String::new(),
            String::new(),
            "viewer".into(),
            FieldErrors::default(),
        ),
    )
}

#[derive(Deserialize)]
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
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(f.password),
            vec![f.email.clone(), f.first_name.clone(), f.last_name.clone()],
        )
        .await?;
    let password = errors.check("password", policy.map_err(|p| p.message()));
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
    let (Some(email), Some(first), Some(last), Some(role), Some(password)) =
        (email, first, last, role, password)
    else {
        return Ok(again(errors));
    };
    let hash = state.passwords.hash(password).await?;
    let mut conn = state.pool.get().await?;
    let created = users::insert(
        &mut conn,
        &users::NewUser {
            email: email.as_str(),
            first_name: first.as_str(),
            last_name: last.as_str(),
            role: role.as_str(),
            password_hash: &hash,
        },
    )
    .await;
    let user = match created {
        Ok(u) => u,
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let mut errors = FieldErrors::default();
            errors.add("email", "Someone already signs in with this email.");
            return Ok(again(errors));
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut conn,
        admin.user.id,
        "user created",
        Some(user.id),
        &format!("role {role}"),
    )
    .await?;
    Flash::success(format!(
        "Added {} as {}.",
        user.full_name(),
        role.label().to_lowercase()
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{}/edit", user.id)))
}

async fn edit_page(
    admin: &Current,
    session: &Session,
    state: &AppState,
    id: i64,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let user = users::find(&mut conn, id).await?;
    let open_sessions =
        sessions::count_open_for_user(&mut conn, id, state.config.idle_timeout).await?;
    let audit = audit::recent(&mut conn, Some(id), 20).await?;
    Ok(render(
        status,
        &FormPage {
            page: Page::new(
                format!("{} · Users", user.full_name()),
                session,
                Some(admin),
            )
            .section("admin"),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            role: user.role.clone(),
            active: user.active,
            errors,
            roles: Role::ALL.to_vec(),
            open_sessions,
            audit,
            is_self: admin.user.id == id,
            user: Some(user),
        },
    ))
}

pub async fn edit(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    edit_page(
        &admin,
        &session,
        &state,
        path.into_inner(),
        StatusCode::OK,
        FieldErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: String,
    /// A checkbox: present when ticked.
    active: Option<String>,
}

pub async fn update(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let f = form.into_inner();
    let mut errors = FieldErrors::default();
    let first = errors.check("first_name", PersonName::parse(&f.first_name));
    let last = errors.check("last_name", PersonName::parse(&f.last_name));
    let role = Role::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Choose viewer, editor or admin.");
    }
    let active = matches!(f.active.as_deref(), Some("on" | "true" | "yes" | "1"));
    let (Some(first), Some(last), Some(role)) = (first, last, role) else {
        return edit_page(
            &admin,
            &session,
            &state,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )
        .await;
    };
    let mut conn = state.pool.get().await?;
    let outcome = users::update(
        &mut conn,
        id,
        first.as_str(),
        last.as_str(),
        role,
        active,
        admin.user.id,
    )
    .await?;
    drop(conn);
    let (field, text) = match outcome {
        UpdateOutcome::Updated {
            sessions_ended,
            changes,
        } => {
            tracing::info!(
                user_id = id,
                admin_id = admin.user.id,
                ?changes,
                "user changed"
            );
            Flash::success(match sessions_ended {
                0 => "Saved.".to_string(),
                n => format!(
                    "Saved, and {n} open session{} ended.",
                    if n == 1 { "" } else { "s" }
                ),
            })
            .set(&session);
            return Ok(see_other(&format!("/admin/users/{id}/edit")));
        }
        UpdateOutcome::Unchanged => {
            Flash::info("Nothing to save.").set(&session);
            return Ok(see_other(&format!("/admin/users/{id}/edit")));
        }
        UpdateOutcome::NotFound => return Err(AppError::NotFound),
        UpdateOutcome::LastAdmin => (
            "role",
            "This is the last active admin: make someone else admin first.",
        ),
        UpdateOutcome::SelfDeactivation => ("active", "You cannot deactivate yourself."),
    };
    let mut errors = FieldErrors::default();
    errors.add(field, text);
    edit_page(
        &admin,
        &session,
        &state,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        errors,
    )
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = state.pool.get().await?;
    let user = users::find(&mut conn, id).await?;
    drop(conn);
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(form.into_inner().password),
            vec![
                user.email.clone(),
                user.first_name.clone(),
                user.last_name.clone(),
            ],
        )
        .await?;
    let password = match policy {
        Ok(p) => p,
        Err(p) => {
            let mut e = FieldErrors::default();
            e.add("password", p.message());
            return edit_page(
                &admin,
                &session,
                &state,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                e,
            )
            .await;
        }
    };
    let hash = state.passwords.hash(password).await?;
    let mut conn = state.pool.get().await?;
    use diesel_async::AsyncConnection as _;
    let ended = conn
        .transaction::<_, DieselError, _>(async |conn| {
            users::set_password_hash(conn, id, &hash).await?;
            let n = sessions::revoke_all_for_user(conn, id, None).await?;
            audit::record(
                conn,
                admin.user.id,
                "password set",
                Some(id),
                &format!("{n} sessions ended"),
            )
            .await?;
            Ok(n)
        })
        .await?;
    Flash::success(format!(
        "New password set for {}; {ended} open session{} ended.",
        user.full_name(),
        if ended == 1 { "" } else { "s" }
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{id}/edit")))
}

pub async fn revoke_sessions(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = state.pool.get().await?;
    let user = users::find(&mut conn, id).await?;
    // Signing yourself out everywhere keeps this session, so the page still works.
    let keep = (id == admin.user.id).then_some(admin.session_id);
    let ended = sessions::revoke_all_for_user(&mut conn, id, keep).await?;
    audit::record(
        &mut conn,
        admin.user.id,
        "sessions revoked",
        Some(id),
        &format!("{ended} sessions"),
    )
    .await?;
    Flash::success(format!(
        "{} is signed out everywhere ({ended} session{}).",
        user.full_name(),
        if ended == 1 { "" } else { "s" }
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{id}/edit")))
}
