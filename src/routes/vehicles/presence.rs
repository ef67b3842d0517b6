//! Who else has a vehicle open for editing. The edit page counts as being
//! there (`arrive`, on every load, so it works without JavaScript); its
//! script keeps that fresh with `POST /vehicles/{id}/presence` every 20 s and
//! says goodbye on leaving; the vehicle's pages ask `GET` who is there when
//! the event stream says someone came or went.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::{
    app::AppState,
    auth::{Editor, SignedIn, Viewer},
    models::presence,
    web::{AppError, Missing},
};

/// One person shown as having the vehicle open.
#[derive(Clone, Debug, Serialize)]
pub struct Present {
    pub name: String,
    pub since: DateTime<Utc>,
    /// Seconds until they count as gone unless their page beats again.
    pub expires_in: i64,
}

/// Who besides `me` (this session) has vehicle `id` open for editing.
pub async fn others(
    conn: &mut AsyncPgConnection,
    id: i64,
    me: &SignedIn,
) -> Result<Vec<Present>, AppError> {
    let now = Utc::now();
    let fresh = chrono::Duration::from_std(presence::FRESH).unwrap_or_default();
    Ok(presence::others(conn, id, me.session_id)
        .await?
        .into_iter()
        .map(|p| Present {
            name: if p.user_id == me.id {
                "You, on another device".to_string()
            } else {
                format!("{} {}", p.first_name, p.last_name)
            },
            since: p.since,
            expires_in: (p.seen_at + fresh - now).num_seconds().max(1),
        })
        .collect())
}

/// This session has vehicle `id` open for editing now (the edit page).
pub async fn arrive(conn: &mut AsyncPgConnection, id: i64, me: &SignedIn) -> Result<(), AppError> {
    presence::beat(conn, id, me.session_id, me.id).await?;
    Ok(())
}

/// This session closed the form (saved it): best effort, since what it
/// saved is saved either way; a missed departure expires by itself.
pub async fn depart(conn: &mut AsyncPgConnection, id: i64, me: &SignedIn) {
    if let Err(e) = presence::leave(conn, id, me.session_id).await {
        tracing::warn!(error = %e, vehicle_id = id, "could not record leaving the edit form");
    }
}

#[derive(Serialize)]
struct Answer {
    editors: Vec<Present>,
}

/// `GET /vehicles/{id}/presence`: who has it open for editing, as JSON.
pub async fn show(
    user: Viewer,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.db(&state).await?;
    let editors = others(&mut conn, path.into_inner(), &user).await?;
    Ok(json(editors))
}

#[derive(Deserialize)]
pub struct Beat {
    /// Present: the page is closing.
    leave: Option<String>,
}

/// `POST /vehicles/{id}/presence` (`csrf_token`, optional `leave`): the edit
/// page is still open (or closing); answers who else has it open.
pub async fn beat(
    user: Editor,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<Beat>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut conn = user.db(&state).await?;
    if crate::models::vehicles::find(&mut conn, id)
        .await?
        .is_none()
    {
        return Err(AppError::Missing(Missing::Vehicle));
    }
    if form.leave.is_some() {
        presence::leave(&mut conn, id, user.session_id).await?;
    } else {
        arrive(&mut conn, id, &user).await?;
    }
    let editors = others(&mut conn, id, &user).await?;
    Ok(json(editors))
}

fn json(editors: Vec<Present>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Answer { editors })
}
