//! A general request limit per client, in this instance's memory (SPEC §5.4):
//! per session when signed in, per address otherwise. Security rules
//! (sign-in throttling, sessions) live in the database instead.

use actix_session::SessionExt as _;
use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::{app::AppState, web::AppError};

pub async fn limit_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>()
        && req.path() != "/healthz"
    {
        let key = match req
            .get_session()
            .get::<String>(crate::web::identity::SID_KEY)
        {
            Ok(Some(sid)) => format!("s:{sid}"),
            _ => format!(
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
