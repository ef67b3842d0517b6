//! The inventory over HTTP: validation, roles, concurrency (SPEC §5.1),
//! escaping, listing and CSV.

use reqwest::StatusCode;

use crate::helpers::{
    Html, PASSWORD, TestApp, add_vehicle, client, edit_form, edit_form_from, href_of,
    listed_stock_numbers, location, refs, send_form, vehicle_form, with,
};

#[tokio::test]
async fn an_editor_adds_a_vehicle_and_everyone_can_read_it() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "a-1001").await;
    let page = app.get(&format!("/vehicles/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("A-1001"), "stock number stored upper-case");
    assert!(body.contains("21,500.00"));
    assert!(body.contains("32,000"));
    assert!(body.contains("created"), "history shows the creation");
    let list = app.get("/vehicles").await.text().await.unwrap();
    assert_eq!(listed_stock_numbers(&list), ["A-1001"]);
    assert!(list.contains("1 vehicle"));
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM vehicle_history WHERE version = 1")
            .await,
        1
    );
}

#[tokio::test]
async fn every_bad_field_is_422_with_its_message_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    add_vehicle(&app, "TAKEN-1").await;
    let cases: &[(&str, &str)] = &[
        ("vehicle_number", ""),
        ("vehicle_number", "has space"),
        ("vehicle_number", "TAKEN-1"),
        ("vehicle_number", "taken-1"),
        ("vin", "SHORT"),
        ("vin", "1HGCM82633A00435I"),
        ("year", "1899"),
        ("year", "3000"),
        ("year", "twenty"),
        ("make", ""),
        ("model", ""),
        ("mileage", "-1"),
        ("mileage", "99999999999999999999"),
        ("condition", "mint"),
        ("cost", "abc"),
        ("cost", "-5"),
        ("list_price", "1.234"),
        ("list_price", "999999999999"),
        ("status", "sold"),
        ("status", "archived"),
        ("received_on", "yesterday"),
        ("received_on", "2999-01-01"),
        ("notes", &"n".repeat(5001)),
        ("make", &"m".repeat(51)),
    ];
    for (field, value) in cases {
        let form = with(vehicle_form("NEW-1"), field, value);
        let r = app.post("/vehicles", &refs(&form)).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value:.20}"
        );
        let page = Html::parse(&r.text().await.unwrap());
        assert!(
            page.field_error(field).is_some(),
            "{field}={value:.20}: no error beside the field"
        );
        if *field != "model" {
            assert_eq!(
                page.field("model").as_deref(),
                Some("Accord"),
                "{field}: input kept"
            );
        }
    }
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM vehicles").await,
        1
    );
    // The same VIN twice among vehicles in stock.
    let vin = "1HGCM82633A004352";
    let r = app
        .post("/vehicles", &refs(&with(vehicle_form("V-1"), "vin", vin)))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post("/vehicles", &refs(&with(vehicle_form("V-2"), "vin", vin)))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("already has this VIN"));
}

#[tokio::test]
async fn roles_decide_who_reads_writes_and_archives() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "R-1").await;
    let viewer = client();
    app.create_user("viewer", "view@dealer.example", PASSWORD)
        .await;
    app.sign_in_with(&viewer, "view@dealer.example", PASSWORD)
        .await;
    for path in ["/vehicles", &format!("/vehicles/{id}"), "/vehicles.csv"] {
        assert_eq!(
            app.get_with(&viewer, path).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        app.get_with(&viewer, "/vehicles/new").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_with(&viewer, &format!("/vehicles/{id}/edit"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let form = vehicle_form("R-2");
    assert_eq!(
        app.post_with(&viewer, "/vehicles", &refs(&form))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let mut edit = with(vehicle_form("R-1"), "color", "Red");
    edit.push(("version", "1".into()));
    assert_eq!(
        app.post_with(&viewer, &format!("/vehicles/{id}"), &refs(&edit))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Editors cannot archive; admins can.
    let archive = [("version", "1")];
    assert_eq!(
        app.post(&format!("/vehicles/{id}/archive"), &archive)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let admin = client();
    app.create_user("admin", "boss@dealer.example", PASSWORD)
        .await;
    app.sign_in_with(&admin, "boss@dealer.example", PASSWORD)
        .await;
    let r = app
        .post_with(&admin, &format!("/vehicles/{id}/archive"), &archive)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND status = 'archived'"
        ))
        .await,
        1
    );
    // Archived vehicles leave the default list but stay reachable.
    let list = app.get("/vehicles").await.text().await.unwrap();
    assert!(!listed_stock_numbers(&list).contains(&"R-1".to_string()));
    let archived = app
        .get("/vehicles?status=archived")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(listed_stock_numbers(&archived), ["R-1"]);
    // An editor cannot bring it back; an admin can, by editing its status.
    let mut back = edit_form(&app, &app.client, id).await;
    for (k, v) in back.iter_mut() {
        if *k == "status" {
            *v = "available".into();
        }
    }
    let r = app.post(&format!("/vehicles/{id}"), &refs(&back)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post_with(&admin, &format!("/vehicles/{id}"), &refs(&back))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn stale_edits_of_different_fields_both_land() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "M-1").await;
    let other = app.second_user("editor").await;
    // Both open the edit page at version 1.
    let mine = edit_form(&app, &app.client, id).await;
    let theirs = edit_form(&app, &other, id).await;
    // The seed's Scenario 3: one sets the status, the other the price.
    let theirs = with(theirs, "status", "reserved");
    let r = app
        .post_with(&other, &format!("/vehicles/{id}"), &refs(&theirs))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = with(mine, "list_price", "19,999.00");
    let r = app.post(&format!("/vehicles/{id}"), &refs(&mine)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "merged, not refused");
    let page = app
        .get(&format!("/vehicles/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Someone else had changed status"),
        "told about the merge"
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND status = 'reserved' \
             AND list_price_cents = 1999900 AND version = 3"
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {id}"
        ))
        .await,
        3
    );
}

#[tokio::test]
async fn same_field_changed_differently_is_a_409_with_both_values_and_nothing_lost() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "C-1").await;
    let other = app.second_user("editor").await;
    let mine = edit_form(&app, &app.client, id).await;
    let theirs = with(edit_form(&app, &other, id).await, "list_price", "20,000");
    assert_eq!(
        app.post_with(&other, &format!("/vehicles/{id}"), &refs(&theirs))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mine = with(with(mine, "list_price", "19,000"), "color", "Red");
    let r = app.post(&format!("/vehicles/{id}"), &refs(&mine)).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = Html::parse(&r.text().await.unwrap());
    let form = page.one("form.vehicle-form");
    let sent = |name: &str| {
        form.form_fields()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    assert_eq!(
        sent("list_price").as_deref(),
        Some("19000.00"),
        "the form offers my price"
    );
    assert_eq!(sent("color").as_deref(), Some("Red"), "and my other change");
    assert_eq!(
        sent("version").as_deref(),
        Some("2"),
        "ready on the current version"
    );
    // One row of the comparison, for the one field both changed.
    let rows = page.select("table.compare tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].one("th").text(), "List price");
    let cells = rows[0].select("td");
    assert_eq!(cells.len(), 3, "{cells:?}");
    assert_eq!(cells[0].text(), "21,500.00", "base shown");
    assert!(cells[1].text().starts_with("20,000.00"), "theirs shown");
    assert!(cells[1].text().contains("Test editor"), "who changed it");
    assert_eq!(cells[2].text(), "19,000.00", "mine shown");
    // Nothing of mine was saved; theirs is intact.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND list_price_cents = 2000000 AND color = 'Blue'"
        ))
        .await,
        1
    );
    // Resubmitting the conflict page's form saves my values on version 2.
    let again = with(with(mine, "version", "2"), "list_price", "19,500");
    let r = app.post(&format!("/vehicles/{id}"), &refs(&again)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND list_price_cents = 1950000 AND color = 'Red' AND version = 3"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn fifty_parallel_stale_saves_land_once_per_field_and_the_rest_conflict() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "P-1").await;
    let base = edit_form(&app, &app.client, id).await;
    let token = app.csrf_token_with(&app.client).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        // All on version 1. Half change the price, each to its own value;
        // half the notes, each to its own text.
        let form = if i % 2 == 0 {
            with(base.clone(), "list_price", &format!("{}", 20_000 + i))
        } else {
            with(base.clone(), "notes", &format!("note {i}"))
        };
        let mut body: Vec<(&str, String)> = vec![("csrf_token", token.clone())];
        body.extend(form);
        let c = app.client.clone();
        let url = app.url(&format!("/vehicles/{id}"));
        tasks.push(tokio::spawn(async move {
            (i, send_form(&c, &url, &body).await.status())
        }));
    }
    let (mut prices, mut notes, mut conflicts) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (i, status) = t.await.unwrap();
        match status {
            StatusCode::SEE_OTHER if i % 2 == 0 => prices.push(i),
            StatusCode::SEE_OTHER => notes.push(i),
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!("save {i}: unexpected {other}"),
        }
    }
    // Exactly two can land: the first price change (a different price since
    // version 1 conflicts with it), and the first notes change (it merges
    // with the price; a different note since version 1 conflicts with it).
    // "Last write wins" would land all fifty; refusing merges, only one.
    assert_eq!(prices.len(), 1, "price saves that landed: {prices:?}");
    assert_eq!(notes.len(), 1, "notes saves that landed: {notes:?}");
    assert_eq!(conflicts, 48);
    let (price, note) = ((20_000 + prices[0]) * 100, format!("note {}", notes[0]));
    // The row holds exactly those two values, on version 3, and nothing else moved.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND version = 3 \
               AND list_price_cents = {price} AND cost_cents = 1800000 AND color = 'Blue' \
               AND status = 'available' AND location = 'Lot B'"
        ))
        .await,
        1,
        "the row has price {price} on version 3"
    );
    assert_eq!(
        app.scalar_text(&format!("SELECT notes AS v FROM vehicles WHERE id = {id}"))
            .await,
        note
    );
    // History: one row per version; version 2 is one of the two changes
    // alone, version 3 both, equal to the row: nothing lost in between.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {id}"
        ))
        .await,
        3
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicle_history WHERE vehicle_id = {id} AND version = 2 \
               AND action = 'edited' AND ( \
                 ((snapshot->>'list_price_cents')::bigint = {price} AND snapshot->>'notes' = '') \
                 OR ((snapshot->>'list_price_cents')::bigint = 2150000 AND snapshot->>'notes' = '{note}'))"
        ))
        .await,
        1,
        "version 2 is one landed change alone"
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles v JOIN vehicle_history h \
               ON h.vehicle_id = v.id AND h.version = v.version \
             WHERE v.id = {id} AND h.version = 3 AND h.action = 'edited' \
               AND (h.snapshot->>'list_price_cents')::bigint = v.list_price_cents \
               AND h.snapshot->>'notes' = v.notes"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn markup_in_every_text_field_is_escaped_everywhere() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let evil = "<script>alert(1)</script>";
    let mut form = vehicle_form("X-1");
    for (k, v) in form.iter_mut() {
        if matches!(
            *k,
            "make" | "model" | "trim" | "color" | "location" | "notes"
        ) {
            *v = evil.to_string();
        }
    }
    let r = app.post("/vehicles", &refs(&form)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    for path in [
        "/vehicles".to_string(),
        format!("/vehicles/{id}"),
        format!("/vehicles/{id}/edit"),
        "/vehicles?q=%3Cscript%3E".to_string(),
    ] {
        let body = app.get(&path).await.text().await.unwrap();
        assert!(!body.contains("<script>alert"), "{path} is not escaped");
    }
    // And on a 422 re-render.
    let bad = with(form, "year", "nope");
    let body = app
        .post("/vehicles", &refs(&bad))
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("<script>alert"));
}

#[tokio::test]
async fn the_list_searches_filters_sorts_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    // 120 vehicles: three makes, prices rising with the number.
    app.exec(
        "INSERT INTO vehicles (vehicle_number, vin, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'L-' || g, NULL, 2020, (ARRAY['Ford','Honda','Kia'])[1 + g % 3], 'Model' || g, g * 100, 'used', \
                g * 1000, g * 10000, CASE WHEN g % 10 = 0 THEN 'reserved' ELSE 'available' END, \
                DATE '2026-01-01' + g \
         FROM generate_series(1, 120) g",
    )
    .await;
    let page1 = app.get("/vehicles?sort=price").await.text().await.unwrap();
    assert!(page1.contains("120 vehicles"));
    let stock = |range: std::ops::RangeInclusive<i32>| -> Vec<String> {
        range.map(|g| format!("L-{g}")).collect()
    };
    assert_eq!(listed_stock_numbers(&page1), stock(1..=50));
    let next = href_of(&page1, "a[rel~=next]");
    let page2 = app.get(&next).await.text().await.unwrap();
    assert_eq!(listed_stock_numbers(&page2), stock(51..=100));
    let prev = href_of(&page2, "a[rel~=prev]");
    let back = app.get(&prev).await.text().await.unwrap();
    assert_eq!(listed_stock_numbers(&back), stock(1..=50));
    // Descending, default sort is newest received first.
    let newest = listed_stock_numbers(&app.get("/vehicles").await.text().await.unwrap());
    assert_eq!(newest[..2], ["L-120", "L-119"]);
    // Search by stock number, make; filters by status and make.
    let found = listed_stock_numbers(&app.get("/vehicles?q=l-11").await.text().await.unwrap());
    assert!(
        found.contains(&"L-11".into())
            && found.contains(&"L-110".into())
            && !found.contains(&"L-12".into()),
        "{found:?}"
    );
    // A search is read once, counted exactly and paged like the list.
    let matched = app
        .get("/vehicles?q=l-&sort=price")
        .await
        .text()
        .await
        .unwrap();
    assert!(matched.contains("120 vehicles match"), "{matched}");
    assert_eq!(listed_stock_numbers(&matched), stock(1..=50));
    let next = href_of(&matched, "a[rel~=next]");
    assert!(next.contains("q=l-"), "{next}");
    let page2 = app.get(&next).await.text().await.unwrap();
    assert!(page2.contains("120 vehicles match"));
    assert_eq!(listed_stock_numbers(&page2), stock(51..=100));
    let prev = href_of(&page2, "a[rel~=prev]");
    let back = app.get(&prev).await.text().await.unwrap();
    assert_eq!(listed_stock_numbers(&back), stock(1..=50));
    let reserved = app
        .get("/vehicles?status=reserved")
        .await
        .text()
        .await
        .unwrap();
    assert!(reserved.contains("12 vehicles"));
    let kia = app.get("/vehicles?make=Kia").await.text().await.unwrap();
    assert!(kia.contains("40 vehicles"));
    let none = app.get("/vehicles?q=%25").await.text().await.unwrap();
    assert!(
        none.contains("No vehicles here"),
        "% is literal, not a wildcard"
    );
    // Junk parameters do not break the page; a cursor that does not fit the
    // sort (hand-edited) shows the first page.
    use base64::Engine as _;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x\u{1f}1");
    let forged = format!("sort=price&after={forged}");
    for q in [
        "sort=bogus",
        "after=%%%",
        "before=AAAA",
        "status=nonsense",
        "make=%00",
        &forged,
    ] {
        let r = app.get(&format!("/vehicles?{q}")).await;
        assert!(
            r.status().is_success() || r.status() == StatusCode::BAD_REQUEST,
            "{q}: {}",
            r.status()
        );
    }
}

#[tokio::test]
async fn search_finds_codes_by_their_start_or_end_and_names_anywhere() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    app.exec(
        "INSERT INTO vehicles (vehicle_number, vin, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) VALUES \
         ('P1234', '1HGCM82633A004352', 2019, 'Honda', 'Civic', 1000, 'used', 100, 200, 'available', DATE '2026-01-01'), \
         ('U81234', 'JH4KA9650MC012345', 2018, 'Acura', 'Legend', 1000, 'used', 100, 200, 'available', DATE '2026-01-02'), \
         ('C5000', NULL, 2021, 'Ford', 'F-150', 1000, 'used', 100, 200, 'reserved', DATE '2026-01-03'), \
         ('B77', NULL, 2022, 'BMW', 'X5', 1000, 'used', 100, 200, 'available', DATE '2026-01-04')",
    )
    .await;
    let found = async |q: &str| {
        let page = app
            .get(&format!(
                "/vehicles?{}",
                serde_urlencoded::to_string([("q", q)]).unwrap()
            ))
            .await
            .text()
            .await
            .unwrap();
        let listed = listed_stock_numbers(&page);
        ["P1234", "U81234", "C5000", "B77"]
            .into_iter()
            .filter(|n| listed.iter().any(|l| l == n))
            .collect::<Vec<_>>()
    };
    // Stock numbers by their start or their end, in any case.
    assert_eq!(found("p12").await, ["P1234"]);
    assert_eq!(found("1234").await, ["P1234", "U81234"]);
    assert_eq!(found(" c5000 ").await, ["C5000"]);
    // The middle of a code is not searched: that is what keeps it fast.
    assert_eq!(found("812").await, Vec::<&str>::new());
    // VINs by their start or their last characters.
    assert_eq!(found("1hgcm").await, ["P1234"]);
    assert_eq!(found("A004352").await, ["P1234"]);
    assert_eq!(found("012345").await, ["U81234"]);
    assert_eq!(found("JH4KA9650MC012345").await, ["U81234"]);
    // Make and model by any part, across both.
    assert_eq!(found("onda civ").await, ["P1234"]);
    assert_eq!(found("F-150").await, ["C5000"]);
    assert_eq!(found("FORD").await, ["C5000"]);
    assert_eq!(found("egen").await, ["U81234"]);
    // Too short for "any part": a whole model name (or a code's start or end).
    assert_eq!(found("x5").await, ["B77"]);
    assert_eq!(found("b7").await, ["B77"]);
    assert_eq!(found("ivi").await, ["P1234"]);
    assert_eq!(found("iv").await, Vec::<&str>::new());
    // Wildcards are literal.
    assert_eq!(found("_1234").await, Vec::<&str>::new());
    assert_eq!(found("%").await, Vec::<&str>::new());
}

#[tokio::test]
async fn csv_export_follows_the_filter_and_neutralises_formulas() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let form = with(
        with(vehicle_form("F-1"), "model", "=HYPERLINK(\"http://x\")"),
        "make",
        "Ford",
    );
    assert_eq!(
        app.post("/vehicles", &refs(&form)).await.status(),
        StatusCode::SEE_OTHER
    );
    add_vehicle(&app, "H-1").await;
    let r = app.get("/vehicles.csv?make=Ford").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("vehicle_number,vin,year"));
    assert!(lines[1].contains("'=HYPERLINK"), "{}", lines[1]);
    assert!(lines[1].contains("21500.00"));
    // More rows than one batch stream in full.
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'B-' || g, 2020, 'Kia', 'Soul', 0, 'new', 100, 200, 'available', DATE '2026-01-01' \
         FROM generate_series(1, 2500) g",
    )
    .await;
    let all = app
        .get("/vehicles.csv?make=Kia")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(all.lines().count(), 2501);
}

#[tokio::test]
async fn saving_from_the_conflict_page_keeps_the_other_persons_other_changes() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "K-1").await;
    let other = app.second_user("editor").await;
    let mine = edit_form(&app, &app.client, id).await;
    // Bob changes the price and the location; I change the price only.
    let theirs = with(
        with(edit_form(&app, &other, id).await, "list_price", "20,000"),
        "location",
        "Showroom",
    );
    app.post_with(&other, &format!("/vehicles/{id}"), &refs(&theirs))
        .await;
    let r = app
        .post(
            &format!("/vehicles/{id}"),
            &refs(&with(mine, "list_price", "19,000")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The conflict page's form, submitted as it stands.
    let html = r.text().await.unwrap();
    assert_eq!(
        Html::parse(&html).field("location").as_deref(),
        Some("Showroom"),
        "their other change is in the form"
    );
    let again = edit_form_from(&html);
    let r = app.post(&format!("/vehicles/{id}"), &refs(&again)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT count(*) AS v FROM vehicles WHERE id = {id} AND list_price_cents = 1900000 AND location = 'Showroom'"
        ))
        .await,
        1
    );
}
