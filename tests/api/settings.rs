//! The dealership's settings (`/admin/settings`, issue #13 §6) and the
//! receipt that shows them (§5): saved by an admin only, audited, refused
//! whole when a field is wrong, shown on every page (money, dates, times)
//! of every instance, and never written by another role's connection.

use pcn::db::DbRole;
use reqwest::StatusCode;

use crate::{
    db_roles::{acting, assert_denied, run},
    helpers::{Html, PASSWORD, TestApp, add_vehicle, client, location, refs, sell_vehicle, with},
};

/// A full, valid settings form on `version`.
pub(crate) fn settings_form(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", "Lakeside Motors".into()),
        ("address", "1 Shore Road\nLakeside LK1 2AB".into()),
        ("phone", "+44 20 7946 0958".into()),
        ("currency_symbol", "€".into()),
        ("currency_place", "after".into()),
        ("date_format", "DD/MM/YYYY".into()),
        ("time_zone", "Pacific/Kiritimati".into()),
        ("receipt_footer", "Thank you for your business.".into()),
        ("version", version.into()),
    ]
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> Html {
    let r = app.get_with(c, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    Html::parse(&r.text().await.unwrap())
}

async fn rows(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) AS v FROM dealership_settings")
        .await
}

async fn audited(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) AS v FROM audit_log WHERE action = 'settings changed'")
        .await
}

/// Sells vehicle `id` for 27,300.00; returns the receipt's path.
async fn sell(app: &TestApp, id: i64) -> String {
    sell_vehicle(app, id, "27,300.00", "2026-11-03").await
}

/// The definition beside `term` in a page's `dl.details`.
fn detail(page: &Html, term: &str) -> String {
    let terms = page.texts("dl.details dt");
    let i = terms
        .iter()
        .position(|t| t == term)
        .unwrap_or_else(|| panic!("no {term:?} among {terms:?}"));
    page.texts("dl.details dd")[i].clone()
}

#[tokio::test]
async fn saved_settings_come_back_and_every_page_shows_money_and_dates_their_way() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in_as("admin").await;
    let id = add_vehicle(&app, "ST-1").await;
    // The defaults: dollars before the amount, ISO dates.
    let vehicle = page(&app, &app.client, &format!("/vehicles/{id}")).await;
    assert_eq!(detail(&vehicle, "List price"), "$21,500.00");
    assert_eq!(detail(&vehicle, "Received"), "2026-10-01");
    let form = page(&app, &app.client, "/admin/settings").await;
    assert_eq!(form.field("name").as_deref(), Some("PCN Dealership"));
    assert_eq!(form.field("version").as_deref(), Some("0"));
    assert_eq!(form.one(".brand").text(), "PCN Dealership");

    let r = app
        .post("/admin/settings", &refs(&settings_form("0")))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/settings");

    let form = page(&app, &app.client, "/admin/settings").await;
    for (field, value) in settings_form("1") {
        assert_eq!(form.field(field), Some(value.clone()), "{field}");
    }
    assert!(form.text().contains("Settings saved."));
    // The top bar carries the dealership's name, on every page.
    assert_eq!(form.one(".brand").text(), "PCN Lakeside Motors");
    let vehicle = page(&app, &app.client, &format!("/vehicles/{id}")).await;
    assert_eq!(detail(&vehicle, "List price"), "21,500.00 €");
    assert_eq!(detail(&vehicle, "Received"), "01/10/2026");
    // Date fields keep the wire format; the CSV keeps plain values.
    let edit = page(&app, &app.client, &format!("/vehicles/{id}/edit")).await;
    assert_eq!(edit.field("received_on").as_deref(), Some("2026-10-01"));
    let csv = app.get("/vehicles.csv").await.text().await.unwrap();
    assert!(!csv.contains('€') && csv.contains("2026-10-01"), "{csv}");
    // Times in the chosen zone, dates in the chosen format.
    let receipt = page(&app, &app.client, &sell(&app, id).await).await;
    let recorded = app
        .scalar_text(
            "SELECT to_char(created_at AT TIME ZONE 'Pacific/Kiritimati', 'DD/MM/YYYY HH24:MI') \
             AS v FROM sales",
        )
        .await;
    assert_eq!(detail(&receipt, "Recorded"), recorded);
    assert!(receipt.text().contains("Sold on 03/11/2026"));
    assert_eq!(detail(&receipt, "Sale price"), "27,300.00 €");
    // Audited in the admin's name, field by field.
    assert_eq!(audited(&app).await, 1);
    let details = app
        .scalar_text(&format!(
            "SELECT details AS v FROM audit_log WHERE action = 'settings changed' \
             AND actor_id = {admin}"
        ))
        .await;
    assert!(details.contains("Currency symbol: $ → €"), "{details}");
    assert!(
        details.contains("Time zone: the server's → Pacific/Kiritimati"),
        "{details}"
    );
    let activity = page(&app, &app.client, "/admin/activity").await;
    assert!(activity.text().contains("settings changed"));
    // The same form again changes nothing, and says so.
    let r = app
        .post("/admin/settings", &refs(&settings_form("1")))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app).await, 1);
}

#[tokio::test]
async fn bad_settings_are_refused_field_by_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let good = settings_form("0");
    let cases = [
        ("name", "   ", "Enter the dealership's name."),
        ("currency_symbol", "12", "without digits"),
        ("currency_place", "middle", "before or after"),
        ("date_format", "%Y", "date formats"),
        (
            "time_zone",
            "Mars/Olympus_Mons",
            "does not know this time zone",
        ),
        ("phone", "call us", "Use digits"),
        ("receipt_footer", &"x".repeat(501), "at most 500"),
        ("address", "a\u{0}b", "control characters"),
    ];
    for (field, value, message) in cases {
        let form = with(good.clone(), field, value);
        let r = app.post("/admin/settings", &refs(&form)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = Html::parse(&r.text().await.unwrap());
        let error = html
            .field_error(field)
            .unwrap_or_else(|| panic!("no error beside {field}"));
        assert!(error.contains(message), "{field}: {error}");
        // What was typed stays, in the wrong field and the others.
        let typed = |name: &str| {
            form.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        for name in ["name", "phone", "currency_symbol"] {
            if name != "name" || field != "name" {
                assert_eq!(html.field(name), typed(name), "{field}: {name} kept");
            }
        }
    }
    assert_eq!(rows(&app).await, 0, "nothing stored");
    assert_eq!(audited(&app).await, 0);
}

#[tokio::test]
async fn only_an_admin_opens_or_saves_the_settings() {
    let app = TestApp::spawn().await;
    for role in ["viewer", "editor"] {
        let c = app.second_user(role).await;
        assert_eq!(
            app.get_with(&c, "/admin/settings").await.status(),
            StatusCode::FORBIDDEN,
            "{role} opens"
        );
        let r = app
            .post_with(&c, "/admin/settings", &refs(&settings_form("0")))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} saves");
    }
    // Signed out: to the sign-in page.
    let r = app.get_with(&client(), "/admin/settings").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
    assert_eq!(rows(&app).await, 0);
}

#[tokio::test]
async fn a_settings_form_without_its_token_is_refused() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let form = settings_form("0");
    let mut forged = refs(&form);
    forged.push(("csrf_token", "forged"));
    for fields in [refs(&form), forged] {
        let r = app.post_raw("/admin/settings", &fields).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(rows(&app).await, 0);
    assert_eq!(audited(&app).await, 0);
}

#[tokio::test]
async fn a_form_drawn_before_another_save_is_shown_again_not_saved() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let other = app.second_user("admin").await;
    let r = app
        .post_with(
            &other,
            "/admin/settings",
            &refs(&with(settings_form("0"), "name", "Theirs")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Ours was drawn on version 0.
    let mine = with(settings_form("0"), "name", "Mine");
    let r = app.post("/admin/settings", &refs(&mine)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = Html::parse(&r.text().await.unwrap());
    assert!(html.has("#settings-stale"));
    assert_eq!(
        html.field("name").as_deref(),
        Some("Mine"),
        "what was typed stays"
    );
    assert_eq!(html.field("version").as_deref(), Some("1"), "now on theirs");
    assert_eq!(
        app.scalar_text("SELECT name AS v FROM dealership_settings")
            .await,
        "Theirs"
    );
    // Sent again, knowingly, it replaces theirs.
    let r = app
        .post(
            "/admin/settings",
            &refs(&with(mine.clone(), "version", "1")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_text("SELECT name AS v FROM dealership_settings")
            .await,
        "Mine"
    );
    assert_eq!(audited(&app).await, 2);
}

#[tokio::test]
async fn the_database_lets_only_an_admin_write_the_settings() {
    let app = TestApp::spawn().await;
    let viewer = app
        .create_user("viewer", "vera@dealer.example", PASSWORD)
        .await;
    let editor = app
        .create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    let admin = app
        .create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    let insert = "INSERT INTO dealership_settings (name, currency_symbol, currency_place, \
                  date_format) VALUES ('X', '$', 'before', 'YYYY-MM-DD')";
    for (role, user) in [(DbRole::Viewer, viewer), (DbRole::Editor, editor)] {
        let mut conn = acting(&app, role, Some(user)).await;
        assert!(
            run(&mut conn, "SELECT name FROM dealership_settings")
                .await
                .is_ok(),
            "{role:?} reads"
        );
        assert_denied(
            run(&mut conn, insert).await,
            "a viewer or editor adding settings",
        );
        assert_denied(
            run(&mut conn, "UPDATE dealership_settings SET name = 'Mine'").await,
            "a viewer or editor changing settings",
        );
    }
    let mut anon = acting(&app, DbRole::Anon, None).await;
    assert_denied(run(&mut anon, insert).await, "signed out, adding settings");
    let mut conn = acting(&app, DbRole::Admin, Some(admin)).await;
    assert_eq!(run(&mut conn, insert).await, Ok(1));
    assert_denied(
        run(&mut conn, "DELETE FROM dealership_settings").await,
        "an admin deleting the settings",
    );
}

#[tokio::test]
async fn a_save_on_one_instance_shows_on_another_within_moments() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    a.signed_in_as("admin").await;
    let id = add_vehicle(&a, "ST-2").await;
    let path = format!("/vehicles/{id}");
    // B has drawn its pages with the defaults (and keeps them in memory).
    assert_eq!(
        detail(&page(&b, &a.client, &path).await, "List price"),
        "$21,500.00"
    );
    let r = a.post("/admin/settings", &refs(&settings_form("0"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let shown = detail(&page(&b, &a.client, &path).await, "List price");
        if shown == "21,500.00 €" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "instance B still shows {shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(b.state.settings().name, "Lakeside Motors");
    assert_eq!(b.state.zone(), chrono_tz::Pacific::Kiritimati);
}

#[tokio::test]
async fn a_voided_receipt_names_the_dealership_and_says_void_when_by_whom_and_why() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let r = app
        .post("/admin/settings", &refs(&settings_form("0")))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = add_vehicle(&app, "ST-3").await;
    let receipt = sell(&app, id).await;
    let html = page(&app, &app.client, &receipt).await;
    let dealer = html.one("#receipt-dealer").text();
    for part in [
        "Lakeside Motors",
        "1 Shore Road",
        "Lakeside LK1 2AB",
        "+44 20 7946 0958",
    ] {
        assert!(dealer.contains(part), "{part} in {dealer:?}");
    }
    assert_eq!(
        html.one("#receipt-footer").text(),
        "Thank you for your business."
    );
    assert!(!html.has("#void-banner"), "not voided yet");
    // The Print button: there for the script to show, hidden without it.
    let button = html.one("#print-receipt");
    assert!(button.attr("hidden").is_some() && button.attr("data-print").is_some());
    let script = html
        .one("script[src*='/static/print.']")
        .attr("src")
        .unwrap();
    let js = app.get(&script).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.text().await.unwrap().contains("window.print()"));

    let r = app
        .post(
            &format!("{receipt}/void"),
            &[("reason", "Finance fell through")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&app, &app.client, &receipt).await;
    let banner = html.one("#void-banner").text();
    let voided = app
        .scalar_text(
            "SELECT to_char(voided_at AT TIME ZONE 'Pacific/Kiritimati', 'DD/MM/YYYY HH24:MI') \
             AS v FROM sales",
        )
        .await;
    for part in [
        "VOID",
        &voided,
        "by Test admin",
        "Reason: Finance fell through",
    ] {
        assert!(banner.contains(part), "{part:?} in {banner:?}");
    }
    assert!(
        !html.one("#void-banner").has_class("flash"),
        "a flash is not printed"
    );
}
