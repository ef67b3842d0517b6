//! The `pcn` binary itself: `pcn user create` makes an account that signs
//! in, `pcn serve` runs its own database and stops cleanly on SIGTERM,
//! its logs suit a pipe (no colour codes; JSON with `PCN_LOG_FORMAT=json`),
//! and `pcn backup`/`pcn restore` carry a database over whole.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;

use crate::helpers::{
    Html, Options, PASSWORD, Served, TestApp, add_vehicle, client, database_url, fresh_database,
    listed_stock_numbers, sell,
};

const BIN: &str = env!("CARGO_BIN_EXE_pcn");

fn pcn(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run pcn")
}

#[tokio::test]
async fn user_create_makes_an_account_that_can_sign_in() {
    let database = fresh_database().await;
    let url = database_url(&database);
    let args = [
        "user",
        "create",
        "--email",
        "Sam@Dealer.example",
        "--role",
        "editor",
        "--first-name",
        "Sam",
        "--last-name",
        "Okafor",
    ];
    let out = pcn(
        &args,
        &[
            ("DATABASE_URL", &url),
            ("PCN_PASSWORD", "granite meadow falcon 3"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created sam@dealer.example"));

    let again = pcn(
        &args,
        &[
            ("DATABASE_URL", &url),
            ("PCN_PASSWORD", "granite meadow falcon 3"),
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let weak = pcn(
        &[
            "user",
            "create",
            "--email",
            "w@dealer.example",
            "--role",
            "viewer",
            "--first-name",
            "W",
            "--last-name",
            "X",
        ],
        &[("DATABASE_URL", &url), ("PCN_PASSWORD", "password1234")],
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too easy to guess"));

    let bad_role = pcn(
        &[
            "user",
            "create",
            "--email",
            "r@dealer.example",
            "--role",
            "root",
            "--first-name",
            "R",
            "--last-name",
            "X",
        ],
        &[
            ("DATABASE_URL", &url),
            ("PCN_PASSWORD", "granite meadow falcon 3"),
        ],
    );
    assert!(!bad_role.status.success());

    let app = TestApp::with(Options {
        database: Some(database),
        ..Options::default()
    })
    .await;
    let r = app
        .sign_in_with(&client(), "sam@dealer.example", "granite meadow falcon 3")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 1);
}

/// `pcn` with no DATABASE_URL runs its own PostgreSQL, prints the setup
/// link, serves, and on SIGTERM stops serving, stops the database and exits 0.
#[tokio::test]
async fn serve_runs_its_own_database_and_stops_cleanly_on_sigterm() {
    let dir = crate::helpers::postgres_tempdir("pcn-cli-");
    let data = dir.path().to_str().unwrap();
    let mut served = Served::start(&[("DATABASE_URL", None), ("PCN_DATA_DIR", Some(data))]);
    let address = served.address.clone();
    let setup = served
        .printed
        .iter()
        .find_map(|line| {
            line.find("/setup?token=")
                .map(|i| line[i..].trim().to_string())
        })
        .expect("the setup link was printed");
    let c = client();
    let health = c.get(format!("{address}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let page = c.get(format!("{address}{setup}")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(dir.path().join("pg/postmaster.pid").exists());

    served.signal(nix::sys::signal::Signal::SIGTERM);
    let status = served.exit_within(Duration::from_secs(40)).await;
    assert!(status.success(), "exit status {status}");
    assert!(
        !dir.path().join("pg/postmaster.pid").exists(),
        "our PostgreSQL was shut down"
    );
    assert!(c.get(format!("{address}/healthz")).send().await.is_err());
}

/// As root, in a folder the `postgres` OS user cannot enter (what
/// `mktemp -d` makes, or a home folder of mode 700), `pcn` still starts its
/// own database, with no extra step: the cluster goes to /var/lib/pcn/<id>.
#[tokio::test]
async fn as_root_in_a_private_folder_the_database_lives_where_postgres_can_reach() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("SKIPPED: only root hands the cluster to the postgres OS user");
        return;
    }
    // What `mktemp -d` makes: a folder only its owner may enter.
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        private.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let data = private.path().join("data");
    let place = pcn::cluster::Place::for_data_dir(&data);
    assert!(
        place.data.starts_with("/var/lib/pcn/"),
        "{}",
        place.data.display()
    );
    assert!(place.moved.as_deref().unwrap().contains("cannot enter"));
    let outside = place.data.parent().unwrap().to_path_buf();
    let mut served = Served::start(&[
        ("DATABASE_URL", None),
        ("PCN_DATA_DIR", Some(data.to_str().unwrap())),
    ]);
    let health = client()
        .get(format!("{}/healthz", served.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(place.data.join("postmaster.pid").exists());
    // What is PCN's own (the session key) stays in the data folder.
    assert!(data.exists());
    served.signal(nix::sys::signal::Signal::SIGTERM);
    let status = served.exit_within(Duration::from_secs(40)).await;
    assert!(status.success(), "exit status {status}");
    std::fs::remove_dir_all(outside).unwrap();
}

#[tokio::test]
async fn migrate_without_createrole_prints_the_sql_for_an_administrator_then_works() {
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
    // A cluster of the test's own: the shared one has PCN's roles already.
    let cluster = tokio::task::spawn_blocking(|| {
        crate::helpers::OwnClusters::start(|dir| {
            let durability = pcn::cluster::Durability { throwaway: true };
            let c = pcn::cluster::Cluster::start(&dir.join("d"), &dir.join("s"), durability)
                .expect("cluster");
            let url = c.url("postgres");
            (vec![c], vec![url])
        })
    })
    .await
    .unwrap();
    let superuser = &cluster.urls[0];
    let mut su = AsyncPgConnection::establish(superuser).await.unwrap();
    su.batch_execute("CREATE ROLE shop_owner LOGIN CREATEDB")
        .await
        .unwrap();
    su.batch_execute("CREATE DATABASE shop OWNER shop_owner")
        .await
        .unwrap();
    let shop = format!(
        "{}/shop",
        superuser
            .strip_suffix("/postgres")
            .expect("a URL of database postgres")
    );
    let owner = shop.replacen("postgres@", "shop_owner@", 1);

    let out = pcn(&["migrate"], &[("DATABASE_URL", &owner)]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "migrated without roles: {said}");
    assert!(said.contains("have an administrator run"), "{said}");
    assert!(
        said.contains("CREATE ROLE pcn_app LOGIN NOINHERIT"),
        "{said}"
    );

    // The administrator runs exactly that, once; then the owner migrates.
    su.batch_execute(pcn::db::roles::SETUP_SQL).await.unwrap();
    let out = pcn(&["migrate"], &[("DATABASE_URL", &owner)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The tables are the owner's, and the app's own login reads through
    // its roles only.
    let mut conn = AsyncPgConnection::establish(&shop).await.unwrap();
    conn.batch_execute(
        "DO $$ BEGIN IF (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' \
         AND tableowner <> 'shop_owner') > 0 THEN RAISE EXCEPTION 'not the owner''s'; END IF; END $$",
    )
    .await
    .unwrap();
    let mut app = AsyncPgConnection::establish(&pcn::db::app_url(&shop, None))
        .await
        .unwrap();
    assert!(app.batch_execute("SELECT 1 FROM vehicles").await.is_err());
    app.batch_execute("SET ROLE pcn_viewer; SELECT 1 FROM vehicles")
        .await
        .unwrap();
}

/// A database with nothing in it yet (not a copy of the migrated template),
/// so that `pcn migrate` has something to do and to log.
async fn empty_database() -> String {
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
    let name = format!("pcn_cli_{}_{}", std::process::id(), rand::random::<u32>());
    let mut conn = AsyncPgConnection::establish(&database_url("postgres"))
        .await
        .unwrap();
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    database_url(&name)
}

#[tokio::test]
async fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let url = empty_database().await;
    let out = pcn(
        &["migrate"],
        &[("DATABASE_URL", &url), ("RUST_LOG", "info")],
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("applied"), "the migrations were logged: {log}");
    assert!(
        !out.stderr.contains(&0x1b),
        "an escape code in a log sent to a pipe: {log:?}"
    );
}

#[tokio::test]
async fn json_logs_are_one_json_object_a_line_even_when_pcn_fails() {
    let url = empty_database().await;
    let json = [
        ("DATABASE_URL", url.as_str()),
        ("RUST_LOG", "info"),
        ("PCN_LOG_FORMAT", "json"),
    ];
    let lines = |out: &std::process::Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
            })
            .collect()
    };

    let out = pcn(&["migrate"], &json);
    assert!(out.status.success());
    let logged = lines(&out);
    assert!(
        logged
            .iter()
            .any(|l| l["level"] == "INFO" && l["fields"]["message"] == "applied"),
        "{logged:?}"
    );
    assert!(
        logged.iter().all(|l| l["timestamp"].is_string()),
        "{logged:?}"
    );

    // Why it stopped is a JSON line too.
    let missing = url.rsplit_once('/').unwrap().0.to_string() + "/no_such_database";
    let out = pcn(
        &["migrate"],
        &[("DATABASE_URL", &missing), ("PCN_LOG_FORMAT", "json")],
    );
    assert!(!out.status.success());
    let last = lines(&out).pop().expect("a line saying why");
    assert_eq!(last["level"], "ERROR");
    assert!(
        last["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no_such_database")),
        "{last}"
    );

    // An unknown format stops pcn before it does anything.
    let out = pcn(
        &["migrate"],
        &[("DATABASE_URL", &url), ("PCN_LOG_FORMAT", "xml")],
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("PCN_LOG_FORMAT: expected text or json"),
        "{said}"
    );
}

#[tokio::test]
async fn a_restored_backup_serves_the_same_vehicles_sales_and_users() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    app.create_user("viewer", "vera@dealer.example", "quartz lantern otter 7")
        .await;
    for stock in ["BK-1", "BK-2", "BK-3"] {
        add_vehicle(&app, stock).await;
    }
    let sold = add_vehicle(&app, "BK-4").await;
    let sale = sell(&app, sold, "Dana Scully").await;
    let listed = listed_stock_numbers(&app.get("/vehicles").await.text().await.unwrap());
    assert!(listed.contains(&"BK-1".to_string()), "{listed:?}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pcn.dump");
    let file = file.to_str().unwrap();
    let out = pcn(&["backup", file], &[("DATABASE_URL", &app.db_url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up the database to"));
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "a backup holds password hashes");

    // Into another database, migrated and empty: the restore replaces it.
    let target = fresh_database().await;
    let out = pcn(
        &["restore", file],
        &[("DATABASE_URL", &database_url(&target))],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("restored") && said.contains("0 migration(s)"),
        "{said}"
    );

    let restored = TestApp::with(Options {
        database: Some(target),
        ..Options::default()
    })
    .await;
    // Users sign in with their own passwords, and see what was there.
    let r = restored
        .sign_in("vera@dealer.example", "quartz lantern otter 7")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = listed_stock_numbers(&restored.get("/vehicles").await.text().await.unwrap());
    assert_eq!(again, listed);
    let page = restored.get(&sale).await;
    assert_eq!(page.status(), StatusCode::OK);
    let text = Html::parse(&page.text().await.unwrap()).text();
    assert!(
        text.contains("Dana Scully") && text.contains("BK-4"),
        "{text}"
    );
    let admin = client();
    let r = restored
        .sign_in_with(&admin, "admin@dealer.example", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let users = restored.get_with(&admin, "/admin/users").await;
    assert_eq!(users.status(), StatusCode::OK);
    assert!(users.text().await.unwrap().contains("vera@dealer.example"));
    for table in [
        "vehicles",
        "vehicle_history",
        "sales",
        "users",
        "sales_daily",
    ] {
        let sql = format!("SELECT count(*) AS v FROM {table}");
        assert_eq!(
            restored.scalar_i64(&sql).await,
            app.scalar_i64(&sql).await,
            "{table}"
        );
    }
}

#[tokio::test]
async fn restoring_a_file_that_is_not_a_backup_fails_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    add_vehicle(&app, "KEEP-1").await;
    let url = app.db_url.clone();
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("nothing-here.dump");
    let out = pcn(
        &["restore", missing.to_str().unwrap()],
        &[("DATABASE_URL", &url)],
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("nothing-here.dump") && said.contains("No such file"),
        "{said}"
    );

    for (name, bytes) in [
        ("notes.txt", &b"vehicle,price\nBK-1,20000\n"[..]),
        ("fake.dump", &b"PGDMP but not really a dump"[..]),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = pcn(
            &["restore", file.to_str().unwrap()],
            &[("DATABASE_URL", &url)],
        );
        assert!(!out.status.success(), "{name} was restored");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("is not a PCN backup"), "{name}: {said}");
    }
    assert_eq!(
        app.scalar_text("SELECT string_agg(vehicle_number, ',') AS v FROM vehicles")
            .await,
        "KEEP-1"
    );
}
