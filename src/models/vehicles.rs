//! The inventory: reading, listing, and changing vehicles. Every change writes
//! its history row in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    ExpressionMethods as _, NullableExpressionMethods as _, OptionalExtension as _, QueryDsl as _,
    QueryResult, SelectableHelper as _,
    pg::Pg,
    prelude::{AsChangeset, Insertable, Queryable, QueryableByName, Selectable},
    result::{DatabaseErrorKind, Error as DieselError},
    sql_types::{BigInt, Date, Integer, Text},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    db,
    domain::{
        FieldErrors, Role, Status,
        vehicle::{Conflict, VehicleFields, merge, proposal},
    },
    models::Sql,
    schema::{users, vehicle_history, vehicles},
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
    pub condition: String,
    pub cost_cents: i64,
    pub list_price_cents: i64,
    pub status: String,
    pub location: String,
    pub notes: String,
    pub received_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<i64>,
    pub version: i32,
}

impl Vehicle {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Available)
    }

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
            condition: self.condition.clone(),
            cost_cents: self.cost_cents,
            list_price_cents: self.list_price_cents,
            status: self.status(),
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
            "vehicle_number",
            "Another vehicle already has this stock number.",
        ),
        Some("vehicles_vin_in_stock_key") => {
            errors.add("vin", "Another vehicle in stock already has this VIN.")
        }
        _ => return None,
    }
    Some(errors)
}

fn invalid(field: &'static str, message: &str) -> Refusal {
    let mut e = FieldErrors::default();
    e.add(field, message);
    Refusal::Invalid(e)
}

fn snapshot_json(fields: &VehicleFields) -> serde_json::Value {
    serde_json::to_value(fields).unwrap_or(serde_json::Value::Null)
}

pub(crate) async fn write_history(
    conn: &mut AsyncPgConnection,
    vehicle_id: i64,
    version: i32,
    user_id: i64,
    action: &str,
    fields: &VehicleFields,
    changes: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(vehicle_history::table)
        .values((
            vehicle_history::vehicle_id.eq(vehicle_id),
            vehicle_history::version.eq(version),
            vehicle_history::changed_by.eq(user_id),
            vehicle_history::action.eq(action),
            vehicle_history::snapshot.eq(snapshot_json(fields)),
            vehicle_history::changes.eq(changes),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Runs `tx` again (up to three times) on serialization failures and deadlocks.
pub async fn with_retry<T, F>(conn: &mut AsyncPgConnection, mut tx: F) -> QueryResult<T>
where
    F: AsyncFnMut(&mut AsyncPgConnection) -> QueryResult<T>,
{
    let mut attempt = 0;
    loop {
        match tx(conn).await {
            Err(e) if db::is_transient(&e) && attempt < 3 => {
                attempt += 1;
                tracing::info!(error = %e, attempt, "retrying transaction");
            }
            other => return other,
        }
    }
}

/// The columns a person edits, as `VehicleFields` holds them: one list for
/// adding and for saving (a VIN taken away is written as NULL).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = vehicles, treat_none_as_null = true)]
struct EditedColumns<'a> {
    vehicle_number: &'a str,
    vin: Option<&'a str>,
    year: i32,
    make: &'a str,
    model: &'a str,
    trim: &'a str,
    color: &'a str,
    mileage: i32,
    condition: &'a str,
    cost_cents: i64,
    list_price_cents: i64,
    status: &'a str,
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
            condition: &f.condition,
            cost_cents: f.cost_cents,
            list_price_cents: f.list_price_cents,
            status: f.status.as_str(),
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
            write_history(conn, id, 1, user_id, "created", fields, empty).await?;
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

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Vehicle>> {
    vehicles::table
        .find(id)
        .select(Vehicle::as_select())
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Vehicle>> {
    vehicles::table
        .find(id)
        .select(Vehicle::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The editable fields as they were at `version`.
async fn snapshot(
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
    pub changes: Vec<(String, String, String)>,
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
                changes: changes
                    .as_object()
                    .map(|m| {
                        let mut list: Vec<(String, String, String)> = m
                            .iter()
                            .map(|(k, v)| {
                                let get = |i: usize| {
                                    v.get(i).and_then(|x| x.as_str()).unwrap_or("").to_string()
                                };
                                (k.clone(), get(0), get(1))
                            })
                            .collect();
                        // In form order, not alphabetical.
                        list.sort_by_key(|(k, _, _)| {
                            crate::domain::vehicle::FIELDS
                                .iter()
                                .position(|(n, _)| n == k)
                                .unwrap_or(99)
                        });
                        list
                    })
                    .unwrap_or_default(),
            },
        )
        .collect())
}

/// What became of an edit.
#[derive(Debug)]
pub enum EditOutcome {
    /// Saved as `version`; `merged` names fields someone else had changed meanwhile.
    Saved {
        version: i32,
        merged: Vec<&'static str>,
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
    let result = with_retry(conn, async |conn| {
        conn.transaction::<_, DieselError, _>(async |conn| {
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
            let merged = match merge(&base, &theirs, mine) {
                Ok(m) => m,
                Err(conflicts) => {
                    return Ok(Ok(EditOutcome::Conflict {
                        proposal: Box::new(proposal(&base, &theirs, mine)),
                        current: Box::new(current),
                        conflicts,
                    }));
                }
            };
            if let Some(problem) = status_change_problem(theirs.status, merged.status, role) {
                return Ok(Err(invalid("status", problem)));
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
                "edited",
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

/// The status rules of the edit form (SPEC §4): `sold` comes from a sale,
/// `archived` from archiving, and only an admin brings an archived one back.
pub fn status_change_problem(current: Status, next: Status, role: Role) -> Option<&'static str> {
    if current == next {
        return None;
    }
    match (current, next) {
        (Status::Sold, _) => {
            Some("This vehicle is sold: its status follows its sale (void the sale to change it).")
        }
        (_, Status::Sold) => Some("A vehicle becomes sold by recording a sale, not by editing."),
        (_, Status::Archived) => Some("Use the Archive button to archive a vehicle."),
        (Status::Archived, _) if role != Role::Admin => {
            Some("Only an admin can bring an archived vehicle back.")
        }
        _ => None,
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
        match current.status() {
            Status::Archived => return Ok(Some(ArchiveOutcome::AlreadyArchived)),
            Status::Sold => return Ok(Some(ArchiveOutcome::Sold)),
            _ if current.version != version => return Ok(Some(ArchiveOutcome::Stale)),
            _ => {}
        }
        let before = current.fields();
        let mut after = before.clone();
        after.status = Status::Archived;
        let next = current.version + 1;
        diesel::update(
            vehicles::table
                .filter(vehicles::id.eq(id))
                .filter(vehicles::version.eq(current.version)),
        )
        .set((
            vehicles::status.eq(Status::Archived.as_str()),
            vehicles::updated_at.eq(diesel::dsl::now),
            vehicles::updated_by.eq(user_id),
            vehicles::version.eq(next),
        ))
        .execute(conn)
        .await?;
        write_history(
            conn,
            id,
            next,
            user_id,
            "archived",
            &after,
            after.changes_from(&before),
        )
        .await?;
        Ok(Some(ArchiveOutcome::Archived))
    })
    .await
}

// ---------------------------------------------------------------- listing

/// Which statuses the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Everything but archived vehicles.
    #[default]
    Current,
    All,
    Only(Status),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Received,
    Price,
    Year,
    Mileage,
    Stock,
    Make,
    Updated,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        Self::Received,
        Self::Price,
        Self::Year,
        Self::Mileage,
        Self::Stock,
        Self::Make,
        Self::Updated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Price => "price",
            Self::Year => "year",
            Self::Mileage => "mileage",
            Self::Stock => "stock",
            Self::Make => "make",
            Self::Updated => "updated",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Received => "received_on",
            Self::Price => "list_price_cents",
            Self::Year => "year",
            Self::Mileage => "mileage",
            Self::Stock => "vehicle_number",
            Self::Make => "make",
            Self::Updated => "updated_at",
        }
    }

    fn cast(self) -> &'static str {
        match self {
            Self::Received => "date",
            Self::Price => "bigint",
            Self::Year | Self::Mileage => "integer",
            Self::Stock | Self::Make => "text",
            Self::Updated => "timestamptz",
        }
    }

    /// Whether a cursor value (from the URL, so from anyone) fits this column.
    pub fn accepts(self, value: &str) -> bool {
        match self {
            Self::Received => NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
            Self::Price => value.parse::<i64>().is_ok(),
            Self::Year | Self::Mileage => value.parse::<i32>().is_ok(),
            Self::Stock | Self::Make => value.len() <= 100 && !value.chars().any(char::is_control),
            Self::Updated => DateTime::parse_from_rfc3339(value).is_ok(),
        }
    }

    /// This row's value of the sort column, as the cursor carries it.
    pub fn value_of(self, v: &VehicleRow) -> String {
        match self {
            Self::Received => v.received_on.format("%Y-%m-%d").to_string(),
            Self::Price => v.list_price_cents.to_string(),
            Self::Year => v.year.to_string(),
            Self::Mileage => v.mileage.to_string(),
            Self::Stock => v.vehicle_number.clone(),
            Self::Make => v.make.clone(),
            Self::Updated => v
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub desc: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Self {
            key: SortKey::Received,
            desc: true,
        }
    }
}

impl Sort {
    /// `price` ascending, `-price` descending.
    pub fn parse(s: &str) -> Option<Self> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, s),
        };
        SortKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .map(|key| Self { key, desc })
    }

    pub fn param(self) -> String {
        format!("{}{}", if self.desc { "-" } else { "" }, self.key.name())
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub q: Option<String>,
    pub status: StatusFilter,
    pub make: Option<String>,
}

/// Where a page starts: after (or before) the row with this sort value and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    After(String, i64),
    Before(String, i64),
}

#[derive(QueryableByName, Clone, Debug)]
pub struct VehicleRow {
    #[diesel(embed)]
    pub vehicle: Vehicle,
    #[diesel(sql_type = Integer)]
    pub days_in_stock: i32,
}

impl std::ops::Deref for VehicleRow {
    type Target = Vehicle;
    fn deref(&self) -> &Vehicle {
        &self.vehicle
    }
}

const COLUMNS: &str = "id, vehicle_number, vin, year, make, model, trim, color, mileage, condition, \
     cost_cents, list_price_cents, status, location, notes, received_on, created_at, updated_at, \
     updated_by, version";

/// `text` with LIKE's `%`, `_` and `\` taken literally.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A search as the conditions that could match it: codes (stock numbers,
/// VINs, stored upper case) that start with it, codes that end with it
/// (reversed codes that start with it reversed), make and model that contain
/// it. A code condition is left out when no such code could match (a space,
/// say, or too long), so a search by name does not pay for them.
#[derive(Debug, PartialEq, Eq)]
struct Search {
    /// (expression, LIKE pattern): the patterns hold only code characters.
    codes: Vec<(&'static str, String)>,
    names: Names,
}

/// How make and model are matched.
#[derive(Debug, PartialEq, Eq)]
enum Names {
    /// `lower(make || ' ' || model) LIKE` this: three letters or digits in a
    /// row give the trigram index something to look up.
    Containing(String),
    /// A shorter search ("X5", "A4") is a whole model name or nothing: a
    /// substring pattern without a trigram would read the whole index.
    Model(String),
}

impl Search {
    fn new(q: &str) -> Self {
        let q = q.trim();
        let code = q.to_ascii_uppercase();
        let reversed: String = code.chars().rev().collect();
        let mut codes = Vec::new();
        let stock_chars = |c: char| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-';
        if code.len() <= 20 && code.chars().all(stock_chars) {
            codes.push(("vehicle_number", format!("{code}%")));
            codes.push(("reverse(vehicle_number)", format!("{reversed}%")));
        }
        let vin_chars = |c: char| {
            c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q'))
        };
        if code.len() <= 17 && code.chars().all(vin_chars) {
            codes.push(("vin", format!("{code}%")));
            codes.push(("reverse(vin)", format!("{reversed}%")));
        }
        let mut run = 0;
        let trigram = q.chars().any(|c| {
            run = if c.is_alphanumeric() { run + 1 } else { 0 };
            run >= 3
        });
        let lower = q.to_lowercase();
        let names = if trigram {
            Names::Containing(format!("%{}%", like_escape(&lower)))
        } else {
            Names::Model(lower)
        };
        Self { codes, names }
    }
}

/// Appends the filter conditions (after a `WHERE true`).
fn with_filters<'a>(mut query: Sql<'a>, filter: &ListFilter) -> Sql<'a> {
    match filter.status {
        StatusFilter::Current => query = query.sql(" AND status <> 'archived'"),
        StatusFilter::All => {}
        StatusFilter::Only(s) => query = query.sql(" AND status = ").bind::<Text, _>(s.as_str()),
    }
    if let Some(make) = &filter.make {
        query = query.sql(" AND make = ").bind::<Text, _>(make.clone());
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        // Each condition has an index of its own (migration vehicle_search).
        let search = Search::new(q);
        query = query.sql(" AND (");
        for (expression, pattern) in search.codes {
            query = query
                .sql(&format!("{expression} LIKE "))
                .bind::<Text, _>(pattern)
                .sql(" OR ");
        }
        query = match search.names {
            Names::Containing(pattern) => query
                .sql("lower(make || ' ' || model) LIKE ")
                .bind::<Text, _>(pattern),
            Names::Model(name) => query.sql("lower(model) = ").bind::<Text, _>(name),
        }
        .sql(")");
    }
    query
}

/// The rows of the view, with their days in stock, after `prefix`.
fn matching<'a>(prefix: &str, filter: &ListFilter, today: NaiveDate) -> Sql<'a> {
    let query = Sql::new(&format!("{prefix}SELECT {COLUMNS}, ("))
        .bind::<Date, _>(today)
        .sql(" - received_on)::int AS days_in_stock FROM vehicles WHERE true");
    with_filters(query, filter)
}

/// Appends the cursor condition (after a `WHERE`), the order and the limit
/// (`limit` + 1, to know whether more follow). Reading backwards flips the
/// order; `into_page` puts it right.
fn paged<'a>(mut query: Sql<'a>, sort: Sort, cursor: Option<&Cursor>, limit: i64) -> Sql<'a> {
    let backwards = matches!(cursor, Some(Cursor::Before(..)));
    let desc = sort.desc != backwards;
    if let Some(Cursor::After(value, id) | Cursor::Before(value, id)) = cursor {
        let (col, cast) = (sort.key.column(), sort.key.cast());
        let op = if desc { "<" } else { ">" };
        query = query
            .sql(&format!(" AND ({col}, id) {op} (CAST("))
            .bind::<Text, _>(value.clone())
            .sql(&format!(" AS {cast}), "))
            .bind::<BigInt, _>(*id)
            .sql(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    query
        .sql(&format!(
            " ORDER BY {} {dir}, id {dir} LIMIT ",
            sort.key.column()
        ))
        .bind::<BigInt, _>(limit + 1)
}

/// The rows read by a `paged` query, in display order, and whether more follow.
fn into_page(
    mut rows: Vec<VehicleRow>,
    cursor: Option<&Cursor>,
    limit: i64,
) -> (Vec<VehicleRow>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if matches!(cursor, Some(Cursor::Before(..))) {
        rows.reverse();
    }
    (rows, more)
}

/// One page of vehicles, in display order, and whether more follow.
/// Keyset pagination: no OFFSET, whatever the depth.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
    today: NaiveDate,
) -> QueryResult<(Vec<VehicleRow>, bool)> {
    let query = paged(matching("", filter, today), sort, cursor, limit);
    let rows: Vec<VehicleRow> = query.query.load(conn).await?;
    Ok(into_page(rows, cursor, limit))
}

/// A page of the list as shown: its rows, whether more follow, and the total.
pub struct Page {
    pub rows: Vec<VehicleRow>,
    pub more: bool,
    pub total: Total,
}

/// One page of vehicles and how many match, in as few scans as the view
/// allows. When the planner expects a small view (a selective search), the
/// matches are read once, up to `COUNT_CAP + 1` of them, then both counted
/// and paged; otherwise the page is read by its sort index and the total
/// is the planner's estimate.
pub async fn page(
    conn: &mut AsyncPgConnection,
    filter: &ListFilter,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: i64,
    today: NaiveDate,
) -> QueryResult<Page> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(embed)]
        listed: VehicleRow,
        #[diesel(sql_type = BigInt)]
        matches: i64,
    }
    let estimate = estimate_rows(conn, filter).await?;
    if estimate <= COUNT_CAP {
        let query = matching("WITH m AS MATERIALIZED (", filter, today)
            .sql(" LIMIT ")
            .bind::<BigInt, _>(COUNT_CAP + 1)
            .sql(") SELECT m.*, (SELECT count(*) FROM m) AS matches FROM m WHERE true");
        let query = paged(query, sort, cursor, limit);
        let rows: Vec<Counted> = query.query.load(conn).await?;
        let matches = match (<[Counted]>::first(&rows), cursor) {
            (Some(r), _) => r.matches,
            // An empty first page: nothing matches.
            (None, None) => 0,
            // An empty later page tells nothing of the others.
            (None, Some(_)) => count_capped(conn, filter).await?,
        };
        if matches <= COUNT_CAP {
            let (rows, more) =
                into_page(rows.into_iter().map(|r| r.listed).collect(), cursor, limit);
            return Ok(Page {
                rows,
                more,
                total: Total::Exact(matches),
            });
        }
    }
    let (rows, more) = list(conn, filter, sort, cursor, limit, today).await?;
    // The planner may have guessed low; never show fewer than were seen.
    let seen = if estimate <= COUNT_CAP {
        COUNT_CAP + 1
    } else {
        0
    };
    Ok(Page {
        rows,
        more,
        total: Total::About(estimate.max(seen)),
    })
}

/// Views up to this size are counted exactly (a bounded, index-backed count);
/// larger ones show the planner's estimate, labelled "about".
pub const COUNT_CAP: i64 = 2_000;

/// How many vehicles match, counting at most `COUNT_CAP + 1` of them.
pub async fn count_capped(conn: &mut AsyncPgConnection, filter: &ListFilter) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let query = Sql::new("SELECT count(*) AS n FROM (SELECT 1 FROM vehicles WHERE true");
    let query = with_filters(query, filter)
        .sql(" LIMIT ")
        .bind::<BigInt, _>(COUNT_CAP + 1)
        .sql(") t");
    Ok(query.query.get_result::<N>(conn).await?.n)
}

/// How many vehicles a view holds, as the list shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// The planner's estimate, for views too large to count on every view.
    About(i64),
}

/// The planner's row estimate for the filter (`EXPLAIN`, which plans but
/// does not run the query).
async fn estimate_rows(conn: &mut AsyncPgConnection, filter: &ListFilter) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(column_name = "QUERY PLAN", sql_type = diesel::sql_types::Json)]
        plan: serde_json::Value,
    }
    let query = with_filters(
        Sql::new("EXPLAIN (FORMAT JSON) SELECT 1 FROM vehicles WHERE true"),
        filter,
    );
    let plan: Plan = query.query.get_result(conn).await?;
    Ok(plan.plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0) as i64)
}

/// The distinct makes, by a skip scan over the make index (fast at any size).
pub async fn makes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct M {
        #[diesel(sql_type = Text)]
        make: String,
    }
    let rows: Vec<M> = diesel::sql_query(
        "WITH RECURSIVE m(make) AS ( \
           (SELECT make FROM vehicles ORDER BY make LIMIT 1) \
           UNION ALL \
           SELECT (SELECT v.make FROM vehicles v WHERE v.make > m.make ORDER BY v.make LIMIT 1) \
           FROM m WHERE m.make IS NOT NULL) \
         SELECT make FROM m WHERE make IS NOT NULL LIMIT 500",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|m| m.make).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameters_round_trip() {
        for key in SortKey::ALL {
            for desc in [false, true] {
                let s = Sort { key, desc };
                assert_eq!(Sort::parse(&s.param()), Some(s));
            }
        }
        assert_eq!(Sort::parse("price; DROP TABLE vehicles"), None);
    }

    #[test]
    fn searches_leave_out_codes_that_cannot_match_and_take_wildcards_literally() {
        let s = Search::new(" s50-1a ");
        assert_eq!(
            s.codes,
            [
                ("vehicle_number", "S50-1A%".to_string()),
                ("reverse(vehicle_number)", "A1-05S%".to_string()),
            ],
            "a VIN has no '-'"
        );
        assert_eq!(s.names, Names::Containing("%s50-1a%".into()));
        let vin = Search::new("1hgcm82633a004352");
        assert_eq!(vin.codes.len(), 4);
        assert_eq!(
            vin.codes[3],
            ("reverse(vin)", "253400A33628MCGH1%".to_string())
        );
        assert!(Search::new("honda civic").codes.is_empty());
        assert!(Search::new("Škoda").codes.is_empty());
        assert!(Search::new(&"A".repeat(21)).codes.is_empty());
        let wild = Search::new("50%_off\\");
        assert!(wild.codes.is_empty());
        assert_eq!(wild.names, Names::Containing("%50\\%\\_off\\\\%".into()));
        // Without three letters or digits in a row, a whole model name.
        assert_eq!(Search::new(" X5 ").names, Names::Model("x5".into()));
        assert_eq!(Search::new("l-1").names, Names::Model("l-1".into()));
        assert_eq!(Search::new("%").names, Names::Model("%".into()));
    }

    #[test]
    fn status_rules() {
        use Status::*;
        assert!(status_change_problem(Available, Reserved, Role::Editor).is_none());
        assert!(status_change_problem(Available, Sold, Role::Admin).is_some());
        assert!(status_change_problem(Sold, Available, Role::Admin).is_some());
        assert!(status_change_problem(Available, Archived, Role::Admin).is_some());
        assert!(status_change_problem(Archived, Available, Role::Editor).is_some());
        assert!(status_change_problem(Archived, Available, Role::Admin).is_none());
    }
}
