//! Faults, against the real app and a real PostgreSQL (SPEC §5.6): here the
//! database's (going away while writes run, no longer answering, an exhausted
//! pool, a statement past its timeout, deadlocks and serialization failures
//! retried), in `clients` those of clients and of the process. Database
//! faults are made for one app instance (a proxy, a lock held by the test),
//! never by stopping the shared cluster. Every wait is bounded; "within"
//! bounds are generous.

mod clients;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::{
    helpers::{Options, TestApp, add_vehicle, edit_form, refs, send_form, vehicle_form, with},
    proxy::Proxy,
};

/// The app's own connections (not the test's) that wait for a lock.
const WAITING_ON_LOCKS: &str = "SELECT count(*) AS v FROM pg_stat_activity \
     WHERE datname = current_database() AND application_name = 'pcn' AND wait_event_type = 'Lock'";

/// Waits (10 s at most) until `n` of the app's connections wait for a lock.
async fn until_waiting_on_locks(app: &TestApp, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = app.scalar_i64(WAITING_ON_LOCKS).await;
        if waiting >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} of {n} requests reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection of the test's own inside a transaction that ran `sql`
/// (a row or table lock, held until `COMMIT`).
async fn holding(app: &TestApp, sql: &str) -> AsyncPgConnection {
    let mut conn = app.db().await;
    conn.batch_execute(&format!("BEGIN; {sql}"))
        .await
        .expect(sql);
    conn
}

/// POSTs a form; `None` when no answer came in time or the connection broke.
async fn post_status(
    client: &reqwest::Client,
    url: &str,
    fields: &[(&str, String)],
    timeout: Duration,
) -> Option<StatusCode> {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .timeout(timeout)
        .send()
        .await
        .ok()
        .map(|r| r.status())
}

/// A vehicle form with the page's token, ready to POST.
fn create_form(stock: &str, token: &str) -> Vec<(&'static str, String)> {
    let mut form = vehicle_form(stock);
    form.push(("csrf_token", token.to_string()));
    form
}

/// One write of the outage test, times from the test's start.
#[derive(Clone, Debug)]
struct Write {
    stock: String,
    status: Option<StatusCode>,
    start: Duration,
    end: Duration,
}

#[tokio::test]
async fn writes_through_a_database_outage_get_503_and_every_acknowledged_one_is_stored() {
    let (proxy, app) = Proxy::with_app(|_| {}).await;
    app.signed_in_as("editor").await;
    let token = app.csrf_token_with(&app.client).await;

    // Four writers add vehicles through the form, one after another each,
    // before, during and after the outage.
    let clock = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<Write>>> = Arc::default();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url) = (app.client.clone(), app.url("/vehicles"));
            let (token, stop, log) = (token.clone(), stop.clone(), log.clone());
            tokio::spawn(async move {
                for i in 0..500 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let stock = format!("OUT-{w}-{i}");
                    let start = clock.elapsed();
                    let status = post_status(
                        &client,
                        &url,
                        &create_form(&stock, &token),
                        Duration::from_secs(15),
                    )
                    .await;
                    let end = clock.elapsed();
                    log.lock().unwrap().push(Write {
                        stock,
                        status,
                        start,
                        end,
                    });
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cut_at = clock.elapsed();
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let restored_at = clock.elapsed();
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    let recovered_at = loop {
        let first = log
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.end > restored_at && w.status == Some(StatusCode::SEE_OTHER))
            .map(|w| w.end)
            .min();
        if let Some(t) = first {
            break t;
        }
        assert!(Instant::now() < deadline, "writes did not succeed again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let log = log.lock().unwrap().clone();

    for w in &log {
        assert!(
            matches!(
                w.status,
                Some(StatusCode::SEE_OTHER | StatusCode::SERVICE_UNAVAILABLE)
            ),
            "only 303 or 503, never a 500 or a hang: {w:?}"
        );
        assert!(
            w.end - w.start < Duration::from_secs(6),
            "no write waits much past the pool timeout (2 s): {w:?}"
        );
    }
    let statuses = |keep: &dyn Fn(&Write) -> bool| -> Vec<StatusCode> {
        log.iter()
            .filter(|w| keep(w))
            .filter_map(|w| w.status)
            .collect()
    };
    let before = statuses(&|w| w.end < cut_at);
    let during = statuses(&|w| w.start > cut_at && w.end < restored_at);
    let after = statuses(&|w| w.start > recovered_at);
    assert!(!before.is_empty() && before.iter().all(|s| *s == StatusCode::SEE_OTHER));
    assert!(!during.is_empty());
    assert!(
        during.iter().all(|s| *s == StatusCode::SERVICE_UNAVAILABLE),
        "{during:?}"
    );
    assert!(!after.is_empty() && after.iter().all(|s| *s == StatusCode::SEE_OTHER));
    let recovery = recovered_at - restored_at;
    assert!(
        recovery < Duration::from_secs(4),
        "normal again {recovery:?} after the database returned (target 2 s)"
    );

    // Every acknowledged write is stored; a refused one may or may not be
    // (its commit can land with the answer lost), but nothing else is.
    let acknowledged: Vec<&str> = log
        .iter()
        .filter(|w| w.status == Some(StatusCode::SEE_OTHER))
        .map(|w| w.stock.as_str())
        .collect();
    let list = acknowledged
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let stored = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE vehicle_number IN ({list})"
        ))
        .await;
    assert_eq!(
        stored,
        acknowledged.len() as i64,
        "acknowledged writes stored"
    );
    let total = app.scalar_i64("SELECT count(*) AS v FROM vehicles").await;
    assert!(total >= stored && total <= log.len() as i64);
    eprintln!(
        "outage: {} writes, {} acknowledged and stored, {} refused with 503 ({} stored \
         anyway), normal again {recovery:?} after the database returned",
        log.len(),
        acknowledged.len(),
        log.len() - acknowledged.len(),
        total - stored,
    );
}

#[tokio::test]
async fn a_database_that_stops_answering_gives_503_within_the_timeouts_not_a_hang() {
    let (proxy, app) = Proxy::with_app(|c| c.statement_timeout = Duration::from_secs(1)).await;
    app.signed_in_as("editor").await;
    let token = app.csrf_token_with(&app.client).await;
    for path in ["/vehicles", "/account"] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }

    // Connections stay open and new ones are accepted, but nothing answers:
    // requests on pooled connections and on new ones, at once.
    proxy.stall();
    let pages = ["/vehicles", "/account", "/healthz", "/vehicles/new"].map(|path| {
        let (client, url) = (app.client.clone(), app.url(path));
        async move {
            let start = Instant::now();
            let r = client
                .get(url)
                .timeout(Duration::from_secs(20))
                .send()
                .await;
            (path, r.map(|r| r.status()).ok(), start.elapsed())
        }
    });
    let form = create_form("STALL-1", &token);
    let (client, url) = (app.client.clone(), app.url("/vehicles"));
    let write = async move {
        let start = Instant::now();
        let status = post_status(&client, &url, &form, Duration::from_secs(20)).await;
        ("POST /vehicles", status, start.elapsed())
    };
    let (mut answers, write) = tokio::join!(join_all(pages), write);
    answers.push(write);
    for (what, status, took) in &answers {
        assert_eq!(
            *status,
            Some(StatusCode::SERVICE_UNAVAILABLE),
            "{what} after {took:?}"
        );
        assert!(
            *took < Duration::from_secs(6),
            "{what} answered after {took:?}: pool timeout 2 s, statement timeout 1 s"
        );
    }

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/account").await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "stalled database: {:?}",
        answers
            .iter()
            .map(|(w, _, t)| format!("{w} {t:.1?}"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_within_the_pool_timeout() {
    let app = TestApp::with(Options::default().env("PCN_POOL_SIZE", "1")).await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "POOL-1").await;
    let form = with(
        edit_form(&app, &app.client, id).await,
        "list_price",
        "22,000.00",
    );
    let mut fields = refs(&form);
    let token = app.csrf_token_with(&app.client).await;
    fields.push(("csrf_token", &token));

    // The only connection waits for a row the test holds.
    let mut lock = holding(
        &app,
        &format!("SELECT 1 FROM vehicles WHERE id = {id} FOR UPDATE"),
    )
    .await;
    let edit = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url(&format!("/vehicles/{id}")));
        let fields: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        async move { send_form(&client, &url, &fields).await.status() }
    });
    until_waiting_on_locks(&app, 1).await;

    let start = Instant::now();
    let r = app.get("/vehicles").await;
    let took = start.elapsed();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Temporarily unavailable"));
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "waited {took:?} for the pool (timeout 2 s)"
    );

    lock.batch_execute("COMMIT").await.unwrap();
    assert_eq!(edit.await.unwrap(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/vehicles").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_statement_past_statement_timeout_answers_the_503_page() {
    let app = TestApp::with(Options {
        tune: |c| c.statement_timeout = Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "SLOW-1").await;

    let mut lock = holding(&app, "LOCK TABLE vehicles IN ACCESS EXCLUSIVE MODE").await;
    let start = Instant::now();
    let r = app.get(&format!("/vehicles/{id}")).await;
    let took = start.elapsed();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Temporarily unavailable"));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?} (statement timeout 1 s)"
    );

    lock.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(
        app.get(&format!("/vehicles/{id}")).await.status(),
        StatusCode::OK
    );
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = Integer)]
    n: i32,
}

/// Adds `add` to row `first`, then to row `second`, in one transaction
/// through `with_retry`; on its first attempt it waits at `barrier` between
/// the two, so that two of these in opposite order deadlock. Returns the
/// attempt that succeeded.
async fn add_crosswise(
    conn: &mut AsyncPgConnection,
    (first, second, add): (i32, i32, i32),
    attempts: &AtomicU32,
    barrier: &tokio::sync::Barrier,
) -> diesel::QueryResult<u32> {
    use diesel_async::RunQueryDsl as _;
    const ADD: &str = "UPDATE fault_pair SET n = n + $1 WHERE id = $2";
    pcn::db::with_retry(conn, async |conn| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
            diesel::sql_query(ADD)
                .bind::<Integer, _>(add)
                .bind::<Integer, _>(first)
                .execute(conn)
                .await?;
            if attempt == 1 {
                barrier.wait().await;
            }
            diesel::sql_query(ADD)
                .bind::<Integer, _>(add)
                .bind::<Integer, _>(second)
                .execute(conn)
                .await?;
            Ok(attempt)
        })
        .await
    })
    .await
}

#[tokio::test]
async fn with_retry_runs_a_transaction_again_after_a_deadlock() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    app.exec(
        "CREATE TABLE fault_pair (id int PRIMARY KEY, n int NOT NULL); \
         INSERT INTO fault_pair VALUES (1, 0), (2, 0)",
    )
    .await;
    let (mut a, mut b) = (app.db().await, app.db().await);
    let (a_attempts, b_attempts) = (AtomicU32::new(0), AtomicU32::new(0));
    let barrier = tokio::sync::Barrier::new(2);
    // A holds row 1 and wants row 2, B the other way round: PostgreSQL
    // aborts one of them ("deadlock detected"), and with_retry runs it again.
    let (a_result, b_result) = tokio::join!(
        add_crosswise(&mut a, (1, 2, 1), &a_attempts, &barrier),
        add_crosswise(&mut b, (2, 1, 10), &b_attempts, &barrier),
    );
    let (a_attempts, b_attempts) = (a_attempts.into_inner(), b_attempts.into_inner());
    // Usually one of them runs again; under load PostgreSQL now and then
    // aborts both (one after the other), and both run again.
    assert!(
        a_attempts + b_attempts >= 3,
        "a deadlock, then a retry: A ran {a_attempts} times, B {b_attempts}"
    );
    assert_eq!(a_result, Ok(a_attempts));
    assert_eq!(b_result, Ok(b_attempts));
    let rows: Vec<Count> = diesel::sql_query("SELECT n FROM fault_pair ORDER BY id")
        .load(&mut app.db().await)
        .await
        .unwrap();
    let rows: Vec<i32> = rows.into_iter().map(|r| r.n).collect();
    assert_eq!(rows, [11, 11], "both transactions applied, once each");
}

#[tokio::test]
async fn with_retry_runs_a_transaction_again_after_a_serialization_failure() {
    use diesel_async::RunQueryDsl as _;
    let app = TestApp::spawn().await;
    app.exec(
        "CREATE TABLE fault_counter (id int PRIMARY KEY, n int NOT NULL); \
         INSERT INTO fault_counter VALUES (1, 0)",
    )
    .await;
    let mut a = app.db().await;
    let url = app.db_url.clone();
    let attempts = AtomicU32::new(0);
    // A reads in a repeatable-read snapshot; on the first attempt another
    // connection changes the row before A writes it: A cannot serialize.
    let result = pcn::db::with_retry(&mut a, async |conn| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let url = url.clone();
        conn.build_transaction()
            .repeatable_read()
            .run::<_, diesel::result::Error, _>(async move |conn| {
                let seen = diesel::sql_query("SELECT n FROM fault_counter WHERE id = 1")
                    .get_result::<Count>(conn)
                    .await?
                    .n;
                if attempt == 1 {
                    let mut other = AsyncPgConnection::establish(&url).await.unwrap();
                    other
                        .batch_execute("UPDATE fault_counter SET n = n + 10 WHERE id = 1")
                        .await
                        .unwrap();
                }
                diesel::sql_query("UPDATE fault_counter SET n = $1 WHERE id = 1")
                    .bind::<Integer, _>(seen + 1)
                    .execute(conn)
                    .await?;
                Ok(seen + 1)
            })
            .await
    })
    .await;
    assert_eq!(result, Ok(11), "the second attempt saw the other write");
    assert_eq!(attempts.into_inner(), 2);
    assert_eq!(
        app.scalar_i64("SELECT n::int8 AS v FROM fault_counter")
            .await,
        11,
        "no lost update"
    );
}
