//! Uploaded photos processed off the request threads, a few at a time
//! (`domain::photo::process`). One holds up to 192 MiB of decoded pixels
//! while it runs, so the number of places bounds the memory as well.

use crate::domain::photo::{self, Problem, Processed};

use super::blocking::Bounded;

#[derive(Clone)]
pub struct Photos {
    work: Bounded,
}

impl Photos {
    pub fn new(concurrency: usize) -> Self {
        Self {
            work: Bounded::new(concurrency),
        }
    }

    /// Checks and converts one uploaded file.
    pub async fn process(&self, upload: Vec<u8>) -> anyhow::Result<Result<Processed, Problem>> {
        self.work.run(move || photo::process(&upload)).await
    }
}
