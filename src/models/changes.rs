//! The change feed, read back: every vehicle and sale change is a vehicle
//! history row, announced on commit by the `vehicle_history_notify` trigger
//! with `pcn_change_event(row)` as its payload. Whoever missed some of those
//! announcements (a browser that reconnects, an instance whose listening
//! connection was cut) reads the same events here.
//!
//! Event ids are history row ids, which transactions take before they commit:
//! one that commits late can carry a smaller id than an event already seen.
//! So a replay starts a little before the point asked for (10 seconds of
//! change time: far longer than any of PCN's transactions) and may repeat an
//! event; events name a vehicle version, and whoever receives one twice can
//! tell.

use chrono::{DateTime, Utc};
use diesel::{
    QueryResult, QueryableByName,
    sql_types::{BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::Sql;

/// One event as `pcn_change_event` writes it (JSON text), with its id.
#[derive(Clone, Debug, QueryableByName)]
pub struct StoredEvent {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub json: String,
}

/// Where a replay starts.
#[derive(Clone, Copy, Debug)]
pub enum After {
    /// After this event (a browser's `Last-Event-ID`, a listener's last).
    Event(i64),
    /// After this moment (the time a page was drawn).
    Time(DateTime<Utc>),
}

/// The events after `after`, oldest first, among the newest `window`
/// changes (of vehicle `vehicle` only, when given), and whether that is all
/// of them: when every one of the newest `window` changes is wanted, more
/// may be missing, and the reader should start afresh (reload) instead.
pub async fn after(
    conn: &mut AsyncPgConnection,
    after: After,
    vehicle: Option<i64>,
    window: i64,
) -> QueryResult<(Vec<StoredEvent>, bool)> {
    let (id, time) = match after {
        After::Event(id) => (Some(id), None),
        After::Time(t) => (None, Some(t)),
    };
    // A backward walk of the primary key over the newest `window` rows (or
    // of one vehicle's (vehicle_id, version) index), so the cost does not
    // grow with the history.
    let newest = match vehicle {
        Some(v) => Sql::new("WITH newest AS (SELECT * FROM vehicle_history WHERE vehicle_id = ")
            .bind::<BigInt, _>(v)
            .sql(" ORDER BY version DESC LIMIT "),
        None => Sql::new("WITH newest AS (SELECT * FROM vehicle_history ORDER BY id DESC LIMIT "),
    };
    let rows: Vec<StoredEvent> = newest
        .bind::<BigInt, _>(window)
        .sql("), since AS (SELECT coalesce(")
        .bind::<Nullable<Timestamptz>, _>(time)
        .sql(", (SELECT changed_at FROM vehicle_history WHERE id = ")
        .bind::<Nullable<BigInt>, _>(id)
        .sql(
            "), 'infinity') - make_interval(secs => 10) AS at) \
             SELECT h.id, pcn_change_event(h)::text AS json FROM newest h, since \
             WHERE h.id > ",
        )
        .bind::<BigInt, _>(id.unwrap_or(i64::MAX))
        .sql(" OR h.changed_at >= since.at ORDER BY h.id")
        .load(conn)
        .await?;
    let complete = (rows.len() as i64) < window;
    Ok((rows, complete))
}

/// The newest event id, if any change was ever made.
pub async fn newest(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    use crate::schema::vehicle_history;
    use diesel::{QueryDsl as _, dsl::max};
    vehicle_history::table
        .select(max(vehicle_history::id))
        .get_result(conn)
        .await
}
