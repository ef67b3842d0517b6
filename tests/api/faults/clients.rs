//! Faults of clients and of the process: SIGTERM with requests in flight,
//! clients that vanish mid-request, bodies trickled byte by byte, and
//! hundreds of idle connections.

use std::time::{Duration, Instant};

use diesel_async::SimpleAsyncConnection as _;
use futures_util::future::join_all;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use super::{holding, until_waiting_on_locks};
use crate::helpers::{
    Options, PASSWORD, SESSION_KEY, Served, TestApp, add_vehicle, database_url, edit_form, refs,
    with,
};

/// The whole request of a form POST, as a browser would send it.
fn raw_post(host: &str, path: &str, cookie: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits_cleanly() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "term@dealer.example", PASSWORD)
        .await;
    let cookie = app
        .sign_in_for_cookie("term@dealer.example", PASSWORD)
        .await;
    let id = add_vehicle(&app, "TERM-1").await;
    let mut form = with(
        edit_form(&app, &app.client, id).await,
        "list_price",
        "23,456.00",
    );
    form.push(("csrf_token", app.csrf_token_with(&app.client).await));
    let url = database_url(&app.database);
    let mut served = Served::start(&[
        ("DATABASE_URL", Some(url.as_str())),
        ("PCN_SESSION_KEY", Some(SESSION_KEY)),
        ("PCN_RATE_LIMIT", Some("0")),
    ]);
    let address = served.address.clone();

    // An edit that waits in the database for a row the test holds.
    let mut lock = holding(
        &app,
        &format!("SELECT 1 FROM vehicles WHERE id = {id} FOR UPDATE"),
    )
    .await;
    let no_keep_alive = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let in_flight = tokio::spawn({
        let request = no_keep_alive()
            .post(format!("{address}/vehicles/{id}"))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .timeout(Duration::from_secs(40));
        async move { request.send().await.map(|r| r.status()) }
    });
    until_waiting_on_locks(&app, 1).await;

    served.signal(nix::sys::signal::Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let early = served.exited();
    assert!(
        early.is_none(),
        "pcn waits for the request in flight: {early:?}"
    );
    let late = no_keep_alive()
        .get(format!("{address}/healthz"))
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(
        late.is_err(),
        "a new request after SIGTERM was served: {late:?}"
    );

    lock.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        in_flight
            .await
            .unwrap()
            .expect("the request in flight was answered"),
        StatusCode::SEE_OTHER
    );
    let status = served.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status}");
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT list_price_cents AS v FROM vehicles WHERE id = {id}"
        ))
        .await,
        2_345_600,
        "the edit in flight was saved"
    );
}

#[tokio::test]
async fn clients_that_vanish_mid_request_leave_no_open_transaction() {
    let app = TestApp::spawn().await;
    app.create_user("editor", "gone@dealer.example", PASSWORD)
        .await;
    let cookie = app
        .sign_in_for_cookie("gone@dealer.example", PASSWORD)
        .await;
    let id = add_vehicle(&app, "GONE-1").await;
    let mut form = with(
        edit_form(&app, &app.client, id).await,
        "list_price",
        "24,000.00",
    );
    form.push(("csrf_token", app.csrf_token_with(&app.client).await));
    let body = serde_urlencoded::to_string(&form).unwrap();
    let host = app.address.trim_start_matches("http://").to_string();

    // Three edits wait inside their transactions for a row the test holds;
    // then one client closes its connection (FIN) and two reset theirs (RST).
    let mut lock = holding(
        &app,
        &format!("SELECT 1 FROM vehicles WHERE id = {id} FOR UPDATE"),
    )
    .await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(&host).await.unwrap();
        s.write_all(raw_post(&host, &format!("/vehicles/{id}"), &cookie, &body).as_bytes())
            .await
            .unwrap();
        sockets.push(s);
    }
    until_waiting_on_locks(&app, 3).await;
    for (i, s) in sockets.into_iter().enumerate() {
        if i > 0 {
            #[expect(deprecated, reason = "a zero linger resets at once; nothing blocks")]
            s.set_linger(Some(Duration::ZERO)).unwrap();
        }
        drop(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.batch_execute("COMMIT").await.unwrap();

    // Once the app's connections settle, none is left inside a transaction
    // (it would hold its locks until idle_in_transaction_session_timeout).
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let busy = app
            .scalar_i64(
                "SELECT count(*) AS v FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'pcn' AND state <> 'idle'",
            )
            .await;
        if busy == 0 {
            break;
        }
        let open = app
            .scalar_i64(
                "SELECT count(*) AS v FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'pcn' AND state LIKE 'idle in transaction%'",
            )
            .await;
        assert!(
            Instant::now() < deadline,
            "{busy} of the app's connections still busy, {open} idle in a transaction"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The pool is whole: pages and edits work.
    let r = app.get(&format!("/vehicles/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let form = with(edit_form(&app, &app.client, id).await, "location", "Lot C");
    assert_eq!(
        app.post(&format!("/vehicles/{id}"), &refs(&form))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

/// Reads what the server sends until it closes the connection (or `limit`).
async fn read_until_closed(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    limit: Duration,
) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_request_body_trickled_byte_by_byte_is_cut_off_after_the_body_deadline() {
    let app = TestApp::with(Options {
        tune: |c| c.body_timeout = Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let host = app.address.trim_start_matches("http://").to_string();
    let stream = TcpStream::connect(&host).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let start = Instant::now();
    // One byte a second, never the whole body.
    let trickle = tokio::spawn(async move {
        for _ in 0..30 {
            if write.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let answer = read_until_closed(&mut read, Duration::from_secs(15)).await;
    let took = start.elapsed();
    trickle.abort();
    let answer = answer.expect("the server neither answered nor closed in 15 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        took > Duration::from_millis(1500) && took < Duration::from_secs(6),
        "cut off after {took:?} (body deadline 2 s)"
    );
}

#[tokio::test]
async fn hundreds_of_idle_connections_do_not_starve_other_requests() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let host = app.address.trim_start_matches("http://").to_string();
    // 300 connections that send nothing, 30 that stop halfway through a body.
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(TcpStream::connect(&host).await.unwrap());
    }
    for _ in 0..30 {
        let mut s = TcpStream::connect(&host).await.unwrap();
        s.write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {host}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        held.push(s);
    }
    let start = Instant::now();
    let pages = (0..20).map(|i| {
        let path = if i % 2 == 0 { "/vehicles" } else { "/account" };
        let request = app
            .client
            .get(app.url(path))
            .timeout(Duration::from_secs(10));
        async move { request.send().await.map(|r| r.status()) }
    });
    for status in join_all(pages).await {
        assert_eq!(status.expect("answered"), StatusCode::OK);
    }
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "20 pages took {took:?}");
    drop(held);
}
