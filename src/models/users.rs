//! Staff accounts.

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, NullableExpressionMethods as _,
    OptionalExtension as _, QueryDsl as _, QueryResult, SelectableHelper as _,
    TextExpressionMethods as _,
    prelude::{Identifiable, Insertable, Queryable, Selectable},
};
use diesel_async::{
    AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _, SimpleAsyncConnection as _,
};

use crate::{
    domain::{Email, PersonName, Role},
    models::{audit, sessions, setup_tokens},
    schema::{invitations, users},
};

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A user about to be created: the one way to build one (admin page, first
/// setup, the command line, test fixtures), from values already validated.
#[derive(Insertable, Debug)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    role: Role,
    password_hash: &'a str,
}

impl<'a> NewUser<'a> {
    pub fn new(
        email: &'a Email,
        first_name: &'a PersonName,
        last_name: &'a PersonName,
        role: Role,
        password_hash: &'a str,
    ) -> Self {
        Self {
            email: email.as_str(),
            first_name: first_name.as_str(),
            last_name: last_name.as_str(),
            role,
            password_hash,
        }
    }
}

/// Why a user could not be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateRefused {
    /// Someone already signs in with this email.
    EmailTaken,
}

/// Why the first admin could not be created through `/setup`.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstAdminRefused {
    /// Somebody exists already: setup is over.
    AlreadySetUp,
    /// The setup link is unknown or expired.
    BadLink,
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

/// The signed-in user's own row, password hash included, as a viewer's
/// connection may read it: through `pcn_own_password_hash()`, which answers
/// for the user the connection acts for and nobody else.
pub async fn find_self(conn: &mut AsyncPgConnection) -> QueryResult<User> {
    diesel::define_sql_function!(fn pcn_user_id() -> diesel::sql_types::Nullable<diesel::sql_types::BigInt>);
    diesel::define_sql_function!(fn pcn_own_password_hash() -> diesel::sql_types::Text);
    users::table
        .filter(pcn_user_id().eq(users::id.nullable()))
        .select((
            users::id,
            users::email,
            users::first_name,
            users::last_name,
            users::role,
            pcn_own_password_hash(),
            users::active,
            users::created_at,
            users::last_sign_in_at,
        ))
        .first(conn)
        .await
}

/// Creates a user; with an `actor` (an admin), the audit row is written in
/// the same transaction.
pub async fn create(
    conn: &mut AsyncPgConnection,
    new: &NewUser<'_>,
    actor: Option<i64>,
) -> QueryResult<Result<User, CreateRefused>> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        // Under a savepoint, so a taken email leaves the transaction usable.
        let inserted = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| insert(conn, new).await)
            .await;
        let user = match inserted {
            Ok(user) => user,
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Ok(Err(CreateRefused::EmailTaken));
            }
            Err(e) => return Err(e),
        };
        if let Some(actor) = actor {
            audit::record(
                conn,
                actor,
                "user created",
                Some(user.id),
                &format!("role {}", new.role),
            )
            .await?;
        }
        Ok(Ok(user))
    })
    .await
}

async fn insert(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
        .await
}

/// Creates the first admin through the setup link: in one transaction, one
/// setup at a time, so two parallel
/// requests cannot both create "the first" admin. The link is used up.
pub async fn create_first_admin(
    conn: &mut AsyncPgConnection,
    new: &NewUser<'_>,
    setup_token_hash: &[u8],
) -> QueryResult<Result<User, FirstAdminRefused>> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        // Setups take turns (a lock of the signed-out role's reach: the
        // users table itself it may not lock).
        conn.batch_execute("SELECT pg_advisory_xact_lock(hashtextextended('pcn-setup', 0))")
            .await?;
        if any_exist(conn).await? {
            return Ok(Err(FirstAdminRefused::AlreadySetUp));
        }
        if !setup_tokens::is_valid(conn, setup_token_hash).await? {
            return Ok(Err(FirstAdminRefused::BadLink));
        }
        let user = insert(conn, new).await?;
        setup_tokens::delete_all(conn).await?;
        Ok(Ok(user))
    })
    .await
}

pub async fn any_exist(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.select(users::id)))
        .get_result(conn)
        .await
}

/// An admin signs `id` out everywhere (but `keep`, their own current session
/// when they sign themselves out): the sessions end and the audit row is
/// written in one transaction. Returns how many ended.
pub async fn sign_out_everywhere(
    conn: &mut AsyncPgConnection,
    id: i64,
    keep: Option<i64>,
    actor: i64,
) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let ended = sessions::revoke_all_for_user(conn, id, keep).await?;
        audit::record(
            conn,
            actor,
            "sessions revoked",
            Some(id),
            &format!("{ended} sessions"),
        )
        .await?;
        Ok(ended)
    })
    .await
}

/// Sets a new password and ends every session of the user, in one
/// transaction; returns how many sessions ended. With an `actor` (an admin
/// setting someone's password) the audit row goes in the same transaction.
pub async fn set_password(
    conn: &mut AsyncPgConnection,
    id: i64,
    hash: &str,
    actor: Option<i64>,
) -> QueryResult<usize> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)
            .await?;
        // A link made before (an invitation, a reset) must not undo this.
        diesel::update(
            invitations::table
                .filter(invitations::user_id.eq(id))
                .filter(invitations::ended_at.is_null()),
        )
        .set(invitations::ended_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
        let ended = sessions::revoke_all_for_user(conn, id, None).await?;
        if let Some(actor) = actor {
            audit::record(
                conn,
                actor,
                "password set",
                Some(id),
                &format!("{ended} sessions ended"),
            )
            .await?;
        }
        Ok(ended)
    })
    .await
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
        let pattern = format!("%{}%", super::escape_like(&text.to_lowercase()));
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
        q = q.filter(users::role.eq(r));
    }
    if let Some(a) = f.active {
        q = q.filter(users::active.eq(a));
    }
    q.order((users::last_name, users::first_name, users::id))
        .limit(500)
        .load(conn)
        .await
}

/// Someone a sale can be recorded for.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct Seller {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
}

impl Seller {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// Who sells: active staff with the editor or admin role, by name. The
/// sale form's salesperson picker, and the check of whom a sale is recorded
/// for (the database holds the same rule: `pcn_sale_salesperson`).
pub async fn sellers(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Seller>> {
    users::table
        .filter(users::active)
        .filter(users::role.eq_any([Role::Editor, Role::Admin]))
        .order((users::last_name, users::first_name, users::id))
        .select((users::id, users::first_name, users::last_name))
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
    crate::db::with_retry(conn, async |conn| {
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            let admins: Vec<i64> = users::table
                .filter(users::role.eq(Role::Admin))
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
            if target.role != role {
                changes.push(format!("role: {} → {}", target.role, role));
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
                    users::role.eq(role),
                    users::active.eq(active),
                ))
                .execute(conn)
                .await?;
            let sessions_ended = if target.role != role || !active {
                sessions::revoke_all_for_user(conn, id, None).await?
            } else {
                0
            };
            audit::record(
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
