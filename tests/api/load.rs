//! The load benchmark: many signed-in people at once, on an open model (not
//! a timed test: it asserts nothing about speed).
//!
//! ```sh
//! cargo test --release --test api load -- --ignored --nocapture
//! ```
//!
//! It loads `PCN_BENCH_VEHICLES` (default 10,000) demo vehicles into a fresh
//! database, starts the real `pcn` binary as a process of its own, signs in
//! `PCN_BENCH_USERS` (default 1,000) browsers (as many staff accounts, each
//! on a device of its own), then sends `PCN_BENCH_RATE` (default 300) requests a second for
//! `PCN_BENCH_SECONDS` (default 20) seconds, each at its scheduled moment
//! whatever the earlier ones are doing, and counts latency from that moment,
//! so a stall shows instead of slowing the generator down. The mix: list
//! 50 %, search 20 %, vehicle detail 20 %, edit 5 % (a real save of the edit
//! form), sell 2 %, sales report 3 %. It runs the mix twice: alone, and with
//! a storm of `PCN_BENCH_SIGNINS` (default 50) sign-ins a second beside it.
//! It prints one line per scenario and the server's peak resident memory.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use rand::{Rng as _, seq::IndexedRandom as _};
use reqwest::StatusCode;

use crate::helpers::{
    Html, PASSWORD, SESSION_KEY, Served, csrf_from, database_url, fresh_database, send_form,
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
    fn line(&self, label: &str, kinds: &[Kind], seconds: f64) -> String {
        let mut lat: Vec<Duration> = self
            .done
            .iter()
            .filter(|(k, _, _)| kinds.contains(k))
            .map(|(_, d, _)| *d)
            .collect();
        let errors = self
            .done
            .iter()
            .filter(|(k, _, ok)| kinds.contains(k) && !ok)
            .count();
        lat.sort();
        let p = |q: f64| {
            lat.get(((lat.len().max(1) - 1) as f64 * q).round() as usize)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
        };
        format!(
            "{label:<34} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7}",
            lat.len() as f64 / seconds,
            p(0.5),
            p(0.95),
            p(0.99),
            lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            errors
        )
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run it explicitly (see the module docs)"]
async fn load_many_signed_in_people() {
    use diesel_async::RunQueryDsl as _;
    let vehicles = env_or("PCN_BENCH_VEHICLES", 10_000i64);
    let users = env_or("PCN_BENCH_USERS", 1_000usize);
    let rate = env_or("PCN_BENCH_RATE", 300u32);
    let signins = env_or("PCN_BENCH_SIGNINS", 50u32);
    let seconds = env_or("PCN_BENCH_SECONDS", 20u64);

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

    let server = Served::start(&[
        ("DATABASE_URL", Some(url.as_str())),
        ("PCN_SESSION_KEY", Some(SESSION_KEY)),
        ("PCN_RATE_LIMIT", Some("0")),
        // As behind a load balancer: each browser's own address is believed
        // from X-Forwarded-For (see `browser_client`).
        ("PCN_TRUSTED_PROXIES", Some("127.0.0.1")),
    ]);
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
        "\nPCN load benchmark: {vehicles} vehicles, {users} signed-in browsers (signed in in {:.1} s), \
         {rate} requests/s for {seconds} s, open model (latency from each request's due moment)\n",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    let pages = [
        Kind::List,
        Kind::Search,
        Kind::Detail,
        Kind::Edit,
        Kind::Sell,
        Kind::Report,
    ];
    let secs = seconds as f64;
    let alone = run(&base, &browsers, &work, rate, 0, seconds).await;
    println!("{}", alone.line("mix, all requests", &pages, secs));
    for k in pages {
        println!("{}", alone.line(&format!("  {k:?}"), &[k], secs));
    }
    let storm = run(&base, &browsers, &work, rate, signins, seconds).await;
    println!(
        "{}",
        storm.line(&format!("mix during {signins} sign-ins/s"), &pages, secs)
    );
    println!("{}", storm.line("  sign-ins", &[Kind::SignIn], secs));
    let (peak, now) = server.memory_mb();
    println!("\nserver resident memory: {peak} MB at most, {now} MB at the end\n");
}
