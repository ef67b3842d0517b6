//! The account page: changing one's password (with its policy and reasons,
//! throttled like sign-in) ends the other sessions and retires this one's
//! old cookie, but keeps this browser signed in.

use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, location};

const NEW: &str = "orange kettle harbour 77";

#[tokio::test]
async fn changing_the_password_ends_other_sessions_but_not_this_one() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let laptop = client();
    app.sign_in_with(&laptop, "editor@dealer.example", PASSWORD)
        .await;
    assert_eq!(
        app.get_with(&laptop, "/account").await.status(),
        StatusCode::OK
    );

    let r = app
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", NEW)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account");
    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("1 other session was signed out")
    );
    assert_eq!(
        app.get_with(&laptop, "/account").await.status(),
        StatusCode::SEE_OTHER
    );

    let fresh = client();
    assert_eq!(
        app.sign_in_with(&fresh, "editor@dealer.example", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in_with(&fresh, "editor@dealer.example", NEW)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_wrong_current_password_is_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let before = app
        .scalar_i64("SELECT hashtext(password_hash)::int8 AS v FROM users")
        .await;
    let r = app
        .post(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("new_password", NEW),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    assert_eq!(
        page.field_error("current_password").as_deref(),
        Some("This is not your current password."),
        "error beside the field"
    );
    let after = app
        .scalar_i64("SELECT hashtext(password_hash)::int8 AS v FROM users")
        .await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn the_password_policy_is_enforced_with_reasons() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    for (new, reason) in [
        ("short", "at least 12 characters"),
        ("password1234", "too easy to guess"),
        ("viewer@dealer.example", "too easy to guess"),
    ] {
        let long;
        let new = if new.is_empty() {
            long = "x".repeat(129);
            long.as_str()
        } else {
            new
        };
        let r = app
            .post(
                "/account/password",
                &[("current_password", PASSWORD), ("new_password", new)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        let error = Html::parse(&r.text().await.unwrap())
            .field_error("new_password")
            .unwrap_or_else(|| panic!("{new}: no error beside the field"));
        assert!(
            error.contains(reason),
            "{new}: expected {reason:?}, got {error:?}"
        );
    }
    let long = "correct horse ".repeat(10);
    let r = app
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", &long)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at most 128 characters"));
    // The old password still works.
    assert_eq!(
        app.sign_in_with(&client(), "viewer@dealer.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_password_change_also_retires_this_sessions_old_cookie() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    let old_cookie = app.sign_in_for_cookie("v@dealer.example", PASSWORD).await;
    let r = app
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", NEW)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // This browser goes on, in a new session...
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    // ...and a copy of the cookie from before the change is refused.
    let replay = client()
        .get(app.url("/account"))
        .header("cookie", old_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    for _ in 0..5 {
        let r = app
            .post(
                "/account/password",
                &[
                    ("current_password", "guess guess guess"),
                    ("new_password", NEW),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", NEW)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many wrong passwords"));
}
