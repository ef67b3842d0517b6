//! The audit trail of admin actions (accounts, sessions, voided sales).

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, JoinOnDsl as _, NullableExpressionMethods as _, QueryDsl as _,
    QueryResult, prelude::Queryable,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::schema::{audit_log, users};

pub async fn record(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    action: &str,
    target_user_id: Option<i64>,
    details: &str,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(actor_id),
            audit_log::action.eq(action),
            audit_log::target_user_id.eq(target_user_id),
            audit_log::details.eq(details),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// One entry as pages show it: who did what to whom.
#[derive(Clone, Debug)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// The admin's name, or "system".
    pub actor: String,
    pub action: String,
    /// The email of the user acted on, or empty.
    pub target: String,
    pub details: String,
}

#[derive(Queryable)]
struct Row {
    at: DateTime<Utc>,
    actor_first: Option<String>,
    actor_last: Option<String>,
    action: String,
    target: Option<String>,
    details: String,
}

/// The newest entries, optionally about one user.
pub async fn recent(
    conn: &mut AsyncPgConnection,
    about: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let (actor, target) = diesel::alias!(users as actor, users as target);
    let mut query = audit_log::table
        .left_join(actor.on(audit_log::actor_id.eq(actor.field(users::id).nullable())))
        .left_join(target.on(audit_log::target_user_id.eq(target.field(users::id).nullable())))
        .select((
            audit_log::at,
            actor.field(users::first_name).nullable(),
            actor.field(users::last_name).nullable(),
            audit_log::action,
            target.field(users::email).nullable(),
            audit_log::details,
        ))
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(id) = about {
        query = query.filter(audit_log::target_user_id.eq(id));
    }
    let rows: Vec<Row> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            at: r.at,
            actor: match (r.actor_first, r.actor_last) {
                (Some(first), Some(last)) => format!("{first} {last}"),
                _ => "system".into(),
            },
            action: r.action,
            target: r.target.unwrap_or_default(),
            details: r.details,
        })
        .collect())
}
