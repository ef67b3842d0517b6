//! The first admin: the one-time setup link creates exactly one (also
//! under parallel submissions), a wrong link is refused, bad input comes
//! back with its errors, and afterwards `/setup` is gone for good.

use reqwest::StatusCode;

use crate::helpers::{Html, TestApp, client, csrf_from, location, setup_link};

async fn submit(app: &TestApp, c: &reqwest::Client, token: &str, email: &str) -> reqwest::Response {
    let page = app.get_with(c, &format!("/setup?token={token}")).await;
    let csrf = if page.status() == StatusCode::OK {
        csrf_from(&page.text().await.unwrap())
    } else {
        app.csrf_token_with(c).await
    };
    app.post_raw_with(
        c,
        "/setup",
        &[
            ("csrf_token", &csrf),
            ("token", token),
            ("email", email),
            ("first_name", "Rosa"),
            ("last_name", "Diaz"),
            ("password", "lantern orchard pebble 9"),
        ],
    )
    .await
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let app = TestApp::spawn().await;
    let token = setup_link(&app).await;
    let r = app.get(&format!("/setup?token={token}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = submit(&app, &app.client, &token, "Rosa@Dealer.example").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/vehicles");
    // Signed in as the new admin.
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("rosa@dealer.example"));
    assert!(page.contains("Admin"));
    // Gone for good: the same link, or a new one, is 404 now.
    assert_eq!(
        app.get_with(&client(), &format!("/setup?token={token}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let again = submit(&app, &client(), &token, "other@dealer.example").await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    // Even without a form token: it is simply not there any more.
    let bare = app
        .post_raw_with(&client(), "/setup", &[("token", &token)])
        .await;
    assert_eq!(bare.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 1);
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM setup_tokens")
            .await,
        0
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused() {
    let app = TestApp::spawn().await;
    setup_link(&app).await;
    let r = app.get("/setup?token=guess").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = submit(&app, &app.client, "guess", "x@dealer.example").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 0);
}

#[tokio::test]
async fn invalid_setup_input_is_422_with_errors_beside_fields() {
    let app = TestApp::spawn().await;
    let token = setup_link(&app).await;
    let page = app.get(&format!("/setup?token={token}")).await;
    let csrf = csrf_from(&page.text().await.unwrap());
    let r = app
        .post_raw(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("email", "not-an-email"),
                ("first_name", "<b>Rosa</b>"),
                ("last_name", ""),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    let page = Html::parse(&body);
    for field in ["email", "last_name", "password"] {
        assert!(page.field_error(field).is_some(), "{field}");
    }
    assert_eq!(
        page.field("email").as_deref(),
        Some("not-an-email"),
        "input kept"
    );
    // Kept as typed, as text: escaped in the markup, not an element.
    assert_eq!(page.field("first_name").as_deref(), Some("<b>Rosa</b>"));
    assert!(!body.contains("<b>Rosa</b>"), "markup escaped");
    assert!(!page.has("form b"), "no element made of the input");
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 0);
}

#[tokio::test]
async fn parallel_setups_create_exactly_one_admin() {
    let app = TestApp::spawn().await;
    let token = setup_link(&app).await;
    // Every form first: once one setup lands, the page is gone.
    let mut forms = Vec::new();
    for _ in 0..8 {
        let c = client();
        let page = app.get_with(&c, &format!("/setup?token={token}")).await;
        forms.push((c, csrf_from(&page.text().await.unwrap())));
    }
    let mut tasks = Vec::new();
    for (i, (c, csrf)) in forms.into_iter().enumerate() {
        let url = app.url("/setup");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("token", &token),
                    ("email", &format!("admin{i}@dealer.example")),
                    ("first_name", "Rosa"),
                    ("last_name", "Diaz"),
                    ("password", "lantern orchard pebble 9"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        let s = t.await.unwrap();
        if s == StatusCode::SEE_OTHER {
            created += 1;
        } else {
            assert_eq!(s, StatusCode::NOT_FOUND);
        }
    }
    assert_eq!(created, 1);
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 1);
}

#[tokio::test]
async fn a_signed_in_post_to_setup_after_setup_is_404_with_or_without_a_form_token() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let fields = [
        ("token", "whatever"),
        ("email", "x@dealer.example"),
        ("first_name", "X"),
        ("last_name", "Y"),
        ("password", "lantern orchard pebble 9"),
    ];
    assert_eq!(
        app.post("/setup", &fields).await.status(),
        StatusCode::NOT_FOUND,
        "with the session's token"
    );
    assert_eq!(
        app.post_raw("/setup", &fields).await.status(),
        StatusCode::NOT_FOUND,
        "without a token"
    );
    let mut forged = vec![("csrf_token", "forged")];
    forged.extend_from_slice(&fields);
    assert_eq!(
        app.post_raw("/setup", &forged).await.status(),
        StatusCode::NOT_FOUND,
        "with a forged token"
    );
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 1);
}
