//! The inventory: a vehicle's row, finding and locking it, its history
//! (`history`); changing it (`changes`: adding, saving an edit, archiving,
//! setting its status); and the list (`listing`, with `search`). Every
//! change writes its history row in the same transaction.

mod bulk;
mod cached;
mod changes;
mod history;
mod listing;
mod search;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    OptionalExtension as _, QueryDsl as _, QueryResult, SelectableHelper as _,
    pg::Pg,
    prelude::{Queryable, QueryableByName, Selectable},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};

pub use bulk::{Saving, create_many, save_many};
pub use cached::{ESTIMATE_FOR, Estimates, MAKES_FOR, Makes};
pub(crate) use changes::set_status;
pub use changes::{
    ArchiveOutcome, BulkOutcome, Edit, EditOutcome, Refusal, apply_edit, archive, bulk_change,
    create, create_as, save_edit,
};
pub use history::{FieldChange, HistoryEntry, history};
pub use listing::{
    COUNT_CAP, Cursor, ListFilter, Listing, Sort, SortKey, StatusFilter, Total, VehicleRow,
    count_capped, list, makes, page,
};

use crate::{
    domain::{Condition, Status, VehicleFields},
    schema::vehicles,
};

#[derive(Queryable, Selectable, QueryableByName, Clone, Debug)]
#[diesel(table_name = vehicles, check_for_backend(Pg))]
pub struct Vehicle {
    pub id: i64,
    pub vehicle_number: String,
    pub vin: Option<String>,
    pub year: i32,
    pub make: String,
    pub model: String,
    pub trim: String,
    pub color: String,
    pub mileage: i32,
    pub condition: Condition,
    pub cost_cents: i64,
    pub list_price_cents: i64,
    pub status: Status,
    pub location: String,
    pub notes: String,
    pub received_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
    pub version: i32,
}

impl Vehicle {
    pub fn fields(&self) -> VehicleFields {
        VehicleFields {
            vehicle_number: self.vehicle_number.clone(),
            vin: self.vin.clone(),
            year: self.year,
            make: self.make.clone(),
            model: self.model.clone(),
            trim: self.trim.clone(),
            color: self.color.clone(),
            mileage: self.mileage,
            condition: self.condition,
            cost_cents: self.cost_cents,
            list_price_cents: self.list_price_cents,
            status: self.status,
            location: self.location.clone(),
            notes: self.notes.clone(),
            received_on: self.received_on,
        }
    }

    /// "2021 Honda Accord EX"
    pub fn title(&self) -> String {
        let mut t = format!("{} {} {}", self.year, self.make, self.model);
        if !self.trim.is_empty() {
            t.push(' ');
            t.push_str(&self.trim);
        }
        t
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Vehicle>> {
    vehicles::table
        .find(id)
        .select(Vehicle::as_select())
        .first(conn)
        .await
        .optional()
}

/// The row, locked until the transaction ends: every change of a vehicle
/// (and of its sales) takes this lock first, so changes queue, never interleave.
pub(crate) async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Vehicle>> {
    vehicles::table
        .find(id)
        .select(Vehicle::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The vehicles with these ids (those that exist), in no particular order.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<Vehicle>> {
    use diesel::ExpressionMethods as _;
    vehicles::table
        .filter(vehicles::id.eq_any(ids))
        .select(Vehicle::as_select())
        .load(conn)
        .await
}
