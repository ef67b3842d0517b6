//! Bulk changes from the inventory list (`POST /vehicles/bulk`, #14 §3):
//! each vehicle changed on the version the list showed, by the three-way
//! rules of an edit (SPEC §5.1), one history row each, and a summary.

use reqwest::StatusCode;

use crate::helpers::{Html, TestApp, add_vehicle, edit_form_from, location, refs, sell, with};

/// A form's fields, in order (names repeat).
type Form = Vec<(&'static str, String)>;

/// The list page's bulk form as a browser would send it with `ticked`
/// rows ticked: every row's `versions` pair, the ticked `ids`.
async fn list_form(
    app: &TestApp,
    c: &reqwest::Client,
    ticked: &[i64],
) -> Vec<(&'static str, String)> {
    let html = app
        .get_with(c, "/vehicles?status=all")
        .await
        .text()
        .await
        .unwrap();
    let page = Html::parse(&html);
    let mut form = vec![("back", "/vehicles?status=all".to_string())];
    for input in page.select("input[form=bulk]") {
        let name = input.attr("name").unwrap();
        let value = input.attr("value").unwrap();
        match name.as_str() {
            "ids" if ticked.contains(&value.parse().unwrap()) => form.push(("ids", value)),
            "versions" => form.push(("versions", value)),
            _ => {}
        }
    }
    form
}

async fn bulk(
    app: &TestApp,
    c: &reqwest::Client,
    mut form: Vec<(&'static str, String)>,
    action: &str,
    value: &str,
) -> (StatusCode, Html) {
    form.push(("action", action.to_string()));
    form.push(("value", value.to_string()));
    let r = app.post_with(c, "/vehicles/bulk", &refs(&form)).await;
    let status = r.status();
    (status, Html::parse(&r.text().await.unwrap()))
}

/// `result` of the summary's row for vehicle `id`: changed, unchanged, refused.
fn result_of(page: &Html, id: i64) -> String {
    page.one(&format!("#bulk-results tr[data-vehicle=\"{id}\"]"))
        .attr("data-result")
        .unwrap()
}

async fn field(app: &TestApp, id: i64, column: &str) -> String {
    app.scalar_text(&format!(
        "SELECT {column}::text AS v FROM vehicles WHERE id = {id}"
    ))
    .await
}

async fn bulk_rows(app: &TestApp, id: i64) -> i64 {
    app.scalar_i64(&format!(
        "SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {id} AND action = 'bulk change'"
    ))
    .await
}

#[tokio::test]
async fn an_editor_changes_the_ticked_vehicles_and_only_those() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let a = add_vehicle(&app, "B-1").await;
    let b = add_vehicle(&app, "B-2").await;
    let untouched = add_vehicle(&app, "B-3").await;
    let c = &app.client;

    let (status, page) = bulk(
        &app,
        c,
        list_form(&app, c, &[a, b]).await,
        "status",
        "reserved",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (result_of(&page, a), result_of(&page, b)),
        ("changed".into(), "changed".into())
    );
    assert!(page.one("#bulk-counts").text().starts_with("2 changed"));
    assert_eq!(field(&app, a, "status").await, "reserved");
    assert_eq!(field(&app, b, "status").await, "reserved");
    assert_eq!(field(&app, untouched, "status").await, "available");
    assert_eq!(field(&app, a, "version").await, "2");

    let (_, page) = bulk(&app, c, list_form(&app, c, &[a]).await, "price", "-5%").await;
    assert_eq!(result_of(&page, a), "changed");
    assert_eq!(field(&app, a, "list_price_cents").await, "2042500");
    let (_, page) = bulk(&app, c, list_form(&app, c, &[a, b]).await, "price", "+500").await;
    assert_eq!(result_of(&page, b), "changed");
    assert_eq!(field(&app, a, "list_price_cents").await, "2092500");
    assert_eq!(field(&app, b, "list_price_cents").await, "2200000");
    let (_, page) = bulk(&app, c, list_form(&app, c, &[b]).await, "location", "Lot Z").await;
    assert_eq!(result_of(&page, b), "changed");
    assert_eq!(field(&app, b, "location").await, "Lot Z");

    // Setting what already is: nothing written.
    let (_, page) = bulk(&app, c, list_form(&app, c, &[b]).await, "location", "Lot Z").await;
    assert_eq!(result_of(&page, b), "unchanged");
    assert_eq!(bulk_rows(&app, a).await, 3);
    assert_eq!(bulk_rows(&app, b).await, 3);
    assert_eq!(bulk_rows(&app, untouched).await, 0);
    assert_eq!(field(&app, b, "version").await, "4");
    // The history says what changed, as for an edit.
    let show = app
        .get(&format!("/vehicles/{b}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(show.contains("bulk change"));
    assert!(show.contains("Lot Z"));
}

#[tokio::test]
async fn a_vehicle_changed_since_the_list_was_shown_is_merged_or_reported_never_overwritten() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let priced = add_vehicle(&app, "M-1").await;
    let moved = add_vehicle(&app, "M-2").await;
    let stale = list_form(&app, &app.client, &[priced, moved]).await;

    // Meanwhile Bob changes one vehicle's price and the other's location.
    let bob = app.second_user("editor").await;
    for (id, field_name, value) in [
        (priced, "list_price", "19,999.00"),
        (moved, "location", "Lot Q"),
    ] {
        let html = app
            .get_with(&bob, &format!("/vehicles/{id}/edit"))
            .await
            .text()
            .await
            .unwrap();
        let form = with(edit_form_from(&html), field_name, value);
        let r = app
            .post_with(&bob, &format!("/vehicles/{id}"), &refs(&form))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", location(&r));
    }

    let (status, page) = bulk(&app, &app.client, stale, "price", "-1,000").await;
    assert_eq!(status, StatusCode::OK);
    // Both changed the price: Bob's stays, the summary says why.
    assert_eq!(result_of(&page, priced), "refused");
    let row = page
        .one(&format!("#bulk-results tr[data-vehicle=\"{priced}\"]"))
        .text();
    assert!(row.contains("list price"), "{row}");
    assert!(row.contains("19,999.00"), "{row}");
    assert_eq!(field(&app, priced, "list_price_cents").await, "1999900");
    assert_eq!(bulk_rows(&app, priced).await, 0);
    // Bob changed only the location: both changes land.
    assert_eq!(result_of(&page, moved), "changed");
    assert_eq!(field(&app, moved, "list_price_cents").await, "2050000");
    assert_eq!(field(&app, moved, "location").await, "Lot Q");
    assert_eq!(bulk_rows(&app, moved).await, 1);
}

#[tokio::test]
async fn many_bulk_changes_of_one_stale_list_at_once_land_exactly_once() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "RACE-1").await;
    let form = list_form(&app, &app.client, &[id]).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (1..=20)
        .map(|pct| {
            let (app, form) = (app.clone(), form.clone());
            tokio::spawn(async move {
                let (status, page) =
                    bulk(&app, &app.client, form, "price", &format!("-{pct}%")).await;
                assert_eq!(status, StatusCode::OK);
                (pct, result_of(&page, id))
            })
        })
        .collect();
    let mut landed = Vec::new();
    for t in tasks {
        let (pct, result) = t.await.unwrap();
        match result.as_str() {
            "changed" => landed.push(pct),
            "refused" => {}
            other => panic!("-{pct}%: {other}"),
        }
    }
    assert_eq!(landed.len(), 1, "exactly one lands: {landed:?}");
    let expected = 2_150_000 * (100 - landed[0]) / 100;
    assert_eq!(
        field(&app, id, "list_price_cents").await,
        expected.to_string()
    );
    assert_eq!(bulk_rows(&app, id).await, 1);
    assert_eq!(field(&app, id, "version").await, "2");
}

#[tokio::test]
async fn archiving_is_for_admins_and_a_sold_vehicle_stays_sold() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let a = add_vehicle(&app, "AR-1").await;
    let sold = add_vehicle(&app, "AR-2").await;
    sell(&app, sold, "Dana Buyer").await;

    let editor = app.second_user("editor").await;
    let list = app
        .get_with(&editor, "/vehicles")
        .await
        .text()
        .await
        .unwrap();
    let options = Html::parse(&list).texts("#bulk-action option");
    assert!(!options.iter().any(|o| o == "Archive"), "{options:?}");
    let (status, _) = bulk(
        &app,
        &editor,
        list_form(&app, &editor, &[a]).await,
        "archive",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(field(&app, a, "status").await, "available");

    let (status, page) = bulk(
        &app,
        &app.client,
        list_form(&app, &app.client, &[a, sold]).await,
        "archive",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result_of(&page, a), "changed");
    assert_eq!(result_of(&page, sold), "refused");
    assert_eq!(field(&app, a, "status").await, "archived");
    assert_eq!(field(&app, sold, "status").await, "sold");
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {a} AND action = 'archived'"
        ))
        .await,
        1
    );
    // A status change cannot unsell one either.
    let (_, page) = bulk(
        &app,
        &app.client,
        list_form(&app, &app.client, &[sold]).await,
        "status",
        "available",
    )
    .await;
    assert_eq!(result_of(&page, sold), "refused");
    assert_eq!(field(&app, sold, "status").await, "sold");
}

#[tokio::test]
async fn a_viewer_sees_no_tick_boxes_and_cannot_post() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "V-1").await;
    let viewer = app.second_user("viewer").await;
    let list = app
        .get_with(&viewer, "/vehicles")
        .await
        .text()
        .await
        .unwrap();
    let page = Html::parse(&list);
    assert!(!page.has("#bulk"));
    assert!(!page.has("input[name=ids]"));
    let form = vec![("ids", id.to_string()), ("versions", format!("{id}:1"))];
    let (status, _) = bulk(&app, &viewer, form, "status", "reserved").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(field(&app, id, "status").await, "available");
}

#[tokio::test]
async fn bad_requests_get_a_clear_422_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let id = add_vehicle(&app, "X-1").await;
    let form = list_form(&app, &app.client, &[id]).await;
    let good = || std::future::ready(form.clone());
    let cases: Vec<(Form, &str, &str, &str)> = vec![
        (good().await, "", "", "Choose what to do"),
        (good().await, "delete", "", "Choose one of the actions"),
        (good().await, "status", "sold", "recording a sale"),
        (good().await, "status", "", "available or reserved"),
        (good().await, "location", "", "new location"),
        (good().await, "location", "Lot\u{0}B", "one line"),
        (good().await, "price", "cheaper", "amount or a percentage"),
        (good().await, "price", "-100%", "less than 100%"),
        (
            vec![("versions", format!("{id}:1"))],
            "status",
            "reserved",
            "Tick at least one",
        ),
        (
            vec![("ids", "1e3".into())],
            "status",
            "reserved",
            "not valid",
        ),
        (
            (1..=101).map(|i| ("ids", i.to_string())).collect(),
            "status",
            "reserved",
            "at most 100",
        ),
    ];
    for (form, action, value, message) in cases {
        let (status, page) = bulk(&app, &app.client, form, action, value).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{action} {value:?}"
        );
        let error = page.one("#bulk-error").text();
        assert!(error.contains(message), "{action} {value:?}: {error}");
    }
    // A change a vehicle cannot take is reported on its row, the rest go on.
    let other = add_vehicle(&app, "X-2").await;
    app.exec(&format!(
        "UPDATE vehicles SET list_price_cents = 100000 WHERE id = {other}"
    ))
    .await;
    let (status, page) = bulk(
        &app,
        &app.client,
        list_form(&app, &app.client, &[id, other]).await,
        "price",
        "-2,000",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result_of(&page, id), "changed");
    assert_eq!(result_of(&page, other), "refused");
    assert!(page.text().contains("below zero"));
    assert_eq!(field(&app, other, "list_price_cents").await, "100000");
    assert_eq!(
        app.scalar_i64(&format!("SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {id} AND action = 'bulk change'"))
            .await,
        1
    );
    // No token: 403 before anything is read.
    let r = app
        .post_raw(
            "/vehicles/bulk",
            &[
                ("ids", &id.to_string()),
                ("versions", "1"),
                ("action", "price"),
                ("value", "+1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Back only ever leads to the inventory.
    let mut evil = list_form(&app, &app.client, &[id]).await;
    evil[0].1 = "https://evil.example/".into();
    let (_, page) = bulk(&app, &app.client, evil, "location", "Lot C").await;
    assert!(page.select("a[href^=http]").is_empty());
}
