//! `GET /events`: Server-Sent Events of inventory and sales changes as they
//! happen (`live::Hub`), for the pages' small script to follow along.
//!
//! A stream starts with whatever the browser missed: after its
//! `Last-Event-ID` when it reconnects, or after the moment its page was drawn
//! (`?since=`), read back from the history. It sends a comment every
//! `KEEP_ALIVE` so proxies keep it open and a vanished browser is noticed,
//! and it ends when its session does (signed out, revoked, expired, its
//! person deactivated or given another role), when it falls too far behind
//! (told to reload), and when the server stops.

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, ContentEncoding},
    web,
};
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{
    app::AppState,
    auth::Viewer,
    db::Acting,
    domain::{Role, date},
    live::{Change, Message, frame},
    models::{
        changes::{self, After},
        sessions,
    },
    web::AppError,
};

/// How often a quiet stream says it is still there. Also how a closed page
/// is noticed: the server learns that a browser went away only when a write
/// to it fails, so until then its stream keeps its place
/// (`live::STREAMS_PER_SESSION`).
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// How often a stream takes what arrived and writes it, in one write.
/// Streams tick out of step with each other, so a change reaching a
/// thousand open pages is written to them over this span, not in one burst
/// that holds up the pages being served meanwhile (measured with the load
/// benchmark: with 1,000 open streams, page p99 rose 230 % when each change
/// was written at once to every stream).
const FLUSH: Duration = Duration::from_millis(250);

/// How often a stream checks that its session is still live (sign-outs and
/// role changes are also announced at once; this catches expiry).
const RECHECK: Duration = Duration::from_secs(60);

/// How many missed changes a stream reads back at most before it tells the
/// page to reload instead.
const REPLAY: i64 = 500;

#[derive(Deserialize)]
pub struct EventsQuery {
    /// When the page was drawn (RFC 3339): send what changed since.
    since: Option<String>,
    /// The vehicle the page is about (its page, its edit form, its sale):
    /// only that vehicle's events, and who is editing it. Without it (the
    /// inventory list), every change and nobody's presence.
    vehicle: Option<i64>,
}

pub async fn events(
    user: Viewer,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(admission) = state.live.admit(user.session_id) else {
        return Err(AppError::TooManyRequests {
            retry_after_secs: 30,
        });
    };
    // Subscribe first: whatever commits from here on arrives through the
    // channel, and the read-back below covers what came before.
    let rx = state.live.subscribe();
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|id| *id >= 0);
    let since = query.since.as_deref().and_then(date::parse_instant);
    let after = match (last_event_id, since) {
        (Some(id), _) => Some(After::Event(id)),
        (None, Some(t)) => Some(After::Time(t)),
        (None, None) => None,
    };
    // The browser waits this long before reconnecting after the stream
    // drops: 3 to 10 s, not the same for all, so the pages of a stopped
    // instance do not all come back to the others at one moment.
    let retry = rand::random_range(3000..10_000);
    let mut pending = VecDeque::from([Bytes::from(format!("retry: {retry}\n\n"))]);
    let mut replayed = Vec::new();
    if let Some(after) = after {
        let mut conn = user.db(&state).await?;
        let (missed, complete) = changes::after(&mut conn, after, query.vehicle, REPLAY).await?;
        drop(conn);
        if complete {
            for e in missed {
                if let Some(change) = Change::parse(&e.json) {
                    replayed.push(change.id);
                    pending.push_back(change.frame.clone());
                }
            }
        } else {
            pending.push_back(notice("reload", "much changed"));
        }
    }
    let stream = Stream {
        pending,
        replayed,
        rx,
        state: state.clone(),
        session_id: user.session_id,
        acting: user.acting(),
        user_id: user.id,
        role: user.role,
        vehicle: query.vehicle,
        flush: {
            let phase = Duration::from_millis(rand::random_range(0..FLUSH.as_millis() as u64));
            let mut flush = tokio::time::interval_at(tokio::time::Instant::now() + phase, FLUSH);
            flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            flush
        },
        quiet: Duration::ZERO,
        recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
        stopping: Box::pin(state.live.stopping()),
        done: false,
        _admission: admission,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Sent as written: no compression that would hold events back, and
        // no buffering in a proxy in front (nginx reads this header).
        .insert_header(ContentEncoding::Identity)
        .insert_header(("X-Accel-Buffering", "no"))
        // The connection is the stream's: closed with it, so a stopping
        // server is not kept waiting on an idle keep-alive connection.
        .force_close()
        .streaming(futures_util::stream::unfold(stream, Stream::next)))
}

struct Stream {
    pending: VecDeque<Bytes>,
    /// Ids sent from the read-back, which the channel may bring again.
    replayed: Vec<i64>,
    rx: Receiver<Message>,
    state: web::Data<AppState>,
    session_id: i64,
    /// Whom the session checks act as in the database.
    acting: Acting,
    user_id: i64,
    role: Role,
    /// Only this vehicle's events (see `EventsQuery::vehicle`).
    vehicle: Option<i64>,
    flush: tokio::time::Interval,
    /// How long nothing was written.
    quiet: Duration,
    recheck: tokio::time::Interval,
    stopping: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    done: bool,
    /// This stream's place among its session's (`live::STREAMS_PER_SESSION`).
    _admission: crate::live::Admission,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if !self.pending.is_empty() {
                // Everything waiting, in one write.
                let mut out = bytes::BytesMut::new();
                for frame in self.pending.drain(..) {
                    out.extend_from_slice(&frame);
                }
                self.quiet = Duration::ZERO;
                return Some((Ok(out.freeze()), self));
            }
            if self.done {
                return None;
            }
            tokio::select! {
                () = &mut self.stopping => self.done = true,
                _ = self.flush.tick() => self.drain().await,
                _ = self.recheck.tick() => self.check_session().await,
            }
        }
    }

    /// Takes every message that arrived since the last tick.
    async fn drain(&mut self) {
        use tokio::sync::broadcast::error::TryRecvError;
        while !self.done {
            let message = match self.rx.try_recv() {
                Ok(m) => Ok(m),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
            };
            self.take(message).await;
        }
        if self.pending.is_empty() {
            self.quiet += FLUSH;
            if self.quiet >= KEEP_ALIVE {
                self.pending
                    .push_back(Bytes::from_static(b": still here\n\n"));
            }
        }
    }

    async fn take(&mut self, message: Result<Message, RecvError>) {
        match message {
            Ok(Message::Change(c)) => {
                if self.vehicle.is_none_or(|v| v == c.vehicle_id) && !self.replayed.contains(&c.id)
                {
                    self.pending.push_back(c.frame.clone());
                }
            }
            Ok(Message::Many) => self.pending.push_back(notice("reload", "much changed")),
            Ok(Message::Presence { vehicle_id }) if self.vehicle == Some(vehicle_id) => {
                self.pending.push_back(frame(
                    None,
                    Some("presence"),
                    &format!(r#"{{"vehicle_id":{vehicle_id}}}"#),
                ));
            }
            Ok(Message::Presence { .. }) => {}
            Ok(Message::SessionEnded { session_id }) if session_id == self.session_id => {
                self.end("signed out");
            }
            Ok(Message::UserChanged { user_id }) if user_id == self.user_id => {
                self.check_session().await;
            }
            Ok(Message::SessionEnded { .. } | Message::UserChanged { .. }) => {}
            // Fell behind: what it missed is gone from the channel.
            Err(RecvError::Lagged(_)) => {
                self.pending.push_back(notice("reload", "fell behind"));
                self.done = true;
            }
            Err(RecvError::Closed) => self.done = true,
        }
    }

    /// Ends the stream unless the session is live with the same role.
    async fn check_session(&mut self) {
        let config = &self.state.config;
        let role = match self.state.db(self.acting).await {
            Ok(mut conn) => {
                sessions::live_role(
                    &mut conn,
                    self.session_id,
                    config.idle_timeout,
                    config.session_lifetime,
                )
                .await
            }
            // The database is away: keep streaming; the next check decides.
            Err(_) => return,
        };
        match role {
            Ok(Some(role)) if role == self.role => {}
            Ok(Some(_)) => self.end("role changed"),
            Ok(None) => self.end("signed out"),
            Err(_) => {}
        }
    }

    /// Tells the page why, then ends.
    fn end(&mut self, reason: &str) {
        self.pending.push_back(notice("ended", reason));
        self.done = true;
    }
}

/// A named event for the page (`reload`, `ended`) with its reason.
fn notice(event: &str, reason: &str) -> Bytes {
    frame(
        None,
        Some(event),
        &serde_json::json!({ "reason": reason }).to_string(),
    )
}
