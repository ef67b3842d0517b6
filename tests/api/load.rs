//! The benchmark, in one command (not a timed test: it asserts nothing about
//! speed):
//!
//! ```sh
//! cargo test --release --test api load -- --ignored --nocapture
//! ```
//!
//! It loads `PCN_BENCH_VEHICLES` (default 10,000) demo vehicles into a fresh
//! database, times one password check (what caps sign-ins a second), captures
//! the SQL PostgreSQL runs for the signed-in list page, starts the real `pcn`
//! binary as a process of its own and signs in `PCN_BENCH_USERS` (default
//! 1,000) browsers (as many staff accounts, each on a device of its own).
//! Then, for `PCN_BENCH_SECONDS` (default 20) seconds each:
//!
//! - the list page, closed loop: `PCN_BENCH_CONCURRENCY` (default 16)
//!   browsers, each asking again as soon as it has its answer;
//! - pgbench running the captured SQL with as many clients, right after, on
//!   the same quiet database: the ceiling the page is compared with;
//! - the mix on an open model: `PCN_BENCH_RATE` (default 300) requests a
//!   second, each at its scheduled moment whatever the earlier ones are
//!   doing, latency counted from that moment, so a stall shows instead of
//!   slowing the generator down. List 50 %, search 20 %, vehicle detail
//!   20 %, edit 5 % (a real save of the edit form), sell 2 %, sales report
//!   3 %;
//! - the mix again beside a storm of `PCN_BENCH_SIGNINS` (default 50)
//!   sign-ins a second.
//!
//! One table: req/s, latency percentiles, errors, and for the server's
//! process during each scenario its peak resident memory and the CPU it used
//! (cores: CPU seconds over wall seconds), the same CPU figure for the load
//! generator and for the whole machine, and the list page's req/s over
//! pgbench's tps.

mod pgbench;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use rand::{Rng as _, seq::IndexedRandom as _};
use reqwest::StatusCode;

use crate::helpers::{
    Html, PASSWORD, SESSION_KEY, Served, csrf_from, database_url, fresh_database, machine_cpu_time,
    process_cpu_time, send_form,
};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A browser on a device of its own: a cookie jar, and the address a load
/// balancer in front would report for it (only a header; nothing is sent
/// there), so the sign-in limits per address see people, not the generator.
fn browser_client(device: u32) -> reqwest::Client {
    let address = format!(
        "10.{}.{}.{}",
        (device >> 16) & 255,
        (device >> 8) & 255,
        device & 255
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(crate::helpers::IDLE_REUSE)
        .default_headers(
            [(
                reqwest::header::HeaderName::from_static("x-forwarded-for"),
                reqwest::header::HeaderValue::from_str(&address).unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap()
}

/// A signed-in browser and a form token of its session.
#[derive(Clone)]
struct Browser {
    client: reqwest::Client,
    token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    List,
    Search,
    Detail,
    Edit,
    Sell,
    Report,
    SignIn,
}

/// Latencies (from each request's scheduled moment) and errors, per kind.
#[derive(Default)]
struct Results {
    done: Vec<(Kind, Duration, bool)>,
}

impl Results {
    fn figures(&self, kinds: &[Kind], seconds: f64) -> Figures {
        let done = self.done.iter().filter(|(k, _, _)| kinds.contains(k));
        Figures::new(
            done.clone().map(|(_, d, _)| *d).collect(),
            done.filter(|(_, _, ok)| !ok).count(),
            seconds,
        )
    }
}

/// One scenario's throughput, latencies and errors.
struct Figures {
    per_second: f64,
    /// Sorted.
    latencies: Vec<Duration>,
    errors: usize,
}

impl Figures {
    fn new(mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Self {
        latencies.sort();
        Self {
            per_second: latencies.len() as f64 / seconds,
            latencies,
            errors,
        }
    }

    fn ms(&self, q: f64) -> f64 {
        let lat = &self.latencies;
        lat.get(((lat.len().max(1) - 1) as f64 * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    }

    /// A line of the table; the server's usage and the ratio to pgbench
    /// where they apply.
    fn row(&self, label: &str, usage: Option<Usage>, vs_pgbench: Option<f64>) -> String {
        let (peak, cores) = usage
            .and_then(|u| u.server)
            .map_or((String::new(), String::new()), |(mb, cores)| {
                (mb.to_string(), format!("{cores:.2}"))
            });
        let (generator, machine) = usage.map_or((String::new(), String::new()), |u| {
            (format!("{:.2}", u.generator), format!("{:.2}", u.machine))
        });
        let vs = vs_pgbench.map_or(String::new(), |r| format!("{r:.2}"));
        format!(
            "{label:<36} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            self.per_second,
            self.ms(0.5),
            self.ms(0.95),
            self.ms(0.99),
            self.ms(1.0),
            self.errors,
            peak,
            cores,
            generator,
            machine,
            vs
        )
    }
}

/// What the server's process, and the whole machine, used during one
/// scenario.
#[derive(Clone, Copy)]
struct Usage {
    /// The server's peak resident memory, MB, and its CPU time over wall
    /// time (1.0: one core busy throughout); none when it sat idle.
    server: Option<(u64, f64)>,
    /// The same for the load generator: this process, and pgbench once it
    /// has exited.
    generator: f64,
    /// The same for every process on the machine (the load generator,
    /// PostgreSQL, pgbench): how close to all its cores it ran.
    machine: f64,
}

/// Measures from `start` (which resets the server's peak memory) to
/// `finish`.
struct Probe<'a> {
    server: Option<&'a Served>,
    cpu: Duration,
    generator: Duration,
    machine: Duration,
    started: Instant,
}

impl<'a> Probe<'a> {
    fn start(server: Option<&'a Served>) -> Self {
        if let Some(s) = server {
            s.reset_peak_memory();
        }
        Self {
            server,
            cpu: server.map_or(Duration::ZERO, Served::cpu_time),
            generator: process_cpu_time(std::process::id(), true),
            machine: machine_cpu_time(),
            started: Instant::now(),
        }
    }

    fn finish(self) -> Usage {
        let wall = self.started.elapsed().as_secs_f64();
        Usage {
            server: self.server.map(|s| {
                let cpu = s.cpu_time().saturating_sub(self.cpu).as_secs_f64();
                (s.memory_mb().0, cpu / wall)
            }),
            generator: process_cpu_time(std::process::id(), true)
                .saturating_sub(self.generator)
                .as_secs_f64()
                / wall,
            machine: machine_cpu_time()
                .saturating_sub(self.machine)
                .as_secs_f64()
                / wall,
        }
    }
}

/// One open `GET /events` per browser, each read by a task of its own that
/// counts the change events it gets.
struct Streams {
    received: Vec<Arc<std::sync::atomic::AtomicU64>>,
    before_kb: u64,
    after_kb: u64,
}

/// How long `changes` changes took to reach every stream.
struct FanOut {
    changes: u64,
    took: Duration,
    cores: f64,
}

impl Streams {
    /// Opens the streams from a thread and runtime of their own, so that
    /// reading them takes nothing from the runtime that times the pages.
    async fn open(base: &str, browsers: &[Browser], server: &Served) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        let before_kb = server.resident_kb();
        let clients: Vec<reqwest::Client> = browsers.iter().map(|b| b.client.clone()).collect();
        let base = base.to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut received = Vec::with_capacity(clients.len());
                for chunk in clients.chunks(50) {
                    let mut opening = Vec::new();
                    for c in chunk {
                        let request = c
                            .get(format!("{base}/events"))
                            .timeout(Duration::from_secs(3600));
                        opening.push(tokio::spawn(request.send()));
                    }
                    for o in opening {
                        let mut response = o.await.unwrap().expect("GET /events");
                        if response.status() != StatusCode::OK {
                            // A build without event streams.
                            let _ = tx.send(Vec::new());
                            return;
                        }
                        let count = Arc::new(AtomicU64::new(0));
                        let counter = Arc::clone(&count);
                        tokio::spawn(async move {
                            while let Ok(Some(chunk)) = response.chunk().await {
                                let events = chunk.windows(7).filter(|w| w == b"\ndata: ").count();
                                counter.fetch_add(events as u64, Ordering::Relaxed);
                            }
                        });
                        received.push(count);
                    }
                }
                let _ = tx.send(received);
                // Keeps reading until the process ends.
                std::future::pending::<()>().await;
            });
        });
        let received = rx.await.expect("the streams opened");
        if received.is_empty() {
            return Self {
                received,
                before_kb,
                after_kb: before_kb,
            };
        }
        // Let the server settle after the burst of connections.
        tokio::time::sleep(Duration::from_secs(2)).await;
        Self {
            received,
            before_kb,
            after_kb: server.resident_kb(),
        }
    }

    fn count(&self) -> usize {
        self.received.len()
    }

    fn kb_each(&self) -> f64 {
        self.after_kb.saturating_sub(self.before_kb) as f64 / self.count().max(1) as f64
    }

    /// Commits 200 changes of vehicle `id` (history rows, one transaction,
    /// as a bulk edit would) and waits until every stream has all of them.
    async fn fan_out(&self, url: &str, id: i64, server: &Served) -> FanOut {
        use diesel_async::SimpleAsyncConnection as _;
        use std::sync::atomic::Ordering;
        const CHANGES: u64 = 200;
        let start: Vec<u64> = self
            .received
            .iter()
            .map(|r| r.load(Ordering::Relaxed))
            .collect();
        let mut conn = AsyncPgConnection::establish(url).await.unwrap();
        let cpu = server.cpu_time();
        let started = Instant::now();
        conn.batch_execute(&format!(
            "INSERT INTO vehicle_history (vehicle_id, version, action, snapshot) \
             SELECT {id}, 1000000 + g, 'edited', '{{}}' FROM generate_series(1, {CHANGES}) g"
        ))
        .await
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .received
            .iter()
            .zip(&start)
            .any(|(r, s)| r.load(Ordering::Relaxed) < s + CHANGES)
        {
            assert!(
                Instant::now() < deadline,
                "the changes never reached every stream"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        FanOut {
            changes: CHANGES,
            took,
            cores: server.cpu_time().saturating_sub(cpu).as_secs_f64() / took.as_secs_f64(),
        }
    }
}

/// Work to hand out: vehicles to edit and to sell, one request each.
struct Work {
    /// Staff accounts `staff0@…` to `staff{users - 1}@…`.
    users: usize,
    ids: Vec<i64>,
    to_edit: Mutex<Vec<i64>>,
    to_sell: Mutex<Vec<i64>>,
    words: Vec<&'static str>,
    stock: Vec<String>,
}

async fn one(base: &str, b: &Browser, kind: Kind, work: &Work) -> bool {
    use rand::SeedableRng as _;
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let get = |path: String| {
        let c = b.client.clone();
        let url = format!("{base}{path}");
        async move {
            match c.get(url).send().await {
                Ok(r) => {
                    let ok = r.status() == StatusCode::OK;
                    if !ok {
                        // Rare, so worth seeing which and why.
                        eprintln!("{} answered {}", r.url(), r.status());
                    }
                    let _ = r.bytes().await;
                    ok
                }
                Err(e) => {
                    eprintln!("request failed: {e}");
                    false
                }
            }
        }
    };
    match kind {
        Kind::List => {
            let path = [
                "/vehicles",
                "/vehicles?sort=price",
                "/vehicles?status=available",
            ]
            .choose(&mut rng)
            .unwrap();
            get(path.to_string()).await
        }
        Kind::Search => {
            let q = if rng.random_bool(0.5) {
                work.words.choose(&mut rng).unwrap().to_string()
            } else {
                work.stock.choose(&mut rng).unwrap().clone()
            };
            get(format!("/vehicles?q={}", q.replace(' ', "+"))).await
        }
        Kind::Detail => get(format!("/vehicles/{}", work.ids.choose(&mut rng).unwrap())).await,
        Kind::Report => get("/reports/sales".into()).await,
        Kind::Edit => {
            let Some(id) = work.to_edit.lock().unwrap().pop() else {
                return false;
            };
            let Ok(page) = b
                .client
                .get(format!("{base}/vehicles/{id}/edit"))
                .send()
                .await
            else {
                return false;
            };
            let Ok(html) = page.text().await else {
                return false;
            };
            // The parsed page is not `Send`: take the fields, then let it go.
            let fields = {
                let page = Html::parse(&html);
                let Some(form) = page.first(&format!("form[action=\"/vehicles/{id}\"]")) else {
                    return false;
                };
                let mut fields = form.form_fields();
                for (name, value) in &mut fields {
                    if name == "notes" {
                        *value = format!("Checked on the lot {}", rng.random::<u32>());
                    }
                }
                fields
            };
            let r = send_form(&b.client, &format!("{base}/vehicles/{id}"), &fields).await;
            r.status() == StatusCode::SEE_OTHER
        }
        Kind::Sell => {
            let Some(id) = work.to_sell.lock().unwrap().pop() else {
                return false;
            };
            let today = chrono::Utc::now().date_naive().to_string();
            let r = send_form(
                &b.client,
                &format!("{base}/vehicles/{id}/sell"),
                &[
                    ("csrf_token", b.token.as_str()),
                    ("sale_price", "15000"),
                    ("confirm_below_cost", "1"),
                    ("sold_on", today.as_str()),
                    ("customer_name", "Load Customer"),
                    ("payment_method", "cash"),
                    ("version", "1"),
                ],
            )
            .await;
            r.status() == StatusCode::SEE_OTHER
        }
        Kind::SignIn => {
            // A new browser: the sign-in page, then the form.
            let c = browser_client(rng.random_range(100_000..1_000_000));
            let email = format!("staff{}@dealer.example", rng.random_range(0..work.users));
            sign_in(base, &c, &email).await
        }
    }
}

/// The sign-in page, then its form, as a browser does; true when signed in.
async fn sign_in(base: &str, c: &reqwest::Client, email: &str) -> bool {
    let Ok(page) = c.get(format!("{base}/login")).send().await else {
        return false;
    };
    let Ok(html) = page.text().await else {
        return false;
    };
    let r = send_form(
        c,
        &format!("{base}/login"),
        &[
            ("csrf_token", csrf_from(&html).as_str()),
            ("email", email),
            ("password", PASSWORD),
        ],
    )
    .await;
    r.status() == StatusCode::SEE_OTHER
}

fn pick(rng: &mut impl rand::Rng) -> Kind {
    match rng.random_range(0..100) {
        0..50 => Kind::List,
        50..70 => Kind::Search,
        70..90 => Kind::Detail,
        90..95 => Kind::Edit,
        95..97 => Kind::Sell,
        _ => Kind::Report,
    }
}

/// Sends the mix at `rate`/s (and sign-ins at `signins`/s) for `seconds`,
/// each request spawned at its due moment.
async fn run(
    base: &str,
    browsers: &[Browser],
    work: &Arc<Work>,
    rate: u32,
    signins: u32,
    seconds: u64,
) -> Results {
    let results = Arc::new(Mutex::new(Results::default()));
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut schedule: Vec<(Duration, Option<Kind>)> = Vec::new();
    let mut rng = rand::rng();
    for i in 0..u64::from(rate) * seconds {
        schedule.push((Duration::from_secs_f64(i as f64 / f64::from(rate)), None));
    }
    for i in 0..u64::from(signins) * seconds {
        schedule.push((
            Duration::from_secs_f64(i as f64 / f64::from(signins)),
            Some(Kind::SignIn),
        ));
    }
    schedule.sort_by_key(|(at, _)| *at);
    let mut tasks = Vec::with_capacity(schedule.len());
    for (at, kind) in schedule {
        let due = start + at;
        tokio::time::sleep_until(due).await;
        let kind = kind.unwrap_or_else(|| pick(&mut rng));
        let browser = browsers.choose(&mut rng).unwrap().clone();
        let (base, work, results) = (base.to_string(), Arc::clone(work), Arc::clone(&results));
        tasks.push(tokio::spawn(async move {
            let ok =
                tokio::time::timeout(Duration::from_secs(30), one(&base, &browser, kind, &work))
                    .await
                    .unwrap_or(false);
            let latency = due.elapsed();
            results.lock().unwrap().done.push((kind, latency, ok));
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Arc::try_unwrap(results)
        .ok()
        .expect("every task is done")
        .into_inner()
        .unwrap()
}

/// Each browser asks for `path`, and again as soon as it has the answer,
/// for `seconds`; latency from sending to the last byte.
async fn closed_loop(base: &str, browsers: &[Browser], path: &str, seconds: u64) -> Figures {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = browsers
        .iter()
        .map(|b| {
            let (client, url) = (b.client.clone(), format!("{base}{path}"));
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let ok = match client.get(&url).send().await {
                        Ok(r) => r.status() == StatusCode::OK && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    Figures::new(latencies, errors, started.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run it explicitly (see the module docs)"]
async fn load_many_signed_in_people() {
    use diesel_async::RunQueryDsl as _;
    let vehicles = env_or("PCN_BENCH_VEHICLES", 10_000i64);
    let users = env_or("PCN_BENCH_USERS", 1_000usize);
    let rate = env_or("PCN_BENCH_RATE", 300u32);
    let signins = env_or("PCN_BENCH_SIGNINS", 50u32);
    let seconds = env_or("PCN_BENCH_SECONDS", 20u64);
    let concurrency = env_or("PCN_BENCH_CONCURRENCY", 16usize).clamp(1, users);

    let database = fresh_database().await;
    let url = database_url(&database);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    pcn::models::demo::load(&mut conn, vehicles, today, |_| {})
        .await
        .unwrap();
    // One staff account per browser, one password hash between them.
    let hash = pcn::app::passwords::hash_blocking(&secrecy::SecretString::from(PASSWORD)).unwrap();
    diesel::sql_query(
        "INSERT INTO users (email, first_name, last_name, role, password_hash) \
         SELECT 'staff' || n || '@dealer.example', 'Staff', 'Member ' || n, 'editor', $1 \
         FROM generate_series(0, $2 - 1) n",
    )
    .bind::<diesel::sql_types::Text, _>(&hash)
    .bind::<diesel::sql_types::Integer, _>(users as i32)
    .execute(&mut conn)
    .await
    .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        vehicle_number: String,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT id, status, vehicle_number FROM vehicles WHERE version = 1 ORDER BY random()",
    )
    .load(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let available: Vec<i64> = rows
        .iter()
        .filter(|r| r.status == "available")
        .map(|r| r.id)
        .collect();
    let (sell, edit) = available.split_at(available.len() / 2);
    let work = Arc::new(Work {
        users,
        ids: rows.iter().map(|r| r.id).collect(),
        to_edit: Mutex::new(edit.to_vec()),
        to_sell: Mutex::new(sell.to_vec()),
        words: vec![
            "honda civic",
            "toyota",
            "f-150",
            "x5",
            "ford",
            "camry",
            "silver",
        ],
        stock: rows
            .iter()
            .take(500)
            .map(|r| r.vehicle_number.clone())
            .collect(),
    });

    // Each password check is argon2id at OWASP cost: CPU time that caps the
    // sign-ins a second whatever else the server does.
    let passwords = pcn::app::passwords::Passwords::new(1).unwrap();
    let checks = 20u32;
    let timed = Instant::now();
    for _ in 0..checks {
        let ok = passwords
            .verify(secrecy::SecretString::from(PASSWORD), Some(hash.clone()))
            .await
            .unwrap();
        assert!(ok);
    }
    let check = timed.elapsed() / checks;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let env = [
        ("DATABASE_URL", Some(url.as_str())),
        ("PCN_SESSION_KEY", Some(SESSION_KEY)),
        ("PCN_RATE_LIMIT", Some("0")),
        // As behind a load balancer: each browser's own address is believed
        // from X-Forwarded-For (see `browser_client`).
        ("PCN_TRUSTED_PROXIES", Some("127.0.0.1")),
    ];
    let list_page = "/vehicles?status=available";
    // Another build of `pcn` to measure with the same generator (the one
    // before a change, say); this test's own build by default.
    let binary =
        std::env::var("PCN_BENCH_SERVER").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pcn").to_string());
    let captured = pgbench::capture(&binary, &database, &url, &env, list_page).await;

    let server = Served::start_binary(&binary, &env);
    let base = server.address.clone();
    // Sign everybody in, a few at a time (each costs an argon2 check).
    let started = Instant::now();
    let mut browsers = Vec::with_capacity(users);
    for chunk in (0..users).collect::<Vec<_>>().chunks(16) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                let c = browser_client(i as u32);
                let email = format!("staff{i}@dealer.example");
                assert!(sign_in(&base, &c, &email).await, "sign-in {i}");

                let page = c
                    .get(format!("{base}/account"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                Browser {
                    token: csrf_from(&page),
                    client: c,
                }
            }));
        }
        for t in tasks {
            browsers.push(t.await.unwrap());
        }
    }
    println!(
        "\nPCN benchmark: {vehicles} vehicles, {users} signed-in browsers (signed in in {:.1} s), \
         {seconds} s a scenario",
        started.elapsed().as_secs_f64()
    );
    println!(
        "one password check: {:.1} ms of one core → at most {:.0} sign-ins/s on {cores} cores",
        check.as_secs_f64() * 1e3,
        cores as f64 / check.as_secs_f64()
    );
    match &captured {
        Some(statements) => {
            assert!(
                !statements.is_empty(),
                "no statement of {list_page} found in the server's log"
            );
            println!("the list page ({list_page}) runs, as pgbench will:");
            for (i, s) in statements.iter().enumerate() {
                println!(
                    "  {}. {} [{} parameters]",
                    i + 1,
                    pgbench::shorten(&s.sql, 110),
                    s.parameters.len()
                );
            }
        }
        None => println!(
            "no pgbench: the SQL is captured from our own cluster's log, \
             and TEST_DATABASE_URL's server logs elsewhere"
        ),
    }
    println!(
        "\n{:<36} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "scenario",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srv MB",
        "srv CPU",
        "gen CPU",
        "all CPU",
        "vs pgb"
    );
    let secs = seconds as f64;

    // The list page as fast as `concurrency` browsers can take it, then the
    // same SQL from pgbench with as many clients, back to back.
    let probe = Probe::start(Some(&server));
    let list = closed_loop(&base, &browsers[..concurrency], list_page, seconds).await;
    let list_usage = probe.finish();
    let label = format!("list page, {concurrency} clients back to back");
    match &captured {
        Some(statements) => {
            let probe = Probe::start(None);
            let floor = pgbench::pgbench(&url, statements, concurrency, seconds).await;
            let floor_usage = probe.finish();
            let ratio = list.per_second / floor.per_second;
            println!("{}", list.row(&label, Some(list_usage), Some(ratio)));
            println!(
                "{}",
                floor.row(
                    &format!("  pgbench, its SQL, {concurrency} clients"),
                    Some(floor_usage),
                    None
                )
            );
        }
        None => println!("{}", list.row(&label, Some(list_usage), None)),
    }

    let pages = [
        Kind::List,
        Kind::Search,
        Kind::Detail,
        Kind::Edit,
        Kind::Sell,
        Kind::Report,
    ];
    let probe = Probe::start(Some(&server));
    let alone = run(&base, &browsers, &work, rate, 0, seconds).await;
    let usage = probe.finish();
    println!(
        "{}",
        alone
            .figures(&pages, secs)
            .row(&format!("mix at {rate}/s, open model"), Some(usage), None)
    );
    for k in pages {
        println!(
            "{}",
            alone
                .figures(&[k], secs)
                .row(&format!("  {k:?}"), None, None)
        );
    }
    let probe = Probe::start(Some(&server));
    let storm = run(&base, &browsers, &work, rate, signins, seconds).await;
    let usage = probe.finish();
    println!(
        "{}",
        storm.figures(&pages, secs).row(
            &format!("mix during {signins} sign-ins/s"),
            Some(usage),
            None
        )
    );
    println!(
        "{}",
        storm
            .figures(&[Kind::SignIn], secs)
            .row("  sign-ins", None, None)
    );

    // Live pages (issue 11): every browser holds an event stream open, idle,
    // while the mix runs again; then changes fan out to all of them.
    let streams = Streams::open(&base, &browsers, &server).await;
    if streams.count() == 0 {
        println!("\nno event streams: this build has no GET /events");
    } else {
        let probe = Probe::start(Some(&server));
        let live = run(&base, &browsers, &work, rate, 0, seconds).await;
        let usage = probe.finish();
        let with_streams = live.figures(&pages, secs);
        let p99_change = with_streams.ms(0.99) / alone.figures(&pages, secs).ms(0.99) - 1.0;
        println!(
            "{}",
            with_streams.row(
                &format!("mix, {} idle event streams open", streams.count()),
                Some(usage),
                None
            )
        );
        let fan_out = streams.fan_out(&url, work.ids[0], &server).await;
        println!(
            "\nevent streams: {:.1} KB of server memory each ({} streams: {} → {} MB resident); \
             page p99 {:+.0} % with them open; one instance fanned out {} changes to {} streams \
             ({} events) in {:.2} s: {:.0} events/s, server CPU {:.2} cores",
            streams.kb_each(),
            streams.count(),
            streams.before_kb / 1024,
            streams.after_kb / 1024,
            p99_change * 100.0,
            fan_out.changes,
            streams.count(),
            fan_out.changes * streams.count() as u64,
            fan_out.took.as_secs_f64(),
            (fan_out.changes * streams.count() as u64) as f64 / fan_out.took.as_secs_f64(),
            fan_out.cores
        );
    }

    println!(
        "\nlatency: from each request's due moment on the open model, from its sending \
         back to back; srv MB: the server's peak resident memory during the scenario; \
         srv CPU: its CPU time over the scenario's wall time, in cores; gen CPU: the same \
         for the load generator (this process, or pgbench); all CPU: for every process on \
         the machine ({cores} cores: PostgreSQL and anything else running included); vs pgb: req/s over pgbench's tps on the same SQL (issue 10 \
         aims at 0.7 or more)"
    );
    println!(
        "server resident memory at the end: {} MB\n",
        server.memory_mb().1
    );
}
