//! Database access: functions that take a connection and return `QueryResult`.
//! Handlers call these; they do not build SQL themselves.
//!
//! # How a query is written
//!
//! **The diesel DSL for plain reads and writes.** `schema.rs` is generated
//! from the migrations, so every table and column is there; diesel checks the
//! query against it, and caches its prepared statement per connection, so
//! PostgreSQL plans it once. Columns holding a choice are typed (`Status`,
//! `Role`, …; see `domain::stored`).
//!
//! **Raw SQL only where the DSL cannot say it**: recursive CTEs, `EXPLAIN`,
//! keyset row comparisons (`(sold_on, id) < ($1, $2)`), advisory locks,
//! set-returning functions (`generate_series`), sums diesel would type as
//! `numeric`. Then it is built with `Sql` from fixed `&'static str`
//! fragments, every value a bound parameter; a fragment that depends on a
//! choice (a sort column) comes from a `match` returning `&'static str`, never
//! from `format!`. Because of that rule a `Sql` query, unlike diesel's own
//! `sql_query`, is prepared once per connection and cached by its text (see
//! `Sql`'s `QueryFragment`), so a hot path on raw SQL is not parsed anew on
//! every call.
//!
//! The demo loader (`demo`) is the one exception: it generates a million rows
//! inside PostgreSQL and replays DDL it reads from the catalogue; the names it
//! splices in go through `db::quote_ident`.

pub mod attempts;
pub mod audit;
pub mod changes;
pub mod demo;
pub mod imports;
pub mod invitations;
pub mod kept_forms;
pub mod photos;
pub mod presence;
pub mod sales;
pub mod saved_views;
pub mod second_factor;
pub mod sessions;
pub mod settings;
pub mod setup_tokens;
pub mod stats;
pub mod users;
pub mod vehicles;

use diesel::{
    QueryResult,
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
};

/// Raw SQL with numbered placeholders written as values are bound. It takes
/// only `&'static str` fragments, so no value can reach the SQL text.
pub(crate) struct Sql<'a> {
    query: diesel::query_builder::BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery>,
    binds: usize,
    /// Whether its plan must be made for its values each time (`per_value_plan`).
    per_value_plan: bool,
}

// Run as a query of its own, so that its prepared statement is cached per
// connection. diesel never caches a `sql_query`, because its text could hold
// values spliced in; a `Sql`'s text cannot (static fragments and `$n`
// placeholders only), and the choices that shape it are few (filters, sort
// keys, cursor or not), so the cache, keyed by the text and bind types,
// stays small.
impl QueryFragment<Pg> for Sql<'_> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(!self.per_value_plan)
    }
}

impl QueryId for Sql<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<'a> Sql<'a> {
    pub(crate) fn new(sql: &'static str) -> Self {
        Self {
            query: diesel::sql_query(sql).into_boxed(),
            binds: 0,
            per_value_plan: false,
        }
    }

    /// Not prepared once: planned for its values on every call. For LIKE
    /// patterns, whose index use depends on the pattern itself: after five
    /// runs PostgreSQL may switch a prepared statement to one generic plan,
    /// which cannot use a prefix index for `LIKE $1` (measured: a search by
    /// stock number fell from ~1,100 to ~350 req/s at 10,000 vehicles).
    pub(crate) fn per_value_plan(mut self) -> Self {
        self.per_value_plan = true;
        self
    }

    pub(crate) fn sql(mut self, sql: &'static str) -> Self {
        self.query = self.query.sql(sql);
        self
    }

    pub(crate) fn bind<ST, V>(mut self, value: V) -> Self
    where
        Pg: diesel::sql_types::HasSqlType<ST>,
        V: diesel::serialize::ToSql<ST, Pg> + Send + 'a,
        ST: Send + 'a,
    {
        self.binds += 1;
        self.query = self
            .query
            .sql(format!("${}", self.binds))
            .bind::<ST, V>(value);
        self
    }
}

/// `text` for a LIKE pattern, its `%`, `_` and `\` taken literally.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(super::escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(super::escape_like("plain"), "plain");
    }
}
