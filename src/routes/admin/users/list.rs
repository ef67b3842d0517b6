//! `GET /admin/users`: staff, filtered by text, role and whether active.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Admin,
    domain::{Role, text},
    models::users::{self, User, UserFilter},
    web::{AppError, Page, filters, render},
};

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    page: Page,
    rows: Vec<User>,
    q: String,
    role: String,
    active: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    active: Option<String>,
}

pub async fn list(
    admin: Admin,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = UserFilter {
        q: query.q.as_deref().map(|q| text::cleaned(q, 100)),
        role: query.role.as_deref().and_then(Role::parse),
        active: match query.active.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let mut conn = admin.db(&state).await?;
    let users = users::list(&mut conn, &filter).await?;
    Ok(render(
        StatusCode::OK,
        &ListPage {
            page: Page::new("Users", &session, Some(&admin)).section("admin"),
            rows: users,
            q: filter.q.unwrap_or_default(),
            role: filter
                .role
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            active: query.active.unwrap_or_default(),
        },
    ))
}
