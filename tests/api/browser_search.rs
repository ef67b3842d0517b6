//! The header's quick search in a real headless Chromium: typed on a tablet
//! (820 px) it lands on the inventory with the right car, and on a 320 px
//! phone it fits the screen; the sales list with its totals on the tablet.
//! Screenshots in `target/tmp/screenshots/search-*.png`. Without chromedriver
//! the test is skipped, unless PCN_REQUIRE_BROWSER=1 (CI).

use fantoccini::Locator;

use crate::helpers::{
    PASSWORD, TestApp, click, fill, open_browser, shot, sign_in_browser, start_driver, text_of,
    wait_for_url,
};

/// How far the element `css` reaches right of the viewport, in CSS pixels
/// (0 or less: it fits).
async fn overhang(b: &fantoccini::Client, css: &str) -> f64 {
    let script = format!(
        "const r = document.querySelector('{css}').getBoundingClientRect(); \
         return r.right - document.documentElement.clientWidth;"
    );
    b.execute(&script, vec![]).await.unwrap().as_f64().unwrap()
}

#[tokio::test]
async fn the_quick_search_finds_what_is_typed_on_a_tablet_and_fits_a_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    let seller = app
        .create_user("editor", "lena@dealer.example", PASSWORD)
        .await;
    app.exec(&format!(
        "INSERT INTO vehicles (vehicle_number, year, make, model, trim, color, mileage, condition, \
           cost_cents, list_price_cents, status, received_on) VALUES \
         ('CIV-19', 2019, 'Honda', 'Civic', 'EX', 'Black', 41000, 'used', 1500000, 1890000, 'available', DATE '2026-01-01'), \
         ('CIV-15', 2015, 'Honda', 'Civic', 'LX', 'White', 98000, 'used', 700000, 990000, 'available', DATE '2026-01-02'), \
         ('F15-1', 2020, 'Ford', 'F-150', 'XLT', 'Blue', 52000, 'used', 2900000, 3450000, 'sold', DATE '2026-01-03'); \
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
           payment_method, salesperson_id) \
         SELECT id, 3390000, 2900000, current_date, 'Dana Scully', 'finance', {seller} \
         FROM vehicles WHERE vehicle_number = 'F15-1'"
    ))
    .await;
    let b = open_browser(&driver, 820, 1000).await;
    sign_in_browser(&b, &app, "lena@dealer.example").await;
    b.goto(&app.url("/sales")).await.unwrap();
    fill(&b, "#quick-q", "black civic").await;
    click(&b, ".quick-search button[type=submit]").await;
    wait_for_url(&b, "/vehicles?q=black+civic").await;
    let rows = text_of(&b, "table.data tbody").await;
    assert!(
        rows.contains("CIV-19") && !rows.contains("CIV-15"),
        "{rows}"
    );
    assert!(overhang(&b, ".quick-search").await <= 0.0);
    shot(&b, "search-820.png").await;

    b.goto(&app.url("/sales")).await.unwrap();
    let totals = text_of(&b, "#totals").await;
    assert!(totals.contains("33,900.00"), "{totals}");
    shot(&b, "search-sales-820.png").await;

    // A phone: the field has a row of its own and fits.
    b.set_window_size(320, 700).await.unwrap();
    b.goto(&app.url("/vehicles")).await.unwrap();
    b.wait()
        .for_element(Locator::Css("#quick-q"))
        .await
        .unwrap();
    shot(&b, "search-320.png").await;
    // With the whole menu showing (browser_layout checks the page as a whole).
    for css in [
        ".quick-search",
        "#quick-q",
        ".quick-search button",
        ".mainnav",
    ] {
        let over = overhang(&b, css).await;
        assert!(over <= 0.0, "{css} reaches {over} px past the screen");
    }
    b.close().await.unwrap();
}
