use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, location};

#[tokio::test]
async fn signed_out_page_redirects_to_login_with_next() {
    let app = TestApp::spawn().await;
    let resp = app.get("/account").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login?next=%2Faccount");
    let resp = app.get("/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");
}

#[tokio::test]
async fn sign_in_lands_on_next_with_a_hardened_cookie() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    let token = app.csrf_token_with(&app.client).await;
    let resp = app
        .post_raw(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "  Ann@Dealer.Example "),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/account");
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("pcn="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("ann@dealer.example"));
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions").await,
        1
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM users WHERE last_sign_in_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn secure_cookie_when_public_url_is_https() {
    let app = TestApp::with(
        crate::helpers::Options::default().env("PCN_PUBLIC_URL", "https://pcn.dealer.example"),
    )
    .await;
    let resp = app.get("/login").await;
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(resp.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn next_pointing_elsewhere_lands_on_the_inventory() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    for next in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let c = crate::helpers::client();
        let token = app.csrf_token_with(&c).await;
        let resp = app
            .post_raw_with(
                &c,
                "/login",
                &[
                    ("csrf_token", &token),
                    ("email", "v@dealer.example"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(&resp), "/vehicles", "next={next}");
    }
}

#[tokio::test]
async fn wrong_password_unknown_email_and_deactivated_user_get_one_answer() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    app.create_user("editor", "gone@dealer.example", PASSWORD)
        .await;
    app.exec("UPDATE users SET active = false WHERE email = 'gone@dealer.example'")
        .await;
    let mut bodies = Vec::new();
    for (email, password) in [
        ("ann@dealer.example", "not the password at all"),
        ("nobody@dealer.example", PASSWORD),
        ("gone@dealer.example", PASSWORD),
    ] {
        let resp = app.sign_in(email, password).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{email}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("The email or password is not right"));
        assert!(body.contains(&format!("value=\"{email}\"")), "email kept");
        bodies.push(body.replace(email, "EMAIL"));
    }
    // Apart from the echoed email and the token, the pages are identical.
    let strip = |b: &str| {
        b.lines()
            .filter(|l| !l.contains("csrf_token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&bodies[0]), strip(&bodies[1]));
    assert_eq!(strip(&bodies[0]), strip(&bodies[2]));
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions").await,
        0
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sign_in_attempts WHERE outcome = 'failure'")
            .await,
        3
    );
}

#[tokio::test]
async fn unknown_email_costs_about_as_much_as_a_wrong_password() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    let time = |email: &'static str| {
        let app = &app;
        async move {
            let c = crate::helpers::client();
            let token = app.csrf_token_with(&c).await;
            let start = std::time::Instant::now();
            let resp = app
                .post_raw_with(
                    &c,
                    "/login",
                    &[
                        ("csrf_token", &token),
                        ("email", email),
                        ("password", "wrong wrong wrong"),
                    ],
                )
                .await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            start.elapsed()
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        known.push(time("ann@dealer.example").await);
        unknown.push(time("nobody@dealer.example").await);
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[2].as_secs_f64(), unknown[2].as_secs_f64());
    // Both paths run one argon2 verification; without the dummy hash an
    // unknown email answers in a fraction of the time. Medians, with room
    // for a busy machine.
    assert!(u > k / 3.0 && u < k * 3.0, "known {k:.3}s unknown {u:.3}s");
}

#[tokio::test]
async fn sign_in_issues_a_new_session_cookie() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    let before = app.get("/login").await;
    let pre = before
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let resp = app.sign_in("v@dealer.example", PASSWORD).await;
    let post = resp
        .headers()
        .get("set-cookie")
        .expect("a new cookie at sign-in")
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(pre, post);
    // Signing in twice makes two distinct sessions.
    let other = crate::helpers::client();
    app.sign_in_with(&other, "v@dealer.example", PASSWORD).await;
    assert_eq!(
        app.scalar_i64("SELECT count(DISTINCT token_hash) AS v FROM sessions")
            .await,
        2
    );
}

#[tokio::test]
async fn strange_input_never_gives_a_500() {
    let app = TestApp::spawn().await;
    for email in [
        "a\u{0}b@x.example",
        &"x".repeat(10_000),
        "'; DROP TABLE users; --",
        "\u{202e}@x",
    ] {
        let r = app
            .sign_in_with(&crate::helpers::client(), email, "\u{0}password")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{email:.20}");
    }
}

#[tokio::test]
async fn signing_in_again_ends_the_browsers_previous_session() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    app.sign_in("v@dealer.example", PASSWORD).await;
    // Signed in already, the form is not shown; post to it directly.
    let token = app.csrf_token_with(&app.client).await;
    let r = app
        .post_raw(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "v@dealer.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions WHERE revoked_at IS NULL")
            .await,
        1
    );
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
}
