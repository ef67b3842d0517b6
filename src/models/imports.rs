//! CSV imports (issue #14 §2): a file's rows, compared with the inventory
//! (one query for every stock number of the file), kept for their uploader
//! for an hour, and written when confirmed, all in one transaction. Each
//! update is an edit made from the version the preview saw, so a vehicle
//! someone changed meanwhile is merged three ways (SPEC §5.1), or the
//! conflict stops the whole import. Who may see a kept import is the
//! database's rule (migration `2026-12-04-000002_vehicle_imports`).

use std::collections::HashMap;

use diesel::{
    ExpressionMethods as _, IntoSql as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    SelectableHelper as _, result::Error as DieselError,
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{Role, VehicleFields, import::Row},
    models::vehicles::{self, Edit, EditOutcome, Refusal, Vehicle},
    schema::{vehicle_imports, vehicles as vehicles_table},
};

/// What confirming will do with a row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plan {
    Add,
    /// Matched vehicle `id`, as it was at `version` when previewed.
    Update {
        id: i64,
        version: i32,
    },
    Unchanged {
        id: i64,
    },
    /// Not imported: why, in a sentence.
    LeftAlone {
        id: Option<i64>,
        why: String,
    },
}

/// A valid row of the file and its plan: what an import keeps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Planned {
    pub line: u64,
    pub fields: VehicleFields,
    pub plan: Plan,
}

/// The vehicles with these stock numbers, in one query.
pub async fn matching(
    conn: &mut AsyncPgConnection,
    numbers: Vec<String>,
) -> QueryResult<HashMap<String, Vehicle>> {
    let found: Vec<Vehicle> = vehicles_table::table
        .filter(vehicles_table::vehicle_number.eq_any(numbers))
        .select(Vehicle::as_select())
        .load(conn)
        .await?;
    Ok(found
        .into_iter()
        .map(|v| (v.vehicle_number.clone(), v))
        .collect())
}

/// Plans each valid row against the vehicles matched by stock number; a
/// status the row may not set becomes that row's problem (the edit form's
/// own rule, `Status::change_problem`).
pub fn plan(rows: &mut [Row], matched: &HashMap<String, Vehicle>, role: Role) -> Vec<Option<Plan>> {
    rows.iter_mut()
        .map(|row| {
            let fields = row.parsed.as_ref().ok()?;
            let plan = match matched.get(&fields.vehicle_number) {
                None if !fields.status.in_stock() => Plan::LeftAlone {
                    id: None,
                    why: format!(
                        "New, but {}: a sale is recorded from the vehicle's page, and only vehicles in stock are added.",
                        fields.status.label().to_lowercase()
                    ),
                },
                None => Plan::Add,
                Some(v) if !v.status.in_stock() => Plan::LeftAlone {
                    id: Some(v.id),
                    why: format!(
                        "Already {}: an import does not change it.",
                        v.status.label().to_lowercase()
                    ),
                },
                Some(v) if v.fields() == *fields => Plan::Unchanged { id: v.id },
                Some(v) => {
                    if let Some(problem) = v.status.change_problem(fields.status, role) {
                        row.parsed = Err(vec![crate::domain::import::RowProblem {
                            column: "status",
                            message: problem.to_string(),
                        }]);
                        return None;
                    }
                    Plan::Update {
                        id: v.id,
                        version: v.version,
                    }
                }
            };
            Some(plan)
        })
        .collect()
}

/// Keeps a previewed import for `user_id` (an hour); their expired ones go.
pub async fn keep(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    file_name: &str,
    rows: &[Planned],
) -> QueryResult<i64> {
    let now = diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>();
    diesel::delete(
        vehicle_imports::table
            .filter(vehicle_imports::user_id.eq(user_id))
            .filter(vehicle_imports::expires_at.lt(now)),
    )
    .execute(conn)
    .await?;
    let rows = serde_json::to_value(rows).map_err(|e| DieselError::SerializationError(e.into()))?;
    diesel::insert_into(vehicle_imports::table)
        .values((
            vehicle_imports::user_id.eq(user_id),
            vehicle_imports::file_name.eq(file_name),
            vehicle_imports::rows.eq(rows),
        ))
        .returning(vehicle_imports::id)
        .get_result(conn)
        .await
}

/// The instance's housekeeping: deletes imports past their hour, confirmed
/// or not. Returns how many.
pub async fn forget_old(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    let now = diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>();
    diesel::delete(vehicle_imports::table.filter(vehicle_imports::expires_at.lt(now)))
        .execute(conn)
        .await
}

/// A kept import of the person acting (row-level security shows nobody
/// anyone else's), unless it expired or was confirmed.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<(String, Vec<Planned>)>> {
    let now = diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>();
    let found: Option<(String, serde_json::Value)> = vehicle_imports::table
        .filter(vehicle_imports::id.eq(id))
        .filter(vehicle_imports::expires_at.gt(now))
        .filter(vehicle_imports::done.is_null())
        .select((vehicle_imports::file_name, vehicle_imports::rows))
        .first(conn)
        .await
        .optional()?;
    // Written by `keep` from `Planned`: anything else is no import.
    Ok(found.and_then(|(name, rows)| Some((name, serde_json::from_value(rows).ok()?))))
}

/// A confirmed import of the person acting, with what it did.
pub async fn result(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<(String, Vec<Planned>, Done)>> {
    let found: Option<(String, serde_json::Value, Option<serde_json::Value>)> =
        vehicle_imports::table
            .filter(vehicle_imports::id.eq(id))
            .filter(vehicle_imports::done.is_not_null())
            .select((
                vehicle_imports::file_name,
                vehicle_imports::rows,
                vehicle_imports::done,
            ))
            .first(conn)
            .await
            .optional()?;
    Ok(found.and_then(|(name, rows, done)| {
        Some((
            name,
            serde_json::from_value(rows).ok()?,
            serde_json::from_value(done?).ok()?,
        ))
    }))
}

/// What a confirmed import did.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Done {
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Merged with someone's change made since the preview.
    pub merged: i64,
}

/// Why nothing was written: the rows (by index into the kept rows) that
/// stopped it, each with what to tell the person.
#[derive(Debug, Default)]
pub struct Stopped {
    pub conflict: bool,
    /// (row, its problems as (column, message)).
    pub rows: Vec<(usize, Problems)>,
}

enum Abort {
    Db(DieselError),
    Stopped(Stopped),
}

impl From<DieselError> for Abort {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

/// A row's problems: (the column, as the file names it; a message).
pub type Problems = Vec<(&'static str, String)>;

fn refusal_text(r: &Refusal) -> Problems {
    match r {
        Refusal::NotFound => vec![("vehicle_number", "This vehicle is gone.".into())],
        Refusal::Invalid(errors) => errors
            .summary()
            .iter()
            .map(|s| (s.name, s.message.to_string()))
            .collect(),
    }
}

/// Writes import `id` in one transaction, and what it did: every row or
/// none. `Ok(None)` when there is no such import (expired, used, another's).
/// First the fast way (the matched vehicles locked in one query, those
/// still on their previewed version saved by one statement, the new ones
/// added by another); should the database refuse a stock number or VIN,
/// once more row by row, which names the rows.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    id: i64,
    user_id: i64,
    role: Role,
) -> QueryResult<Option<Result<Done, Stopped>>> {
    match write(conn, id, user_id, role, true).await {
        Err(e) if Refusal::from_unique_violation(&e).is_some() => {
            write(conn, id, user_id, role, false).await
        }
        other => other,
    }
}

/// One attempt at confirming, the fast way or row by row; a serialization
/// failure or deadlock is tried again (`db::with_retry`).
async fn write(
    conn: &mut AsyncPgConnection,
    id: i64,
    user_id: i64,
    role: Role,
    fast: bool,
) -> QueryResult<Option<Result<Done, Stopped>>> {
    crate::db::with_retry(conn, async |conn| {
        let result = conn
            .transaction::<_, Abort, _>(async |conn| {
                let Some((_, rows)) = find(conn, id).await? else {
                    return Ok(None);
                };
                let done = if fast {
                    write_fast(conn, &rows, user_id, role).await?
                } else {
                    write_each(conn, &rows, user_id, role).await?
                };
                let json = serde_json::to_value(&done)
                    .map_err(|e| DieselError::SerializationError(e.into()))?;
                diesel::update(vehicle_imports::table.find(id))
                    .set(vehicle_imports::done.eq(json))
                    .execute(conn)
                    .await?;
                Ok(Some(done))
            })
            .await;
        match result {
            Ok(done) => Ok(done.map(Ok)),
            Err(Abort::Stopped(s)) => Ok(Some(Err(s))),
            Err(Abort::Db(e)) => Err(e),
        }
    })
    .await
}

fn stop(stopped: Stopped) -> Result<(), Abort> {
    if stopped.rows.is_empty() {
        Ok(())
    } else {
        Err(Abort::Stopped(stopped))
    }
}

async fn write_fast(
    conn: &mut AsyncPgConnection,
    rows: &[Planned],
    user_id: i64,
    role: Role,
) -> Result<Done, Abort> {
    let mut done = Done::default();
    let mut stopped = Stopped::default();
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| match r.plan {
            Plan::Update { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    // In id order, as any two imports lock them: no deadlock between them.
    let locked: HashMap<i64, Vehicle> = vehicles_table::table
        .filter(vehicles_table::id.eq_any(ids))
        .order(vehicles_table::id)
        .for_update()
        .select(Vehicle::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let (mut saving, mut adding) = (Vec::new(), Vec::new());
    for (i, row) in rows.iter().enumerate() {
        match &row.plan {
            Plan::Unchanged { .. } => done.unchanged += 1,
            Plan::LeftAlone { .. } => {}
            Plan::Add => adding.push(&row.fields),
            Plan::Update { id, version } => match locked.get(id) {
                Some(current) if current.version == *version => {
                    let theirs = current.fields();
                    if theirs == row.fields {
                        done.unchanged += 1;
                    } else if let Some(problem) =
                        theirs.status.change_problem(row.fields.status, role)
                    {
                        stopped
                            .rows
                            .push((i, vec![("status", problem.to_string())]));
                    } else {
                        saving.push(vehicles::Saving {
                            id: *id,
                            version: *version,
                            fields: &row.fields,
                            changes: row.fields.changes_from(&theirs),
                        });
                    }
                }
                // Changed since the preview (or gone): merged three ways.
                _ => {
                    let outcome = edit(conn, row, *id, *version, user_id, role).await?;
                    settle(outcome, i, &mut done, &mut stopped);
                }
            },
        }
    }
    stop(stopped)?;
    vehicles::save_many(conn, &saving, user_id, "imported").await?;
    done.updated += saving.len() as i64;
    vehicles::create_many(conn, &adding, user_id, "imported").await?;
    done.added += adding.len() as i64;
    Ok(done)
}

async fn edit(
    conn: &mut AsyncPgConnection,
    row: &Planned,
    id: i64,
    version: i32,
    user_id: i64,
    role: Role,
) -> QueryResult<Result<EditOutcome, Refusal>> {
    let edit = Edit {
        id,
        version,
        user_id,
        role,
        action: "imported",
    };
    vehicles::apply_edit(conn, &edit, |_base| Ok(row.fields.clone())).await
}

/// Counts what became of row `i`'s edit, or records why it stops the import.
fn settle(outcome: Result<EditOutcome, Refusal>, i: usize, done: &mut Done, stopped: &mut Stopped) {
    match outcome {
        Ok(EditOutcome::Saved { merged, .. }) => {
            done.updated += 1;
            if !merged.is_empty() {
                done.merged += 1;
            }
        }
        Ok(EditOutcome::Unchanged) => done.unchanged += 1,
        Ok(EditOutcome::Conflict { conflicts, .. }) => {
            stopped.conflict = true;
            let what = conflicts
                .iter()
                .map(|c| {
                    let message = format!(
                        "{} was changed to “{}” since the preview; the file says “{}”.",
                        c.field.label(),
                        c.theirs,
                        c.mine
                    );
                    (c.field.name(), message)
                })
                .collect();
            stopped.rows.push((i, what));
        }
        Err(refusal) => stopped.rows.push((i, refusal_text(&refusal))),
    }
}

/// Row by row, each in a savepoint, so that every row the database refuses
/// is named (the slow way, after the fast one met a refusal).
async fn write_each(
    conn: &mut AsyncPgConnection,
    rows: &[Planned],
    user_id: i64,
    role: Role,
) -> Result<Done, Abort> {
    let mut done = Done::default();
    let mut stopped = Stopped::default();
    for (i, row) in rows.iter().enumerate() {
        match &row.plan {
            Plan::Unchanged { .. } => done.unchanged += 1,
            Plan::LeftAlone { .. } => {}
            Plan::Add => match vehicles::create_as(conn, &row.fields, user_id, "imported").await? {
                Ok(_) => done.added += 1,
                Err(errors) => stopped
                    .rows
                    .push((i, refusal_text(&Refusal::Invalid(errors)))),
            },
            Plan::Update { id, version } => {
                let outcome = conn
                    .transaction::<_, DieselError, _>(async |conn| {
                        edit(conn, row, *id, *version, user_id, role).await
                    })
                    .await;
                match outcome {
                    Ok(outcome) => settle(outcome, i, &mut done, &mut stopped),
                    Err(e) => match Refusal::from_unique_violation(&e) {
                        Some(r) => stopped.rows.push((i, refusal_text(&r))),
                        None => return Err(e.into()),
                    },
                }
            }
        }
    }
    stop(stopped)?;
    Ok(done)
}
