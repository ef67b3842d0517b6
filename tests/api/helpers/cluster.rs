//! The test PostgreSQL: one server for the whole run (our own throwaway
//! cluster, or `TEST_DATABASE_URL`), one migrated template database, and a
//! fresh copy of it for every test.

use std::{
    path::PathBuf,
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use pcn::{
    cluster::{Cluster, Durability},
    db,
};

/// Where the test server lives.
struct Server {
    /// URL of any database on it.
    base: url::Url,
    /// What a proxy connects to, to reach it.
    target: Target,
    /// The postmaster's log, when the server is our own cluster.
    log: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub enum Target {
    Unix(PathBuf),
    Tcp(String),
}

static SERVER: OnceLock<Server> = OnceLock::new();
static TEMPLATE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static COUNTER: AtomicU32 = AtomicU32::new(0);
static CLEANUP: Mutex<Option<(u32, PathBuf)>> = Mutex::new(None);

const TEMPLATE_DB: &str = "pcn_test_template";

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => {
            let base = url::Url::parse(&url).expect("TEST_DATABASE_URL is not a URL");
            let host = base.host_str().unwrap_or("localhost").to_string();
            let port = base.port().unwrap_or(5432);
            Server {
                target: Target::Tcp(format!("{host}:{port}")),
                base,
                log: None,
            }
        }
        Err(_) => start_own_cluster(),
    })
}

/// Starts a cluster in a temporary folder from a thread that never ends: the
/// server's parent-death signal is tied to the thread that started it.
fn start_own_cluster() -> Server {
    let dir = tempfile::Builder::new()
        .prefix("pcn-test-")
        .tempdir_in("/tmp")
        .expect("temp dir")
        .keep();
    // The postgres OS user (when we are root) must be able to enter it.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod temp dir");
    let (tx, rx) = std::sync::mpsc::channel();
    let data = dir.join("pg");
    let socket = dir.join("s");
    // Where `Cluster::start` sends the postmaster's output.
    let log = data.with_extension("log");
    std::thread::Builder::new()
        .name("test-postgres".into())
        .spawn(move || {
            let cluster = Cluster::start(&data, &socket, Durability { throwaway: true });
            let ok = cluster
                .as_ref()
                .map(|c| (c.url("postgres"), c.socket_path(), c.pid()));
            let _ = tx.send(ok.map_err(|e| e.to_string()));
            let _keep = cluster;
            loop {
                std::thread::park();
            }
        })
        .expect("cluster thread");
    let (url, socket_path, pid) = rx
        .recv()
        .expect("cluster thread")
        .unwrap_or_else(|e| panic!("cannot start the test PostgreSQL: {e}"));
    if let Some(pid) = pid {
        *CLEANUP.lock().unwrap() = Some((pid, dir));
        register_cleanup();
    }
    Server {
        base: url::Url::parse(&url).unwrap(),
        target: Target::Unix(socket_path),
        log: Some(log),
    }
}

#[expect(unsafe_code, reason = "registering an exit handler with libc")]
fn register_cleanup() {
    extern "C" fn cleanup() {
        if let Some((pid, dir)) = CLEANUP.lock().ok().and_then(|mut g| g.take()) {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGQUIT);
            let _ = nix::sys::wait::waitpid(pid, None);
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    // SAFETY: `cleanup` is a plain function that lives for the whole program.
    unsafe {
        libc::atexit(cleanup);
    }
}

fn url_for(database: &str) -> String {
    let mut url = server().base.clone();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let admin = url_for("postgres");
            let mut conn = AsyncPgConnection::establish(&admin).await.expect("connect");
            if let Target::Unix(_) = server().target {
                // Our own cluster listens on its socket only: make sure that
                // is what we reached, not a server on localhost.
                conn.batch_execute(
                    "DO $$ BEGIN IF inet_server_addr() IS NOT NULL THEN \
                     RAISE EXCEPTION 'tests reached a TCP server, not their own cluster'; END IF; END $$",
                )
                .await
                .expect("connected to the test cluster");
            }
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS {TEMPLATE_DB}"))
                .await
                .expect("drop template");
            conn.batch_execute(&format!("CREATE DATABASE {TEMPLATE_DB}"))
                .await
                .expect("create template");
            db::migrate(&url_for(TEMPLATE_DB), None).await.expect("migrate template");
        })
        .await;
    let name = format!(
        "pcn_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let _guard = CREATE_LOCK.lock().await;
    let mut conn = AsyncPgConnection::establish(&url_for("postgres"))
        .await
        .expect("connect");
    conn.batch_execute(&format!(
        "CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} STRATEGY FILE_COPY"
    ))
    .await
    .expect("create test database");
    // What `pcn migrate` does to a database besides migrating it, which a
    // copy of the template does not keep.
    let mut copy = AsyncPgConnection::establish(&url_for(&name))
        .await
        .expect("connect");
    pcn::db::roles::forbid_temporary(&mut copy)
        .await
        .expect("rights of the test database");
    name
}

pub fn database_url(name: &str) -> String {
    url_for(name)
}

pub fn db_target() -> Target {
    server().target.clone()
}

/// The test server's own log (what `log_statement` writes to), or `None`
/// with `TEST_DATABASE_URL`, whose server logs elsewhere.
pub fn server_log() -> Option<PathBuf> {
    server().log.clone()
}

/// The URL of `database` as reached through a proxy on `port`.
pub fn proxied_url(database: &str, port: u16) -> String {
    let mut url = server().base.clone();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(port)).unwrap();
    url.set_path(&format!("/{database}"));
    url.set_query(None);
    url.to_string()
}

/// PostgreSQL clusters of a test's own (made by `make` in a temporary
/// folder), run from a thread that lives as long as this does: their
/// parent-death signal is tied to the thread that started them. `urls` are
/// what `make` answered; dropping this stops them.
pub struct OwnClusters {
    pub urls: Vec<String>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OwnClusters {
    pub fn start(
        make: impl FnOnce(&std::path::Path) -> (Vec<pcn::cluster::Cluster>, Vec<String>)
        + Send
        + 'static,
    ) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let dir = super::postgres_tempdir("pcn-own-");
            let (clusters, urls) = make(dir.path());
            tx.send(urls).unwrap();
            let _ = stopped.recv();
            // The later ones (standbys) first.
            for c in clusters.into_iter().rev() {
                drop(c);
            }
        });
        let urls = rx.recv().expect("clusters started");
        Self {
            urls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for OwnClusters {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
