//! Two-step sign-in: setting it up (the key and its QR code, a first code,
//! ten recovery codes shown once), signing in with a password and then a
//! code (never a session from the password alone), wrong codes (401, then
//! 429 after five, also when sent all at once), a used code refused within
//! its window (also two at once), recovery codes used once, a pending
//! sign-in that expires and cannot be forged, turning it off, an admin's
//! reset, and `PCN_REQUIRE_ADMIN_2FA`.

use reqwest::StatusCode;

use crate::helpers::{
    Html, Options, PASSWORD, TestApp, client, code_at, code_now, csrf_from, location, next_code,
    unix_now,
};

const ANN: &str = "ann@dealer.example";

/// A viewer, Ann, signed in on a browser of her own.
async fn ann(app: &TestApp) -> (i64, reqwest::Client) {
    let id = app.create_user("viewer", ANN, PASSWORD).await;
    let c = client();
    let r = app.sign_in_with(&c, ANN, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/vehicles", "no code asked before set-up");
    (id, c)
}

/// Ann's live sessions.
async fn sessions_of(app: &TestApp, id: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT count(*) AS v FROM sessions WHERE user_id = {id} AND revoked_at IS NULL"
    ))
    .await
}

async fn audited(app: &TestApp, action: &str, id: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT count(*) AS v FROM audit_log WHERE action = '{action}' AND target_user_id = {id}"
    ))
    .await
}

/// The token of a page `c` opens.
async fn token_of(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    csrf_from(&app.get_with(c, path).await.text().await.unwrap())
}

#[tokio::test]
async fn setting_up_then_signing_in_takes_the_password_then_a_code() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;

    // The page shows the key, its QR code as a server-drawn SVG image, and
    // the same key again on the next visit.
    let html = app.get_with(&c, "/account/2fa").await.text().await.unwrap();
    let page = Html::parse(&html);
    let secret = page.one("#totp-secret").text().replace(' ', "");
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    let qr = page.one("img.qr").attr("src").unwrap();
    assert!(qr.starts_with("data:image/svg+xml;base64,"), "{qr}");
    let again = Html::parse(&app.get_with(&c, "/account/2fa").await.text().await.unwrap());
    assert_eq!(again.one("#totp-secret").text().replace(' ', ""), secret);

    // A wrong first code: 422, the error beside the field, still off.
    let token = csrf_from(&html);
    let wrong = if code_now(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = app
        .post_raw_with(
            &c,
            "/account/2fa",
            &[
                ("csrf_token", &token),
                ("action", "confirm"),
                ("code", wrong),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Html::parse(&r.text().await.unwrap())
            .field_error("code")
            .is_some()
    );
    assert_eq!(audited(&app, "second factor on", id).await, 0);

    // The right one: on, and ten recovery codes, shown this once.
    let enrolled = app.enrol_with(&c).await;
    assert_eq!(enrolled.secret, secret);
    let distinct: std::collections::BTreeSet<_> = enrolled.recovery.iter().collect();
    assert_eq!(distinct.len(), 10);
    let page = Html::parse(&app.get_with(&c, "/account/2fa").await.text().await.unwrap());
    assert!(!page.has("#recovery-codes"), "recovery codes shown twice");
    assert_eq!(page.one("#recovery-left").text(), "10 of 10");
    assert!(
        !page.has("#totp-secret"),
        "the key is shown only while setting up"
    );
    assert_eq!(audited(&app, "second factor on", id).await, 1);
    let account = Html::parse(&app.get_with(&c, "/account").await.text().await.unwrap());
    assert!(account.one("#two-factor").text().contains("On"));

    // Signing in again: the password leads to the code step, keeping `next`.
    let other = client();
    let r = app
        .post_with(
            &other,
            "/login",
            &[("email", ANN), ("password", PASSWORD), ("next", "/account")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login/code?next=%2Faccount");
    let r = app.get_with(&other, "/login/code?next=%2Faccount").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = Html::parse(&r.text().await.unwrap());
    assert_eq!(
        page.one("form[action='/login/code'] input[name=next]")
            .attr("value")
            .as_deref(),
        Some("/account")
    );
    let before = sessions_of(&app, id).await;
    let r = app
        .post_with(
            &other,
            "/login/code",
            &[("code", &next_code(&secret)), ("next", "/account")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account");
    assert_eq!(sessions_of(&app, id).await, before + 1);
    assert_eq!(
        app.get_with(&other, "/account").await.status(),
        StatusCode::OK
    );
    // Done: the code step is over for this browser.
    let r = app.get_with(&other, "/login/code").await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/vehicles")
    );
}

#[tokio::test]
async fn the_password_alone_never_makes_a_session_for_someone_with_a_second_factor() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    app.enrol_with(&c).await;
    let before = sessions_of(&app, id).await;

    let b = client();
    app.password_step(&b, ANN).await;
    assert_eq!(
        sessions_of(&app, id).await,
        before,
        "a session from the password alone"
    );
    for path in ["/account", "/vehicles", "/account/2fa"] {
        let r = app.get_with(&b, path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            location(&r).starts_with("/login"),
            "{path}: {}",
            location(&r)
        );
    }
    // The code step without a password step, in a fresh browser: sent to sign in.
    let fresh = client();
    let r = app.get_with(&fresh, "/login/code").await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let token = token_of(&app, &fresh, "/login").await;
    let r = app
        .post_raw_with(
            &fresh,
            "/login/code",
            &[("csrf_token", &token), ("code", "123456")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login");
    assert_eq!(sessions_of(&app, id).await, before);
    // Without its form token, the code step refuses before anything.
    let r = app
        .post_raw_with(&b, "/login/code", &[("code", "123456")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sign_in_attempts WHERE outcome LIKE 'code%'")
            .await,
        0
    );
}

/// The app's cookie (`pcn=…`) as the app would sign it with `key`, holding
/// a sign-in of `user_id` whose password was right `age_secs` ago.
fn pending_cookie(key: &[u8], user_id: i64, age_secs: i64) -> String {
    use actix_web::cookie::{Cookie, CookieJar, Key};
    let pending = serde_json::json!({ "user_id": user_id, "at": unix_now() as i64 - age_secs });
    let state = std::collections::HashMap::from([("pending", pending.to_string())]);
    let mut jar = CookieJar::new();
    jar.signed_mut(&Key::try_from(key).unwrap())
        .add(Cookie::new("pcn", serde_json::to_string(&state).unwrap()));
    jar.get("pcn").unwrap().encoded().to_string()
}

#[tokio::test]
async fn a_pending_sign_in_lasts_five_minutes_and_cannot_be_forged() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    app.enrol_with(&c).await;
    let key = base64::engine::general_purpose::STANDARD
        .decode(crate::helpers::SESSION_KEY)
        .unwrap();
    let code_step = async |cookie: String| {
        client()
            .get(app.url("/login/code"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap()
    };
    let r = code_step(pending_cookie(&key, id, 10)).await;
    assert_eq!(r.status(), StatusCode::OK, "a password checked 10 s ago");
    let r = code_step(pending_cookie(&key, id, 5 * 60 + 1)).await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    // Signed with another key (made up by someone without the app's): ignored.
    let mut other = key.clone();
    other[0] ^= 1;
    let r = code_step(pending_cookie(&other, id, 10)).await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
}

#[tokio::test]
async fn wrong_codes_get_401_and_five_lock_the_code_step_with_429() {
    let app = TestApp::spawn().await;
    let (_, c) = ann(&app).await;
    let enrolled = app.enrol_with(&c).await;
    let b = client();
    app.password_step(&b, ANN).await;
    for wrong in ["000000", "999999", "not a code", "", "abcde-fghjk"] {
        let wrong = if wrong == code_now(&enrolled.secret) || wrong == next_code(&enrolled.secret) {
            "123"
        } else {
            wrong
        };
        let r = app.code_step(&b, wrong).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
        let page = Html::parse(&r.text().await.unwrap());
        assert!(page.one(".flash-error").text().contains("not right"));
        assert!(page.has("form[action='/login/code']"), "the form again");
    }
    // The sixth, even the right code, is refused until the oldest is 15 minutes old.
    let r = app.code_step(&b, &next_code(&enrolled.secret)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "retry-after {retry}");
    assert!(r.text().await.unwrap().contains("Too many wrong codes"));
    // A right password does not reopen the code step.
    let d = client();
    app.password_step(&d, ANN).await;
    let r = app.code_step(&d, &next_code(&enrolled.secret)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Nor do wrong codes lock the password step: that still answers.
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM sign_in_attempts WHERE outcome IN ('failure', 'pending')"
        )
        .await,
        0
    );
    // The activity page shows who is locked out of the code step.
    let admin = client();
    app.create_user("admin", "root@dealer.example", PASSWORD)
        .await;
    app.sign_in_with(&admin, "root@dealer.example", PASSWORD)
        .await;
    let page = Html::parse(
        &app.get_with(&admin, "/admin/activity")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        page.one("#locked")
            .text()
            .contains(&format!("codes of {ANN}")),
        "{}",
        page.one("#locked").text()
    );
    // Once the oldest wrong code is 15 minutes old, a code is taken again.
    app.exec(
        "UPDATE sign_in_attempts SET attempted_at = attempted_at - interval '15 minutes' \
         WHERE id = (SELECT min(id) FROM sign_in_attempts WHERE outcome = 'code_failure')",
    )
    .await;
    let r = app.code_step(&d, &next_code(&enrolled.secret)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn twenty_wrong_codes_at_once_still_lock_after_five() {
    let app = TestApp::spawn().await;
    let (_, c) = ann(&app).await;
    app.enrol_with(&c).await;
    let b = client();
    app.password_step(&b, ANN).await;
    let token = token_of(&app, &b, "/login/code").await;
    let url = app.url("/login/code");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (b, url, token) = (b.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                crate::helpers::send_form(
                    &b,
                    &url,
                    &[("csrf_token", token.as_str()), ("code", "1234")],
                )
                .await
                .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((refused, throttled), (5, 15), "{statuses:?}");
}

#[tokio::test]
async fn a_used_code_is_refused_within_its_window_even_sent_twice_at_once() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    let enrolled = app.enrol_with(&c).await;
    // The code that turned it on is used: it does not sign in.
    let b = client();
    app.password_step(&b, ANN).await;
    let first = code_now(&enrolled.secret);
    let r = app.code_step(&b, &first).await;
    // (Unless the clock moved on to a step whose code happens to be the same.)
    if first != next_code(&enrolled.secret) {
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "the set-up code again"
        );
    }
    // A newer code signs in once; the same code again, in another browser, does not.
    let code = next_code(&enrolled.secret);
    assert_eq!(
        app.code_step(&b, &code).await.status(),
        StatusCode::SEE_OTHER
    );
    let d = client();
    app.password_step(&d, ANN).await;
    assert_eq!(
        app.code_step(&d, &code).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Nor does an older one.
    let older = code_at(&enrolled.secret, unix_now() - 30);
    if older != code {
        assert_eq!(
            app.code_step(&d, &older).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    // Two browsers send one fresh code at the same moment: one session.
    app.exec(&format!(
        "UPDATE user_totp SET last_used_step = 0 WHERE user_id = {id}"
    ))
    .await;
    let before = sessions_of(&app, id).await;
    let code = next_code(&enrolled.secret);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let b = client();
        app.password_step(&b, ANN).await;
        let token = token_of(&app, &b, "/login/code").await;
        let url = app.url("/login/code");
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            crate::helpers::send_form(&b, &url, &[("csrf_token", token.as_str()), ("code", &code)])
                .await
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNAUTHORIZED]);
    assert_eq!(sessions_of(&app, id).await, before + 1);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    let enrolled = app.enrol_with(&c).await;
    let code = &enrolled.recovery[3];
    let b = client();
    app.password_step(&b, ANN).await;
    // Typed as people do: upper case, spaces for the dash.
    let typed = code.to_uppercase().replace('-', " ");
    let r = app.code_step(&b, &typed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = Html::parse(&app.get_with(&b, "/vehicles").await.text().await.unwrap());
    assert!(page.one(".flash-info").text().contains("9 left"));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM recovery_codes WHERE user_id = {id} AND used_at IS NULL"
        ))
        .await,
        9
    );
    let d = client();
    app.password_step(&d, ANN).await;
    assert_eq!(
        app.code_step(&d, code).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Another one still works.
    assert_eq!(
        app.code_step(&d, &enrolled.recovery[4]).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = Html::parse(&app.get_with(&d, "/account/2fa").await.text().await.unwrap());
    assert_eq!(page.one("#recovery-left").text(), "8 of 10");
}

#[tokio::test]
async fn turning_it_off_takes_the_password_or_a_code() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    app.enrol_with(&c).await;
    let remove = async |fields: &[(&str, &str)]| {
        let token = token_of(&app, &c, "/account/2fa").await;
        let mut all = vec![("csrf_token", token.as_str()), ("action", "remove")];
        all.extend_from_slice(fields);
        app.post_raw_with(&c, "/account/2fa", &all).await
    };
    // Nothing, a wrong password, a wrong code: 422, still on.
    for (fields, field) in [
        (vec![], "current_password"),
        (
            vec![("current_password", "not my password at all")],
            "current_password",
        ),
        (vec![("code", "12")], "code"),
    ] {
        let r = remove(&fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = Html::parse(&r.text().await.unwrap());
        assert!(
            page.field_error(field).is_some(),
            "{fields:?}: no error at {field}"
        );
    }
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM user_totp WHERE user_id = {id}"
        ))
        .await,
        1
    );
    let r = remove(&[("current_password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app, "second factor off", id).await, 1);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM recovery_codes WHERE user_id = {id}"
        ))
        .await,
        0
    );
    // The password alone signs in again, and the page offers a new set-up.
    let r = app.sign_in_with(&client(), ANN, PASSWORD).await;
    assert_eq!(location(&r), "/vehicles");
    let page = Html::parse(&app.get_with(&c, "/account/2fa").await.text().await.unwrap());
    assert!(page.has("#totp-secret"));

    // With a code from the app, too.
    let enrolled = app.enrol_with(&c).await;
    let r = remove(&[("code", &next_code(&enrolled.secret))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app, "second factor off", id).await, 2);
}

#[tokio::test]
async fn an_admins_reset_takes_the_factor_away_and_ends_the_sessions() {
    let app = TestApp::spawn().await;
    let (id, c) = ann(&app).await;
    app.enrol_with(&c).await;
    let admin_id = app.signed_in_as("admin").await;
    let page = Html::parse(
        &app.get(&format!("/admin/users/{id}/edit"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(page.one("#two-factor").text().contains("On"));
    let action = format!("/admin/users/{id}/2fa/reset");
    assert!(page.has(&format!("form[action='{action}']")));

    let r = app.post(&action, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/admin/users/{id}/edit"));
    let page = Html::parse(&app.get(&location(&r)).await.text().await.unwrap());
    assert!(
        page.one(".flash-success").text().contains("reset"),
        "{}",
        page.one(".flash").text()
    );
    assert!(page.one("#two-factor").text().contains("Off"));
    assert!(page.one(".timeline").text().contains("second factor reset"));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM audit_log WHERE action = 'second factor reset' \
             AND actor_id = {admin_id} AND target_user_id = {id}"
        ))
        .await,
        1
    );
    // Ann's session ended; she signs in with her password alone.
    assert_eq!(sessions_of(&app, id).await, 0);
    let r = app.get_with(&c, "/account").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.sign_in_with(&client(), ANN, PASSWORD).await;
    assert_eq!(location(&r), "/vehicles");
    // A second reset has nothing to do and ends nothing.
    let r = app.post(&action, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(sessions_of(&app, id).await, 1);
    assert_eq!(audited(&app, "second factor reset", id).await, 1);
}

#[tokio::test]
async fn admins_without_a_second_factor_set_one_up_first_when_required() {
    let app = TestApp::with(Options::default().env("PCN_REQUIRE_ADMIN_2FA", "1")).await;
    app.create_user("admin", "root@dealer.example", PASSWORD)
        .await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    let admin = client();
    let r = app
        .sign_in_with(&admin, "root@dealer.example", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in ["/vehicles", "/admin/users", "/account", "/sales", "/login"] {
        let r = app.get_with(&admin, path).await;
        assert_eq!(
            (r.status(), location(&r).as_str()),
            (StatusCode::SEE_OTHER, "/account/2fa"),
            "{path}"
        );
    }
    let token = token_of(&app, &admin, "/account/2fa").await;
    let r = app
        .post_raw_with(
            &admin,
            "/admin/users/1/sessions/revoke",
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(location(&r), "/account/2fa", "a POST too");
    let page = Html::parse(
        &app.get_with(&admin, "/account/2fa")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(page.has("#two-factor-required"));
    assert_eq!(
        app.get_with(&admin, "/healthz").await.status(),
        StatusCode::OK
    );
    let css = page.one("link[rel=stylesheet]").attr("href").unwrap();
    assert_eq!(app.get_with(&admin, &css).await.status(), StatusCode::OK);
    // Signing out is let through.
    let other = client();
    app.sign_in_with(&other, "root@dealer.example", PASSWORD)
        .await;
    let token = token_of(&app, &other, "/account/2fa").await;
    let r = app
        .post_raw_with(&other, "/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(location(&r), "/login");
    // Others are not asked.
    let ed = client();
    app.sign_in_with(&ed, "ed@dealer.example", PASSWORD).await;
    assert_eq!(
        app.get_with(&ed, "/vehicles").await.status(),
        StatusCode::OK
    );

    // Set up, the admin goes anywhere.
    let enrolled = app.enrol_with(&admin).await;
    assert_eq!(
        app.get_with(&admin, "/vehicles").await.status(),
        StatusCode::OK
    );
    // Signing out is always possible, and the next sign-in asks for a code.
    let token = token_of(&app, &admin, "/account").await;
    let r = app
        .post_raw_with(&admin, "/logout", &[("csrf_token", &token)])
        .await;
    assert_eq!(location(&r), "/login");
    app.password_step(&admin, "root@dealer.example").await;
    let r = app.code_step(&admin, &next_code(&enrolled.secret)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with(&admin, "/admin/users").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_left_unconfirmed_for_half_an_hour_is_replaced() {
    let app = TestApp::spawn().await;
    let id = app.signed_in_as("editor").await;
    let key = async || {
        let page = app.get("/account/2fa").await;
        assert_eq!(page.status(), StatusCode::OK);
        crate::helpers::Html::parse(&page.text().await.unwrap())
            .one("#totp-secret")
            .text()
    };
    let first = key().await;
    assert_eq!(key().await, first, "the same key while it is being set up");
    app.exec(&format!(
        "UPDATE user_totp SET created_at = now() - interval '31 minutes' WHERE user_id = {id}"
    ))
    .await;
    assert_ne!(key().await, first, "a glimpsed key does not stay");
}
