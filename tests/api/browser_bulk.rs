//! Bulk changes in a real headless Chromium on a tablet (820 px): tick two
//! rows of the inventory, lower their price by 5 %, read the summary; the
//! summary at a phone's 320 px and axe on both. Screenshots in
//! `target/tmp/screenshots/bulk-*.png`.

use fantoccini::Locator;

use crate::{
    browser_layout::{assert_none, axe_source, check_page},
    helpers::{
        PASSWORD, TestApp, add_vehicle, click, fill, open_browser, shot, sign_in_browser,
        start_driver, text_of, wait_for_url,
    },
};

#[tokio::test]
async fn an_editor_ticks_rows_changes_their_price_and_reads_the_summary() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let a = add_vehicle(&app, "TAB-1").await;
    let b_id = add_vehicle(&app, "TAB-2").await;
    let left = add_vehicle(&app, "TAB-3").await;
    app.create_user("editor", "lena@dealer.example", PASSWORD)
        .await;
    let axe = axe_source();

    let b = open_browser(&driver, 820, 1000).await;
    sign_in_browser(&b, &app, "lena@dealer.example").await;
    b.goto(&app.url("/vehicles")).await.unwrap();
    // With a script: tick all on this page, and the button counts them.
    click(&b, "#tick-all").await;
    let apply = text_of(&b, "#bulk button[type=submit]").await;
    assert_eq!(apply, "Apply to ticked (3)");
    click(&b, "#tick-all").await;
    assert_eq!(
        text_of(&b, "#bulk button[type=submit]").await,
        "Apply to ticked"
    );
    // The whole cell is the tick's target, as a finger needs.
    click(&b, &format!("tr[data-vehicle=\"{a}\"] td.tick label")).await;
    click(&b, &format!("#tick-{b_id}")).await;
    b.find(Locator::Css("#bulk-action"))
        .await
        .unwrap()
        .select_by_value("price")
        .await
        .unwrap();
    fill(&b, "#bulk-value", "-5%").await;
    assert_eq!(
        text_of(&b, "#bulk button[type=submit]").await,
        "Apply to ticked (2)"
    );
    shot(&b, "bulk-ticked-820.png").await;
    click(&b, "#bulk button[type=submit]").await;
    wait_for_url(&b, "/vehicles/bulk").await;
    let counts = text_of(&b, "#bulk-counts").await;
    assert!(counts.starts_with("2 changed"), "{counts}");
    let table = text_of(&b, "#bulk-results").await;
    assert!(
        table.contains("TAB-1") && table.contains("TAB-2") && !table.contains("TAB-3"),
        "{table}"
    );
    assert_none(&check_page(&b, axe.as_deref(), 820, "bulk-summary").await);
    shot(&b, "bulk-summary-820.png").await;
    b.set_window_size(320, 700).await.unwrap();
    assert_none(&check_page(&b, axe.as_deref(), 320, "bulk-summary").await);
    b.close().await.unwrap();

    for (id, cents) in [(a, 2_042_500), (b_id, 2_042_500), (left, 2_150_000)] {
        let price = app
            .scalar_i64(&format!(
                "SELECT list_price_cents AS v FROM vehicles WHERE id = {id}"
            ))
            .await;
        assert_eq!(price, cents, "vehicle {id}");
    }
}
