//! `pcn`: serve, migrate, create users.

use std::{
    io::{BufRead as _, IsTerminal as _},
    net::TcpListener,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use clap::Parser as _;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use pcn::{
    cli::{Cli, Command, UserCommand},
    cluster::{self, Cluster, Durability},
    config::{Config, LogFormat},
    db,
    domain::{Email, NewPassword, PersonName, Role},
    models::{setup_tokens, users},
    startup::{self, Application},
};
use secrecy::{ExposeSecret as _, SecretString};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    return_large_allocations_to_the_system();
    // A missing .env is normal; tests never read it (they do not run main).
    let _ = dotenvy::dotenv();
    let format = match init_logging() {
        Ok(format) => format,
        Err(e) => {
            eprintln!("pcn: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_failure(format, &e);
            ExitCode::FAILURE
        }
    }
}

/// Why `pcn` stopped, on standard error whatever `RUST_LOG` says: a plain
/// line, or with JSON logs a JSON line shaped like the others, so that a
/// log collector reads it too.
fn report_failure(format: LogFormat, e: &anyhow::Error) {
    match format {
        LogFormat::Text => eprintln!("pcn: {e:#}"),
        LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": "ERROR",
                "fields": { "message": format!("pcn: {e:#}") },
                "target": "pcn",
            })
        ),
    }
}

/// Logs go to standard error, filtered by `RUST_LOG`: plain text (in colour
/// only when standard error is a terminal, so files and pipes get no escape
/// codes) or, with `PCN_LOG_FORMAT=json`, one JSON object per line.
fn init_logging() -> Result<LogFormat, pcn::config::ConfigError> {
    let format = LogFormat::from_env()?;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // One line per request as its span closes: method, route, status,
        // request id and time taken (tracing-actix-web's root span, as
        // `web::request_log` builds it: our client address, no tokens).
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    match format {
        LogFormat::Text => builder
            .with_ansi(
                std::io::stderr().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            )
            .init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
    Ok(format)
}

/// Every password check allocates 19 MiB (argon2), on whichever blocking
/// thread runs it. glibc's default raises its mmap threshold to the largest
/// block freed, so after the first check these blocks come from per-thread
/// heaps that are never given back: a sign-in storm left the server at
/// 1.1 GB resident. A fixed threshold of 1 MiB keeps large blocks in mmap,
/// returned on free (83 MB peak in the same run; `tests/api/load.rs`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "mallopt is a plain libc call with constant arguments"
)]
fn return_large_allocations_to_the_system() {
    // SAFETY: called first thing in main, before any other thread exists;
    // mallopt only changes allocator settings.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations_to_the_system() {}

/// The database we talk to, and the cluster we run for it if any.
struct Database {
    url: SecretString,
    runtime: tokio::runtime::Runtime,
    // Dropped last: stops our own PostgreSQL after everything else.
    _cluster: Option<Cluster>,
}

fn open_database(config: &Config) -> anyhow::Result<Database> {
    let runtime = startup::db_runtime()?;
    let (url, cluster) = match &config.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let place = cluster::Place::for_data_dir(&config.data_dir);
            match &place.moved {
                Some(why) => tracing::info!(
                    data = %place.data.display(),
                    "starting our own PostgreSQL outside PCN_DATA_DIR: {why}"
                ),
                None => tracing::info!(data = %place.data.display(), "starting our own PostgreSQL"),
            }
            let cluster = Cluster::start(&place.data, &place.socket, Durability::default())?;
            runtime
                .block_on(db::create_database_if_missing(
                    &cluster.url("postgres"),
                    "pcn",
                ))
                .context("creating the pcn database")?;
            (SecretString::from(cluster.url("pcn")), Some(cluster))
        }
    };
    let applied = runtime
        .block_on(db::migrate(
            url.expose_secret(),
            config.app_password.as_ref().map(|p| p.expose_secret()),
        ))
        .context("migrating the database")?;
    for m in applied {
        tracing::info!(migration = %m, "applied");
    }
    Ok(Database {
        url,
        runtime,
        _cluster: cluster,
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            open_database(&config)?;
            println!("migrations are up to date");
            Ok(())
        }
        Command::DemoData { vehicles } => demo_data(&config, vehicles),
        Command::Backup { file } => backup(&config, &file),
        Command::Restore { file } => restore(&config, &file),
        Command::User {
            action:
                UserCommand::Create {
                    email,
                    role,
                    first_name,
                    last_name,
                },
        } => create_user(&config, &email, &role, &first_name, &last_name),
    }
}

fn serve(mut config: Config) -> anyhow::Result<()> {
    let database = open_database(&config)?;
    config.database_url = Some(database.url.clone());
    let listener = TcpListener::bind(config.bind_addr()?)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url.clone();
    let app = Application::build(config, database.runtime.handle(), listener)?;
    database.runtime.block_on(async {
        let mut conn = app
            .state()
            .db(pcn::db::Acting::SYSTEM)
            .await
            .context("connecting to the database")?;
        pcn::routes::announce_setup_link(&mut conn, &public_url).await
    })?;
    println!("PCN is listening on http://{addr} (public address {public_url})");
    // On SIGTERM the server ends its event streams, stops accepting,
    // finishes the requests in flight (up to 30 s), then returns here; on
    // SIGINT (Ctrl-C) or SIGQUIT it stops at once (`startup::stop_on_signals`).
    actix_web::rt::System::new().block_on(async move { app.run()?.await })?;
    tracing::info!("server stopped");
    database
        .runtime
        .shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(())
}

fn demo_data(config: &Config, vehicles: i64) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=10_000_000).contains(&vehicles),
        "--vehicles: from 1 to 10,000,000"
    );
    let database = open_database(config)?;
    let url = database.url.expose_secret().to_string();
    let today = pcn::app::today_in(config.timezone);
    let started = std::time::Instant::now();
    let added = database.runtime.block_on(async move {
        let mut conn = AsyncPgConnection::establish(&url).await?;
        let n = pcn::models::demo::load(&mut conn, vehicles, today, |step| {
            eprintln!("  {:>6.1} s  {step}", started.elapsed().as_secs_f64());
        })
        .await?;
        anyhow::Ok(n)
    })?;
    println!(
        "added {added} demo vehicles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the database to `file` by way of `file.partial`, readable by its
/// owner only (it holds password hashes), so that a failed backup leaves an
/// earlier one in place.
fn backup(config: &Config, file: &Path) -> anyhow::Result<()> {
    let database = open_database(config)?;
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    if let Err(e) = cluster::dump(database.url.expose_secret(), out) {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    std::fs::rename(&partial, file)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), file.display()))?;
    let size = std::fs::metadata(file).map_or(0, |m| m.len());
    println!(
        "backed up the database to {} ({size} bytes)",
        file.display()
    );
    Ok(())
}

/// Checks that `file` is a backup before touching anything, restores it in
/// one transaction, then migrates, so that an older backup is brought up to
/// this version.
fn restore(config: &Config, file: &Path) -> anyhow::Result<()> {
    let items = cluster::check_dump(file)?;
    // Starts our own cluster if need be and makes sure PCN's roles exist,
    // which the backup's grants name.
    let database = open_database(config)?;
    let url = database.url.expose_secret();
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    cluster::restore(url, input)?;
    let applied = database
        .runtime
        .block_on(db::migrate(
            url,
            config.app_password.as_ref().map(|p| p.expose_secret()),
        ))
        .context("migrating the restored database")?;
    println!(
        "restored {} ({items} items) over the database's contents; {} migration(s) applied since the backup",
        file.display(),
        applied.len()
    );
    Ok(())
}

fn create_user(
    config: &Config,
    email: &str,
    role: &str,
    first: &str,
    last: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role =
        Role::parse(role).ok_or_else(|| anyhow::anyhow!("--role: use viewer, editor or admin"))?;
    let first = PersonName::parse(first).map_err(|e| anyhow::anyhow!("--first-name: {e}"))?;
    let last = PersonName::parse(last).map_err(|e| anyhow::anyhow!("--last-name: {e}"))?;
    let password = match std::env::var("PCN_PASSWORD") {
        Ok(p) => SecretString::from(p),
        Err(_) => {
            eprintln!("Password (one line on standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            SecretString::from(line.trim_end_matches(['\r', '\n']).to_string())
        }
    };
    let password = NewPassword::parse(password, &[email.as_str(), first.as_str(), last.as_str()])
        .map_err(|p| anyhow::anyhow!("password: {}", p.message()))?;
    let hash = pcn::app::passwords::hash_blocking(password.secret())?;
    let database = open_database(config)?;
    let url = database.url.expose_secret().to_string();
    let user = database.runtime.block_on(async move {
        let mut conn = AsyncPgConnection::establish(&url).await?;
        let new = users::NewUser::new(&email, &first, &last, role, &hash);
        match users::create(&mut conn, &new, None).await? {
            Err(users::CreateRefused::EmailTaken) => {
                anyhow::bail!("a user with the email {email} already exists")
            }
            Ok(user) => {
                // With a user in place, the web setup link is no longer needed.
                setup_tokens::delete_all(&mut conn).await?;
                Ok(user)
            }
        }
    })?;
    println!("created {} ({}) with id {}", user.email, user.role, user.id);
    Ok(())
}
