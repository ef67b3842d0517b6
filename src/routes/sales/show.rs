//! `GET /sales/{id}` (a printable receipt, with the dealership's name,
//! address, phone and receipt footer from its settings; a voided sale's
//! receipt says VOID, when, by whom and why, on paper too) and
//! `POST /sales/{id}/void`.

use std::sync::Arc;

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::{Admin, Signed, Viewer},
    domain::FieldErrors,
    domain::photo::Size,
    domain::{
        Role,
        settings::Settings,
        text::{self, Lines},
    },
    models::photos::{self, Photo},
    models::sales::{self, SaleRow, VoidOutcome},
    web::{AppError, Flash, Missing, Page, assets, dealership, filters, render, see_other},
};

#[derive(Template)]
#[template(path = "sales/show.html")]
struct ShowPage {
    page: Page,
    s: SaleRow,
    payment: &'static str,
    can_void: bool,
    reason: String,
    errors: FieldErrors,
    /// Who the receipt is from.
    dealer: Arc<Settings>,
    /// The Print button's script.
    print_js: &'static str,
    /// The vehicle's cover photo, if it has photos.
    cover: Option<Photo>,
}

async fn show_page<R>(
    user: &Signed<R>,
    session: &Session,
    state: &AppState,
    id: i64,
    status: StatusCode,
    reason: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    // The connection the session check left for this page, if any: a
    // second one asked for while holding it could wait on a full pool.
    let mut conn = user.reader(state).await?;
    let s = sales::find(&mut conn, id)
        .await?
        .ok_or(AppError::Missing(Missing::Sale))?;
    let cover = photos::covers(&mut conn, &[s.vehicle_id])
        .await?
        .take(s.vehicle_id);
    Ok(render(
        status,
        &ShowPage {
            page: Page::new(format!("Sale {}", s.id), session, Some(user)).section("sales"),
            payment: s.payment_method.label(),
            can_void: user.role == Role::Admin && s.voided_at.is_none(),
            reason,
            errors,
            cover,
            s,
            // The same copy its money and dates are shown by.
            dealer: dealership::current(),
            print_js: assets::print_js_url(),
        },
    ))
}

pub async fn show(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &user,
        &session,
        &state,
        path.into_inner(),
        StatusCode::OK,
        String::new(),
        FieldErrors::default(),
    )
    .await
}

#[derive(Deserialize)]
pub struct VoidForm {
    #[serde(default)]
    reason: String,
}

pub async fn void(
    user: Admin,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let reason = form.into_inner().reason.trim().to_string();
    let problem = match text::bounded(&reason, 1000, Lines::Many) {
        Ok("") => Some("Say why the sale is voided; it stays on record.".to_string()),
        Ok(_) => None,
        Err(problem) => Some(problem.to_string()),
    };
    if let Some(p) = problem {
        let mut errors = FieldErrors::default();
        errors.add("reason", p);
        return show_page(
            &user,
            &session,
            &state,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            reason,
            errors,
        )
        .await;
    }
    let mut conn = user.db(&state).await?;
    match sales::void(&mut conn, id, &reason, user.id).await? {
        VoidOutcome::Voided { vehicle_id } => {
            tracing::info!(sale_id = id, vehicle_id, user_id = user.id, "sale voided");
            Flash::success("The sale is voided and the vehicle is available again.").set(&session);
            Ok(see_other(&format!("/sales/{id}")))
        }
        VoidOutcome::NotFound => Err(AppError::Missing(Missing::Sale)),
        VoidOutcome::AlreadyVoided => Err(AppError::Conflict("This sale was already voided.")),
    }
}
