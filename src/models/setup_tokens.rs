//! One-time tokens that let the first admin be created over the web.

use diesel::{ExpressionMethods as _, QueryDsl as _, QueryResult};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::schema::setup_tokens;

/// Tokens stay valid for a day; every server start on an empty database adds one.
pub async fn insert(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<()> {
    diesel::insert_into(setup_tokens::table)
        .values((
            setup_tokens::token_hash.eq(token_hash),
            // By the database clock, like every expiry.
            setup_tokens::expires_at.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "now() + interval '1 day'",
            )),
        ))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn is_valid(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        setup_tokens::table
            .filter(setup_tokens::token_hash.eq(token_hash))
            .filter(setup_tokens::expires_at.gt(diesel::dsl::now)),
    ))
    .get_result(conn)
    .await
}

pub async fn delete_all(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::delete(setup_tokens::table)
        .execute(conn)
        .await
        .map(drop)
}
