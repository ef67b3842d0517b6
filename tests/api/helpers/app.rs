//! One app under test: `pcn::startup::Application` (the same build as
//! `main`) on port 0, over a fresh database, with a cookie-keeping client and
//! a connection of the test's own for arranging and asserting.

use std::{collections::HashMap, net::TcpListener, sync::LazyLock};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use pcn::{
    config::Config,
    startup::{self, Application, Background},
};
use secrecy::SecretString;

use super::{client, database_url, fresh_database};

/// Connections of the pools live here (see `pcn::db`); never dropped.
pub static DB_RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| startup::db_runtime().expect("database runtime"));

/// A fixed key, so that several app instances in one test share sessions.
pub const SESSION_KEY: &str =
    "cGNuLXRlc3Qta2V5LXBjbi10ZXN0LWtleS1wY24tdGVzdC1rZXktcGNuLXRlc3Qta2V5LXBjbi10ZXN0LWtleQ==";

/// How a test app differs from the defaults.
#[derive(Clone)]
pub struct Options {
    pub database: Option<String>,
    pub database_url: Option<String>,
    pub env: Vec<(&'static str, String)>,
    /// Changes to settings the environment does not reach (timeouts), made
    /// after the configuration is read.
    pub tune: fn(&mut Config),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            database: None,
            database_url: None,
            env: vec![("PCN_RATE_LIMIT", "0".into())],
            tune: |_| {},
        }
    }
}

impl Options {
    pub fn env(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }
}

pub struct TestApp {
    pub address: String,
    pub database: String,
    pub db_url: String,
    pub client: reqwest::Client,
    /// The running app's own state: its pool, as its handlers draw from it.
    pub state: actix_web::web::Data<pcn::app::AppState>,
    server: Background,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the server thread ends by itself, and
        // the change listener lets go of its connection.
        self.server.halt();
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        // Server logs appear with a failing test's output (warnings and up).
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TEST_LOG")
                    .unwrap_or_else(|_| "warn,pcn=warn".into()),
            )
            .try_init();
        let database = match &options.database {
            Some(d) => d.clone(),
            None => fresh_database().await,
        };
        let db_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| database_url(&database));
        let mut env: HashMap<&str, String> = options.env.iter().cloned().collect();
        env.entry("PCN_SESSION_KEY")
            .or_insert_with(|| SESSION_KEY.into());
        env.entry("PCN_DATA_DIR")
            .or_insert_with(|| "/nonexistent".into());
        let mut config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
        config.database_url = Some(SecretString::from(db_url.clone()));
        config.workers = 2;
        config.hash_concurrency = 2;
        (options.tune)(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let built = Application::build(config, DB_RUNTIME.handle(), listener).expect("application");
        let state = built.shared_state();
        let server = built.spawn().expect("server");
        Self {
            address: format!("http://{}", server.addr),
            database,
            db_url,
            client: client(),
            state,
            server,
        }
    }

    /// A second instance of the app on the same database.
    pub async fn sibling(&self) -> Self {
        Self::with(Options {
            database: Some(self.database.clone()),
            ..Options::default()
        })
        .await
    }

    /// Stops the server as SIGTERM would: streams end, requests finish.
    pub async fn stop(&self) {
        self.server.stop().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A connection of the test's own, for arranging and asserting.
    pub async fn db(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.db_url)
            .await
            .expect("connect")
    }

    pub async fn exec(&self, sql: &str) {
        self.db().await.batch_execute(sql).await.expect(sql);
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            v: i64,
        }
        let mut conn = self.db().await;
        diesel::sql_query(sql)
            .get_result::<V>(&mut conn)
            .await
            .expect(sql)
            .v
    }

    /// One text value (`SELECT … AS v`), for asserting what was stored.
    pub async fn scalar_text(&self, sql: &str) -> String {
        use diesel_async::RunQueryDsl as _;
        #[derive(diesel::QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let mut conn = self.db().await;
        diesel::sql_query(sql)
            .get_result::<V>(&mut conn)
            .await
            .expect(sql)
            .v
    }
}

/// A temporary folder under /tmp that the `postgres` OS user can enter (a
/// cluster of a test's own lives in it); removed when dropped.
pub fn postgres_tempdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}
