//! Forms kept across the end of a session (issue #13 §3): what someone typed
//! into a form they sent after their session had ended by itself, given back
//! to them, once, when they open that form again after signing in. Who may
//! keep, read and prune them is the database's rule (migration
//! `2026-12-02-000003_kept_forms`).

use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, IntoSql as _, OptionalExtension as _,
    QueryDsl as _, QueryResult,
    prelude::QueryableByName,
    sql_types::{Bytea, Int8, Jsonb, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::schema::kept_forms;

/// A form's fields as sent, in order, as (name, value) pairs.
pub type Fields = Vec<(String, String)>;

#[derive(QueryableByName)]
struct Kept {
    #[diesel(sql_type = Nullable<Int8>)]
    owner: Option<i64>,
}

/// Keeps `fields` (for the form on `form_page`) for the person whose
/// session `session_token` named, under the handle whose SHA-256 is
/// `handle_hash`. Signed out: runs as the signed-out role, through the one
/// function it may call. Answers whose form it is, or `None` when it was not
/// kept: the session was revoked, its person deactivated, or they have too
/// many forms kept already.
pub async fn keep(
    conn: &mut AsyncPgConnection,
    session_token: &str,
    handle_hash: &[u8],
    form_page: &str,
    fields: &Fields,
) -> QueryResult<Option<i64>> {
    let fields = serde_json::to_value(fields)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::sql_query("SELECT pcn_keep_form($1, $2, $3, $4) AS owner")
        .bind::<Text, _>(session_token)
        .bind::<Bytea, _>(handle_hash)
        .bind::<Text, _>(form_page)
        .bind::<Jsonb, _>(fields)
        .get_result::<Kept>(conn)
        .await
        .map(|k| k.owner)
}

/// The form kept under `handle_hash` for `form_page`, used up by this very
/// statement (a second call finds nothing). Acting for its person: row-level
/// security shows nobody anyone else's.
pub async fn take(
    conn: &mut AsyncPgConnection,
    handle_hash: &[u8],
    form_page: &str,
) -> QueryResult<Option<Fields>> {
    let now = diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>();
    let json: Option<serde_json::Value> = diesel::update(
        kept_forms::table
            .filter(kept_forms::handle_hash.eq(handle_hash))
            .filter(kept_forms::form_page.eq(form_page))
            .filter(kept_forms::used_at.is_null())
            .filter(kept_forms::expires_at.gt(now)),
    )
    .set(kept_forms::used_at.eq(diesel::dsl::now))
    .returning(kept_forms::fields)
    .get_result(conn)
    .await
    .optional()?;
    // Written by `keep` from `Fields`: anything else is no form.
    Ok(json.and_then(|j| serde_json::from_value(j).ok()))
}

/// The instance's housekeeping: deletes kept forms that expired or were
/// used. Returns how many.
pub async fn forget_old(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let now = diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>();
    diesel::delete(
        kept_forms::table.filter(
            kept_forms::used_at
                .is_not_null()
                .or(kept_forms::expires_at.lt(now)),
        ),
    )
    .execute(conn)
    .await
}
