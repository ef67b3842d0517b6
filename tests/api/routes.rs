//! Deny by default, proven against a list written by hand: the router's
//! table is exactly that list (no route missing, none extra, each with the
//! least role the list gives it); every route, for every kind of visitor,
//! answers as that role says, and a refusal says why; every POST route
//! refuses a request without a valid CSRF token, signed in and (the public
//! ones) signed out, before anything is stored.

use std::collections::BTreeSet;

use actix_web::http::Method;
use pcn::{domain::Role, routes::Access};
use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, csrf_from, location, next_code, setup_link};

/// Who may reach a route, least first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Least {
    Public,
    Viewer,
    Editor,
    Admin,
}
use Least::*;

/// Every route the app serves and the least role it needs, written out by
/// hand (not derived from `pcn::routes::table()`): a route added, removed or
/// given another role in the router must be changed here too, on purpose.
const EXPECTED: &[(&str, &str, Least)] = &[
    ("GET", "/", Viewer),
    ("GET", "/healthz", Public),
    ("GET", "/static/{name}", Public),
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("GET", "/login/code", Public),
    ("POST", "/login/code", Public),
    ("POST", "/logout", Viewer),
    ("GET", "/setup", Public),
    ("POST", "/setup", Public),
    ("GET", "/invite/{token}", Public),
    ("POST", "/invite/{token}", Public),
    ("GET", "/account", Viewer),
    ("POST", "/account/password", Viewer),
    ("GET", "/account/2fa", Viewer),
    ("POST", "/account/2fa", Viewer),
    ("GET", "/vehicles", Viewer),
    ("GET", "/vehicles.csv", Viewer),
    ("GET", "/vehicles/new", Editor),
    ("POST", "/vehicles/bulk", Editor),
    ("GET", "/vehicles/import", Editor),
    ("POST", "/vehicles/import", Editor),
    ("GET", "/vehicles/import/{id}", Editor),
    ("POST", "/vehicles/import/{id}", Editor),
    ("POST", "/vehicles", Editor),
    ("GET", "/vehicles/{id}", Viewer),
    ("GET", "/vehicles/{id}/edit", Editor),
    ("POST", "/vehicles/{id}", Editor),
    ("POST", "/vehicles/{id}/archive", Admin),
    ("GET", "/vehicles/{id}/sell", Editor),
    ("POST", "/vehicles/{id}/sell", Editor),
    ("GET", "/sales", Viewer),
    ("GET", "/sales.csv", Viewer),
    ("GET", "/sales/{id}", Viewer),
    ("POST", "/sales/{id}/void", Admin),
    ("GET", "/reports/sales", Viewer),
    ("POST", "/views", Viewer),
    ("POST", "/views/{id}/delete", Viewer),
    ("GET", "/admin/users", Admin),
    ("GET", "/admin/users/new", Admin),
    ("POST", "/admin/users", Admin),
    ("GET", "/admin/users/{id}/edit", Admin),
    ("POST", "/admin/users/{id}", Admin),
    ("POST", "/admin/users/{id}/password", Admin),
    ("POST", "/admin/users/{id}/sessions/revoke", Admin),
    ("POST", "/admin/users/{id}/2fa/reset", Admin),
    ("GET", "/admin/activity", Admin),
    ("GET", "/admin/settings", Admin),
    ("POST", "/admin/settings", Admin),
    ("GET", "/events", Viewer),
    ("GET", "/vehicles/{id}/presence", Viewer),
    ("POST", "/vehicles/{id}/presence", Editor),
    ("POST", "/vehicles/{id}/photos", Editor),
    ("POST", "/vehicles/{id}/photos/{photo}/move", Editor),
    ("POST", "/vehicles/{id}/photos/{photo}/delete", Editor),
    ("GET", "/photos/{file}", Viewer),
];

/// Why a signed-in user below a route's role is refused, as the 403 page says.
const NEEDS_EDITOR: &str = "Your role lets you look, not change: ask an admin for the editor role.";
const NEEDS_ADMIN: &str = "Only an admin can do this.";
/// Why a form without a valid token is refused.
const BAD_TOKEN: &str = "This form has expired or did not come from PCN.";

fn least(access: Access) -> Least {
    match access {
        Access::Public => Public,
        Access::Least(Role::Viewer) => Viewer,
        Access::Least(Role::Editor) => Editor,
        Access::Least(Role::Admin) => Admin,
    }
}

/// The hand-written expectation for a route of the table.
fn expected(method: &Method, path: &str) -> Least {
    EXPECTED
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, least)| *least)
        .unwrap_or_else(|| panic!("{method} {path} is not in the hand-written list"))
}

/// The visible text of a page.
fn text_of(body: &str) -> String {
    Html::parse(body).text()
}

#[test]
fn the_router_table_is_exactly_the_hand_written_list() {
    let table: BTreeSet<(String, &str, Least)> = pcn::routes::table()
        .iter()
        .map(|d| (d.method.to_string(), d.path, least(d.access)))
        .collect();
    let listed: BTreeSet<(String, &str, Least)> = EXPECTED
        .iter()
        .map(|(m, p, l)| (m.to_string(), *p, *l))
        .collect();
    assert_eq!(listed.len(), EXPECTED.len(), "the list names a route twice");
    assert_eq!(
        table.len(),
        pcn::routes::table().len(),
        "the table names a route twice"
    );
    let missing: Vec<_> = listed.difference(&table).collect();
    let extra: Vec<_> = table.difference(&listed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "listed but not served (or with another role): {missing:?}\n\
         served but not listed (or with another role): {extra:?}"
    );
}

/// What the path parameters of the routes point at.
#[derive(Clone, Copy)]
struct Ids {
    vehicle: i64,
    sale: i64,
    user: i64,
    /// The vehicle's first photo (`{photo}`), which deleting may remove;
    /// `{file}` is its second, which stays.
    photo: i64,
}

/// Fixtures every path parameter can point at: a vehicle with two photos,
/// a sale, a user.
async fn fixtures(app: &TestApp) -> Ids {
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
           SELECT v.id, 200, 100, current_date, 'C', 'cash', (SELECT min(id) FROM users) FROM vehicles v WHERE v.vehicle_number = 'RT-2';
         INSERT INTO vehicle_photos (vehicle_id, position, sha256, thumb_jpeg, thumb_width, \
           thumb_height, page_jpeg, page_width, page_height, full_jpeg, full_width, full_height, \
           original_bytes) \
           SELECT v.id, n, sha256(n::text::bytea), '\\xffd8', 1, 1, '\\xffd8', 1, 1, '\\xffd8', 1, 1, 1 \
           FROM vehicles v, generate_series(0, 1) n WHERE v.vehicle_number = 'RT-1';",
    )
    .await;
    let vehicle = app
        .scalar_i64("SELECT id AS v FROM vehicles WHERE vehicle_number = 'RT-1'")
        .await;
    let sale = app.scalar_i64("SELECT id AS v FROM sales").await;
    let photo = app
        .scalar_i64("SELECT id AS v FROM vehicle_photos WHERE position = 0")
        .await;
    Ids {
        vehicle,
        sale,
        user,
        photo,
    }
}

fn concrete(path: &str, ids: Ids) -> String {
    let id = if path.starts_with("/sales") {
        ids.sale
    } else if path.starts_with("/admin/users") {
        ids.user
    } else {
        ids.vehicle
    };
    // The second photo's hash is sha256('1'), as the fixture made it.
    let file = format!(
        "{}-thumb.jpg",
        pcn::auth::sha256(b"1")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    path.replace("{id}", &id.to_string())
        .replace("{photo}", &ids.photo.to_string())
        .replace("{file}", &file)
        .replace("{name}", "app.css")
        .replace("{token}", "no-such-link")
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
    let who: Vec<(&str, Option<(Role, Least)>)> = vec![
        ("signed out", None),
        ("viewer", Some((Role::Viewer, Viewer))),
        ("editor", Some((Role::Editor, Editor))),
        ("admin", Some((Role::Admin, Admin))),
    ];
    let mut sessions = std::collections::HashMap::new();
    for r in Role::ALL {
        sessions.insert(r, signed_in(&app, r.as_str()).await);
    }
    let mut checked = 0;
    for def in &table {
        let least = expected(&def.method, def.path);
        let path = concrete(def.path, ids);
        for (name, visitor) in &who {
            // Signing out ends the session it is sent with: give it its own.
            let c = match visitor {
                None => client(),
                Some((r, _)) if def.path == "/logout" => signed_in(&app, r.as_str()).await,
                Some((r, _)) => sessions[r].clone(),
            };
            let resp = if def.method == Method::GET {
                app.get_with(&c, &path).await
            } else {
                app.post_with(&c, &path, &[]).await
            };
            let status = resp.status();
            let to_login = status == StatusCode::SEE_OTHER && location(&resp).starts_with("/login");
            // An event stream never ends by itself: its head is the answer.
            let body = if crate::helpers::is_event_stream(&resp) {
                String::new()
            } else {
                resp.text().await.unwrap()
            };
            let context = format!("{} {} as {name}: {status}", def.method, def.path);
            match (least, visitor) {
                // The code step without a right password first goes to the password step.
                (Public, _) => assert!(
                    !to_login || def.path == "/login" || def.path == "/login/code",
                    "{context}"
                ),
                (_, None) => assert!(to_login, "{context} (expected a redirect to sign in)"),
                (least, Some((_, mine))) if *mine < least => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{context}");
                    // The refusal says why: the role it takes.
                    let why = if least == Admin {
                        NEEDS_ADMIN
                    } else {
                        NEEDS_EDITOR
                    };
                    let text = text_of(&body);
                    assert!(
                        text.contains(why),
                        "{context}: the page does not say {why:?}"
                    );
                }
                // Signing out is let in, and its answer is the sign-in page.
                (_, Some(_)) => assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::NOT_FOUND
                        && (!to_login || def.path == "/logout")
                        && status != StatusCode::INTERNAL_SERVER_ERROR,
                    "{context} (expected to be let in)"
                ),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, EXPECTED.len() * 4);
}

#[tokio::test]
async fn every_post_route_refuses_a_missing_csrf_token() {
    let app = TestApp::spawn().await;
    let ids = fixtures(&app).await;
    let admin = signed_in(&app, "admin").await;
    // Signed in, `/setup` is gone (404), token or not: see `setup.rs`.
    for def in pcn::routes::table()
        .iter()
        .filter(|d| d.method == Method::POST && d.path != "/setup")
    {
        let path = concrete(def.path, ids);
        let r = app.post_raw_with(&admin, &path, &[("reason", "x")]).await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "POST {} without a token",
            def.path
        );
        assert!(
            text_of(&r.text().await.unwrap()).contains(BAD_TOKEN),
            "POST {} without a token: refused for the token",
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
        assert!(
            text_of(&r.text().await.unwrap()).contains(BAD_TOKEN),
            "POST {} with a forged token: refused for the token",
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

/// The token a signed-out form is sent with.
enum Token {
    /// The one its own page gave it.
    Own,
    Missing,
    /// Any other value.
    Other(String),
}

/// The ways a form can come without a token of its own: none, a made-up
/// one, and a real one that belongs to another browser.
async fn bad_tokens(app: &TestApp) -> Vec<(&'static str, Token)> {
    let stranger = app.csrf_token_with(&client()).await;
    vec![
        ("no token", Token::Missing),
        ("a forged token", Token::Other("forged".into())),
        ("another browser's token", Token::Other(stranger)),
    ]
}

/// Sends `fields` from a fresh signed-out browser that first opened `page`,
/// with `token`; returns the browser and the response.
async fn signed_out_post(
    app: &TestApp,
    page: &str,
    path: &str,
    token: &Token,
    fields: &[(&str, &str)],
) -> (reqwest::Client, reqwest::Response) {
    let c = client();
    let form = app.get_with(&c, page).await;
    assert_eq!(form.status(), StatusCode::OK, "GET {page}");
    let own = csrf_from(&form.text().await.unwrap());
    let token = match token {
        Token::Own => Some(own.as_str()),
        Token::Missing => None,
        Token::Other(t) => Some(t.as_str()),
    };
    let mut all: Vec<(&str, &str)> = token.map(|t| ("csrf_token", t)).into_iter().collect();
    all.extend_from_slice(fields);
    let r = app.post_raw_with(&c, path, &all).await;
    (c, r)
}

#[tokio::test]
async fn public_post_routes_refuse_a_bad_token_signed_out_and_store_nothing() {
    let app = TestApp::spawn().await;
    // The public POST routes are these; a new one needs its case below.
    let public: BTreeSet<&str> = pcn::routes::table()
        .iter()
        .filter(|d| d.method == Method::POST && d.access == Access::Public)
        .map(|d| d.path)
        .collect();
    assert_eq!(
        public,
        BTreeSet::from(["/invite/{token}", "/login", "/login/code", "/setup"]),
        "sweep every public POST route here"
    );
    let count = async |sql: &str| {
        app.scalar_i64(&format!("SELECT count(*) AS v FROM {sql}"))
            .await
    };

    // /setup while it is open: no user yet, a link printed.
    let link = setup_link(&app).await;
    let page = format!("/setup?token={link}");
    let setup = [
        ("token", link.as_str()),
        ("email", "rosa@dealer.example"),
        ("first_name", "Rosa"),
        ("last_name", "Diaz"),
        ("password", "lantern orchard pebble 9"),
    ];
    for (what, token) in bad_tokens(&app).await {
        let (c, r) = signed_out_post(&app, &page, "/setup", &token, &setup).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "/setup with {what}");
        assert!(
            text_of(&r.text().await.unwrap()).contains(BAD_TOKEN),
            "/setup with {what}: refused for the token"
        );
        assert_eq!(count("users").await, 0, "/setup with {what} made a user");
        assert_eq!(
            count("setup_tokens").await,
            1,
            "/setup with {what} used the link"
        );
        assert_eq!(count("sessions").await, 0, "/setup with {what} signed in");
        assert_eq!(
            app.get_with(&c, "/account").await.status(),
            StatusCode::SEE_OTHER,
            "/setup with {what}: still signed out"
        );
    }
    // The same form with its own token is accepted: only the token was wrong.
    let (c, r) = signed_out_post(&app, &page, "/setup", &Token::Own, &setup).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "/setup with its own token"
    );
    assert_eq!(count("users").await, 1);
    assert_eq!(app.get_with(&c, "/account").await.status(), StatusCode::OK);

    // /login, for the admin who now exists.
    let login = [
        ("email", "rosa@dealer.example"),
        ("password", "lantern orchard pebble 9"),
    ];
    let sessions = count("sessions").await;
    for (what, token) in bad_tokens(&app).await {
        let (c, r) = signed_out_post(&app, "/login", "/login", &token, &login).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "/login with {what}");
        assert!(
            text_of(&r.text().await.unwrap()).contains(BAD_TOKEN),
            "/login with {what}: refused for the token"
        );
        assert_eq!(
            count("sessions").await,
            sessions,
            "/login with {what} made a session"
        );
        // Refused before the handler: not even an attempt was counted.
        assert_eq!(
            count("sign_in_attempts").await,
            0,
            "/login with {what} reached sign-in"
        );
        assert_eq!(
            app.get_with(&c, "/account").await.status(),
            StatusCode::SEE_OTHER,
            "/login with {what}: still signed out"
        );
    }
    let (c, r) = signed_out_post(&app, "/login", "/login", &Token::Own, &login).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "/login with its own token"
    );
    assert_eq!(count("sessions").await, sessions + 1);
    assert_eq!(app.get_with(&c, "/account").await.status(), StatusCode::OK);

    // /invite/{token}, for a person invited without a password.
    let invited = app
        .create_user("viewer", "ivo@dealer.example", PASSWORD)
        .await;
    let link = "a-link-of-the-tests-own";
    app.exec(&format!(
        "INSERT INTO invitations (token_hash, user_id) VALUES (sha256('{link}'::bytea), {invited})"
    ))
    .await;
    let page = format!("/invite/{link}");
    let choose = [("password", "quartz meadow lantern 31")];
    let unchanged = "invitations WHERE ended_at IS NULL";
    for (what, token) in bad_tokens(&app).await {
        let (_, r) = signed_out_post(&app, &page, &page, &token, &choose).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "/invite with {what}");
        assert_eq!(
            count(unchanged).await,
            1,
            "/invite with {what} used the link"
        );
    }
    let (_, r) = signed_out_post(&app, &page, &page, &Token::Own, &choose).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "/invite with its own token"
    );
    assert_eq!(count(unchanged).await, 0);

    // /login/code, once the admin signs in with two steps: a browser past
    // its password step sends the code with each kind of bad token.
    let enrolled = app.enrol_with(&c).await;
    let sessions = count("sessions").await;
    let code_attempts = "sign_in_attempts WHERE outcome LIKE 'code%'";
    for (what, token) in bad_tokens(&app)
        .await
        .into_iter()
        .chain([("its own token", Token::Own)])
    {
        let b = client();
        let r = app.post_with(&b, "/login", &login).await;
        assert!(location(&r).starts_with("/login/code"), "{}", location(&r));
        let own = csrf_from(&app.get_with(&b, "/login/code").await.text().await.unwrap());
        let code = next_code(&enrolled.secret);
        let mut fields: Vec<(&str, &str)> = match &token {
            Token::Own => vec![("csrf_token", own.as_str())],
            Token::Missing => vec![],
            Token::Other(t) => vec![("csrf_token", t.as_str())],
        };
        fields.push(("code", &code));
        let r = app.post_raw_with(&b, "/login/code", &fields).await;
        if let Token::Own = token {
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "/login/code with {what}");
            assert_eq!(count("sessions").await, sessions + 1);
            assert_eq!(app.get_with(&b, "/account").await.status(), StatusCode::OK);
            break;
        }
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "/login/code with {what}");
        assert!(
            text_of(&r.text().await.unwrap()).contains(BAD_TOKEN),
            "/login/code with {what}: refused for the token"
        );
        assert_eq!(
            count("sessions").await,
            sessions,
            "/login/code with {what} made a session"
        );
        assert_eq!(
            count(code_attempts).await,
            0,
            "/login/code with {what} reached the code check"
        );
        assert_eq!(
            app.get_with(&b, "/account").await.status(),
            StatusCode::SEE_OTHER,
            "/login/code with {what}: still signed out"
        );
    }
}
