//! The audit trail of admin actions (accounts, sessions, voided sales).

use chrono::{DateTime, Utc};
use diesel::{
    QueryResult, QueryableByName,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

pub async fn record(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    action: &str,
    target_user_id: Option<i64>,
    details: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO audit_log (actor_id, action, target_user_id, details) VALUES ($1, $2, $3, $4)",
    )
    .bind::<BigInt, _>(actor_id)
    .bind::<Text, _>(action)
    .bind::<Nullable<BigInt>, _>(target_user_id)
    .bind::<Text, _>(details)
    .execute(conn)
    .await
    .map(drop)
}

#[derive(QueryableByName, Clone, Debug)]
pub struct Entry {
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub target: String,
    #[diesel(sql_type = Text)]
    pub details: String,
}

/// The newest entries, optionally about one user.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    about: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    diesel::sql_query(
        "SELECT a.at, coalesce(ac.first_name || ' ' || ac.last_name, 'system') AS actor, a.action, \
                coalesce(t.email, '') AS target, a.details \
         FROM audit_log a LEFT JOIN users ac ON ac.id = a.actor_id LEFT JOIN users t ON t.id = a.target_user_id \
         WHERE ($1::bigint IS NULL OR a.target_user_id = $1) ORDER BY a.at DESC, a.id DESC LIMIT $2",
    )
    .bind::<Nullable<BigInt>, _>(about)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
