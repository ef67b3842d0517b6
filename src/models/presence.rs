//! Who has a vehicle open for editing, across every instance: a row per
//! session, refreshed by the edit page's heartbeat and counted as present
//! while seen within `FRESH`. Arrivals and departures are announced to every
//! instance by the table's trigger (see the `live` migration).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, IntoSql as _, QueryDsl as _, QueryResult,
    Queryable, dsl::now, pg::data_types::PgInterval, sql_types::Timestamptz,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::schema::{sessions, users, vehicle_presence};

/// How long a heartbeat keeps someone present (the page beats every 20 s).
pub const FRESH: Duration = Duration::from_secs(60);

fn fresh_since() -> diesel::helper_types::Sub<diesel::dsl::AsExprOf<now, Timestamptz>, PgInterval> {
    now.into_sql::<Timestamptz>() - PgInterval::from_microseconds(FRESH.as_micros() as i64)
}

/// Someone with the vehicle open for editing.
#[derive(Clone, Debug, Queryable)]
pub struct Present {
    pub session_id: i64,
    pub user_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub since: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

/// `session_id` has vehicle `vehicle_id` open for editing now.
pub async fn beat(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    session_id: i64,
    user_id: i64,
) -> QueryResult<()> {
    // Whoever went quiet has left (and the pages showing it hear so); a
    // session coming back after that arrives afresh.
    diesel::delete(
        vehicle_presence::table
            .filter(vehicle_presence::vehicle_id.eq(vehicle_id))
            .filter(vehicle_presence::seen_at.lt(fresh_since())),
    )
    .execute(conn)
    .await?;
    diesel::insert_into(vehicle_presence::table)
        .values((
            vehicle_presence::vehicle_id.eq(vehicle_id),
            vehicle_presence::session_id.eq(session_id),
            vehicle_presence::user_id.eq(user_id),
        ))
        .on_conflict((vehicle_presence::vehicle_id, vehicle_presence::session_id))
        .do_update()
        .set(vehicle_presence::seen_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// `session_id` closed vehicle `vehicle_id` (saved, or left the page).
pub async fn leave(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    session_id: i64,
) -> QueryResult<()> {
    diesel::delete(
        vehicle_presence::table
            .filter(vehicle_presence::vehicle_id.eq(vehicle_id))
            .filter(vehicle_presence::session_id.eq(session_id)),
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes rows nobody has refreshed for an hour (they stopped counting
/// after `FRESH`; this only keeps the table small).
pub async fn forget_stale(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let hour_ago = now.into_sql::<Timestamptz>() - PgInterval::from_microseconds(3_600_000_000);
    diesel::delete(vehicle_presence::table.filter(vehicle_presence::seen_at.lt(hour_ago)))
        .execute(conn)
        .await
}

/// Who has vehicle `vehicle_id` open for editing now, first to arrive
/// first, but for session `except` (the one asking). A session that ended
/// is not there, whatever its last heartbeat.
pub async fn others(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    except: i64,
) -> QueryResult<Vec<Present>> {
    vehicle_presence::table
        .inner_join(users::table)
        .inner_join(sessions::table)
        .filter(vehicle_presence::vehicle_id.eq(vehicle_id))
        .filter(vehicle_presence::seen_at.ge(fresh_since()))
        .filter(
            vehicle_presence::session_id
                .ne(except)
                .and(sessions::revoked_at.is_null())
                .and(users::active),
        )
        .order((vehicle_presence::since, vehicle_presence::session_id))
        .select((
            vehicle_presence::session_id,
            vehicle_presence::user_id,
            users::first_name,
            users::last_name,
            vehicle_presence::since,
            vehicle_presence::seen_at,
        ))
        .load(conn)
        .await
}
