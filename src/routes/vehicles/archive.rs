//! `POST /vehicles/{id}/archive` (admin): off the lot and out of the default
//! list, never deleted; an admin can bring it back by editing its status.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Admin,
    models::vehicles::{self, ArchiveOutcome},
    web::{AppError, Flash, Missing, see_other},
};

#[derive(Deserialize)]
pub struct ArchiveForm {
    version: Option<String>,
}

pub async fn archive(
    user: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<ArchiveForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let version = form
        .version
        .as_deref()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .ok_or(AppError::BadRequest(
            "This form has no version number. Reload the vehicle and try again.",
        ))?;
    let mut conn = user.db(&state).await?;
    match vehicles::archive(&mut conn, id, version, user.id).await? {
        None => Err(AppError::Missing(Missing::Vehicle)),
        Some(ArchiveOutcome::Archived) => {
            tracing::info!(vehicle_id = id, user_id = user.id, "vehicle archived");
            Flash::success("Archived. It no longer shows in the inventory unless you filter for archived vehicles.")
                .set(&session);
            Ok(see_other(&format!("/vehicles/{id}")))
        }
        Some(ArchiveOutcome::AlreadyArchived) => {
            Flash::info("This vehicle was already archived.").set(&session);
            Ok(see_other(&format!("/vehicles/{id}")))
        }
        Some(ArchiveOutcome::Sold) => Err(AppError::Conflict(
            "This vehicle is sold. Void its sale first if it should come off the books.",
        )),
        Some(ArchiveOutcome::Stale) => Err(AppError::Conflict(
            "This vehicle changed since you opened it. Look at the current version and archive it again if you still want to.",
        )),
    }
}
