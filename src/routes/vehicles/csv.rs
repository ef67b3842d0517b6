//! `GET /vehicles.csv`: the list's filter and order as CSV (see `web::csv`
//! for the streaming), in batches read by the list's own keyset query.

use actix_web::{HttpResponse, web};

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{Money, import},
    models::vehicles::{self, Cursor, VehicleRow},
    routes::vehicles::list::ListQuery,
    web::{
        AppError,
        csv::{self, Batch},
    },
};

const BATCH: i64 = 1000;

/// The columns, as an import reads them back (`domain::import::COLUMNS`).
const HEADER: [&str; 16] = import::COLUMNS;

fn record(r: &VehicleRow) -> [String; 16] {
    [
        r.vehicle_number.clone(),
        r.vin.clone().unwrap_or_default(),
        r.year.to_string(),
        r.make.clone(),
        r.model.clone(),
        r.trim.clone(),
        r.color.clone(),
        r.mileage.to_string(),
        r.condition.as_str().to_string(),
        Money::from_cents(r.cost_cents).to_input(),
        Money::from_cents(r.list_price_cents).to_input(),
        r.status.as_str().to_string(),
        r.location.clone(),
        r.received_on.format("%Y-%m-%d").to_string(),
        r.days_in_stock.to_string(),
        r.notes.clone(),
    ]
}

pub async fn export(
    user: Viewer,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let (filter, sort) = (query.filter(), query.sort());
    let today = state.today();
    let filename = format!("vehicles-{today}.csv");
    let (acting, last_write) = (user.acting(), user.last_write);
    csv::download(&filename, HEADER, move |cursor: Option<Cursor>| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            // A connection per batch: a slow download never holds one for long.
            let mut conn = state.reader(acting, last_write).await?;
            let (rows, more) =
                vehicles::list(&mut conn, &filter, sort, cursor.as_ref(), BATCH, today).await?;
            Ok(Batch {
                records: rows.iter().map(record).collect(),
                next: rows
                    .last()
                    .filter(|_| more)
                    .map(|r| Cursor::After(sort.key.value_of(r), r.id)),
            })
        }
    })
    .await
}
