//! Live pages: every app instance hears every change (PostgreSQL `NOTIFY`,
//! sent by the transaction that makes it, see the `live` migration) on one
//! connection of its own (`listener`), and hands it to every open event
//! stream of its browsers through one bounded broadcast channel (`Hub`).
//! Nothing here is the truth: the database is, and whatever was missed is
//! read back from it (`models::changes`).

mod event;
mod listener;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::sync::{broadcast, watch};

pub use event::{Change, Message, frame};

/// How many messages a stream may fall behind before it is told to reload:
/// the channel keeps that many (shared by all streams, not per stream), so
/// a burst of a few thousand changes in one transaction reaches every
/// stream that keeps reading.
const BACKLOG: usize = 4096;

/// One per instance: the listener publishes here, event streams subscribe.
pub struct Hub {
    tx: broadcast::Sender<Message>,
    shutdown: watch::Sender<bool>,
    listening: AtomicBool,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::Sender::new(BACKLOG),
            shutdown: watch::Sender::new(false),
            listening: AtomicBool::new(false),
        }
    }
}

impl Hub {
    /// Starts listening for changes on `runtime` (the database runtime),
    /// until `shut_down`.
    pub fn listen(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        url: String,
        statement_timeout: Duration,
    ) {
        runtime.spawn(listener::run(Arc::clone(self), url, statement_timeout));
    }

    /// Every message from now on; one that falls `BACKLOG` behind is told
    /// so (`RecvError::Lagged`) instead of holding the others up.
    pub fn subscribe(&self) -> broadcast::Receiver<Message> {
        self.tx.subscribe()
    }

    pub(crate) fn publish(&self, message: Message) {
        // No receiver is no error: nobody has a page open.
        let _ = self.tx.send(message);
    }

    /// The server is stopping: streams end and the listener lets go, so
    /// they never hold the shutdown up.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once `shut_down` was called.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
        }
    }

    /// Whether the listener is connected and listening now.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
    }

    /// How many event streams are open on this instance.
    pub fn streams(&self) -> usize {
        self.tx.receiver_count()
    }
}
