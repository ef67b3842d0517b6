//! What the database says about itself, for the activity page.

use diesel::{
    IntoSql as _, QueryResult, QueryableByName,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

/// How many connections to this database are in one state (`active`, `idle`…).
#[derive(QueryableByName, Clone, Debug)]
pub struct ConnectionState {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Connections to the current database, counted by state, most first.
pub async fn connections_by_state(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<ConnectionState>> {
    diesel::sql_query(
        "SELECT coalesce(state, 'background') AS state, count(*) AS count FROM pg_stat_activity \
         WHERE datname = current_database() GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .load(conn)
    .await
}

/// Whether the database answers at all (the load balancer's health check).
pub async fn ping(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::select(1.into_sql::<diesel::sql_types::Integer>())
        .execute(conn)
        .await
        .map(drop)
}
