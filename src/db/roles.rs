//! The database roles PCN acts as (`acting`), created before the migrations
//! that grant to them. Roles belong to the whole PostgreSQL cluster, not to
//! one database, so creating them needs `CREATEROLE`: PCN has it on its own
//! cluster; given a `DATABASE_URL` without it, `pcn migrate` prints the SQL
//! an administrator runs once (`SETUP_SQL`), then migrates.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection as _};

/// Creates the roles if missing (safe to run again, and from several
/// processes at once: a role another process just created is fine).
/// `pcn_app` logs in and may only switch to the others (`NOINHERIT`); the
/// others cannot log in. An editor holds everything a viewer does, an admin
/// everything an editor does.
pub const SETUP_SQL: &str = r#"
DO $$
DECLARE r text; g record;
BEGIN
  FOREACH r IN ARRAY ARRAY['pcn_anon', 'pcn_viewer', 'pcn_editor', 'pcn_admin', 'pcn_system'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pcn_app') THEN
    BEGIN
      CREATE ROLE pcn_app LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  -- Each grant once; another process granting it meanwhile is fine too.
  FOR g IN SELECT * FROM (VALUES ('pcn_viewer', 'pcn_editor'), ('pcn_editor', 'pcn_admin'),
      ('pcn_anon', 'pcn_app'), ('pcn_viewer', 'pcn_app'), ('pcn_editor', 'pcn_app'),
      ('pcn_admin', 'pcn_app'), ('pcn_system', 'pcn_app')) AS v (role_name, member) LOOP
    IF NOT pg_has_role(g.member, g.role_name, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', g.role_name, g.member);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
END $$;
"#;

/// Lets the admin role see every connection's state on the activity page
/// (`pg_stat_activity` hides other roles' sessions otherwise). Granting a
/// predefined role needs more than `CREATEROLE`; without it the page shows
/// PCN's own connections only.
const STATS_SQL: &str = "GRANT pg_read_all_stats TO pcn_admin";

#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    #[error(
        "the database user of DATABASE_URL may not create roles; have an administrator run \
         this once (as a superuser or a role with CREATEROLE), then run `pcn migrate` again:\n{sql}"
    )]
    NotAllowed { sql: String },
    #[error("creating the database roles: {0}")]
    Failed(#[from] DieselError),
}

/// Nobody but the owner may create temporary objects in this database: a
/// temporary table could shadow one that a `SECURITY DEFINER` function
/// uses. Run on every migration (a database made from a template, or
/// restored, does not keep its rights).
pub async fn forbid_temporary(conn: &mut AsyncPgConnection) -> Result<(), DieselError> {
    conn.batch_execute(
        "DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', \
         current_database()); END $$",
    )
    .await
}

/// Creates the roles (`SETUP_SQL`), and gives `pcn_app` the password
/// `app_password` when one is configured.
pub async fn ensure(
    conn: &mut AsyncPgConnection,
    app_password: Option<&str>,
) -> Result<(), RolesError> {
    let password_sql =
        app_password.map(|p| format!("ALTER ROLE pcn_app PASSWORD '{}';", p.replace('\'', "''")));
    let refused = |e: &DieselError| {
        matches!(e, DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if ["permission denied", "must have admin option", "must be superuser"]
                .iter()
                .any(|m| info.message().contains(m)))
    };
    let mut sql = SETUP_SQL.to_string();
    if let Some(p) = &password_sql {
        sql.push_str(p);
    }
    match conn.batch_execute(&sql).await {
        Ok(()) => {}
        Err(e) if refused(&e) => {
            let mut shown = SETUP_SQL.trim().to_string();
            if password_sql.is_some() {
                shown.push_str("\nALTER ROLE pcn_app PASSWORD '…';  -- PCN_APP_PASSWORD");
            }
            return Err(RolesError::NotAllowed { sql: shown });
        }
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = conn.batch_execute(STATS_SQL).await {
        tracing::info!(error = %e, "the admin role cannot be let see all connections' state");
    }
    Ok(())
}
