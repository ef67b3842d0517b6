//! A user's second factor: their TOTP secret (`user_totp`) and recovery
//! codes (`recovery_codes`). A time step and a recovery code are each used
//! up by one conditional `UPDATE`, so two parallel uses of one code give
//! exactly one success. Turning the factor on, off, or an admin's reset is
//! audited in the same transaction.

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    SelectableHelper as _,
    prelude::{Queryable, Selectable},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    models::{audit, sessions},
    schema::{recovery_codes, user_totp},
};

/// A user's `user_totp` row.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = user_totp)]
pub struct Factor {
    pub secret: Vec<u8>,
    /// `None` while being set up: not yet a factor.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_used_step: i64,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish_non_exhaustive()
    }
}

pub async fn find(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Option<Factor>> {
    user_totp::table
        .find(user_id)
        .select(Factor::as_select())
        .first(conn)
        .await
        .optional()
}

/// Since when `user_id` signs in with a code, if they do.
pub async fn confirmed_since(
    conn: &mut AsyncPgConnection,
    user_id: i64,
) -> QueryResult<Option<DateTime<Utc>>> {
    user_totp::table
        .find(user_id)
        .select(user_totp::confirmed_at)
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()
        .map(Option::flatten)
}

/// Whether `user_id` signs in with a code (the one rule sign-in and
/// `PCN_REQUIRE_ADMIN_2FA` ask).
pub async fn is_enrolled(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<bool> {
    Ok(confirmed_since(conn, user_id).await?.is_some())
}

/// The factor `user_id` has or is setting up; when there is none, or the
/// one being set up was begun more than 30 minutes ago, one being set up
/// with `secret`: a key someone glimpsed on a screen left open does not
/// stay the one that person will later confirm.
pub async fn begin(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    secret: &[u8],
) -> QueryResult<Factor> {
    diesel::sql_query(
        "INSERT INTO user_totp (user_id, secret) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now() \
         WHERE user_totp.confirmed_at IS NULL \
           AND user_totp.created_at < now() - interval '30 minutes'",
    )
    .bind::<diesel::sql_types::BigInt, _>(user_id)
    .bind::<diesel::sql_types::Bytea, _>(secret)
    .execute(conn)
    .await?;
    user_totp::table
        .find(user_id)
        .select(Factor::as_select())
        .first(conn)
        .await
}

/// Turns the factor being set up on, its first code being of `step`, with
/// new recovery codes (their hashes), and audits it; `false` when there was
/// none being set up (confirmed meanwhile, or removed).
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    step: i64,
    recovery_hashes: &[Vec<u8>],
) -> QueryResult<bool> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let confirmed = diesel::update(
            user_totp::table
                .find(user_id)
                .filter(user_totp::confirmed_at.is_null())
                .filter(user_totp::last_used_step.lt(step)),
        )
        .set((
            user_totp::confirmed_at.eq(diesel::dsl::now),
            user_totp::last_used_step.eq(step),
        ))
        .execute(conn)
        .await?;
        if confirmed == 0 {
            return Ok(false);
        }
        replace_recovery_codes(conn, user_id, recovery_hashes).await?;
        audit::record(
            conn,
            user_id,
            "second factor on",
            Some(user_id),
            &format!("{} recovery codes", recovery_hashes.len()),
        )
        .await?;
        Ok(true)
    })
    .await
}

async fn replace_recovery_codes(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    hashes: &[Vec<u8>],
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = hashes
        .iter()
        .map(|h| {
            (
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
            )
        })
        .collect();
    diesel::insert_into(recovery_codes::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}

/// Uses up time step `step` of the confirmed factor of `user_id`; `false`
/// when that step (or a newer one) was used already.
pub async fn take_step(conn: &mut AsyncPgConnection, user_id: i64, step: i64) -> QueryResult<bool> {
    diesel::update(
        user_totp::table
            .find(user_id)
            .filter(user_totp::confirmed_at.is_not_null())
            .filter(user_totp::last_used_step.lt(step)),
    )
    .set(user_totp::last_used_step.eq(step))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// Uses up the unused recovery code of `user_id` whose hash is `hash`;
/// `false` when there is none.
pub async fn take_recovery_code(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    hash: &[u8],
) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
    .map(|n| n == 1)
}

/// How many of their recovery codes `user_id` has not used.
pub async fn recovery_codes_left(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// Deletes the factor of `user_id` and their recovery codes; whether a
/// confirmed one was there.
async fn delete(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<bool> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    let confirmed: Vec<Option<DateTime<Utc>>> = diesel::delete(user_totp::table.find(user_id))
        .returning(user_totp::confirmed_at)
        .get_results(conn)
        .await?;
    Ok(confirmed.iter().any(Option::is_some))
}

/// `user_id` turns their own factor off (having proved who they are);
/// `false` when it was not on.
pub async fn remove(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<bool> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        if !delete(conn, user_id).await? {
            return Ok(false);
        }
        audit::record(conn, user_id, "second factor off", Some(user_id), "").await?;
        Ok(true)
    })
    .await
}

/// An admin (`actor`) takes the factor of `user_id` away (a lost phone) and
/// ends all their sessions; how many ended, or `None` when they had no
/// factor on (then only a half-done set-up, if any, is gone: nothing audited,
/// no session ended).
pub async fn reset(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    actor: i64,
) -> QueryResult<Option<usize>> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        if !delete(conn, user_id).await? {
            return Ok(None);
        }
        let ended = sessions::revoke_all_for_user(conn, user_id, None).await?;
        audit::record(
            conn,
            actor,
            "second factor reset",
            Some(user_id),
            &format!("{ended} sessions ended"),
        )
        .await?;
        Ok(Some(ended))
    })
    .await
}
