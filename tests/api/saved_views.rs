//! Saved views (issue #14 §4): a list's filter kept under a name, personal
//! or (admins) shared, shown beside the inventory's and the sales list's
//! filters. Who may save and delete which is held by the app (403) and by
//! the database (row-level security); a view keeps only its list's filter,
//! and following it shows that filter again.

use pcn::db::DbRole;
use reqwest::StatusCode;

use crate::{
    db_roles::{acting, assert_denied, run},
    helpers::{Html, TestApp, listed_stock_numbers, location},
};

/// The names of the saved views beside a list page, in order; a shared one
/// with its mark.
fn views_on(page: &str) -> Vec<String> {
    Html::parse(page).texts("nav[aria-label='Saved views'] li a")
}

/// The view's row on the page: "Name", "Name Shared", each with "delete"
/// when its delete button shows.
fn view_rows(page: &str) -> Vec<String> {
    Html::parse(page)
        .select("nav[aria-label='Saved views'] li")
        .iter()
        .map(|li| {
            let mut row = li.one("a").text();
            if li.first(".badge-shared").is_some() {
                row.push_str(" Shared");
            }
            if li.first("form[action$='/delete']").is_some() {
                row.push_str(" delete");
            }
            row
        })
        .collect()
}

fn current_view(page: &str) -> Option<String> {
    Html::parse(page)
        .first("nav[aria-label='Saved views'] a[aria-current='page']")
        .map(|a| a.text())
}

async fn page(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let r = app.get_with(c, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    r.text().await.unwrap()
}

async fn count(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT count(*) AS v FROM saved_views")
        .await
}

async fn view_id(app: &TestApp, name: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT id AS v FROM saved_views WHERE name = '{name}'"
    ))
    .await
}

#[tokio::test]
async fn a_personal_view_shows_for_its_owner_only_and_a_shared_one_for_everyone() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let viewer = app.second_user("viewer").await;
    for (name, shared) in [("Mine", false), ("Team", true)] {
        let mut fields = vec![("list", "vehicles"), ("name", name), ("query", "q=civic")];
        if shared {
            fields.push(("shared", "1"));
        }
        let r = app.post("/views", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
        assert_eq!(location(&r), "/vehicles?q=civic");
    }
    let viewer_mine = app
        .post_with(
            &viewer,
            "/views",
            &[("list", "vehicles"), ("name", "Viewer's"), ("query", "")],
        )
        .await;
    assert_eq!(
        viewer_mine.status(),
        StatusCode::SEE_OTHER,
        "a viewer saves their own"
    );

    let admins = page(&app, &app.client, "/vehicles").await;
    assert_eq!(view_rows(&admins), ["Team Shared delete", "Mine delete"]);
    assert!(
        Html::parse(&admins).has(".saved-views input[name=shared]"),
        "an admin may share"
    );
    let viewers = page(&app, &viewer, "/vehicles").await;
    assert_eq!(view_rows(&viewers), ["Team Shared", "Viewer's delete"]);
    assert!(
        !Html::parse(&viewers).has(".saved-views input[name=shared]"),
        "only admins are offered sharing"
    );
    // Views belong to their list: the sales list has none of these.
    assert!(views_on(&page(&app, &viewer, "/sales").await).is_empty());
}

#[tokio::test]
async fn a_view_keeps_only_the_lists_filter_and_its_link_shows_that_filter_again() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_as("editor").await;
    app.exec(&format!(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) VALUES \
         ('H-1', 2020, 'Honda', 'Civic', 1, 'used', 1, 3, 'available', DATE '2026-01-01'), \
         ('H-2', 2021, 'Honda', 'Fit', 1, 'used', 1, 2, 'available', DATE '2026-01-02'), \
         ('K-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'available', DATE '2026-01-03'), \
         ('S-1', 2020, 'Kia', 'Soul', 1, 'used', 1, 2, 'sold', DATE '2026-01-03'); \
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, \
           payment_method, salesperson_id) \
         SELECT id, 2, 1, DATE '2026-01-15', 'Dana Scully', 'cash', {seller} \
         FROM vehicles WHERE vehicle_number = 'S-1'"
    ))
    .await;

    // Inventory: cursors, page positions, empty and unknown parameters go;
    // the order is the list's own.
    let r = app
        .post(
            "/views",
            &[
                ("list", "vehicles"),
                ("name", "Hondas by price"),
                (
                    "query",
                    "?sort=price&after=abc&at=51&q=&make=Honda&bogus=1&before=x",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link = location(&r);
    assert_eq!(link, "/vehicles?make=Honda&sort=price");
    assert_eq!(
        app.scalar_text("SELECT query AS v FROM saved_views").await,
        "make=Honda&sort=price"
    );
    let shown = page(&app, &app.client, &link).await;
    assert_eq!(
        listed_stock_numbers(&shown),
        ["H-2", "H-1"],
        "Hondas, cheapest first"
    );
    assert_eq!(current_view(&shown).as_deref(), Some("Hondas by price"));
    assert_eq!(
        Html::parse(&shown)
            .one("nav[aria-label='Saved views'] a")
            .attr("href")
            .as_deref(),
        Some("/vehicles?make=Honda&sort=price")
    );
    // The same filter reached by the form (empty fields, another order) is
    // the same view; another filter is not.
    let by_form = page(
        &app,
        &app.client,
        "/vehicles?q=&status=&make=Honda&sort=price",
    )
    .await;
    assert_eq!(current_view(&by_form).as_deref(), Some("Hondas by price"));
    assert_eq!(
        current_view(&page(&app, &app.client, "/vehicles").await),
        None
    );
    // What "Save this view" carries is the page's own filter, normalised.
    assert_eq!(
        Html::parse(&by_form)
            .one(".saved-views-save input[name=query]")
            .attr("value")
            .as_deref(),
        Some("make=Honda&sort=price")
    );

    // Sales: its date range, salesperson and customer; words that need
    // encoding stay one value.
    let r = app
        .post(
            "/views",
            &[
                ("list", "sales"),
                ("name", "January"),
                (
                    "query",
                    "from=2026-01-01&to=2026-01-31&customer=Dana+%26+Co&after=xyz&make=Kia",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/sales?from=2026-01-01&to=2026-01-31&customer=Dana+%26+Co"
    );
    let r = app
        .post(
            "/views",
            &[
                ("list", "sales"),
                ("name", "Dana in January"),
                ("query", "from=2026-01-01&to=2026-01-31&customer=dana"),
            ],
        )
        .await;
    let sales = page(&app, &app.client, &location(&r)).await;
    assert_eq!(current_view(&sales).as_deref(), Some("Dana in January"));
    assert_eq!(views_on(&sales), ["Dana in January", "January"]);
    let html = Html::parse(&sales);
    assert_eq!(
        html.one("#from").attr("value").as_deref(),
        Some("2026-01-01")
    );
    assert_eq!(html.one("#customer").attr("value").as_deref(), Some("dana"));
    assert_eq!(html.select("table.data tbody tr").len(), 1, "Dana's sale");
}

#[tokio::test]
async fn editors_and_viewers_cannot_save_or_delete_a_shared_view() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let r = app
        .post(
            "/views",
            &[
                ("list", "sales"),
                ("name", "Team"),
                ("query", ""),
                ("shared", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let team = view_id(&app, "Team").await;
    for role in ["editor", "viewer"] {
        let c = app.second_user(role).await;
        let r = app
            .post_with(
                &c,
                "/views",
                &[
                    ("list", "sales"),
                    ("name", "Ours"),
                    ("query", ""),
                    ("shared", "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} shares");
        let r = app
            .post_with(&c, &format!("/views/{team}/delete"), &[])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{role} deletes the shared view"
        );
        assert!(!view_rows(&page(&app, &c, "/sales").await)[0].ends_with("delete"));
    }
    assert_eq!(count(&app).await, 1, "nothing saved, nothing deleted");
    // The admin may.
    let r = app
        .post(
            &format!("/views/{team}/delete"),
            &[("query", "to=2026-01-01&at=3")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/sales?to=2026-01-01",
        "back to the list as it was"
    );
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn nobody_deletes_someone_elses_personal_view() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let r = app
        .post(
            "/views",
            &[("list", "vehicles"), ("name", "Mine"), ("query", "q=kia")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = view_id(&app, "Mine").await;
    for role in ["viewer", "admin"] {
        let c = app.second_user(role).await;
        let r = app
            .post_with(&c, &format!("/views/{mine}/delete"), &[("list", "sales")])
            .await;
        // Not theirs to see: the same answer as a view already deleted.
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{role}");
        assert_eq!(location(&r), "/sales");
        let sales = page(&app, &c, "/sales").await;
        assert!(
            sales.contains("That saved view is no longer there."),
            "{role}"
        );
        assert!(views_on(&page(&app, &c, "/vehicles").await).is_empty());
    }
    assert_eq!(count(&app).await, 1);
    let r = app.post(&format!("/views/{mine}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "its owner may");
    assert_eq!(location(&r), "/vehicles");
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn a_bad_name_answers_422_with_the_form_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let me = app.signed_in_as("viewer").await;
    let r = app
        .post(
            "/views",
            &[("list", "vehicles"), ("name", "Mine"), ("query", "q=kia")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let long = "x".repeat(61);
    for (name, why) in [
        ("", "Give the view a name."),
        ("   ", "Give the view a name."),
        (long.as_str(), "Use at most 60 characters."),
        ("a\u{7}b", "Remove the control characters."),
        (
            "mine",
            "You already have a view of this list named “mine”: choose another name.",
        ),
    ] {
        let r = app
            .post(
                "/views",
                &[
                    ("list", "vehicles"),
                    ("name", name),
                    ("query", "q=kia&after=x"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let html = Html::parse(&r.text().await.unwrap());
        assert_eq!(html.field_error("name").as_deref(), Some(why), "{name:?}");
        if !name.contains('\u{7}') {
            assert_eq!(html.field("name").as_deref(), Some(name), "kept as typed");
        }
        assert_eq!(html.field("query").as_deref(), Some("q=kia"));
        assert_eq!(html.field("list").as_deref(), Some("vehicles"));
    }
    assert_eq!(count(&app).await, 1, "nothing more stored");
    // The same name is fine on the other list.
    let r = app
        .post(
            "/views",
            &[("list", "sales"), ("name", "Mine"), ("query", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // At most 50 personal views per list.
    app.exec(&format!(
        "INSERT INTO saved_views (owner_id, list, name, query) \
         SELECT {me}, 'vehicles', 'View ' || n, '' FROM generate_series(2, 50) n"
    ))
    .await;
    let r = app
        .post(
            "/views",
            &[("list", "vehicles"), ("name", "One more"), ("query", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = Html::parse(&r.text().await.unwrap());
    assert!(
        html.field_error("name")
            .unwrap()
            .contains("delete one first"),
        "{:?}",
        html.field_error("name")
    );
    assert_eq!(count(&app).await, 51);
}

#[tokio::test]
async fn saving_or_deleting_without_the_forms_token_is_refused() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let r = app
        .post_raw(
            "/views",
            &[("list", "vehicles"), ("name", "Mine"), ("query", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 0);
    let r = app
        .post(
            "/views",
            &[("list", "vehicles"), ("name", "Mine"), ("query", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = view_id(&app, "Mine").await;
    let r = app
        .post_raw(
            &format!("/views/{mine}/delete"),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn the_database_itself_keeps_shared_views_to_admins_and_personal_ones_to_their_owner() {
    let app = TestApp::spawn().await;
    let admin = app
        .create_user("admin", "admin@dealer.example", "Correct-Horse-9")
        .await;
    let editor = app
        .create_user("editor", "ed@dealer.example", "Correct-Horse-9")
        .await;
    let viewer = app
        .create_user("viewer", "vi@dealer.example", "Correct-Horse-9")
        .await;
    let insert = |owner: i64, name: &str, shared: bool| {
        format!(
            "INSERT INTO saved_views (owner_id, list, name, query, shared) \
             VALUES ({owner}, 'vehicles', '{name}', '', {shared})"
        )
    };
    let mut ed = acting(&app, DbRole::Editor, Some(editor)).await;
    assert_denied(
        run(&mut ed, &insert(editor, "Ours", true)).await,
        "an editor shares",
    );
    assert_denied(
        run(&mut ed, &insert(viewer, "Theirs", false)).await,
        "a view for someone else",
    );
    assert_eq!(run(&mut ed, &insert(editor, "Mine", false)).await, Ok(1));
    drop(ed);
    let mut adm = acting(&app, DbRole::Admin, Some(admin)).await;
    assert_eq!(run(&mut adm, &insert(admin, "Team", true)).await, Ok(1));
    // Someone else's personal view is not there for an admin either.
    assert_eq!(
        run(&mut adm, "DELETE FROM saved_views WHERE name = 'Mine'").await,
        Ok(0)
    );
    drop(adm);
    let mut vi = acting(&app, DbRole::Viewer, Some(viewer)).await;
    assert_eq!(
        run(
            &mut vi,
            "DELETE FROM saved_views WHERE name IN ('Mine', 'Team')"
        )
        .await,
        Ok(0),
        "a viewer deletes neither the shared view nor another's"
    );
    assert_denied(
        run(&mut vi, "UPDATE saved_views SET shared = true").await,
        "nobody changes a view",
    );
    drop(vi);
    assert_eq!(count(&app).await, 2, "Mine and Team are still there");
}
