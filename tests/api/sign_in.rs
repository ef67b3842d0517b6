//! Signing in: where it lands (`next`, only local paths), the cookie it
//! sets, one answer for every kind of failure (and about the same cost), a
//! new session id at every sign-in, and the browser's previous session
//! revoked when it signs in again.

use std::time::Instant;

use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, location, session_cookie};

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
async fn the_secure_session_cookie_follows_the_host_prefix_rules() {
    let app = TestApp::with(
        crate::helpers::Options::default().env("PCN_PUBLIC_URL", "https://pcn.dealer.example"),
    )
    .await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    // A client keeps a `Secure` cookie for https only: carry it by hand.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = bare.get(app.url("/login")).send().await.unwrap();
    let set = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.starts_with("__Host-pcn="), "{set}");
    assert!(set.contains("; Path=/"), "{set}");
    assert!(set.contains("Secure"), "{set}");
    assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
    // And PCN reads it back under that name: sign in, then a page.
    let cookie = session_cookie(&form).expect("a cookie for the form");
    let token = crate::helpers::csrf_from(&form.text().await.unwrap());
    let r = bare
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!(
            "csrf_token={token}&email=v%40dealer.example&password={}",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let signed_in = session_cookie(&r).expect("a new cookie at sign-in");
    assert!(signed_in.starts_with("__Host-pcn="), "{signed_in}");
    let page = bare
        .get(app.url("/account"))
        .header("cookie", &signed_in)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
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
        let c = client();
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
        assert_eq!(
            Html::parse(&body).field("email").as_deref(),
            Some(email),
            "email kept"
        );
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

fn median(samples: &[f64]) -> f64 {
    quantile(samples, 0.5)
}

/// The `q` quantile of `samples` (linear between the two nearest).
fn quantile(samples: &[f64], q: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let at = q * (s.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (at - lo as f64)
}

#[tokio::test]
async fn unknown_email_costs_about_as_much_as_a_wrong_password() {
    use rand::seq::SliceRandom as _;
    const KNOWN: &str = "ann@dealer.example";
    const UNKNOWN: &str = "nobody@dealer.example";
    const ROUNDS: usize = 15;
    let app = TestApp::spawn().await;
    app.create_user("editor", KNOWN, PASSWORD).await;
    let c = client();
    let token = app.csrf_token_with(&c).await;
    let time = async |email: &str| {
        let start = Instant::now();
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
        let took = start.elapsed().as_secs_f64();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{email}");
        took
    };
    // Untimed, to warm up both paths.
    time(KNOWN).await;
    time(UNKNOWN).await;
    // The known path twice per round, the unknown once, in a random order,
    // so that whatever else loads the machine falls on all three alike.
    let (mut known, mut again, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    let mut order = [0, 1, 2];
    for _ in 0..ROUNDS {
        // Five failures lock an email: every round starts afresh.
        app.exec("DELETE FROM sign_in_attempts").await;
        order.shuffle(&mut rand::rng());
        for which in order {
            match which {
                0 => known.push(time(KNOWN).await),
                1 => again.push(time(KNOWN).await),
                _ => unknown.push(time(UNKNOWN).await),
            }
        }
    }
    // Both paths run one argon2 verification; without the dummy hash an
    // unknown email answers in a fraction of the time. The medians may
    // differ by no more than the known path differs from itself in this
    // run: the spread of its times (interquartile range) or the gap between
    // its two series' medians, with a floor of a fifth of its median for a
    // quiet machine and a ceiling of half of it, so that a path skipping
    // argon2 fails however loaded the machine is.
    let all_known: Vec<f64> = known.iter().chain(&again).copied().collect();
    let (k, u) = (median(&all_known), median(&unknown));
    let spread = quantile(&all_known, 0.75) - quantile(&all_known, 0.25);
    let self_gap = (median(&known) - median(&again)).abs();
    let band = spread.max(self_gap).max(k / 5.0).min(k / 2.0);
    let ms = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{:.0}", s * 1e3))
            .collect::<Vec<_>>()
    };
    assert!(
        (u - k).abs() <= band,
        "known median {:.1} ms, unknown {:.1} ms, allowed difference {:.1} ms \
         (spread {:.1}, self gap {:.1}); known ms {:?} {:?}, unknown ms {:?}",
        k * 1e3,
        u * 1e3,
        band * 1e3,
        spread * 1e3,
        self_gap * 1e3,
        ms(&known),
        ms(&again),
        ms(&unknown),
    );
}

#[tokio::test]
async fn every_sign_in_gets_a_new_session_id() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    // The cookie a browser has before signing in is not the one it gets.
    let before = app.get("/login").await;
    let pre = session_cookie(&before).expect("a cookie for the sign-in form");
    let first = app.sign_in_for_cookie("v@dealer.example", PASSWORD).await;
    assert_ne!(pre, first);
    // The same user again, in the same browser and in another: each sign-in
    // is a session of its own, with its own token.
    let token = app.csrf_token_with(&app.client).await;
    let again = app
        .post_raw(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "v@dealer.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let second = session_cookie(&again).expect("a new cookie at the second sign-in");
    let other = client();
    let r = app.sign_in_with(&other, "v@dealer.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let third = session_cookie(&r).expect("a cookie for the other browser");
    assert!(first != second && second != third && first != third);
    assert_eq!(
        app.scalar_i64(
            "SELECT count(DISTINCT token_hash) AS v FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE u.email = 'v@dealer.example'"
        )
        .await,
        3
    );
    // And they are told apart: the first one is over (this browser signed
    // in again), the two others each still let their holder in.
    let replay = async |cookie: &str| {
        client()
            .get(app.url("/account"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(replay(&first).await, StatusCode::SEE_OTHER);
    assert_eq!(replay(&second).await, StatusCode::OK);
    assert_eq!(replay(&third).await, StatusCode::OK);
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
        let r = app.sign_in_with(&client(), email, "\u{0}password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{email:.20}");
    }
}

#[tokio::test]
async fn signing_in_again_ends_the_browsers_previous_session() {
    let app = TestApp::spawn().await;
    app.create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    let old_cookie = app.sign_in_for_cookie("v@dealer.example", PASSWORD).await;
    let old = app.scalar_i64("SELECT max(id) AS v FROM sessions").await;
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
    // The old row is revoked (not merely outnumbered), a new one is live.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM sessions WHERE id = {old} AND revoked_at IS NOT NULL"
        ))
        .await,
        1,
        "the previous session is revoked"
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM sessions WHERE id > {old} AND revoked_at IS NULL"
        ))
        .await,
        1,
        "one new live session"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sessions").await,
        2
    );
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    let replay = client()
        .get(app.url("/account"))
        .header("cookie", old_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
}
