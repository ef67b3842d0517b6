//! Sign-in throttling: five failures lock an email (known or not, also
//! under fifty parallel guesses), twenty lock an address (from
//! X-Forwarded-For only behind a trusted proxy), a success starts afresh,
//! and the general request limit answers 429 with Retry-After.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, client};

async fn attempt(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.sign_in_with(&client(), email, password).await
}

#[tokio::test]
async fn five_failures_lock_the_email_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    for _ in 0..5 {
        let r = attempt(&app, "ann@dealer.example", "wrong password here").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt(&app, "ann@dealer.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "retry-after {retry}");
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    // Refused attempts do not extend the lock: once the oldest failure is 15
    // minutes old, the account opens again.
    app.exec(
        "UPDATE sign_in_attempts SET attempted_at = attempted_at - interval '15 minutes' \
         WHERE id = (SELECT min(id) FROM sign_in_attempts)",
    )
    .await;
    let r = attempt(&app, "ann@dealer.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_emails_are_throttled_like_known_ones() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        attempt(&app, "ghost@dealer.example", "whatever it is").await;
    }
    let r = attempt(&app, "GHOST@dealer.example", "whatever it is").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_still_lock_after_five() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let url = app.url("/login");
        let c = client();
        let token = app.csrf_token_with(&c).await;
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "csrf_token={token}&email=ann%40dealer.example&password=wrong+password+here"
                ))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut unauthorized = 0;
    let mut throttled = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((unauthorized, throttled), (5, 45));
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sign_in_attempts WHERE outcome = 'failure'")
            .await,
        5
    );
}

#[tokio::test]
async fn a_success_starts_the_count_afresh() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    for _ in 0..4 {
        attempt(&app, "ann@dealer.example", "wrong password here").await;
    }
    assert_eq!(
        attempt(&app, "ann@dealer.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    for _ in 0..4 {
        let r = attempt(&app, "ann@dealer.example", "wrong password here").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attempt(&app, "ann@dealer.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn twenty_failures_from_one_address_lock_that_address() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "ann@dealer.example", PASSWORD)
        .await;
    for i in 0..20 {
        let r = attempt(&app, &format!("guess{i}@dealer.example"), "nope nope nope").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = attempt(&app, "ann@dealer.example", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    // Untrusted peer: the header is ignored, so all 20 count against 127.0.0.1.
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let c = client();
        let token = app.csrf_token_with(&c).await;
        c.post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .body(format!(
                "csrf_token={token}&email=g{i}%40x.example&password=nope+nope+nope"
            ))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        app.scalar_i64("SELECT count(DISTINCT ip) AS v FROM sign_in_attempts")
            .await,
        1
    );
    // Trusted proxy: each forwarded address is its own client.
    let app =
        TestApp::with(crate::helpers::Options::default().env("PCN_TRUSTED_PROXIES", "127.0.0.1"))
            .await;
    for i in 0..3 {
        let c = client();
        let token = app.csrf_token_with(&c).await;
        c.post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .body(format!(
                "csrf_token={token}&email=g%40x.example&password=nope+nope+nope"
            ))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        app.scalar_i64(
            "SELECT count(DISTINCT ip) AS v FROM sign_in_attempts WHERE ip LIKE '198.51.100.%'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn general_request_limit_answers_429_with_retry_after() {
    let app = TestApp::with(crate::helpers::Options::default().env("PCN_RATE_LIMIT", "1")).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/login").await);
    }
    let limited = statuses
        .iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .expect("the burst of 5 is exceeded");
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn a_clients_own_x_forwarded_for_line_does_not_choose_its_address() {
    // The proxy appends its own `X-Forwarded-For` line after whatever the
    // client sent: every line counts, read from the right.
    let app =
        TestApp::with(crate::helpers::Options::default().env("PCN_TRUSTED_PROXIES", "127.0.0.1"))
            .await;
    for i in 0..3 {
        let c = client();
        let token = app.csrf_token_with(&c).await;
        c.post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .header("x-forwarded-for", "198.51.100.7")
            .body(format!(
                "csrf_token={token}&email=g%40x.example&password=nope+nope+nope"
            ))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        app.scalar_text("SELECT string_agg(DISTINCT ip, ',') AS v FROM sign_in_attempts")
            .await,
        "198.51.100.7"
    );
}

#[tokio::test]
async fn stale_session_cookies_share_their_addresss_request_limit() {
    // Ten cookies of sessions that have ended, made on an instance without
    // a limit; the limited one must not give each a bucket of its own.
    let app = TestApp::with(crate::helpers::Options::default().env("PCN_RATE_LIMIT", "1")).await;
    let other = app.sibling().await;
    other
        .create_user("viewer", "v@dealer.example", PASSWORD)
        .await;
    let mut stale = Vec::new();
    for _ in 0..10 {
        let c = client();
        let r = other.sign_in_with(&c, "v@dealer.example", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        stale.push(crate::helpers::session_cookie(&r).expect("a session cookie"));
    }
    let live = client();
    let r = other
        .sign_in_with(&live, "v@dealer.example", PASSWORD)
        .await;
    let live_cookie = crate::helpers::session_cookie(&r).expect("a session cookie");
    app.exec("UPDATE sessions SET revoked_at = now() WHERE id < (SELECT max(id) FROM sessions)")
        .await;

    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut limited = 0;
    for cookie in &stale {
        let r = bare
            .get(app.url("/login"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited > 0, "ten stale cookies got ten buckets");
    // A live session still has a limit of its own, apart from the address.
    let r = bare
        .get(app.url("/account"))
        .header("cookie", &live_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_attempts_older_than_ninety_days_are_pruned() {
    let app = TestApp::spawn().await;
    app.exec(
        "INSERT INTO sign_in_attempts (email, ip, attempted_at, outcome) VALUES \
           ('old@x.example', '192.0.2.1', now() - interval '91 days', 'failure'), \
           ('old@x.example', '192.0.2.1', now() - interval '400 days', 'success'), \
           ('kept@x.example', '192.0.2.1', now() - interval '89 days', 'failure'), \
           ('kept@x.example', '192.0.2.1', now() - interval '1 minute', 'success')",
    )
    .await;
    let mut conn = app.db().await;
    let removed = pcn::models::attempts::forget_old(&mut conn)
        .await
        .expect("prune");
    assert_eq!(removed, 2);
    assert_eq!(
        app.scalar_text("SELECT string_agg(DISTINCT email, ',') AS v FROM sign_in_attempts")
            .await,
        "kept@x.example"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sign_in_attempts")
            .await,
        2
    );
}
