//! Sign-in attempts: the one record behind throttling and the activity page.
//!
//! Throttling is race-free across instances: the check and the reservation of
//! an attempt happen under transaction-scoped advisory locks on the email and
//! on the address, and a reserved attempt ('pending') counts as a failure until
//! the password check says otherwise.

use chrono::{DateTime, Utc};
use diesel::{
    QueryResult, QueryableByName,
    sql_types::{Int8, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

/// Failures that lock one email, and one address, for `WINDOW_MINUTES`.
pub const EMAIL_LIMIT: i64 = 5;
pub const ADDRESS_LIMIT: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead and check the password; report the result on this attempt.
    Open { attempt_id: i64 },
    /// Refused; try again after this many seconds.
    Throttled { retry_after_secs: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

#[derive(QueryableByName)]
struct At {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Int8)]
    id: i64,
}

/// Checks both limits and, when neither is reached, reserves an attempt.
pub async fn reserve(conn: &mut AsyncPgConnection, email: &str, ip: &str) -> QueryResult<Gate> {
    let email = email.to_owned();
    let ip = ip.to_owned();
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('pcn-sign-in-email:' || $1, 0)), \
                    pg_advisory_xact_lock(hashtextextended('pcn-sign-in-ip:' || $2, 0))",
        )
        .bind::<Text, _>(&email)
        .bind::<Text, _>(&ip)
        .execute(conn)
        .await?;
        // Failures of this email since its last success, within the window.
        let by_email: Vec<At> = diesel::sql_query(
            "SELECT attempted_at AS at FROM sign_in_attempts \
             WHERE email = $1 AND outcome IN ('failure', 'pending') \
               AND attempted_at > greatest(now() - make_interval(mins => $2::int), \
                   coalesce((SELECT max(attempted_at) FROM sign_in_attempts \
                             WHERE email = $1 AND outcome = 'success'), '-infinity')) \
             ORDER BY attempted_at DESC LIMIT $3",
        )
        .bind::<Text, _>(&email)
        .bind::<Int8, _>(WINDOW_MINUTES)
        .bind::<Int8, _>(EMAIL_LIMIT)
        .load(conn)
        .await?;
        let by_ip: Vec<At> = diesel::sql_query(
            "SELECT attempted_at AS at FROM sign_in_attempts \
             WHERE ip = $1 AND outcome IN ('failure', 'pending') \
               AND attempted_at > now() - make_interval(mins => $2::int) \
             ORDER BY attempted_at DESC LIMIT $3",
        )
        .bind::<Text, _>(&ip)
        .bind::<Int8, _>(WINDOW_MINUTES)
        .bind::<Int8, _>(ADDRESS_LIMIT)
        .load(conn)
        .await?;
        let now = Utc::now();
        let window = chrono::Duration::minutes(WINDOW_MINUTES);
        // When full, the oldest counted failure frees a place as it leaves the window.
        let wait = |rows: &[At], limit: i64| {
            (rows.len() as i64 >= limit)
                .then(|| {
                    rows.last()
                        .map(|r| (r.at + window - now).num_seconds().max(1))
                })
                .flatten()
        };
        let retry = wait(&by_email, EMAIL_LIMIT).max(wait(&by_ip, ADDRESS_LIMIT));
        let outcome = if retry.is_some() {
            "throttled"
        } else {
            "pending"
        };
        let row: Id = diesel::sql_query(
            "INSERT INTO sign_in_attempts (email, ip, outcome, user_id) \
             VALUES ($1, $2, $3, (SELECT id FROM users WHERE email = $1)) RETURNING id",
        )
        .bind::<Text, _>(&email)
        .bind::<Text, _>(&ip)
        .bind::<Text, _>(outcome)
        .get_result(conn)
        .await?;
        Ok(match retry {
            Some(retry_after_secs) => Gate::Throttled { retry_after_secs },
            None => Gate::Open { attempt_id: row.id },
        })
    })
    .await
}

/// Records how a reserved attempt ended.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    attempt_id: i64,
    outcome: Outcome,
    user_id: Option<i64>,
) -> QueryResult<()> {
    let outcome = match outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    };
    diesel::sql_query(
        "UPDATE sign_in_attempts SET outcome = $2, user_id = coalesce($3, user_id) WHERE id = $1",
    )
    .bind::<Int8, _>(attempt_id)
    .bind::<Text, _>(outcome)
    .bind::<Nullable<Int8>, _>(user_id)
    .execute(conn)
    .await
    .map(drop)
}
