//! Building the application: key, pool and state once per process, then the
//! server with its middleware in order. `main` and the test harness both go
//! through `Application::build`, so what is tested is what runs.

use std::{net::TcpListener, path::Path, time::Duration};

use actix_session::{
    SessionMiddleware,
    config::{BrowserSession, CookieContentSecurity},
    storage::CookieSessionStore,
};
use actix_web::{
    App, HttpServer,
    cookie::{Key, SameSite},
    dev::{Server, ServerHandle},
    middleware::{Compress, from_fn},
    web,
};
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::{
    app::AppState,
    config::{Config, decode_session_key},
    db::{self, Pool},
    routes,
    web::{AppError, headers::security_headers},
};

/// The session cookie over plain http.
pub const COOKIE_NAME: &str = "pcn";
/// The session cookie when cookies are `Secure`: a `__Host-` name, which
/// browsers accept only from https, with `Path=/` and no `Domain`, so no
/// neighbouring host or path can set or shadow it.
pub const SECURE_COOKIE_NAME: &str = "__Host-pcn";

/// The cookie-signing key: configured, or generated once into the data folder.
pub fn session_key(config: &Config) -> anyhow::Result<Key> {
    let bytes = match &config.session_key {
        Some(key) => decode_session_key(key)?,
        None => load_or_create_key(&config.data_dir.join("session.key"))?,
    };
    Key::try_from(bytes.as_slice()).map_err(|e| anyhow::anyhow!("session key: {e}"))
}

fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Ok(text) = std::fs::read_to_string(path) {
        return Ok(decode_session_key(&SecretString::from(text))?);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = vec![0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let text = SecretString::from(base64::engine::general_purpose::STANDARD.encode(&bytes));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.expose_secret().as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new session key");
    Ok(bytes)
}

/// Everything a running PCN needs, built once: the signing key, the pool (on
/// the database runtime), the shared state, and the socket to listen on.
pub struct Application {
    state: web::Data<AppState>,
    key: Key,
    listener: TcpListener,
    workers: usize,
}

impl Application {
    /// Builds the pool on `db_runtime` (connections live there, see `db`)
    /// without connecting, so the server starts, and answers 503, while the
    /// database is away. `config.database_url` must be set.
    pub fn build(
        config: Config,
        db_runtime: &tokio::runtime::Handle,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let url = config
            .database_url
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no database URL"))?
            .expose_secret()
            .to_owned();
        let key = session_key(&config)?;
        // The app connects as `pcn_app`, never as the owner (`db::acting`).
        let app_password = config.app_password.as_ref().map(|p| p.expose_secret());
        let url = db::app_url(&url, app_password);
        let pool = pool_on_handle(db_runtime, &url, &config);
        let workers = config.workers.max(1);
        let statement_timeout = config.statement_timeout;
        let replica = config.read_database_url.as_ref().map(|read_url| {
            let replica = crate::db::replica::Replica::new(pool_on_handle(
                db_runtime,
                &db::app_url(read_url.expose_secret(), app_password),
                &config,
            ));
            replica.monitor(pool.clone(), db_runtime);
            replica
        });
        let mut state = AppState::new(config, pool)?;
        state.replica = replica;
        let state = web::Data::new(state);
        state.live.listen(db_runtime, url, statement_timeout);
        Ok(Self {
            state,
            key,
            listener,
            workers,
        })
    }

    pub fn addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The state, to keep after the server is started (tests).
    pub fn shared_state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Starts serving; call inside an actix system. The server stops on
    /// SIGTERM (finishing requests in flight), SIGINT or SIGQUIT (at once),
    /// or through its handle; event streams end first either way.
    pub fn run(self) -> std::io::Result<Server> {
        let Self {
            state,
            key,
            listener,
            workers,
        } = self;
        let live = std::sync::Arc::clone(&state.live);
        let secure = state.config.secure_cookies();
        let cookie_name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        let server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name(cookie_name.into())
                .cookie_secure(secure)
                .cookie_path("/".into())
                .cookie_domain(None)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Signed)
                .session_lifecycle(BrowserSession::default())
                .build();
            App::new()
                .app_data(state.clone())
                .app_data(
                    web::FormConfig::default()
                        .limit(256 * 1024)
                        .error_handler(|_, _| {
                            AppError::BadRequest(
                                "The form could not be read. Go back and try again.",
                            )
                            .into()
                        }),
                )
                .app_data(web::QueryConfig::default().error_handler(|_, _| {
                    AppError::BadRequest("The address has parameters PCN does not understand.")
                        .into()
                }))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()),
                )
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
                // Each `.wrap()` goes around everything before it: the last
                // one is the outermost and sees a request first. So a request
                // passes: compression → security headers (which also turn every error into
                // a rendered page) → request log span → cookie session →
                // body deadline → session lookup and CSRF check → error
                // pages with the navigation for who is signed in → request
                // limit (per session the lookup confirmed, else per address)
                // → the dealership's settings for its pages → the route.
                .wrap(from_fn(crate::web::dealership::settings_for_request))
                .wrap(from_fn(crate::web::rate_limit::limit_requests))
                .wrap(from_fn(crate::web::error::navigable_errors))
                .wrap(from_fn(crate::auth::session::authenticate))
                .wrap(from_fn(crate::web::body_deadline::body_deadline))
                .wrap(sessions)
                .wrap(tracing_actix_web::TracingLogger::<
                    crate::web::request_log::RequestLog,
                >::new())
                .wrap(from_fn(security_headers))
                // Outermost, so error pages are compressed too. Form tokens
                // are masked per page (`token::mask`), so compressing pages
                // that echo what people type leaks no secret (BREACH).
                .wrap(Compress::default())
        })
        // A compressed page leaves in several writes; with Nagle's algorithm
        // the last waits for the browser's delayed ACK, 40 ms a page
        // (measured: gzip list p50 43 ms against 4 ms plain).
        .on_connect(|conn, _| {
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                let _ = tcp.set_nodelay(true);
            }
        })
        .workers(workers)
        .shutdown_timeout(30)
        .client_request_timeout(Duration::from_secs(10))
        // Ours (`stop_on_signals`): open event streams never end by
        // themselves, so they must be told before a graceful stop waits.
        .disable_signals()
        .listen(listener)?
        .run();
        actix_web::rt::spawn(stop_on_signals(server.handle(), live));
        Ok(server)
    }

    /// Serves on a thread and actix system of its own (tests, benchmarks).
    pub fn spawn(self) -> std::io::Result<Background> {
        let addr = self.addr()?;
        let live = std::sync::Arc::clone(&self.state.live);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("pcn-server-{}", addr.port()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    match self.run() {
                        Ok(server) => {
                            let _ = tx.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let handle = rx
            .recv()
            .map_err(|_| std::io::Error::other("server thread died"))??;
        Ok(Background { addr, handle, live })
    }
}

/// SIGTERM: end the event streams, then stop gracefully (as actix would);
/// SIGINT and SIGQUIT: stop at once.
async fn stop_on_signals(server: ServerHandle, live: std::sync::Arc<crate::live::Hub>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        tracing::error!("cannot listen for signals; stop the server through its handle");
        return;
    };
    let graceful = tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => false,
        _ = quit.recv() => false,
    };
    tracing::info!(graceful, "stopping on a signal");
    live.shut_down();
    server.stop(graceful).await;
}

/// A server running on its own thread and actix system.
pub struct Background {
    pub addr: std::net::SocketAddr,
    pub handle: ServerHandle,
    live: std::sync::Arc<crate::live::Hub>,
}

impl Background {
    /// Ends the event streams, stops accepting, finishes requests in flight.
    pub async fn stop(&self) {
        self.live.shut_down();
        self.handle.stop(true).await;
    }

    /// Ends the event streams and the change listener, and tells the server
    /// to stop at once, without waiting for it.
    pub fn halt(&self) {
        self.live.shut_down();
        drop(self.handle.stop(false));
    }
}

/// A dedicated multi-threaded runtime for database connections (see `db`).
pub fn db_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pcn-db")
        .enable_all()
        .build()
}

/// Builds the pool on the database runtime (its reaper task lives there).
fn pool_on_handle(runtime: &tokio::runtime::Handle, url: &str, config: &Config) -> Pool {
    let settings = db::PoolSettings {
        max_size: config.pool_size,
        connection_timeout: config.pool_timeout,
        statement_timeout: config.statement_timeout,
    };
    let _entered = runtime.enter();
    db::build_pool(url, &settings, runtime.clone())
}
