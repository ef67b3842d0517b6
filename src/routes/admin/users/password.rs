//! An admin sets a user's password; their sessions end. Not their own: that
//! is `/account`, which asks for the current password first, so a session
//! left open is not enough to take the account over.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::{answer_with_link, edit::edit_page};
use crate::{
    app::AppState,
    auth::Admin,
    domain::FieldErrors,
    models::{invitations::Purpose, users},
    web::{AppError, Flash, see_other},
};

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
    if id == admin.id {
        Flash::info(
            "To change your own password, enter your current password here. \
             The admin page sets other people's passwords only.",
        )
        .set(&session);
        return Ok(see_other("/account"));
    }
    let mut conn = admin.db(&state).await?;
    let user = users::find(&mut conn, id).await?;
    let password = form.into_inner().password;
    // No password: a reset link instead (the old password stops working).
    if password.is_empty() {
        return answer_with_link(&mut conn, &state, &session, &admin, &user, Purpose::Reset).await;
    }
    drop(conn);
    let policy = state
        .passwords
        .check_policy(
            SecretString::from(password),
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
    let mut conn = admin.db(&state).await?;
    let ended = users::set_password(&mut conn, id, &hash, Some(admin.id)).await?;
    Flash::success(format!(
        "New password set for {}; {ended} open session{} ended.",
        user.full_name(),
        if ended == 1 { "" } else { "s" }
    ))
    .set(&session);
    Ok(see_other(&format!("/admin/users/{id}/edit")))
}
