//! Server-side sessions: the signed cookie names one of these rows.
//! Expiry is judged by the database clock, so every instance agrees.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods as _, BoxableExpression, ExpressionMethods as _, IntoSql as _,
    OptionalExtension as _, QueryDsl as _, QueryResult,
    data_types::PgInterval,
    dsl::now,
    pg::Pg,
    prelude::{Queryable, QueryableByName},
    sql_types::{Bool, Bytea, Int8, Interval, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::Sql;
use crate::{
    domain::{Role, text},
    schema::{sessions, users},
};

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
    pub role: Role,
}

/// Sessions joined with their users: where the `live` rule is judged.
type WithUser = diesel::helper_types::InnerJoinQuerySource<sessions::table, users::table>;

/// The one rule for "a live session", used by sign-in checks, the account
/// page and the activity page alike: not revoked, seen within the idle
/// timeout, begun within the absolute lifetime, and its user still active.
/// Judged by the database clock, so every instance agrees.
fn live(
    idle: Duration,
    lifetime: Duration,
) -> Box<dyn BoxableExpression<WithUser, Pg, SqlType = Bool>> {
    Box::new(open().and(fresh(idle)).and(young(lifetime)))
}

/// Not ended by anyone: not revoked, and its user still active.
fn open() -> Box<dyn BoxableExpression<WithUser, Pg, SqlType = Bool>> {
    Box::new(sessions::revoked_at.is_null().and(users::active))
}

/// Seen within the idle timeout. Columns compared bare, so
/// `sessions_last_seen_open_idx` serves the activity page's list.
fn fresh(idle: Duration) -> Box<dyn BoxableExpression<WithUser, Pg, SqlType = Bool>> {
    Box::new(sessions::last_seen_at.gt(db_now() - interval(idle)))
}

/// Begun within the absolute lifetime.
fn young(lifetime: Duration) -> Box<dyn BoxableExpression<WithUser, Pg, SqlType = Bool>> {
    Box::new(sessions::created_at.gt(db_now() - interval(lifetime)))
}

/// Why a session that is not live ended, as its person is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Nobody used it for the idle timeout.
    Idle,
    /// It reached the absolute lifetime.
    TooOld,
    /// Someone ended it: signed out, a password change elsewhere, an admin,
    /// a deactivation.
    Closed,
}

/// How the session behind `token_hash` ended, by the rule of `live`; `None`
/// when it is live or unknown.
pub async fn why_ended(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    idle: Duration,
    lifetime: Duration,
) -> QueryResult<Option<Ended>> {
    let found: Option<(bool, bool, bool)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .select((open(), fresh(idle), young(lifetime)))
        .first(conn)
        .await
        .optional()?;
    Ok(
        found.and_then(|(open, fresh, young)| match (open, young, fresh) {
            (false, _, _) => Some(Ended::Closed),
            (true, false, _) => Some(Ended::TooOld),
            (true, true, false) => Some(Ended::Idle),
            (true, true, true) => None,
        }),
    )
}

/// The database clock as a `timestamptz` (diesel's `now` is a `timestamp`).
fn db_now() -> diesel::dsl::AsExprOf<now, Timestamptz> {
    now.into_sql::<Timestamptz>()
}

fn interval(d: Duration) -> PgInterval {
    PgInterval::from_microseconds(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
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
            sessions::user_agent.eq(user_agent.map(|ua| text::cleaned(ua, 400))),
        ))
        .returning(sessions::id)
        .get_result(conn)
        .await
}

/// The session behind `token_hash`, if it is live. When it is, the same
/// statement switches `conn` to act for its user (the database role of
/// their PCN role, and their id for row-level security): a request acts as
/// its user at no extra round trip (`db::acting`). The `live` rule above,
/// in SQL: the switch must be part of this very statement, which diesel's
/// query builder does not write.
pub async fn find_live(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    idle: Duration,
    lifetime: Duration,
) -> QueryResult<Option<LiveSession>> {
    Sql::new(
        "SELECT s.id AS session_id, s.last_seen_at + interval '1 minute' < now() AS seen_long_ago, \
                u.id AS user_id, u.email, u.first_name, u.last_name, u.role, \
                set_config('role', 'pcn_' || u.role, false) AS acting_role, \
                set_config('pcn.user_id', u.id::text, false) AS acting_user \
           FROM sessions s JOIN users u ON u.id = s.user_id \
          WHERE s.revoked_at IS NULL AND u.active AND s.token_hash = ",
    )
    .bind::<Bytea, _>(token_hash.to_vec())
    .sql(" AND s.last_seen_at > now() - ")
    .bind::<Interval, _>(interval(idle))
    .sql(" AND s.created_at > now() - ")
    .bind::<Interval, _>(interval(lifetime))
    .get_result::<LiveSession>(conn)
    .await
    .optional()
}

/// The role of the person behind session `id`, if the session is still live
/// (see `live`); does not count as activity. For long-lived requests (the
/// event stream) that check now and then that their session has not ended.
pub async fn live_role(
    conn: &mut AsyncPgConnection,
    id: i64,
    idle: Duration,
    lifetime: Duration,
) -> QueryResult<Option<Role>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(live(idle, lifetime))
        .select(users::role)
        .first(conn)
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

/// How many live sessions a user has (shown on the account page).
pub async fn count_live_for_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    idle: Duration,
    lifetime: Duration,
) -> QueryResult<i64> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(live(idle, lifetime))
        .count()
        .get_result(conn)
        .await
}

/// A live session as the activity page lists it.
#[derive(Queryable, Clone, Debug)]
pub struct OpenSession {
    pub user_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Every live session, most recently seen first (at most `limit`).
pub async fn list_live(
    conn: &mut AsyncPgConnection,
    idle: Duration,
    lifetime: Duration,
    limit: i64,
) -> QueryResult<Vec<OpenSession>> {
    sessions::table
        .inner_join(users::table)
        .filter(live(idle, lifetime))
        .order((sessions::last_seen_at.desc(), sessions::id.desc()))
        .limit(limit)
        .select((
            users::id,
            users::first_name,
            users::last_name,
            users::email,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::ip,
            sessions::user_agent,
        ))
        .load(conn)
        .await
}
