//! CSRF defence in detail: sign-in refuses a missing or forged token, a
//! signed-in form needs its own session's token, cross-site requests are
//! refused even with a token, and a signed-out POST to a protected route is
//! sent to sign in first. (Every route is swept in `routes.rs`.)

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, client, location};

#[tokio::test]
async fn sign_in_without_or_with_a_forged_token_is_refused() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    app.get("/login").await;
    let r = app
        .post_raw(
            "/login",
            &[("email", "v@dealer.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_raw(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", "v@dealer.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions").await,
        0
    );
}

#[tokio::test]
async fn signed_in_post_needs_the_sessions_own_token() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let r = app.post_raw("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("expired or did not come from PCN")
    );
    // A token that belonged to the sign-in form (before the session) is no good now.
    let other = client();
    let stale = app.csrf_token_with(&other).await;
    let r = app.post_raw("/logout", &[("csrf_token", &stale)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nothing was signed out.
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cross_site_requests_are_refused_even_with_a_token() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let token = app.csrf_token_with(&app.client).await;
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.example"),
        ("origin", "null"),
    ] {
        let r = app
            .client
            .post(app.url("/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, value)
            .body(format!("csrf_token={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    // Same origin passes.
    let r = app
        .client
        .post(app.url("/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .body(format!("csrf_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signed_out_post_to_a_protected_route_is_sent_to_sign_in_first() {
    let app = TestApp::spawn().await;
    let r = app.post_raw("/account/password", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=%2Faccount%2Fpassword");
}

#[tokio::test]
async fn with_a_public_url_origin_must_match_its_scheme_host_and_port() {
    let app = TestApp::with(
        crate::helpers::Options::default().env("PCN_PUBLIC_URL", "https://pcn.dealer.example"),
    )
    .await;
    // The cookie is `Secure` now, which a client keeps for https only: carry it by hand.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = bare.get(app.url("/login")).send().await.unwrap();
    let cookie = crate::helpers::session_cookie(&form).expect("a cookie for the form");
    let token = crate::helpers::csrf_from(&form.text().await.unwrap());
    let send = async |origin: &str, forwarded_host: Option<&str>| {
        let mut r = bare
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .header("origin", origin);
        if let Some(host) = forwarded_host {
            r = r.header("x-forwarded-host", host);
        }
        r.body(format!(
            "csrf_token={token}&email=nobody%40dealer.example&password=not+the+password"
        ))
        .send()
        .await
        .unwrap()
    };
    for (origin, forwarded_host) in [
        // What the host headers say does not matter: they can be set by anyone.
        ("https://evil.example", Some("evil.example")),
        ("http://pcn.dealer.example", Some("pcn.dealer.example")),
        ("http://pcn.dealer.example", None),
        ("https://pcn.dealer.example:8443", None),
        ("https://pcn.dealer.example.evil.example", None),
        ("null", None),
    ] {
        let r = send(origin, forwarded_host).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "Origin: {origin}");
        assert!(
            r.text().await.unwrap().contains("sent from another site"),
            "Origin: {origin}"
        );
    }
    // The public URL's own origin is accepted, whatever the Host header says.
    for origin in [
        "https://pcn.dealer.example",
        "https://PCN.dealer.example:443",
    ] {
        let r = send(origin, None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "Origin: {origin}");
    }
}
