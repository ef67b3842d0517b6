//! The layout context every page template gets, flash messages, and the one
//! helper that turns a template into a response.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, http::header};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::web::{
    assets, dealership, filters,
    identity::{SignedIn, ensure_csrf_token},
};

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
        // Only a removal that removes something: any `remove` marks the
        // session changed, and a changed session re-sends its cookie.
        session.get::<Self>(Self::KEY).ok().flatten()?;
        session.remove_as::<Self>(Self::KEY).and_then(Result::ok)
    }
}

/// The layout's context: title, navigation, CSRF token, flash, asset URLs.
#[derive(Clone, Debug)]
pub struct Page {
    pub title: String,
    /// Who is signed in, for the navigation.
    pub user: Option<SignedIn>,
    /// The form token, masked afresh for this page (`token::mask`).
    pub csrf: String,
    pub flash: Option<Flash>,
    /// Which navigation entry is current (`inventory`, `account`, …).
    pub section: &'static str,
    pub css: &'static str,
    /// The script that makes signed-in pages follow changes (`static/live.js`).
    pub js: &'static str,
    /// When the page was drawn (RFC 3339, UTC): its event stream starts
    /// with whatever changed since (`GET /events?since=`).
    pub drawn_at: String,
    /// The zone times are shown in (`{{ at|local_time(page.tz) }}`): the
    /// dealership's for a signed-in person. Pages for signed-out visitors
    /// show no times.
    pub tz: chrono_tz::Tz,
    /// The dealership's name (its settings), beside the PCN mark.
    pub dealer: String,
}

/// What the top bar shows beside the PCN mark: the dealership's name, less
/// a "PCN" it starts with (the defaults' "PCN Dealership" stays as it was).
fn dealer_name(name: &str) -> String {
    let rest = name.strip_prefix("PCN ").unwrap_or(name).trim();
    if rest.is_empty() {
        "Dealership".into()
    } else {
        rest.into()
    }
}

impl Page {
    /// A page for whoever is asking; takes any pending flash message.
    pub fn new(title: impl Into<String>, session: &Session, current: Option<&SignedIn>) -> Self {
        let csrf = match current {
            Some(c) => crate::token::mask(&c.csrf),
            None => crate::token::mask(&ensure_csrf_token(session)),
        };
        Self {
            title: title.into(),
            user: current.cloned(),
            csrf,
            flash: Flash::take(session),
            section: "",
            css: assets::css_url(),
            js: assets::js_url(),
            drawn_at: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            tz: current.map_or(chrono_tz::UTC, |c| c.tz),
            dealer: dealer_name(&crate::web::dealership::current().name),
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
            js: assets::js_url(),
            drawn_at: String::new(),
            tz: chrono_tz::UTC,
            dealer: dealer_name(&crate::web::dealership::current().name),
        }
    }

    pub fn section(mut self, section: &'static str) -> Self {
        self.section = section;
        self
    }

    /// A page nothing in the inventory changes: it opens no event stream.
    pub fn still(mut self) -> Self {
        self.drawn_at.clear();
        self
    }
}

/// Renders a template as an HTML response with `status`, its filters
/// showing money and dates as the dealership's settings say.
pub fn render<T: Template>(status: StatusCode, template: &T) -> HttpResponse {
    let settings = dealership::current();
    let values: &dyn std::any::Any = &*settings;
    match template.render_with_values(&(filters::SETTINGS, values)) {
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
