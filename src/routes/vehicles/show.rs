//! `GET /vehicles/{id}`: everything about one vehicle, and its history.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{Role, Status},
    models::vehicles::{self, Vehicle},
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
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = user.reader(&state).await?;
    let v = vehicles::find(&mut conn, path.into_inner())
        .await?
        .ok_or(AppError::Missing(Missing::Vehicle))?;
    let history = vehicles::history(&mut conn, v.id, 0).await?;
    let sale_id = match v.status {
        Status::Sold => crate::models::sales::live_sale_id(&mut conn, v.id).await?,
        _ => None,
    };
    let editors = super::presence::others(&mut conn, v.id, &user).await?;
    drop(conn);
    let days = (state.today() - v.received_on).num_days().max(0);
    let status = v.status;
    Ok(render(
        StatusCode::OK,
        &ShowPage {
            page: Page::new(
                format!("{} · {}", v.vehicle_number, v.title()),
                &session,
                Some(&user),
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
            v,
        },
    ))
}
