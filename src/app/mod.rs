//! What every handler can reach: configuration, the pool, the password
//! hasher, the photo converter, the request limiter, the dealership's
//! settings and its clock. Built once per process by
//! `startup::Application::build` and shared by all workers; this module
//! imports no routes, so routes, auth and web can all depend on it.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use diesel_async::pooled_connection::PoolError;

mod blocking;
pub mod passwords;
mod photos;
mod rate_limiter;

pub use passwords::Passwords;
pub use photos::Photos;
pub use rate_limiter::RateLimiter;

use crate::{
    config::Config,
    db::{Acting, Pool, PoolRunError, Pooled, replica::Replica},
    domain::settings::Settings,
    live::Hub,
    models::vehicles,
};

pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub passwords: Passwords,
    /// Uploaded photos being checked and converted.
    pub photos: Photos,
    pub rate_limiter: RateLimiter,
    /// The list's planner estimates and makes, kept per instance a while.
    pub estimates: vehicles::Estimates,
    pub makes: vehicles::Makes,
    /// Changes as they happen, for the event streams (`live`).
    pub live: Arc<Hub>,
    /// The read replica, when there is one (`reader`).
    pub replica: Option<Arc<Replica>>,
}

impl AppState {
    pub fn new(config: Config, pool: Pool) -> anyhow::Result<Self> {
        Ok(Self {
            passwords: Passwords::new(config.hash_concurrency)?,
            photos: Photos::new(config.photo_concurrency),
            rate_limiter: RateLimiter::new(config.rate_limit),
            estimates: vehicles::Estimates::default(),
            makes: vehicles::Makes::default(),
            live: Arc::new(Hub::default()),
            replica: None,
            config: Arc::new(config),
            pool,
        })
    }

    /// A connection of the primary's, acting for `who` (see `db::acting`).
    pub async fn db(&self, who: Acting) -> Result<Pooled, PoolRunError> {
        let mut conn = self.pool.get_owned().await?;
        act(&mut conn, who).await?;
        Ok(conn)
    }

    /// A connection for a read-only page, acting for `who`: the replica's
    /// when it has this person's last write (`last_write`, a WAL position)
    /// and is not too far behind, else (or when it is away) the primary's.
    pub async fn reader(
        &self,
        who: Acting,
        last_write: Option<u64>,
    ) -> Result<Pooled, PoolRunError> {
        if let Some(replica) = &self.replica
            && replica.serves(last_write)
            && let Ok(mut conn) = replica.pool().get_owned().await
            && act(&mut conn, who).await.is_ok()
        {
            return Ok(conn);
        }
        self.db(who).await
    }

    /// The dealership's settings (a copy in memory: no query).
    pub fn settings(&self) -> Arc<Settings> {
        self.live.settings.get()
    }

    /// The dealership's time zone: the settings', else `PCN_TIMEZONE`.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.settings().zone(self.config.timezone)
    }

    /// Today in the dealership's time zone (days in stock, date limits).
    pub fn today(&self) -> NaiveDate {
        today_in(self.zone())
    }
}

async fn act(conn: &mut Pooled, who: Acting) -> Result<(), PoolRunError> {
    conn.act_as(who)
        .await
        .map_err(|e| PoolRunError::User(PoolError::QueryError(e)))
}

/// Today in `zone`: the one place a calendar date is read off the clock.
pub fn today_in(zone: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&zone).date_naive()
}
