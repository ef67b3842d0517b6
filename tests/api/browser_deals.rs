//! The sale form in a real headless Chromium at tablet width (820 px): the
//! gross profit follows the price as it is typed (static/deal.js, under the
//! CSP), a price below cost is asked about before anything is stored, and
//! a sale typed past the idle timeout comes back after signing in again.
//! Without chromedriver the tests are skipped, unless PCN_REQUIRE_BROWSER=1.

use fantoccini::{Client, Locator};

use crate::helpers::{
    PASSWORD, TestApp, add_vehicle, click, fill, open_browser, shot, sign_in_browser, start_driver,
    text_of, text_when, wait_for_url,
};

/// Whether the element `css` is shown (not `hidden`, not `display: none`).
async fn shown(b: &Client, css: &str) -> bool {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_gross_profit_follows_the_price_and_a_sale_below_cost_is_confirmed() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    // Cost 18,000.00, list 21,500.00.
    let id = add_vehicle(&app, "DEAL-1").await;
    let b = open_browser(&driver, 820, 1180).await;
    sign_in_browser(&b, &app, "editor@dealer.example").await;
    b.goto(&app.url(&format!("/vehicles/{id}/sell")))
        .await
        .unwrap();
    // Drawn by the server for the list price.
    assert_eq!(text_of(&b, "#deal-gross").await, "$3,500.00");

    // As typed, without sending anything.
    fill(&b, "#sale_price", "20,250").await;
    text_when(&b, "#deal-gross", |t| t == "$2,250.00").await;
    assert!(!shown(&b, "#deal-below").await);
    fill(&b, "#sale_price", "16000").await;
    text_when(&b, "#deal-gross", |t| t == "-$2,000.00").await;
    assert!(shown(&b, "#deal-below").await, "below cost is said");
    assert_eq!(text_of(&b, "#deal-below-amount").await, "$2,000.00");
    assert!(shown(&b, "#deal-under").await, "far under list is said");
    assert_eq!(text_of(&b, "#deal-under-percent").await, "25");
    let colour = b
        .find(Locator::Css("#deal-gross"))
        .await
        .unwrap()
        .css_value("color")
        .await
        .unwrap();
    assert_eq!(colour, "rgba(163, 36, 42, 1)", "a loss in the error colour");
    fill(&b, "#customer_name", "Dana Scully").await;
    shot(&b, "deal-typing-820.png").await;

    // Sent: the server asks, and stores nothing yet.
    click(&b, "form.sale-form button[type=submit]").await;
    let asked = text_of(&b, "#below-cost").await;
    assert!(
        asked.contains("This price is $2,000.00 below cost. Record it anyway?"),
        "{asked}"
    );
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM sales").await, 0);
    // The figures are there at once on the page that asks.
    assert_eq!(text_of(&b, "#deal-gross").await, "-$2,000.00");
    shot(&b, "deal-below-cost-820.png").await;

    // Confirmed: recorded.
    click(&b, "#confirm_below_cost").await;
    click(&b, "form.sale-form button[type=submit]").await;
    wait_for_url(&b, "/sales/").await;
    let said = text_of(&b, ".flash-success").await;
    assert!(said.contains("Recorded below cost"), "{said}");
    assert_eq!(
        app.scalar_i64("SELECT sale_price_cents AS v FROM sales")
            .await,
        1_600_000
    );
    shot(&b, "deal-recorded-820.png").await;
    b.close().await.unwrap();

    // A manager records the next deal for one of the team.
    app.create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    let next = add_vehicle(&app, "DEAL-3").await;
    let m = open_browser(&driver, 820, 1180).await;
    sign_in_browser(&m, &app, "ada@dealer.example").await;
    m.goto(&app.url(&format!("/vehicles/{next}/sell")))
        .await
        .unwrap();
    let picker = text_of(&m, "#salesperson_id").await;
    assert!(
        picker.contains("Test admin") && picker.contains("Test editor"),
        "{picker}"
    );
    m.find(Locator::Css("#salesperson_id option:not([selected])"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&m, "#customer_name", "Monica Reyes").await;
    shot(&m, "deal-picker-820.png").await;
    click(&m, "form.sale-form button[type=submit]").await;
    wait_for_url(&m, "/sales/").await;
    assert!(text_of(&m, "main").await.contains("by Test editor"));
    m.close().await.unwrap();
}

#[tokio::test]
async fn a_sale_typed_past_the_idle_timeout_comes_back_after_signing_in() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    app.create_user("editor", "sam@dealer.example", PASSWORD)
        .await;
    let id = add_vehicle(&app, "DEAL-2").await;
    let b = open_browser(&driver, 820, 1180).await;
    sign_in_browser(&b, &app, "sam@dealer.example").await;
    b.goto(&app.url(&format!("/vehicles/{id}/sell")))
        .await
        .unwrap();
    fill(&b, "#sale_price", "20,900").await;
    fill(&b, "#customer_name", "Walter Skinner").await;
    fill(&b, "#customer_phone", "+1 555 0142").await;
    // Half an hour with the customer.
    app.exec(
        "UPDATE sessions SET last_seen_at = now() - interval '31 minutes' \
         WHERE user_id = (SELECT id FROM users WHERE email = 'sam@dealer.example')",
    )
    .await;
    click(&b, "form.sale-form button[type=submit]").await;
    wait_for_url(&b, "/login").await;
    let url = b.current_url().await.unwrap().to_string();
    for typed in ["Skinner", "20,900", "20%2C900", "0142"] {
        assert!(!url.contains(typed), "nothing typed in the URL: {url}");
    }
    let said = text_of(&b, ".flash-info").await;
    assert!(
        said.contains("You were signed out after 30 minutes idle."),
        "{said}"
    );
    shot(&b, "deal-signed-out-820.png").await;

    fill(&b, "#email", "sam@dealer.example").await;
    fill(&b, "#password", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for_url(&b, &format!("/vehicles/{id}/sell")).await;
    let value = |css: &'static str| {
        let b = b.clone();
        async move {
            b.find(Locator::Css(css))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(value("#sale_price").await, "20,900");
    assert_eq!(value("#customer_name").await, "Walter Skinner");
    assert_eq!(value("#customer_phone").await, "+1 555 0142");
    assert_eq!(text_of(&b, "#deal-gross").await, "$2,900.00");
    shot(&b, "deal-form-back-820.png").await;
    click(&b, "form.sale-form button[type=submit]").await;
    wait_for_url(&b, "/sales/").await;
    assert!(text_of(&b, "main").await.contains("Walter Skinner"));
    b.close().await.unwrap();
}
