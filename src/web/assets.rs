//! Static files, embedded in the binary and served under fingerprinted names,
//! so they can be cached for a year and a new build is never served stale.

use std::sync::LazyLock;

use actix_web::{HttpResponse, http::header, web};
use sha2::{Digest as _, Sha256};

struct Asset {
    url: String,
    body: &'static [u8],
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static [u8], content_type: &'static str) -> Asset {
    let hash = Sha256::digest(body);
    let short: String = hash.iter().take(5).map(|b| format!("{b:02x}")).collect();
    Asset {
        url: format!("/static/{stem}.{short}.{ext}"),
        body,
        content_type,
    }
}

static CSS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "app",
        "css",
        include_bytes!("../../static/app.css"),
        "text/css; charset=utf-8",
    )
});

static JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "live",
        "js",
        include_bytes!("../../static/live.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The receipt's Print button (`templates/sales/show.html`).
static PRINT_JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "print",
        "js",
        include_bytes!("../../static/print.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The sale form's figures as the price is typed (`static/deal.js`).
static DEAL_JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "deal",
        "js",
        include_bytes!("../../static/deal.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The inventory's "Tick all on this page" (`static/bulk.js`).
static BULK_JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "bulk",
        "js",
        include_bytes!("../../static/bulk.js"),
        "text/javascript; charset=utf-8",
    )
});

static ASSETS: LazyLock<Vec<&'static Asset>> =
    LazyLock::new(|| vec![&*CSS, &*JS, &*PRINT_JS, &*DEAL_JS, &*BULK_JS]);

pub fn css_url() -> &'static str {
    &CSS.url
}

pub fn js_url() -> &'static str {
    &JS.url
}

pub fn print_js_url() -> &'static str {
    &PRINT_JS.url
}

pub fn deal_js_url() -> &'static str {
    &DEAL_JS.url
}

pub fn bulk_js_url() -> &'static str {
    &BULK_JS.url
}

/// `GET /static/{name}`.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    let wanted = format!("/static/{name}");
    match ASSETS.iter().find(|a| a.url == wanted) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(a.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body("not found"),
    }
}
