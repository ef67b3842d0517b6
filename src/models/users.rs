//! Staff accounts.

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    SelectableHelper as _,
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
