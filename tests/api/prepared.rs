//! The statements of a list view are prepared once per connection: the
//! session check and every shape of the page query (list, sorts, cursors,
//! filters, the exact count of a small view, the planner's estimate) are put
//! in diesel's statement cache the first time and found there the next.
//! Searches are the exception, planned for their pattern every time. diesel reports each statement it prepares
//! for its cache (`CacheQuery`); one it cannot cache it never reports.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::AsyncConnection as _;
use pcn::models::{
    sessions,
    vehicles::{self, Cursor, Estimates, ListFilter, Sort, SortKey, StatusFilter},
};

use crate::helpers::TestApp;

#[derive(Default)]
struct Seen {
    started: usize,
    prepared: usize,
    /// The statements run, and those diesel prepared for its cache.
    run_sql: std::collections::BTreeSet<String>,
    cached_sql: std::collections::BTreeSet<String>,
}

struct Count(Arc<Mutex<Seen>>);

impl Instrumentation for Count {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        let mut seen = self.0.lock().unwrap();
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                seen.started += 1;
                let sql = query.to_string();
                let sql = sql.split(" -- binds").next().unwrap_or(&sql).to_string();
                seen.run_sql.insert(sql);
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                seen.prepared += 1;
                seen.cached_sql.insert(sql.to_string());
            }
            _ => {}
        }
    }
}

fn filter(q: Option<&str>, make: Option<&str>, status: StatusFilter) -> ListFilter {
    ListFilter {
        q: q.map(String::from),
        make: make.map(String::from),
        status,
    }
}

#[tokio::test]
async fn every_statement_of_a_list_view_is_prepared_once_per_connection() {
    let app = TestApp::spawn().await;
    let today = chrono::Utc::now().date_naive();
    let mut conn = app.db().await;
    pcn::models::demo::load(&mut conn, 300, today, |_| {})
        .await
        .unwrap();
    let stock: String = app
        .scalar_text("SELECT vehicle_number AS v FROM vehicles ORDER BY id LIMIT 1")
        .await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    conn.set_instrumentation(Count(Arc::clone(&seen)));
    let newest = Sort::default();
    let by_price = Sort {
        key: SortKey::Price,
        desc: false,
    };
    let views = [
        (filter(None, None, StatusFilter::Current), newest, None),
        (
            filter(None, None, StatusFilter::Current),
            by_price,
            Some(Cursor::After("2000000".into(), 5)),
        ),
        (
            filter(None, None, StatusFilter::All),
            newest,
            Some(Cursor::Before("2026-01-01".into(), 9)),
        ),
        (
            filter(Some(&stock), None, StatusFilter::Current),
            newest,
            None,
        ),
        (
            filter(Some("honda civic"), None, StatusFilter::Current),
            newest,
            None,
        ),
        (
            filter(Some("x5"), None, StatusFilter::Current),
            newest,
            None,
        ),
        (
            filter(
                None,
                Some("Toyota"),
                StatusFilter::Only(pcn::domain::Status::Reserved),
            ),
            newest,
            None,
        ),
    ];
    for round in 0..2 {
        // Fresh estimates each round, so the estimate's statement runs too.
        let estimates = Estimates::default();
        *seen.lock().unwrap() = Seen::default();
        for (f, sort, cursor) in &views {
            vehicles::page(&mut conn, f, *sort, cursor.as_ref(), 50, today, &estimates)
                .await
                .unwrap();
        }
        vehicles::makes(&mut conn).await.unwrap();
        sessions::find_live(
            &mut conn,
            b"no such token",
            Duration::from_secs(1800),
            Duration::from_secs(43_200),
        )
        .await
        .unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            seen.started >= views.len() + 2,
            "round {round}: {} statements",
            seen.started
        );
        if round == 0 {
            // Searches are planned for their pattern each time (a generic
            // plan cannot use a prefix index for `LIKE $1`); all else is
            // prepared once.
            let search = |sql: &str| sql.contains(" LIKE ");
            let not_cached: Vec<_> = seen
                .run_sql
                .difference(&seen.cached_sql)
                .filter(|sql| !search(sql))
                .collect();
            assert!(
                not_cached.is_empty(),
                "statements diesel did not prepare for its cache: {not_cached:#?}"
            );
            assert!(
                seen.cached_sql.iter().all(|sql| !search(sql)),
                "a search was prepared once for every pattern"
            );
        } else {
            assert_eq!(seen.prepared, 0, "every statement came from the cache");
        }
    }
}

#[tokio::test]
async fn with_its_caches_warm_a_list_page_is_one_statement() {
    // The list handler runs the session check, `page` and `Makes::get`:
    // with the estimate and the makes kept, the page is its only statement,
    // so a signed-in list view costs two.
    let app = TestApp::spawn().await;
    let today = chrono::Utc::now().date_naive();
    let mut conn = app.db().await;
    pcn::models::demo::load(&mut conn, 300, today, |_| {})
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    conn.set_instrumentation(Count(Arc::clone(&seen)));
    let (estimates, makes) = (Estimates::default(), vehicles::Makes::default());
    let views = [
        filter(None, None, StatusFilter::Current),
        filter(Some("honda civic"), None, StatusFilter::Current),
        filter(None, Some("Toyota"), StatusFilter::All),
    ];
    for f in &views {
        vehicles::page(&mut conn, f, Sort::default(), None, 50, today, &estimates)
            .await
            .unwrap();
    }
    let first = makes.get(&mut conn).await.unwrap();
    *seen.lock().unwrap() = Seen::default();
    for f in &views {
        vehicles::page(&mut conn, f, Sort::default(), None, 50, today, &estimates)
            .await
            .unwrap();
        assert_eq!(makes.get(&mut conn).await.unwrap(), first);
    }
    assert_eq!(
        seen.lock().unwrap().started,
        views.len(),
        "one statement a view"
    );
    // A vehicle saved in this instance: the makes are read again.
    makes.forget();
    makes.get(&mut conn).await.unwrap();
    assert_eq!(seen.lock().unwrap().started, views.len() + 1);
}
