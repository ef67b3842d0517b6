//! The connection pool, migrations, how database errors are classified, and
//! the retry of a transaction that failed transiently (`with_retry`).
//!
//! Connections are opened on a dedicated multi-threaded tokio runtime
//! (`startup::db_runtime`, handed to `build_pool`): each actix worker is its
//! own single-threaded runtime, and a connection's background task lives on
//! the runtime that opened it, so opening them on a worker would tie every
//! pooled connection to that one worker.

use std::time::Duration;

use diesel::{ConnectionError, ConnectionResult, result::DatabaseErrorKind};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, SimpleAsyncConnection as _,
    pooled_connection::{PoolError, PoolableConnection},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};
use tokio::runtime::Handle;

pub mod acting;
pub mod replica;
pub mod roles;
mod watchdog;

pub use acting::{APP_LOGIN, Acting, Conn, DbRole};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type Pool = ::bb8::Pool<Manager>;
/// A connection drawn from the pool; owned, so it can travel with a request.
pub type Pooled = ::bb8::PooledConnection<'static, Manager>;
pub type PoolRunError = ::bb8::RunError<PoolError>;

/// How the pool is shaped; see `Config` for where these come from.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_size: u32,
    pub connection_timeout: Duration,
    pub statement_timeout: Duration,
}

/// Opens the pool's connections: as `acting::APP_LOGIN` (see `app_url`),
/// on the database runtime, each set up to act as `Acting::ANON`.
pub struct Manager {
    url: String,
    runtime: Handle,
    answer_within: Duration,
    statement_timeout_ms: u128,
}

impl ::bb8::ManageConnection for Manager {
    type Connection = Conn;
    type Error = PoolError;

    async fn connect(&self) -> Result<Conn, PoolError> {
        let url = self.url.clone();
        let (answer_within, timeout_ms) = (self.answer_within, self.statement_timeout_ms);
        let conn = self
            .runtime
            .spawn(async move { connect_as(&url, "pcn", answer_within, timeout_ms).await })
            .await
            .map_err(|e| ConnectionError::BadConnection(format!("connection task failed: {e}")))
            .and_then(|c| c)
            .map_err(PoolError::ConnectionError)?;
        Ok(Conn::new(conn, Acting::ANON))
    }

    /// A connection whose socket closed (database restarted) is dropped on
    /// checkout instead of failing the request that drew it; no round trip.
    async fn is_valid(&self, conn: &mut Conn) -> Result<(), PoolError> {
        if PoolableConnection::is_broken(&mut **conn) {
            Err(PoolError::QueryError(
                diesel::result::Error::BrokenTransactionManager,
            ))
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        PoolableConnection::is_broken(&mut **conn)
    }
}

/// Builds the pool without connecting: the server starts, and answers 503,
/// while the database is away. Must be called on the database runtime.
/// `url` is the app's own (`app_url`).
pub fn build_pool(url: &str, settings: &PoolSettings, runtime: Handle) -> Pool {
    let manager = Manager {
        url: url.to_owned(),
        runtime,
        answer_within: settings.statement_timeout + ANSWER_MARGIN,
        statement_timeout_ms: settings.statement_timeout.as_millis(),
    };
    ::bb8::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(None)
        .connection_timeout(settings.connection_timeout)
        .idle_timeout(Some(Duration::from_secs(600)))
        .max_lifetime(Some(Duration::from_secs(1800)))
        .error_sink(Box::new(LogErrors))
        .build_unchecked(manager)
}

/// The URL the running app connects with: `owner_url` (the migrations'
/// owner) with the login role `acting::APP_LOGIN` instead, and
/// `password` if it needs one (`PCN_APP_PASSWORD`).
pub fn app_url(owner_url: &str, password: Option<&str>) -> String {
    let mut params = vec![("user", APP_LOGIN)];
    params.push(("password", password.unwrap_or("")));
    if owner_url.starts_with("postgres://") || owner_url.starts_with("postgresql://") {
        let query: String = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let joiner = if owner_url.contains('?') { '&' } else { '?' };
        format!("{owner_url}{joiner}{query}")
    } else {
        let pairs: String = params
            .iter()
            .map(|(k, v)| format!(" {k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            .collect();
        format!("{owner_url}{pairs}")
    }
}

/// A connection of its own, outside the pool, set up like the pooled ones
/// (named `application_name` in `pg_stat_activity`), for the change
/// listener. Opened on, and driven by, the runtime it is called on.
/// The payloads of its `NOTIFY`s go to `notifications`, which closes when
/// the connection does.
pub async fn connect_listening(
    url: &str,
    application_name: &'static str,
    statement_timeout: Duration,
    notifications: tokio::sync::mpsc::UnboundedSender<String>,
) -> ConnectionResult<AsyncPgConnection> {
    let conn =
        watchdog::connect_listening(url, statement_timeout + ANSWER_MARGIN, notifications).await?;
    set_up(conn, application_name, statement_timeout.as_millis()).await
}

async fn connect_as(
    url: &str,
    application_name: &'static str,
    answer_within: Duration,
    statement_timeout_ms: u128,
) -> ConnectionResult<AsyncPgConnection> {
    let conn = watchdog::connect(url, answer_within).await?;
    set_up(conn, application_name, statement_timeout_ms).await
}

async fn set_up(
    mut conn: AsyncPgConnection,
    application_name: &'static str,
    statement_timeout_ms: u128,
) -> ConnectionResult<AsyncPgConnection> {
    conn.batch_execute(&format!(
        "SET application_name = '{application_name}'; SET statement_timeout = {statement_timeout_ms}; \
         SET idle_in_transaction_session_timeout = 60000; SET ROLE {anon}",
        anon = DbRole::Anon.name()
    ))
    .await
    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// A live server answers every statement within `statement_timeout`, if only
/// with the timeout error; this much later, the connection counts as dead.
const ANSWER_MARGIN: Duration = Duration::from_secs(1);

/// bb8 otherwise swallows the reason a connection could not be opened.
#[derive(Debug, Clone, Copy)]
struct LogErrors;

impl ::bb8::ErrorSink<PoolError> for LogErrors {
    fn sink(&self, error: PoolError) {
        tracing::warn!(%error, "database connection failed");
    }
    fn boxed_clone(&self) -> Box<dyn ::bb8::ErrorSink<PoolError>> {
        Box::new(*self)
    }
}

/// Creates the app's roles (`roles::ensure`, with `app_password` for
/// `pcn_app` if given), then runs pending migrations over a blocking
/// connection wrapper. `url` is the owner's.
pub async fn migrate(url: &str, app_password: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    roles::ensure(&mut conn, app_password).await?;
    roles::forbid_temporary(&mut conn).await?;
    drop(conn);
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = <diesel_async::async_connection_wrapper::AsyncConnectionWrapper<
            AsyncPgConnection,
        > as diesel::Connection>::establish(&url)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await?
}

/// Reverts every migration (used by the tests that prove each `down.sql`).
pub async fn migrate_down_all(url: &str) -> anyhow::Result<()> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = <diesel_async::async_connection_wrapper::AsyncConnectionWrapper<
            AsyncPgConnection,
        > as diesel::Connection>::establish(&url)?;
        conn.revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
        Ok(())
    })
    .await?
}

/// Creates `name` on the server `admin_url` points at, unless it exists.
pub async fn create_database_if_missing(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use diesel::{OptionalExtension as _, sql_types::Text};
    use diesel_async::RunQueryDsl as _;
    let mut conn = AsyncPgConnection::establish(admin_url).await?;
    let found: Option<i32> =
        diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .get_result::<One>(&mut conn)
            .await
            .optional()?
            .map(|o| o.one);
    if found.is_none() {
        conn.batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
            .await?;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    one: i32,
}

/// Quotes an identifier for the few statements that cannot take parameters.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Errors that mean "the database is unreachable right now", as opposed to a bug.
pub fn is_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::Error as E;
    match err {
        E::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | E::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
        | E::BrokenTransactionManager => true,
        E::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            // statement_timeout, admin shutdown, cannot connect now, too many connections
            matches!(
                info.message(),
                m if m.contains("canceling statement due to statement timeout")
                    || m.contains("terminating connection")
                    || m.contains("the database system is")
                    || m.contains("too many clients")
                    || m.contains("connection closed")
            )
        }
        _ => false,
    }
}

/// Serialization failures and deadlocks: the transaction may simply be run again.
pub fn is_transient(err: &diesel::result::Error) -> bool {
    use diesel::result::Error as E;
    match err {
        E::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        E::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Runs `tx` again (up to three times) on serialization failures and
/// deadlocks (`is_transient`); any other outcome is returned as it is.
pub async fn with_retry<T, F>(conn: &mut AsyncPgConnection, mut tx: F) -> diesel::QueryResult<T>
where
    F: AsyncFnMut(&mut AsyncPgConnection) -> diesel::QueryResult<T>,
{
    let mut attempt = 0;
    loop {
        match tx(conn).await {
            Err(e) if is_transient(&e) && attempt < 3 => {
                attempt += 1;
                tracing::info!(error = %e, attempt, "retrying transaction");
            }
            other => return other,
        }
    }
}
