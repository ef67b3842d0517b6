//! Live pages: every app instance hears every change (PostgreSQL `NOTIFY`,
//! sent by the transaction that makes it, see the `live` migration) on one
//! connection of its own (`listener`), and hands it to every open event
//! stream of its browsers through one bounded broadcast channel (`Hub`).
//! Nothing here is the truth: the database is, and whatever was missed is
//! read back from it (`models::changes`). The same listener keeps this
//! instance's copy of the dealership's settings current (`settings`).

mod event;
mod listener;
pub mod settings;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::sync::{broadcast, watch};

pub use event::{Change, Message, frame};

/// How many messages a stream may fall behind before it is told to reload:
/// the channel keeps that many (shared by all streams, not per stream), so
/// a burst of a few thousand changes in one transaction reaches every
/// stream that keeps reading.
const BACKLOG: usize = 4096;

/// How many event streams one session may hold open on one instance: a
/// tab each (hidden tabs close theirs), and a bound for a client that opens
/// them without end.
pub const STREAMS_PER_SESSION: u32 = 16;

/// One per instance: the listener publishes here, event streams subscribe.
pub struct Hub {
    tx: broadcast::Sender<Message>,
    shutdown: watch::Sender<bool>,
    /// Open streams per session.
    open: Mutex<HashMap<i64, u32>>,
    /// The dealership's settings, as this instance shows them.
    pub settings: settings::Current,
}

/// A place for one event stream of a session, given back when dropped.
pub struct Admission {
    hub: Arc<Hub>,
    session_id: i64,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.session_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.session_id);
            }
        }
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::Sender::new(BACKLOG),
            shutdown: watch::Sender::new(false),
            open: Mutex::default(),
            settings: settings::Current::default(),
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

    /// A place for another stream of `session_id`, unless it holds
    /// `STREAMS_PER_SESSION` already.
    pub fn admit(self: &Arc<Self>, session_id: i64) -> Option<Admission> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(session_id).or_insert(0);
        if *n >= STREAMS_PER_SESSION {
            return None;
        }
        *n += 1;
        Some(Admission {
            hub: Arc::clone(self),
            session_id,
        })
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
}
