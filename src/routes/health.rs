//! `GET /healthz`: 200 `ok` when the database answers, else 503.

use crate::{app::AppState, models::stats};
use actix_web::{HttpResponse, web};

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    // `SELECT 1` needs no grant: whichever role the connection acts as.
    let ok = match state.pool.get().await {
        Ok(mut conn) => stats::ping(&mut conn).await.is_ok(),
        Err(_) => false,
    };
    if ok {
        HttpResponse::Ok().content_type("text/plain").body("ok")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}
