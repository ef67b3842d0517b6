//! Every route the app serves, with the least role it needs. This table is
//! the router itself: the app is configured from it, and the route × role
//! tests walk it, so a route cannot exist without a stated role.

mod account;
mod admin;
mod events;
mod health;
mod invite;
mod login;
mod photos;
mod sales;
mod saved_views;
mod setup;
mod two_factor;
mod vehicles;

use actix_web::{HttpResponse, Route, http::Method, web};

use crate::{
    auth::Viewer,
    domain::Role,
    web::{AppError, see_other},
};

pub use setup::announce_setup_link;

/// Who may reach a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed in with at least this role.
    Least(Role),
}

pub struct RouteDef {
    pub method: Method,
    /// actix path pattern, e.g. `/vehicles/{id}`.
    pub path: &'static str,
    pub access: Access,
    pub route: fn() -> Route,
}

macro_rules! routes {
    ($( $method:ident $path:literal $access:expr => $handler:path ;)*) => {
        vec![$( RouteDef {
            method: Method::$method,
            path: $path,
            access: $access,
            route: || web::method(Method::$method).to($handler),
        } ),*]
    };
}

const PUBLIC: Access = Access::Public;
const VIEWER: Access = Access::Least(Role::Viewer);
const EDITOR: Access = Access::Least(Role::Editor);
const ADMIN: Access = Access::Least(Role::Admin);

pub fn table() -> Vec<RouteDef> {
    routes! {
        GET  "/"                  VIEWER => home;
        GET  "/healthz"           PUBLIC => health::healthz;
        GET  "/static/{name}"     PUBLIC => crate::web::assets::serve;
        GET  "/login"             PUBLIC => login::form;
        POST "/login"             PUBLIC => login::submit;
        GET  "/login/code"        PUBLIC => two_factor::code_form;
        POST "/login/code"        PUBLIC => two_factor::code_submit;
        POST "/logout"            VIEWER => login::logout;
        GET  "/setup"             PUBLIC => setup::form;
        POST "/setup"             PUBLIC => setup::submit;
        GET  "/invite/{token}"    PUBLIC => invite::form;
        POST "/invite/{token}"    PUBLIC => invite::submit;
        GET  "/account"           VIEWER => account::show;
        POST "/account/password"  VIEWER => account::change_password;
        GET  "/account/2fa"       VIEWER => two_factor::show;
        POST "/account/2fa"       VIEWER => two_factor::submit;
        GET  "/vehicles"                VIEWER => vehicles::list::list;
        GET  "/vehicles.csv"            VIEWER => vehicles::csv::export;
        GET  "/vehicles/new"            EDITOR => vehicles::edit::new;
        GET  "/vehicles/import"         EDITOR => vehicles::import::form;
        POST "/vehicles/import"         EDITOR => vehicles::import::preview;
        GET  "/vehicles/import/{id}"    EDITOR => vehicles::import::show;
        POST "/vehicles/import/{id}"    EDITOR => vehicles::import::confirm;
        POST "/vehicles"                EDITOR => vehicles::edit::create;
        POST "/vehicles/bulk"           EDITOR => vehicles::bulk::bulk;
        GET  "/vehicles/{id}"           VIEWER => vehicles::show::show;
        GET  "/vehicles/{id}/edit"      EDITOR => vehicles::edit::edit;
        POST "/vehicles/{id}"           EDITOR => vehicles::edit::update;
        POST "/vehicles/{id}/archive"   ADMIN  => vehicles::archive::archive;
        GET  "/vehicles/{id}/sell"      EDITOR => sales::sell::form;
        POST "/vehicles/{id}/sell"      EDITOR => sales::sell::submit;
        GET  "/vehicles/{id}/presence"  VIEWER => vehicles::presence::show;
        POST "/vehicles/{id}/presence"  EDITOR => vehicles::presence::beat;
        POST "/vehicles/{id}/photos"    EDITOR => vehicles::photos::upload;
        POST "/vehicles/{id}/photos/{photo}/move"   EDITOR => vehicles::photos::move_photo;
        POST "/vehicles/{id}/photos/{photo}/delete" EDITOR => vehicles::photos::delete;
        GET  "/photos/{file}"           VIEWER => photos::serve;
        GET  "/events"                  VIEWER => events::events;
        GET  "/sales"                   VIEWER => sales::list::list;
        GET  "/sales.csv"               VIEWER => sales::list::export;
        GET  "/sales/{id}"              VIEWER => sales::show::show;
        POST "/sales/{id}/void"         ADMIN  => sales::show::void;
        GET  "/reports/sales"           VIEWER => sales::report::report;
        POST "/views"                   VIEWER => saved_views::create;
        POST "/views/{id}/delete"       VIEWER => saved_views::delete;
        GET  "/admin/users"             ADMIN  => admin::users::list;
        GET  "/admin/users/new"         ADMIN  => admin::users::new;
        POST "/admin/users"             ADMIN  => admin::users::create;
        GET  "/admin/users/{id}/edit"   ADMIN  => admin::users::edit;
        POST "/admin/users/{id}"        ADMIN  => admin::users::update;
        POST "/admin/users/{id}/password" ADMIN => admin::users::set_password;
        POST "/admin/users/{id}/sessions/revoke" ADMIN => admin::users::revoke_sessions;
        POST "/admin/users/{id}/2fa/reset" ADMIN => admin::users::reset_second_factor;
        GET  "/admin/activity"          ADMIN  => admin::activity::activity;
        GET  "/admin/settings"          ADMIN  => admin::settings::show;
        POST "/admin/settings"          ADMIN  => admin::settings::save;
    }
}

/// Registers the table: one resource per path, every method of it inside.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let table = table();
    let mut paths: Vec<&'static str> = Vec::new();
    for def in &table {
        if !paths.contains(&def.path) {
            paths.push(def.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path).default_service(web::to(method_not_allowed));
        for def in table.iter().filter(|d| d.path == path) {
            resource = resource.route((def.route)());
        }
        cfg.service(resource);
    }
}

async fn home(_user: Viewer) -> HttpResponse {
    see_other("/vehicles")
}

async fn method_not_allowed() -> Result<HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed)
}

/// The app's fallback: 404 as a page.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
