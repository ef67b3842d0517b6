//! Kept forms in the database itself: kept by the signed-out role through
//! `pcn_keep_form` only, read and used up (once) by their own person only,
//! never with a password, pruned by the instance's housekeeping.

use diesel_async::RunQueryDsl as _;
use pcn::db::{Acting, DbRole};

use super::count;
use crate::helpers::{PASSWORD, TestApp};

async fn run(conn: &mut diesel_async::AsyncPgConnection, sql: &str) -> Result<usize, String> {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn only_its_person_can_read_a_kept_form() {
    let app = TestApp::spawn().await;
    let owner = app
        .create_user("editor", "ed@dealer.example", PASSWORD)
        .await;
    let viewer = app
        .create_user("viewer", "vic@dealer.example", PASSWORD)
        .await;
    let admin = app
        .create_user("admin", "ada@dealer.example", PASSWORD)
        .await;
    let token = "a-session-token-of-the-tests-own";
    let mut conn = app.db().await;
    pcn::models::sessions::create(
        &mut conn,
        &pcn::token::sha256(token.as_bytes()),
        owner,
        "127.0.0.1",
        None,
    )
    .await
    .unwrap();
    let fields = vec![("customer_name".to_string(), "Dana Scully".to_string())];
    // Kept signed out, through the one function the signed-out role may call.
    let mut anon = app.state.db(Acting::ANON).await.unwrap();
    let kept = pcn::models::kept_forms::keep(
        &mut anon,
        token,
        &pcn::token::sha256(b"handle"),
        "/vehicles/1/sell",
        &fields,
    )
    .await
    .unwrap();
    assert_eq!(kept, Some(owner));
    let read = async |role: DbRole, user: Option<i64>| {
        let mut conn = app.state.db(Acting { role, user }).await.unwrap();
        run(&mut conn, "SELECT id FROM kept_forms").await
    };
    assert_eq!(read(DbRole::Editor, Some(owner)).await, Ok(1), "its person");
    assert_eq!(read(DbRole::Viewer, Some(viewer)).await, Ok(0), "a viewer");
    assert_eq!(read(DbRole::Admin, Some(admin)).await, Ok(0), "an admin");
    let anon_read = read(DbRole::Anon, None).await.expect_err("signed out");
    assert!(anon_read.contains("permission denied"), "{anon_read}");

    // Another person cannot use it up either; its person can, once.
    let hash = pcn::token::sha256(b"handle");
    let mut vic = app
        .state
        .db(Acting {
            role: DbRole::Viewer,
            user: Some(viewer),
        })
        .await
        .unwrap();
    assert_eq!(
        pcn::models::kept_forms::take(&mut vic, &hash, "/vehicles/1/sell").await,
        Ok(None)
    );
    let mut ed = app
        .state
        .db(Acting {
            role: DbRole::Editor,
            user: Some(owner),
        })
        .await
        .unwrap();
    assert_eq!(
        pcn::models::kept_forms::take(&mut ed, &hash, "/vehicles/1/sell").await,
        Ok(Some(fields))
    );
    assert_eq!(
        pcn::models::kept_forms::take(&mut ed, &hash, "/vehicles/1/sell").await,
        Ok(None),
        "once"
    );

    // Even called by hand, the function keeps no password.
    let password = vec![("password".to_string(), "hunter2 hunter2".to_string())];
    let refused = pcn::models::kept_forms::keep(
        &mut anon,
        token,
        &pcn::token::sha256(b"another handle"),
        "/admin/users/new",
        &password,
    )
    .await;
    assert!(refused.is_err(), "a password is never kept");

    // The instance's housekeeping deletes what was used (and what expired).
    let mut system = app.state.db(Acting::SYSTEM).await.unwrap();
    assert_eq!(
        pcn::models::kept_forms::forget_old(&mut system).await,
        Ok(1)
    );
    assert_eq!(count(&app, "kept_forms").await, 0);
}
