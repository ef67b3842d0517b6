//! Many vehicles changed at once (a CSV import): added with one multi-row
//! INSERT, and saved onto the very version a caller locked with one UPDATE,
//! each with its history row, as `changes` writes them one by one. Inside
//! the caller's transaction; a unique violation comes back as the database
//! error (see `Refusal::from_unique_violation`).

use diesel::{
    ExpressionMethods as _, QueryResult,
    result::Error as DieselError,
    sql_types::{Array, Date, Int4, Int8, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use super::changes::EditedColumns;
use crate::{
    domain::VehicleFields,
    schema::{vehicle_history, vehicles},
};

/// Rows per statement: well under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 1000;

/// One history row: vehicle, version, the fields after, the changes.
type HistoryRow<'a> = (i64, i32, &'a VehicleFields, serde_json::Value);

async fn write_histories(
    conn: &mut AsyncPgConnection,
    rows: &[HistoryRow<'_>],
    user_id: i64,
    action: &str,
) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(id, version, fields, changes)| {
                (
                    vehicle_history::vehicle_id.eq(*id),
                    vehicle_history::version.eq(*version),
                    vehicle_history::changed_by.eq(user_id),
                    vehicle_history::action.eq(action),
                    vehicle_history::snapshot
                        .eq(serde_json::to_value(fields).unwrap_or(serde_json::Value::Null)),
                    vehicle_history::changes.eq(changes.clone()),
                )
            })
            .collect();
        diesel::insert_into(vehicle_history::table)
            .values(values)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Adds every vehicle of `all`, version 1, with its history row under
/// `action`; returns their ids in order.
pub async fn create_many(
    conn: &mut AsyncPgConnection,
    all: &[&VehicleFields],
    user_id: i64,
    action: &str,
) -> QueryResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(all.len());
    for chunk in all.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|f| (EditedColumns::from(*f), vehicles::updated_by.eq(user_id)))
            .collect();
        let added: Vec<i64> = diesel::insert_into(vehicles::table)
            .values(values)
            .returning(vehicles::id)
            .get_results(conn)
            .await?;
        ids.extend(added);
    }
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let history: Vec<HistoryRow> = ids
        .iter()
        .zip(all)
        .map(|(id, f)| (*id, 1, *f, empty.clone()))
        .collect();
    write_histories(conn, &history, user_id, action).await?;
    Ok(ids)
}

/// One vehicle to save: its id, the version the caller locked it at, the
/// fields to save and their changes from that version.
pub struct Saving<'a> {
    pub id: i64,
    pub version: i32,
    pub fields: &'a VehicleFields,
    pub changes: serde_json::Value,
}

/// Saves each of `all` onto the version given, one version up, with its
/// history row under `action`. The caller holds the rows' locks, so every
/// one is still on that version; should one not be, nothing is saved.
pub async fn save_many(
    conn: &mut AsyncPgConnection,
    all: &[Saving<'_>],
    user_id: i64,
    action: &str,
) -> QueryResult<()> {
    for chunk in all.chunks(CHUNK) {
        let col = |get: fn(&VehicleFields) -> String| -> Vec<String> {
            chunk.iter().map(|s| get(s.fields)).collect()
        };
        let updated = diesel::sql_query(
            "UPDATE vehicles v SET vehicle_number = u.vehicle_number, vin = u.vin, \
               year = u.year, make = u.make, model = u.model, trim = u.trim, color = u.color, \
               mileage = u.mileage, condition = u.condition, cost_cents = u.cost_cents, \
               list_price_cents = u.list_price_cents, status = u.status, location = u.location, \
               notes = u.notes, received_on = u.received_on, updated_at = now(), \
               updated_by = $18, version = v.version + 1 \
             FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[], \
               $7::text[], $8::text[], $9::text[], $10::int[], $11::text[], $12::bigint[], \
               $13::bigint[], $14::text[], $15::text[], $16::text[], $17::date[]) \
               AS u(id, version, vehicle_number, vin, year, make, model, trim, color, mileage, \
                    condition, cost_cents, list_price_cents, status, location, notes, received_on) \
             WHERE v.id = u.id AND v.version = u.version",
        )
        .bind::<Array<Int8>, _>(chunk.iter().map(|s| s.id).collect::<Vec<_>>())
        .bind::<Array<Int4>, _>(chunk.iter().map(|s| s.version).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(col(|f| f.vehicle_number.clone()))
        .bind::<Array<Nullable<Text>>, _>(
            chunk
                .iter()
                .map(|s| s.fields.vin.clone())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Int4>, _>(chunk.iter().map(|s| s.fields.year).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(col(|f| f.make.clone()))
        .bind::<Array<Text>, _>(col(|f| f.model.clone()))
        .bind::<Array<Text>, _>(col(|f| f.trim.clone()))
        .bind::<Array<Text>, _>(col(|f| f.color.clone()))
        .bind::<Array<Int4>, _>(chunk.iter().map(|s| s.fields.mileage).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(col(|f| f.condition.as_str().to_string()))
        .bind::<Array<Int8>, _>(
            chunk
                .iter()
                .map(|s| s.fields.cost_cents)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Int8>, _>(
            chunk
                .iter()
                .map(|s| s.fields.list_price_cents)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(col(|f| f.status.as_str().to_string()))
        .bind::<Array<Text>, _>(col(|f| f.location.clone()))
        .bind::<Array<Text>, _>(col(|f| f.notes.clone()))
        .bind::<Array<Date>, _>(
            chunk
                .iter()
                .map(|s| s.fields.received_on)
                .collect::<Vec<_>>(),
        )
        .bind::<Int8, _>(user_id)
        .execute(conn)
        .await?;
        if updated != chunk.len() {
            // Cannot happen under the caller's locks; never save onto another version.
            return Err(DieselError::RollbackTransaction);
        }
    }
    let history: Vec<HistoryRow> = all
        .iter()
        .map(|s| (s.id, s.version + 1, s.fields, s.changes.clone()))
        .collect();
    write_histories(conn, &history, user_id, action).await
}
