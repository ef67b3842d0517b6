//! The inventory benchmark (not a timed test: it asserts nothing about speed).
//!
//! ```sh
//! cargo test --release --test api bench -- --ignored --nocapture
//! ```
//!
//! For each size in `PCN_BENCH_SIZES` (default `10000,1000000`) it loads that
//! many demo vehicles into a fresh database, starts the app (2 workers, rate
//! limit off), signs in, and drives each page with `PCN_BENCH_CONCURRENCY`
//! (default 16) concurrent clients for `PCN_BENCH_SECONDS` (default 10)
//! seconds, printing requests/s and latency percentiles.
//! `PCN_BENCH_PAGES` (say `search`) keeps only the pages whose name holds one
//! of its comma-separated words, and skips the gzip, sell and CSV runs unless
//! a word names them: a short run of one part while others build.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use reqwest::StatusCode;

use crate::helpers::{Options, PASSWORD, TestApp, database_url, fresh_database};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

type Task = tokio::task::JoinHandle<(Vec<Duration>, usize)>;

impl Figures {
    /// Waits for the client tasks (latencies, errors) and sums them up.
    async fn collect(tasks: Vec<Task>, started: Instant) -> Self {
        let mut f = Figures {
            requests: 0,
            errors: 0,
            seconds: 0.0,
            latencies: Vec::new(),
        };
        for t in tasks {
            let (lat, errors) = t.await.unwrap();
            f.requests += lat.len();
            f.errors += errors;
            f.latencies.extend(lat);
        }
        f.seconds = started.elapsed().as_secs_f64();
        f.latencies.sort();
        f
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

async fn drive(client: &reqwest::Client, url: String, concurrency: usize, seconds: u64) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            // Bounded: stops at the deadline, and after 100,000 requests at most.
            for _ in 0..100_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status() == StatusCode::OK => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    Figures::collect(tasks, started).await
}

/// Concurrent clients each selling vehicles nobody else is selling.
async fn drive_sales(app: &TestApp, concurrency: usize, seconds: u64) -> Figures {
    use std::sync::{Arc, Mutex};
    let ids: Vec<i64> = {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let mut conn = app.db().await;
        diesel::sql_query(
            "SELECT id FROM vehicles WHERE status = 'available' AND version = 1 ORDER BY id DESC LIMIT 20000",
        )
        .load::<Id>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
    };
    let queue = Arc::new(Mutex::new(ids));
    let token = app.csrf_token_with(&app.client).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (c, queue, token, today, base) = (
            app.client.clone(),
            queue.clone(),
            token.clone(),
            today.clone(),
            app.address.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline {
                let Some(id) = queue.lock().unwrap().pop() else {
                    break;
                };
                let body = serde_urlencoded::to_string([
                    ("csrf_token", token.as_str()),
                    ("sale_price", "15000"),
                    ("confirm_below_cost", "1"),
                    ("sold_on", today.as_str()),
                    ("customer_name", "Bench Customer"),
                    ("payment_method", "cash"),
                    ("version", "1"),
                ])
                .unwrap();
                let t = Instant::now();
                let r = c
                    .post(format!("{base}/vehicles/{id}/sell"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::SEE_OTHER => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    Figures::collect(tasks, started).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run it explicitly (see the module docs)"]
async fn bench_inventory() {
    let sizes: Vec<i64> = std::env::var("PCN_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let concurrency = env_or("PCN_BENCH_CONCURRENCY", 16usize);
    let seconds = env_or("PCN_BENCH_SECONDS", 10u64);
    let only: Vec<String> = std::env::var("PCN_BENCH_PAGES")
        .unwrap_or_default()
        .split(',')
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|w| name.contains(w.as_str()));
    println!("\nPCN inventory benchmark: {concurrency} concurrent clients, {seconds} s per page\n");
    println!(
        "{:>9}  {:<34} {:>8} {:>9} {:>9} {:>9} {:>6}",
        "vehicles", "page", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors"
    );
    for size in sizes {
        let database = fresh_database().await;
        let mut conn = AsyncPgConnection::establish(&database_url(&database))
            .await
            .unwrap();
        let today = chrono::Utc::now().date_naive();
        let load = Instant::now();
        pcn::models::demo::load(&mut conn, size, today, |_| {})
            .await
            .unwrap();
        let load_secs = load.elapsed().as_secs_f64();
        drop(conn);
        let mut options = Options {
            database: Some(database),
            ..Options::default()
        };
        // To compare pool sizes: `PCN_BENCH_POOL_SIZE=8 …`.
        if let Ok(size) = std::env::var("PCN_BENCH_POOL_SIZE") {
            options = options.env("PCN_POOL_SIZE", size);
        }
        let app = TestApp::with(options).await;
        app.create_user("editor", "bench@dealer.example", PASSWORD)
            .await;
        assert_eq!(
            app.sign_in("bench@dealer.example", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        // Real values to look for: a stock number and a VIN fragment from the middle.
        let mid = size / 2;
        let stock = format!("S{mid:08}");
        let vin: String = {
            use diesel_async::RunQueryDsl as _;
            #[derive(diesel::QueryableByName)]
            struct V {
                #[diesel(sql_type = diesel::sql_types::Text)]
                vin: String,
            }
            let mut conn = app.db().await;
            diesel::sql_query(format!(
                "SELECT vin FROM vehicles WHERE vehicle_number = '{stock}' AND vin IS NOT NULL"
            ))
            .get_result::<V>(&mut conn)
            .await
            .map(|v| v.vin[9..].to_string())
            .unwrap_or_else(|_| "ABCDEF12".into())
        };
        let id = app
            .scalar_i64(&format!(
                "SELECT id AS v FROM vehicles WHERE vehicle_number = '{stock}'"
            ))
            .await;
        let pages = [
            ("list, newest first".to_string(), "/vehicles".to_string()),
            ("list by price, 2nd page".into(), {
                let first = app.get("/vehicles?sort=price").await.text().await.unwrap();
                crate::helpers::href_of(&first, "a[rel~=next]")
            }),
            (
                format!("search stock number {stock}"),
                format!("/vehicles?q={stock}"),
            ),
            (
                format!("search VIN last 8 {vin}"),
                format!("/vehicles?q={vin}"),
            ),
            (
                "search make+model \"honda civic\"".into(),
                "/vehicles?q=honda+civic".into(),
            ),
            (
                "search short \"x5\" (a model)".into(),
                "/vehicles?q=x5".into(),
            ),
            // What people type (issue 13): year, colour, trim, no hyphen, an alias.
            (
                "search words \"2019 civic\"".into(),
                "/vehicles?q=2019+civic".into(),
            ),
            (
                "search words \"black civic\"".into(),
                "/vehicles?q=black+civic".into(),
            ),
            (
                "search words \"tahoe xle\"".into(),
                "/vehicles?q=tahoe+xle".into(),
            ),
            (
                "search words \"mercedes benz\"".into(),
                "/vehicles?q=mercedes+benz".into(),
            ),
            ("search words \"f150\"".into(), "/vehicles?q=f150".into()),
            ("search alias \"chevy\"".into(), "/vehicles?q=chevy".into()),
            (
                "filter reserved Toyota".into(),
                "/vehicles?status=reserved&make=Toyota".into(),
            ),
            ("vehicle detail".into(), format!("/vehicles/{id}")),
            ("sales list".into(), "/sales".into()),
            ("sales report, 12 months".into(), "/reports/sales".into()),
        ];
        for (name, path) in pages {
            if !wanted(&name) {
                continue;
            }
            let f = drive(&app.client, app.url(&path), concurrency, seconds).await;
            println!(
                "{:>9}  {:<34} {:>8.0} {:>9.1} {:>9.1} {:>9.1} {:>6}",
                size,
                name,
                f.requests as f64 / f.seconds,
                f.percentile(0.5),
                f.percentile(0.9),
                f.percentile(0.99),
                f.errors
            );
        }
        if !wanted("list, gzip, sell, csv") {
            println!("{size:>9}  (demo data loaded in {load_secs:.1} s)\n");
            continue;
        }
        // The same list for a browser that asks for gzip: its cost in
        // req/s beside the plain run above, and the bytes on the wire.
        // Signed in through a plain client (the sign-in page must be read),
        // then the same cookies in a client that asks for gzip.
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let plain = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        assert_eq!(
            app.sign_in_with(&plain, "bench@dealer.example", PASSWORD)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let gzip = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(
                [(
                    reqwest::header::ACCEPT_ENCODING,
                    reqwest::header::HeaderValue::from_static("gzip"),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .unwrap();
        let plain_bytes = app.get("/vehicles").await.bytes().await.unwrap().len();
        let gzip_bytes = app
            .get_with(&gzip, "/vehicles")
            .await
            .bytes()
            .await
            .unwrap()
            .len();
        let f = drive(&gzip, app.url("/vehicles"), concurrency, seconds).await;
        println!(
            "{:>9}  {:<34} {:>8.0} {:>9.1} {:>9.1} {:>9.1} {:>6}",
            size,
            format!(
                "list, gzip ({} → {} KB)",
                plain_bytes / 1024,
                gzip_bytes / 1024
            ),
            f.requests as f64 / f.seconds,
            f.percentile(0.5),
            f.percentile(0.9),
            f.percentile(0.99),
            f.errors
        );
        let f = drive_sales(&app, concurrency, seconds).await;
        println!(
            "{:>9}  {:<34} {:>8.0} {:>9.1} {:>9.1} {:>9.1} {:>6}",
            size,
            "sell (POST, distinct vehicles)",
            f.requests as f64 / f.seconds,
            f.percentile(0.5),
            f.percentile(0.9),
            f.percentile(0.99),
            f.errors
        );
        let cookie = app
            .sign_in_for_cookie("bench@dealer.example", PASSWORD)
            .await;
        let csv = export_csv(&app, &cookie).await;
        println!(
            "{size:>9}  CSV export of every vehicle: {} rows, {:.0} MB in {:.1} s; \
             resident memory {} MB before, {} MB at most during",
            csv.rows,
            csv.bytes as f64 / 1e6,
            csv.seconds,
            csv.rss_before_kb / 1024,
            csv.rss_peak_kb / 1024
        );
        println!("{size:>9}  (demo data loaded in {load_secs:.1} s)\n");
    }
}

struct CsvFigures {
    rows: usize,
    bytes: usize,
    seconds: f64,
    rss_before_kb: u64,
    rss_peak_kb: u64,
}

/// This process's resident memory (the app runs in it), in kB.
fn resident_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Downloads `/vehicles.csv?status=all` to the end, watching memory: the
/// export streams, so the peak should not grow with the number of rows.
/// (Rows are counted as lines: demo notes hold no line breaks.)
async fn export_csv(app: &TestApp, cookie: &str) -> CsvFigures {
    // The test client's 30 s timeout would cover the whole body.
    let client = reqwest::Client::new();
    let rss_before_kb = resident_kb();
    let started = Instant::now();
    let mut response = client
        .get(app.url("/vehicles.csv?status=all"))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (mut rows, mut bytes, mut rss_peak_kb) = (0, 0, rss_before_kb);
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        rows += chunk.iter().filter(|&&b| b == b'\n').count();
        rss_peak_kb = rss_peak_kb.max(resident_kb());
    }
    CsvFigures {
        rows: rows.saturating_sub(1),
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        rss_before_kb,
        rss_peak_kb,
    }
}
