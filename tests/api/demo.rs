//! `pcn demo-data`: what it loads keeps every rule of the schema, and a bulk
//! load gives back every index and key it set aside.

use diesel::QueryableByName;
use diesel::sql_types::{Jsonb, Text};
use diesel_async::RunQueryDsl as _;
use reqwest::StatusCode;

use crate::helpers::{TestApp, listed_stock_numbers};

/// Every index and constraint on the three tables, as the catalogue prints them.
async fn schema_objects(app: &TestApp) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Def {
        #[diesel(sql_type = Text)]
        def: String,
    }
    let mut conn = app.db().await;
    let rows: Vec<Def> = diesel::sql_query(
        "SELECT indexrelid::regclass || ': ' || pg_get_indexdef(indexrelid) AS def FROM pg_index \
         WHERE indrelid IN ('vehicles'::regclass, 'vehicle_history'::regclass, 'sales'::regclass) \
         UNION ALL \
         SELECT conname || ': ' || pg_get_constraintdef(oid) || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END \
         FROM pg_constraint \
         WHERE conrelid IN ('vehicles'::regclass, 'vehicle_history'::regclass, 'sales'::regclass) \
         UNION ALL \
         SELECT tgname || CASE tgenabled WHEN 'D' THEN ' disabled' ELSE '' END FROM pg_trigger \
         WHERE tgrelid IN ('vehicles'::regclass, 'vehicle_history'::regclass, 'sales'::regclass) \
           AND NOT tgisinternal \
         ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.def).collect()
}

#[tokio::test]
async fn a_bulk_load_keeps_every_rule_and_gives_back_every_index_and_key() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    // A real stock number that sorts among the demo ones, with its history:
    // the load must leave it alone.
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         VALUES ('S0001', 2020, 'Kia', 'Soul', 10, 'used', 100, 200, 'available', current_date); \
         INSERT INTO vehicle_history (vehicle_id, version, action, snapshot) \
         SELECT id, 1, 'created', '{}' FROM vehicles WHERE vehicle_number = 'S0001'",
    )
    .await;
    let before = schema_objects(&app).await;
    let today = chrono::Utc::now().date_naive();
    let mut steps = Vec::new();
    // Large enough for the bulk path (indexes and keys set aside), then a
    // small one on top, which must carry on the numbering.
    let mut conn = app.db().await;
    let n = pcn::models::demo::load(&mut conn, 60_000, today, |s| steps.push(s))
        .await
        .unwrap();
    assert_eq!(n, 60_000);
    use pcn::models::demo::Step;
    assert_eq!(steps[0], Step::Vehicles(60_000));
    assert!(steps.contains(&Step::Indexes) && steps.last() == Some(&Step::Statistics));
    pcn::models::demo::load(&mut conn, 100, today, |_| {})
        .await
        .unwrap();
    assert_eq!(
        schema_objects(&app).await,
        before,
        "the schema came back whole"
    );

    let count = |sql: &'static str| app.scalar_i64(sql);
    assert_eq!(count("SELECT count(*) AS v FROM vehicles").await, 60_101);
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM vehicle_history h JOIN vehicles v ON v.id = h.vehicle_id \
             WHERE v.vehicle_number = 'S0001'"
        )
        .await,
        1
    );
    assert_eq!(
        count("SELECT count(*) AS v FROM vehicles WHERE vehicle_number = 'S00060100'").await,
        1
    );
    // About one in six of those in stock is sold, each with exactly one sale.
    let sold = count("SELECT count(*) AS v FROM vehicles WHERE status = 'sold'").await;
    assert!((8_000..=11_000).contains(&sold), "{sold} sold");
    assert_eq!(
        count("SELECT count(*) AS v FROM sales WHERE voided_at IS NULL").await,
        sold
    );
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM vehicles v WHERE (v.status = 'sold') <> EXISTS \
             (SELECT 1 FROM sales s WHERE s.vehicle_id = v.id AND s.voided_at IS NULL)"
        )
        .await,
        0
    );
    assert_eq!(
        count("SELECT sum(units)::int8 AS v FROM sales_daily").await,
        sold,
        "the report's daily totals count them"
    );
    // Sales happen after arrival and never in the future.
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM sales s JOIN vehicles v ON v.id = s.vehicle_id \
             WHERE s.sold_on < v.received_on OR s.sold_on > current_date + 1"
        )
        .await,
        0
    );
    // Spread over the days since arrival, not piled up on today.
    assert!(
        count("SELECT count(*) AS v FROM sales WHERE sold_on = current_date").await < sold / 10,
        "sales bunched on today"
    );
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM vehicles \
             WHERE created_at > now() OR updated_at < created_at OR received_on > current_date"
        )
        .await,
        0
    );
    // Every version has its history row, and the newest matches the vehicle.
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM vehicles v WHERE v.version <> \
             (SELECT count(*) FROM vehicle_history h WHERE h.vehicle_id = v.id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            "SELECT count(*) AS v FROM vehicles v JOIN vehicle_history h \
             ON h.vehicle_id = v.id AND h.version = v.version \
             WHERE h.snapshot->>'status' <> v.status OR h.snapshot->>'list_price_cents' <> v.list_price_cents::text"
        )
        .await,
        0
    );
    // Snapshots are what the three-way merge reads.
    #[derive(QueryableByName)]
    struct Snap {
        #[diesel(sql_type = Jsonb)]
        snapshot: serde_json::Value,
    }
    let snaps: Vec<Snap> = diesel::sql_query(
        "SELECT snapshot FROM vehicle_history WHERE vehicle_id % 997 = 0 ORDER BY id",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(snaps.len() > 50);
    for s in snaps {
        serde_json::from_value::<pcn::domain::VehicleFields>(s.snapshot.clone())
            .unwrap_or_else(|e| panic!("{e}: {}", s.snapshot));
    }

    // And the pages show it: a sold vehicle with its history, the list, a search.
    let id = count("SELECT min(id) AS v FROM vehicles WHERE status = 'sold'").await;
    let page = app.get(&format!("/vehicles/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("Sold"), "{page}");
    let list = app.get("/vehicles").await.text().await.unwrap();
    assert!(
        list.contains("about "),
        "an estimate of the 56,000 or so in stock"
    );
    let search = app
        .get("/vehicles?status=all&q=S00012345")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(listed_stock_numbers(&search), ["S00012345"]);
    assert!(search.contains("1 vehicle match"));
}
