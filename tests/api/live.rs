//! Live pages over HTTP (issue 11): the change feed reaching event streams on
//! other instances, replay after a reconnect (the browser's and the
//! listener's), streams ending with their session and with the server, a
//! slow reader not holding up a fast one, and who else is editing.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{
        Html, PASSWORD, TestApp, add_vehicle, client, edit_form, is_event_stream, location, refs,
        with,
    },
    proxy::Proxy,
};

/// One Server-Sent Event: `event` is "message" unless named.
#[derive(Debug)]
struct Event {
    id: Option<i64>,
    event: String,
    data: String,
}

impl Event {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

/// An open `GET /events`, read frame by frame.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, c: &reqwest::Client, path: &str, last: Option<i64>) -> Self {
        let mut request = c.get(app.url(path));
        if let Some(id) = last {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("GET /events");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(is_event_stream(&response), "{path} is not an event stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments and the `retry` frame skipped) within
    /// `limit`; `None` when the stream ended, a panic when nothing came.
    async fn next(&mut self, limit: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut has_data = false;
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data.push_str(v);
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(event);
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) => return None,
                Err(_) => panic!("no event within {limit:?}; so far: {:?}", self.buffer),
            }
        }
    }

    /// Every event until none comes for half a second.
    async fn until_quiet(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let got = tokio::time::timeout(
                Duration::from_millis(500),
                self.next(Duration::from_secs(60)),
            )
            .await;
            match got {
                Ok(Some(e)) => events.push(e),
                Ok(None) | Err(_) => return events,
            }
        }
    }

    /// The next change event (presence and the like skipped).
    async fn next_change(&mut self, limit: Duration) -> Event {
        loop {
            let e = self.next(limit).await.expect("the stream ended");
            if e.event == "message" {
                return e;
            }
        }
    }

    /// The next change event about vehicle `id`, skipping others.
    async fn change_of(&mut self, id: i64, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = self.next(left).await.expect("the stream ended");
            if e.event == "message" && e.json()["vehicle_id"] == id {
                return e.json();
            }
        }
    }
}

/// Saves `changes` onto vehicle `id` through its edit form; answers 303.
async fn edit(app: &TestApp, c: &reqwest::Client, id: i64, changes: &[(&str, &str)]) {
    let mut form = edit_form(app, c, id).await;
    for (field, value) in changes {
        form = with(form, field, value);
    }
    let r = app
        .post_with(c, &format!("/vehicles/{id}"), &refs(&form))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "save vehicle {id}");
}

async fn rename(app: &TestApp, email: &str, first: &str, last: &str) {
    app.exec(&format!(
        "UPDATE users SET first_name = '{first}', last_name = '{last}' WHERE email = '{email}'"
    ))
    .await;
}

/// Two instances on one database: on `a`, editor Erin Smith (its client)
/// and a vehicle she added; on `b`, another person of `role`, signed in
/// with the client returned, their event stream open (about that vehicle
/// only, with `scoped`, as its pages ask).
async fn two_instances(
    stock: &str,
    role: &str,
    scoped: bool,
) -> (TestApp, i64, TestApp, reqwest::Client, Events) {
    let a = TestApp::spawn().await;
    a.signed_in_as("editor").await;
    rename(&a, "editor@dealer.example", "Erin", "Smith").await;
    let id = add_vehicle(&a, stock).await;
    let b = a.sibling().await;
    let other = client();
    let email = format!("other.{role}@dealer.example");
    b.create_user(role, &email, PASSWORD).await;
    b.sign_in_with(&other, &email, PASSWORD).await;
    let path = if scoped {
        format!("/events?vehicle={id}")
    } else {
        "/events".to_string()
    };
    let events = Events::open(&b, &other, &path, None).await;
    (a, id, b, other, events)
}

#[tokio::test]
async fn an_edit_on_one_instance_reaches_a_stream_on_another_within_a_second() {
    let (a, id, _b, _watcher, mut events) = two_instances("LIVE-1", "viewer", false).await;

    let started = Instant::now();
    edit(
        &a,
        &a.client,
        id,
        &[("list_price", "23,456.00"), ("notes", "New tyres")],
    )
    .await;
    let change = events.change_of(id, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(change["kind"], "vehicle");
    assert_eq!(change["action"], "edited");
    assert_eq!(change["id"], id);
    assert_eq!(change["version"], 2);
    assert_eq!(change["by"], "Erin Smith");
    assert_eq!(change["fields"], serde_json::json!(["list_price", "notes"]));
    assert_eq!(change["labels"], serde_json::json!(["List price", "Notes"]));
}

#[tokio::test]
async fn a_sale_and_its_void_are_events_about_the_sale() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let id = add_vehicle(&app, "LIVE-2").await;
    let mut events = Events::open(&app, &app.client, "/events", None).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let r = app
        .post(
            &format!("/vehicles/{id}/sell"),
            &[
                ("sale_price", "15000"),
                ("confirm_below_cost", "1"),
                ("sold_on", &today),
                ("customer_name", "Pat Buyer"),
                ("payment_method", "cash"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sale_id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let mut sold = events.change_of(id, Duration::from_secs(5)).await;
    // The vehicle's creation, committed before the stream opened, may still
    // have been on its way through the listener then (a loaded machine):
    // the sale comes after it.
    if sold["action"] == "created" {
        sold = events.change_of(id, Duration::from_secs(5)).await;
    }
    assert_eq!(
        (
            &sold["kind"],
            &sold["action"],
            &sold["id"],
            &sold["version"]
        ),
        (&"sale".into(), &"sold".into(), &sale_id.into(), &2.into())
    );
    let r = app
        .post(
            &format!("/sales/{sale_id}/void"),
            &[("reason", "Customer changed their mind")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let voided = events.change_of(id, Duration::from_secs(5)).await;
    assert_eq!(voided["action"], "sale voided");
    assert_eq!(voided["id"], sale_id);
}

#[tokio::test]
async fn a_browser_that_reconnects_gets_what_it_missed_in_order() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "LIVE-3").await;
    let other = add_vehicle(&app, "LIVE-4").await;
    let mut events = Events::open(&app, &app.client, "/events", None).await;
    edit(&app, &app.client, id, &[("notes", "one")]).await;
    let first = events.next_change(Duration::from_secs(5)).await;
    let last_seen = first.id.expect("events carry ids");
    drop(events);

    // Away: two more changes.
    edit(&app, &app.client, id, &[("notes", "two")]).await;
    edit(&app, &app.client, other, &[("notes", "three")]).await;
    // A replay may repeat a few events from just before (see
    // `models::changes`); after `last_seen` it holds exactly what was missed.
    let mut again = Events::open(&app, &app.client, "/events", Some(last_seen)).await;
    let replayed = again.until_quiet().await;
    let ids: Vec<i64> = replayed.iter().map(|e| e.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    let missed: Vec<(i64, i64)> = replayed
        .iter()
        .filter(|e| e.id.unwrap() > last_seen)
        .map(|e| {
            (
                e.json()["vehicle_id"].as_i64().unwrap(),
                e.json()["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(missed, [(id, 3), (other, 2)]);

    // A page drawn before those changes asks for them by its time.
    let mut since = Events::open(
        &app,
        &app.client,
        "/events?since=2000-01-01T00:00:00Z",
        None,
    )
    .await;
    let seen: Vec<(i64, i64)> = since
        .until_quiet()
        .await
        .iter()
        .map(|e| {
            (
                e.json()["vehicle_id"].as_i64().unwrap(),
                e.json()["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [(id, 1), (other, 1), (id, 2), (id, 3), (other, 2)]);
    // A page drawn after them is sent nothing old.
    let now = chrono::Utc::now() + chrono::Duration::seconds(20);
    let path = format!("/events?since={}", now.format("%Y-%m-%dT%H:%M:%SZ"));
    let mut fresh = Events::open(&app, &app.client, &path, None).await;
    assert!(fresh.until_quiet().await.is_empty());
}

#[tokio::test]
async fn a_listener_cut_off_reconnects_and_replays_what_it_missed() {
    // The app reaches the database only through the proxy; a second
    // instance writes directly while the first one's listener is cut off.
    let (proxy, app) = Proxy::with_app(|_| {}).await;
    let writer = app.sibling().await;
    writer.signed_in_as("editor").await;
    let id = add_vehicle(&writer, "LIVE-5").await;
    let watcher = client();
    app.sign_in_with(&watcher, "editor@dealer.example", PASSWORD)
        .await;
    let mut events = Events::open(&app, &watcher, "/events", None).await;
    edit(&writer, &writer.client, id, &[("notes", "before")]).await;
    assert_eq!(
        events.change_of(id, Duration::from_secs(5)).await["version"],
        2
    );

    proxy.cut();
    edit(&writer, &writer.client, id, &[("notes", "while cut off")]).await;
    edit(&writer, &writer.client, id, &[("notes", "still cut off")]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    // The stream stayed open; the listener came back and read the history.
    let third = events.change_of(id, Duration::from_secs(10)).await;
    let fourth = events.change_of(id, Duration::from_secs(5)).await;
    assert_eq!(
        (third["version"].clone(), fourth["version"].clone()),
        (3.into(), 4.into())
    );

    // And it listens again.
    edit(&writer, &writer.client, id, &[("notes", "after")]).await;
    assert_eq!(
        events.change_of(id, Duration::from_secs(5)).await["version"],
        5
    );
}

#[tokio::test]
async fn a_stream_ends_when_its_session_is_revoked_or_its_role_changes() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let bob = app.second_user("editor").await;
    let mut events = Events::open(&app, &bob, "/events", None).await;
    let bob_id = app
        .scalar_i64("SELECT id AS v FROM users WHERE email = 'bob.editor@dealer.example'")
        .await;
    let r = app
        .post(&format!("/admin/users/{bob_id}/sessions/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ended = events.next(Duration::from_secs(3)).await.expect("told why");
    assert_eq!(ended.event, "ended");
    assert_eq!(ended.json()["reason"], "signed out");
    assert!(
        events.next(Duration::from_secs(3)).await.is_none(),
        "then the stream ends"
    );

    // Demoted: the stream ends so the page learns what it may do now.
    let carol = client();
    app.create_user("editor", "carol@dealer.example", PASSWORD)
        .await;
    app.sign_in_with(&carol, "carol@dealer.example", PASSWORD)
        .await;
    let mut events = Events::open(&app, &carol, "/events", None).await;
    app.exec("UPDATE users SET role = 'viewer' WHERE email = 'carol@dealer.example'")
        .await;
    let ended = events.next(Duration::from_secs(3)).await.expect("told why");
    assert_eq!(
        (ended.event.as_str(), ended.json()["reason"].clone()),
        ("ended", "role changed".into())
    );
    assert!(events.next(Duration::from_secs(3)).await.is_none());
}

#[tokio::test]
async fn a_reader_that_stops_reading_does_not_hold_up_the_others() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "LIVE-6").await;
    let cookie = app
        .sign_in_for_cookie("editor@dealer.example", PASSWORD)
        .await;
    // A browser that asks for the stream, reads its head, then stops
    // reading, with a small receive buffer so that it soon stops taking bytes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket
        .connect(app.address.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    slow.write_all(
        format!("GET /events HTTP/1.1\r\nHost: pcn\r\nCookie: {cookie}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut head = vec![0u8; 512];
    let n = slow.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
    let mut fast = Events::open(&app, &app.client, "/events", None).await;

    // Four bursts of 4,000 changes, each one transaction, by someone with a
    // long name: together more than the kernel buffers of the slow reader's
    // socket (up to 4 MB here) and the channel's backlog hold; the fast
    // reader keeps up with each.
    app.exec(
        "UPDATE users SET first_name = repeat('F', 100), last_name = repeat('L', 100) \
         WHERE email = 'editor@dealer.example'",
    )
    .await;
    const N: i64 = 4000;
    const BURSTS: i64 = 4;
    let started = Instant::now();
    for burst in 0..BURSTS {
        let first = 2 + burst * N;
        app.exec(&format!(
            "INSERT INTO vehicle_history (vehicle_id, version, action, snapshot, changed_by) \
             SELECT {id}, g, 'edited', '{{}}', (SELECT id FROM users WHERE email = 'editor@dealer.example') \
             FROM generate_series({first}, {}) g",
            first + N - 1
        ))
        .await;
        for version in first..first + N {
            let e = fast
                .next(Duration::from_secs(10))
                .await
                .expect("fast reader's stream");
            assert_eq!(e.json()["version"], version);
        }
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(40),
        "the fast reader took {took:?}"
    );

    // The slow one, reading at last, is told to reload, and its stream
    // ends, rather than the server keeping a backlog for it.
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        ended.is_ok(),
        "the slow stream did not end; its last bytes: {}",
        &rest[rest.len().saturating_sub(300)..]
    );
    assert!(
        rest.contains("event: reload\ndata: {\"reason\":\"fell behind\"}"),
        "{}",
        &rest[rest.len().saturating_sub(500)..]
    );
    assert!(
        rest.matches("\ndata: ").count() < (BURSTS * N) as usize,
        "the slow reader was sent everything"
    );
}

#[tokio::test]
async fn streams_end_when_the_server_stops_without_holding_it_up() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let mut events = Events::open(&app, &app.client, "/events", None).await;
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        started.elapsed()
    );
    assert!(events.next(Duration::from_secs(2)).await.is_none());
}

/// What a vehicle page (`path`) says of who is editing, when it says so.
async fn presence_shown(app: &TestApp, c: &reqwest::Client, path: &str) -> Option<String> {
    let html = app.get_with(c, path).await.text().await.unwrap();
    Html::parse(&html)
        .first("[data-presence]")
        .filter(|p| p.attr("hidden").is_none())
        .map(|p| p.text())
}

/// `GET /vehicles/{id}/presence` as `c` on `app`: who else is editing.
async fn editing(app: &TestApp, c: &reqwest::Client, id: i64) -> Value {
    let r = app.get_with(c, &format!("/vehicles/{id}/presence")).await;
    assert_eq!(r.status(), StatusCode::OK);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn who_else_is_editing_shows_across_instances_and_expires() {
    let (a, id, b, bob, mut bobs_events) = two_instances("LIVE-7", "editor", true).await;

    // Nobody yet.
    assert_eq!(
        presence_shown(&b, &bob, &format!("/vehicles/{id}")).await,
        None
    );

    // Erin opens the edit form on instance A; Bob's stream hears of it.
    let r = a.get(&format!("/vehicles/{id}/edit")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = bobs_events.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(
        (e.event.as_str(), e.json()["vehicle_id"].clone()),
        ("presence", id.into())
    );
    let shown = presence_shown(&b, &bob, &format!("/vehicles/{id}"))
        .await
        .expect("shown");
    assert!(
        shown.contains("Being edited now by") && shown.contains("Erin Smith"),
        "{shown}"
    );
    // Bob opening it too sees Erin; Erin's own page does not list herself.
    assert!(
        presence_shown(&b, &bob, &format!("/vehicles/{id}/edit"))
            .await
            .unwrap()
            .contains("Erin Smith")
    );
    let r = editing(&a, &a.client, id).await;
    assert_eq!(r["editors"][0]["name"], "Test editor");
    assert_eq!(r["editors"].as_array().unwrap().len(), 1);

    // Erin's page goes quiet for longer than a heartbeat keeps her there.
    a.exec(
        "UPDATE vehicle_presence SET seen_at = now() - interval '2 minutes' \
            WHERE user_id = (SELECT id FROM users WHERE email = 'editor@dealer.example')",
    )
    .await;
    let r = editing(&b, &bob, id).await;
    assert_eq!(r["editors"], serde_json::json!([]));

    // A heartbeat brings her back; leaving (or saving) takes her away.
    let r = a.post(&format!("/vehicles/{id}/presence"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = editing(&b, &bob, id).await;
    assert_eq!(r["editors"][0]["name"], "Erin Smith");
    let r = a
        .post(&format!("/vehicles/{id}/presence"), &[("leave", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = editing(&b, &bob, id).await;
    assert_eq!(r["editors"], serde_json::json!([]));

    // A stream about one vehicle hears nothing of another.
    let other = add_vehicle(&a, "LIVE-8").await;
    edit(&a, &a.client, other, &[("notes", "elsewhere")]).await;
    edit(&a, &a.client, id, &[("notes", "here")]).await;
    let next = bobs_events.next_change(Duration::from_secs(3)).await;
    assert_eq!(next.json()["vehicle_id"], id);

    // Rows left for an hour are cleared away (the listener does it every
    // 10 minutes).
    a.exec("UPDATE vehicle_presence SET seen_at = now() - interval '2 hours'")
        .await;
    let mut conn = a.db().await;
    assert!(
        pcn::models::presence::forget_stale(&mut conn)
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(
        a.scalar_i64("SELECT count(*) AS v FROM vehicle_presence")
            .await,
        0
    );

    // An unknown vehicle is a 404.
    let r = a.post("/vehicles/999999/presence", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// SPEC §5.3's idle timeout: what a page's script asks by itself (the edit
/// form's heartbeat, who is editing, the event stream) is not activity.
#[tokio::test]
async fn a_pages_own_requests_do_not_keep_an_idle_session_alive() {
    let app = TestApp::spawn().await;
    app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "LIVE-9").await;
    let token = app.csrf_token_with(&app.client).await;
    const IDLE: &str = "SELECT (last_seen_at < now() - interval '90 seconds')::int::int8 AS v \
                        FROM sessions ORDER BY id DESC LIMIT 1";
    app.exec("UPDATE sessions SET last_seen_at = now() - interval '2 minutes'")
        .await;

    let beat = app
        .post_raw(
            &format!("/vehicles/{id}/presence"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(beat.status(), StatusCode::OK);
    let asked = app.get(&format!("/vehicles/{id}/presence")).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let _stream = Events::open(&app, &app.client, "/events", None).await;
    assert_eq!(app.scalar_i64(IDLE).await, 1, "still as idle as before");

    // A page the person opens is activity.
    assert_eq!(app.get("/vehicles").await.status(), StatusCode::OK);
    assert_eq!(app.scalar_i64(IDLE).await, 0);
}

/// A client that opens streams without end gets a 429 past a bound per
/// session; others are not affected.
#[tokio::test]
async fn one_session_cannot_hold_streams_without_end() {
    let app = TestApp::spawn().await;
    app.signed_in_as("viewer").await;
    let mut open = Vec::new();
    for _ in 0..pcn::live::STREAMS_PER_SESSION {
        open.push(Events::open(&app, &app.client, "/events", None).await);
    }
    let refused = app.get("/events").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let other = app.second_user("viewer").await;
    Events::open(&app, &other, "/events", None).await;

    // Pages that go away give their places back, once the server has
    // noticed (its next keep-alive writes fail).
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get("/events").await.status() != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "closed streams never gave their places back"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
