//! Safeguards on a sale (issue #13 §4): a price below cost is recorded only
//! once confirmed (422 with the question first, nothing stored), one far
//! under list is recorded with a word; an admin records a deal for one of
//! the team, an editor only in their own name, and never for a viewer or
//! someone deactivated (and the database holds that rule too).

use reqwest::StatusCode;

use crate::{
    helpers::{Html, TestApp, add_vehicle, location, refs},
    sales::{DAILY_TOTALS_DRIFT, sale_form},
};

/// The sale form as `c` last saw it come back, for sending again.
fn form_of(html: &str) -> Vec<(String, String)> {
    Html::parse(html).one("form.sale-form").form_fields()
}

async fn sales_count(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) AS v FROM sales").await
}

#[tokio::test]
async fn a_price_below_cost_is_recorded_only_once_confirmed() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    // Cost 18,000.00, list 21,500.00.
    let id = add_vehicle(&app, "LOW-1").await;
    let sell = format!("/vehicles/{id}/sell");
    let r = app.post(&sell, &refs(&sale_form(1, "16,000"))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let page = Html::parse(&html);
    assert!(
        page.one("#below-cost")
            .text()
            .contains("This price is $2,000.00 below cost. Record it anyway?"),
        "{html}"
    );
    let confirm = page.one("input[name=confirm_below_cost]");
    assert_eq!(confirm.attr("type").as_deref(), Some("checkbox"));
    assert!(confirm.attr("checked").is_none(), "never ticked for them");
    assert_eq!(page.field("customer_name").as_deref(), Some("Dana Scully"));
    assert_eq!(page.field("sale_price").as_deref(), Some("16,000"));
    assert_eq!(
        sales_count(&app).await,
        0,
        "nothing stored before the answer"
    );
    assert_eq!(
        app.scalar_text(&format!("SELECT status AS v FROM vehicles WHERE id = {id}"))
            .await,
        "available"
    );

    // Sent again as it came back, unticked: asked again.
    let again: Vec<(String, String)> = form_of(&html)
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    let fields: Vec<(&str, &str)> = again
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = app.post(&sell, &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sales_count(&app).await, 0);

    // Ticked: recorded, at that price, and the receipt says so.
    let mut ticked = fields.clone();
    ticked.push(("confirm_below_cost", "1"));
    let r = app.post(&sell, &ticked).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64("SELECT sale_price_cents AS v FROM sales")
            .await,
        1_600_000
    );
    let receipt = app.get(&location(&r)).await.text().await.unwrap();
    assert!(receipt.contains("Recorded below cost"), "{receipt}");

    // At cost exactly is not below it.
    let at_cost = add_vehicle(&app, "LOW-2").await;
    let r = app
        .post(
            &format!("/vehicles/{at_cost}/sell"),
            &refs(&sale_form(1, "18,000.00")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_price_far_under_list_is_recorded_with_a_warning() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let form = crate::helpers::with(crate::helpers::vehicle_form("CHEAP-1"), "cost", "10,000");
    let r = app.post("/vehicles", &refs(&form)).await;
    let id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let sell = format!("/vehicles/{id}/sell");

    // The form shows the figures for the price it holds (without script).
    let page = Html::parse(&app.get(&sell).await.text().await.unwrap());
    assert_eq!(page.one("#deal-gross").text(), "$11,500.00");
    assert!(page.one("#deal-under").attr("hidden").is_some());
    assert!(page.one("#deal-below").attr("hidden").is_some());
    // A form that comes back (here: no customer) shows them for its price:
    // 16,000 is 25 % under the list price of 21,500.
    let mut nameless = sale_form(1, "16,000");
    nameless.retain(|(k, _)| *k != "customer_name");
    let r = app.post(&sell, &refs(&nameless)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    assert_eq!(page.one("#deal-gross").text(), "$6,000.00");
    assert!(page.one("#deal-under").attr("hidden").is_none());
    assert_eq!(page.one("#deal-under-percent").text(), "25");
    assert!(!page.has("#below-cost"), "above cost: no question");

    // Not blocked: recorded at once, with a word on the receipt.
    let r = app.post(&sell, &refs(&sale_form(1, "16,000"))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let receipt = app.get(&location(&r)).await.text().await.unwrap();
    assert!(
        receipt.contains("the price is 25% under the list price of $21,500.00"),
        "{receipt}"
    );
}

/// Staff for the salesperson tests: an admin (signed in on the app's
/// client), an editor, a viewer and a deactivated editor; their ids.
async fn team(app: &TestApp) -> (i64, i64, i64, i64) {
    let admin = app.signed_in_as("admin").await;
    let ed = app
        .create_user("editor", "ed@dealer.example", crate::helpers::PASSWORD)
        .await;
    let viewer = app
        .create_user("viewer", "vic@dealer.example", crate::helpers::PASSWORD)
        .await;
    let gone = app
        .create_user("editor", "gone@dealer.example", crate::helpers::PASSWORD)
        .await;
    app.exec(&format!(
        "UPDATE users SET active = false WHERE id = {gone}"
    ))
    .await;
    (admin, ed, viewer, gone)
}

fn for_salesperson(id: i64) -> Vec<(&'static str, String)> {
    let mut form = sale_form(1, "20,000");
    form.push(("salesperson_id", id.to_string()));
    form
}

#[tokio::test]
async fn an_admin_records_a_deal_for_one_of_the_team() {
    let app = TestApp::spawn().await;
    let (admin, ed, viewer, gone) = team(&app).await;
    let id = add_vehicle(&app, "TEAM-1").await;
    let sell = format!("/vehicles/{id}/sell");
    let page = Html::parse(&app.get(&sell).await.text().await.unwrap());
    let offered: Vec<String> = page
        .select("select[name=salesperson_id] option")
        .iter()
        .filter_map(|o| o.attr("value"))
        .collect();
    assert!(offered.contains(&admin.to_string()) && offered.contains(&ed.to_string()));
    assert!(!offered.contains(&viewer.to_string()), "no viewer");
    assert!(!offered.contains(&gone.to_string()), "nobody deactivated");
    assert_eq!(
        page.field("salesperson_id"),
        Some(admin.to_string()),
        "the signed-in person by default"
    );
    let r = app.post(&sell, &refs(&for_salesperson(ed))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64("SELECT salesperson_id AS v FROM sales")
            .await,
        ed
    );
    assert_eq!(app.scalar_i64(DAILY_TOTALS_DRIFT).await, 0);
}

#[tokio::test]
async fn a_sale_is_recorded_only_for_active_staff_who_sell() {
    let app = TestApp::spawn().await;
    let (_, _, viewer, gone) = team(&app).await;
    let id = add_vehicle(&app, "TEAM-2").await;
    let sell = format!("/vehicles/{id}/sell");
    for (who, said) in [
        (viewer, "is a viewer"),
        (gone, "is deactivated"),
        (999_999, "Choose the salesperson"),
    ] {
        let r = app.post(&sell, &refs(&for_salesperson(who))).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{said}");
        let page = Html::parse(&r.text().await.unwrap());
        let error = page.field_error("salesperson_id").unwrap_or_default();
        assert!(error.contains(said), "{said}: {error}");
    }
    assert_eq!(sales_count(&app).await, 0);
}

#[tokio::test]
async fn an_editor_records_a_sale_only_in_their_own_name() {
    let app = TestApp::spawn().await;
    let me = app.signed_in_as("editor").await;
    let colleague = app
        .create_user("editor", "ed2@dealer.example", crate::helpers::PASSWORD)
        .await;
    let id = add_vehicle(&app, "TEAM-3").await;
    let sell = format!("/vehicles/{id}/sell");
    let page = Html::parse(&app.get(&sell).await.text().await.unwrap());
    assert!(!page.has("select[name=salesperson_id]"), "no picker");
    assert!(page.one(".deal-seller").text().contains("Test editor"));

    // A hostile editor sends a colleague's id: refused, nothing stored.
    let r = app.post(&sell, &refs(&for_salesperson(colleague))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    assert!(
        page.field_error("salesperson_id")
            .unwrap_or_default()
            .contains("only in your own name")
    );
    assert_eq!(sales_count(&app).await, 0);

    // Their own id, or none, is themself.
    let r = app.post(&sell, &refs(&for_salesperson(me))).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.scalar_i64("SELECT salesperson_id AS v FROM sales")
            .await,
        me
    );
}

#[tokio::test]
async fn the_database_refuses_a_sale_for_someone_an_editor_may_not_sell_for() {
    use diesel_async::RunQueryDsl as _;
    use pcn::db::{Acting, DbRole};
    let app = TestApp::spawn().await;
    let (admin, ed, viewer, _) = team(&app).await;
    let id = add_vehicle(&app, "TEAM-4").await;
    let insert = |salesperson: i64| {
        format!(
            "INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
             payment_method, salesperson_id) VALUES ({id}, 1, 1, current_date, 'X', 'cash', {salesperson})"
        )
    };
    let run = async |acting: Acting, sql: String| {
        let mut conn = app.state.db(acting).await.unwrap();
        let conn: &mut diesel_async::AsyncPgConnection = &mut conn;
        diesel::sql_query(sql)
            .execute(conn)
            .await
            .map_err(|e| e.to_string())
    };
    let editor = Acting {
        role: DbRole::Editor,
        user: Some(ed),
    };
    let as_admin = Acting {
        role: DbRole::Admin,
        user: Some(admin),
    };
    for (who, acting, salesperson) in [
        ("an editor for the admin", editor, admin),
        ("an admin for a viewer", as_admin, viewer),
    ] {
        let e = run(acting, insert(salesperson)).await.expect_err(who);
        assert!(e.contains("permission denied"), "{who}: {e}");
    }
    assert_eq!(sales_count(&app).await, 0);
}
