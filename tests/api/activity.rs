//! The activity page tells the same truth as the security checks: whoever it
//! shows as locked out is exactly whom sign-in refuses, and the sessions it
//! (and the account page) count are exactly the ones that still let a
//! request in — one rule each, used by both.

use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, location};

const BOB: &str = "bob@dealer.example";

/// Does the activity page list `email` among the locked-out?
async fn shown_as_locked(app: &TestApp, email: &str) -> bool {
    let page = app.get("/admin/activity").await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = Html::parse(&page.text().await.unwrap());
    let rows = page.texts("#locked tbody tr");
    rows.iter()
        .any(|row| row.starts_with(&format!("email {email}")))
}

/// The "open sessions" figure of a page (the account page, a user's page).
async fn open_sessions(app: &TestApp, path: &str) -> String {
    let page = Html::parse(&app.get(path).await.text().await.unwrap());
    page.one("#open-sessions").text().trim().to_string()
}

async fn fail(app: &TestApp, times: usize) {
    for _ in 0..times {
        let r = app
            .sign_in_with(&client(), BOB, "not the password at all")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn activity_shows_locked_exactly_whom_sign_in_refuses_even_after_a_success() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    app.create_user("editor", BOB, PASSWORD).await;

    // Four failures, a success, then two failures: six failures within the
    // window, but only two since the success, so Bob is not locked.
    fail(&app, 4).await;
    let r = app.sign_in_with(&client(), BOB, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    fail(&app, 2).await;
    assert!(
        !shown_as_locked(&app, BOB).await,
        "the page must not name Bob as locked while sign-in lets him in"
    );
    let r = app.sign_in_with(&client(), BOB, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in lets Bob in");

    // Five failures since that success: now sign-in refuses, and the page says so.
    fail(&app, 5).await;
    let r = app.sign_in_with(&client(), BOB, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(shown_as_locked(&app, BOB).await);
}

#[tokio::test]
async fn a_session_past_its_lifetime_is_not_counted_or_listed_as_live() {
    let app = TestApp::spawn().await;
    let admin_id = app.signed_in_as("admin").await;
    // A second browser of the same admin, then its session is made older than
    // the absolute lifetime (12 hours by default) while recently seen.
    let other = client();
    let r = app
        .sign_in_with(&other, "admin@dealer.example", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(open_sessions(&app, "/account").await, "2");
    app.exec(&format!(
        "UPDATE sessions SET created_at = now() - interval '13 hours' \
         WHERE id = (SELECT max(id) FROM sessions WHERE user_id = {admin_id})"
    ))
    .await;

    // The request check refuses it…
    let r = app.get_with(&other, "/vehicles").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    // …and neither the account page nor the user page nor the activity page
    // counts it.
    assert_eq!(open_sessions(&app, "/account").await, "1");
    let user_page = format!("/admin/users/{admin_id}/edit");
    assert_eq!(open_sessions(&app, &user_page).await, "1 open session.");
    let activity = Html::parse(&app.get("/admin/activity").await.text().await.unwrap());
    assert_eq!(
        activity.select("#live-sessions tbody tr form").len(),
        1,
        "only the live session is listed"
    );
}
