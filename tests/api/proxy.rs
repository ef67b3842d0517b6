//! A TCP proxy between one app and the database, which a test can cut to
//! simulate an outage without disturbing the other tests' database.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, copy_bidirectional},
    net::{TcpListener, TcpStream, UnixStream},
    task::AbortHandle,
};

use crate::helpers::{DB_RUNTIME, Target, db_target};

pub struct Proxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
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
    pub async fn start() -> Self {
        let target = db_target();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (c, l) = (cut.clone(), live.clone());
        DB_RUNTIME.spawn(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = connect(&target).await {
                        let _ = copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, cut, live }
    }

    /// The database "goes away": open connections drop, new ones are refused.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
