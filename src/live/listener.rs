//! The instance's one listening connection: `LISTEN pcn_changes`, each
//! notification parsed and published to the hub. When the connection is lost
//! (database restarted, backend killed, network gone quiet) it connects again
//! with a growing pause, and reads back from the history every change made
//! while it was away, so no open page misses one. It reads the dealership's
//! settings on every connect and whenever a save announces itself.

use std::{
    collections::{HashSet, VecDeque},
    sync::Arc,
    time::Duration,
};

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection as _};

use super::{Change, Hub, Message, settings};
use crate::{
    db,
    models::{
        attempts,
        changes::{self, After},
        kept_forms, presence,
    },
};

/// With nothing heard for this long, the connection is asked a question, so
/// that a server gone silent is noticed (the socket's watchdog fails it).
const QUIET: Duration = Duration::from_secs(30);

/// How often an instance clears presence rows left long ago (`presence`),
/// sign-in attempts past keeping (`attempts::forget_old`), kept forms
/// expired or used (`kept_forms::forget_old`) and CSV imports past their
/// hour (`imports::forget_old`).
const TIDY: Duration = Duration::from_secs(600);

/// How many missed changes a reconnect reads back at most; beyond that,
/// pages are told to reload.
const REPLAY: i64 = 10_000;

pub(super) async fn run(hub: Arc<Hub>, url: String, statement_timeout: Duration) {
    let mut state = Heard::default();
    let mut pause = Duration::from_millis(100);
    loop {
        let outcome = tokio::select! {
            outcome = listen(&hub, &url, statement_timeout, &mut state) => outcome,
            () = hub.stopping() => return,
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "change listener lost its connection; connecting again");
        }
        if state.heard_since_connect {
            pause = Duration::from_millis(100);
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = hub.stopping() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// What the listener has passed on: the newest event id, and the recent ids
/// (a replay overlaps what was heard, see `models::changes`).
#[derive(Default)]
struct Heard {
    newest: Option<i64>,
    recent: HashSet<i64>,
    order: VecDeque<i64>,
    heard_since_connect: bool,
}

impl Heard {
    /// Whether `id` is new (and remembers it).
    fn first_time(&mut self, id: i64) -> bool {
        if !self.recent.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > 4 * REPLAY as usize
            && let Some(old) = self.order.pop_front()
        {
            self.recent.remove(&old);
        }
        self.newest = Some(self.newest.map_or(id, |n| n.max(id)));
        true
    }

    fn pass_on(&mut self, hub: &Hub, message: Message) {
        if let Message::Change(c) = &message
            && !self.first_time(c.id)
        {
            return;
        }
        hub.publish(message);
    }
}

async fn listen(
    hub: &Hub,
    url: &str,
    statement_timeout: Duration,
    heard: &mut Heard,
) -> anyhow::Result<()> {
    heard.heard_since_connect = false;
    let (to, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let settings_saved = to.clone();
    let mut conn = db::connect_listening(url, "pcn-listener", statement_timeout, to).await?;
    db::acting::act_once(&mut conn, db::Acting::SYSTEM).await?;
    conn.batch_execute("LISTEN pcn_changes").await?;
    // Saves made while nobody listened are in the table: read it as if one
    // had been announced now, after the notifications already queued (the
    // change feed is not held up for it). Only the connection may keep a
    // sender, or its end would go unnoticed (`Ok(None)` below).
    let _ = settings_saved.send(settings::ANNOUNCED.to_string());
    drop(settings_saved);
    // Listening from here on; what came before is read from the history.
    match heard.newest {
        None => heard.newest = Some(changes::newest(&mut conn).await?.unwrap_or(0)),
        Some(after) => catch_up(&mut conn, hub, heard, after).await?,
    }
    heard.heard_since_connect = true;
    tracing::debug!("change listener is listening");
    let mut tidied = tokio::time::Instant::now();
    loop {
        if tidied.elapsed() >= TIDY {
            tidied = tokio::time::Instant::now();
            presence::forget_stale(&mut conn).await?;
            // Not worth the listening connection: a failure here (a
            // statement timeout, say) is left for the next round.
            if let Err(e) = attempts::forget_old(&mut conn).await {
                tracing::warn!(error = %e, "could not delete old sign-in attempts");
            }
            if let Err(e) = kept_forms::forget_old(&mut conn).await {
                tracing::warn!(error = %e, "could not delete old kept forms");
            }
            if let Err(e) = crate::models::imports::forget_old(&mut conn).await {
                tracing::warn!(error = %e, "could not delete old CSV imports");
            }
        }
        match tokio::time::timeout(QUIET, notifications.recv()).await {
            Ok(Some(payload)) if settings::announced(&payload) => {
                settings::read(&mut conn, &hub.settings).await?;
            }
            Ok(Some(payload)) => match Message::parse(&payload) {
                Some(message) => heard.pass_on(hub, message),
                None => tracing::warn!(%payload, "unknown change notification"),
            },
            Ok(None) => anyhow::bail!("the listening connection closed"),
            Err(_quiet) => conn.batch_execute("SELECT 1").await?,
        }
    }
}

/// Publishes what changed since event `after` while nobody listened.
async fn catch_up(
    conn: &mut AsyncPgConnection,
    hub: &Hub,
    heard: &mut Heard,
    after: i64,
) -> anyhow::Result<()> {
    let (events, complete) = changes::after(conn, After::Event(after), None, REPLAY).await?;
    if !complete {
        hub.publish(Message::Many);
    }
    let mut replayed = 0;
    for e in events {
        if let Some(change) = Change::parse(&e.json)
            && heard.first_time(change.id)
        {
            hub.publish(Message::Change(Arc::new(change)));
            replayed += 1;
        }
    }
    if replayed > 0 {
        tracing::info!(
            replayed,
            "change listener caught up with changes made while it was away"
        );
    }
    Ok(())
}
