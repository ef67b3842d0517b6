//! Invitation and reset links (`/invite/{token}`): the token is shown once,
//! to the admin who made it; the database keeps its SHA-256.

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    dsl::now,
    sql_types::{Int8, Nullable, Text},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    models::{audit, sessions},
    schema::{invitations, users},
};

/// What a password hash is while a person has not chosen one yet: no
/// password matches it (`app::Passwords::verify` treats it as unknown).
pub const NO_PASSWORD_YET: &str = "!no password yet";

/// Why a link is being made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A new person: the account was just created without a password.
    Invite,
    /// An admin reset the password: the old one stops working now and the
    /// person's sessions end.
    Reset,
}

/// Makes a link for `user_id` (`token_hash` is its SHA-256), ending any
/// earlier open one; for a reset, the old password and the sessions end in
/// the same transaction. Answers when the link expires and how many
/// sessions ended.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    token_hash: &[u8],
    purpose: Purpose,
    admin: i64,
) -> QueryResult<(DateTime<Utc>, usize)> {
    let token_hash = token_hash.to_vec();
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        diesel::update(
            invitations::table
                .filter(invitations::user_id.eq(user_id))
                .filter(invitations::ended_at.is_null()),
        )
        .set(invitations::ended_at.eq(now))
        .execute(conn)
        .await?;
        let expires: DateTime<Utc> = diesel::insert_into(invitations::table)
            .values((
                invitations::token_hash.eq(&token_hash),
                invitations::user_id.eq(user_id),
                invitations::created_by.eq(admin),
            ))
            .returning(invitations::expires_at)
            .get_result(conn)
            .await?;
        let mut ended = 0;
        if purpose == Purpose::Reset {
            diesel::update(users::table.find(user_id))
                .set(users::password_hash.eq(NO_PASSWORD_YET))
                .execute(conn)
                .await?;
            ended = sessions::revoke_all_for_user(conn, user_id, None).await?;
        }
        let action = match purpose {
            Purpose::Invite => "invitation link made",
            Purpose::Reset => "password reset by link",
        };
        audit::record(
            conn,
            admin,
            action,
            Some(user_id),
            &format!("{ended} sessions ended"),
        )
        .await?;
        Ok((expires, ended))
    })
    .await
}

/// Whom the open link `token` is for: (first name, last name, email).
/// Asked of `pcn_open_invitation`, which hashes the token itself.
pub async fn find_open(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> QueryResult<Option<(String, String, String)>> {
    #[derive(diesel::QueryableByName)]
    struct Person {
        #[diesel(sql_type = Text)]
        first_name: String,
        #[diesel(sql_type = Text)]
        last_name: String,
        #[diesel(sql_type = Text)]
        email: String,
    }
    diesel::sql_query("SELECT first_name, last_name, email FROM pcn_open_invitation($1)")
        .bind::<Text, _>(token)
        .get_result::<Person>(conn)
        .await
        .optional()
        .map(|p| p.map(|p| (p.first_name, p.last_name, p.email)))
}

/// When the open link of `user_id` expires, if there is one.
pub async fn open_until(
    conn: &mut AsyncPgConnection,
    user_id: i64,
) -> QueryResult<Option<DateTime<Utc>>> {
    invitations::table
        .filter(invitations::user_id.eq(user_id))
        .filter(invitations::ended_at.is_null())
        .filter(invitations::expires_at.gt(now))
        .select(invitations::expires_at)
        .first(conn)
        .await
        .optional()
}

#[derive(diesel::QueryableByName)]
struct Accepted {
    #[diesel(sql_type = Nullable<Int8>)]
    user_id: Option<i64>,
}

/// Uses the link: sets the password, ends the link and the person's
/// sessions (`pcn_accept_invitation`). `None` when the link is unknown,
/// used, replaced or expired — a second use of one link included.
pub async fn accept(
    conn: &mut AsyncPgConnection,
    token: &str,
    password_hash: &str,
) -> QueryResult<Option<i64>> {
    diesel::sql_query("SELECT pcn_accept_invitation($1, $2) AS user_id")
        .bind::<Text, _>(token)
        .bind::<Text, _>(password_hash)
        .get_result::<Accepted>(conn)
        .await
        .map(|a| a.user_id)
}
