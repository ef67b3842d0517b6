//! Database access: functions that take a connection and return `QueryResult`.
//! Handlers call these; they do not build SQL themselves.

pub mod attempts;
pub mod audit;
pub mod demo;
pub mod sales;
pub mod sessions;
pub mod setup_tokens;
pub mod users;
pub mod vehicles;

use diesel::pg::Pg;

/// Raw SQL with numbered placeholders written as values are bound.
pub(crate) struct Sql<'a> {
    pub(crate) query: diesel::query_builder::BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery>,
    binds: usize,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(sql: &str) -> Self {
        Self {
            query: diesel::sql_query(sql).into_boxed(),
            binds: 0,
        }
    }

    pub(crate) fn sql(mut self, sql: &str) -> Self {
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
