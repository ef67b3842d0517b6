//! Pooled connections whose socket gives up on a server that stopped
//! answering. PostgreSQL answers every statement within `statement_timeout`,
//! if only with the timeout error; but a server that is frozen, or behind a
//! network that silently drops packets, never answers, and a query sent to it
//! would hold its request (and its pooled connection) forever: TCP keepalive
//! is answered by the kernel, and `statement_timeout` runs on the server.
//! So the socket itself fails when an answer is owed and the server has sent
//! nothing for `answer_within`; the query then errors as a lost connection
//! (a 503), and the pool drops the connection as broken. What is owed is
//! counted from the protocol's own framing, so an idle connection (nothing
//! owed) is never timed out, however long it waits in the pool.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use diesel::{ConnectionError, ConnectionResult};
use diesel_async::AsyncPgConnection;
use futures_util::StreamExt as _;
use tokio::sync::mpsc;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpStream, UnixStream},
    time::{Instant, Sleep},
};
use tokio_postgres::{AsyncMessage, config::Host};

/// Opens a connection to `url` (without TLS, like `AsyncPgConnection::establish`)
/// over a socket watched as described above. Must run inside the runtime that
/// is to drive the connection.
pub async fn connect(url: &str, answer_within: Duration) -> ConnectionResult<AsyncPgConnection> {
    connect_with(url, answer_within, None).await
}

/// `connect`, with the payloads of the `NOTIFY`s the connection hears sent
/// to `notifications` (which closes when the connection does).
pub async fn connect_listening(
    url: &str,
    answer_within: Duration,
    notifications: mpsc::UnboundedSender<String>,
) -> ConnectionResult<AsyncPgConnection> {
    connect_with(url, answer_within, Some(notifications)).await
}

async fn connect_with(
    url: &str,
    answer_within: Duration,
    notifications: Option<mpsc::UnboundedSender<String>>,
) -> ConnectionResult<AsyncPgConnection> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::InvalidConnectionUrl(e.to_string()))?;
    let bad = |e: &dyn std::fmt::Display| ConnectionError::BadConnection(e.to_string());
    let mut last_error = io::Error::other("the database URL names no host");
    let hosts = config.get_hosts().len().max(config.get_hostaddrs().len());
    for i in 0..hosts {
        let ports = config.get_ports();
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let open = async {
            match (config.get_hostaddrs().get(i), config.get_hosts().get(i)) {
                (Some(addr), _) => tcp((*addr, port)).await,
                (None, Some(Host::Tcp(name))) => tcp((name.as_str(), port)).await,
                (None, Some(Host::Unix(dir))) => {
                    UnixStream::connect(dir.join(format!(".s.PGSQL.{port}")))
                        .await
                        .map(Socket::Unix)
                }
                (None, None) => Err(io::Error::other("no host")),
            }
        };
        // A host that does not even answer the connection is as dead.
        let opened = tokio::time::timeout(answer_within, open)
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()));
        match opened {
            Ok(socket) => {
                return match socket {
                    Socket::Tcp(s) => {
                        start(&config, Watched::new(s, answer_within), notifications).await
                    }
                    Socket::Unix(s) => {
                        start(&config, Watched::new(s, answer_within), notifications).await
                    }
                }
                .map_err(|e| bad(&e));
            }
            Err(e) => last_error = e,
        }
    }
    Err(bad(&last_error))
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

async fn tcp(addr: impl tokio::net::ToSocketAddrs) -> io::Result<Socket> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(Socket::Tcp(stream))
}

/// The startup handshake over `socket`, then the connection's background
/// task on the current runtime (it ends when the client is dropped), which
/// passes on notifications if asked to.
async fn start<S>(
    config: &tokio_postgres::Config,
    socket: Watched<S>,
    notifications: Option<mpsc::UnboundedSender<String>>,
) -> Result<AsyncPgConnection, Box<dyn std::error::Error + Send + Sync>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (client, mut connection) = config.connect_raw(socket, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Some(to) = &notifications {
                        let _ = to.send(n.payload().to_owned());
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "database connection lost");
                    break;
                }
            }
        }
    });
    Ok(AsyncPgConnection::try_from(client).await?)
}

/// A socket that fails reads once an answer is owed (the protocol says so:
/// every query or `Sync` sent is answered with a `ReadyForQuery`) and the
/// server has sent nothing for `limit`.
struct Watched<S> {
    inner: S,
    limit: Duration,
    /// `ReadyForQuery` messages still to come.
    owed: u32,
    /// When the server last showed it is alive while something was owed.
    since: Instant,
    timer: Pin<Box<Sleep>>,
    sent: Frames,
    received: Frames,
}

impl<S> Watched<S> {
    fn new(inner: S, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            owed: 0,
            since: Instant::now(),
            timer: Box::pin(tokio::time::sleep(limit)),
            // The client's first message (startup) has no type byte.
            sent: Frames::untyped_first(),
            received: Frames::typed(),
        }
    }

    /// Ready with an error once the server is overdue; otherwise the timer
    /// wakes the connection's task when it will be.
    fn overdue(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.owed == 0 {
            return Poll::Pending;
        }
        let deadline = self.since + self.limit;
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        self.timer.as_mut().poll(cx).map(|()| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the database sent nothing for {:?}", self.limit),
            )
        })
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let owed = &mut this.owed;
                this.received.feed(&buf.filled()[before..], |kind| {
                    if kind == b'Z' {
                        *owed = owed.saturating_sub(1);
                    }
                });
                this.since = Instant::now();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.overdue(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            let was_owed = this.owed;
            let owed = &mut this.owed;
            this.sent.feed(&buf[..n], |kind| {
                // Startup, a simple query, a Sync, a function call: each is
                // answered with one ReadyForQuery.
                if matches!(kind, Frames::UNTYPED | b'Q' | b'S' | b'F') {
                    *owed += 1;
                }
            });
            if was_owed == 0 && this.owed > 0 {
                this.since = Instant::now();
                // Arms the timer for this task: its reader may be idle already.
                let _ = this.overdue(cx);
            }
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Splits one direction of the protocol into messages: a type byte (except
/// for the client's first message), a 4-byte big-endian length that counts
/// itself, then the body.
struct Frames {
    typed: bool,
    head: [u8; 5],
    head_len: usize,
    body_left: usize,
}

impl Frames {
    /// The "type" reported for the untyped startup message.
    const UNTYPED: u8 = 0;

    fn typed() -> Self {
        Self {
            typed: true,
            head: [0; 5],
            head_len: 0,
            body_left: 0,
        }
    }

    fn untyped_first() -> Self {
        Self {
            typed: false,
            ..Self::typed()
        }
    }

    /// Reads `bytes` on from where the last call stopped, calling `message`
    /// with the type of each message as its header completes.
    fn feed(&mut self, mut bytes: &[u8], mut message: impl FnMut(u8)) {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let skip = self.body_left.min(bytes.len());
                self.body_left -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let need = if self.typed { 5 } else { 4 };
            let take = (need - self.head_len).min(bytes.len());
            self.head[self.head_len..self.head_len + take].copy_from_slice(&bytes[..take]);
            self.head_len += take;
            bytes = &bytes[take..];
            if self.head_len == need {
                let (kind, len) = if self.typed {
                    (self.head[0], &self.head[1..5])
                } else {
                    (Self::UNTYPED, &self.head[0..4])
                };
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                self.body_left = len.saturating_sub(4);
                self.head_len = 0;
                self.typed = true;
                message(kind);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Frames;

    #[test]
    fn messages_are_found_however_the_bytes_are_split() {
        // Startup (8 bytes), then Query "SELECT 1" and Sync.
        let mut wire = vec![0, 0, 0, 8, 0, 3, 0, 0];
        wire.extend([b'Q', 0, 0, 0, 13]);
        wire.extend(b"SELECT 1\0");
        wire.extend([b'S', 0, 0, 0, 4]);
        for chunk in 1..=wire.len() {
            let mut frames = Frames::untyped_first();
            let mut kinds = Vec::new();
            for piece in wire.chunks(chunk) {
                frames.feed(piece, |k| kinds.push(k));
            }
            assert_eq!(kinds, [Frames::UNTYPED, b'Q', b'S'], "chunks of {chunk}");
        }
    }
}
