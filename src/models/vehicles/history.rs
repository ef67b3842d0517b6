//! A vehicle's history: one row per version, with a snapshot of its fields
//! (what a three-way merge reads as its base) and the changes as people read
//! them (`{field name: [before, after]}`).

use chrono::{DateTime, Utc};
use diesel::{
    ExpressionMethods as _, NullableExpressionMethods as _, OptionalExtension as _, QueryDsl as _,
    QueryResult,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

use crate::{
    domain::{VehicleField, VehicleFields},
    schema::{users, vehicle_history},
};

pub(super) async fn write_history(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    version: i32,
    user_id: i64,
    action: &str,
    fields: &VehicleFields,
    changes: serde_json::Value,
) -> QueryResult<()> {
    let snapshot = serde_json::to_value(fields).unwrap_or(serde_json::Value::Null);
    diesel::insert_into(vehicle_history::table)
        .values((
            vehicle_history::vehicle_id.eq(vehicle_id),
            vehicle_history::version.eq(version),
            vehicle_history::changed_by.eq(user_id),
            vehicle_history::action.eq(action),
            vehicle_history::snapshot.eq(snapshot),
            vehicle_history::changes.eq(changes),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The editable fields as they were at `version`.
pub(super) async fn snapshot(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
) -> QueryResult<Option<VehicleFields>> {
    let value: Option<serde_json::Value> = vehicle_history::table
        .filter(vehicle_history::vehicle_id.eq(id))
        .filter(vehicle_history::version.eq(version))
        .select(vehicle_history::snapshot)
        .first(conn)
        .await
        .optional()?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// One line of a vehicle's history, with who made it.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub version: i32,
    pub action: String,
    pub changed_at: DateTime<Utc>,
    pub who: String,
    /// In form order.
    pub changes: Vec<FieldChange>,
}

/// One field of a history line, before and after, as people read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: VehicleField,
    pub before: String,
    pub after: String,
}

/// version, action, when, who (first, last name), changes
type HistoryRow = (
    i32,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    serde_json::Value,
);

/// The versions after `since_version`, newest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    id: i64,
    since_version: i32,
) -> QueryResult<Vec<HistoryEntry>> {
    let rows: Vec<HistoryRow> = vehicle_history::table
        .left_join(users::table)
        .filter(vehicle_history::vehicle_id.eq(id))
        .filter(vehicle_history::version.gt(since_version))
        .order(vehicle_history::version.desc())
        .select((
            vehicle_history::version,
            vehicle_history::action,
            vehicle_history::changed_at,
            users::first_name.nullable(),
            users::last_name.nullable(),
            vehicle_history::changes,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(version, action, changed_at, first, last, changes)| HistoryEntry {
                version,
                action,
                changed_at,
                who: match (first, last) {
                    (Some(f), Some(l)) => format!("{f} {l}"),
                    _ => "system".into(),
                },
                changes: field_changes(&changes),
            },
        )
        .collect())
}

/// The changes JSON as a list in form order. Its keys are written only by
/// `VehicleFields::changes_from` (and the demo loader, with the same names).
fn field_changes(changes: &serde_json::Value) -> Vec<FieldChange> {
    let Some(map) = changes.as_object() else {
        return Vec::new();
    };
    let mut list: Vec<FieldChange> = map
        .iter()
        .filter_map(|(name, pair)| {
            let get = |i: usize| {
                pair.get(i)
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            Some(FieldChange {
                field: VehicleField::parse(name)?,
                before: get(0),
                after: get(1),
            })
        })
        .collect();
    list.sort_by_key(|c| c.field);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_listed_in_form_order() {
        let json = serde_json::json!({
            "status": ["Available", "Sold"],
            "list_price": ["1.00", "2.00"],
            "vehicle_number": ["A", "B"],
        });
        let fields: Vec<VehicleField> = field_changes(&json).iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            [
                VehicleField::VehicleNumber,
                VehicleField::ListPrice,
                VehicleField::Status
            ]
        );
        assert_eq!(field_changes(&json)[2].after, "Sold");
        assert!(field_changes(&serde_json::json!({})).is_empty());
    }
}
