//! Administration: users and roles, sessions and activity.

use reqwest::StatusCode;

use crate::helpers::{Html, PASSWORD, TestApp, client, location};

const NEW: &str = "orchid lantern meadow 5";

#[tokio::test]
async fn an_admin_creates_a_user_who_can_sign_in() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "Pat@Dealer.example"),
                ("first_name", "Pat"),
                ("last_name", "Lee"),
                ("role", "editor"),
                ("password", NEW),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/admin/users/"));
    assert_eq!(
        app.sign_in_with(&client(), "pat@dealer.example", NEW)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // The same email in another case is taken; bad input is 422 and stores nothing.
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "PAT@dealer.example"),
                ("first_name", "P"),
                ("last_name", "L"),
                ("role", "viewer"),
                ("password", NEW),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Html::parse(&r.text().await.unwrap())
            .field_error("email")
            .is_some()
    );
    let r = app
        .post(
            "/admin/users",
            &[
                ("email", "x@y.example"),
                ("first_name", ""),
                ("last_name", "L"),
                ("role", "root"),
                ("password", "password1234"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Html::parse(&r.text().await.unwrap());
    for f in ["first_name", "role", "password"] {
        assert!(page.field_error(f).is_some(), "{f}");
    }
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 2);
    let list = app.get("/admin/users?q=pat").await.text().await.unwrap();
    // One row, Pat's (the email is the second column).
    let emails: Vec<String> = Html::parse(&list)
        .select("table.data tbody tr")
        .iter()
        .map(|row| row.select("td")[1].text())
        .collect();
    assert_eq!(emails, ["pat@dealer.example"]);
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM audit_log WHERE action = 'user created'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_last_admin_stays_and_nobody_deactivates_themselves() {
    let app = TestApp::spawn().await;
    let me = app.signed_in_as("admin").await;
    let r = app
        .post(
            &format!("/admin/users/{me}"),
            &[
                ("first_name", "Test"),
                ("last_name", "admin"),
                ("role", "editor"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("last active admin"));
    let r = app
        .post(
            &format!("/admin/users/{me}"),
            &[
                ("first_name", "Test"),
                ("last_name", "admin"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cannot deactivate yourself")
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM users WHERE role = 'admin' AND active")
            .await,
        1
    );
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    let a = app.signed_in_as("admin").await;
    let other = app.second_user("admin").await;
    let b = app
        .scalar_i64("SELECT id AS v FROM users WHERE email = 'bob.admin@dealer.example'")
        .await;
    // Tokens first: once one demotion lands, the other admin's session ends.
    let (t1, t2) = (
        app.csrf_token_with(&app.client).await,
        app.csrf_token_with(&other).await,
    );
    let demote = |c: &reqwest::Client, token: &str, target: i64| {
        let path = format!("/admin/users/{target}");
        let fields = [
            ("csrf_token", token.to_string()),
            ("first_name", "X".into()),
            ("last_name", "Y".into()),
            ("role", "viewer".into()),
            ("active", "on".into()),
        ];
        let (app, c) = (&app, c.clone());
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.post_raw_with(&c, &path, &fields).await.status()
        }
    };
    let (r1, r2) = tokio::join!(demote(&app.client, &t1, b), demote(&other, &t2, a));
    assert!(
        r1 == StatusCode::SEE_OTHER || r2 == StatusCode::SEE_OTHER,
        "{r1} {r2}"
    );
    assert_eq!(
        app.scalar_i64("SELECT count(*) AS v FROM users WHERE role = 'admin' AND active")
            .await,
        1
    );
}

#[tokio::test]
async fn deactivation_role_change_password_reset_and_revoke_end_sessions_at_once_everywhere() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    let second_instance = app.sibling().await;
    let staff = app.second_user("editor").await;
    let id = app
        .scalar_i64("SELECT id AS v FROM users WHERE email = 'bob.editor@dealer.example'")
        .await;
    let sign_back_in = || async {
        let c = client();
        assert_eq!(
            app.sign_in_with(&c, "bob.editor@dealer.example", PASSWORD)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        c
    };
    // Role change editor → viewer: the old session ends, and writing is refused at once.
    assert_eq!(
        second_instance
            .get_with(&staff, "/vehicles/new")
            .await
            .status(),
        StatusCode::OK
    );
    let r = app
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("first_name", "Bob"),
                ("last_name", "E"),
                ("role", "viewer"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        second_instance.get_with(&staff, "/vehicles").await.status(),
        StatusCode::SEE_OTHER
    );
    let staff = sign_back_in().await;
    assert_eq!(
        second_instance
            .get_with(&staff, "/vehicles/new")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Sign out everywhere.
    assert_eq!(
        app.post(&format!("/admin/users/{id}/sessions/revoke"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        second_instance.get_with(&staff, "/vehicles").await.status(),
        StatusCode::SEE_OTHER
    );
    // A new password set by the admin.
    let staff = sign_back_in().await;
    let r = app
        .post(
            &format!("/admin/users/{id}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post(&format!("/admin/users/{id}/password"), &[("password", NEW)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        second_instance.get_with(&staff, "/vehicles").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.sign_in_with(&client(), "bob.editor@dealer.example", NEW)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Deactivation.
    let c = client();
    app.sign_in_with(&c, "bob.editor@dealer.example", NEW).await;
    let r = app
        .post(
            &format!("/admin/users/{id}"),
            &[
                ("first_name", "Bob"),
                ("last_name", "E"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        second_instance.get_with(&c, "/vehicles").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.sign_in_with(&client(), "bob.editor@dealer.example", NEW)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Every action is on the audit trail and the activity page.
    assert!(app.scalar_i64("SELECT count(*) AS v FROM audit_log").await >= 4);
    let activity = app.get("/admin/activity").await.text().await.unwrap();
    for expected in [
        "sessions revoked",
        "password set",
        "user changed",
        "Signed-in sessions",
        "Database connections this PCN is using",
        "waiting for work",
    ] {
        assert!(activity.contains(expected), "{expected}");
    }
}

#[tokio::test]
async fn an_admin_setting_their_own_password_here_is_sent_to_their_account_page() {
    let app = TestApp::spawn().await;
    let me = app.signed_in_as("admin").await;
    // The edit page of one's own account offers no password form, but the way to it.
    let page = app
        .get(&format!("/admin/users/{me}/edit"))
        .await
        .text()
        .await
        .unwrap();
    let page = Html::parse(&page);
    assert!(
        page.first(&format!("form[action='/admin/users/{me}/password']"))
            .is_none()
    );
    assert!(page.first("#own-password a[href='/account']").is_some());
    // Posted anyway (without the current password): refused, sent to /account.
    let r = app
        .post(&format!("/admin/users/{me}/password"), &[("password", NEW)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account");
    let account = app.get("/account").await;
    assert_eq!(account.status(), StatusCode::OK, "still signed in");
    assert!(
        account
            .text()
            .await
            .unwrap()
            .contains("enter your current password")
    );
    // The password did not change.
    assert_eq!(
        app.sign_in_with(&client(), "admin@dealer.example", NEW)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in_with(&client(), "admin@dealer.example", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn an_email_with_an_invisible_character_is_refused_beside_its_field() {
    let app = TestApp::spawn().await;
    app.signed_in_as("admin").await;
    for email in [
        "admin@dealer.example\u{200B}",
        "ad\u{200D}min@dealer.example",
        "admin@dealer\u{00AD}.example",
    ] {
        let r = app
            .post(
                "/admin/users",
                &[
                    ("email", email),
                    ("first_name", "Ann"),
                    ("last_name", "Lee"),
                    ("role", "viewer"),
                    ("password", NEW),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email:?}");
        let error = Html::parse(&r.text().await.unwrap())
            .field_error("email")
            .unwrap_or_default();
        assert!(error.contains("invisible"), "{email:?}: {error:?}");
    }
    assert_eq!(app.scalar_i64("SELECT count(*) AS v FROM users").await, 1);
}
