//! A voided sale's receipt in a real headless Chromium, as it prints: the
//! dealership's name, a VOID banner with when, who and why, and no
//! navigation or buttons on paper. WebDriver cannot switch a page to print
//! media, so the test turns the stylesheet's `@media print` rules on for the
//! screen (the CSSOM lets a page's script change a rule's media) and reads
//! what the browser then draws; it also prints the page through WebDriver's
//! Print command. Skipped without chromedriver unless PCN_REQUIRE_BROWSER=1.

use fantoccini::{Locator, wd::PrintConfiguration};
use reqwest::StatusCode;

use crate::{
    helpers::{
        PASSWORD, TestApp, add_vehicle, open_browser, refs, screenshot_dir, sell_vehicle, shot,
        sign_in_browser, start_driver, text_of, wait_for_url, with,
    },
    settings::settings_form,
};

/// Arranges a sale of the Lakeside dealership (pounds, `D Mon YYYY`),
/// voided by its admin; returns the receipt's path.
async fn voided_sale(app: &TestApp) -> String {
    app.create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    assert_eq!(
        app.sign_in("ada@dealer.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let form = with(settings_form("0"), "currency_symbol", "£");
    let form = with(form, "currency_place", "before");
    let form = with(form, "date_format", "D Mon YYYY");
    let r = app.post("/admin/settings", &refs(&form)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "settings");
    let id = add_vehicle(app, "PR-1").await;
    let receipt = sell_vehicle(app, id, "27,300", "2026-11-03").await;
    let r = app
        .post(
            &format!("{receipt}/void"),
            &[("reason", "Customer's finance fell through")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "void");
    receipt
}

/// Whether `css` is drawn: displayed, visible, and of some size.
async fn drawn(b: &fantoccini::Client, css: &str) -> bool {
    let script = "const el = document.querySelector(arguments[0]); \
                  if (!el) return false; \
                  const s = getComputedStyle(el); const r = el.getBoundingClientRect(); \
                  return s.display !== 'none' && s.visibility !== 'hidden' \
                      && r.width > 0 && r.height > 0;";
    b.execute(script, vec![serde_json::json!(css)])
        .await
        .unwrap()
        .as_bool()
        .unwrap()
}

/// Turns the page's `@media print` rules on for the screen; how many.
async fn emulate_print(b: &fantoccini::Client) -> u64 {
    let script = "let n = 0; \
                  for (const sheet of document.styleSheets) { \
                    for (const rule of sheet.cssRules) { \
                      if (rule instanceof CSSMediaRule && rule.media.mediaText === 'print') { \
                        rule.media.mediaText = 'all'; n += 1; } } } \
                  return n;";
    b.execute(script, vec![]).await.unwrap().as_u64().unwrap()
}

#[tokio::test]
async fn a_voided_receipt_prints_with_the_dealership_and_a_void_banner_and_no_navigation() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    let receipt = voided_sale(&app).await;
    let b = open_browser(&driver, 1024, 1100).await;
    sign_in_browser(&b, &app, "ada@dealer.example").await;
    b.goto(&app.url(&receipt)).await.unwrap();
    wait_for_url(&b, &receipt).await;

    // On screen: the navigation, and the Print button its script showed.
    assert!(drawn(&b, ".mainnav").await, "the navigation on screen");
    assert!(
        drawn(&b, "#print-receipt").await,
        "the Print button, with a script"
    );
    assert_eq!(
        text_of(&b, ".receipt-total strong").await,
        "£27,300.00",
        "money as the settings say"
    );
    shot(&b, "receipt-void-screen.png").await;

    // As printed.
    assert!(emulate_print(&b).await >= 3, "the stylesheet's print rules");
    for hidden in [
        ".topbar",
        ".mainnav",
        "#print-receipt",
        ".crumbs",
        ".footer",
        ".print-hint",
    ] {
        assert!(!drawn(&b, hidden).await, "{hidden} on paper");
    }
    for shown in [
        "#void-banner",
        "#receipt-dealer",
        "#receipt-footer",
        ".receipt-head h1",
    ] {
        assert!(drawn(&b, shown).await, "{shown} missing on paper");
    }
    let banner = text_of(&b, "#void-banner").await;
    for part in ["VOID", "Test admin", "Customer's finance fell through"] {
        assert!(banner.contains(part), "{part:?} in {banner:?}");
    }
    let dealer = text_of(&b, "#receipt-dealer").await;
    assert!(
        dealer.contains("Lakeside Motors") && dealer.contains("+44 20 7946 0958"),
        "{dealer}"
    );
    let sold = text_of(&b, ".receipt-head .muted").await;
    assert!(sold.contains("3 Nov 2026"), "{sold}");
    // Cost and profit stay off the paper.
    let paper = b
        .find(Locator::Css(".receipt"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!paper.contains("Gross profit"), "{paper}");
    shot(&b, "receipt-void-print.png").await;

    // And the browser prints it (a PDF, kept beside the screenshots).
    let pdf = b.print(PrintConfiguration::default()).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    std::fs::write(screenshot_dir().join("receipt-void.pdf"), pdf).unwrap();

    // On a phone and a tablet the receipt fits its width (the page's own
    // frame is the layout's business, see browser.rs).
    b.goto(&app.url(&receipt)).await.unwrap();
    for width in [320, 820] {
        b.set_window_size(width, 900).await.unwrap();
        let overflow = b
            .execute(
                "const r = document.querySelector('.receipt'); \
                 return Math.max(r.scrollWidth - r.clientWidth, \
                     Math.ceil(r.getBoundingClientRect().right) - document.documentElement.clientWidth);",
                vec![],
            )
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        shot(&b, &format!("receipt-void-{width}.png")).await;
        assert!(
            overflow <= 0,
            "the receipt is {overflow} px too wide at {width} px"
        );
    }
    b.close().await.unwrap();
}

/// Picks `value` in the drop-down `css`.
async fn choose(b: &fantoccini::Client, css: &str, value: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_admin_sets_the_currency_and_date_format_through_the_real_form() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    let b = open_browser(&driver, 1024, 1200).await;
    sign_in_browser(&b, &app, "ada@dealer.example").await;
    // From the admin pages' own links.
    b.goto(&app.url("/admin/users")).await.unwrap();
    crate::helpers::click(&b, "a[href='/admin/settings']").await;
    wait_for_url(&b, "/admin/settings").await;
    crate::helpers::fill(&b, "#name", "Lakeside Motors").await;
    crate::helpers::fill(&b, "#currency_symbol", "€").await;
    choose(&b, "#currency_place", "after").await;
    choose(&b, "#date_format", "DD/MM/YYYY").await;
    choose(&b, "#time_zone", "Europe/Berlin").await;
    shot(&b, "settings-form.png").await;
    crate::helpers::click(&b, "form.settings-form button[type=submit]").await;
    let saved =
        crate::helpers::text_when(&b, ".flash", |t| t.contains("Saved") || t.contains("saved"))
            .await;
    assert_eq!(saved, "Settings saved.");
    assert_eq!(
        b.find(Locator::Css("#time_zone"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Europe/Berlin")
    );
    // A bad symbol comes back beside its field, the rest as typed.
    crate::helpers::fill(&b, "#currency_symbol", "12").await;
    crate::helpers::click(&b, "form.settings-form button[type=submit]").await;
    let error = text_of(&b, "#currency_symbol-error").await;
    assert!(error.contains("without digits"), "{error}");
    shot(&b, "settings-error.png").await;
    b.close().await.unwrap();
}
