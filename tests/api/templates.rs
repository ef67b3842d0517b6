//! What the templates show: times in the dealership's zone on every page
//! (the user page's audit trail showed UTC), form fields that each state
//! whether they are required, and list wording taken from typed values.

use pcn::domain::Money;

use crate::helpers::{
    Element, Html, Options, PASSWORD, TestApp, add_vehicle, client, location, refs, vehicle_form,
    with,
};

/// UTC+14 all year, no daylight saving: no wall-clock time there reads the
/// same as in UTC, so a page showing UTC cannot pass for local time.
const ZONE: &str = "Pacific/Kiritimati";

async fn app_in_zone() -> TestApp {
    TestApp::with(Options::default().env("PCN_TIMEZONE", ZONE)).await
}

/// `column` of the row `table … where` as `YYYY-MM-DD HH:MM`, in `zone`.
async fn time_in(app: &TestApp, zone: &str, column: &str, from: &str) -> String {
    app.scalar_text(&format!(
        "SELECT to_char({column} AT TIME ZONE '{zone}', 'YYYY-MM-DD HH24:MI') AS v FROM {from}"
    ))
    .await
}

/// The text of each cell of a table row.
fn cells_of(row: &Element) -> Vec<String> {
    row.select("td").iter().map(Element::text).collect()
}

/// The definition beside the term `term` in the page's `dl.details` lists.
fn detail(page: &Html, term: &str) -> String {
    let terms = page.texts("dl.details dt");
    let defs = page.texts("dl.details dd");
    assert_eq!(terms.len(), defs.len(), "every term has its definition");
    let i = terms
        .iter()
        .position(|t| t == term)
        .unwrap_or_else(|| panic!("no `{term}` among {terms:?}"));
    defs[i].clone()
}

#[tokio::test]
async fn audit_times_on_the_user_page_are_in_the_dealership_zone() {
    let app = app_in_zone().await;
    app.signed_in_as("admin").await;
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "pat@dealer.example"),
                ("first_name", "Pat"),
                ("last_name", "Lee"),
                ("role", "editor"),
                ("password", "orchid lantern meadow 5"),
            ],
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let user_page = location(&r);
    let id: i64 = user_page
        .trim_end_matches("/edit")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let html = app.get(&user_page).await.text().await.unwrap();
    let page = Html::parse(&html);
    let shown = page.texts(".timeline .when");
    let newest = format!("audit_log WHERE target_user_id = {id} ORDER BY at DESC, id DESC LIMIT 1");
    let local = time_in(&app, ZONE, "at", &newest).await;
    let utc = time_in(&app, "UTC", "at", &newest).await;
    assert!(
        shown.first().is_some_and(|w| w.ends_with(&local)),
        "the newest change at {local} ({ZONE}), not {utc} (UTC): {shown:?}"
    );
    assert!(shown.iter().all(|w| !w.contains(&utc)), "{shown:?}");
}

#[tokio::test]
async fn sign_ins_and_vehicle_changes_are_shown_in_the_dealership_zone() {
    let app = app_in_zone().await;
    let admin = app.signed_in_as("admin").await;
    let pat = app
        .create_user("viewer", "pat@dealer.example", PASSWORD)
        .await;
    let r = app
        .sign_in_with(&client(), "pat@dealer.example", PASSWORD)
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);

    // The users list: Pat's last sign-in.
    let list = Html::parse(&app.get("/admin/users?q=pat").await.text().await.unwrap());
    let cells = cells_of(&list.one("table.data tbody tr"));
    let pat_local = time_in(
        &app,
        ZONE,
        "last_sign_in_at",
        &format!("users WHERE id = {pat}"),
    )
    .await;
    assert_eq!(cells.last(), Some(&pat_local), "{cells:?}");

    // One's own account: the last sign-in with the zone's abbreviation.
    let account = Html::parse(&app.get("/account").await.text().await.unwrap());
    let mine = time_in(
        &app,
        ZONE,
        "last_sign_in_at",
        &format!("users WHERE id = {admin}"),
    )
    .await;
    assert_eq!(detail(&account, "Last sign-in"), format!("{mine} +14"));

    // A vehicle: its last change, its history, and its money as the app writes it.
    let id = add_vehicle(&app, "TZ-1").await;
    let page = Html::parse(
        &app.get(&format!("/vehicles/{id}"))
            .await
            .text()
            .await
            .unwrap(),
    );
    let vehicle = format!("vehicles WHERE id = {id}");
    let changed = time_in(&app, ZONE, "updated_at", &vehicle).await;
    let utc = time_in(&app, "UTC", "updated_at", &vehicle).await;
    assert!(
        detail(&page, "Last change").starts_with(&format!("{changed} (version 1)")),
        "{} is not {changed}",
        detail(&page, "Last change")
    );
    let history = page.texts(".history .when");
    assert!(
        history.iter().any(|w| w.contains(&changed)) && history.iter().all(|w| !w.contains(&utc)),
        "{history:?}"
    );
    let form = vehicle_form("TZ-1");
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| Money::parse(v).unwrap())
            .unwrap()
    };
    // Dollars before the amount until an admin chooses otherwise.
    assert_eq!(
        detail(&page, "List price"),
        format!("${}", field("list_price"))
    );
    assert_eq!(detail(&page, "Cost"), format!("${}", field("cost")));
    assert_eq!(
        detail(&page, "Margin at list"),
        format!(
            "${}",
            Money::from_cents(field("list_price").cents() - field("cost").cents())
        )
    );
    assert_eq!(detail(&page, "Mileage"), "32,000");
}

#[tokio::test]
async fn each_form_field_states_whether_it_is_required() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let required = |html: &str| -> Vec<String> {
        Html::parse(html)
            .select("form input[required], form select[required], form textarea[required]")
            .iter()
            .filter_map(|e| e.attr("name"))
            .collect()
    };
    let optional = |html: &str| -> Vec<String> {
        Html::parse(html)
            .select("form .field")
            .iter()
            .filter(|f| f.first("label .optional").is_some())
            .filter_map(|f| f.first("input, select, textarea"))
            .filter_map(|e| e.attr("name"))
            .collect()
    };

    let new_vehicle = app.get("/vehicles/new").await.text().await.unwrap();
    assert_eq!(
        required(&new_vehicle),
        [
            "vehicle_number",
            "year",
            "make",
            "model",
            "mileage",
            "cost",
            "list_price",
            "received_on"
        ]
    );
    assert_eq!(
        optional(&new_vehicle),
        ["vin", "trim", "color", "location", "notes"]
    );
    let page = Html::parse(&new_vehicle);
    assert_eq!(
        page.one("input[name=received_on]").attr("type").as_deref(),
        Some("date")
    );
    assert_eq!(page.one("input[name=mileage]").attr("type"), None);

    let id = add_vehicle(&app, "REQ-1").await;
    let sell = app
        .get(&format!("/vehicles/{id}/sell"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(required(&sell), ["sale_price", "sold_on", "customer_name"]);
    assert_eq!(
        optional(&sell),
        ["customer_email", "customer_phone", "notes"]
    );
    let page = Html::parse(&sell);
    assert_eq!(
        page.one("input[name=customer_phone]")
            .attr("type")
            .as_deref(),
        Some("tel")
    );
    assert_eq!(page.one("input[name=customer_name]").attr("type"), None);

    // A field with an error says so, and points at its message.
    let r = app
        .post(
            "/vehicles",
            &refs(&with(vehicle_form("REQ-2"), "year", "1066")),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    let year = page.one("input[name=year]");
    assert_eq!(year.attr("aria-invalid").as_deref(), Some("true"));
    assert_eq!(year.attr("aria-describedby").as_deref(), Some("year-error"));
    assert!(page.field_error("year").is_some());
    let summary = page.one(".error-summary[role=alert]");
    assert_eq!(
        page.one(".error-summary-title").text(),
        "Please correct the 1 field marked below. Nothing was saved."
    );
    // It links to the field, by its label, and takes the focus.
    assert_eq!(
        page.texts(".error-summary li a"),
        ["Year: Enter a year from 1900 to 2027."]
    );
    assert_eq!(
        page.one(".error-summary li a").attr("href").as_deref(),
        Some("#year")
    );
    assert!(summary.attr("autofocus").is_some());
}

#[tokio::test]
async fn the_inventory_counts_in_words_and_heads_its_columns_most_needed_first() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    add_vehicle(&app, "ONE-1").await;
    add_vehicle(&app, "TWO-1").await;
    let total = |html: &str| Html::parse(html).one("#total").text();

    let all = app.get("/vehicles").await.text().await.unwrap();
    assert_eq!(total(&all), "2 vehicles");
    let one = app.get("/vehicles?q=ONE-1").await.text().await.unwrap();
    assert_eq!(total(&one), "1 vehicle matches these filters");
    let two = app.get("/vehicles?make=Honda").await.text().await.unwrap();
    assert_eq!(total(&two), "2 vehicles match these filters");

    let heads: Vec<String> = Html::parse(&all)
        .texts("table.data thead th")
        .into_iter()
        .map(|h| h.trim_end_matches(['▲', '▼']).trim().to_string())
        .collect();
    assert_eq!(
        heads,
        [
            "Tick to change",
            "Stock #",
            "Vehicle",
            "Status",
            "Price",
            "Days in stock",
            "Location",
            "Mileage",
            "Color",
            "VIN"
        ]
    );
    // An editor's rows start with the tick box (its label read out only).
    let row = cells_of(&Html::parse(&all).select("table.data tbody tr")[0]);
    assert!(row[0].starts_with("Tick "), "{row:?}");
    assert_eq!(row[3], "Available");
    assert_eq!(row[4], "$21,500.00");
    assert_eq!(row[6], "Lot B");
    assert_eq!(row[7], "32,000");
}

/// An error page for someone signed in keeps the navigation and the
/// sign-out button (a 404 or 403 is not a dead end); a number that finds
/// nothing says what it looked for. Signed out, the page has neither.
#[tokio::test]
async fn error_pages_keep_the_navigation_and_name_what_was_not_found() {
    let app = TestApp::spawn().await;
    let signed_out = app.get("/nothing-here").await;
    assert_eq!(signed_out.status(), reqwest::StatusCode::NOT_FOUND);
    let page = Html::parse(&signed_out.text().await.unwrap());
    assert!(page.select("nav.mainnav").is_empty());

    app.signed_in_as("viewer").await;
    for (path, heading) in [
        ("/vehicles/987654", "No vehicle with this number"),
        ("/sales/987654", "No sale with this number"),
        ("/nothing-here", "Page not found"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
        let page = Html::parse(&r.text().await.unwrap());
        assert_eq!(page.one("h1").text(), heading, "{path}");
        assert!(!page.select("nav.mainnav a").is_empty(), "{path}");
        assert_eq!(page.select("form[action='/logout']").len(), 1, "{path}");
    }
    let r = app.get("/admin/users").await;
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    let page = Html::parse(&r.text().await.unwrap());
    assert_eq!(page.one("h1").text(), "Not allowed");
    assert!(!page.select("nav.mainnav a").is_empty());
}
