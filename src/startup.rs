//! Building the application: shared state, middleware in order, the server.

use std::{net::TcpListener, path::Path, sync::Arc, time::Duration};

use actix_session::{
    SessionMiddleware,
    config::{BrowserSession, CookieContentSecurity},
    storage::CookieSessionStore,
};
use actix_web::{
    App, HttpServer,
    cookie::{Key, SameSite},
    dev::{Server, ServerHandle},
    middleware::from_fn,
    web,
};
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::{
    auth::passwords::Passwords,
    config::{Config, decode_session_key},
    db::{self, Pool},
    routes,
    web::{AppError, headers::security_headers, rate_limit::RateLimiter},
};

/// What every handler can reach, built once per process and shared by all
/// workers (never inside the `HttpServer::new` closure).
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    pub passwords: Passwords,
    pub rate_limiter: RateLimiter,
}

impl AppState {
    pub fn new(config: Config, pool: Pool) -> anyhow::Result<Self> {
        Ok(Self {
            passwords: Passwords::new(config.hash_concurrency)?,
            rate_limiter: RateLimiter::new(config.rate_limit),
            config: Arc::new(config),
            pool,
        })
    }
}

pub const COOKIE_NAME: &str = "pcn";

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

/// Creates the server on `listener`; call inside an actix system.
pub fn build_server(
    state: web::Data<AppState>,
    key: Key,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    let secure = state.config.secure_cookies();
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name(COOKIE_NAME.into())
            .cookie_secure(secure)
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
                        AppError::BadRequest("The form could not be read. Go back and try again.")
                            .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                AppError::BadRequest("The address has parameters PCN does not understand.").into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
            .wrap(from_fn(crate::auth::session::authenticate))
            .wrap(from_fn(crate::web::rate_limit::limit_requests))
            .wrap(sessions)
            .wrap(tracing_actix_web::TracingLogger::default())
            .wrap(from_fn(security_headers))
    })
    .workers(workers.max(1))
    .shutdown_timeout(30)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}

/// A server running on its own thread and actix system (tests, benchmarks).
pub struct Background {
    pub addr: std::net::SocketAddr,
    pub handle: ServerHandle,
}

impl Background {
    pub fn start(
        state: web::Data<AppState>,
        key: Key,
        listener: TcpListener,
        workers: usize,
    ) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("pcn-server-{}", addr.port()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    match build_server(state, key, listener, workers) {
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
        Ok(Self { addr, handle })
    }

    /// Stops accepting, finishes requests in flight.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
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
pub fn pool_on_handle(runtime: &tokio::runtime::Handle, url: &str, config: &Config) -> Pool {
    let settings = db::PoolSettings {
        max_size: config.pool_size,
        connection_timeout: config.pool_timeout,
        statement_timeout: config.statement_timeout,
    };
    let _entered = runtime.enter();
    db::build_pool(url, &settings, runtime.clone())
}
