//! Changing a vehicle: adding one, saving an edit (by three-way merge when
//! someone saved meanwhile), archiving, and moving a locked one to a status
//! (archive, sale, void). Each change locks the row, bumps the version and
//! writes its history row in one transaction.

use chrono::NaiveDate;
use diesel::{
    ExpressionMethods as _, QueryDsl as _, QueryResult,
    prelude::{AsChangeset, Insertable},
    result::{DatabaseErrorKind, Error as DieselError},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use super::{
    Vehicle,
    history::{snapshot, write_history},
    lock,
};
use crate::{
    db::with_retry,
    domain::{
        Condition, FieldErrors, Role, Status, VehicleField,
        vehicle::{BulkAction, Conflict, VehicleFields, merge, proposal},
    },
    schema::vehicles,
};

/// Why a change did not happen.
#[derive(Debug)]
pub enum Refusal {
    NotFound,
    /// Input that the database, or a rule needing the current row, refused.
    Invalid(FieldErrors),
}

/// Turns a unique violation into the field it concerns.
fn unique_violation(err: &DieselError) -> Option<FieldErrors> {
    let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = err else {
        return None;
    };
    let mut errors = FieldErrors::default();
    match info.constraint_name() {
        Some("vehicles_vehicle_number_key") => errors.add(
            VehicleField::VehicleNumber.name(),
            "Another vehicle already has this stock number.",
        ),
        Some("vehicles_vin_in_stock_key") => errors.add(
            VehicleField::Vin.name(),
            "Another vehicle in stock already has this VIN.",
        ),
        _ => return None,
    }
    Some(errors)
}

fn invalid(field: &'static str, message: &str) -> Refusal {
    let mut e = FieldErrors::default();
    e.add(field, message);
    Refusal::Invalid(e)
}

/// The columns a person edits, as `VehicleFields` holds them: one list for
/// adding and for saving (a VIN taken away is written as NULL).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = vehicles, treat_none_as_null = true)]
pub(super) struct EditedColumns<'a> {
    vehicle_number: &'a str,
    vin: Option<&'a str>,
    year: i32,
    make: &'a str,
    model: &'a str,
    trim: &'a str,
    color: &'a str,
    mileage: i32,
    condition: Condition,
    cost_cents: i64,
    list_price_cents: i64,
    status: Status,
    location: &'a str,
    notes: &'a str,
    received_on: NaiveDate,
}

impl<'a> From<&'a VehicleFields> for EditedColumns<'a> {
    fn from(f: &'a VehicleFields) -> Self {
        Self {
            vehicle_number: &f.vehicle_number,
            vin: f.vin.as_deref(),
            year: f.year,
            make: &f.make,
            model: &f.model,
            trim: &f.trim,
            color: &f.color,
            mileage: f.mileage,
            condition: f.condition,
            cost_cents: f.cost_cents,
            list_price_cents: f.list_price_cents,
            status: f.status,
            location: &f.location,
            notes: &f.notes,
            received_on: f.received_on,
        }
    }
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    fields: &VehicleFields,
    user_id: i64,
) -> QueryResult<Result<i64, FieldErrors>> {
    create_as(conn, fields, user_id, "created").await
}

/// Adds a vehicle whose first history row says `action` ("created",
/// "imported"); inside a caller's transaction this is a savepoint, so a
/// refused row leaves the rest of that transaction usable.
pub async fn create_as(
    conn: &mut AsyncPgConnection,
    fields: &VehicleFields,
    user_id: i64,
    action: &str,
) -> QueryResult<Result<i64, FieldErrors>> {
    let result = conn
        .transaction::<_, DieselError, _>(async |conn| {
            let id: i64 = diesel::insert_into(vehicles::table)
                .values((
                    EditedColumns::from(fields),
                    vehicles::updated_by.eq(user_id),
                ))
                .returning(vehicles::id)
                .get_result(conn)
                .await?;
            let empty = serde_json::Value::Object(serde_json::Map::new());
            write_history(conn, id, 1, user_id, action, fields, empty).await?;
            Ok(id)
        })
        .await;
    match result {
        Ok(id) => Ok(Ok(id)),
        Err(e) => match unique_violation(&e) {
            Some(errors) => Ok(Err(errors)),
            None => Err(e),
        },
    }
}

/// What became of an edit.
#[derive(Debug)]
pub enum EditOutcome {
    /// Saved as `version`; `merged` names fields someone else had changed meanwhile.
    Saved {
        version: i32,
        merged: Vec<VehicleField>,
    },
    Unchanged,
    Conflict {
        current: Box<Vehicle>,
        conflicts: Vec<Conflict>,
        /// What to offer for the next save (see `vehicle::proposal`).
        proposal: Box<VehicleFields>,
    },
}

/// Saves `mine`, made from `version`, onto the current row: directly when
/// nothing changed in between, else by three-way merge (SPEC §5.1). The row
/// is locked for the transaction, so concurrent saves queue, never interleave.
pub async fn save_edit(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    mine: &VehicleFields,
    user_id: i64,
    role: Role,
) -> QueryResult<Result<EditOutcome, Refusal>> {
    let edit = Edit {
        id,
        version,
        user_id,
        role,
        action: "edited",
    };
    let result = with_retry(conn, async |conn| {
        conn.transaction::<_, DieselError, _>(async |conn| {
            apply_edit(conn, &edit, |_| Ok(mine.clone())).await
        })
        .await
    })
    .await;
    match result {
        Err(e) => match unique_violation(&e) {
            Some(errors) => Ok(Err(Refusal::Invalid(errors))),
            None => Err(e),
        },
        ok => ok,
    }
}

/// One change of one vehicle by one person: which vehicle, the version the
/// change was made from, and the word its history row carries ("edited",
/// "imported", "bulk change").
#[derive(Clone, Copy, Debug)]
pub struct Edit<'a> {
    pub id: i64,
    pub version: i32,
    pub user_id: i64,
    pub role: Role,
    pub action: &'a str,
}

/// The heart of `save_edit`, inside the caller's transaction: locks the row,
/// makes "mine" from the fields as they were at `edit.version` (the base),
/// and saves it by the three-way rules. For an import (many vehicles, one
/// transaction) and bulk changes (a change made from the version a list
/// showed: `make_mine` gets that version's fields, and may refuse). A unique violation
/// comes back as the database error; see `Refusal::from_unique_violation`.
pub async fn apply_edit(
    conn: &mut AsyncPgConnection,
    edit: &Edit<'_>,
    make_mine: impl FnOnce(&VehicleFields) -> Result<VehicleFields, Refusal>,
) -> QueryResult<Result<EditOutcome, Refusal>> {
    let Edit {
        id,
        version,
        user_id,
        role,
        action,
    } = *edit;
    let Some(current) = lock(conn, id).await? else {
        return Ok(Err(Refusal::NotFound));
    };
    let theirs = current.fields();
    let base = if version == current.version {
        theirs.clone()
    } else {
        match snapshot(conn, id, version).await? {
            Some(base) if version < current.version => base,
            _ => {
                return Ok(Err(invalid(
                    "version",
                    "This form is from an unknown version of the vehicle; reload the page.",
                )));
            }
        }
    };
    let mine = match make_mine(&base) {
        Ok(mine) => mine,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let merged = match merge(&base, &theirs, &mine) {
        Ok(m) => m,
        Err(conflicts) => {
            return Ok(Ok(EditOutcome::Conflict {
                proposal: Box::new(proposal(&base, &theirs, &mine)),
                current: Box::new(current),
                conflicts,
            }));
        }
    };
    if let Some(problem) = theirs.status.change_problem(merged.status, role) {
        return Ok(Err(invalid(VehicleField::Status.name(), problem)));
    }
    if merged == theirs {
        return Ok(Ok(EditOutcome::Unchanged));
    }
    let next = current.version + 1;
    let updated = diesel::update(
        vehicles::table
            .filter(vehicles::id.eq(id))
            .filter(vehicles::version.eq(current.version)),
    )
    .set((
        EditedColumns::from(&merged),
        vehicles::updated_at.eq(diesel::dsl::now),
        vehicles::updated_by.eq(user_id),
        vehicles::version.eq(next),
    ))
    .execute(conn)
    .await?;
    if updated != 1 {
        // Cannot happen under the row lock; never save onto another version.
        return Err(DieselError::RollbackTransaction);
    }
    write_history(
        conn,
        id,
        next,
        user_id,
        action,
        &merged,
        merged.changes_from(&theirs),
    )
    .await?;
    let merged_from_others = if version == current.version {
        Vec::new()
    } else {
        base.changed_fields(&theirs)
    };
    Ok(Ok(EditOutcome::Saved {
        version: next,
        merged: merged_from_others,
    }))
}

impl Refusal {
    /// A unique violation (stock number, VIN in stock) as the field it
    /// concerns; none for any other error.
    pub fn from_unique_violation(err: &DieselError) -> Option<Self> {
        unique_violation(err).map(Refusal::Invalid)
    }
}

#[derive(Debug)]
pub enum ArchiveOutcome {
    Archived,
    AlreadyArchived,
    Sold,
    Stale,
}

pub async fn archive(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    user_id: i64,
) -> QueryResult<Option<ArchiveOutcome>> {
    conn.transaction::<_, DieselError, _>(async |conn| {
        let Some(current) = lock(conn, id).await? else {
            return Ok(None);
        };
        match current.status {
            Status::Archived => return Ok(Some(ArchiveOutcome::AlreadyArchived)),
            Status::Sold => return Ok(Some(ArchiveOutcome::Sold)),
            _ if current.version != version => return Ok(Some(ArchiveOutcome::Stale)),
            _ => {}
        }
        set_status(conn, &current, Status::Archived, user_id, "archived").await?;
        Ok(Some(ArchiveOutcome::Archived))
    })
    .await
}

/// Moves `v`, locked by this transaction (`lock`), to `status`, one version
/// up, with its history row under `action`. The one way a status changes
/// other than by an edit: archiving, a sale, a void.
pub(crate) async fn set_status(
    conn: &mut AsyncPgConnection,
    v: &Vehicle,
    status: Status,
    user_id: i64,
    action: &str,
) -> QueryResult<()> {
    let before = v.fields();
    let mut after = before.clone();
    after.status = status;
    let next = v.version + 1;
    diesel::update(
        vehicles::table
            .filter(vehicles::id.eq(v.id))
            .filter(vehicles::version.eq(v.version)),
    )
    .set((
        vehicles::status.eq(status),
        vehicles::updated_at.eq(diesel::dsl::now),
        vehicles::updated_by.eq(user_id),
        vehicles::version.eq(next),
    ))
    .execute(conn)
    .await?;
    write_history(
        conn,
        v.id,
        next,
        user_id,
        action,
        &after,
        after.changes_from(&before),
    )
    .await
}

/// What became of one vehicle of a bulk change.
#[derive(Debug)]
pub enum BulkOutcome {
    /// Saved as `version`; `merged` names fields someone else had changed
    /// since the list was shown (kept, alongside this change).
    Changed {
        version: i32,
        merged: Vec<VehicleField>,
    },
    /// It already was so.
    Unchanged,
    /// Someone changed the same field meanwhile: nothing saved.
    Conflict(Vec<Conflict>),
    /// A rule refused it (a sold vehicle's status, a price below zero…).
    Refused(String),
    NotFound,
}

/// Makes `action` to one vehicle, on the `version` the list showed: the
/// same three-way rules as an edit (SPEC §5.1), one transaction and one
/// history row ("bulk change", or "archived") per vehicle, so one refusal
/// never holds back the others.
pub async fn bulk_change(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    user_id: i64,
    role: Role,
    action: &BulkAction,
) -> QueryResult<BulkOutcome> {
    let edit = Edit {
        id,
        version,
        user_id,
        role,
        action: "bulk change",
    };
    with_retry(conn, async |conn| {
        conn.transaction::<_, DieselError, _>(async |conn| {
            if *action == BulkAction::Archive {
                return archive_on(conn, &edit).await;
            }
            let outcome = apply_edit(conn, &edit, |base| {
                action
                    .apply(base)
                    .map_err(|m| invalid(VehicleField::ListPrice.name(), m))
            })
            .await?;
            Ok(match outcome {
                Ok(EditOutcome::Saved { version, merged }) => {
                    BulkOutcome::Changed { version, merged }
                }
                Ok(EditOutcome::Unchanged) => BulkOutcome::Unchanged,
                Ok(EditOutcome::Conflict { conflicts, .. }) => BulkOutcome::Conflict(conflicts),
                Err(Refusal::NotFound) => BulkOutcome::NotFound,
                Err(Refusal::Invalid(errors)) => BulkOutcome::Refused(
                    errors
                        .summary()
                        .into_iter()
                        .next()
                        .map_or_else(String::new, |l| l.message.to_string()),
                ),
            })
        })
        .await
    })
    .await
}

/// Archiving as part of a bulk change: a status move of its own (as the
/// Archive button), refused for a sold vehicle, and reported, not made,
/// when someone changed the status since the list was shown.
async fn archive_on(conn: &mut AsyncPgConnection, edit: &Edit<'_>) -> QueryResult<BulkOutcome> {
    let Some(current) = lock(conn, edit.id).await? else {
        return Ok(BulkOutcome::NotFound);
    };
    match current.status {
        Status::Archived => return Ok(BulkOutcome::Unchanged),
        Status::Sold => {
            return Ok(BulkOutcome::Refused(
                "It is sold: void its sale first if it should come off the books.".into(),
            ));
        }
        _ => {}
    }
    if edit.version != current.version {
        let base = match snapshot(conn, edit.id, edit.version).await? {
            Some(base) if edit.version < current.version => base,
            _ => {
                return Ok(BulkOutcome::Refused(
                    "The list showed an unknown version of it; reload the list.".into(),
                ));
            }
        };
        if base.status != current.status {
            return Ok(BulkOutcome::Conflict(vec![Conflict {
                field: VehicleField::Status,
                base: base.status.label().to_string(),
                theirs: current.status.label().to_string(),
                mine: Status::Archived.label().to_string(),
            }]));
        }
    }
    set_status(conn, &current, Status::Archived, edit.user_id, "archived").await?;
    Ok(BulkOutcome::Changed {
        version: current.version + 1,
        merged: Vec::new(),
    })
}
