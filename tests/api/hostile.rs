//! Values a hostile or careless client puts in links (SPEC §5.5): dates
//! PostgreSQL would refuse, in cursors and filters, are refused or ignored
//! with a clear message, never sent to the database, and never a 500.

use base64::Engine as _;
use reqwest::StatusCode;

use crate::helpers::{Html, TestApp};

/// A cursor as `web::cursor` makes one: value, unit separator, id.
fn cursor(value: &str, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{value}\u{1f}{id}"))
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn dates_the_database_would_refuse_never_reach_it() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let mut paths = Vec::new();
    for (sort, value) in [
        ("received", "0000-01-01"),
        ("received", "+10000-01-01"),
        ("received", "-5000-01-01"),
        ("-received", "10000-12-31"),
        ("updated", "2026-11-24T10:00:00+23:59"),
        ("-updated", "0000-01-01T00:00:00Z"),
        ("updated", "0001-01-01T00:00:00+01:00"),
        ("-updated", "+10000-01-01T00:00:00Z"),
        ("price", "99999999999999999999"),
        ("year", "-2147483649"),
        ("stock", "S\u{0}1"),
    ] {
        for dir in ["after", "before"] {
            paths.push(format!(
                "/vehicles?sort={sort}&{dir}={}",
                encode(&cursor(value, 1))
            ));
        }
    }
    for from in ["-5000-01-01", "0000-01-01", "+10000-01-01", "10000-01-01"] {
        paths.push(format!("/sales?from={}", encode(from)));
        paths.push(format!("/sales?to={}", encode(from)));
        paths.push(format!("/sales.csv?from={}", encode(from)));
    }
    for value in ["-5000-01-01", "0000-01-01", "+10000-01-01"] {
        paths.push(format!("/sales?after={}", encode(&cursor(value, 1))));
    }
    paths.push("/reports/sales?from=-5000-01-01&to=-4999-06-01".into());
    paths.push("/reports/sales?from=0000-01-01&to=0000-12-31".into());
    paths.push("/reports/sales?from=9999-01-01&to=%2B10000-06-01".into());
    for path in &paths {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_report_for_dates_out_of_range_says_so_and_shows_the_last_year() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let r = app
        .get("/reports/sales?from=-5000-01-01&to=-4999-06-01")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = Html::parse(&r.text().await.unwrap());
    assert!(
        page.text()
            .contains("Write dates as YYYY-MM-DD, in the years 1 to 9999"),
        "the page says why it shows something else"
    );
    assert_ne!(page.field("from").as_deref(), Some("-5000-01-01"));
}
