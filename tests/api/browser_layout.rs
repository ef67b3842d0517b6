//! Every page at a phone's, a tablet's (upright and across) and a laptop's
//! width — 320, 820, 1024 and 1366 px — in a real headless Chromium: the
//! document is never wider than the window (WCAG 1.4.10: no sideways page
//! scrolling), and axe-core, the screen-reader audit, finds no violation.
//! A screenshot of each page at each width is kept (`layout-*.png`).
//!
//! axe-core comes from the npm registry (`tests/browser/package.json`,
//! installed by `.ci/run`). Without it the widths are still checked and the
//! audit is skipped with a message, unless PCN_REQUIRE_BROWSER=1 (CI).

use std::path::PathBuf;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp, add_vehicle, click, edit_form, fill, open_browser, refs, sell, shot,
    sign_in_browser, start_driver, text_of, wait_for_url, with,
};

pub(crate) const WIDTHS: [u32; 4] = [320, 820, 1024, 1366];

/// axe-core's script, or `None` (audit skipped) when it is not installed.
pub(crate) fn axe_source() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            let required = std::env::var("PCN_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "PCN_REQUIRE_BROWSER=1 but axe-core is not installed at {}: \
                 run `npm ci --prefix tests/browser`",
                path.display()
            );
            eprintln!(
                "SKIPPED: the axe-core audit (run `npm ci --prefix tests/browser` to include it)"
            );
            None
        }
    }
}

/// What one page looks like at one width: sideways overflow, and the axe
/// violations as "rule (impact): elements".
pub(crate) async fn check_page(
    b: &Client,
    axe: Option<&str>,
    width: u32,
    name: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    // The layout has settled when the stylesheet is in (the top bar is coloured).
    b.wait().for_element(Locator::Css("main")).await.unwrap();
    let sizes = b
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             document.body.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (doc, inner) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert_eq!(inner, u64::from(width), "the window is not {width} px wide");
    if doc > inner {
        // Name the elements that stick out, to say what to fix.
        let culprits = b
            .execute(
                "const w = window.innerWidth; const out = [];
                 for (const el of document.querySelectorAll('body *')) {
                   const r = el.getBoundingClientRect();
                   if (r.right > w + 1 && !(el.parentElement && el.parentElement.closest('.table-wrap, .card.flush'))) {
                     out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '') +
                       ' → ' + Math.round(r.right));
                   }
                 }
                 return out.slice(0, 8);",
                vec![],
            )
            .await
            .unwrap();
        problems.push(format!(
            "{name} at {width}px: the page is {doc}px wide; sticking out: {culprits}"
        ));
    }
    shot(b, &format!("layout-{width}-{name}.png")).await;
    if let Some(axe) = axe {
        b.execute(axe, vec![]).await.unwrap();
        let found = b
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' +
                     v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        for v in found.as_array().unwrap() {
            problems.push(format!("{name} at {width}px: axe: {}", v.as_str().unwrap()));
        }
    }
    problems
}

/// Fails with every problem `check_page` found, one a line.
pub(crate) fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Arranges a dealership with a bit of everything: a long list, sold and
/// voided sales, a second user. Returns (a vehicle, its sale, a voided sale,
/// the second user).
async fn arrange(app: &TestApp) -> (i64, i64, i64, i64) {
    app.signed_in_as("admin").await;
    let staff = app
        .create_user("editor", "sam.longname-smithson@dealer.example", PASSWORD)
        .await;
    app.exec(
        "INSERT INTO vehicles (vehicle_number, vin, year, make, model, trim, color, mileage, condition, \
           cost_cents, list_price_cents, status, location, received_on) \
         SELECT 'STK-' || lpad(g::text, 5, '0'), \
                CASE WHEN g % 2 = 0 THEN '1HGCM82633A' || lpad(g::text, 6, '0') END, \
                2015 + g % 10, (ARRAY['Mercedes-Benz','Chevrolet','Volkswagen','Ford'])[1 + g % 4], \
                (ARRAY['GLE 450 4MATIC Coupe','Silverado 2500HD','Golf GTI','F-150'])[1 + g % 4], \
                'Premium Plus Package', (ARRAY['Midnight Black Metallic','White','Blue'])[1 + g % 3], \
                12000 * g, 'used', 2500000 + g * 1000, 3190000 + g * 1000, \
                (ARRAY['available','reserved','sold'])[1 + g % 3], 'North lot, row ' || g, \
                current_date - g * 3 \
         FROM generate_series(1, 60) g;
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
           customer_email, customer_phone, payment_method, salesperson_id) \
         SELECT v.id, v.list_price_cents - 50000, v.cost_cents, current_date - (v.id % 90)::int, \
                'Customer with a long name ' || v.id, 'customer' || v.id || '@example.com', \
                '+1 555 01' || lpad(v.id::text, 2, '0'), 'finance', (SELECT min(id) FROM users) \
         FROM vehicles v WHERE v.status = 'sold';",
    )
    .await;
    // One sale through the app, then voided through it, for the void notice.
    let voided_car = add_vehicle(app, "VOID-1").await;
    let voided: i64 = sell(app, voided_car, "Dana Scully")
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = app
        .post(
            &format!("/sales/{voided}/void"),
            &[("reason", "Customer's finance fell through")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let car = app
        .scalar_i64("SELECT min(id) AS v FROM vehicles WHERE status = 'available'")
        .await;
    let sold = app
        .scalar_i64("SELECT min(id) AS v FROM sales WHERE voided_at IS NULL")
        .await;
    (car, sold, voided, staff)
}

#[tokio::test]
async fn every_page_fits_four_widths_and_passes_axe() {
    let Some(driver) = start_driver() else { return };
    let axe = axe_source();
    let app = TestApp::spawn().await;
    let (car, sale, voided, staff) = arrange(&app).await;
    let (_, invitation) = crate::invitations::invite_nora(&app).await;
    let invitation = crate::invitations::path_of(&invitation);
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    app.create_user("viewer", "vic@dealer.example", PASSWORD)
        .await;
    let pages: Vec<(&str, String)> = vec![
        ("inventory", "/vehicles".into()),
        ("inventory-search", "/vehicles?q=Mercedes".into()),
        ("vehicle", format!("/vehicles/{car}")),
        ("vehicle-edit", format!("/vehicles/{car}/edit")),
        ("vehicle-new", "/vehicles/new".into()),
        ("sell", format!("/vehicles/{car}/sell")),
        ("sales", "/sales".into()),
        ("receipt", format!("/sales/{sale}")),
        ("receipt-voided", format!("/sales/{voided}")),
        ("report", "/reports/sales".into()),
        ("account", "/account".into()),
        ("two-factor", "/account/2fa".into()),
        ("users", "/admin/users".into()),
        ("user-new", "/admin/users/new".into()),
        ("user-edit", format!("/admin/users/{staff}/edit")),
        ("activity", "/admin/activity".into()),
        ("settings", "/admin/settings".into()),
        ("not-found", "/vehicles/987654".into()),
    ];
    let mut problems = Vec::new();
    for width in WIDTHS {
        let b = open_browser(&driver, width, 900).await;
        b.set_window_size(width, 900).await.unwrap();
        // What a signed-out visitor sees.
        b.goto(&app.url("/login")).await.unwrap();
        problems.extend(check_page(&b, axe.as_deref(), width, "login").await);
        b.goto(&app.url(&invitation)).await.unwrap();
        problems.extend(check_page(&b, axe.as_deref(), width, "invitation").await);
        sign_in_browser(&b, &app, "rosa@dealer.example").await;
        for (name, path) in &pages {
            b.goto(&app.url(path)).await.unwrap();
            problems.extend(check_page(&b, axe.as_deref(), width, name).await);
        }
        // A form sent with mistakes.
        b.goto(&app.url("/vehicles/new")).await.unwrap();
        click(&b, ".vehicle-form button[type=submit]").await;
        text_of(&b, ".field-error").await;
        problems.extend(check_page(&b, axe.as_deref(), width, "vehicle-invalid").await);
        b.close().await.unwrap();
    }
    assert_none(&problems);
}

/// After a failed submit the browser's focus is on a summary of the errors,
/// whose links lead to each field; a 409 marks the fields in conflict; a
/// signed-in person on an error page keeps the navigation.
#[tokio::test]
async fn errors_are_summarised_marked_and_navigable() {
    let Some(driver) = start_driver() else { return };
    let axe = axe_source();
    let mut problems = Vec::new();
    let app = TestApp::spawn().await;
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    app.create_user("viewer", "vic@dealer.example", PASSWORD)
        .await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "CONF-1").await;
    let b = open_browser(&driver, 820, 1100).await;
    sign_in_browser(&b, &app, "rosa@dealer.example").await;

    // A failed submit: focus moves to the summary, which links to each field.
    b.goto(&app.url("/vehicles/new")).await.unwrap();
    fill(&b, "#year", "1800").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    text_of(&b, ".error-summary").await;
    let focused = b
        .execute("return document.activeElement.id;", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused,
        json!("error-summary"),
        "focus after a failed submit"
    );
    let links = b.find_all(Locator::Css(".error-summary a")).await.unwrap();
    let mut targets = Vec::new();
    for link in &links {
        targets.push(link.attr("href").await.unwrap().unwrap());
    }
    assert!(targets.contains(&"#year".to_string()), "{targets:?}");
    assert!(
        targets.contains(&"#vehicle_number".to_string()),
        "{targets:?}"
    );
    click(&b, ".error-summary a[href='#year']").await;
    let focused = b
        .execute("return document.activeElement.id;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!("year"), "a summary link leads to its field");
    shot(&b, "error-summary.png").await;
    problems.extend(check_page(&b, axe.as_deref(), 820, "error-summary").await);

    // A conflict: someone else changes the price meanwhile; this browser
    // changes it differently from the version it opened.
    b.goto(&app.url(&format!("/vehicles/{id}/edit")))
        .await
        .unwrap();
    text_of(&b, "#list_price").await;
    let theirs = with(
        edit_form(&app, &app.client, id).await,
        "list_price",
        "22,000",
    );
    let r = app.post(&format!("/vehicles/{id}"), &refs(&theirs)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    fill(&b, "#list_price", "23,000").await;
    fill(&b, "#location", "Showroom").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    text_of(&b, ".conflict").await;
    let marked = b
        .find_all(Locator::Css(".vehicle-form .field.in-conflict #list_price"))
        .await
        .unwrap();
    assert_eq!(
        marked.len(),
        1,
        "the conflicting field is marked in the form"
    );
    let unmarked = b
        .find_all(Locator::Css(".vehicle-form .field.in-conflict #location"))
        .await
        .unwrap();
    assert!(unmarked.is_empty(), "only conflicting fields are marked");
    let described = b
        .find(Locator::Css("#list_price"))
        .await
        .unwrap()
        .attr("aria-describedby")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(!described.is_empty(), "the mark is read out with the field");
    shot(&b, "conflict-marked.png").await;
    problems.extend(check_page(&b, axe.as_deref(), 820, "conflict").await);

    // An unknown vehicle, signed in: says so, and the navigation is there.
    b.goto(&app.url("/vehicles/987654")).await.unwrap();
    let text = text_of(&b, "main").await;
    assert!(text.contains("No vehicle with this number"), "{text}");
    assert!(
        !b.find_all(Locator::Css("nav.mainnav a"))
            .await
            .unwrap()
            .is_empty()
    );
    // 403 for a viewer keeps the navigation too.
    click(&b, "form[action='/logout'] button").await;
    wait_for_url(&b, "/login").await;
    sign_in_browser(&b, &app, "vic@dealer.example").await;
    b.goto(&app.url("/admin/users")).await.unwrap();
    let text = text_of(&b, "main").await;
    assert!(
        text.contains("403") || text.to_lowercase().contains("not allowed"),
        "{text}"
    );
    assert!(
        !b.find_all(Locator::Css("nav.mainnav a"))
            .await
            .unwrap()
            .is_empty()
    );
    shot(&b, "forbidden-with-nav.png").await;
    problems.extend(check_page(&b, axe.as_deref(), 820, "forbidden").await);
    b.close().await.unwrap();
    assert_none(&problems);
}
