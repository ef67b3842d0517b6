//! Invitations and resets by link (issue #12 §2): no admin ever needs to
//! know a staff password. One use, 72 hours, stored hashed.

use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, location};

const NEW_PASSWORD: &str = "copper lantern orchard 77";

/// An admin adds Nora with an empty password; answers the link PCN shows.
pub async fn invite_nora(app: &TestApp) -> (i64, String) {
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "nora@dealer.example"),
                ("first_name", "Nora"),
                ("last_name", "Quist"),
                ("role", "editor"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let at = location(&r);
    let id: i64 = at
        .trim_start_matches("/admin/users/")
        .trim_end_matches("/edit")
        .parse()
        .expect("the new user's page");
    let html = Html::parse(&r.text().await.unwrap());
    let link = html.one("#invite-link").attr("value").expect("the link");
    (id, link)
}

pub fn path_of(link: &str) -> String {
    let at = link.find("/invite/").expect("an invitation path");
    link[at..].to_string()
}

/// POSTs the password form of `path` as a fresh, signed-out browser would.
async fn choose(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    password: &str,
) -> reqwest::Response {
    let token = app.csrf_token_with(browser).await;
    app.post_raw_with(
        browser,
        path,
        &[("csrf_token", &token), ("password", password)],
    )
    .await
}

#[tokio::test]
async fn an_invited_person_chooses_their_own_password_once() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let (id, link) = invite_nora(&app).await;
    assert!(link.starts_with(&app.state.config.public_url), "{link}");
    let path = path_of(&link);
    // Only a fingerprint is stored, never the token.
    let token = path.trim_start_matches("/invite/");
    let stored = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM invitations WHERE user_id = {id} \
             AND token_hash = sha256('{token}'::bytea)"
        ))
        .await;
    assert_eq!(stored, 1);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM users WHERE id = {id} AND password_hash LIKE '%{token}%'"
        ))
        .await,
        0
    );

    let nora = client();
    // No password yet: nothing signs her in.
    let r = app.sign_in_with(&nora, "nora@dealer.example", "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = app.get_with(&nora, &path).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("nora@dealer.example"));

    // A weak password is refused beside its field, and nothing changes.
    let r = choose(&app, &nora, &path, "password").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Html::parse(&r.text().await.unwrap())
            .field_error("password")
            .is_some()
    );
    // A form without its token is refused.
    let r = app
        .post_raw_with(&nora, &path, &[("password", NEW_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = choose(&app, &nora, &path, NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    let r = app
        .sign_in_with(&nora, "nora@dealer.example", NEW_PASSWORD)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "signed in with her own password"
    );

    // Used: the link is gone, for GET and POST alike.
    let other = client();
    assert_eq!(
        app.get_with(&other, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = choose(&app, &other, &path, "someone else entirely 99").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .sign_in_with(&other, "nora@dealer.example", NEW_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "her password still hers");
}

#[tokio::test]
async fn a_reset_link_ends_the_old_password_and_every_session() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let vic = app.second_user("viewer").await;
    let vic_id = app
        .scalar_i64("SELECT id AS v FROM users WHERE email = 'bob.viewer@dealer.example'")
        .await;
    assert_eq!(
        app.get_with(&vic, "/vehicles").await.status(),
        StatusCode::OK
    );

    let r = app
        .post(
            &format!("/admin/users/{vic_id}/password"),
            &[("password", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = Html::parse(&r.text().await.unwrap());
    let path = path_of(&html.one("#invite-link").attr("value").unwrap());

    // Signed out at once, and the old password no longer works.
    assert_eq!(
        app.get_with(&vic, "/vehicles").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = app
        .sign_in_with(&client(), "bob.viewer@dealer.example", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The user's page says a link is open.
    let page = app.get(&format!("/admin/users/{vic_id}/edit")).await;
    assert!(Html::parse(&page.text().await.unwrap()).has("#open-link"));

    // A second reset replaces the first link.
    let r = app
        .post(
            &format!("/admin/users/{vic_id}/password"),
            &[("password", "")],
        )
        .await;
    let newer = path_of(
        &Html::parse(&r.text().await.unwrap())
            .one("#invite-link")
            .attr("value")
            .unwrap(),
    );
    assert_ne!(newer, path);
    assert_eq!(
        app.get_with(&client(), &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let browser = client();
    let r = choose(&app, &browser, &newer, NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .sign_in_with(&browser, "bob.viewer@dealer.example", NEW_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let audited = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM audit_log WHERE target_user_id = {vic_id} \
             AND action IN ('password reset by link', 'password set by link')"
        ))
        .await;
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let (id, link) = invite_nora(&app).await;
    app.exec(&format!(
        "UPDATE invitations SET created_at = now() - interval '73 hours', \
         expires_at = now() - interval '1 hour' WHERE user_id = {id}"
    ))
    .await;
    let path = path_of(&link);
    let browser = client();
    assert_eq!(
        app.get_with(&browser, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = choose(&app, &browser, &path, NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT password_hash AS v FROM users WHERE id = {id}"
        ))
        .await,
        pcn::models::invitations::NO_PASSWORD_YET
    );
}

#[tokio::test]
async fn one_link_used_twice_at_once_sets_one_password() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let (_, link) = invite_nora(&app).await;
    let path = path_of(&link);
    let tries = (0..8).map(|i| {
        let (app, path) = (&app, &path);
        async move {
            let browser = client();
            let password = format!("{NEW_PASSWORD} try {i}");
            (
                choose(app, &browser, path, &password).await.status(),
                password,
            )
        }
    });
    let results = futures_util::future::join_all(tries).await;
    let won: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            // The others find the link used; when their failures arrive
            // before the last tries start, those are throttled (one address).
            .all(|(s, _)| [
                StatusCode::SEE_OTHER,
                StatusCode::NOT_FOUND,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(s)),
        "{results:?}"
    );
    let r = app
        .sign_in_with(&client(), "nora@dealer.example", &won[0].1)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the winner's password holds"
    );
}

#[tokio::test]
async fn guessing_links_is_throttled_per_address() {
    let app = TestApp::spawn().await;
    let browser = client();
    for i in 0..20 {
        let r = app
            .get_with(&browser, &format!("/invite/not-a-real-link-{i}"))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = app.get_with(&browser, "/invite/not-a-real-link-21").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_link_that_is_not_even_text_is_just_not_valid() {
    let app = TestApp::spawn().await;
    for path in ["/invite/%00abc", "/invite/%F4%8A%A8%A4", "/invite/a%20b"] {
        let r = app.get_with(&client(), path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let browser = client();
    let token = app.csrf_token_with(&browser).await;
    let r = app
        .post_raw_with(
            &browser,
            "/invite/%00abc",
            &[("csrf_token", &token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
