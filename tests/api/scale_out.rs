//! Several instances for real (issue 11): two PCN instances behind HAProxy
//! (Debian's package, started here on a free port), on a PostgreSQL primary
//! with a streaming standby (`pg_basebackup -R`) as their read replica.
//! Sign-in on one instance and pages on the other, an edit through one
//! reaching an event stream on the other, who is editing across instances,
//! and read-your-writes while the replica is held back.
//!
//! Without HAProxy the test is skipped, unless PCN_REQUIRE_HAPROXY=1 (set by
//! CI), where a missing HAProxy is a failure.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use pcn::cluster::{Cluster, Durability};
use reqwest::StatusCode;

use crate::helpers::{
    Options, PASSWORD, TestApp, add_vehicle, client, edit_form, edit_form_from, location, refs,
    text_at, with,
};

/// A primary and its standby, each on a socket folder of its own.
fn replicated() -> crate::helpers::OwnClusters {
    crate::helpers::OwnClusters::start(|dir| {
        let throwaway = Durability { throwaway: true };
        let primary = Cluster::start(&dir.join("p"), &dir.join("ps"), throwaway).expect("primary");
        primary.make_standby(&dir.join("s")).expect("standby");
        let standby = Cluster::start(&dir.join("s"), &dir.join("ss"), throwaway).expect("standby");
        let urls = vec![primary.url("pcn"), standby.url("pcn")];
        (vec![primary, standby], urls)
    })
}

/// HAProxy in front of `backends`, on a free port, stopped on drop.
struct Haproxy {
    child: Child,
    address: String,
    _config: tempfile::NamedTempFile,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy_binary() -> Option<PathBuf> {
    let found = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("PCN_REQUIRE_HAPROXY").as_deref() != Ok("1"),
            "HAProxy is required here (PCN_REQUIRE_HAPROXY=1) but not installed: apt-get install haproxy"
        );
        eprintln!("skipped: HAProxy is not installed (apt-get install haproxy)");
    }
    found
}

impl Haproxy {
    /// The settings that matter for PCN are the ones the README names:
    /// idle timeouts above the event stream's 5 s keep-alive, and
    /// `option forwardfor` with `PCN_TRUSTED_PROXIES` set to HAProxy's
    /// address. `X-Served-By` tells the test which instance answered.
    fn start(binary: &PathBuf, backends: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                format!(
                    "    server pcn{i} {} check inter 1s\n",
                    b.trim_start_matches("http://")
                )
            })
            .collect();
        let config = format!(
            "global\n    maxconn 4096\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n\
             \x20   timeout server 60s\n    timeout http-request 10s\n    option forwardfor\n\
             frontend pcn\n    bind 127.0.0.1:{port}\n    default_backend instances\n\
             backend instances\n    balance roundrobin\n    option httpchk GET /healthz\n\
             \x20   http-response set-header X-Served-By %s\n{servers}"
        );
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, config.as_bytes()).unwrap();
        let child = Command::new(binary)
            .args(["-db", "-f"])
            .arg(file.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start haproxy");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "haproxy did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            _config: file,
        }
    }
}

/// Which instance answered, as HAProxy says.
fn served_by(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The vehicle page's list price, as `c` reads it through `base`.
async fn price_seen(c: &reqwest::Client, base: &str, id: i64) -> String {
    let html = text_at(c, &format!("{base}/vehicles/{id}")).await;
    let page = crate::helpers::Html::parse(&html);
    page.select("dl.details dt")
        .into_iter()
        .zip(page.select("dl.details dd"))
        .find(|(dt, _)| dt.text() == "List price")
        .map(|(_, dd)| dd.text())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_instances_behind_haproxy_on_a_primary_and_its_replica() {
    let Some(haproxy) = haproxy_binary() else {
        return;
    };
    let clusters = tokio::task::spawn_blocking(replicated).await.unwrap();
    let admin = clusters.urls[0].replace("/pcn", "/postgres");
    pcn::db::create_database_if_missing(&admin, "pcn")
        .await
        .unwrap();
    pcn::db::migrate(&clusters.urls[0], None).await.unwrap();
    // The standby has the schema once it has replayed that far.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut standby = loop {
        if let Ok(mut c) = AsyncPgConnection::establish(&clusters.urls[1]).await
            && c.batch_execute("SELECT 1 FROM vehicles LIMIT 1")
                .await
                .is_ok()
        {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "the standby never got the schema"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let instance = || {
        Options {
            database: Some("pcn".into()),
            database_url: Some(clusters.urls[0].clone()),
            ..Options::default()
        }
        .env("PCN_READ_DATABASE_URL", clusters.urls[1].clone())
        .env("PCN_TRUSTED_PROXIES", "127.0.0.1")
    };
    let a = TestApp::with(instance()).await;
    let b = TestApp::with(instance()).await;
    let lb = Haproxy::start(&haproxy, &[&a.address, &b.address]);
    let base = lb.address.clone();
    // HAProxy's health checks have marked both instances up.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    a.create_user("editor", "erin@dealer.example", PASSWORD)
        .await;
    a.create_user("viewer", "val@dealer.example", PASSWORD)
        .await;
    a.exec("UPDATE users SET first_name = 'Erin', last_name = 'Smith' WHERE email = 'erin@dealer.example'")
        .await;
    a.sign_in_with(&a.client, "erin@dealer.example", PASSWORD)
        .await;
    let id = add_vehicle(&a, "LB-1").await;

    // Sign-in through the balancer lands on one instance; the pages that
    // follow are served by both, with the one session.
    let erin = client();
    let login = erin.get(format!("{base}/login")).send().await.unwrap();
    let token = crate::helpers::csrf_from(&login.text().await.unwrap());
    let r = crate::helpers::send_form(
        &erin,
        &format!("{base}/login"),
        &[
            ("csrf_token", token.as_str()),
            ("email", "erin@dealer.example"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let signed_in_on = served_by(&r);
    let mut served = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let r = erin.get(format!("{base}/vehicles")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "signed in on every instance");
        served.insert(served_by(&r));
    }
    assert_eq!(served.len(), 2, "both instances served pages: {served:?}");
    assert!(served.iter().any(|s| *s != signed_in_on));

    // An event stream through the balancer; an edit made directly on the
    // other instance reaches it within a second.
    let val = client();
    b.sign_in_with(&val, "val@dealer.example", PASSWORD).await;
    let stream = val.get(format!("{base}/events")).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let stream_on = served_by(&stream);
    let (writer, other) = if stream_on == "pcn0" {
        (&b, "pcn1")
    } else {
        (&a, "pcn0")
    };
    let mut stream = stream;
    let started = Instant::now();
    let form = with(
        edit_form(writer, &a.client, id).await,
        "list_price",
        "25,000.00",
    );
    let r = writer
        .post_with(&a.client, &format!("/vehicles/{id}"), &refs(&form))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut seen = String::new();
    while !seen.contains("\"action\":\"edited\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("an event")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "{took:?} from {other} to {stream_on}"
    );

    // Who is editing, across instances: Erin has the form open on A, Val
    // asks B.
    let r = a.get_with(&erin, &format!("/vehicles/{id}/edit")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let asked = b
        .get_with(&val, &format!("/vehicles/{id}/presence"))
        .await
        .text()
        .await
        .unwrap();
    assert!(asked.contains("Erin Smith"), "{asked}");

    // Read-your-writes with the replica held back: Erin sees her own save
    // at once; Val, who wrote nothing, reads the replica's older page until
    // it is too far behind, then the primary's.
    let deadline = Instant::now() + Duration::from_secs(10);
    // First the standby has the edit above.
    while standby
        .batch_execute(&format!(
            "DO $$ BEGIN PERFORM 1 FROM vehicles WHERE id = {id} AND list_price_cents = 2500000; \
             IF NOT FOUND THEN RAISE EXCEPTION 'not yet'; END IF; END $$"
        ))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the standby never replayed the edit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(price_seen(&val, &base, id).await, "$25,000.00");
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let html = text_at(&erin, &format!("{base}/vehicles/{id}/edit")).await;
    let token = crate::helpers::csrf_from(&html);
    let form = with(edit_form_from(&html), "list_price", "26,500.00");
    let mut fields = refs(&form);
    fields.push(("csrf_token", &token));
    let r = crate::helpers::send_form(&erin, &format!("{base}/vehicles/{id}"), &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", location(&r));
    for _ in 0..4 {
        // Whichever instance answers, it is hers.
        assert_eq!(price_seen(&erin, &base, id).await, "$26,500.00");
    }
    assert_eq!(
        price_seen(&val, &base, id).await,
        "$25,000.00",
        "the replica, a moment behind, serves those who did not write"
    );
    tokio::time::sleep(pcn::db::replica::MAX_LAG + Duration::from_secs(1)).await;
    assert_eq!(
        price_seen(&val, &base, id).await,
        "$26,500.00",
        "too far behind: the primary serves"
    );
    standby
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    drop(lb);
}
