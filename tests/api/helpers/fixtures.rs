//! What tests arrange before they act: users (and signing them in), and
//! vehicles through the real form, with the form as its edit page fills it.

use pcn::{
    domain::{Email, PersonName, Role},
    models::users::{self, NewUser},
};
use reqwest::StatusCode;
use secrecy::SecretString;

use super::{Html, TestApp, client, location};

/// The password of every fixture user.
pub const PASSWORD: &str = "violet tractor umbrella 42";

impl TestApp {
    /// A user of `role` ("viewer", "editor", "admin"), first name "Test",
    /// last name the role; returns their id.
    pub async fn create_user(&self, role: &str, email: &str, password: &str) -> i64 {
        let hash =
            pcn::app::passwords::hash_blocking(&SecretString::from(password.to_string())).unwrap();
        let email = Email::parse(email).expect("fixture email");
        let first = PersonName::parse("Test").expect("first name");
        let last = PersonName::parse(role).expect("last name");
        let role = Role::parse(role).expect("viewer, editor or admin");
        let mut conn = self.db().await;
        let new = NewUser::new(&email, &first, &last, role, &hash);
        users::create(&mut conn, &new, None)
            .await
            .expect("insert user")
            .expect("a new email")
            .id
    }

    /// A second signed-in browser: another user of `role`, named Bob.
    pub async fn second_user(&self, role: &str) -> reqwest::Client {
        let c = client();
        let email = format!("bob.{role}@dealer.example");
        self.create_user(role, &email, PASSWORD).await;
        let r = self.sign_in_with(&c, &email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        c
    }

    /// Creates a user of `role` and signs this app's client in as them.
    pub async fn signed_in_as(&self, role: &str) -> i64 {
        let email = format!("{role}@dealer.example");
        let id = self.create_user(role, &email, PASSWORD).await;
        let resp = self.sign_in(&email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in as {role}");
        id
    }
}

/// A complete, valid vehicle form.
pub fn vehicle_form(stock: &str) -> Vec<(&'static str, String)> {
    vec![
        ("vehicle_number", stock.to_string()),
        ("vin", String::new()),
        ("year", "2021".into()),
        ("make", "Honda".into()),
        ("model", "Accord".into()),
        ("trim", "EX".into()),
        ("color", "Blue".into()),
        ("mileage", "32,000".into()),
        ("condition", "used".into()),
        ("cost", "18,000.00".into()),
        ("list_price", "21,500.00".into()),
        ("status", "available".into()),
        ("location", "Lot B".into()),
        ("notes", String::new()),
        ("received_on", "2026-10-01".into()),
    ]
}

/// `form` with `field` set to `value`.
pub fn with(
    mut form: Vec<(&'static str, String)>,
    field: &str,
    value: &str,
) -> Vec<(&'static str, String)> {
    for (k, v) in form.iter_mut() {
        if *k == field {
            *v = value.to_string();
        }
    }
    form
}

/// The borrowed pairs the request helpers take.
pub fn refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Adds a vehicle through the form; returns its id.
pub async fn add_vehicle(app: &TestApp, stock: &str) -> i64 {
    let form = vehicle_form(stock);
    let r = app.post("/vehicles", &refs(&form)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "add {stock}");
    location(&r).rsplit('/').next().unwrap().parse().unwrap()
}

/// The current form of a vehicle's edit page, as a browser would resubmit it.
pub async fn edit_form(app: &TestApp, c: &reqwest::Client, id: i64) -> Vec<(&'static str, String)> {
    let html = app
        .get_with(c, &format!("/vehicles/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    edit_form_from(&html)
}

/// The vehicle form's fields (those of [`vehicle_form`], then `version`) as
/// the page `html` fills them; the CSRF token is left to the request helpers.
pub fn edit_form_from(html: &str) -> Vec<(&'static str, String)> {
    let page = Html::parse(html);
    let form = page
        .first("form.vehicle-form")
        .unwrap_or_else(|| panic!("no vehicle form in page:\n{html}"));
    let sent = form.form_fields();
    let value = |name: &str| -> String {
        sent.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("the vehicle form has no field {name}"))
    };
    let mut out = vehicle_form("");
    for (k, v) in out.iter_mut() {
        *v = value(k);
    }
    out.push(("version", value("version")));
    out
}

/// The stock numbers (the first column after an editor's tick boxes) of
/// the rows of the inventory list page, in the order shown.
pub fn listed_stock_numbers(html: &str) -> Vec<String> {
    let page = Html::parse(html);
    page.select("table.data tbody tr")
        .iter()
        .map(|row| {
            row.first("td.stock")
                .map(|cell| cell.text())
                .unwrap_or_else(|| panic!("a row without cells: {row:?}"))
        })
        .collect()
}

/// Opens `/setup` as the server does at start on an empty database, and
/// returns the link's token.
pub async fn setup_link(app: &TestApp) -> String {
    let mut conn = app.db().await;
    let link = pcn::routes::announce_setup_link(&mut conn, "http://pcn.test")
        .await
        .unwrap()
        .expect("a link while there are no users");
    link.split("token=").nth(1).unwrap().to_string()
}

/// Sells vehicle `id` (on version 1) through the form to `customer`, for
/// 20,000 today, in cash; returns the receipt's path.
pub async fn sell(app: &TestApp, id: i64, customer: &str) -> String {
    let today = chrono::Utc::now().date_naive().to_string();
    sell_with(app, id, &[("customer_name", customer), ("sold_on", &today)]).await
}

/// Sells vehicle `id` (on version 1) to Dana Scully for `price` on
/// `sold_on`, paid by card, through the form; returns the receipt's path.
pub async fn sell_vehicle(app: &TestApp, id: i64, price: &str, sold_on: &str) -> String {
    let fields = [
        ("sale_price", price),
        ("sold_on", sold_on),
        ("customer_email", "dana@example.com"),
        ("payment_method", "card"),
    ];
    sell_with(app, id, &fields).await
}

/// Sells vehicle `id` (on version 1) through the form: a complete sale with
/// `fields` in place of the defaults; returns the receipt's path.
async fn sell_with(app: &TestApp, id: i64, fields: &[(&str, &str)]) -> String {
    let mut form = vec![
        ("sale_price", "20,000"),
        ("sold_on", "2026-11-02"),
        ("customer_name", "Dana Scully"),
        ("customer_email", ""),
        ("customer_phone", ""),
        ("payment_method", "cash"),
        ("notes", ""),
        ("version", "1"),
    ];
    for (name, value) in fields {
        if let Some(field) = form.iter_mut().find(|(n, _)| n == name) {
            field.1 = value;
        }
    }
    let r = app.post(&format!("/vehicles/{id}/sell"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sell vehicle {id}");
    location(&r)
}
