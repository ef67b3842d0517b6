//! A general request limit per client, in this instance's memory (SPEC §5.4):
//! per session when signed in, per address otherwise. Security rules
//! (sign-in throttling, sessions) live in the database instead.
//!
//! It runs inside `auth::session::authenticate`, so "signed in" means a
//! session the database confirmed: the session id a cookie merely claims
//! (an ended session, say) is not a key, or every old cookie would be a
//! bucket of its own.

use actix_web::{
    Error, HttpMessage as _,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::{
    app::AppState,
    web::{AppError, identity::SignedIn},
};

pub async fn limit_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>()
        && req.path() != "/healthz"
    {
        let session = req
            .extensions()
            .get::<Option<SignedIn>>()
            .and_then(|current| current.as_ref().map(|c| c.session_id));
        let key = match session {
            Some(id) => format!("s:{id}"),
            None => format!(
                "a:{}",
                crate::web::client_ip::client_ip(req.request(), &state.config.trusted_proxies)
            ),
        };
        if let Err(retry_after_secs) = state.rate_limiter.check(&key) {
            return Ok(req.error_response(AppError::TooManyRequests { retry_after_secs }));
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
