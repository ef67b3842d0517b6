//! One error type that knows its status and renders itself as a page.

use actix_web::{
    HttpMessage as _, HttpResponse, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
};
use askama::Template;

use crate::{db, web::identity::SignedIn};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Signed out (or the session ended): go and sign in, then come back.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// A thing asked for by its number that does not exist: the message
    /// names it ("No vehicle with this number").
    #[error("not found: {0}")]
    Missing(Missing),
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

/// What a number in an address did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Vehicle,
    Sale,
    User,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Vehicle => "vehicle",
            Self::Sale => "sale",
            Self::User => "user",
        })
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
            Self::Missing(Missing::Vehicle) => (
                "No vehicle with this number",
                "There is no vehicle with this number. Search the inventory by stock number or VIN to find the one you mean.",
            ),
            Self::Missing(Missing::Sale) => (
                "No sale with this number",
                "There is no sale with this number. The sales list finds sales by date and salesperson.",
            ),
            Self::Missing(Missing::User) => (
                "No user with this number",
                "There is no user with this number. The list of users shows everyone who may sign in.",
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

impl AppError {
    /// The error's page; with the navigation when `user` is signed in.
    fn page(&self, user: Option<&SignedIn>) -> HttpResponse {
        let status = self.status_code();
        let (heading, message) = self.text();
        let mut page = crate::web::Page::bare(heading);
        if let Some(user) = user {
            page.csrf = crate::token::mask(&user.csrf);
            page.user = Some(user.clone());
        }
        render(
            status,
            &ErrorPage {
                page,
                status: status.as_u16(),
                heading,
                message,
            },
        )
    }
}

/// Middleware, inside the session lookup: an error page for someone signed
/// in keeps the navigation (and the sign-out button), so a 404 or 403 is
/// not a dead end. Pages drawn before the lookup know nobody.
pub async fn navigable_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(error) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    else {
        return Ok(res);
    };
    if matches!(error, AppError::SignInRequired { .. }) {
        return Ok(res);
    }
    let user = res
        .request()
        .extensions()
        .get::<Option<SignedIn>>()
        .cloned()
        .flatten();
    let Some(user) = user else { return Ok(res) };
    // The same answer (status, headers, the error for the request log), with
    // the page drawn for this person.
    let body = error.page(Some(&user)).into_body();
    Ok(res.map_body(|_, _| body))
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Missing(_) => StatusCode::NOT_FOUND,
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
        let mut resp = self.page(None);
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
