//! Several app instances on one database: sessions and revocations are
//! shared, a restart signs nobody out, and the migrations go down and up.

use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn two_instances_share_sessions_and_revocations() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    a.signed_in_as("editor").await;
    // The same browser (cookie jar) now talks to the other instance.
    let page = b.get_with(&a.client, "/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("editor@dealer.example"));
    // Signing out on A is seen by B on the very next request.
    let token = a.csrf_token_with(&a.client).await;
    let out = b
        .post_raw_with(&a.client, "/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(a.get("/account").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_app_restart_signs_nobody_out() {
    let a = TestApp::spawn().await;
    a.signed_in_as("viewer").await;
    let client = a.client.clone();
    let database = a.database.clone();
    drop(a);
    let b = TestApp::with(crate::helpers::Options {
        database: Some(database),
        ..Default::default()
    })
    .await;
    assert_eq!(
        b.get_with(&client, "/account").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let app = TestApp::spawn().await;
    pcn::db::migrate_down_all(&app.db_url).await.expect("down");
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        )
        .await,
        0
    );
    pcn::db::migrate(&app.db_url, None).await.expect("up");
    assert!(app.scalar_i64("SELECT count(*) AS v FROM users").await == 0);
}
