//! The test harness: one PostgreSQL for the whole run (our own throwaway
//! cluster, or `TEST_DATABASE_URL`), one migrated template database, and a
//! fresh copy of it for every test; apps on port 0 driven by a cookie-keeping
//! client that does not follow redirects.

use std::{
    collections::HashMap,
    net::TcpListener,
    path::PathBuf,
    sync::{
        LazyLock, Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use pcn::{
    cluster::{Cluster, Durability},
    config::Config,
    db,
    startup::{self, Application, Background},
};
use reqwest::{Response, StatusCode, header};
use secrecy::SecretString;

/// Where the test server lives.
struct Server {
    /// URL of any database on it.
    base: url::Url,
    /// What a proxy connects to, to reach it.
    target: Target,
}

#[derive(Clone, Debug)]
pub enum Target {
    Unix(PathBuf),
    Tcp(String),
}

static SERVER: OnceLock<Server> = OnceLock::new();
/// Connections of the pools live here (see `pcn::db`); never dropped.
pub static DB_RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| startup::db_runtime().expect("database runtime"));
static TEMPLATE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static COUNTER: AtomicU32 = AtomicU32::new(0);
static CLEANUP: Mutex<Option<(u32, PathBuf)>> = Mutex::new(None);

const TEMPLATE_DB: &str = "pcn_test_template";
/// A fixed key, so that several app instances in one test share sessions.
pub const SESSION_KEY: &str =
    "cGNuLXRlc3Qta2V5LXBjbi10ZXN0LWtleS1wY24tdGVzdC1rZXktcGNuLXRlc3Qta2V5LXBjbi10ZXN0LWtleQ==";

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => {
            let base = url::Url::parse(&url).expect("TEST_DATABASE_URL is not a URL");
            let host = base.host_str().unwrap_or("localhost").to_string();
            let port = base.port().unwrap_or(5432);
            Server {
                target: Target::Tcp(format!("{host}:{port}")),
                base,
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
            db::migrate(&url_for(TEMPLATE_DB)).await.expect("migrate template");
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
    name
}

pub fn database_url(name: &str) -> String {
    url_for(name)
}

pub fn db_target() -> Target {
    server().target.clone()
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

/// How a test app differs from the defaults.
#[derive(Clone)]
pub struct Options {
    pub database: Option<String>,
    pub database_url: Option<String>,
    pub env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            database: None,
            database_url: None,
            env: vec![("PCN_RATE_LIMIT", "0".into())],
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
    server: Background,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the server thread ends by itself.
        drop(self.server.handle.stop(false));
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
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
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Application::build(config, DB_RUNTIME.handle(), listener)
            .expect("application")
            .spawn()
            .expect("server");
        Self {
            address: format!("http://{}", server.addr),
            database,
            db_url,
            client: client(),
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("GET")
    }

    /// POSTs exactly these fields (no token is added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_raw_with(&self.client, path, fields).await
    }

    pub async fn post_raw_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        send_form(client, &self.url(path), fields).await
    }

    /// POSTs with the CSRF token a form page of this client carries.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.post_with(&self.client, path, fields).await
    }

    pub async fn post_with(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let token = self.csrf_token_with(client).await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw_with(client, path, &all).await
    }

    /// The token of the sign-in form, or of the account page when signed in.
    pub async fn csrf_token_with(&self, client: &reqwest::Client) -> String {
        let page = self.get_with(client, "/login").await;
        let page = if page.status() == StatusCode::SEE_OTHER {
            self.get_with(client, "/account").await
        } else {
            page
        };
        csrf_from(&page.text().await.unwrap())
    }

    pub async fn create_user(&self, role: &str, email: &str, password: &str) -> i64 {
        let hash =
            pcn::auth::passwords::hash_blocking(&SecretString::from(password.to_string())).unwrap();
        let mut conn = self.db().await;
        pcn::models::users::insert(
            &mut conn,
            &pcn::models::users::NewUser {
                email,
                first_name: "Test",
                last_name: role,
                role,
                password_hash: &hash,
            },
        )
        .await
        .expect("insert user")
        .id
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.sign_in_with(&self.client, email, password).await
    }

    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> Response {
        self.post_with(
            client,
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs this app's client in and returns the session cookie it got
    /// (`pcn=…`), to replay by hand.
    pub async fn sign_in_for_cookie(&self, email: &str, password: &str) -> String {
        let resp = self.sign_in(email, password).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        resp.headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("pcn="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string()
    }

    /// A second signed-in browser: another user of `role`, named Bob.
    pub async fn second_user(&self, role: &str) -> reqwest::Client {
        let c = client();
        let email = format!("bob.{role}@dealer.example");
        self.create_user(role, &email, PASSWORD).await;
        let r = self.sign_in_with(&c, &email, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        c
    }

    /// Creates a user of `role` and signs this app's client in as them.
    pub async fn signed_in_as(&self, role: &str) -> i64 {
        let email = format!("{role}@dealer.example");
        let id = self.create_user(role, &email, PASSWORD).await;
        let resp = self.sign_in(&email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in as {role}");
        id
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
}

pub const PASSWORD: &str = "violet tractor umbrella 42";

pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF token in page:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The `href` of the first link whose tag contains `marker` (e.g. `rel="next"`).
pub fn href_with(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no link with {marker}"));
    let tag_start = html[..at].rfind("<a ").unwrap();
    let tag = &html[tag_start..];
    let h = tag.find("href=\"").unwrap() + 6;
    tag[h..h + tag[h..].find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// POSTs `fields` as a urlencoded form to an absolute `url` (for spawned tasks
/// that cannot borrow the app).
pub async fn send_form<K: serde::Serialize, V: serde::Serialize>(
    client: &reqwest::Client,
    url: &str,
    fields: &[(K, V)],
) -> Response {
    client
        .post(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .expect("POST")
}
