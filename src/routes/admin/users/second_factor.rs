//! Resetting a user's second factor (a lost phone): it is taken away and
//! their sessions end, in one audited transaction; they sign in with their
//! password alone until they set one up again.

use actix_session::Session;
use actix_web::{HttpResponse, web};

use crate::{
    app::AppState,
    auth::Admin,
    models::{second_factor, users},
    web::{AppError, Flash, see_other},
};

pub async fn reset_second_factor(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let back = format!("/admin/users/{id}/edit");
    let mut conn = admin.db(&state).await?;
    let user = users::find(&mut conn, id).await?;
    // Their own goes through /account/2fa, which asks for proof; this would
    // also sign them out.
    if id == admin.id {
        Flash::info("Turn your own two-step sign-in off under Account.").set(&session);
        return Ok(see_other(&back));
    }
    match second_factor::reset(&mut conn, id, admin.id).await? {
        Some(ended) => {
            tracing::info!(
                user_id = id,
                admin_id = admin.id,
                ended,
                "second factor reset"
            );
            Flash::success(format!(
                "{}'s two-step sign-in is reset, and {ended} open session{} ended.",
                user.full_name(),
                if ended == 1 { "" } else { "s" }
            ))
            .set(&session);
        }
        None => {
            Flash::info(format!(
                "{} has no two-step sign-in to reset.",
                user.full_name()
            ))
            .set(&session);
        }
    }
    Ok(see_other(&back))
}
