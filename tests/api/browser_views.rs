//! Saved views (issue #14 §4) in a real browser: both lists with views
//! beside their filters (shared, personal, a long name, the current one
//! marked) and the save form's error page fit a phone, a tablet and a
//! laptop, and pass axe (`browser_layout::check_page`).

use reqwest::StatusCode;

use crate::{
    browser_layout::{assert_none, axe_source, check_page},
    helpers::{TestApp, add_vehicle, open_browser, sell, sign_in_browser, start_driver},
};

#[tokio::test]
async fn the_lists_with_saved_views_fit_a_phone_and_a_tablet_and_pass_axe() {
    let Some(driver) = start_driver() else { return };
    let axe = axe_source();
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    for n in 1..=3 {
        let car = add_vehicle(&app, &format!("VIEW-{n}")).await;
        if n == 3 {
            sell(&app, car, "Dana Scully").await;
        }
    }
    let long = "Everything in stock on the north lot, newest first, for the Saturday sale";
    for (list, name, query, shared) in [
        ("vehicles", "Team: in stock", "status=available", true),
        ("vehicles", &long[..60], "q=view&sort=-price", false),
        ("vehicles", "Hondas", "make=Honda", false),
        ("sales", "This month", "from=2026-11-01", true),
        ("sales", "Dana's deals", "customer=Dana", false),
    ] {
        let mut fields = vec![("list", list), ("name", name), ("query", query)];
        if shared {
            fields.push(("shared", "1"));
        }
        let r = app.post("/views", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
    }
    let pages = [
        ("views-inventory", "/vehicles?q=view&sort=-price"),
        ("views-sales", "/sales?customer=Dana"),
    ];
    let mut problems = Vec::new();
    for width in [320, 820, 1366] {
        let b = open_browser(&driver, width, 900).await;
        b.set_window_size(width, 900).await.unwrap();
        sign_in_browser(&b, &app, "admin@dealer.example").await;
        for (name, path) in pages {
            b.goto(&app.url(path)).await.unwrap();
            problems.extend(check_page(&b, axe.as_deref(), width, name).await);
        }
        // A name that is taken: the form again, with the error beside it.
        b.goto(&app.url("/vehicles?make=Honda")).await.unwrap();
        crate::helpers::fill(&b, "#view-name", "hondas").await;
        crate::helpers::click(&b, ".saved-views-save button[type=submit]").await;
        crate::helpers::text_of(&b, "#name-error").await;
        problems.extend(check_page(&b, axe.as_deref(), width, "views-invalid").await);
        b.close().await.unwrap();
    }
    assert_none(&problems);
}
