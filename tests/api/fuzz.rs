//! Property-based fuzzing over HTTP (SPEC §5.5: no input, however long or
//! strange, gives a 500 or stores an invalid row). The route table is walked,
//! so a new route is fuzzed by itself: each POST route gets random and
//! malformed values in every field of its form (found on the pages, sent with
//! a valid CSRF token, so the handler's own validation is what runs), each
//! GET route random values in every query parameter it reads, and both get
//! random path ids.
//!
//! Two runs, each on one app and one database for all its cases: signed out
//! on a database without users (the public routes; `/setup` open), then
//! signed in as an admin, who reaches every route, among a few of everything.
//! Per case: no 5xx, and nothing stored unless the answer was a 303. After
//! the runs: every vehicle, sale and user parses through the domain types to
//! itself.
//!
//! `PCN_FUZZ_CASES` sets the number of cases, `PCN_FUZZ_SEED` replays a run.

mod site;
mod stored;
mod values;

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::http::Method;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection as _};
use pcn::routes::Access;
use proptest::{
    strategy::BoxedStrategy,
    test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner},
};
use reqwest::{StatusCode, header};

use self::site::{Case, Site};
use crate::helpers::{
    PASSWORD, TestApp, add_vehicle, csrf_from, location, sample_jpeg, setup_link,
};

/// Cases per run unless `PCN_FUZZ_CASES` says otherwise; sized to take well
/// under a minute on two cores. A tenth of them go to the signed-out run.
const DEFAULT_CASES: u32 = 3_000;

const ADMIN: &str = "admin@dealer.example";

/// Who sends the cases, and so what to put back when a case changed it.
enum Who {
    /// Nobody signed in, no user in the database: the setup link works.
    Nobody { setup_token: String },
    /// The admin, who may sign themselves out, demote themselves or change
    /// their password; `hash` is their password's.
    Admin { id: i64, hash: String },
}

/// One app under fuzz, and what its run saw.
struct Run {
    app: TestApp,
    who: Who,
    /// The CSRF token of the client's current session.
    token: Mutex<String>,
    db: tokio::sync::Mutex<AsyncPgConnection>,
    /// Answers per route: method and pattern → status (or why none) → count.
    tally: Mutex<BTreeMap<String, BTreeMap<String, u32>>>,
    /// How often a case changed who the client is and the run put it back.
    restored: Mutex<u32>,
}

impl Run {
    async fn new(app: TestApp, who: Who) -> Self {
        let page = app.get("/account").await;
        let page = match page.status() {
            StatusCode::OK => page,
            _ => app.get("/login").await,
        };
        let token = csrf_from(&page.text().await.unwrap());
        let db = app.db().await;
        Self {
            app,
            who,
            token: Mutex::new(token),
            db: tokio::sync::Mutex::new(db),
            tally: Mutex::new(BTreeMap::new()),
            restored: Mutex::new(0),
        }
    }

    /// Runs `cases` cases; panics with the smallest failing one.
    fn fuzz(
        &self,
        rt: &tokio::runtime::Runtime,
        site: &Site,
        strategy: &BoxedStrategy<Case>,
        cases: u32,
        seed: u64,
    ) {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 300,
            rng_seed: RngSeed::Fixed(seed),
            ..Config::default()
        });
        let started = Instant::now();
        let result = runner.run(strategy, |case| rt.block_on(self.case(site, &case)));
        self.report(cases, started.elapsed());
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, case)) => {
                panic!("{why}\nsmallest failing case: {case:?}\n(replay with PCN_FUZZ_SEED={seed})")
            }
            Err(e) => panic!("{e}"),
        }
    }

    /// Sends one case; fails on a 5xx, a broken response, or a change stored
    /// without a 303.
    async fn case(&self, site: &Site, case: &Case) -> Result<(), TestCaseError> {
        let target = &site.targets[case.route];
        let before = stored::digest(&mut *self.db.lock().await).await;
        let client = &self.app.client;
        let url = self.app.url(&case.path);
        let request = if target.method == Method::POST {
            let token = self.token.lock().unwrap().clone();
            client
                .post(url)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(case.encoded(Some((pcn::auth::csrf::FIELD, &token))))
        } else {
            let query = case.encoded(None);
            client.get(if query.is_empty() {
                url
            } else {
                format!("{url}?{query}")
            })
        };
        let request = request
            .build()
            .map_err(|e| TestCaseError::fail(format!("cannot build: {}", e.without_url())))?;
        let label = format!("{} {}", target.method, target.pattern);
        if request.url().as_str().len() >= usize::from(u16::MAX) {
            // Longer than any URI can be (64 KiB): no client can send it.
            self.count(label, "unsendable".into());
            return Ok(());
        }
        let response = client
            .execute(request)
            .await
            .map_err(|e| TestCaseError::fail(format!("no answer: {}", e.without_url())))?;
        let status = response.status();
        // An event stream never ends by itself: its head is the answer.
        let body = if crate::helpers::is_event_stream(&response) {
            Default::default()
        } else {
            response.bytes().await.map_err(|e| {
                TestCaseError::fail(format!("{status}, body broken off: {}", e.without_url()))
            })?
        };
        self.count(label, status.as_u16().to_string());
        if status.is_server_error() {
            let text = crate::helpers::Html::parse(&String::from_utf8_lossy(&body)).text();
            return Err(TestCaseError::fail(format!("{status}: {text}")));
        }
        let after = stored::digest(&mut *self.db.lock().await).await;
        // A change answers 303, or 201 with the one-time link it made.
        let changed = [StatusCode::SEE_OTHER, StatusCode::CREATED];
        if after != before && !changed.contains(&status) {
            return Err(TestCaseError::fail(format!(
                "{status}, yet something was stored ({before} → {after})"
            )));
        }
        if target.method == Method::POST {
            self.put_back().await;
        }
        Ok(())
    }

    fn count(&self, label: String, outcome: String) {
        *self
            .tally
            .lock()
            .unwrap()
            .entry(label)
            .or_default()
            .entry(outcome)
            .or_default() += 1;
    }

    /// After a POST: carry on with the session's current CSRF token, or, if
    /// the case changed who the client is, put that back.
    async fn put_back(&self) {
        let (page, sql) = match &self.who {
            Who::Nobody { setup_token } => (
                "/login",
                // The case set PCN up: empty it again, with the same link.
                format!(
                    "DELETE FROM audit_log; DELETE FROM sessions; DELETE FROM sign_in_attempts; \
                     DELETE FROM users; \
                     INSERT INTO setup_tokens (token_hash, expires_at) \
                     VALUES ('\\x{}', now() + interval '1 day');",
                    hex(&pcn::auth::sha256(setup_token.as_bytes()))
                ),
            ),
            Who::Admin { id, hash } => (
                "/admin/users/new",
                format!(
                    "UPDATE users SET role = 'admin', active = true, password_hash = '{hash}' \
                     WHERE id = {id}; DELETE FROM sign_in_attempts;"
                ),
            ),
        };
        let r = self.app.get(page).await;
        if r.status() == StatusCode::OK {
            *self.token.lock().unwrap() = csrf_from(&r.text().await.unwrap());
            return;
        }
        let mut db = self.db.lock().await;
        db.batch_execute(&sql).await.expect("put back");
        drop(db);
        if matches!(self.who, Who::Admin { .. }) {
            let r = self.app.sign_in(ADMIN, PASSWORD).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign in again");
        }
        let r = self.app.get(page).await;
        assert_eq!(r.status(), StatusCode::OK, "{page} after putting back");
        *self.token.lock().unwrap() = csrf_from(&r.text().await.unwrap());
        *self.restored.lock().unwrap() += 1;
    }

    fn report(&self, cases: u32, took: Duration) {
        let who = match self.who {
            Who::Nobody { .. } => "signed out",
            Who::Admin { .. } => "admin",
        };
        eprintln!(
            "fuzz ({who}): {cases} cases in {:.1} s; put back {} times",
            took.as_secs_f64(),
            self.restored.lock().unwrap()
        );
        for (route, outcomes) in self.tally.lock().unwrap().iter() {
            let counts: Vec<String> = outcomes.iter().map(|(s, n)| format!("{s}×{n}")).collect();
            eprintln!("  {route:<42} {}", counts.join(" "));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An app with an admin (signed in), an editor, a viewer, four vehicles (one
/// with two photos), a sale and a voided one, and a saved view (whose
/// delete button the lists show).
async fn arrange_admin() -> Run {
    let app = TestApp::spawn().await;
    let id = app.signed_in_as("admin").await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    app.create_user("viewer", "vi@dealer.example", PASSWORD)
        .await;
    let mut vehicles = Vec::new();
    for n in 1..=4 {
        vehicles.push(add_vehicle(&app, &format!("SEED-{n}")).await);
    }
    // Two photos, so every photo form (cover, earlier, later, delete) shows.
    app.add_photos(
        vehicles[2],
        &[
            ("front.jpg", sample_jpeg(64, 48, [200, 40, 40])),
            ("side.jpg", sample_jpeg(64, 48, [40, 40, 200])),
        ],
    )
    .await;
    let r = app
        .post(
            "/views",
            &[("list", "vehicles"), ("name", "Seed"), ("query", "q=seed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "save a view");
    let today = chrono::Utc::now().date_naive().to_string();
    let mut sales = Vec::new();
    for v in &vehicles[..2] {
        let r = app
            .post(
                &format!("/vehicles/{v}/sell"),
                &[
                    ("sale_price", "20,500.00"),
                    ("sold_on", &today),
                    ("customer_name", "Dana Scully"),
                    ("customer_email", "dana@example.com"),
                    ("customer_phone", "+1 555 0100"),
                    ("payment_method", "finance"),
                    ("notes", ""),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sell {v}");
        sales.push(location(&r));
    }
    let r = app
        .post(&format!("{}/void", sales[1]), &[("reason", "Changed mind")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "void");
    let hash = app
        .scalar_text(&format!(
            "SELECT password_hash AS v FROM users WHERE id = {id}"
        ))
        .await;
    Run::new(app, Who::Admin { id, hash }).await
}

/// Uploads a small CSV for import: the path of its preview, which holds
/// the form that confirms it.
async fn import_preview(app: &TestApp) -> String {
    let csv = "vehicle_number,year,make,model,mileage,condition,cost,list_price,status,received_on\n\
               IMP-1,2020,Kia,Soul,10,used,100,200,available,2026-01-02\n";
    let token = app.csrf_token_with(&app.client).await;
    let parts = [
        crate::helpers::Part::Field("csrf_token", token),
        crate::helpers::Part::File("file", "stock.csv".into(), "text/csv", csv.into()),
    ];
    let r = app
        .post_multipart_with(&app.client, "/vehicles/import", &parts)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "import preview");
    location(&r)
}

/// Adds someone by invitation: the path of the page the link opens.
async fn invitation_page(app: &TestApp) -> String {
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "invited@dealer.example"),
                ("first_name", "Ina"),
                ("last_name", "Vite"),
                ("role", "viewer"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "invite");
    let html = crate::helpers::Html::parse(&r.text().await.unwrap());
    let link = html.one("#invite-link").attr("value").expect("a link");
    link[link.find("/invite/").expect("an invitation path")..].to_string()
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn no_input_on_any_route_gives_a_5xx_or_stores_an_invalid_row() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = env_number("PCN_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let seed = env_number("PCN_FUZZ_SEED").unwrap_or_else(rand::random::<u64>);
    eprintln!("fuzz: seed {seed}");

    let mut site = Site::new();
    let nobody = rt.block_on(async {
        let app = TestApp::spawn().await;
        let setup_token = setup_link(&app).await;
        site.crawl(&app, &[format!("/setup?token={setup_token}")])
            .await;
        Run::new(app, Who::Nobody { setup_token }).await
    });
    let admin = rt.block_on(async {
        let run = arrange_admin().await;
        let invitation = invitation_page(&run.app).await;
        // The vehicle with photos, whose page holds the photos' forms.
        let photographed = run
            .app
            .scalar_i64("SELECT min(vehicle_id) AS v FROM vehicle_photos")
            .await;
        let import = import_preview(&run.app).await;
        site.crawl(
            &run.app,
            &[invitation, format!("/vehicles/{photographed}"), import],
        )
        .await;
        run
    });
    for t in &site.targets {
        assert!(
            t.method != Method::POST || t.has_form,
            "no page has a form for POST {}: the fuzz test finds a route's fields on its pages",
            t.pattern
        );
    }

    let public = site.cases(|t| t.access == Access::Public);
    nobody.fuzz(&rt, &site, &public, cases / 10, seed);
    let all = site.cases(|_| true);
    admin.fuzz(&rt, &site, &all, cases - cases / 10, seed);

    // At the default count every route gets dozens of cases.
    if cases >= DEFAULT_CASES {
        let tally = admin.tally.lock().unwrap();
        for t in &site.targets {
            let label = format!("{} {}", t.method, t.pattern);
            assert!(tally.contains_key(&label), "{label} was never fuzzed");
        }
    }
    for run in [&nobody, &admin] {
        let (v, s, u) = rt.block_on(async {
            let mut conn = run.app.db().await;
            stored::assert_all_valid(&mut conn).await
        });
        eprintln!("fuzz: all stored rows valid: {v} vehicles, {s} sales, {u} users");
    }
}
