//! The `pcn` binary itself: `pcn user create` makes an account that signs
//! in, and `pcn serve` runs its own database and stops cleanly on SIGTERM.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;

use crate::helpers::{Options, Served, TestApp, client, database_url, fresh_database};

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
