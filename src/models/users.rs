//! Staff accounts.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, OptionalExtension as _, QueryDsl as _,
    QueryResult, SelectableHelper as _, TextExpressionMethods as _,
    prelude::{Identifiable, Insertable, Queryable, Selectable},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::{domain::Role, schema::users};

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl User {
    /// Unknown role text cannot happen (a CHECK constraint); read it as the least.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Insertable, Debug)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

pub async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<User> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
}

/// Fails with a unique violation when the email is taken.
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

pub async fn any_exist(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id)))
        .get_result(conn)
        .await
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: i64,
    hash: &str,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn record_sign_in(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_sign_in_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Staff are few (hundreds at most): one sorted page of up to 500.
pub async fn list(conn: &mut AsyncPgConnection, f: &UserFilter) -> QueryResult<Vec<User>> {
    let mut q = users::table.into_boxed().select(User::as_select());
    if let Some(text) = f.q.as_deref().filter(|t| !t.is_empty()) {
        let pattern = format!(
            "%{}%",
            text.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        q = q.filter(
            users::email
                .like(pattern.clone())
                .or(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "lower(first_name || ' ' || last_name) LIKE ",
                )
                .bind::<diesel::sql_types::Text, _>(pattern)),
        );
    }
    if let Some(r) = f.role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    if let Some(a) = f.active {
        q = q.filter(users::active.eq(a));
    }
    q.order((users::last_name, users::first_name, users::id))
        .limit(500)
        .load(conn)
        .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated {
        sessions_ended: usize,
        changes: Vec<String>,
    },
    Unchanged,
    NotFound,
    /// Would leave no active admin.
    LastAdmin,
    /// Nobody deactivates themselves.
    SelfDeactivation,
}

/// Changes names, role and active; a role change or deactivation ends the
/// user's sessions in the same transaction. The active admins are locked
/// first (in id order), so two admins demoting each other cannot both win.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    first_name: &str,
    last_name: &str,
    role: Role,
    active: bool,
    actor_id: i64,
) -> QueryResult<UpdateOutcome> {
    use diesel_async::AsyncConnection as _;
    crate::models::vehicles::with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let admins: Vec<i64> = users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .order(users::id)
                .select(users::id)
                .for_update()
                .load(conn)
                .await?;
            let Some(target) = users::table
                .find(id)
                .select(User::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
            else {
                return Ok(UpdateOutcome::NotFound);
            };
            if id == actor_id && !active {
                return Ok(UpdateOutcome::SelfDeactivation);
            }
            let stays_admin = role == Role::Admin && active;
            if admins.contains(&id) && !stays_admin && admins.len() <= 1 {
                return Ok(UpdateOutcome::LastAdmin);
            }
            let mut changes = Vec::new();
            if target.first_name != first_name || target.last_name != last_name {
                changes.push(format!(
                    "name: {} → {first_name} {last_name}",
                    target.full_name()
                ));
            }
            if target.role() != role {
                changes.push(format!("role: {} → {}", target.role(), role));
            }
            if target.active != active {
                changes.push(if active {
                    "reactivated".into()
                } else {
                    "deactivated".into()
                });
            }
            if changes.is_empty() {
                return Ok(UpdateOutcome::Unchanged);
            }
            diesel::update(users::table.find(id))
                .set((
                    users::first_name.eq(first_name),
                    users::last_name.eq(last_name),
                    users::role.eq(role.as_str()),
                    users::active.eq(active),
                ))
                .execute(conn)
                .await?;
            let sessions_ended = if target.role() != role || !active {
                crate::models::sessions::revoke_all_for_user(conn, id, None).await?
            } else {
                0
            };
            crate::models::audit::record(
                conn,
                actor_id,
                "user changed",
                Some(id),
                &changes.join("; "),
            )
            .await?;
            Ok(UpdateOutcome::Updated {
                sessions_ended,
                changes,
            })
        })
        .await
    })
    .await
}
