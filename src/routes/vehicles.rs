//! The inventory (filled by the inventory issue; for now, where sign-in lands).

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode};
use askama::Template;

use crate::{
    auth::Viewer,
    web::{Page, render},
};

#[derive(Template)]
#[template(path = "vehicles/list.html")]
struct ListPage {
    page: Page,
}

pub async fn list(user: Viewer, session: Session) -> HttpResponse {
    let page = Page::new("Inventory", &session, Some(&user)).section("inventory");
    render(StatusCode::OK, &ListPage { page })
}
