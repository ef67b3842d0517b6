//! A read replica (`PCN_READ_DATABASE_URL`): its own pool, and a monitor that
//! keeps, in memory, how far the replica has replayed the primary's WAL and
//! how far behind that is. A read goes to the replica only when it has
//! replayed the reader's own last write (read-your-writes: the session keeps
//! the primary's WAL position after each of its writes) and lags the primary
//! by less than `MAX_LAG`; otherwise, and whenever the replica is away, to the
//! primary. The monitor's figure is never ahead of the replica, so a stale
//! one only sends more reads to the primary.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::RunQueryDsl as _;

use super::Pool;

/// How far behind the primary the replica may be and still serve reads.
pub const MAX_LAG: Duration = Duration::from_secs(5);

/// How often the monitor asks both servers where they are.
const EVERY: Duration = Duration::from_millis(200);

/// With no answer from the replica for this long, it counts as away.
const SILENT: Duration = Duration::from_secs(2);

pub struct Replica {
    pool: Pool,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// The replica's replay position, and when it was read.
    replayed: Option<(u64, Instant)>,
    /// The primary's positions over the last `MAX_LAG` and a little more,
    /// oldest first: how long ago the primary was where the replica is.
    primary: VecDeque<(Instant, u64)>,
}

impl Replica {
    pub fn new(pool: Pool) -> Arc<Self> {
        Arc::new(Self {
            pool,
            seen: Mutex::default(),
        })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Watches both servers on `runtime` until the process ends.
    pub fn monitor(self: &Arc<Self>, primary: Pool, runtime: &tokio::runtime::Handle) {
        let me = Arc::clone(self);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Some(at) = position(&primary, PRIMARY_AT).await {
                    me.primary_at(Instant::now(), at);
                }
                if let Some(at) = position(&me.pool, REPLAYED).await {
                    me.replayed_at(Instant::now(), at);
                }
            }
        });
    }

    fn primary_at(&self, when: Instant, lsn: u64) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.primary.push_back((when, lsn));
        while seen
            .primary
            .front()
            .is_some_and(|(t, _)| when.duration_since(*t) > MAX_LAG + SILENT)
        {
            seen.primary.pop_front();
        }
    }

    fn replayed_at(&self, when: Instant, lsn: u64) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).replayed = Some((lsn, when));
    }

    /// Whether a reader whose last write is at `needed` may read from the
    /// replica now.
    pub fn serves(&self, needed: Option<u64>) -> bool {
        self.serves_at(Instant::now(), needed)
    }

    fn serves_at(&self, now: Instant, needed: Option<u64>) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Some((replayed, when)) = seen.replayed else {
            return false;
        };
        if now.duration_since(when) > SILENT || needed.is_some_and(|n| n > replayed) {
            return false;
        }
        // Behind since the oldest primary position it has not replayed.
        match seen.primary.iter().find(|(_, lsn)| *lsn > replayed) {
            Some((since, _)) => now.duration_since(*since) < MAX_LAG,
            None => true,
        }
    }

    /// Whether the replica has replayed `lsn` (as far as the monitor knows).
    pub fn has_replayed(&self, lsn: u64) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.replayed.is_some_and(|(r, _)| r >= lsn)
    }
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    lsn: Option<String>,
}

/// Where the primary stands: the insert position, not the write position.
/// With asynchronous commit a commit record may be inserted but not yet
/// written, and the write position would then be before it.
const PRIMARY_AT: &str = "SELECT pg_current_wal_insert_lsn()::text AS lsn";

/// How far a standby has replayed.
const REPLAYED: &str = "SELECT pg_last_wal_replay_lsn()::text AS lsn";

/// A WAL position read from a server, if it answers.
async fn position(pool: &Pool, sql: &'static str) -> Option<u64> {
    read(&mut *pool.get().await.ok()?, sql).await
}

async fn read(conn: &mut diesel_async::AsyncPgConnection, sql: &'static str) -> Option<u64> {
    let row: Lsn = diesel::sql_query(sql).get_result(conn).await.ok()?;
    parse_lsn(row.lsn.as_deref()?)
}

/// The primary's WAL position now (after this session's commit): what a
/// session remembers of its last write.
pub async fn current_position(conn: &mut diesel_async::AsyncPgConnection) -> Option<u64> {
    read(conn, PRIMARY_AT).await
}

/// `16/B374D848` as a number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.trim().split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some((high << 32) | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_as_numbers() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert!(parse_lsn("16/B374D848") > parse_lsn("15/FFFFFFFF"));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(parse_lsn("1/2/3"), None);
    }

    fn replica() -> Arc<Replica> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let settings = crate::db::PoolSettings {
            max_size: 1,
            connection_timeout: Duration::from_millis(10),
            statement_timeout: Duration::from_secs(1),
        };
        Replica::new(crate::db::build_pool(
            "postgres://nobody@127.0.0.1:1/none",
            &settings,
            runtime.handle().clone(),
        ))
    }

    #[test]
    fn reads_go_to_the_replica_only_when_it_is_recent_enough() {
        let r = replica();
        let t0 = Instant::now();
        // Never heard from: the primary.
        assert!(!r.serves_at(t0, None));
        r.primary_at(t0, 100);
        r.replayed_at(t0, 100);
        assert!(r.serves_at(t0, None));
        assert!(r.serves_at(t0, Some(100)), "has its writer's last write");
        assert!(
            !r.serves_at(t0, Some(101)),
            "not yet its writer's last write"
        );
        // The primary moves on; the replica stays behind.
        r.primary_at(t0 + Duration::from_secs(1), 200);
        r.replayed_at(t0 + Duration::from_secs(1), 100);
        assert!(r.serves_at(t0 + Duration::from_secs(1), None), "1 s behind");
        r.replayed_at(t0 + Duration::from_secs(6), 100);
        r.primary_at(t0 + Duration::from_secs(6), 200);
        assert!(
            !r.serves_at(t0 + Duration::from_secs(6), None),
            "5 s behind"
        );
        // It catches up.
        r.replayed_at(t0 + Duration::from_secs(7), 200);
        assert!(r.serves_at(t0 + Duration::from_secs(7), Some(150)));
        // Then goes silent.
        assert!(!r.serves_at(t0 + Duration::from_secs(10), None));
    }
}
