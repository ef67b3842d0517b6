//! Server-side sessions: the signed cookie names one of these rows.
//! Expiry is judged by the database clock, so every instance agrees.

use std::time::Duration;

use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult, QueryableByName,
    sql_types::{Bool, Bytea, Double, Int8, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::schema::sessions;

/// A live session and the user it belongs to.
#[derive(QueryableByName, Clone, Debug)]
pub struct LiveSession {
    #[diesel(sql_type = Int8)]
    pub session_id: i64,
    #[diesel(sql_type = Bool)]
    pub seen_long_ago: bool,
    #[diesel(sql_type = Int8)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub first_name: String,
    #[diesel(sql_type = Text)]
    pub last_name: String,
    #[diesel(sql_type = Text)]
    pub role: String,
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: i64,
    ip: &str,
    user_agent: Option<&str>,
) -> QueryResult<i64> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::ip.eq(ip),
            sessions::user_agent.eq(user_agent.map(|ua| truncate(ua, 400))),
        ))
        .returning(sessions::id)
        .get_result(conn)
        .await
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The session behind `token_hash`, if it is open, within its idle and
/// absolute limits, and its user is active.
pub async fn find_live(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    idle: Duration,
    lifetime: Duration,
) -> QueryResult<Option<LiveSession>> {
    diesel::sql_query(
        "SELECT s.id AS session_id, s.last_seen_at < now() - interval '1 minute' AS seen_long_ago, \
                u.id AS user_id, u.email, u.first_name, u.last_name, u.role \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND u.active \
           AND s.created_at > now() - make_interval(secs => $2) \
           AND s.last_seen_at > now() - make_interval(secs => $3)",
    )
    .bind::<Bytea, _>(token_hash)
    .bind::<Double, _>(lifetime.as_secs_f64())
    .bind::<Double, _>(idle.as_secs_f64())
    .get_result(conn)
    .await
    .optional()
}

/// Written at most once a minute per session (see `seen_long_ago`).
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn revoke(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map(drop)
}

/// Ends the session behind a cookie token (signing in again replaces it).
pub async fn revoke_by_token(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map(drop)
}

/// Ends every open session of `user_id` but `keep`; returns how many ended.
pub async fn revoke_all_for_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    keep: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep.unwrap_or(-1))),
    )
    .set(sessions::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// How many open, unexpired sessions a user has (shown on the account page).
pub async fn count_open_for_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    idle: Duration,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL \
         AND last_seen_at > now() - make_interval(secs => $2)",
    )
    .bind::<Int8, _>(user_id)
    .bind::<Double, _>(idle.as_secs_f64())
    .get_result::<N>(conn)
    .await
    .map(|r| r.n)
}
