//! Sales over HTTP: exactly once under concurrency (SPEC §5.2), voiding,
//! roles, the status/sale invariant, the report against SQL.

use reqwest::StatusCode;

use crate::helpers::{Html, TestApp, add_vehicle, location, send_form};

pub(crate) fn sale_form(version: i64, price: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sale_price", price.to_string()),
        ("sold_on", chrono::Utc::now().date_naive().to_string()),
        ("customer_name", "Dana Scully".into()),
        ("customer_email", "dana@example.com".into()),
        ("customer_phone", "+1 555 0100".into()),
        ("payment_method", "finance".into()),
        ("notes", String::new()),
        ("version", version.to_string()),
    ]
}

fn refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn version_of(app: &TestApp, id: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT version::int8 AS v FROM vehicles WHERE id = {id}"
    ))
    .await
}

const INVARIANT: &str = "SELECT count(*) AS v FROM vehicles v WHERE (v.status = 'sold') <> \
     ((SELECT count(*) FROM sales s WHERE s.vehicle_id = v.id AND s.voided_at IS NULL) = 1) \
     OR (SELECT count(*) FROM sales s WHERE s.vehicle_id = v.id AND s.voided_at IS NULL) > 1";

/// Days (and salespeople) where the kept totals disagree with the sales.
pub(crate) const DAILY_TOTALS_DRIFT: &str = "SELECT count(*) AS v FROM ( \
       SELECT sold_on, salesperson_id, count(*) AS units, sum(sale_price_cents) AS revenue, \
              sum(sale_price_cents - cost_cents) AS gross \
       FROM sales WHERE voided_at IS NULL GROUP BY 1, 2) s \
     FULL JOIN (SELECT * FROM sales_daily WHERE units <> 0 OR revenue_cents <> 0 OR gross_cents <> 0) d \
       USING (sold_on, salesperson_id) \
     WHERE s.units IS DISTINCT FROM d.units OR s.revenue IS DISTINCT FROM d.revenue_cents \
        OR s.gross IS DISTINCT FROM d.gross_cents";

#[tokio::test]
async fn a_sale_moves_the_vehicle_to_sold_and_shows_a_receipt() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "S-1").await;
    let form = app.get(&format!("/vehicles/{id}/sell")).await;
    assert_eq!(form.status(), StatusCode::OK);
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(1, "20,750.00")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sale_url = location(&r);
    assert!(sale_url.starts_with("/sales/"));
    let receipt = app.get(&sale_url).await.text().await.unwrap();
    assert!(receipt.contains("20,750.00") && receipt.contains("Dana Scully"));
    assert!(
        receipt.contains("2,750.00"),
        "gross profit = 20,750 - 18,000"
    );
    let vehicle = app
        .get(&format!("/vehicles/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let page = Html::parse(&vehicle);
    assert!(page.one("h1 .badge").has_class("badge-status-sold"));
    assert!(
        page.has(&format!("a[href='{sale_url}']")),
        "the vehicle links to its sale"
    );
    assert!(vehicle.contains("sold"), "history shows the sale");
    assert_eq!(app.scalar_i64(INVARIANT).await, 0);
    // The sell page of a sold vehicle leads to its sale.
    let again = app.get(&format!("/vehicles/{id}/sell")).await;
    assert_eq!(location(&again), sale_url);
}

#[tokio::test]
async fn fifty_simultaneous_sales_of_one_vehicle_record_exactly_one() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "RUSH-1").await;
    let token = app.csrf_token_with(&app.client).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut body = vec![("csrf_token", token.clone())];
        body.extend(sale_form(1, &format!("{}", 20_000 + i)));
        let c = app.client.clone();
        let url = app.url(&format!("/vehicles/{id}/sell"));
        tasks.push(tokio::spawn(async move {
            let r = send_form(&c, &url, &body).await;
            let status = r.status();
            let loc = location(&r);
            (status, loc, r.text().await.unwrap())
        }));
    }
    let mut won = Vec::new();
    let mut lost = Vec::new();
    for t in tasks {
        let (status, loc, body) = t.await.unwrap();
        match status {
            StatusCode::SEE_OTHER => won.push(loc),
            StatusCode::CONFLICT => lost.push(body),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won.len(), 1);
    assert_eq!(lost.len(), 49);
    // Every loser is told which sale won.
    for body in &lost {
        assert!(
            Html::parse(body).has(&format!("a[href='{}']", won[0])),
            "409 links to the winning sale"
        );
    }
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM sales").await, 1);
    assert_eq!(app.scalar_i64(INVARIANT).await, 0);
}

#[tokio::test]
async fn a_stale_version_or_bad_input_stores_nothing() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "ST-1").await;
    app.exec(&format!(
        "UPDATE vehicles SET list_price_cents = 2300000, version = 2 WHERE id = {id}"
    ))
    .await;
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(1, "20000")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("changed since you opened"));
    assert_eq!(
        Html::parse(&body).field("version").as_deref(),
        Some("2"),
        "ready on the current version"
    );
    for (field, value) in [
        ("sale_price", "free"),
        ("sold_on", "2999-01-01"),
        ("customer_name", ""),
        ("customer_email", "nope@"),
        ("payment_method", "barter"),
    ] {
        let mut form = sale_form(2, "20000");
        for (k, v) in form.iter_mut() {
            if *k == field {
                *v = value.into();
            }
        }
        let r = app
            .post(&format!("/vehicles/{id}/sell"), &refs(&form))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            Html::parse(&r.text().await.unwrap())
                .field_error(field)
                .is_some(),
            "{field}"
        );
    }
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM sales").await, 0);
    assert_eq!(version_of(&app, id).await, 2);
}

#[tokio::test]
async fn void_then_resell() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let id = add_vehicle(&app, "V-1").await;
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(1, "20000")),
        )
        .await;
    let sale = location(&r);
    // A reason is required.
    let r = app.post(&format!("{sale}/void"), &[("reason", "  ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Html::parse(&r.text().await.unwrap())
            .field_error("reason")
            .is_some()
    );
    let r = app
        .post(
            &format!("{sale}/void"),
            &[("reason", "Financing fell through")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app.get(&sale).await.text().await.unwrap();
    assert!(page.contains("Voided") && page.contains("Financing fell through"));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND status = 'available'"
        ))
        .await,
        1
    );
    // Voiding twice is refused; the vehicle sells again on its new version.
    let r = app
        .post(&format!("{sale}/void"), &[("reason", "again")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v = version_of(&app, id).await;
    assert_eq!(v, 3, "created, sold, voided");
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(v, "19000")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_ne!(location(&r), sale);
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM sales").await, 2);
    assert_eq!(app.scalar_i64(INVARIANT).await, 0);
    assert_eq!(app.scalar_i64(DAILY_TOTALS_DRIFT).await, 0);
    let history = app
        .get(&format!("/vehicles/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(history.contains("sale voided"));
}

#[tokio::test]
async fn roles_for_selling_voiding_and_reading() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "RL-1").await;
    let viewer = app.second_user("viewer").await;
    assert_eq!(
        app.get_with(&viewer, &format!("/vehicles/{id}/sell"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = app
        .post_with(
            &viewer,
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(1, "20000")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &refs(&sale_form(1, "20000")),
        )
        .await;
    let sale = location(&r);
    // The editor who sold it cannot void it; the viewer can read everything.
    assert_eq!(
        app.post(&format!("{sale}/void"), &[("reason", "mine")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for path in [sale.as_str(), "/sales", "/sales.csv", "/reports/sales"] {
        assert_eq!(
            app.get_with(&viewer, path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sales WHERE voided_at IS NULL")
            .await,
        1
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    Sell,
    Void,
    Edit,
}

/// What one worker's step came to.
#[derive(Debug)]
enum Outcome {
    /// Sent, and answered with this status.
    Sent(Op, StatusCode),
    /// A sell that lost the race before its form: the vehicle was sold
    /// meanwhile, and the sell page led to that sale instead.
    SoldMeanwhile,
}

/// One worker: steps on random vehicles, each as a browser does it: read
/// the page the form is on, then send that form (racing the other workers).
async fn worker(
    c: reqwest::Client,
    base: String,
    ids: Vec<i64>,
    token: String,
    seed: u64,
    steps: usize,
) -> Vec<Outcome> {
    use rand::{Rng as _, SeedableRng as _};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let get = async |path: String| {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let post = async |path: String, fields: Vec<(String, String)>| {
        send_form(&c, &format!("{base}{path}"), &fields)
            .await
            .status()
    };
    let mut out = Vec::new();
    for step in 0..steps {
        let id = ids[rng.random_range(0..ids.len())];
        let (status, show) = get(format!("/vehicles/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        let sale = Html::parse(&show)
            .first("a[href^='/sales/']")
            .and_then(|a| a.attr("href"));
        let op = match (rng.random_bool(0.4), &sale) {
            (true, _) => Op::Edit,
            (false, Some(_)) => Op::Void,
            (false, None) => Op::Sell,
        };
        let sent = match op {
            Op::Sell => {
                let (status, html) = get(format!("/vehicles/{id}/sell")).await;
                if status == StatusCode::SEE_OTHER {
                    out.push(Outcome::SoldMeanwhile);
                    continue;
                }
                assert_eq!(status, StatusCode::OK);
                // The page's own form: its version, price, date and token.
                let mut form = Html::parse(&html)
                    .one(&format!("form[action='/vehicles/{id}/sell']"))
                    .form_fields();
                assert!(
                    form.iter().any(|(k, v)| k == "version" && !v.is_empty()),
                    "the sell form carries the version it was read at"
                );
                for (k, v) in form.iter_mut() {
                    if k == "customer_name" {
                        *v = "Dana Scully".into();
                    }
                }
                post(format!("/vehicles/{id}/sell"), form).await
            }
            Op::Void => {
                let sale = sale.clone().unwrap();
                let fields = vec![
                    ("csrf_token".to_string(), token.clone()),
                    ("reason".to_string(), "test".to_string()),
                ];
                post(format!("{sale}/void"), fields).await
            }
            Op::Edit => {
                let (status, html) = get(format!("/vehicles/{id}/edit")).await;
                assert_eq!(status, StatusCode::OK);
                // The edit page's form as it stands (version, status and all),
                // with new notes.
                let mut form = Html::parse(&html).one("form.vehicle-form").form_fields();
                assert!(
                    form.iter().any(|(k, v)| k == "version" && !v.is_empty()),
                    "the edit form carries the version it was read at"
                );
                for (k, v) in form.iter_mut() {
                    if k == "notes" {
                        *v = format!("edit {seed}.{step}");
                    }
                }
                post(format!("/vehicles/{id}"), form).await
            }
        };
        out.push(Outcome::Sent(op, sent));
    }
    out
}

#[tokio::test]
async fn random_concurrent_sells_voids_and_edits_keep_status_and_sales_in_agreement() {
    const WORKERS: u64 = 8;
    const STEPS: usize = 8;
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(add_vehicle(&app, &format!("CH-{i}")).await);
    }
    let token = app.csrf_token_with(&app.client).await;
    let seed: u64 = rand::random();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        tasks.push(tokio::spawn(worker(
            app.client.clone(),
            app.address.clone(),
            ids.clone(),
            token.clone(),
            seed.wrapping_add(w),
            STEPS,
        )));
    }
    let mut landed = std::collections::HashMap::<Op, i64>::new();
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        for outcome in t.await.unwrap() {
            *tally.entry(format!("{outcome:?}")).or_default() += 1;
            match outcome {
                Outcome::Sent(op, StatusCode::SEE_OTHER) => *landed.entry(op).or_default() += 1,
                // Lost a race: refused whole, with the reason.
                Outcome::Sent(_, StatusCode::CONFLICT) | Outcome::SoldMeanwhile => {}
                Outcome::Sent(op, status) => {
                    panic!("{op:?} answered {status} (seed {seed}; so far {tally:?})")
                }
            }
        }
    }
    let context = format!("seed {seed}: {tally:?}");
    // Enough of each kind landed for the invariants below to mean something.
    let n = |op| landed.get(&op).copied().unwrap_or(0);
    assert!(n(Op::Sell) >= 3, "sells that landed; {context}");
    assert!(n(Op::Void) >= 2, "voids that landed; {context}");
    assert!(n(Op::Edit) >= 5, "edits that landed; {context}");
    // Every answer "done" did exactly one thing, and nothing else happened.
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sales").await,
        n(Op::Sell),
        "{context}"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sales WHERE voided_at IS NOT NULL")
            .await,
        n(Op::Void),
        "{context}"
    );
    for (action, op) in [
        ("sold", Op::Sell),
        ("sale voided", Op::Void),
        ("edited", Op::Edit),
    ] {
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT count(*) AS v FROM vehicle_history WHERE action = '{action}'"
            ))
            .await,
            n(op),
            "history rows {action}; {context}"
        );
    }
    assert_eq!(app.scalar_i64(INVARIANT).await, 0, "{context}");
    assert_eq!(app.scalar_i64(DAILY_TOTALS_DRIFT).await, 0, "{context}");
    // Versions and history agree for every vehicle.
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM vehicles v WHERE v.version <> \
             (SELECT count(*) FROM vehicle_history h WHERE h.vehicle_id = v.id)"
        )
        .await,
        0,
        "{context}"
    );
}

#[tokio::test]
async fn the_database_itself_refuses_a_sold_status_without_a_sale() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "DB-1").await;
    use diesel_async::SimpleAsyncConnection as _;
    let mut conn = app.db().await;
    let err = conn
        .batch_execute(&format!(
            "UPDATE vehicles SET status = 'sold' WHERE id = {id}"
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sale(s) not voided"), "{err}");
}

#[tokio::test]
async fn the_report_adds_up_to_what_sql_adds_up() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_as("admin").await;
    // 30 sold vehicles over the last months, some voided.
    app.exec(&format!(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'R-' || g, 2020, 'Kia', 'Soul', 10, 'used', 1000000 + g * 1000, 1500000, \
                CASE WHEN g % 5 = 0 THEN 'available' ELSE 'sold' END, current_date - 400 \
         FROM generate_series(1, 30) g;
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, payment_method, \
           salesperson_id, voided_at, voided_by, void_reason) \
         SELECT v.id, 1400000 + g * 1234, v.cost_cents, current_date - (g * 9), 'Customer ' || g, 'cash', {seller}, \
                CASE WHEN g % 5 = 0 THEN now() END, CASE WHEN g % 5 = 0 THEN {seller} END, \
                CASE WHEN g % 5 = 0 THEN 'test' END \
         FROM generate_series(1, 30) g JOIN vehicles v ON v.vehicle_number = 'R-' || g;"
    ))
    .await;
    assert_eq!(app.scalar_i64(DAILY_TOTALS_DRIFT).await, 0);
    // Corrections made in the database directly are counted too, and sales
    // are never deleted (voided instead), so the totals cannot drift.
    app.exec(
        "UPDATE sales SET sale_price_cents = sale_price_cents + 100, sold_on = sold_on - 1 \
         WHERE customer_name IN ('Customer 3', 'Customer 4'); \
         UPDATE sales SET voided_at = NULL, voided_by = NULL, void_reason = NULL \
         WHERE customer_name = 'Customer 5'; \
         UPDATE vehicles SET status = 'sold' WHERE vehicle_number = 'R-5'; \
         UPDATE sales SET notes = 'checked'",
    )
    .await;
    assert_eq!(app.scalar_i64(DAILY_TOTALS_DRIFT).await, 0);
    let mut conn = app.db().await;
    for sql in [
        "DELETE FROM sales WHERE customer_name = 'Customer 1'",
        "TRUNCATE sales",
    ] {
        let err = diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, sql)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("voided, not deleted"), "{err}");
    }
    let from = (chrono::Utc::now().date_naive() - chrono::Duration::days(200)).to_string();
    let to = chrono::Utc::now().date_naive().to_string();
    let page = app
        .get(&format!("/reports/sales?from={from}&to={to}"))
        .await
        .text()
        .await
        .unwrap();
    let units = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM sales WHERE voided_at IS NULL AND sold_on BETWEEN '{from}' AND '{to}'"
        ))
        .await;
    let revenue = app
        .scalar_i64(&format!(
            "SELECT sum(sale_price_cents)::int8 AS v FROM sales WHERE voided_at IS NULL AND sold_on BETWEEN '{from}' AND '{to}'"
        ))
        .await;
    let gross = app
        .scalar_i64(&format!(
            "SELECT sum(sale_price_cents - cost_cents)::int8 AS v FROM sales WHERE voided_at IS NULL \
             AND sold_on BETWEEN '{from}' AND '{to}'"
        ))
        .await;
    // Dollars before the amount until an admin chooses otherwise.
    let money = |c: i64| format!("${}", pcn::domain::Money::from_cents(c));
    let report = Html::parse(&page);
    // The headline figures: units, revenue, gross profit (then the margin).
    assert_eq!(
        report.texts(".kpi strong")[..3],
        [units.to_string(), money(revenue), money(gross)]
    );
    assert!(report.has("svg[role=img]"), "the chart");
    // The CSV has every sale of the period, voided ones marked.
    let csv = app
        .get(&format!("/sales.csv?from={from}&to={to}"))
        .await
        .text()
        .await
        .unwrap();
    let all = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM sales WHERE sold_on BETWEEN '{from}' AND '{to}'"
        ))
        .await;
    assert_eq!(csv.lines().count() as i64, all + 1);
}
