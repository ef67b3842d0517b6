//! The dealership's settings on the pages of one request. Templates say
//! `{{ price|money }}` and `{{ day|date }}`; the filters find the settings
//! among the values `web::render` hands every template, taken from here:
//! this middleware sets them, once per request, from the instance's copy
//! (`AppState::settings`, no query), so no handler passes them around and
//! every page of the request shows the same ones.

use std::sync::{Arc, LazyLock};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::{app::AppState, domain::settings::Settings};

tokio::task_local! {
    static SETTINGS: Arc<Settings>;
}

static DEFAULTS: LazyLock<Arc<Settings>> = LazyLock::new(Arc::default);

/// Middleware: the request's pages use the settings as they are now.
pub async fn settings_for_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let settings = match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.settings(),
        None => Arc::clone(&DEFAULTS),
    };
    SETTINGS.scope(settings, next.call(req)).await
}

/// The settings of the request being served (the defaults outside one).
pub fn current() -> Arc<Settings> {
    SETTINGS
        .try_with(Arc::clone)
        .unwrap_or_else(|_| Arc::clone(&DEFAULTS))
}
