//! What every handler can reach: configuration, the pool, the password
//! hasher, the request limiter and the dealership's clock. Built once per
//! process by `startup::Application::build` and shared by all workers; this
//! module imports no routes, so routes, auth and web can all depend on it.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};

pub mod passwords;
mod rate_limiter;

pub use passwords::Passwords;
pub use rate_limiter::RateLimiter;

use crate::{config::Config, db::Pool, live::Hub, models::vehicles};

pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub passwords: Passwords,
    pub rate_limiter: RateLimiter,
    /// The list's planner estimates and makes, kept per instance a while.
    pub estimates: vehicles::Estimates,
    pub makes: vehicles::Makes,
    /// Changes as they happen, for the event streams (`live`).
    pub live: Arc<Hub>,
}

impl AppState {
    pub fn new(config: Config, pool: Pool) -> anyhow::Result<Self> {
        Ok(Self {
            passwords: Passwords::new(config.hash_concurrency)?,
            rate_limiter: RateLimiter::new(config.rate_limit),
            estimates: vehicles::Estimates::default(),
            makes: vehicles::Makes::default(),
            live: Arc::new(Hub::default()),
            config: Arc::new(config),
            pool,
        })
    }

    /// Today in the dealership's time zone (days in stock, date limits).
    pub fn today(&self) -> NaiveDate {
        today_in(self.config.timezone)
    }
}

/// Today in `zone`: the one place a calendar date is read off the clock.
pub fn today_in(zone: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&zone).date_naive()
}
