use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::{
    helpers::{Options, TestApp, fresh_database, proxied_url},
    proxy::Proxy,
};

#[tokio::test]
async fn database_outage_gives_503_pages_quickly_and_recovers_by_itself() {
    let proxy = Proxy::start().await;
    let database = fresh_database().await;
    let app = TestApp::with(Options {
        database: Some(database.clone()),
        database_url: Some(proxied_url(&database, proxy.port)),
        ..Options::default()
    })
    .await;
    app.signed_in_as("viewer").await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);

    proxy.cut();
    for path in ["/account", "/vehicles", "/healthz"] {
        let start = Instant::now();
        let r = app.get(path).await;
        let took = start.elapsed();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(took < Duration::from_secs(5), "{path} took {took:?}");
        if path != "/healthz" {
            assert!(r.headers().contains_key("retry-after"));
            assert!(r.headers().contains_key("content-security-policy"));
            let body = r.text().await.unwrap();
            assert!(body.contains("Temporarily unavailable"), "{body}");
            assert!(!body.to_lowercase().contains("diesel"), "no internals leak");
        }
    }
    // Sign-in while the database is away: 503, not 500.
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "x@y.example"), ("password", "whatever")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status() == StatusCode::SERVICE_UNAVAILABLE || r.status() == StatusCode::FORBIDDEN,
        "{}",
        r.status()
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = app.get("/account").await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
