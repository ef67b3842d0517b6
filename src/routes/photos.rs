//! `GET /photos/{file}`: one size of a photo, by the hash of its content
//! (`domain::photo::FileName`). The same address always serves the same
//! bytes, so browsers keep it for a year and never ask again. Only for the
//! signed-in, like every page (deny by default): so the answer is `private`,
//! which no shared cache (a proxy, a CDN) keeps for others.

use actix_web::{HttpResponse, http::header, web};

use crate::{app::AppState, auth::Viewer, domain::photo::FileName, models::photos, web::AppError};

pub async fn serve(
    user: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = FileName::parse(&path).ok_or(AppError::NotFound)?;
    let mut conn = user.reader(&state).await?;
    let jpeg = photos::jpeg(&mut conn, &name)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ))
        .body(jpeg))
}
