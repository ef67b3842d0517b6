//! `GET /vehicles/{id}`: everything about one vehicle, and its history.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{
        Money, Role, Status,
        money::group_thousands,
        vehicle::{condition_label, field_label},
    },
    models::vehicles::{self, Vehicle},
    web::{AppError, Page, render},
};

pub struct HistoryView {
    pub version: i32,
    pub action: String,
    pub when: String,
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
    mileage: String,
    cost: String,
    price: String,
    margin: String,
    days: String,
    updated: String,
    history: Vec<HistoryView>,
    can_edit: bool,
    can_sell: bool,
    can_archive: bool,
    sale_id: Option<i64>,
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let v = vehicles::find(&mut conn, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let history = vehicles::history(&mut conn, v.id, 0).await?;
    let sale_id = match v.status() {
        Status::Sold => crate::models::sales::live_sale_id(&mut conn, v.id).await?,
        _ => None,
    };
    drop(conn);
    let tz = state.config.timezone;
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let days = (state.today() - v.received_on).num_days().max(0);
    let status = v.status();
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
            condition: condition_label(&v.condition),
            mileage: group_thousands(v.mileage.max(0) as u64),
            cost: Money::from_cents(v.cost_cents).to_string(),
            price: Money::from_cents(v.list_price_cents).to_string(),
            margin: Money::from_cents(v.list_price_cents - v.cost_cents).to_string(),
            days: if status == Status::Sold {
                "—".into()
            } else {
                days.to_string()
            },
            updated: fmt(v.updated_at),
            history: history
                .into_iter()
                .map(|h| HistoryView {
                    version: h.version,
                    action: h.action,
                    when: fmt(h.changed_at),
                    who: h.who,
                    changes: h
                        .changes
                        .into_iter()
                        .map(|(f, a, b)| (field_label(&f), a, b))
                        .collect(),
                })
                .collect(),
            can_edit: user.user.role.allows(Role::Editor),
            can_sell: user.user.role.allows(Role::Editor) && status.in_stock(),
            can_archive: user.user.role == Role::Admin && status.in_stock(),
            sale_id,
            v,
        },
    ))
}
