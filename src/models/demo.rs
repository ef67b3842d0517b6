//! Realistic demo inventory, generated inside PostgreSQL (`INSERT … SELECT`
//! over `generate_series`): a million vehicles without a million round trips.

use chrono::NaiveDate;
use diesel::{
    ExpressionMethods as _, QueryResult, QueryableByName,
    sql_types::{BigInt, Date},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{db::quote_ident, domain::Role, schema::users};

/// Make, model, typical new price in dollars.
const CATALOG: &[(&str, &str, i64)] = &[
    ("Toyota", "Camry", 28_000),
    ("Toyota", "Corolla", 23_000),
    ("Toyota", "RAV4", 31_000),
    ("Toyota", "Tacoma", 36_000),
    ("Toyota", "Highlander", 42_000),
    ("Honda", "Civic", 25_000),
    ("Honda", "Accord", 29_000),
    ("Honda", "CR-V", 32_000),
    ("Honda", "Pilot", 41_000),
    ("Ford", "F-150", 45_000),
    ("Ford", "Escape", 30_000),
    ("Ford", "Explorer", 40_000),
    ("Ford", "Mustang", 34_000),
    ("Chevrolet", "Silverado", 44_000),
    ("Chevrolet", "Equinox", 29_000),
    ("Chevrolet", "Malibu", 26_000),
    ("Chevrolet", "Tahoe", 58_000),
    ("Nissan", "Altima", 27_000),
    ("Nissan", "Rogue", 30_000),
    ("Nissan", "Sentra", 21_000),
    ("Hyundai", "Elantra", 22_000),
    ("Hyundai", "Tucson", 29_000),
    ("Hyundai", "Santa Fe", 33_000),
    ("Kia", "Sportage", 28_000),
    ("Kia", "Telluride", 39_000),
    ("Kia", "Forte", 21_000),
    ("Subaru", "Outback", 31_000),
    ("Subaru", "Forester", 30_000),
    ("Mazda", "CX-5", 30_000),
    ("Mazda", "Mazda3", 24_000),
    ("Volkswagen", "Jetta", 23_000),
    ("Volkswagen", "Tiguan", 31_000),
    ("BMW", "3 Series", 46_000),
    ("BMW", "X5", 66_000),
    ("Mercedes-Benz", "C-Class", 48_000),
    ("Mercedes-Benz", "GLC", 51_000),
    ("Audi", "A4", 44_000),
    ("Audi", "Q5", 49_000),
    ("Jeep", "Wrangler", 38_000),
    ("Jeep", "Grand Cherokee", 45_000),
    ("Ram", "1500", 47_000),
    ("GMC", "Sierra", 49_000),
    ("Tesla", "Model 3", 42_000),
    ("Tesla", "Model Y", 47_000),
    ("Lexus", "RX", 52_000),
];

fn catalog_values() -> String {
    CATALOG
        .iter()
        .enumerate()
        .map(|(i, (make, model, price))| format!("({i}, '{make}', '{model}', {price})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The demo salespeople's ids, as a CTE named `staff` (see `add_staff`).
const STAFF: &str = "staff AS (SELECT array_agg(id ORDER BY id) AS ids FROM users \
                     WHERE email LIKE '%.demo@pcn.invalid')";

/// Who sold the demo vehicle with this id: one of `staff` (SQL).
fn salesperson(id: &str) -> String {
    format!("staff.ids[1 + ({id} % array_length(staff.ids, 1))::int]")
}

/// The sale date of the sold demo vehicle numbered `g` (a multiple of six),
/// received on `received`: spread over the days from its arrival to `$3`
/// (today), so never in the future (SQL).
fn sale_date(g: &str, received: &str) -> String {
    format!("({received} + (({g}) / 6 * 7919 % ($3::date - {received} + 1))::int)")
}

/// Adds vehicles numbered `from..=to` (stock numbers `S00000001`…): about
/// one in six of those in stock sold (with its sale), each with its history
/// ("created", and "sold" for the sold ones). Returns how many were inserted.
///
/// The demo salespeople must exist (`add_staff`).
pub async fn insert_batch(
    conn: &mut AsyncPgConnection,
    from: i64,
    to: i64,
    today: NaiveDate,
) -> QueryResult<usize> {
    let n_catalog = CATALOG.len();
    let this_year = chrono::Datelike::year(&today);
    let vehicles = format!(
        "WITH catalog(idx, make, model, price) AS (VALUES {catalog}), \
         src AS ( \
           SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, \
                  {this_year} - 1 - floor(random() * 15)::int AS yr \
           FROM generate_series($1::bigint, $2::bigint) AS g), \
         priced AS ( \
           SELECT s.*, c.make, c.model, c.price, \
                  CASE WHEN s.yr >= {this_year} - 1 AND s.r3 < 0.5 THEN 'new' \
                       WHEN s.r3 < 0.15 THEN 'certified' ELSE 'used' END AS cond, \
                  greatest(3000, c.price * (1 - 0.07 * ({this_year} - s.yr))) AS value, \
                  $3::date - floor(s.r4 * 200)::int AS received, \
                  CASE WHEN s.r4 >= 0.93 THEN 'archived' \
                       WHEN s.g % 6 = 0 THEN 'sold' \
                       WHEN s.r4 < 0.80 THEN 'available' ELSE 'reserved' END AS status \
           FROM src s JOIN catalog c ON c.idx = floor(s.r1 * {n_catalog})::int), \
         dated AS ( \
           SELECT p.*, least(now(), p.received + time '09:00') AS created, \
                  CASE WHEN p.status = 'sold' \
                       THEN greatest(least(now(), p.received + time '09:00'), \
                                     least(now(), {sold_on} + time '15:00')) \
                       ELSE least(now(), p.received + time '09:00') END AS updated \
           FROM priced p) \
         INSERT INTO vehicles (vehicle_number, vin, year, make, model, trim, color, mileage, condition, \
                               cost_cents, list_price_cents, status, location, notes, received_on, \
                               created_at, updated_at, version) \
         SELECT 'S' || lpad(g::text, 8, '0'), \
                CASE WHEN r2 < 0.97 THEN upper(substr(md5(g::text || ':' || r2::text), 1, 17)) END, \
                yr, make, model, \
                (ARRAY['Base','LE','SE','XLE','Sport','Limited','EX','Touring','Premium',''])[1 + floor(r3 * 10)::int], \
                (ARRAY['White','Black','Silver','Gray','Blue','Red','Green','Beige','Brown','Orange'])[1 + floor(r2 * 10)::int], \
                CASE WHEN cond = 'new' THEN floor(r3 * 60)::int \
                     ELSE floor(({this_year} - yr) * 11000 * (0.4 + r3))::int END, \
                cond, \
                (round(value * 0.85) * 100)::bigint, \
                (round(value / 100) * 10000)::bigint, \
                status, \
                (ARRAY['Main lot','Lot B','Showroom','Service bay','Overflow lot'])[1 + floor(r4 * 5)::int], \
                CASE WHEN r1 < 0.1 THEN 'One owner, full service history.' ELSE '' END, \
                received, created, updated, CASE WHEN status = 'sold' THEN 2 ELSE 1 END \
         FROM dated",
        catalog = catalog_values(),
        sold_on = sale_date("p.g", "p.received"),
    );
    let inserted = diesel::sql_query(vehicles)
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(to)
        .bind::<Date, _>(today)
        .execute(conn)
        .await?;
    // Text order: the pattern keeps out other stock numbers that sort
    // between these two (`S0001`, `S000000015`).
    let in_batch = "v.vehicle_number BETWEEN 'S' || lpad($1::text, 8, '0') AND 'S' || lpad($2::text, 8, '0') \
                    AND v.vehicle_number ~ '^S[0-9]{8}$'";
    diesel::sql_query(format!(
        "WITH {STAFF} \
         INSERT INTO sales (vehicle_id, sale_price_cents, cost_cents, sold_on, customer_name, payment_method, \
                            salesperson_id, created_at) \
         SELECT v.id, (v.list_price_cents * (0.92 + random() * 0.08))::bigint / 100 * 100, v.cost_cents, \
                {sold_on}, \
                (ARRAY['Dana','Fox','Walter','Monica','John','Olivia','Peter','Astrid'])[1 + (v.id % 8)::int] || ' ' || \
                (ARRAY['Scully','Mulder','Skinner','Reyes','Doggett','Dunham','Bishop','Farnsworth'])[1 + (v.id / 8 % 8)::int], \
                (ARRAY['cash','finance','card','transfer'])[1 + (v.id % 4)::int], \
                {seller}, v.updated_at \
         FROM vehicles v, staff WHERE {in_batch} AND v.status = 'sold'",
        sold_on = sale_date("substr(v.vehicle_number, 2)::bigint", "v.received_on"),
        seller = salesperson("v.id"),
    ))
    .bind::<BigInt, _>(from)
    .bind::<BigInt, _>(to)
    .bind::<Date, _>(today)
    .execute(conn)
    .await?;
    // Version 1 as received (a sold vehicle was available), version 2 its sale.
    diesel::sql_query(format!(
        "WITH {STAFF}, \
         snap AS ( \
           SELECT v.id, v.status, v.created_at, v.updated_at, jsonb_build_object( \
             'vehicle_number', vehicle_number, 'vin', vin, 'year', year, 'make', make, 'model', model, \
             'trim', trim, 'color', color, 'mileage', mileage, 'condition', condition, \
             'cost_cents', cost_cents, 'list_price_cents', list_price_cents, \
             'location', location, 'notes', notes, 'received_on', received_on) AS fields \
           FROM vehicles v WHERE {in_batch}) \
         INSERT INTO vehicle_history (vehicle_id, version, action, snapshot, changes, changed_at, changed_by) \
         SELECT s.id, h.version, h.action, s.fields || jsonb_build_object('status', h.status), h.changes, \
                CASE h.version WHEN 1 THEN s.created_at ELSE s.updated_at END, \
                CASE h.version WHEN 2 THEN {seller} END \
         FROM snap s CROSS JOIN staff CROSS JOIN LATERAL (VALUES \
           (1, 'created', CASE s.status WHEN 'sold' THEN 'available' ELSE s.status END, '{{}}'::jsonb), \
           (2, 'sold', 'sold', '{{\"status\": [\"Available\", \"Sold\"]}}'::jsonb) \
         ) AS h(version, action, status, changes) \
         WHERE h.version = 1 OR s.status = 'sold'",
        seller = salesperson("s.id"),
    ))
    .bind::<BigInt, _>(from)
    .bind::<BigInt, _>(to)
    .execute(conn)
    .await?;
    Ok(inserted)
}

/// The highest demo number so far, so repeated runs add rather than collide.
pub async fn next_number(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(
        "SELECT coalesce(max(substr(vehicle_number, 2)::bigint), 0) + 1 AS n FROM vehicles \
         WHERE vehicle_number ~ '^S[0-9]{8}$'",
    )
    .get_result::<N>(conn)
    .await?
    .n)
}

/// What `load` has just finished, for its progress report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// This many of the vehicles are in (with their sales and history).
    Vehicles(i64),
    Indexes,
    Statistics,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Vehicles(n) => write!(f, "{n} vehicles added"),
            Self::Indexes => f.write_str("indexes and keys restored"),
            Self::Statistics => f.write_str("vacuumed and analyzed"),
        }
    }
}

/// Inserts `count` vehicles in batches, calling `progress` after each step;
/// then vacuums and refreshes the planner's statistics.
///
/// A large load runs in one transaction that sets aside the secondary
/// indexes and the foreign keys into `vehicles`, and restores them at the
/// end: a sorted index build and one validating join are many times faster
/// than a million index insertions and key checks. The tables are locked
/// meanwhile. The definitions are read from the catalogue, so the
/// migrations stay their only source.
pub async fn load(
    conn: &mut AsyncPgConnection,
    count: i64,
    today: NaiveDate,
    mut progress: impl FnMut(Step) + Send,
) -> QueryResult<i64> {
    const BATCH: i64 = 100_000;
    const BULK: i64 = 50_000;
    let done = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut indexes = Vec::new();
            let mut keys = Vec::new();
            if count >= BULK {
                diesel::sql_query("SET LOCAL maintenance_work_mem = '512MB'")
                    .execute(conn)
                    .await?;
                diesel::sql_query(
                    "LOCK TABLE vehicles, vehicle_history, sales IN ACCESS EXCLUSIVE MODE",
                )
                .execute(conn)
                .await?;
                indexes = secondary_indexes(conn).await?;
                for (name, _) in &indexes {
                    diesel::sql_query(format!("DROP INDEX {}", quote_ident(name)))
                        .execute(conn)
                        .await?;
                }
                keys = foreign_keys_into_vehicles(conn).await?;
                for key in &keys {
                    diesel::sql_query(format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        quote_ident(&key.table),
                        quote_ident(&key.name)
                    ))
                    .execute(conn)
                    .await?;
                }
            }
            add_staff(conn).await?;
            // One "much changed" for open pages instead of an event a row.
            diesel::sql_query("ALTER TABLE vehicle_history DISABLE TRIGGER vehicle_history_notify")
                .execute(conn)
                .await?;
            let start = next_number(conn).await?;
            let mut done = 0;
            while done < count {
                let n = BATCH.min(count - done);
                insert_batch(conn, start + done, start + done + n - 1, today).await?;
                done += n;
                progress(Step::Vehicles(done));
            }
            if !indexes.is_empty() || !keys.is_empty() {
                // Check the sold-status rule now: no index can be built, nor
                // key added, while its deferred checks are pending.
                diesel::sql_query("SET CONSTRAINTS ALL IMMEDIATE")
                    .execute(conn)
                    .await?;
            }
            for (_, definition) in &indexes {
                diesel::sql_query(definition.as_str()).execute(conn).await?;
            }
            for key in &keys {
                diesel::sql_query(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {}",
                    quote_ident(&key.table),
                    quote_ident(&key.name),
                    key.definition
                ))
                .execute(conn)
                .await?;
            }
            if !indexes.is_empty() || !keys.is_empty() {
                progress(Step::Indexes);
            }
            diesel::sql_query("ALTER TABLE vehicle_history ENABLE TRIGGER vehicle_history_notify")
                .execute(conn)
                .await?;
            diesel::sql_query(r#"SELECT pg_notify('pcn_changes', '{"kind": "many"}')"#)
                .execute(conn)
                .await?;
            Ok(done)
        })
        .await?;
    // Fresh statistics for the planner, and a visibility map for index-only scans.
    diesel::sql_query("VACUUM (ANALYZE) vehicles, vehicle_history, sales")
        .execute(conn)
        .await?;
    progress(Step::Statistics);
    Ok(done)
}

/// A handful of demo salespeople, who cannot sign in (their password hash
/// matches nothing).
async fn add_staff(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    const STAFF: [(&str, &str, &str); 5] = [
        ("alex.demo@pcn.invalid", "Alex", "Morgan"),
        ("sam.demo@pcn.invalid", "Sam", "Rivera"),
        ("jo.demo@pcn.invalid", "Jo", "Chen"),
        ("kim.demo@pcn.invalid", "Kim", "Novak"),
        ("lee.demo@pcn.invalid", "Lee", "Okoro"),
    ];
    let rows: Vec<_> = STAFF
        .iter()
        .map(|(email, first, last)| {
            (
                users::email.eq(*email),
                users::first_name.eq(*first),
                users::last_name.eq(*last),
                users::role.eq(Role::Editor),
                users::password_hash.eq("!"),
                users::active.eq(false),
            )
        })
        .collect();
    diesel::insert_into(users::table)
        .values(rows)
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await
        .map(drop)
}

/// A foreign key constraint that references `vehicles`.
struct ForeignKey {
    table: String,
    name: String,
    /// `FOREIGN KEY (…) REFERENCES …`
    definition: String,
}

async fn foreign_keys_into_vehicles(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ForeignKey>> {
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let rows: Vec<Fk> = diesel::sql_query(
        "SELECT t.relname AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         WHERE c.contype = 'f' AND c.confrelid = 'vehicles'::regclass",
    )
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ForeignKey {
            table: r.table,
            name: r.name,
            definition: r.definition,
        })
        .collect())
}

/// The vehicles indexes that enforce nothing (not the primary key, not a
/// unique index): name and `CREATE INDEX` statement.
async fn secondary_indexes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    #[derive(QueryableByName)]
    struct Ix {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let rows: Vec<Ix> = diesel::sql_query(
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'vehicles'::regclass AND NOT i.indisunique AND NOT i.indisprimary",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.definition)).collect())
}
