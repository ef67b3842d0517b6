//! Deny by default, proven: every route of the router's own table, for every
//! kind of visitor, answers as its declared least role says; every POST
//! route refuses a request without a CSRF token.

use actix_web::http::Method;
use pcn::{domain::Role, routes::Access};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, client, location};

/// Fixtures every `{id}` can point at: a vehicle, a sale, a user.
async fn fixtures(app: &TestApp) -> (i64, i64, i64) {
    let user = app
        .create_user("viewer", "target@dealer.example", PASSWORD)
        .await;
    app.exec(
        "INSERT INTO vehicles (vehicle_number, year, make, model, mileage, condition, cost_cents, \
           list_price_cents, status, received_on) VALUES \
           ('RT-1', 2020, 'Kia', 'Soul', 1, 'used', 100, 200, 'available', current_date), \
           ('RT-2', 2020, 'Kia', 'Soul', 1, 'used', 100, 200, 'sold', current_date);
         INSERT INTO vehicle_history (vehicle_id, version, action, snapshot) \
           SELECT id, 1, 'created', '{}' FROM vehicles;
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, payment_method, salesperson_id) \
           SELECT v.id, 200, 100, current_date, 'C', 'cash', (SELECT min(id) FROM users) FROM vehicles v WHERE v.vehicle_number = 'RT-2';",
    )
    .await;
    let vehicle = app
        .scalar_i64("SELECT id AS v FROM vehicles WHERE vehicle_number = 'RT-1'")
        .await;
    let sale = app.scalar_i64("SELECT id AS v FROM sales").await;
    (vehicle, sale, user)
}

fn concrete(path: &str, (vehicle, sale, user): (i64, i64, i64)) -> String {
    let id = if path.starts_with("/sales") {
        sale
    } else if path.starts_with("/admin/users") {
        user
    } else {
        vehicle
    };
    path.replace("{id}", &id.to_string())
        .replace("{name}", "app.css")
}

async fn signed_in(app: &TestApp, role: &str) -> reqwest::Client {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let c = client();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let email = format!("{role}.rt{n}@dealer.example");
    app.create_user(role, &email, PASSWORD).await;
    assert_eq!(
        app.sign_in_with(&c, &email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    c
}

#[tokio::test]
async fn every_route_answers_as_its_least_role_says() {
    let app = TestApp::spawn().await;
    let ids = fixtures(&app).await;
    let table = pcn::routes::table();
    assert!(table.len() >= 30, "the table is the whole router");
    let who: Vec<(&str, Option<Role>)> = vec![
        ("signed out", None),
        ("viewer", Some(Role::Viewer)),
        ("editor", Some(Role::Editor)),
        ("admin", Some(Role::Admin)),
    ];
    let mut sessions = std::collections::HashMap::new();
    for r in Role::ALL {
        sessions.insert(r, signed_in(&app, r.as_str()).await);
    }
    let mut checked = 0;
    for def in &table {
        let path = concrete(def.path, ids);
        for (name, role) in &who {
            // Signing out ends the session it is sent with: give it its own.
            let c = match role {
                None => client(),
                Some(r) if def.path == "/logout" => signed_in(&app, r.as_str()).await,
                Some(r) => sessions[r].clone(),
            };
            let resp = if def.method == Method::GET {
                app.get_with(&c, &path).await
            } else {
                app.post_with(&c, &path, &[]).await
            };
            let status = resp.status();
            let to_login = status == StatusCode::SEE_OTHER && location(&resp).starts_with("/login");
            let context = format!("{} {} as {name}: {status}", def.method, def.path);
            match (def.access, role) {
                (Access::Public, _) => assert!(!to_login || def.path == "/login", "{context}"),
                (Access::Least(_), None) => {
                    assert!(to_login, "{context} (expected a redirect to sign in)")
                }
                (Access::Least(least), Some(r)) if !r.allows(least) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{context}")
                }
                // Signing out is let in, and its answer is the sign-in page.
                (Access::Least(_), Some(_)) => assert!(
                    status != StatusCode::FORBIDDEN
                        && (!to_login || def.path == "/logout")
                        && status != StatusCode::INTERNAL_SERVER_ERROR,
                    "{context} (expected to be let in)"
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, table.len() * 4);
}

#[tokio::test]
async fn every_post_route_refuses_a_missing_csrf_token() {
    let app = TestApp::spawn().await;
    let ids = fixtures(&app).await;
    let admin = signed_in(&app, "admin").await;
    for def in pcn::routes::table()
        .iter()
        .filter(|d| d.method == Method::POST)
    {
        let path = concrete(def.path, ids);
        let r = app.post_raw_with(&admin, &path, &[("reason", "x")]).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "POST {} without a token",
            def.path
        );
        let r = app
            .post_raw_with(&admin, &path, &[("csrf_token", "forged")])
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "POST {} with a forged token",
            def.path
        );
    }
    // Nothing was changed by any of them.
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM sales WHERE voided_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM vehicles WHERE status = 'archived'")
            .await,
        0
    );
    assert_eq!(
        app.get_with(&admin, "/account").await.status(),
        StatusCode::OK
    );
}
