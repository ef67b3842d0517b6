//! A general request limit per client, in this instance's memory (SPEC §5.4);
//! `web::rate_limit` applies it per session or address.

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use governor::{Quota, clock::Clock as _};

pub struct RateLimiter {
    limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    seen: AtomicU64,
}

impl RateLimiter {
    /// `per_second` requests a second with bursts of five times that; 0 is off.
    pub fn new(per_second: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
            governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            seen: AtomicU64::new(0),
        }
    }

    /// `Err(seconds)` to wait when `key` is over its limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        // Forget idle clients now and then so memory stays bounded.
        if self.seen.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let clock = governor::clock::DefaultClock::default();
            not_until.wait_time_from(clock.now()).as_secs() + 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses_with_a_wait() {
        let limiter = RateLimiter::new(2);
        for _ in 0..10 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait >= 1);
        // Another client is not affected.
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn zero_turns_it_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..10_000 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
