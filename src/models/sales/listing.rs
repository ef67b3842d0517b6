//! The sales list: its filter, its sort orders with keyset cursors, and the
//! count and totals of the filter (from the per-day totals the database
//! keeps, unless a customer search needs the sales themselves).

use chrono::NaiveDate;
use diesel::{
    QueryResult,
    prelude::QueryableByName,
    sql_types::{BigInt, Date, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::{ROW_SQL, SaleRow, Totals};
use crate::models::{Sql, escape_like};

#[derive(Clone, Debug, Default)]
pub struct SalesFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub salesperson: Option<i64>,
    pub customer: Option<String>,
}

/// Appends the filter's conditions (after a `WHERE`) on the table aliased
/// `s`: `sales`, or `sales_daily` when there is no customer to match.
fn with_filters<'a>(mut q: Sql<'a>, f: &SalesFilter) -> Sql<'a> {
    if let Some(from) = f.from {
        q = q.sql(" AND s.sold_on >= ").bind::<Date, _>(from);
    }
    if let Some(to) = f.to {
        q = q.sql(" AND s.sold_on <= ").bind::<Date, _>(to);
    }
    if let Some(p) = f.salesperson {
        q = q.sql(" AND s.salesperson_id = ").bind::<BigInt, _>(p);
    }
    if let Some(c) = f.customer.as_deref().filter(|c| !c.is_empty()) {
        let pattern = format!("%{}%", escape_like(&c.to_lowercase()));
        q = q
            .sql(" AND lower(s.customer_name) LIKE ")
            .bind::<Text, _>(pattern);
    }
    q
}

/// The columns the list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalesSortKey {
    Date,
    Price,
    Gross,
    Salesperson,
    Customer,
}

impl SalesSortKey {
    pub const ALL: [SalesSortKey; 5] = [
        Self::Date,
        Self::Price,
        Self::Gross,
        Self::Salesperson,
        Self::Customer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Price => "price",
            Self::Gross => "gross",
            Self::Salesperson => "salesperson",
            Self::Customer => "customer",
        }
    }

    /// The sorted expression; each but the salesperson's name has an index
    /// that reads it in order (migrations `sales`, `search_words`).
    fn expression(self) -> &'static str {
        match self {
            Self::Date => "s.sold_on",
            Self::Price => "s.sale_price_cents",
            Self::Gross => "(s.sale_price_cents - s.cost_cents)",
            Self::Salesperson => "(u.first_name || ' ' || u.last_name)",
            Self::Customer => "s.customer_name",
        }
    }

    fn cast(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Price | Self::Gross => "bigint",
            Self::Salesperson | Self::Customer => "text",
        }
    }

    /// A cursor value (from the URL) in the one form the query casts, or
    /// `None` when it does not fit this column.
    pub fn normalize(self, value: &str) -> Option<String> {
        match self {
            Self::Date => crate::domain::date::parse_date(value).map(|d| d.to_string()),
            Self::Price | Self::Gross => value.parse::<i64>().ok().map(|n| n.to_string()),
            Self::Salesperson | Self::Customer => (value.len() <= 300
                && !value.chars().any(char::is_control))
            .then(|| value.to_string()),
        }
    }

    /// This row's value of the sort column, as the cursor carries it.
    pub fn value_of(self, s: &SaleRow) -> String {
        match self {
            Self::Date => s.sold_on.to_string(),
            Self::Price => s.sale_price_cents.to_string(),
            Self::Gross => s.gross_profit_cents().to_string(),
            Self::Salesperson => s.salesperson.clone(),
            Self::Customer => s.customer_name.clone(),
        }
    }
}

/// A sort order of the list: `price` ascending, `-price` descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SalesSort {
    pub key: SalesSortKey,
    pub desc: bool,
}

impl Default for SalesSort {
    /// Newest first.
    fn default() -> Self {
        Self {
            key: SalesSortKey::Date,
            desc: true,
        }
    }
}

impl SalesSort {
    pub fn parse(s: &str) -> Option<Self> {
        let (desc, name) = s.strip_prefix('-').map_or((false, s), |n| (true, n));
        SalesSortKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .map(|key| Self { key, desc })
    }

    pub fn param(self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.key.name())
    }
}

/// One page in `sort` order, keyset-paged after (sort value, id).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &SalesFilter,
    sort: SalesSort,
    after: Option<&(String, i64)>,
    limit: i64,
) -> QueryResult<(Vec<SaleRow>, bool)> {
    let mut q = with_filters(Sql::new(ROW_SQL), filter);
    let (expression, dir) = (
        sort.key.expression(),
        if sort.desc { " DESC" } else { " ASC" },
    );
    if let Some((value, id)) = after {
        q = q
            .sql(" AND (")
            .sql(expression)
            .sql(", s.id) ")
            .sql(if sort.desc { "<" } else { ">" })
            .sql(" (CAST(")
            .bind::<Text, _>(value.clone())
            .sql(" AS ")
            .sql(sort.key.cast())
            .sql("), ")
            .bind::<BigInt, _>(*id)
            .sql(")");
    }
    q = q
        .sql(" ORDER BY ")
        .sql(expression)
        .sql(dir)
        .sql(", s.id")
        .sql(dir)
        .sql(" LIMIT ")
        .bind::<BigInt, _>(limit + 1);
    let mut rows: Vec<SaleRow> = q.load(conn).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// What a filter of the list adds up to: the sales that count (not voided),
/// their revenue and gross profit, and how many voided ones it also lists.
#[derive(QueryableByName, Clone, Debug, PartialEq, Eq)]
pub struct ListTotals {
    #[diesel(embed)]
    pub counted: Totals,
    #[diesel(sql_type = BigInt)]
    pub voided: i64,
}

/// The totals of `filter`. Without a customer search they are sums of the
/// per-day totals (`sales_daily`, a few rows a day), and the voided sales
/// are counted through their own small index; a customer search adds up
/// the sales it finds.
pub async fn totals(conn: &mut AsyncPgConnection, filter: &SalesFilter) -> QueryResult<ListTotals> {
    if filter.customer.is_some() {
        let q = Sql::new(
            "SELECT '' AS label, NULL::bigint AS salesperson_id, \
                    count(*) FILTER (WHERE s.voided_at IS NULL) AS units, \
                    coalesce(sum(s.sale_price_cents) FILTER (WHERE s.voided_at IS NULL), 0)::bigint \
                      AS revenue_cents, \
                    coalesce(sum(s.sale_price_cents - s.cost_cents) FILTER (WHERE s.voided_at IS NULL), 0)::bigint \
                      AS gross_cents, \
                    count(*) FILTER (WHERE s.voided_at IS NOT NULL) AS voided \
             FROM sales s WHERE true",
        );
        return with_filters(q, filter).get_result(conn).await;
    }
    let q = Sql::new(
        "SELECT '' AS label, NULL::bigint AS salesperson_id, \
                coalesce(sum(s.units), 0)::bigint AS units, \
                coalesce(sum(s.revenue_cents), 0)::bigint AS revenue_cents, \
                coalesce(sum(s.gross_cents), 0)::bigint AS gross_cents, \
                (SELECT count(*) FROM sales s WHERE s.voided_at IS NOT NULL",
    );
    let q = with_filters(q, filter).sql(") AS voided FROM sales_daily s WHERE true");
    with_filters(q, filter).get_result(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameters_round_trip_and_refuse_the_rest() {
        for key in SalesSortKey::ALL {
            for desc in [false, true] {
                let s = SalesSort { key, desc };
                assert_eq!(SalesSort::parse(&s.param()), Some(s));
            }
        }
        assert_eq!(SalesSort::parse("price; DROP TABLE sales"), None);
        assert_eq!(SalesSort::default().param(), "-date");
    }

    #[test]
    fn cursor_values_are_taken_only_in_their_columns_form() {
        assert_eq!(
            SalesSortKey::Date.normalize("2026-11-05"),
            Some("2026-11-05".into())
        );
        assert_eq!(SalesSortKey::Date.normalize("yesterday"), None);
        assert_eq!(SalesSortKey::Gross.normalize("-1500"), Some("-1500".into()));
        assert_eq!(SalesSortKey::Price.normalize("1e3"), None);
        assert_eq!(
            SalesSortKey::Customer.normalize("Dana Scully"),
            Some("Dana Scully".into())
        );
        assert_eq!(SalesSortKey::Salesperson.normalize("a\u{0}b"), None);
    }
}
