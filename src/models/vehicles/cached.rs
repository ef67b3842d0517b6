//! What the list shows beside its rows, kept per instance for a short while
//! instead of asked for on every view: the planner's estimate of how many
//! vehicles a large view holds (it moves only when statistics do, after an
//! ANALYZE), and the makes offered in the filter (they change when a vehicle
//! of a new make arrives). A list view then costs two statements: the session
//! check and the page itself.
//!
//! Across instances a new make shows within `MAKES_FOR`; in the instance that
//! saved it, at once (`Makes::forget`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use super::listing::{ListFilter, estimate_rows, makes};

/// How long an estimate is reused, and how many views are remembered.
pub const ESTIMATE_FOR: Duration = Duration::from_secs(60);
const ESTIMATES_KEPT: usize = 4_096;
/// How long the list of makes is reused.
pub const MAKES_FOR: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Estimates {
    seen: Mutex<HashMap<ListFilter, (i64, Instant)>>,
}

impl Estimates {
    /// The planner's estimate for `filter`, asked at most once a minute.
    pub async fn get(&self, conn: &mut AsyncPgConnection, filter: &ListFilter) -> QueryResult<i64> {
        if let Some(&(n, at)) = self.lock().get(filter)
            && at.elapsed() < ESTIMATE_FOR
        {
            return Ok(n);
        }
        let n = estimate_rows(conn, filter).await?;
        let mut seen = self.lock();
        if seen.len() >= ESTIMATES_KEPT {
            // Searches are many and each is rarely repeated: start afresh
            // rather than keep an index of ages.
            seen.clear();
        }
        seen.insert(filter.clone(), (n, Instant::now()));
        Ok(n)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ListFilter, (i64, Instant)>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
pub struct Makes {
    cached: Mutex<Option<(Arc<[String]>, Instant)>>,
}

impl Makes {
    /// The distinct makes, read at most every `MAKES_FOR`.
    pub async fn get(&self, conn: &mut AsyncPgConnection) -> QueryResult<Arc<[String]>> {
        if let Some((makes, at)) = self.lock().as_ref()
            && at.elapsed() < MAKES_FOR
        {
            return Ok(Arc::clone(makes));
        }
        let fresh: Arc<[String]> = makes(conn).await?.into();
        *self.lock() = Some((Arc::clone(&fresh), Instant::now()));
        Ok(fresh)
    }

    /// The makes if read recently enough, without asking the database.
    pub fn fresh(&self) -> Option<Arc<[String]>> {
        self.lock()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < MAKES_FOR)
            .map(|(makes, _)| Arc::clone(makes))
    }

    /// A vehicle was saved here: read the makes again on the next view.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Arc<[String]>, Instant)>> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
