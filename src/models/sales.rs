//! Sales: recording one exactly once (SPEC §5.2), voiding, listing
//! (`listing`), reports.

mod listing;

pub use listing::{ListTotals, SalesFilter, SalesSort, SalesSortKey, list, totals};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    TextExpressionMethods as _,
    pg::Pg,
    prelude::{Queryable, QueryableByName, Selectable},
    sql_types::{BigInt, Date, Nullable, Text},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    db::with_retry,
    domain::{PaymentMethod, Status, sale::SaleFields},
    models::{Sql, vehicles},
    schema::{sales, users},
};

#[derive(Queryable, Selectable, QueryableByName, Clone, Debug)]
#[diesel(table_name = sales, check_for_backend(Pg))]
pub struct Sale {
    pub id: i64,
    pub vehicle_id: i64,
    pub sale_price_cents: i64,
    pub cost_cents: i64,
    pub sold_on: NaiveDate,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: String,
    pub payment_method: PaymentMethod,
    pub salesperson_id: i64,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub voided_by: Option<i64>,
    pub void_reason: Option<String>,
}

impl Sale {
    pub fn gross_profit_cents(&self) -> i64 {
        self.sale_price_cents - self.cost_cents
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SellOutcome {
    Sold {
        sale_id: i64,
    },
    NotFound,
    /// Someone else's sale won: this one.
    AlreadySold {
        sale_id: i64,
    },
    /// Archived: not for sale.
    NotForSale,
    /// The vehicle changed since the form was opened.
    Stale,
}

/// One transaction: the vehicle (locked) must be available or reserved and on
/// `version`; the sale row and status `sold` land together or not at all.
/// `user_id` records it, for `salesperson_id` (the same person, or one an
/// admin chose).
pub async fn sell(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    version: i32,
    sale: &SaleFields,
    user_id: i64,
    salesperson_id: i64,
) -> QueryResult<SellOutcome> {
    with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some(v) = vehicles::lock(conn, vehicle_id).await? else {
                return Ok(SellOutcome::NotFound);
            };
            match v.status {
                Status::Sold => {
                    let winner = live_sale_id(conn, vehicle_id).await?.unwrap_or_default();
                    return Ok(SellOutcome::AlreadySold { sale_id: winner });
                }
                Status::Archived => return Ok(SellOutcome::NotForSale),
                _ if v.version != version => return Ok(SellOutcome::Stale),
                _ => {}
            }
            // The sale goes in last: its insert adds to the day's totals
            // (`sales_daily`), whose row stays locked until commit.
            vehicles::set_status(conn, &v, Status::Sold, user_id, "sold").await?;
            let sale_id: i64 = diesel::insert_into(sales::table)
                .values((
                    sales::vehicle_id.eq(vehicle_id),
                    sales::sale_price_cents.eq(sale.sale_price_cents),
                    sales::cost_cents.eq(v.cost_cents),
                    sales::sold_on.eq(sale.sold_on),
                    sales::customer_name.eq(&sale.customer_name),
                    sales::customer_email.eq(&sale.customer_email),
                    sales::customer_phone.eq(&sale.customer_phone),
                    sales::payment_method.eq(sale.payment_method),
                    sales::salesperson_id.eq(salesperson_id),
                    sales::notes.eq(&sale.notes),
                ))
                .returning(sales::id)
                .get_result(conn)
                .await?;
            Ok(SellOutcome::Sold { sale_id })
        })
        .await
    })
    .await
}

pub async fn live_sale_id(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
) -> QueryResult<Option<i64>> {
    sales::table
        .filter(sales::vehicle_id.eq(vehicle_id))
        .filter(sales::voided_at.is_null())
        .select(sales::id)
        .first(conn)
        .await
        .optional()
}

#[derive(Debug, PartialEq, Eq)]
pub enum VoidOutcome {
    Voided { vehicle_id: i64 },
    NotFound,
    AlreadyVoided,
}

/// Marks the sale voided (it is kept) and puts the vehicle back on sale, in
/// one transaction. Locks the vehicle first, like every other change of it.
pub async fn void(
    conn: &mut AsyncPgConnection,
    sale_id: i64,
    reason: &str,
    user_id: i64,
) -> QueryResult<VoidOutcome> {
    with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let Some(vehicle_id) = sales::table
                .find(sale_id)
                .select(sales::vehicle_id)
                .first::<i64>(conn)
                .await
                .optional()?
            else {
                return Ok(VoidOutcome::NotFound);
            };
            let Some(v) = vehicles::lock(conn, vehicle_id).await? else {
                return Ok(VoidOutcome::NotFound);
            };
            // A vehicle's sales change only under its lock (here and in
            // `sell`), so this stays true until commit.
            let live: bool = sales::table
                .find(sale_id)
                .select(sales::voided_at.is_null())
                .first(conn)
                .await?;
            if !live {
                return Ok(VoidOutcome::AlreadyVoided);
            }
            // The void goes in last: it takes from the day's totals
            // (`sales_daily`), whose row stays locked until commit.
            vehicles::set_status(conn, &v, Status::Available, user_id, "sale voided").await?;
            diesel::update(sales::table.find(sale_id))
                .set((
                    sales::voided_at.eq(diesel::dsl::now),
                    sales::voided_by.eq(user_id),
                    sales::void_reason.eq(reason),
                ))
                .execute(conn)
                .await?;
            Ok(VoidOutcome::Voided { vehicle_id })
        })
        .await
    })
    .await
}

/// A sale with what its pages show beside it.
#[derive(QueryableByName, Clone, Debug)]
pub struct SaleRow {
    #[diesel(embed)]
    pub sale: Sale,
    #[diesel(sql_type = Text)]
    pub vehicle_number: String,
    #[diesel(sql_type = Text)]
    pub vehicle_title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub vin: Option<String>,
    #[diesel(sql_type = Text)]
    pub salesperson: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub voided_by_name: Option<String>,
}

impl std::ops::Deref for SaleRow {
    type Target = Sale;
    fn deref(&self) -> &Sale {
        &self.sale
    }
}

/// A sale with its vehicle and people. Raw SQL because the list pages by a
/// keyset row comparison; `find` reads the same row.
const ROW_SQL: &str = "SELECT s.*, v.vehicle_number, \
       concat_ws(' ', v.year, v.make, v.model, nullif(v.trim, '')) AS vehicle_title, v.vin, \
       u.first_name || ' ' || u.last_name AS salesperson, \
       vb.first_name || ' ' || vb.last_name AS voided_by_name \
     FROM sales s JOIN vehicles v ON v.id = s.vehicle_id JOIN users u ON u.id = s.salesperson_id \
     LEFT JOIN users vb ON vb.id = s.voided_by WHERE true";

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<SaleRow>> {
    Sql::new(ROW_SQL)
        .sql(" AND s.id = ")
        .bind::<BigInt, _>(id)
        .query
        .get_result(conn)
        .await
        .optional()
}

/// Units, revenue and gross profit of the sales that are not voided.
#[derive(QueryableByName, Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    #[diesel(sql_type = Text)]
    pub label: String,
    #[diesel(sql_type = BigInt)]
    pub units: i64,
    #[diesel(sql_type = BigInt)]
    pub revenue_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub gross_cents: i64,
    /// Whose sales these are, in a row per salesperson.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub salesperson_id: Option<i64>,
}

/// Month by month (`YYYY-MM`, every month of the period, empty ones too),
/// from the per-day totals the database keeps (`sales_daily`): a few rows
/// a day however many sales there were.
pub async fn by_month(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Totals>> {
    Sql::new(
        "WITH agg AS ( \
           SELECT date_trunc('month', d.sold_on)::date AS m, sum(d.units) AS units, \
                  sum(d.revenue_cents) AS revenue, sum(d.gross_cents) AS gross \
           FROM sales_daily d WHERE d.sold_on BETWEEN ",
    )
    .bind::<Date, _>(from)
    .sql(" AND ")
    .bind::<Date, _>(to)
    .sql(
        " GROUP BY 1) \
         SELECT to_char(g.m, 'YYYY-MM') AS label, coalesce(a.units, 0)::bigint AS units, \
                coalesce(a.revenue, 0)::bigint AS revenue_cents, coalesce(a.gross, 0)::bigint AS gross_cents, \
                NULL::bigint AS salesperson_id \
         FROM generate_series(date_trunc('month', ",
    )
    .bind::<Date, _>(from)
    .sql("::timestamp), date_trunc('month', ")
    .bind::<Date, _>(to)
    .sql("::timestamp), interval '1 month') AS g(m) LEFT JOIN agg a ON a.m = g.m::date ORDER BY g.m")
    .query
    .load(conn)
    .await
}

/// Per salesperson who sold something in the period, best first.
pub async fn by_salesperson(
    conn: &mut AsyncPgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Totals>> {
    Sql::new(
        "SELECT u.first_name || ' ' || u.last_name AS label, sum(d.units)::bigint AS units, \
                sum(d.revenue_cents)::bigint AS revenue_cents, \
                sum(d.gross_cents)::bigint AS gross_cents, u.id AS salesperson_id \
         FROM sales_daily d JOIN users u ON u.id = d.salesperson_id \
         WHERE d.sold_on BETWEEN ",
    )
    .bind::<Date, _>(from)
    .sql(" AND ")
    .bind::<Date, _>(to)
    .sql(" GROUP BY u.id, u.first_name, u.last_name HAVING sum(d.units) > 0 ORDER BY 3 DESC, 1")
    .query
    .load(conn)
    .await
}

/// Everyone who has sold something, for the salesperson filter, by name.
pub async fn salespeople(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(i64, String)>> {
    let name = users::first_name.concat(" ").concat(users::last_name);
    users::table
        .filter(diesel::dsl::exists(
            sales::table.filter(sales::salesperson_id.eq(users::id)),
        ))
        .select((users::id, name))
        .order(name)
        .load(conn)
        .await
}
