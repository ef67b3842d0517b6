//! The database going away: pages (and sign-in, down to its own queries)
//! answer a quick 503 page instead of hanging or a 500, and the app comes
//! back by itself when the database does.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::{
    helpers::{PASSWORD, client},
    proxy::Proxy,
};

#[tokio::test]
async fn database_outage_gives_503_pages_quickly_and_recovers_by_itself() {
    let (proxy, app) = Proxy::with_app(|_| {}).await;
    app.signed_in_as("viewer").await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    // A signed-out browser with the sign-in form's token (it lives in the
    // cookie, so the form needs no database; taken while it is up anyway).
    let visitor = client();
    let token = app.csrf_token_with(&visitor).await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;

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
    // Sign-in while the database is away: the token is good, so the
    // request reaches the sign-in handler, whose first query fails: the 503
    // page, quickly (not a 403 before the handler, not a 500).
    let start = Instant::now();
    let r = app
        .post_raw_with(
            &visitor,
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "ed@dealer.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let took = start.elapsed();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "sign-in");
    assert!(took < Duration::from_secs(5), "sign-in took {took:?}");
    assert!(r.headers().contains_key("retry-after"));
    let body = r.text().await.unwrap();
    assert!(body.contains("Temporarily unavailable"), "{body}");

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
    // The same form, token and all, signs in now: it was the database that
    // refused it before.
    let r = app
        .post_raw_with(
            &visitor,
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "ed@dealer.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
