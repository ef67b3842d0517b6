//! CPU-heavy work (password hashes, photos) off the request threads, a few
//! at a time: each kind gets its own `Bounded`, so a sign-in storm and a
//! batch of photo uploads cannot starve each other, nor page views.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Bounded {
    permits: Arc<Semaphore>,
}

impl Bounded {
    /// At most `concurrency` (at least one) pieces of work at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Runs `work` on the blocking pool once a place is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        // The permit travels with the work: a request that gives up early
        // does not free a place while its work still runs.
        let permit = self.permits.clone().acquire_owned().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(Into::into)
    }
}
