//! Signing a user out everywhere.

use actix_session::Session;
use actix_web::{HttpResponse, web};

use crate::{
    app::AppState,
    auth::Admin,
    models::users,
    web::{AppError, Flash, see_other},
};

pub async fn revoke_sessions(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = admin.db(&state).await?;
    let user = users::find(&mut conn, id).await?;
    // Signing yourself out everywhere keeps this session, so the page still works.
    let keep = (id == admin.id).then_some(admin.session_id);
    let ended = users::sign_out_everywhere(&mut conn, id, keep, admin.id).await?;
    Flash::success(format!(
        "{} is signed out everywhere ({ended} session{}).",
        user.full_name(),
        if ended == 1 { "" } else { "s" }
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{id}/edit")))
}
