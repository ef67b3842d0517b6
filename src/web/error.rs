//! One error type that knows its status and renders itself as a page.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use askama::Template;

use crate::db;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Signed out (or the session ended): go and sign in, then come back.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// Someone else changed the thing first; the message says what to do.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("database unavailable")]
    Unavailable,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The request body did not arrive within `Config::body_timeout`.
    #[error("request body too slow")]
    RequestTimeout,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => Self::NotFound,
            e if db::is_unavailable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable
            }
            e => Self::Internal(e.into()),
        }
    }
}

impl<E: std::error::Error + 'static> From<bb8::RunError<E>> for AppError {
    fn from(err: bb8::RunError<E>) -> Self {
        tracing::warn!(error = %err, "no database connection");
        Self::Unavailable
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: crate::web::Page,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

impl AppError {
    fn text(&self) -> (&'static str, &'static str) {
        match self {
            Self::SignInRequired { .. } => ("Please sign in", "Sign in to continue."),
            Self::Forbidden(why) => ("Not allowed", why),
            Self::NotFound => (
                "Page not found",
                "There is nothing at this address. It may have been moved, or the link is mistyped.",
            ),
            Self::Conflict(why) => ("Changed in the meantime", why),
            Self::MethodNotAllowed => (
                "Not available this way",
                "This address exists, but not for this kind of request. Use the links and buttons on the pages.",
            ),
            Self::TooManyRequests { .. } => (
                "Too many requests",
                "You are going faster than the system allows. Wait a moment and try again.",
            ),
            Self::Unavailable => (
                "Temporarily unavailable",
                "PCN cannot reach its database right now. Nothing you saved has been lost; please try again in a moment.",
            ),
            Self::BadRequest(why) => ("Something is wrong with this request", why),
            Self::RequestTimeout => (
                "The form took too long to arrive",
                "Your browser took too long to send this form, so nothing was saved. Please try again.",
            ),
            Self::Internal(_) => (
                "Something went wrong",
                "An unexpected error stopped this page. It has been logged; please try again.",
            ),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignInRequired { next } = self {
            let location = crate::web::identity::login_url(next);
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        if let Self::Internal(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let status = self.status_code();
        let (heading, message) = self.text();
        let mut resp = render(
            status,
            &ErrorPage {
                page: crate::web::Page::bare(heading),
                status: status.as_u16(),
                heading,
                message,
            },
        );
        let retry = match self {
            Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            Self::Unavailable => Some(5),
            _ => None,
        };
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
        }
        resp
    }
}

use crate::web::render;
