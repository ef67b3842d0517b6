//! No lost deals (issue #13 §3): a form sent after the idle timeout is kept
//! on the server for its person; the sign-in page says why they were signed
//! out, and after signing in again, as the same person, the form comes back
//! as typed, once, ready to send. Nothing of it is in a URL; a form without
//! the ended session's own CSRF token keeps nothing; another person gets
//! nothing; the database lets nobody but its person read it (`database`).

mod database;

use reqwest::StatusCode;

use crate::helpers::{
    Html, PASSWORD, TestApp, add_vehicle, client, csrf_from, edit_form_from, location, refs, with,
};

/// What the sign-in page says after the idle timeout.
const IDLE: &str = "You were signed out after 30 minutes idle.";

/// Makes every open session idle past the 30-minute timeout.
async fn go_idle(app: &TestApp) {
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'")
        .await;
}

/// The form token of the page at `path`, as `c` sees it.
async fn token_of(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let page = app.get_with(c, path).await;
    assert_eq!(page.status(), StatusCode::OK, "GET {path}");
    csrf_from(&page.text().await.unwrap())
}

/// POSTs `fields` with `token` from `c`.
async fn send(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf_token", token)];
    all.extend_from_slice(fields);
    app.post_raw_with(c, path, &all).await
}

/// Opens the sign-in page `login` (where a signed-out form led), and signs
/// in there as `email`; returns the page's text and where sign-in leads.
async fn sign_in_at(
    app: &TestApp,
    c: &reqwest::Client,
    login: &str,
    email: &str,
) -> (String, String) {
    let page = app.get_with(c, login).await;
    assert_eq!(page.status(), StatusCode::OK, "GET {login}");
    let html = page.text().await.unwrap();
    let doc = Html::parse(&html);
    let next = doc.field("next").unwrap_or_default();
    let r = send(
        app,
        c,
        "/login",
        &csrf_from(&html),
        &[("email", email), ("password", PASSWORD), ("next", &next)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in as {email}");
    (doc.text(), location(&r))
}

fn typed_sale(today: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sale_price", "20,250.00".into()),
        ("sold_on", today.to_string()),
        ("customer_name", "Fox Mulder".into()),
        ("customer_email", "fox@example.com".into()),
        ("customer_phone", "+1 555 0199".into()),
        ("payment_method", "card".into()),
        (
            "notes",
            "Trade-in discussed; spare key in the office.".into(),
        ),
        ("version", "1".into()),
    ]
}

/// With this app's client signed in as an editor: a new vehicle's sale
/// form opened, `typed_sale` typed, the session left idle past the timeout,
/// and the form sent. The vehicle's id, its sale form's path, and where the
/// answer led (the sign-in page).
async fn sale_sent_after_idle(app: &TestApp, stock: &str) -> (i64, String, String) {
    let id = add_vehicle(app, stock).await;
    let sell = format!("/vehicles/{id}/sell");
    let token = token_of(app, &app.client, &sell).await;
    let today = chrono::Utc::now().date_naive().to_string();
    go_idle(app).await;
    let r = send(app, &app.client, &sell, &token, &refs(&typed_sale(&today))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    (id, sell, location(&r))
}

pub(crate) async fn count(app: &TestApp, sql: &str) -> i64 {
    app.scalar_i64(&format!("SELECT count(*) AS v FROM {sql}"))
        .await
}

#[tokio::test]
async fn a_sale_sent_after_the_idle_timeout_comes_back_after_signing_in_and_is_recorded() {
    let app = TestApp::spawn().await;
    let editor = app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "KEEP-1").await;
    let sell = format!("/vehicles/{id}/sell");
    let token = token_of(&app, &app.client, &sell).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let typed = typed_sale(&today);

    // The salesperson talks to the customer for 31 minutes, then sends.
    go_idle(&app).await;
    let r = send(&app, &app.client, &sell, &token, &refs(&typed)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let login = location(&r);
    assert_eq!(login, format!("/login?next=%2Fvehicles%2F{id}%2Fsell"));
    for (_, value) in &typed {
        let encoded = serde_urlencoded::to_string([("x", value)]).unwrap();
        assert!(
            !login.contains(&encoded[2..]) || value.len() < 3,
            "nothing typed is in the URL: {login}"
        );
    }
    assert_eq!(count(&app, "sales").await, 0, "nothing was recorded");
    assert_eq!(
        count(&app, &format!("kept_forms WHERE user_id = {editor}")).await,
        1
    );

    // The sign-in page says why; signing in leads back to the form.
    let (said, next) = sign_in_at(&app, &app.client, &login, "editor@dealer.example").await;
    assert!(said.contains(IDLE), "{said}");
    assert!(said.contains("your form comes back"), "{said}");
    assert_eq!(next, sell);

    // The form as typed, on a new token, with the version it was made from.
    let page = app.get(&sell).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let doc = Html::parse(&html);
    let form = doc.one("form.sale-form");
    let sent = form.form_fields();
    for (name, value) in &typed {
        assert!(
            sent.iter().any(|(k, v)| k == name && v == value),
            "{name} comes back as typed ({value:?}); the form sends {sent:?}"
        );
    }
    assert_ne!(csrf_from(&html), token, "a new session, a new token");
    assert!(doc.text().contains("as you typed it"), "the page says so");

    // Once: opening the form again shows the usual form.
    let again = Html::parse(&app.get(&sell).await.text().await.unwrap());
    assert_eq!(again.field("customer_name").as_deref(), Some(""));
    assert_eq!(again.field("sale_price").as_deref(), Some("21500.00"));

    // Sent as it came back, the sale is recorded.
    let fields: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_raw(&sell, &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the kept form sends");
    assert!(location(&r).starts_with("/sales/"));
    assert_eq!(
        app.scalar_text(
            "SELECT customer_name || ' ' || sale_price_cents || ' ' || payment_method || ' ' \
             || salesperson_id AS v FROM sales"
        )
        .await,
        format!("Fox Mulder 2025000 card {editor}")
    );
}

#[tokio::test]
async fn another_person_signing_in_on_that_browser_gets_nothing() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    app.create_user("editor", "bob@dealer.example", PASSWORD)
        .await;
    let (_, sell, login) = sale_sent_after_idle(&app, "KEEP-2").await;
    assert_eq!(count(&app, "kept_forms").await, 1);

    // Bob signs in on the same browser and opens the same form.
    let (_, next) = sign_in_at(&app, &app.client, &login, "bob@dealer.example").await;
    assert_eq!(next, sell);
    let page = app.get(&sell).await.text().await.unwrap();
    assert!(!page.contains("Fox Mulder"), "Bob does not see it");
    assert_eq!(
        Html::parse(&page).field("sale_price").as_deref(),
        Some("21500.00")
    );
    assert_eq!(
        count(&app, "kept_forms WHERE used_at IS NULL").await,
        1,
        "not used up by Bob"
    );
}

#[tokio::test]
async fn no_form_is_kept_without_the_ended_sessions_own_token() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    let setup = client();
    app.sign_in_with(&setup, "ed@dealer.example", PASSWORD)
        .await;
    let id = {
        let r = app
            .post_with(
                &setup,
                "/vehicles",
                &refs(&crate::helpers::vehicle_form("KEEP-3")),
            )
            .await;
        location(&r)
            .rsplit('/')
            .next()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    let sell = format!("/vehicles/{id}/sell");
    let today = chrono::Utc::now().date_naive().to_string();
    let typed = typed_sale(&today);
    // A real token of another session of the same person, a made-up one,
    // none, and the right one from another site.
    let other = token_of(&app, &setup, &sell).await;
    let cases: [(&str, Option<String>, bool); 4] = [
        ("another session's token", Some(other), false),
        ("a forged token", Some("forged".into()), false),
        ("no token", None, false),
        ("its own token, sent from another site", None, true),
    ];
    for (what, token, cross_site) in cases {
        let c = client();
        app.sign_in_with(&c, "ed@dealer.example", PASSWORD).await;
        let own = token_of(&app, &c, &sell).await;
        app.exec(
            "UPDATE sessions SET last_seen_at = now() - interval '31 minutes' \
                  WHERE id = (SELECT max(id) FROM sessions)",
        )
        .await;
        let token = if cross_site { Some(own) } else { token };
        let mut fields: Vec<(&str, &str)> =
            token.iter().map(|t| ("csrf_token", t.as_str())).collect();
        fields.extend(refs(&typed));
        let mut request = c
            .post(app.url(&sell))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&fields).unwrap());
        if cross_site {
            request = request.header("sec-fetch-site", "cross-site");
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{what}");
        assert_eq!(
            location(&r),
            format!("/login?next=%2Fvehicles%2F{id}%2Fsell"),
            "{what}"
        );
        assert_eq!(count(&app, "kept_forms").await, 0, "{what}: nothing kept");
        // Still told why they were signed out, without a promise.
        let said = Html::parse(&app.get_with(&c, "/login").await.text().await.unwrap()).text();
        assert!(said.contains(IDLE), "{what}: {said}");
        assert!(!said.contains("your form comes back"), "{what}: {said}");
    }
    assert_eq!(count(&app, "sales").await, 0);
}

#[tokio::test]
async fn the_sign_in_page_says_why_the_session_ended_and_only_then() {
    let app = TestApp::spawn().await;
    // Never signed in: no word about signing out.
    let fresh = app.get("/login").await.text().await.unwrap();
    assert!(!fresh.contains("signed out"), "{fresh}");

    // Ended by an admin: said so, and no form kept even with its token.
    let id = app.signed_in_as("editor").await;
    let token = token_of(&app, &app.client, "/vehicles/new").await;
    app.exec(&format!(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = {id}"
    ))
    .await;
    let r = send(
        &app,
        &app.client,
        "/vehicles",
        &token,
        &refs(&crate::helpers::vehicle_form("KEEP-4")),
    )
    .await;
    assert_eq!(
        location(&r),
        "/login",
        "(its `next`, /vehicles, is where sign-in leads anyway)"
    );
    let said = Html::parse(&app.get("/login").await.text().await.unwrap()).text();
    assert!(said.contains("your session was ended"), "{said}");
    assert!(!said.contains("idle"), "{said}");
    assert_eq!(count(&app, "kept_forms").await, 0);
    // Said once: the next visit is plain again.
    let later = app.get("/login").await.text().await.unwrap();
    assert!(!later.contains("signed out"));

    // Past the absolute lifetime, however active.
    app.sign_in("editor@dealer.example", PASSWORD).await;
    app.exec(&format!(
        "UPDATE sessions SET created_at = now() - interval '13 hours' \
         WHERE user_id = {id} AND revoked_at IS NULL"
    ))
    .await;
    assert_eq!(
        location(&app.get("/account").await),
        "/login?next=%2Faccount"
    );
    let said = Html::parse(&app.get("/login").await.text().await.unwrap()).text();
    assert!(said.contains("a sign-in lasts at most 12 hours"), "{said}");
}

#[tokio::test]
async fn a_vehicle_edit_sent_after_the_idle_timeout_comes_back_and_merges_with_changes_made_meanwhile()
 {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "KEEP-5").await;
    let edit = format!("/vehicles/{id}/edit");
    let html = app.get(&edit).await.text().await.unwrap();
    let token = csrf_from(&html);
    let mine = with(edit_form_from(&html), "list_price", "20,999.00");
    go_idle(&app).await;
    let r = send(
        &app,
        &app.client,
        &format!("/vehicles/{id}"),
        &token,
        &refs(&mine),
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/login?next=%2Fvehicles%2F{id}%2Fedit")
    );

    // Meanwhile a colleague changes the colour (version 2).
    let bob = app.second_user("editor").await;
    let theirs = with(
        crate::helpers::edit_form(&app, &bob, id).await,
        "color",
        "Red",
    );
    let saved = app
        .post_with(&bob, &format!("/vehicles/{id}"), &refs(&theirs))
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    let (_, next) = sign_in_at(&app, &app.client, &location(&r), "editor@dealer.example").await;
    assert_eq!(next, edit);
    let back = edit_form_from(&app.get(&edit).await.text().await.unwrap());
    assert_eq!(
        back, mine,
        "the edit as typed, on the version it was made from"
    );
    let r = app.post(&format!("/vehicles/{id}"), &refs(&back)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "merged, as any stale edit"
    );
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT color || ' ' || list_price_cents || ' v' || version AS v FROM vehicles WHERE id = {id}"
        ))
        .await,
        "Red 2099900 v3"
    );
}

#[tokio::test]
async fn user_forms_come_back_without_their_password() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let vic = app
        .create_user("viewer", "vic@dealer.example", PASSWORD)
        .await;

    // A new user, with a password typed.
    let token = token_of(&app, &app.client, "/admin/users/new").await;
    go_idle(&app).await;
    let new_user = [
        ("email", "nina@dealer.example"),
        ("first_name", "Nina"),
        ("last_name", "Okoro"),
        ("role", "editor"),
        ("password", "harbour thistle lantern 58"),
    ];
    let r = send(&app, &app.client, "/admin/users", &token, &new_user).await;
    assert_eq!(location(&r), "/login?next=%2Fadmin%2Fusers%2Fnew");
    assert_eq!(count(&app, "kept_forms").await, 1);
    assert_eq!(
        count(
            &app,
            "kept_forms WHERE fields::text LIKE '%thistle%' OR fields::text LIKE '%csrf%'"
        )
        .await,
        0,
        "neither the password nor the token is kept"
    );
    let (_, next) = sign_in_at(&app, &app.client, &location(&r), "admin@dealer.example").await;
    assert_eq!(next, "/admin/users/new");
    let page = Html::parse(&app.get("/admin/users/new").await.text().await.unwrap());
    assert_eq!(page.field("email").as_deref(), Some("nina@dealer.example"));
    assert_eq!(page.field("last_name").as_deref(), Some("Okoro"));
    assert_eq!(page.field("role").as_deref(), Some("editor"));
    assert_eq!(page.field("password").as_deref(), Some(""));

    // A change to a user.
    let edit = format!("/admin/users/{vic}/edit");
    let token = token_of(&app, &app.client, &edit).await;
    go_idle(&app).await;
    let change = [
        ("first_name", "Victoria"),
        ("last_name", "viewer"),
        ("role", "editor"),
        ("active", "on"),
    ];
    let r = send(
        &app,
        &app.client,
        &format!("/admin/users/{vic}"),
        &token,
        &change,
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/login?next=%2Fadmin%2Fusers%2F{vic}%2Fedit")
    );
    let (_, next) = sign_in_at(&app, &app.client, &location(&r), "admin@dealer.example").await;
    assert_eq!(next, edit);
    let page = Html::parse(&app.get(&edit).await.text().await.unwrap());
    assert_eq!(page.field("first_name").as_deref(), Some("Victoria"));
    assert_eq!(page.field("role").as_deref(), Some("editor"));
    // Not saved until sent.
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT first_name AS v FROM users WHERE id = {vic}"
        ))
        .await,
        "Test"
    );
}

#[tokio::test]
async fn a_kept_form_is_given_back_within_the_hour_only() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let (_, sell, login) = sale_sent_after_idle(&app, "KEEP-6").await;
    assert_eq!(
        count(&app, "kept_forms WHERE expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '1 hour'").await,
        1,
        "kept for an hour"
    );
    app.exec("UPDATE kept_forms SET expires_at = now() - interval '1 second'")
        .await;
    let (said, next) = sign_in_at(&app, &app.client, &login, "editor@dealer.example").await;
    assert!(said.contains(IDLE));
    assert_eq!(next, sell);
    let page = app.get(&sell).await.text().await.unwrap();
    assert!(!page.contains("Fox Mulder"), "expired: not given back");
    assert!(!page.contains("as you typed it"));
}

#[tokio::test]
async fn a_kept_sale_of_a_vehicle_changed_meanwhile_gets_the_usual_conflict() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let (id, sell, login) = sale_sent_after_idle(&app, "KEEP-7").await;
    // A colleague reprices the vehicle meanwhile (version 2).
    let bob = app.second_user("editor").await;
    let repriced = with(
        crate::helpers::edit_form(&app, &bob, id).await,
        "list_price",
        "22,500.00",
    );
    let saved = app
        .post_with(&bob, &format!("/vehicles/{id}"), &refs(&repriced))
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    sign_in_at(&app, &app.client, &login, "editor@dealer.example").await;
    let html = app.get(&sell).await.text().await.unwrap();
    let back = Html::parse(&html).one("form.sale-form").form_fields();
    assert!(back.contains(&("version".into(), "1".into())), "{back:?}");
    let fields: Vec<(&str, &str)> = back.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_raw(&sell, &fields).await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "sold only on the version it saw"
    );
    let page = Html::parse(&r.text().await.unwrap());
    assert_eq!(page.field("version").as_deref(), Some("2"));
    assert_eq!(page.field("customer_name").as_deref(), Some("Fox Mulder"));
    assert_eq!(count(&app, "sales").await, 0);
}
