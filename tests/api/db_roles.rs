//! The database enforces roles itself (issue #12 §1): the connections the
//! running app draws act as database roles that hold only their PCN role's
//! grants, so PostgreSQL refuses what a handler bug might try.

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _, SimpleAsyncConnection as _};
use pcn::db::{Acting, DbRole, Pooled};

use crate::helpers::{TestApp, add_vehicle, sell};

/// A connection from the app's own pool, acting as a request of `role` by
/// `user` would (what `Signed::db` hands a handler).
pub(crate) async fn acting(app: &TestApp, role: DbRole, user: Option<i64>) -> Pooled {
    app.state
        .db(Acting { role, user })
        .await
        .expect("a pooled connection")
}

pub(crate) async fn run(conn: &mut AsyncPgConnection, sql: &str) -> Result<usize, String> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map_err(|e| e.to_string())
}

pub(crate) fn assert_denied(outcome: Result<usize, String>, what: &str) {
    match outcome {
        Err(e) => assert!(
            e.contains("permission denied") || e.contains("violates row-level security policy"),
            "{what}: refused, but not for permission: {e}"
        ),
        Ok(n) => panic!("{what}: the database allowed it ({n} rows)"),
    }
}

#[derive(QueryableByName)]
struct Who {
    #[diesel(sql_type = Text)]
    session_user: String,
    #[diesel(sql_type = Text)]
    current_user: String,
    #[diesel(sql_type = Text)]
    acting_for: String,
}

async fn who(conn: &mut AsyncPgConnection) -> Who {
    diesel::sql_query(
        "SELECT session_user::text AS session_user, current_user::text AS current_user, \
                coalesce(current_setting('pcn.user_id', true), '') AS acting_for",
    )
    .get_result(conn)
    .await
    .expect("who")
}

async fn some_sale(app: &TestApp) -> i64 {
    app.signed_in_as("editor").await;
    let id = add_vehicle(app, "R-1").await;
    sell(app, id, "Dana Scully").await;
    id
}

#[tokio::test]
async fn the_app_logs_in_as_a_role_that_owns_nothing_and_may_do_nothing_itself() {
    let app = TestApp::spawn().await;
    let mut conn = acting(&app, DbRole::Viewer, None).await;
    let w = who(&mut conn).await;
    assert_eq!(w.session_user, "pcn_app");
    assert_eq!(w.current_user, "pcn_viewer");
    let owned = app
        .scalar_i64(
            "SELECT count(*) AS v FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner \
             WHERE r.rolname LIKE 'pcn\\_%'",
        )
        .await;
    assert_eq!(owned, 0, "the app's roles own no table, view or sequence");
    // Itself, without acting for anyone, pcn_app reads nothing.
    conn.batch_execute("RESET ROLE").await.unwrap();
    assert_denied(
        run(&mut conn, "SELECT 1 FROM vehicles").await,
        "pcn_app itself",
    );
    conn.switched_to(None);
}

#[tokio::test]
async fn a_viewers_connection_reads_but_the_database_refuses_its_writes() {
    let app = TestApp::spawn().await;
    let viewer = app
        .create_user("viewer", "vera@example.com", "a long enough passphrase")
        .await;
    let sale = some_sale(&app).await;
    let mut conn = acting(&app, DbRole::Viewer, Some(viewer)).await;
    assert!(run(&mut conn, "SELECT id FROM vehicles").await.is_ok());
    assert!(run(&mut conn, "SELECT id FROM sales").await.is_ok());
    assert_denied(
        run(&mut conn, "UPDATE vehicles SET list_price_cents = 1").await,
        "a viewer changing a price",
    );
    assert_denied(
        run(
            &mut conn,
            "INSERT INTO vehicle_history (vehicle_id, version, action, snapshot, changes) \
             VALUES (1, 99, 'edited', '{}', '{}')",
        )
        .await,
        "a viewer writing history",
    );
    assert_denied(
        run(
            &mut conn,
            &format!("UPDATE sales SET void_reason = 'x' WHERE id = {sale}"),
        )
        .await,
        "a viewer voiding a sale",
    );
    assert_denied(
        run(&mut conn, "SELECT password_hash FROM users").await,
        "a viewer reading password hashes",
    );
    assert_denied(
        run(&mut conn, "UPDATE users SET role = 'admin'").await,
        "a viewer making themselves admin",
    );
    // Sessions: their own, yes; anyone else's, no (row-level security).
    app.exec(&format!(
        "INSERT INTO sessions (token_hash, user_id) VALUES ('\\x01', {viewer})"
    ))
    .await;
    let others = run(
        &mut conn,
        &format!("UPDATE sessions SET revoked_at = now() WHERE user_id <> {viewer}"),
    )
    .await;
    assert_eq!(others, Ok(0), "someone else's sessions are out of reach");
    let own = run(
        &mut conn,
        &format!("UPDATE sessions SET last_seen_at = now() WHERE user_id = {viewer}"),
    )
    .await;
    assert_eq!(own, Ok(1), "their own session bookkeeping");
    // Someone else's second-factor secret is out of sight.
    let editor = app
        .scalar_i64("SELECT id AS v FROM users WHERE role = 'editor'")
        .await;
    app.exec(&format!(
        "INSERT INTO user_totp (user_id, secret) VALUES ({editor}, '\\x{}')",
        "ab".repeat(20)
    ))
    .await;
    assert_eq!(
        run(&mut conn, "SELECT secret FROM user_totp").await,
        Ok(0),
        "a viewer sees no one else's secret"
    );
    let live_elsewhere = app
        .scalar_i64(&format!(
            "SELECT count(*) AS v FROM sessions WHERE user_id <> {viewer} AND revoked_at IS NULL"
        ))
        .await;
    assert!(live_elsewhere >= 1, "the editor is still signed in");
}

#[tokio::test]
async fn an_editors_connection_writes_inventory_but_cannot_touch_users() {
    let app = TestApp::spawn().await;
    let editor = app.signed_in_as("editor").await;
    add_vehicle(&app, "E-1").await;
    let mut conn = acting(&app, DbRole::Editor, Some(editor)).await;
    assert_eq!(
        run(&mut conn, "UPDATE vehicles SET location = 'Lot B'").await,
        Ok(1)
    );
    assert_denied(
        run(
            &mut conn,
            &format!("UPDATE users SET role = 'admin' WHERE id = {editor}"),
        )
        .await,
        "an editor promoting themselves",
    );
    assert_denied(
        run(&mut conn, "UPDATE users SET active = false").await,
        "an editor deactivating people",
    );
    assert_denied(
        run(
            &mut conn,
            "INSERT INTO users (email, first_name, last_name, role, password_hash) \
             VALUES ('x@example.com', 'X', 'Y', 'admin', 'h')",
        )
        .await,
        "an editor creating a user",
    );
    assert_denied(
        run(&mut conn, "SELECT password_hash FROM users").await,
        "an editor reading password hashes",
    );
    assert_denied(
        run(&mut conn, "SELECT * FROM audit_log").await,
        "an editor reading the audit log",
    );
}

#[tokio::test]
async fn an_ended_session_stays_ended_and_only_an_admin_archives() {
    let app = TestApp::spawn().await;
    let editor = app.signed_in_as("editor").await;
    let id = add_vehicle(&app, "G-1").await;
    app.exec(&format!(
        "INSERT INTO sessions (token_hash, user_id, revoked_at) VALUES ('\\x02', {editor}, now())"
    ))
    .await;
    for role in [DbRole::Anon, DbRole::Editor] {
        let mut conn = acting(&app, role, Some(editor)).await;
        assert_denied(
            run(
                &mut conn,
                "UPDATE sessions SET revoked_at = NULL WHERE token_hash = '\\x02'",
            )
            .await,
            &format!("{} reopening an ended session", role.name()),
        );
    }
    let mut conn = acting(&app, DbRole::Editor, Some(editor)).await;
    assert_denied(
        run(
            &mut conn,
            &format!("UPDATE vehicles SET status = 'archived' WHERE id = {id}"),
        )
        .await,
        "an editor archiving",
    );
    // In their own name only.
    assert_denied(
        run(
            &mut conn,
            &format!(
                "INSERT INTO audit_log (actor_id, action, details) VALUES ({}, 'forged', '')",
                editor + 1
            ),
        )
        .await,
        "an editor writing the audit in someone else's name",
    );
    let admin = app
        .create_user("admin", "root@example.com", "a long enough passphrase")
        .await;
    let mut conn = acting(&app, DbRole::Admin, Some(admin)).await;
    assert_eq!(
        run(
            &mut conn,
            &format!("UPDATE vehicles SET status = 'archived' WHERE id = {id}")
        )
        .await,
        Ok(1)
    );
    // The signed-out role reads no invitation, hashed or not.
    let mut conn = acting(&app, DbRole::Anon, None).await;
    assert_denied(
        run(&mut conn, "SELECT token_hash FROM invitations").await,
        "anon reading links",
    );
    assert_denied(
        run(&mut conn, "CREATE TEMPORARY TABLE sessions (id int)").await,
        "a temporary table to shadow one",
    );
}

#[tokio::test]
async fn nobody_can_delete_a_sale_its_history_or_the_audit_log() {
    let app = TestApp::spawn().await;
    some_sale(&app).await;
    for role in DbRole::ALL {
        let mut conn = acting(&app, role, Some(1)).await;
        for table in ["sales", "vehicle_history", "audit_log", "vehicles", "users"] {
            assert_denied(
                run(&mut conn, &format!("DELETE FROM {table}")).await,
                &format!("{} deleting from {table}", role.name()),
            );
        }
    }
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM sales").await, 1);
}

#[tokio::test]
async fn the_instances_housekeeping_runs_as_its_own_role() {
    let app = TestApp::spawn().await;
    app.exec(
        "INSERT INTO sign_in_attempts (email, ip, attempted_at, outcome) \
         VALUES ('old@example.com', '10.0.0.1', now() - interval '100 days', 'failure')",
    )
    .await;
    let mut conn = acting(&app, DbRole::System, None).await;
    assert_eq!(pcn::models::attempts::forget_old(&mut conn).await, Ok(1));
    assert!(pcn::models::presence::forget_stale(&mut conn).await.is_ok());
    assert_denied(
        run(&mut conn, "SELECT id FROM audit_log").await,
        "housekeeping reading the audit",
    );
}

#[tokio::test]
async fn signed_out_requests_reach_no_inventory() {
    let app = TestApp::spawn().await;
    some_sale(&app).await;
    let mut conn = acting(&app, DbRole::Anon, None).await;
    for sql in [
        "SELECT id FROM vehicles",
        "SELECT id FROM sales",
        "SELECT id FROM audit_log",
    ] {
        assert_denied(run(&mut conn, sql).await, sql);
    }
    // Once somebody exists, the signed-out role cannot create an admin.
    let e = run(
        &mut conn,
        "INSERT INTO users (email, first_name, last_name, role, password_hash) \
         VALUES ('mallory@example.com', 'M', 'M', 'admin', 'h')",
    )
    .await
    .expect_err("a second first admin");
    assert!(e.contains("row-level security"), "{e}");
}

#[tokio::test]
async fn the_session_lookup_switches_its_connection_to_act_for_that_person() {
    let app = TestApp::spawn().await;
    let viewer = app
        .create_user("viewer", "vic@example.com", "a long enough passphrase")
        .await;
    let token = "a-session-token-of-the-tests-own";
    let hash = pcn::token::sha256(token.as_bytes());
    let mut owner = app.db().await;
    pcn::models::sessions::create(&mut owner, &hash, viewer, "127.0.0.1", None)
        .await
        .unwrap();
    // Start from a connection acting for someone else entirely.
    let mut conn = acting(&app, DbRole::System, None).await;
    let cfg = &app.state.config;
    let found =
        pcn::models::sessions::find_live(&mut conn, &hash, cfg.idle_timeout, cfg.session_lifetime)
            .await
            .unwrap()
            .expect("a live session");
    assert_eq!(found.user_id, viewer);
    let w = who(&mut conn).await;
    assert_eq!(
        (w.current_user.as_str(), w.acting_for.as_str()),
        ("pcn_viewer", viewer.to_string().as_str())
    );
    conn.switched_to(None);
    // An unknown token finds nothing and switches nothing.
    let mut conn = acting(&app, DbRole::Anon, None).await;
    let none = pcn::models::sessions::find_live(
        &mut conn,
        &pcn::token::sha256(b"unknown"),
        cfg.idle_timeout,
        cfg.session_lifetime,
    )
    .await
    .unwrap();
    assert!(none.is_none());
    assert_eq!(who(&mut conn).await.current_user, "pcn_anon");
}
