//! Sign-in attempts: the one record behind throttling and the activity page.
//!
//! Throttling is race-free across instances: the check and the reservation of
//! an attempt happen under transaction-scoped advisory locks on the email and
//! on the address, and a reserved attempt ('pending') counts as a failure until
//! the password check says otherwise.
//!
//! The second step of sign-in (a code, `auth::second_factor`) is counted the
//! same way, per user, in attempts of its own outcomes (`code_pending`,
//! `code_success`, `code_failure`, `code_throttled`), so a right password does
//! not reopen the code step and wrong codes do not lock the password step.

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, QueryDsl as _, QueryResult, QueryableByName,
    prelude::Queryable,
    sql_types::{Int4, Int8, Text, Timestamptz},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::schema::{sign_in_attempts, users};

/// Failures that lock one email, and one address, for `WINDOW_MINUTES`.
pub const EMAIL_LIMIT: i64 = 5;
pub const ADDRESS_LIMIT: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;
/// Wrong codes that lock one user's code step for `WINDOW_MINUTES`.
pub const CODE_LIMIT: i64 = 5;

/// How long attempts are kept (`forget_old`): throttling looks back
/// `WINDOW_MINUTES`, the activity page at the newest; the rest is there to
/// look back on an incident for a while, not for ever.
pub const KEEP_DAYS: i32 = 90;
/// Rows deleted per statement, and statements per `forget_old` at most.
const FORGET_BATCH: i64 = 5_000;
const FORGET_BATCHES: usize = 20;

// The one rule for which attempts count against a limit, written once and
// used both by `reserve` (which refuses) and `locked_now` (which the activity
// page shows), so the two cannot disagree. `a` is the attempt judged.
// An email's failures and pending attempts count within the window and since
// that email's last success; an address's within the window.
macro_rules! counted_against_email {
    () => {
        "a.outcome IN ('failure', 'pending') \
         AND a.attempted_at > greatest(now() - interval '15 minutes', \
             coalesce((SELECT max(s.attempted_at) FROM sign_in_attempts s \
                       WHERE s.email = a.email AND s.outcome = 'success'), '-infinity'))"
    };
}
macro_rules! counted_against_address {
    () => {
        "a.outcome IN ('failure', 'pending') AND a.attempted_at > now() - interval '15 minutes'"
    };
}
// A user's wrong (and pending) codes within the window and since their last
// accepted code.
macro_rules! counted_against_codes {
    () => {
        "a.outcome IN ('code_failure', 'code_pending') \
         AND a.attempted_at > greatest(now() - interval '15 minutes', \
             coalesce((SELECT max(s.attempted_at) FROM sign_in_attempts s \
                       WHERE s.user_id = a.user_id AND s.outcome = 'code_success'), '-infinity'))"
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead and check the password; report the result on this attempt.
    Open { attempt_id: i64 },
    /// Refused; try again after this many seconds.
    Throttled { retry_after_secs: i64 },
}

impl Gate {
    /// Refused when a wait is owed, else open on the attempt just reserved.
    fn after(retry: Option<i64>, attempt_id: i64) -> Self {
        match retry {
            Some(retry_after_secs) => Self::Throttled { retry_after_secs },
            None => Self::Open { attempt_id },
        }
    }
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

/// Seconds until the counted failures `rows` (newest first, at most `limit`)
/// leave room for one more: when full, the oldest frees a place as it leaves
/// the window.
fn wait(rows: &[At], limit: i64) -> Option<i64> {
    let window = chrono::Duration::minutes(WINDOW_MINUTES);
    let now = Utc::now();
    (rows.len() as i64 >= limit)
        .then(|| {
            rows.last()
                .map(|r| (r.at + window - now).num_seconds().max(1))
        })
        .flatten()
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
        let by_email: Vec<At> = diesel::sql_query(concat!(
            "SELECT a.attempted_at AS at FROM sign_in_attempts a WHERE a.email = $1 AND ",
            counted_against_email!(),
            " ORDER BY a.attempted_at DESC LIMIT $2"
        ))
        .bind::<Text, _>(&email)
        .bind::<Int8, _>(EMAIL_LIMIT)
        .load(conn)
        .await?;
        let by_ip: Vec<At> = diesel::sql_query(concat!(
            "SELECT a.attempted_at AS at FROM sign_in_attempts a WHERE a.ip = $1 AND ",
            counted_against_address!(),
            " ORDER BY a.attempted_at DESC LIMIT $2"
        ))
        .bind::<Text, _>(&ip)
        .bind::<Int8, _>(ADDRESS_LIMIT)
        .load(conn)
        .await?;
        let retry = wait(&by_email, EMAIL_LIMIT).max(wait(&by_ip, ADDRESS_LIMIT));
        let outcome = if retry.is_some() {
            "throttled"
        } else {
            "pending"
        };
        let attempt_id: i64 = diesel::insert_into(sign_in_attempts::table)
            .values((
                sign_in_attempts::email.eq(&email),
                sign_in_attempts::ip.eq(&ip),
                sign_in_attempts::outcome.eq(outcome),
                sign_in_attempts::user_id.eq(users::table
                    .filter(users::email.eq(&email))
                    .select(users::id)
                    .single_value()),
            ))
            .returning(sign_in_attempts::id)
            .get_result(conn)
            .await?;
        Ok(Gate::after(retry, attempt_id))
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
    set_outcome(conn, attempt_id, outcome, user_id).await
}

/// Writes how attempt `attempt_id` ended, and whose it was when known.
async fn set_outcome(
    conn: &mut AsyncPgConnection,
    attempt_id: i64,
    outcome: &str,
    user_id: Option<i64>,
) -> QueryResult<()> {
    let row = sign_in_attempts::table.find(attempt_id);
    match user_id {
        Some(user_id) => {
            diesel::update(row)
                .set((
                    sign_in_attempts::outcome.eq(outcome),
                    sign_in_attempts::user_id.eq(user_id),
                ))
                .execute(conn)
                .await
        }
        None => {
            diesel::update(row)
                .set(sign_in_attempts::outcome.eq(outcome))
                .execute(conn)
                .await
        }
    }
    .map(drop)
}

/// Checks the code limit of `user_id` and, when it is not reached, reserves
/// a code attempt (recorded under the user's `email` and the address `ip`).
pub async fn reserve_code(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    email: &str,
    ip: &str,
) -> QueryResult<Gate> {
    let email = email.to_owned();
    let ip = ip.to_owned();
    conn.transaction::<_, diesel::result::Error, _>(async move |conn| {
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('pcn-sign-in-code:' || $1, 0))",
        )
        .bind::<Int8, _>(user_id)
        .execute(conn)
        .await?;
        let counted: Vec<At> = diesel::sql_query(concat!(
            "SELECT a.attempted_at AS at FROM sign_in_attempts a WHERE a.user_id = $1 AND ",
            counted_against_codes!(),
            " ORDER BY a.attempted_at DESC LIMIT $2"
        ))
        .bind::<Int8, _>(user_id)
        .bind::<Int8, _>(CODE_LIMIT)
        .load(conn)
        .await?;
        let retry = wait(&counted, CODE_LIMIT);
        let outcome = if retry.is_some() {
            "code_throttled"
        } else {
            "code_pending"
        };
        let attempt_id: i64 = diesel::insert_into(sign_in_attempts::table)
            .values((
                sign_in_attempts::email.eq(&email),
                sign_in_attempts::ip.eq(&ip),
                sign_in_attempts::outcome.eq(outcome),
                sign_in_attempts::user_id.eq(user_id),
            ))
            .returning(sign_in_attempts::id)
            .get_result(conn)
            .await?;
        Ok(Gate::after(retry, attempt_id))
    })
    .await
}

/// Records how a reserved code attempt ended.
pub async fn finish_code(
    conn: &mut AsyncPgConnection,
    attempt_id: i64,
    outcome: Outcome,
) -> QueryResult<()> {
    let outcome = match outcome {
        Outcome::Success => "code_success",
        Outcome::Failure => "code_failure",
    };
    set_outcome(conn, attempt_id, outcome, None).await
}

/// An email or address that sign-in refuses right now.
#[derive(QueryableByName, Clone, Debug, PartialEq, Eq)]
pub struct Locked {
    /// `email`, `address`, or `codes of` (a user's code step).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Int8)]
    pub failures: i64,
}

/// Every email, address and user's code step at or over its limit: exactly
/// those `reserve` and `reserve_code` would refuse now, since they count
/// with the same rules.
pub async fn locked_now(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Locked>> {
    diesel::sql_query(concat!(
        "SELECT 'email' AS kind, a.email AS key, count(*) AS failures FROM sign_in_attempts a WHERE ",
        counted_against_email!(),
        " GROUP BY a.email HAVING count(*) >= $1 \
         UNION ALL \
         SELECT 'address', a.ip, count(*) FROM sign_in_attempts a WHERE ",
        counted_against_address!(),
        " GROUP BY a.ip HAVING count(*) >= $2 \
         UNION ALL \
         SELECT 'codes of', min(a.email), count(*) FROM sign_in_attempts a WHERE ",
        counted_against_codes!(),
        " GROUP BY a.user_id HAVING count(*) >= $3 ORDER BY 3 DESC, 2"
    ))
    .bind::<Int8, _>(EMAIL_LIMIT)
    .bind::<Int8, _>(ADDRESS_LIMIT)
    .bind::<Int8, _>(CODE_LIMIT)
    .load(conn)
    .await
}

/// A sign-in attempt as the activity page lists it.
#[derive(Queryable, Clone, Debug)]
pub struct Attempt {
    pub attempted_at: DateTime<Utc>,
    pub email: String,
    pub ip: String,
    pub outcome: String,
}

impl Attempt {
    /// The outcome in words (`code failure` for `code_failure`).
    pub fn outcome_label(&self) -> String {
        self.outcome.replace('_', " ")
    }
}

/// The newest attempts, whatever their outcome.
pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<Attempt>> {
    sign_in_attempts::table
        .select((
            sign_in_attempts::attempted_at,
            sign_in_attempts::email,
            sign_in_attempts::ip,
            sign_in_attempts::outcome,
        ))
        .order((
            sign_in_attempts::attempted_at.desc(),
            sign_in_attempts::id.desc(),
        ))
        .limit(limit)
        .load(conn)
        .await
}

/// Deletes attempts older than `KEEP_DAYS`, the oldest first and a batch
/// per statement, so that a first run on a large table never holds one
/// long statement (what is left goes on the next run). Rows that another
/// instance is deleting at the same moment are skipped, not waited for.
/// Returns how many were deleted.
pub async fn forget_old(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let mut removed = 0;
    for _ in 0..FORGET_BATCHES {
        let deleted = diesel::sql_query(
            "DELETE FROM sign_in_attempts WHERE id IN ( \
               SELECT id FROM sign_in_attempts \
               WHERE attempted_at < now() - make_interval(days => $1) \
               ORDER BY attempted_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Int4, _>(KEEP_DAYS)
        .bind::<Int8, _>(FORGET_BATCH)
        .execute(conn)
        .await?;
        removed += deleted;
        if (deleted as i64) < FORGET_BATCH {
            break;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counting_rule_uses_the_window() {
        let window = format!("interval '{WINDOW_MINUTES} minutes'");
        assert!(counted_against_email!().contains(&window));
        assert!(counted_against_address!().contains(&window));
        assert!(counted_against_codes!().contains(&window));
    }
}
