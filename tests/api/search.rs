//! Search finds what people type (issue 13): every word against year, make,
//! model, trim and colour, whatever the case, hyphens and spaces inside
//! words, with the common make names; the header's quick search on every
//! signed-in page. (Stock number and VIN search: `vehicles.rs`.)

use reqwest::StatusCode;

use crate::helpers::{
    Html, TestApp, add_vehicle, edit_form, listed_stock_numbers, refs, text_at, vehicle_form, with,
};

/// Cars that differ in one word from the ones people look for.
const LOT: &str = "INSERT INTO vehicles (vehicle_number, year, make, model, trim, color, mileage, \
       condition, cost_cents, list_price_cents, status, received_on) VALUES \
     ('CIV-19', 2019, 'Honda', 'Civic', 'EX', 'Black', 1, 'used', 1, 2, 'available', DATE '2026-01-01'), \
     ('CIV-15', 2015, 'Honda', 'Civic', 'LX', 'White', 1, 'used', 1, 2, 'available', DATE '2026-01-02'), \
     ('ACC-19', 2019, 'Honda', 'Accord', 'EX', 'Black', 1, 'used', 1, 2, 'available', DATE '2026-01-03'), \
     ('TAH-1', 2021, 'Chevrolet', 'Tahoe', 'XLE', 'Silver', 1, 'used', 1, 2, 'available', DATE '2026-01-04'), \
     ('TAH-2', 2021, 'Chevrolet', 'Tahoe', 'LT', 'Black', 1, 'used', 1, 2, 'reserved', DATE '2026-01-05'), \
     ('CAM-1', 2020, 'Toyota', 'Camry', 'XLE', 'Gray', 1, 'used', 1, 2, 'available', DATE '2026-01-06'), \
     ('BNZ-1', 2022, 'Mercedes-Benz', 'C-Class', '', 'Black', 1, 'used', 1, 2, 'available', DATE '2026-01-07'), \
     ('MRC-1', 2005, 'Mercury', 'Grand Marquis', 'LS', 'Blue', 1, 'used', 1, 2, 'available', DATE '2026-01-08'), \
     ('F15-1', 2020, 'Ford', 'F-150', 'XLT', 'Blue', 1, 'used', 1, 2, 'available', DATE '2026-01-09'), \
     ('F25-1', 2020, 'Ford', 'F-250', 'XLT', 'Blue', 1, 'used', 1, 2, 'available', DATE '2026-01-10'), \
     ('JET-1', 2018, 'Volkswagen', 'Jetta', 'SE', 'Red', 1, 'used', 1, 2, 'available', DATE '2026-01-11'), \
     ('BMW-1', 2018, 'BMW', 'X5', '', 'Gray', 1, 'used', 1, 2, 'available', DATE '2026-01-12')";

/// The stock numbers the list shows for search `q` (every status), in
/// stock-number order.
async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let query = serde_urlencoded::to_string([("q", q), ("status", "all")]).unwrap();
    let r = app.get(&format!("/vehicles?{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{q}");
    let mut listed = listed_stock_numbers(&r.text().await.unwrap());
    listed.sort();
    listed
}

#[tokio::test]
async fn what_people_type_finds_the_right_car_and_not_the_wrong_ones() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec(LOT).await;
    let cases: &[(&str, &[&str])] = &[
        ("2019 Civic", &["CIV-19"]),
        ("black civic", &["CIV-19"]),
        ("CIVIC black", &["CIV-19"]),
        ("tahoe xle", &["TAH-1"]),
        ("Mercedes Benz", &["BNZ-1"]),
        ("Mercedes-Benz", &["BNZ-1"]),
        ("mercedesbenz", &["BNZ-1"]),
        ("merc", &["BNZ-1"]),
        ("benz c class", &["BNZ-1"]),
        ("F150", &["F15-1"]),
        ("f-150", &["F15-1"]),
        ("F 150", &["F15-1"]),
        ("Chevy", &["TAH-1", "TAH-2"]),
        ("chevy tahoe black", &["TAH-2"]),
        ("VW", &["JET-1"]),
        ("vw jetta", &["JET-1"]),
        ("grandmarquis", &["MRC-1"]),
        ("xle", &["CAM-1", "TAH-1"]),
        ("x5", &["BMW-1"]),
        ("BLACK", &["ACC-19", "BNZ-1", "CIV-19", "TAH-2"]),
        // Every word must match.
        ("civic 2020", &[]),
        ("tahoe camry", &[]),
        ("honda xle", &[]),
        // A short word is a whole word: "lt" is a trim, not part of "XLT".
        ("lt", &["TAH-2"]),
        ("x", &[]),
    ];
    let mut wrong = Vec::new();
    for (q, expected) in cases {
        let got = found(&app, q).await;
        if got != *expected {
            wrong.push(format!("{q:?}: found {got:?}, expected {expected:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn what_an_editor_saves_is_found_by_its_new_words_for_a_viewer() {
    // The search words are written by the database as the editor's role and
    // read as the viewer's (the roles of migration `roles`).
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let form = with(
        with(
            with(vehicle_form("SW-1"), "make", "Land Rover"),
            "model",
            "Range Rover Sport",
        ),
        "color",
        "Santorini Black",
    );
    let r = app.post("/vehicles", &refs(&form)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let viewer = app.second_user("viewer").await;
    let seen = async |q: &str| {
        let query = serde_urlencoded::to_string([("q", q)]).unwrap();
        let page = app
            .get_with(&viewer, &format!("/vehicles?{query}"))
            .await
            .text()
            .await
            .unwrap();
        listed_stock_numbers(&page)
    };
    assert_eq!(seen("landrover black").await, ["SW-1"]);
    assert_eq!(seen("range rover sport").await, ["SW-1"]);
    assert!(seen("defender").await.is_empty());
    // An edit changes what finds it.
    let id = app
        .scalar_i64("SELECT id AS v FROM vehicles WHERE vehicle_number = 'SW-1'")
        .await;
    let edit = with(edit_form(&app, &app.client, id).await, "model", "Defender");
    let r = app.post(&format!("/vehicles/{id}"), &refs(&edit)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(seen("land rover defender").await, ["SW-1"]);
    assert!(seen("range rover sport").await.is_empty());
}

#[tokio::test]
async fn the_databases_search_words_are_the_domains() {
    // `pcn_search_field` (SQL) and `domain::search::field_form` (Rust) are
    // twins: the typed words are normalised by one, the vehicles by the other.
    let app = TestApp::spawn().await;
    for field in [
        "Mercedes-Benz",
        "F-150",
        "Grand Cherokee",
        "  Civic ",
        "3 Series",
        "EX-L",
        "a_b:c@d[e]f`g{h}i~j/k",
        // Beyond ASCII, letters are words; whether `lower()` lowers them is
        // the database locale's say (the own cluster's is C), so only
        // lower-case ones here.
        "škoda octavia",
        "",
        "--",
    ] {
        let sql = app
            .scalar_text(&format!(
                "SELECT pcn_search_field('{}') AS v",
                field.replace('\'', "''")
            ))
            .await;
        assert_eq!(sql, pcn::domain::search::field_form(field), "{field:?}");
    }
}

#[tokio::test]
async fn a_search_by_words_is_read_from_the_trigram_index_at_scale() {
    let app = TestApp::spawn().await;
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, trim, color, mileage, condition, \
           cost_cents, list_price_cents, status, received_on) \
         SELECT 'T-' || g, 2010 + g % 15, (ARRAY['Honda','Ford','Kia','Chevrolet'])[1 + g % 4], \
                'Model' || (g % 97), (ARRAY['EX','LX','XLE'])[1 + g % 3], \
                (ARRAY['Black','White','Red','Blue','Gray'])[1 + g % 5], 1, 'used', 1, 2, \
                'available', DATE '2026-01-01' + (g % 300) \
         FROM generate_series(1, 30000) g; ANALYZE vehicles",
    )
    .await;
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(column_name = "QUERY PLAN", sql_type = diesel::sql_types::Text)]
        line: String,
    }
    // The list's conditions for "Model42 2019", in stock.
    let plan: Vec<Line> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "EXPLAIN SELECT id FROM vehicles WHERE status IN ('available', 'reserved') \
             AND (search_words LIKE lower('%model42%') AND search_words LIKE lower('%2019%'))",
        ),
        &mut app.db().await,
    )
    .await
    .unwrap();
    let plan: String = plan.into_iter().map(|l| l.line + "\n").collect();
    assert!(plan.contains("vehicles_search_words_trgm_idx"), "{plan}");
}

#[tokio::test]
async fn every_signed_in_page_has_a_labelled_quick_search_for_the_inventory() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    for path in ["/vehicles", "/sales", "/reports/sales", "/account"] {
        let html = Html::parse(&app.get(path).await.text().await.unwrap());
        let form = html.one("header form.quick-search");
        assert_eq!(form.attr("action").as_deref(), Some("/vehicles"), "{path}");
        assert_eq!(form.attr("method").as_deref(), Some("get"), "{path}");
        assert_eq!(form.attr("role").as_deref(), Some("search"), "{path}");
        let input = form.one("input[name=q]");
        let id = input.attr("id").unwrap();
        let label = form.one(&format!("label[for={id}]"));
        assert!(!label.text().trim().is_empty(), "{path}: labelled");
    }
    // Signed out, there is nothing to search.
    let login = text_at(&reqwest::Client::new(), &app.url("/login")).await;
    assert!(!Html::parse(&login).has("form.quick-search"));
    // What it sends is a search of the list.
    add_vehicle(&app, "QS-1").await;
    let found = app.get("/vehicles?q=qs-1").await.text().await.unwrap();
    assert_eq!(listed_stock_numbers(&found), ["QS-1"]);
}
