//! A user's page: names, role, active, their sessions and audit trail.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use serde::Deserialize;

use super::FormPage;
use crate::{
    app::AppState,
    auth::{Admin, kept_forms},
    domain::{FieldErrors, PersonName, Role},
    models::{
        audit, invitations, second_factor, sessions,
        users::{self, UpdateOutcome},
    },
    web::{AppError, Flash, Missing, Page, render, see_other},
};

pub(super) async fn edit_page(
    admin: &Admin,
    session: &Session,
    state: &AppState,
    id: i64,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut conn = admin.db(state).await?;
    let user = users::find(&mut conn, id).await.map_err(|e| match e {
        diesel::result::Error::NotFound => AppError::Missing(Missing::User),
        e => e.into(),
    })?;
    // A form sent after the session ended comes back as typed, when the
    // page is first shown (not again after a refused save).
    let kept: Option<UpdateForm> = if status == StatusCode::OK {
        let page_path = format!("/admin/users/{id}/edit");
        kept_forms::restore(session, &mut conn, admin, &page_path).await?
    } else {
        None
    };
    let open_sessions = sessions::count_live_for_user(
        &mut conn,
        id,
        state.config.idle_timeout,
        state.config.session_lifetime,
    )
    .await?;
    let two_factor_since = second_factor::confirmed_since(&mut conn, id).await?;
    let audit = audit::recent(&mut conn, Some(id), 20).await?;
    let link_open_until = invitations::open_until(&mut conn, id).await?;
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
            first_name: kept
                .as_ref()
                .map_or_else(|| user.first_name.clone(), |f| f.first_name.clone()),
            last_name: kept
                .as_ref()
                .map_or_else(|| user.last_name.clone(), |f| f.last_name.clone()),
            role: kept
                .as_ref()
                .map_or_else(|| user.role.as_str().to_string(), |f| f.role.clone()),
            active: kept.as_ref().map_or(user.active, UpdateForm::active),
            errors,
            roles: Role::ALL.to_vec(),
            open_sessions,
            link_open_until,
            two_factor_since,
            audit,
            is_self: admin.id == id,
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

impl UpdateForm {
    fn active(&self) -> bool {
        matches!(self.active.as_deref(), Some("on" | "true" | "yes" | "1"))
    }
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
    let active = f.active();
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
    let mut conn = admin.db(&state).await?;
    let outcome = users::update(
        &mut conn,
        id,
        first.as_str(),
        last.as_str(),
        role,
        active,
        admin.id,
    )
    .await?;
    drop(conn);
    let (field, text) = match outcome {
        UpdateOutcome::Updated {
            sessions_ended,
            changes,
        } => {
            tracing::info!(user_id = id, admin_id = admin.id, ?changes, "user changed");
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
        UpdateOutcome::NotFound => return Err(AppError::Missing(Missing::User)),
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
