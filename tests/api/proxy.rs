//! A TCP proxy between one app and the database, which a test can cut to
//! simulate an outage without disturbing the other tests' database, or stall:
//! connections stay open (and new ones are accepted) but no byte moves, as
//! with a database that is frozen or behind a silent network.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _},
    net::{TcpListener, TcpStream, UnixStream},
    task::AbortHandle,
};

use pcn::config::Config;

use crate::helpers::{
    DB_RUNTIME, Options, Target, TestApp, db_target, fresh_database, proxied_url,
};

pub struct Proxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(target: &Target) -> std::io::Result<Box<dyn Stream>> {
    Ok(match target {
        Target::Unix(path) => Box::new(UnixStream::connect(path).await?),
        Target::Tcp(addr) => Box::new(TcpStream::connect(addr).await?),
    })
}

impl Proxy {
    /// An app on a fresh database that it reaches only through a new proxy,
    /// with `tune` applied to its configuration.
    pub async fn with_app(tune: fn(&mut Config)) -> (Self, TestApp) {
        let proxy = Self::start().await;
        let database = fresh_database().await;
        let app = TestApp::with(Options {
            database: Some(database.clone()),
            database_url: Some(proxied_url(&database, proxy.port)),
            tune,
            ..Options::default()
        })
        .await;
        (proxy, app)
    }

    pub async fn start() -> Self {
        let target = db_target();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (c, s, l) = (cut.clone(), stalled.clone(), live.clone());
        DB_RUNTIME.spawn(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let stalled = s.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = connect(&target).await {
                        let (client_read, client_write) = tokio::io::split(client);
                        let (server_read, server_write) = tokio::io::split(server);
                        tokio::join!(
                            pump(client_read, server_write, &stalled),
                            pump(server_read, client_write, &stalled),
                        );
                    }
                });
                l.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            port,
            cut,
            stalled,
            live,
        }
    }

    /// The database "goes away": open connections drop, new ones are refused.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// The database "stops answering": connections stay open and new ones
    /// are accepted, but bytes are held instead of passed on.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Back to normal after `cut` or `stall` (held bytes go on).
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        self.stalled.store(false, Ordering::SeqCst);
    }
}

/// Copies one direction, holding each chunk while the proxy is stalled.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    stalled: &AtomicBool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
