//! Sessions live in the database: signing out revokes one for good (a
//! replayed cookie is refused), idle and absolute timeouts end them (the
//! defaults and configured ones), a deactivated user is out at once, and
//! signed-in pages are never cached.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, client, location};

#[tokio::test]
async fn sign_out_revokes_the_session_and_a_replayed_cookie_is_refused() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    let cookie = app.sign_in_for_cookie("v@dealer.example", PASSWORD).await;
    let replay = |path: &'static str| {
        let cookie = cookie.clone();
        let url = app.url(path);
        async move {
            client()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(replay("/account").await.status(), StatusCode::OK);
    let out = app.post("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/login");
    let after = replay("/account").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login?next=%2Faccount");
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions WHERE revoked_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn idle_session_expires() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '29 minutes'")
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    // Seen just now: the request above moved last_seen_at (older than a minute).
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM sessions WHERE last_seen_at > now() - interval '10 seconds'"
        )
        .await,
        1
    );
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'")
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '30 seconds'")
        .await;
    app.get("/account").await;
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM sessions WHERE last_seen_at < now() - interval '20 seconds'"
        )
        .await,
        1,
        "a session seen 30 s ago is not written again"
    );
}

#[tokio::test]
async fn session_ends_after_its_absolute_lifetime_however_active() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec("UPDATE sessions SET created_at = now() - interval '11 hours 59 minutes'")
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    app.exec("UPDATE sessions SET created_at = now() - interval '12 hours 1 minute'")
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn configured_timeouts_apply() {
    // 5 minutes idle, 60 minutes in all: both shorter than the defaults (30
    // and 720), so each refusal below happens only if the setting applies.
    let app = TestApp::with(
        crate::helpers::Options::default()
            .env("PCN_IDLE_TIMEOUT", "5")
            .env("PCN_SESSION_LIFETIME", "60"),
    )
    .await;
    app.signed_in_as("viewer").await;
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '4 minutes'")
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '6 minutes'")
        .await;
    let idle = app.get("/account").await;
    assert_eq!(idle.status(), StatusCode::SEE_OTHER, "idle past 5 minutes");
    assert_eq!(location(&idle), "/login?next=%2Faccount");

    // The lifetime, on a session that is never idle.
    let c = client();
    assert_eq!(
        app.sign_in_with(&c, "viewer@dealer.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let newest = "id = (SELECT max(id) FROM sessions)";
    app.exec(&format!(
        "UPDATE sessions SET created_at = now() - interval '59 minutes', last_seen_at = now() WHERE {newest}"
    ))
    .await;
    assert_eq!(app.get_with(&c, "/account").await.status(), StatusCode::OK);
    app.exec(&format!(
        "UPDATE sessions SET created_at = now() - interval '61 minutes', last_seen_at = now() WHERE {newest}"
    ))
    .await;
    let old = app.get_with(&c, "/account").await;
    assert_eq!(old.status(), StatusCode::SEE_OTHER, "older than 60 minutes");
    assert_eq!(location(&old), "/login?next=%2Faccount");
}

#[tokio::test]
async fn deactivated_user_is_signed_out_on_the_next_request() {
    let app = TestApp::spawn().await;
    let id = app.signed_in_as("editor").await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    app.exec(&format!("UPDATE users SET active = false WHERE id = {id}"))
        .await;
    assert_eq!(app.get("/account").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signed_in_pages_are_not_cached() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    for path in ["/account", "/vehicles"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    }
}
