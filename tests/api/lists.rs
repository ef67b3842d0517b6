//! Lists people can work from (issue 13): the inventory opens on what is in
//! stock and says which rows it shows of how many; the sales list adds up
//! its filter, sorts by its columns and says when a period is backwards; the
//! report's rows lead to their sales.

use reqwest::StatusCode;

use crate::helpers::{Html, TestApp, href_of, listed_stock_numbers};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn the_inventory_opens_on_what_is_in_stock_and_keeps_every_status_a_choice() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_as("editor").await;
    // One of each status; the sold one with its sale, in one transaction.
    app.exec(&format!(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) VALUES \
         ('A-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'available', DATE '2026-01-01'), \
         ('R-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'reserved', DATE '2026-01-02'), \
         ('S-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'sold', DATE '2026-01-03'), \
         ('X-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'archived', DATE '2026-01-04'); \
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
           payment_method, salesperson_id) \
         SELECT id, 2, 1, DATE '2026-02-01', 'Dana Scully', 'cash', {seller} \
         FROM vehicles WHERE vehicle_number = 'S-1'"
    ))
    .await;
    let listed = async |path: &str| {
        let page = app.get(path).await.text().await.unwrap();
        sorted(listed_stock_numbers(&page))
    };
    let default = app.get("/vehicles").await.text().await.unwrap();
    assert_eq!(sorted(listed_stock_numbers(&default)), ["A-1", "R-1"]);
    let html = Html::parse(&default);
    assert_eq!(html.one("#status option[selected]").text(), "In stock");
    assert_eq!(
        html.one("#total").text(),
        "2 vehicles",
        "the default is no filter"
    );
    assert!(
        !html.has(".filter-buttons a[href='/vehicles']"),
        "nothing to clear"
    );
    for (status, expected) in [
        ("all", &["A-1", "R-1", "S-1", "X-1"][..]),
        ("current", &["A-1", "R-1", "S-1"]),
        ("available", &["A-1"]),
        ("reserved", &["R-1"]),
        ("sold", &["S-1"]),
        ("archived", &["X-1"]),
    ] {
        assert_eq!(
            listed(&format!("/vehicles?status={status}")).await,
            expected,
            "{status}"
        );
    }
    // The CSV follows the page's filter, the default included.
    let csv_rows = async |path: &str| -> Vec<String> {
        let csv = app.get(path).await.text().await.unwrap();
        let mut stock: Vec<String> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        stock.sort();
        stock
    };
    assert_eq!(
        href_of(&default, "a[href^='/vehicles.csv']"),
        "/vehicles.csv"
    );
    assert_eq!(csv_rows("/vehicles.csv").await, ["A-1", "R-1"]);
    let all = app.get("/vehicles?status=all").await.text().await.unwrap();
    let all_csv = href_of(&all, "a[href^='/vehicles.csv']");
    assert_eq!(all_csv, "/vehicles.csv?status=all");
    assert_eq!(csv_rows(&all_csv).await, ["A-1", "R-1", "S-1", "X-1"]);
}

#[tokio::test]
async fn the_inventory_says_which_rows_it_shows_of_how_many() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'N-' || g, 2020, 'Kia', 'Soul', 1, 'used', 1, g * 100, 'available', DATE '2026-01-01' \
         FROM generate_series(1, 120) g",
    )
    .await;
    let total = |html: &str| Html::parse(html).one("#total").text();
    let first = app.get("/vehicles?sort=price").await.text().await.unwrap();
    assert_eq!(total(&first), "1–50 of 120 vehicles");
    let second = app
        .get(&href_of(&first, "a[rel~=next]"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(total(&second), "51–100 of 120 vehicles");
    let third = app
        .get(&href_of(&second, "a[rel~=next]"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(total(&third), "101–120 of 120 vehicles");
    assert_eq!(listed_stock_numbers(&third).len(), 20);
    let back = app
        .get(&href_of(&third, "a[rel~=prev]"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(total(&back), "51–100 of 120 vehicles");
    let searched = app.get("/vehicles?q=soul").await.text().await.unwrap();
    assert_eq!(total(&searched), "1–50 of 120 vehicles match these filters");

    // Past what is counted on every view, the planner's estimate, said so.
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'M-' || g, 2020, 'Kia', 'Rio', 1, 'used', 1, 2, 'available', DATE '2026-02-01' \
         FROM generate_series(1, 3000) g; ANALYZE vehicles",
    )
    .await;
    let many = total(&app.get("/vehicles?make=Kia").await.text().await.unwrap());
    assert!(
        many.starts_with("1–50 of about ") && many.ends_with(" vehicles match these filters"),
        "{many}"
    );
}

/// The figures of the sales list's totals: sales, revenue, gross profit
/// (and the voided ones, when any).
fn totals(html: &str) -> Vec<String> {
    Html::parse(html).texts("#totals dd")
}

fn money(cents: i64) -> String {
    // As the default settings show money.
    pcn::domain::settings::Settings::default().money(cents)
}

/// 60 sales over the last 60 days: prices rising with `g`, two
/// salespeople, every tenth voided.
async fn sixty_sales(app: &TestApp) -> (i64, i64) {
    let seller = app.signed_in_as("admin").await;
    let other = app
        .create_user("editor", "zoe@dealer.example", crate::helpers::PASSWORD)
        .await;
    app.exec(&format!(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'Q-' || g, 2020, 'Kia', 'Soul', 1, 'used', 1000000, 2000000, \
                CASE WHEN g % 10 = 0 THEN 'available' ELSE 'sold' END, current_date - 90 \
         FROM generate_series(1, 60) g; \
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
           payment_method, salesperson_id, voided_at, voided_by, void_reason) \
         SELECT v.id, 1000000 + g * 1000, 1000000, current_date - (g * 7 % 60), \
                'Customer ' || lpad(g::text, 2, '0'), 'cash', \
                CASE WHEN g % 2 = 0 THEN {seller} ELSE {other} END, \
                CASE WHEN g % 10 = 0 THEN now() END, CASE WHEN g % 10 = 0 THEN {seller} END, \
                CASE WHEN g % 10 = 0 THEN 'test' END \
         FROM generate_series(1, 60) g JOIN vehicles v ON v.vehicle_number = 'Q-' || g"
    ))
    .await;
    (seller, other)
}

/// What SQL adds up for the sales matching `condition`.
async fn sql_totals(app: &TestApp, condition: &str) -> Vec<String> {
    let sum = async |what: &str, voided: bool| {
        app.scalar_i64(&format!(
            "SELECT coalesce({what}, 0)::int8 AS v FROM sales WHERE ({condition}) AND voided_at IS {}NULL",
            if voided { "NOT " } else { "" }
        ))
        .await
    };
    let mut figures = vec![
        sum("count(*)", false).await.to_string(),
        money(sum("sum(sale_price_cents)", false).await),
        money(sum("sum(sale_price_cents - cost_cents)", false).await),
    ];
    let voided = sum("count(*)", true).await;
    if voided > 0 {
        figures.push(format!("{voided} listed, not counted"));
    }
    figures
}

#[tokio::test]
async fn the_sales_list_adds_up_its_filter() {
    let app = TestApp::spawn().await;
    let (seller, other) = sixty_sales(&app).await;
    let page = app.get("/sales").await.text().await.unwrap();
    assert_eq!(totals(&page), sql_totals(&app, "true").await);
    assert_eq!(totals(&page)[0], "54");
    let from = (chrono::Utc::now().date_naive() - chrono::Duration::days(20)).to_string();
    for (query, condition) in [
        (
            format!("salesperson={other}"),
            format!("salesperson_id = {other}"),
        ),
        (
            format!("from={from}&salesperson={seller}"),
            format!("sold_on >= '{from}' AND salesperson_id = {seller}"),
        ),
        // A customer search adds up the sales themselves.
        (
            "customer=customer+1".to_string(),
            "customer_name LIKE 'Customer 1%'".to_string(),
        ),
        (
            format!("customer=customer+2&to={from}"),
            format!("customer_name LIKE 'Customer 2%' AND sold_on <= '{from}'"),
        ),
        (
            "customer=nobody".to_string(),
            "customer_name = 'nobody'".to_string(),
        ),
    ] {
        let page = app
            .get(&format!("/sales?{query}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(totals(&page), sql_totals(&app, &condition).await, "{query}");
    }
}

#[tokio::test]
async fn the_sales_list_sorts_by_its_columns_and_pages_in_that_order() {
    let app = TestApp::spawn().await;
    sixty_sales(&app).await;
    // The sales list's cells: 0 date, 3 customer, 4 salesperson.
    let column = |html: &str, n: usize| -> Vec<String> {
        Html::parse(html)
            .select("table.data tbody tr")
            .iter()
            .map(|r| r.select("td")[n].text())
            .collect()
    };
    let customers = |html: &str| column(html, 3);
    let numbered = |range: std::ops::RangeInclusive<i32>| -> Vec<String> {
        range.map(|g| format!("Customer {g:02}")).collect()
    };
    // Cheapest first, then the next page in the same order.
    let by_price = app.get("/sales?sort=price").await.text().await.unwrap();
    assert_eq!(customers(&by_price), numbered(1..=50));
    let html = Html::parse(&by_price);
    let price = html
        .select("thead th")
        .into_iter()
        .find(|th| th.text().starts_with("Price"))
        .unwrap();
    assert_eq!(price.attr("aria-sort").as_deref(), Some("ascending"));
    assert_eq!(
        price.one("a").attr("href").as_deref(),
        Some("/sales?sort=-price"),
        "the other way round next"
    );
    let others: Vec<String> = html
        .select("thead th[aria-sort=none]")
        .iter()
        .map(|th| th.text())
        .collect();
    assert_eq!(others, ["Date", "Customer", "Salesperson", "Gross profit"]);
    let next = href_of(&by_price, "a[rel~=next]");
    assert!(next.contains("sort=price"), "{next}");
    let page2 = app.get(&next).await.text().await.unwrap();
    assert_eq!(customers(&page2), numbered(51..=60));
    // Highest gross profit first; customers A→Z; by salesperson.
    let by_gross = app.get("/sales?sort=-gross").await.text().await.unwrap();
    assert_eq!(
        customers(&by_gross)[..3],
        numbered(58..=60).into_iter().rev().collect::<Vec<_>>()
    );
    let by_customer = app.get("/sales?sort=customer").await.text().await.unwrap();
    assert_eq!(customers(&by_customer), numbered(1..=50));
    let by_seller = app
        .get("/sales?sort=-salesperson")
        .await
        .text()
        .await
        .unwrap();
    let sellers = column(&by_seller, 4);
    let mut expected = sellers.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(sellers, expected);
    assert_ne!(
        sellers.first(),
        sellers.last(),
        "both salespeople are listed"
    );
    // Newest first by default, and the filters keep the order.
    let newest = app.get("/sales").await.text().await.unwrap();
    let dates = column(&newest, 0);
    let mut expected = dates.clone();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, expected);
    let filtered = app
        .get("/sales?customer=customer+1&sort=-price")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        customers(&filtered),
        numbered(10..=19).into_iter().rev().collect::<Vec<_>>()
    );
    // A hand-made cursor that does not fit the sort shows the first page.
    let r = app.get("/sales?sort=price&after=AAAA").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_period_that_ends_before_it_starts_is_pointed_out_not_listed() {
    let app = TestApp::spawn().await;
    sixty_sales(&app).await;
    let r = app.get("/sales?from=2026-05-02&to=2026-05-01").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = Html::parse(&r.text().await.unwrap());
    let error = html.field_error("to").expect("an error beside To");
    assert!(error.contains("before"), "{error}");
    assert_eq!(
        html.one("#to").attr("aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(html.field("from").as_deref(), Some("2026-05-02"), "kept");
    assert!(!html.has("table.data"), "nothing listed");
    assert!(!html.has("#totals"), "nothing added up");
    // The same day at both ends is a period.
    let r = app.get("/sales?from=2026-05-01&to=2026-05-01").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_reports_rows_lead_to_the_sales_they_add_up() {
    let app = TestApp::spawn().await;
    let (_, other) = sixty_sales(&app).await;
    let report = app.get("/reports/sales").await.text().await.unwrap();
    let html = Html::parse(&report);
    let mut followed = 0;
    for row in html.select("table.data tbody tr") {
        let Some(link) = row.first("th a") else {
            continue;
        };
        let href = link.attr("href").unwrap();
        assert!(href.starts_with("/sales?from="), "{href}");
        let units = row.select("td")[0].text();
        let page = app.get(&href).await.text().await.unwrap();
        assert_eq!(totals(&page)[0], units, "{href}");
        followed += 1;
    }
    // Twelve months and two salespeople.
    assert_eq!(followed, 14);
    let people: Vec<String> = html
        .select("table.data tbody th a")
        .iter()
        .filter_map(|a| a.attr("href"))
        .filter(|h| h.contains("salesperson="))
        .collect();
    assert!(
        people
            .iter()
            .any(|h| h.ends_with(&format!("salesperson={other}"))),
        "{people:?}"
    );
    let total = html.one("table.data tfoot th a").attr("href").unwrap();
    let page = app.get(&total).await.text().await.unwrap();
    assert_eq!(totals(&page)[0], "54");
}
