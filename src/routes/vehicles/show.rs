//! `GET /vehicles/{id}`: everything about one vehicle, its photos and its
//! history.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Utc};

use diesel_async::AsyncPgConnection;

use crate::{
    app::AppState,
    auth::{SignedIn, Viewer},
    domain::{FieldErrors, Role, Status, photo::Size},
    models::{
        photos::{self, Photo},
        vehicles::{self, Vehicle},
    },
    web::{AppError, Missing, Page, filters, render},
};

pub struct HistoryView {
    pub version: i32,
    pub action: String,
    pub at: DateTime<Utc>,
    pub who: String,
    pub changes: Vec<(&'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "vehicles/show.html")]
struct ShowPage {
    page: Page,
    v: Vehicle,
    title: String,
    status: Status,
    condition: &'static str,
    /// Days in stock; none once sold.
    days: Option<i64>,
    history: Vec<HistoryView>,
    can_edit: bool,
    can_sell: bool,
    can_archive: bool,
    sale_id: Option<i64>,
    /// Who has it open for editing now.
    editors: Vec<super::presence::Present>,
    /// Its photos, the cover first.
    photos: Vec<Photo>,
    /// Why an upload of photos was refused (under `photos`).
    upload_errors: FieldErrors,
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.reader(&state).await?;
    let page = vehicle_page(
        &mut conn,
        &user,
        &session,
        &state,
        path.into_inner(),
        FieldErrors::default(),
    )
    .await?;
    Ok(render(StatusCode::OK, &page))
}

/// The page of vehicle `id` for `user`; `upload_errors` beside the photo
/// upload when it comes back refused (`photos::upload`).
pub(super) async fn vehicle_page(
    conn: &mut AsyncPgConnection,
    user: &SignedIn,
    session: &Session,
    state: &AppState,
    id: i64,
    upload_errors: FieldErrors,
) -> Result<impl Template, AppError> {
    let v = vehicles::find(conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    let history = vehicles::history(conn, v.id, 0).await?;
    let sale_id = match v.status {
        Status::Sold => crate::models::sales::live_sale_id(conn, v.id).await?,
        _ => None,
    };
    let editors = super::presence::others(conn, v.id, user).await?;
    let photos = photos::of_vehicle(conn, v.id).await?;
    let days = (state.today() - v.received_on).num_days().max(0);
    let status = v.status;
    Ok(ShowPage {
        page: Page::new(
            format!("{} · {}", v.vehicle_number, v.title()),
            session,
            Some(user),
        )
        .section("inventory"),
        title: v.title(),
        status,
        condition: v.condition.label(),
        days: (status != Status::Sold).then_some(days),
        history: history
            .into_iter()
            .map(|h| HistoryView {
                version: h.version,
                action: h.action,
                at: h.changed_at,
                who: h.who,
                changes: h
                    .changes
                    .into_iter()
                    .map(|c| (c.field.label(), c.before, c.after))
                    .collect(),
            })
            .collect(),
        can_edit: user.role.allows(Role::Editor),
        can_sell: user.role.allows(Role::Editor) && status.in_stock(),
        can_archive: user.role == Role::Admin && status.in_stock(),
        sale_id,
        editors,
        photos,
        upload_errors,
        v,
    })
}
