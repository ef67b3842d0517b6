//! The layout context every page template gets, flash messages, and the one
//! helper that turns a template into a response.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, http::header};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::{auth::Current, domain::Role, web::assets};

/// A one-shot message shown on the next page (post/redirect/get).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// `success`, `info` or `error`: also the CSS class.
    pub kind: String,
    pub text: String,
}

impl Flash {
    const KEY: &'static str = "flash";

    pub fn success(text: impl Into<String>) -> Self {
        Self {
            kind: "success".into(),
            text: text.into(),
        }
    }

    pub fn info(text: impl Into<String>) -> Self {
        Self {
            kind: "info".into(),
            text: text.into(),
        }
    }

    pub fn set(self, session: &Session) {
        if let Err(e) = session.insert(Self::KEY, self) {
            tracing::warn!(error = %e, "could not store flash message");
        }
    }

    pub fn take(session: &Session) -> Option<Self> {
        session.remove_as::<Self>(Self::KEY).and_then(Result::ok)
    }
}

/// Who is signed in, as the navigation needs it.
#[derive(Clone, Debug)]
pub struct NavUser {
    pub name: String,
    pub role: Role,
}

impl NavUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The layout's context: title, navigation, CSRF token, flash, asset URLs.
#[derive(Clone, Debug)]
pub struct Page {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// Which navigation entry is current (`inventory`, `account`, …).
    pub section: &'static str,
    pub css: &'static str,
}

impl Page {
    /// A page for whoever is asking; takes any pending flash message.
    pub fn new(title: impl Into<String>, session: &Session, current: Option<&Current>) -> Self {
        let csrf = match current {
            Some(c) => c.csrf.clone(),
            None => crate::auth::csrf::ensure_token(session),
        };
        Self {
            title: title.into(),
            user: current.map(|c| NavUser {
                name: c.user.full_name(),
                role: c.user.role,
            }),
            csrf,
            flash: Flash::take(session),
            section: "",
            css: assets::css_url(),
        }
    }

    /// Error pages: no user, no forms.
    pub fn bare(title: &str) -> Self {
        Self {
            title: title.into(),
            user: None,
            csrf: String::new(),
            flash: None,
            section: "",
            css: assets::css_url(),
        }
    }

    pub fn section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }
}

/// Renders a template as an HTML response with `status`.
pub fn render<T: Template>(status: StatusCode, template: &T) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong while drawing this page.")
        }
    }
}

/// 303 See Other: the answer to every successful POST.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
