//! The inventory list: filter, sort, keyset cursor, one page with its total
//! (exact when small, the planner's estimate when large), and the makes.
//!
//! These queries are the hot path and are raw SQL (keyset row comparisons,
//! `EXPLAIN`, a recursive CTE), built from fixed fragments; a later issue
//! tunes them against the benchmark.

use chrono::NaiveDate;
use diesel::{
    QueryResult,
    prelude::QueryableByName,
    sql_types::{BigInt, Date, Integer, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::{Vehicle, cached::Estimates, search::Search};
use crate::{
    domain::{Status, date},
    models::Sql,
};

/// Which statuses the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    /// What can be sold today: available and reserved. What people work
    /// from, so the list opens on it.
    #[default]
    InStock,
    /// Everything but archived vehicles: in stock and sold.
    Current,
    All,
    Only(Status),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Received,
    Price,
    Year,
    Mileage,
    Stock,
    Make,
    Updated,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        Self::Received,
        Self::Price,
        Self::Year,
        Self::Mileage,
        Self::Stock,
        Self::Make,
        Self::Updated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Price => "price",
            Self::Year => "year",
            Self::Mileage => "mileage",
            Self::Stock => "stock",
            Self::Make => "make",
            Self::Updated => "updated",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Received => "received_on",
            Self::Price => "list_price_cents",
            Self::Year => "year",
            Self::Mileage => "mileage",
            Self::Stock => "vehicle_number",
            Self::Make => "make",
            Self::Updated => "updated_at",
        }
    }

    fn cast(self) -> &'static str {
        match self {
            Self::Received => "date",
            Self::Price => "bigint",
            Self::Year | Self::Mileage => "integer",
            Self::Stock | Self::Make => "text",
            Self::Updated => "timestamptz",
        }
    }

    /// A cursor value (from the URL, so from anyone) as this column's value
    /// in the one form the query casts, or `None` when it does not fit: the
    /// database is never asked to read a value it might refuse.
    pub fn normalize(self, value: &str) -> Option<String> {
        match self {
            Self::Received => date::parse_date(value).map(|d| d.format("%Y-%m-%d").to_string()),
            Self::Price => value.parse::<i64>().ok().map(|n| n.to_string()),
            Self::Year | Self::Mileage => value.parse::<i32>().ok().map(|n| n.to_string()),
            Self::Stock | Self::Make => (value.len() <= 100
                && !value.chars().any(char::is_control))
            .then(|| value.to_string()),
            Self::Updated => date::parse_instant(value).map(date::format_instant),
        }
    }

    /// This row's value of the sort column, as the cursor carries it.
    pub fn value_of(self, v: &VehicleRow) -> String {
        match self {
            Self::Received => v.received_on.format("%Y-%m-%d").to_string(),
            Self::Price => v.list_price_cents.to_string(),
            Self::Year => v.year.to_string(),
            Self::Mileage => v.mileage.to_string(),
            Self::Stock => v.vehicle_number.clone(),
            Self::Make => v.make.clone(),
            Self::Updated => date::format_instant(v.updated_at),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub desc: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            key: SortKey::Received,
            desc: true,
        }
    }
}

impl Sort {
    /// `price` ascending, `-price` descending.
    pub fn parse(s: &str) -> Option<Self> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, s),
        };
        SortKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .map(|key| Self { key, desc })
    }

    pub fn param(self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.key.name())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ListFilter {
    pub q: Option<String>,
    pub status: StatusFilter,
    pub make: Option<String>,
}

/// Where a page starts: after (or before) the row with this sort value and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    After(String, i64),
    Before(String, i64),
}

#[derive(QueryableByName, Clone, Debug)]
pub struct VehicleRow {
    #[diesel(embed)]
    pub vehicle: Vehicle,
    #[diesel(sql_type = Integer)]
    pub days_in_stock: i32,
}

impl std::ops::Deref for VehicleRow {
    type Target = Vehicle;
    fn deref(&self) -> &Vehicle {
        &self.vehicle
    }
}

const COLUMNS: &str = "id, vehicle_number, vin, year, make, model, trim, color, mileage, condition, \
     cost_cents, list_price_cents, status, location, notes, received_on, created_at, updated_at, \
     updated_by, version";

/// Appends the filter conditions (after a `WHERE true`).
fn with_filters<'a>(mut query: Sql<'a>, filter: &ListFilter) -> Sql<'a> {
    match filter.status {
        StatusFilter::InStock => query = query.sql(" AND status IN ('available', 'reserved')"),
        StatusFilter::Current => query = query.sql(" AND status <> 'archived'"),
        StatusFilter::All => {}
        StatusFilter::Only(s) => query = query.sql(" AND status = ").bind::<Text, _>(s),
    }
    if let Some(make) = &filter.make {
        query = query.sql(" AND make = ").bind::<Text, _>(make.clone());
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        // Each condition has an index of its own (migrations vehicle_search
        // and search_words), which only a plan made for the pattern itself
        // can use: `(codes… OR (words AND words…))`.
        let search = Search::new(q);
        query = query.per_value_plan().sql(" AND (");
        for (expression, pattern) in search.codes {
            query = query
                .sql(expression)
                .sql(" LIKE ")
                .bind::<Text, _>(pattern)
                .sql(" OR ");
        }
        if search.words.is_empty() {
            // Nothing but punctuation: no vehicle's words hold it.
            query = query.sql("false");
        } else {
            query = query.sql("(");
            for (i, pattern) in search.words.into_iter().enumerate() {
                // Lowered by the database's `lower()`, the one that lowered
                // the fields; folded into the pattern when planned.
                query = query
                    .sql(if i == 0 { "" } else { " AND " })
                    .sql("search_words LIKE lower(")
                    .bind::<Text, _>(pattern)
                    .sql(")");
            }
            query = query.sql(")");
        }
        query = query.sql(")");
    }
    query
}

/// The rows of the view, with their days in stock, after `prefix`.
fn matching<'a>(prefix: &'static str, filter: &ListFilter, today: NaiveDate) -> Sql<'a> {
    let query = Sql::new(prefix)
        .sql("SELECT ")
        .sql(COLUMNS)
        .sql(", (")
        .bind::<Date, _>(today)
        .sql(" - received_on)::int AS days_in_stock FROM vehicles WHERE true");
    with_filters(query, filter)
}

/// Appends the cursor condition (after a `WHERE`), the order and the limit
/// (`limit` + 1, to know whether more follow). Reading backwards flips the
/// order; `into_page` puts it right.
fn paged<'a>(mut query: Sql<'a>, sort: Sort, cursor: Option<&Cursor>, limit: i64) -> Sql<'a> {
    let backwards = matches!(cursor, Some(Cursor::Before(..)));
    let desc = sort.desc != backwards;
    if let Some(Cursor::After(value, id) | Cursor::Before(value, id)) = cursor {
        let (col, cast) = (sort.key.column(), sort.key.cast());
        let op = if desc { "<" } else { ">" };
        query = query
            .sql(" AND (")
            .sql(col)
            .sql(", id) ")
            .sql(op)
            .sql(" (CAST(")
            .bind::<Text, _>(value.clone())
            .sql(" AS ")
            .sql(cast)
            .sql("), ")
            .bind::<BigInt, _>(*id)
            .sql(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    query
        .sql(" ORDER BY ")
        .sql(sort.key.column())
        .sql(" ")
        .sql(dir)
        .sql(", id ")
        .sql(dir)
        .sql(" LIMIT ")
        .bind::<BigInt, _>(limit + 1)
}

/// The rows read by a `paged` query, in display order, and whether more follow.
fn into_page(
    mut rows: Vec<VehicleRow>,
    cursor: Option<&Cursor>,
    limit: i64,
) -> (Vec<VehicleRow>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if matches!(cursor, Some(Cursor::Before(..))) {
        rows.reverse();
    }
    (rows, more)
}

/// One page of vehicles, in display order, and whether more follow.
/// Keyset pagination: no OFFSET, whatever the depth.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
    today: NaiveDate,
) -> QueryResult<(Vec<VehicleRow>, bool)> {
    let query = paged(matching("", filter, today), sort, cursor, limit);
    let rows: Vec<VehicleRow> = query.load(conn).await?;
    Ok(into_page(rows, cursor, limit))
}

/// A page of the list as shown: its rows, whether more follow, and the total.
pub struct Listing {
    pub rows: Vec<VehicleRow>,
    pub more: bool,
    pub total: Total,
}

/// One page of vehicles and how many match, in as few scans as the view
/// allows. When the planner expects a small view (a selective search), the
/// matches are read once, up to `COUNT_CAP + 1` of them, then both counted
/// and paged; otherwise the page is read by its sort index and the total
/// is the planner's estimate.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
    today: NaiveDate,
    estimates: &Estimates,
) -> QueryResult<Listing> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(embed)]
        listed: VehicleRow,
        #[diesel(sql_type = BigInt)]
        matches: i64,
    }
    let estimate = estimates.get(conn, filter).await?;
    if estimate <= COUNT_CAP {
        let query = matching("WITH m AS MATERIALIZED (", filter, today)
            .sql(" LIMIT ")
            .bind::<BigInt, _>(COUNT_CAP + 1)
            .sql(") SELECT m.*, (SELECT count(*) FROM m) AS matches FROM m WHERE true");
        let query = paged(query, sort, cursor, limit);
        let rows: Vec<Counted> = query.load(conn).await?;
        let matches = match (<[Counted]>::first(&rows), cursor) {
            (Some(r), _) => r.matches,
            // An empty first page: nothing matches.
            (None, None) => 0,
            // An empty later page tells nothing of the others.
            (None, Some(_)) => count_capped(conn, filter).await?,
        };
        if matches <= COUNT_CAP {
            let (rows, more) =
                into_page(rows.into_iter().map(|r| r.listed).collect(), cursor, limit);
            return Ok(Listing {
                rows,
                more,
                total: Total::Exact(matches),
            });
        }
    }
    let (rows, more) = list(conn, filter, sort, cursor, limit, today).await?;
    // The planner may have guessed low; never show fewer than were seen.
    let seen = if estimate <= COUNT_CAP {
        COUNT_CAP + 1
    } else {
        0
    };
    Ok(Listing {
        rows,
        more,
        total: Total::About(estimate.max(seen)),
    })
}

/// Views up to this size are counted exactly (a bounded, index-backed count);
/// larger ones show the planner's estimate, labelled "about".
pub const COUNT_CAP: i64 = 2_000;

/// How many vehicles match, counting at most `COUNT_CAP + 1` of them.
pub async fn count_capped(conn: &mut AsyncPgConnection, filter: &ListFilter) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let query = Sql::new("SELECT count(*) AS n FROM (SELECT 1 FROM vehicles WHERE true");
    let query = with_filters(query, filter)
        .sql(" LIMIT ")
        .bind::<BigInt, _>(COUNT_CAP + 1)
        .sql(") t");
    Ok(query.get_result::<N>(conn).await?.n)
}

/// How many vehicles a view holds, as the list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// The planner's estimate, for views too large to count on every view.
    About(i64),
}

/// The planner's row estimate for the filter (`EXPLAIN`, which plans but
/// does not run the query).
pub(super) async fn estimate_rows(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(column_name = "QUERY PLAN", sql_type = diesel::sql_types::Json)]
        plan: serde_json::Value,
    }
    let query = with_filters(
        Sql::new("EXPLAIN (FORMAT JSON) SELECT 1 FROM vehicles WHERE true"),
        filter,
    );
    let plan: Plan = query.get_result(conn).await?;
    Ok(plan.plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0) as i64)
}

/// The distinct makes, by a skip scan over the make index (fast at any size).
pub async fn makes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct M {
        #[diesel(sql_type = Text)]
        make: String,
    }
    let rows: Vec<M> = Sql::new(
        "WITH RECURSIVE m(make) AS ( \
           (SELECT make FROM vehicles ORDER BY make LIMIT 1) \
           UNION ALL \
           SELECT (SELECT v.make FROM vehicles v WHERE v.make > m.make ORDER BY v.make LIMIT 1) \
           FROM m WHERE m.make IS NOT NULL) \
         SELECT make FROM m WHERE make IS NOT NULL LIMIT 500",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|m| m.make).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameters_round_trip() {
        for key in SortKey::ALL {
            for desc in [false, true] {
                let s = Sort { key, desc };
                assert_eq!(Sort::parse(&s.param()), Some(s));
            }
        }
        assert_eq!(Sort::parse("price; DROP TABLE vehicles"), None);
    }
}
