//! What the fuzz run left in the database: every row read back through the
//! domain types must parse to itself (so nothing invalid was stored), and a
//! digest of what users can change, to see that only a 303 changed anything.

use chrono::{Days, NaiveDate, Utc};
use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use pcn::{
    domain::{
        Email, Money, PersonName, VehicleForm,
        sale::SaleForm,
        text::{self, Lines},
    },
    models::{sales, settings, users, vehicles},
};

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Text)]
    v: String,
}

async fn text_of(conn: &mut AsyncPgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<Text1>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

async fn ids(conn: &mut AsyncPgConnection, table: &str) -> Vec<i64> {
    let list = text_of(
        conn,
        &format!("SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') AS v FROM {table}"),
    )
    .await;
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// Rows, versions and every user-editable column of users, as one value:
/// when it changes, something was stored.
pub async fn digest(conn: &mut AsyncPgConnection) -> String {
    text_of(
        conn,
        "SELECT concat_ws(' ', \
           (SELECT count(*) FROM vehicles), (SELECT coalesce(sum(version), 0) FROM vehicles), \
           (SELECT count(*) FROM vehicle_history), \
           (SELECT count(*) FROM sales), (SELECT count(*) FROM sales WHERE voided_at IS NOT NULL), \
           (SELECT count(*) FROM users), \
           (SELECT coalesce(string_agg(id || ':' || position, ',' ORDER BY id), '') \
              FROM vehicle_photos), \
           (SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM saved_views), \
           (SELECT md5(coalesce(string_agg(concat_ws('|', id, email, first_name, last_name, \
              role, active, password_hash), ',' ORDER BY id), '')) FROM users), \
           (SELECT md5(coalesce(string_agg(s::text, ','), '')) FROM dealership_settings s)) AS v",
    )
    .await
}

/// Every vehicle, sale and user satisfies the domain's rules: read back, it
/// parses through the same types a form goes through, to the same values.
pub async fn assert_all_valid(conn: &mut AsyncPgConnection) -> (usize, usize, usize) {
    // The app's "today" may be a day ahead of ours near midnight.
    let today = Utc::now().date_naive() + Days::new(1);
    let vehicle_ids = ids(conn, "vehicles").await;
    for &id in &vehicle_ids {
        let v = vehicles::find(conn, id).await.unwrap().unwrap();
        let fields = v.fields();
        let again = VehicleForm::from_fields(&fields, v.version).parse(today);
        assert_eq!(
            again.as_ref().ok(),
            Some(&fields),
            "vehicle {id}: {again:?}"
        );
        assert!(v.version >= 1, "vehicle {id}: version {}", v.version);
    }
    let sale_ids = ids(conn, "sales").await;
    for &id in &sale_ids {
        let s = sales::find(conn, id).await.unwrap().unwrap();
        let form = SaleForm {
            sale_price: Money::from_cents(s.sale_price_cents).to_input(),
            sold_on: s.sold_on.to_string(),
            customer_name: s.customer_name.clone(),
            customer_email: s.customer_email.clone(),
            customer_phone: s.customer_phone.clone(),
            payment_method: s.payment_method.as_str().to_string(),
            notes: s.notes.clone(),
            version: "1".into(),
            ..SaleForm::default()
        };
        // A vehicle's received date may be edited after its sale.
        let f = form
            .parse(NaiveDate::MIN, today)
            .unwrap_or_else(|e| panic!("sale {id}: {e:?}"));
        assert_eq!(
            (
                f.sale_price_cents,
                f.sold_on,
                &f.customer_name,
                &f.customer_email
            ),
            (
                s.sale_price_cents,
                s.sold_on,
                &s.customer_name,
                &s.customer_email
            ),
            "sale {id}"
        );
        assert_eq!((&f.customer_phone, &f.notes), (&s.customer_phone, &s.notes));
        if let Some(reason) = &s.void_reason {
            assert_eq!(
                text::bounded(reason, 1000, Lines::Many),
                Ok(reason.as_str()),
                "sale {id}"
            );
            assert!(!reason.is_empty(), "sale {id}: empty void reason");
        }
    }
    let user_ids = ids(conn, "users").await;
    for &id in &user_ids {
        let u = users::find(conn, id).await.unwrap();
        assert_eq!(
            Email::parse(&u.email).map(|e| e.as_str().to_string()),
            Ok(u.email.clone()),
            "user {id}"
        );
        for name in [&u.first_name, &u.last_name] {
            assert_eq!(
                PersonName::parse(name).map(PersonName::into_inner),
                Ok(name.clone()),
                "user {id}"
            );
        }
    }
    // The dealership's settings, if saved, are what their form would save.
    let kept = settings::load(conn).await.unwrap();
    assert_eq!(
        pcn::domain::settings::SettingsForm::from(&kept)
            .parse()
            .ok(),
        Some(kept),
        "the settings"
    );
    let broken = text_of(
        conn,
        "SELECT concat_ws(' ', \
           (SELECT count(*) FROM vehicles v WHERE (v.status = 'sold') <> EXISTS \
              (SELECT 1 FROM sales s WHERE s.vehicle_id = v.id AND s.voided_at IS NULL)), \
           (SELECT count(*) FROM vehicles v WHERE v.version <> \
              (SELECT max(h.version) FROM vehicle_history h WHERE h.vehicle_id = v.id)), \
           EXISTS (SELECT 1 FROM users) AND NOT EXISTS \
              (SELECT 1 FROM users WHERE role = 'admin' AND active), \
           (SELECT count(*) FROM ( \
              SELECT sold_on, salesperson_id, count(*) AS units, \
                     sum(sale_price_cents) AS revenue, sum(sale_price_cents - cost_cents) AS gross \
              FROM sales WHERE voided_at IS NULL GROUP BY 1, 2) s \
            FULL JOIN (SELECT * FROM sales_daily \
              WHERE units <> 0 OR revenue_cents <> 0 OR gross_cents <> 0) d \
              USING (sold_on, salesperson_id) \
            WHERE s.units IS DISTINCT FROM d.units OR s.revenue IS DISTINCT FROM d.revenue_cents \
              OR s.gross IS DISTINCT FROM d.gross_cents)) AS v",
    )
    .await;
    assert_eq!(
        broken, "0 0 f 0",
        "sold ⇔ a live sale; version = last history entry; an active admin, if any \
         user; the daily sales totals agree with the sales"
    );
    (vehicle_ids.len(), sale_ids.len(), user_ids.len())
}
