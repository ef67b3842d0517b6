//! A real headless Chromium, driven over WebDriver, signs in through the
//! form (and with two steps), adds, edits (merge and conflict), sells,
//! reports and administers:
//! the pages work as pages, under the CSP, at desktop and tablet sizes.
//! Without chromedriver the tests are skipped, unless PCN_REQUIRE_BROWSER=1
//! (set by CI), where a missing browser is a failure.

use fantoccini::Locator;

use crate::helpers::{
    PASSWORD, TestApp, click, code_now, fill, next_code, open_browser, shot, sign_in_browser,
    start_driver, text_of, text_when, wait_for_url,
};

#[tokio::test]
async fn staff_sign_in_through_the_real_form() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    let b = open_browser(&driver, 1280, 800).await;

    b.goto(&app.url("/account")).await.unwrap();
    // Redirected to the sign-in form, which remembers where we were going.
    wait_for_url(&b, "/login?next=%2Faccount").await;
    fill(&b, "#email", "rosa@dealer.example").await;
    fill(&b, "#password", "wrong password!").await;
    click(&b, "button[type=submit]").await;
    let error = text_of(&b, ".flash-error").await;
    assert!(error.contains("not right"), "{error}");
    shot(&b, "login-error.png").await;

    fill(&b, "#password", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for_url(&b, "/account").await;
    assert_eq!(text_of(&b, "h1").await, "Your account");
    // The stylesheet loaded under the CSP (the top bar is coloured, not default).
    let bar = b.find(Locator::Css(".topbar")).await.unwrap();
    let bg = bar.css_value("background-color").await.unwrap();
    assert_ne!(bg, "rgba(0, 0, 0, 0)", "stylesheet not applied");
    shot(&b, "account.png").await;

    click(&b, "form[action='/logout'] button").await;
    wait_for_url(&b, "/login").await;
    assert!(text_of(&b, ".flash-info").await.contains("signed out"));
    b.close().await.unwrap();

    // A tablet-sized window shows the same form usable.
    let t = open_browser(&driver, 800, 1100).await;
    t.goto(&app.url("/login")).await.unwrap();
    shot(&t, "login-tablet.png").await;
    t.close().await.unwrap();
}

/// Two-step sign-in in a real browser: set up from the account page (the
/// key read off the page, the code made by an authenticator app, here
/// `totp-rs`), the recovery codes kept, then signing out and in again with
/// the password, then a code. The QR code is an image the browser draws
/// under the CSP.
#[tokio::test]
async fn an_invited_person_chooses_their_password_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    let admin = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&admin, &app, "ada@dealer.example").await;
    admin.goto(&app.url("/admin/users/new")).await.unwrap();
    fill(&admin, "#email", "nina@dealer.example").await;
    fill(&admin, "#first_name", "Nina").await;
    fill(&admin, "#last_name", "Okoro").await;
    click(&admin, "form[action='/admin/users'] button[type=submit]").await;
    let link = admin
        .find(Locator::Css("#invite-link"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .expect("the link");
    shot(&admin, "invitation-link.png").await;
    admin.close().await.unwrap();

    // The new person, on a tablet, with nothing but the link.
    let nina = open_browser(&driver, 820, 1000).await;
    let path = &link[link.find("/invite/").expect("an invitation path")..];
    nina.goto(&app.url(path)).await.unwrap();
    assert!(text_of(&nina, "main").await.contains("nina@dealer.example"));
    fill(&nina, "#password", "short").await;
    click(&nina, "button[type=submit]").await;
    assert!(!text_of(&nina, "#password-error").await.is_empty());
    shot(&nina, "invitation-choose.png").await;
    fill(&nina, "#password", "harbour thistle lantern 58").await;
    click(&nina, "button[type=submit]").await;
    wait_for_url(&nina, "/login").await;
    fill(&nina, "#email", "nina@dealer.example").await;
    fill(&nina, "#password", "harbour thistle lantern 58").await;
    click(&nina, "button[type=submit]").await;
    wait_for_url(&nina, "/vehicles").await;
    nina.close().await.unwrap();
}

#[tokio::test]
async fn two_step_sign_in_is_set_up_and_used_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    let ed = app
        .create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    let b = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&b, &app, "ed@dealer.example").await;
    click(&b, "a[href='/account']").await;
    wait_for_url(&b, "/account").await;
    assert!(text_of(&b, "#two-factor").await.contains("OFF"));
    click(&b, "#two-factor a[href='/account/2fa']").await;
    wait_for_url(&b, "/account/2fa").await;
    let drawn = b
        .execute(
            "const i = document.querySelector('img.qr'); \
             return i.complete && i.naturalWidth >= 200 && i.naturalHeight >= 200;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn.as_bool(), Some(true), "the QR code is not drawn");
    let secret = text_of(&b, "#totp-secret").await.replace(' ', "");
    shot(&b, "two-factor-setup.png").await;

    // A wrong code first: the error beside the field, the same key.
    let wrong = if code_now(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    fill(&b, "#code", wrong).await;
    click(&b, ".code-form button[type=submit]").await;
    assert!(text_of(&b, "#code-error").await.contains("not the code"));
    assert_eq!(text_of(&b, "#totp-secret").await.replace(' ', ""), secret);
    fill(&b, "#code", &code_now(&secret)).await;
    click(&b, ".code-form button[type=submit]").await;
    text_when(&b, ".flash-success", |t| t.contains("on")).await;
    let codes = b
        .find_all(Locator::Css("#recovery-codes li"))
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(text_of(&b, "#two-factor-status").await, "ON");
    shot(&b, "two-factor-recovery-codes.png").await;

    // Out, and in again: the password, then a code.
    click(&b, "form[action='/logout'] button").await;
    wait_for_url(&b, "/login").await;
    fill(&b, "#email", "ed@dealer.example").await;
    fill(&b, "#password", PASSWORD).await;
    click(&b, "button[type=submit]").await;
    wait_for_url(&b, "/login/code").await;
    fill(&b, "#code", "123").await;
    click(&b, "button[type=submit]").await;
    text_when(&b, ".flash-error", |t| t.contains("not right")).await;
    shot(&b, "two-factor-code-error.png").await;
    fill(&b, "#code", &next_code(&secret)).await;
    click(&b, "button[type=submit]").await;
    wait_for_url(&b, "/vehicles").await;
    assert_eq!(text_of(&b, ".who-name").await, "Test editor");
    b.goto(&app.url("/account/2fa")).await.unwrap();
    text_of(&b, "#recovery-left").await;
    shot(&b, "two-factor-on.png").await;
    b.close().await.unwrap();

    // The code step in a narrow window.
    let p = open_browser(&driver, 500, 800).await;
    p.goto(&app.url("/login")).await.unwrap();
    fill(&p, "#email", "ed@dealer.example").await;
    fill(&p, "#password", PASSWORD).await;
    click(&p, "button[type=submit]").await;
    wait_for_url(&p, "/login/code").await;
    shot(&p, "two-factor-code-narrow.png").await;
    p.close().await.unwrap();

    // An admin resets it (a lost phone) from Ed's user page.
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    let a = open_browser(&driver, 1280, 1000).await;
    sign_in_browser(&a, &app, "rosa@dealer.example").await;
    a.goto(&app.url(&format!("/admin/users/{ed}/edit")))
        .await
        .unwrap();
    assert!(text_of(&a, "#two-factor").await.contains("ON"));
    shot(&a, "two-factor-admin-user.png").await;
    click(&a, "form[action$='/2fa/reset'] button").await;
    let flash = text_when(&a, ".flash-success", |t| t.contains("reset")).await;
    assert!(flash.contains("1 open session ended"), "{flash}");
    assert!(text_of(&a, "#two-factor").await.contains("OFF"));
    a.close().await.unwrap();
}

/// Adds a vehicle, edits it while someone else edits too (the seed's
/// Scenario 3 merges; the same field conflicts), in a real browser.
#[tokio::test]
async fn inventory_add_edit_merge_and_conflict_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    // "Bob" edits over plain HTTP at the same time.
    let bob = crate::helpers::client();
    app.create_user("editor", "bob@dealer.example", PASSWORD)
        .await;
    app.sign_in_with(&bob, "bob@dealer.example", PASSWORD).await;

    let b = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&b, &app, "ed@dealer.example").await;
    click(&b, "a[href='/vehicles/new']").await;
    wait_for_url(&b, "/vehicles/new").await;
    // A mistake first: the form comes back with the error beside the field.
    fill(&b, "#vehicle_number", "b-7").await;
    fill(&b, "#year", "2022").await;
    fill(&b, "#make", "Toyota").await;
    fill(&b, "#model", "RAV4").await;
    fill(&b, "#color", "Silver").await;
    fill(&b, "#mileage", "12,400").await;
    fill(&b, "#cost", "24,000").await;
    fill(&b, "#list_price", "27999.999").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    assert!(text_of(&b, "#list_price-error").await.contains("decimals"));
    shot(&b, "vehicle-form-error.png").await;
    fill(&b, "#list_price", "27,999.00").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    wait_for_url(&b, "/vehicles/1").await;
    assert!(text_of(&b, "h1").await.contains("2022 Toyota RAV4"));
    shot(&b, "vehicle-detail.png").await;

    // Scenario 3: we open the editor, Bob reserves it, we change the price.
    b.goto(&app.url("/vehicles/1/edit")).await.unwrap();
    let token = app.csrf_token_with(&bob).await;
    let bob_form = |status: &str, price: &str| {
        vec![
            ("csrf_token", token.clone()),
            ("vehicle_number", "B-7".into()),
            ("year", "2022".into()),
            ("make", "Toyota".into()),
            ("model", "RAV4".into()),
            ("color", "Silver".into()),
            ("mileage", "12400".into()),
            ("condition", "used".into()),
            ("cost", "24000".into()),
            ("list_price", price.to_string()),
            ("status", status.to_string()),
            ("received_on", "2026-11-01".into()),
            ("version", String::new()),
        ]
    };
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let send = |mut form: Vec<(&'static str, String)>, version: &str| {
        for (k, v) in form.iter_mut() {
            if *k == "version" {
                *v = version.to_string();
            }
            if *k == "received_on" {
                *v = today.clone();
            }
        }
        let bob = bob.clone();
        let url = app.url("/vehicles/1");
        async move {
            bob.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(&form).unwrap())
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        send(bob_form("reserved", "27999"), "1").await,
        reqwest::StatusCode::SEE_OTHER
    );
    fill(&b, "#list_price", "26,500").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    wait_for_url(&b, "/vehicles/1").await;
    let flash = text_of(&b, ".flash-success").await;
    assert!(flash.contains("Someone else had changed status"), "{flash}");
    let badge = text_of(&b, "h1 .badge").await;
    assert_eq!(badge, "RESERVED");
    shot(&b, "vehicle-merged.png").await;

    // Same field: we open the editor, Bob changes the price, we change it too.
    b.goto(&app.url("/vehicles/1/edit")).await.unwrap();
    assert_eq!(
        send(bob_form("reserved", "25000"), "3").await,
        reqwest::StatusCode::SEE_OTHER
    );
    fill(&b, "#list_price", "24,750").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    let heading = text_of(&b, "#conflict-title").await;
    assert_eq!(heading, "Nothing was saved yet");
    let table = text_of(&b, "table.compare").await;
    assert!(
        table.contains("26,500.00") && table.contains("25,000.00") && table.contains("24,750.00"),
        "{table}"
    );
    shot(&b, "vehicle-conflict.png").await;
    // Keep ours: submit again on the current version.
    click(&b, ".vehicle-form button[type=submit]").await;
    wait_for_url(&b, "/vehicles/1").await;
    assert!(text_of(&b, ".flash-success").await.contains("Saved"));

    b.goto(&app.url("/vehicles")).await.unwrap();
    text_of(&b, "table.data").await;
    shot(&b, "vehicle-list.png").await;
    // On a tablet the page itself does not scroll sideways (a wide table
    // scrolls inside its card).
    b.set_window_size(800, 1100).await.unwrap();
    b.goto(&app.url("/vehicles?q=b-7")).await.unwrap();
    text_of(&b, "table.data").await;
    let overflow = b
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow.as_i64(), Some(0), "the page scrolls sideways");
    shot(&b, "vehicle-list-tablet.png").await;
    b.close().await.unwrap();
}

/// Sells a vehicle through the form and opens the report, in a real browser.
#[tokio::test]
async fn sell_a_vehicle_and_read_the_report_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    // Some history for the chart: sales over the past months.
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) \
         SELECT 'H-' || g, 2021, (ARRAY['Ford','Honda','Kia'])[1 + g % 3], 'Model', 1000, 'used', \
                1500000, 2000000, 'sold', current_date - 400 FROM generate_series(1, 40) g;
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, payment_method, salesperson_id) \
         SELECT v.id, 1800000 + (v.id % 7) * 50000, v.cost_cents, current_date - (v.id * 8 % 330)::int, \
                'Customer ' || v.id, 'cash', (SELECT min(id) FROM users) \
         FROM vehicles v WHERE v.vehicle_number LIKE 'H-%';",
    )
    .await;
    let b = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&b, &app, "rosa@dealer.example").await;
    // Add one to sell.
    b.goto(&app.url("/vehicles/new")).await.unwrap();
    fill(&b, "#vehicle_number", "SELL-1").await;
    fill(&b, "#year", "2023").await;
    fill(&b, "#make", "Mazda").await;
    fill(&b, "#model", "CX-5").await;
    fill(&b, "#mileage", "8000").await;
    fill(&b, "#cost", "25,000").await;
    fill(&b, "#list_price", "29,900").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    click(&b, "a.btn-primary[href$='/sell']").await;
    wait_for_url(&b, "/sell").await;
    fill(&b, "#sale_price", "29,400").await;
    fill(&b, "#customer_name", "Fox Mulder").await;
    fill(&b, "#customer_phone", "+1 555 0199").await;
    click(&b, ".vehicle-form button[type=submit]").await;
    wait_for_url(&b, "/sales/").await;
    assert!(text_of(&b, ".receipt-total").await.contains("29,400.00"));
    shot(&b, "sale-receipt.png").await;
    b.goto(&app.url("/sales")).await.unwrap();
    text_of(&b, "table.data").await;
    shot(&b, "sales-list.png").await;
    b.goto(&app.url("/reports/sales")).await.unwrap();
    let chart = b
        .wait()
        .for_element(Locator::Css("svg.chart"))
        .await
        .unwrap();
    assert!(chart.find_all(Locator::Css("g")).await.unwrap().len() >= 12);
    shot(&b, "sales-report.png").await;
    b.close().await.unwrap();
}

/// An admin creates a user, deactivates them, and looks at the activity page.
#[tokio::test]
async fn admin_creates_and_deactivates_a_user_in_a_browser() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("admin", "rosa@dealer.example", PASSWORD)
        .await;
    let b = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&b, &app, "rosa@dealer.example").await;
    click(&b, "nav a[href='/admin/users']").await;
    wait_for_url(&b, "/admin/users").await;
    click(&b, "a[href='/admin/users/new']").await;
    wait_for_url(&b, "/admin/users/new").await;
    fill(&b, "#email", "sam@dealer.example").await;
    fill(&b, "#first_name", "Sam").await;
    fill(&b, "#last_name", "Okafor").await;
    fill(&b, "#password", "granite meadow falcon 3").await;
    click(&b, "form[action='/admin/users'] button[type=submit]").await;
    wait_for_url(&b, "/edit").await;
    assert!(
        text_of(&b, ".flash-success")
            .await
            .contains("Added Sam Okafor")
    );
    // Untick "Active" and save.
    click(&b, "input[name=active]").await;
    click(&b, "form.form button.btn-primary").await;
    // The page still shows "Added …" until the save's answer replaces it.
    text_when(&b, ".flash-success", |t| t.starts_with("Saved")).await;
    shot(&b, "admin-user.png").await;
    b.goto(&app.url("/admin/users")).await.unwrap();
    assert!(
        text_of(&b, "table.data")
            .await
            .to_lowercase()
            .contains("deactivated")
    );
    shot(&b, "admin-users.png").await;
    b.goto(&app.url("/admin/activity")).await.unwrap();
    text_of(&b, "h1").await;
    shot(&b, "admin-activity.png").await;
    b.close().await.unwrap();
    assert_eq!(
        app.scalar_i64(
            "SELECT count(*) AS v FROM users WHERE email = 'sam@dealer.example' AND NOT active"
        )
        .await,
        1
    );
}

/// Two people at once (issue 11): Bob opens a vehicle for editing and saves
/// it in his browser, and Ed's open pages follow along without reloading:
/// who is editing, what changed, a sale on the list, a warning on his own
/// edit form. Ed's browser is never reloaded in between.
#[tokio::test]
async fn open_pages_follow_what_someone_else_does() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn().await;
    app.create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    app.create_user("editor", "bob@dealer.example", PASSWORD)
        .await;
    app.exec(
        "UPDATE users SET first_name = 'Ed', last_name = 'Parker' WHERE email = 'ed@dealer.example';
         UPDATE users SET first_name = 'Bob', last_name = 'Stone' WHERE email = 'bob@dealer.example'",
    )
    .await;
    app.sign_in_with(&app.client, "bob@dealer.example", PASSWORD)
        .await;
    let id = crate::helpers::add_vehicle(&app, "LIVE-B1").await;
    let other = crate::helpers::add_vehicle(&app, "LIVE-B2").await;

    let ed = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&ed, &app, "ed@dealer.example").await;
    let bob = open_browser(&driver, 1280, 900).await;
    sign_in_browser(&bob, &app, "bob@dealer.example").await;

    // Ed looks at the vehicle; Bob opens it for editing.
    ed.goto(&app.url(&format!("/vehicles/{id}"))).await.unwrap();
    text_of(&ed, "h1").await;
    bob.goto(&app.url(&format!("/vehicles/{id}/edit")))
        .await
        .unwrap();
    let shown = text_when(&ed, ".presence", |t| t.contains("Bob Stone")).await;
    assert!(shown.contains("Being edited now by"), "{shown}");

    // Bob saves a new price: Ed's page says so, and Bob is gone from it.
    fill(&bob, "#list_price", "31,500.00").await;
    click(&bob, "form.vehicle-form button[type=submit]").await;
    wait_for_url(&bob, &format!("/vehicles/{id}")).await;
    let said = text_when(&ed, "#live", |t| t.contains("list price")).await;
    assert!(
        said.contains("Bob Stone changed list price just now"),
        "{said}"
    );
    // Bob left the form when he saved.
    ed.wait()
        .for_element(Locator::Css(".presence[hidden]"))
        .await
        .expect("Bob no longer shown as editing");
    shot(&ed, "live-vehicle.png").await;

    // Ed on the list; the vehicle is sold meanwhile (over plain HTTP).
    ed.goto(&app.url("/vehicles")).await.unwrap();
    text_of(&ed, "table.data").await;
    let today = chrono::Utc::now().date_naive().to_string();
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &[
                ("sale_price", "30000"),
                ("sold_on", &today),
                ("customer_name", "Pat Buyer"),
                ("payment_method", "cash"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let row = format!("tr[data-vehicle='{id}']");
    text_when(&ed, &format!("{row} .badge"), |t| {
        t.eq_ignore_ascii_case("sold")
    })
    .await;
    let class = ed
        .find(Locator::Css(&row))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(class.contains("live-changed"), "{class}");
    let said = text_of(&ed, "#live").await;
    assert!(said.contains("1 vehicle changed"), "{said}");
    shot(&ed, "live-list.png").await;

    // Ed edits the other vehicle; Bob saves it first.
    ed.goto(&app.url(&format!("/vehicles/{other}/edit")))
        .await
        .unwrap();
    fill(&ed, "#notes", "Ed's note").await;
    let form = crate::helpers::edit_form(&app, &app.client, other).await;
    let form = crate::helpers::with(form, "color", "Deep Red");
    let r = app
        .post(&format!("/vehicles/{other}"), &crate::helpers::refs(&form))
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let warned = text_when(&ed, "#live", |t| t.contains("while you were editing")).await;
    assert!(warned.contains("Bob Stone saved color"), "{warned}");
    shot(&ed, "live-edit.png").await;
    // The merge still decides: Ed's save keeps Bob's color and his note.
    click(&ed, "form.vehicle-form button[type=submit]").await;
    wait_for_url(&ed, &format!("/vehicles/{other}")).await;
    let page = text_of(&ed, "main").await;
    assert!(
        page.contains("Deep Red") && page.contains("Ed's note"),
        "{page}"
    );

    ed.close().await.unwrap();
    bob.close().await.unwrap();
}
