//! `GET /vehicles.csv`: the list's filter and order as CSV, streamed a batch
//! at a time (constant memory however many rows), formula cells neutralised.

use actix_web::{HttpResponse, http::header, web};
use futures_util::stream;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::Money,
    models::vehicles::{self, Cursor, ListFilter, Sort, VehicleRow},
    routes::vehicles::list::ListQuery,
    web::AppError,
};

const BATCH: i64 = 1000;

/// A spreadsheet would run a cell starting with `= + - @` (or tab/CR) as a
/// formula; a leading apostrophe makes it plain text.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

const HEADER: [&str; 16] = [
    "vehicle_number",
    "vin",
    "year",
    "make",
    "model",
    "trim",
    "color",
    "mileage",
    "condition",
    "cost",
    "list_price",
    "status",
    "location",
    "received_on",
    "days_in_stock",
    "notes",
];

fn write_rows(rows: &[VehicleRow], with_header: bool) -> Result<web::Bytes, AppError> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    let err = |e: csv::Error| AppError::Internal(e.into());
    if with_header {
        w.write_record(HEADER).map_err(err)?;
    }
    for r in rows {
        let record = [
            r.vehicle_number.clone(),
            r.vin.clone().unwrap_or_default(),
            r.year.to_string(),
            r.make.clone(),
            r.model.clone(),
            r.trim.clone(),
            r.color.clone(),
            r.mileage.to_string(),
            r.condition.clone(),
            Money::from_cents(r.cost_cents).to_input(),
            Money::from_cents(r.list_price_cents).to_input(),
            r.status.clone(),
            r.location.clone(),
            r.received_on.format("%Y-%m-%d").to_string(),
            r.days_in_stock.to_string(),
            r.notes.clone(),
        ];
        w.write_record(record.iter().map(|c| neutralise(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner()
        .map(web::Bytes::from)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

struct Batches {
    state: web::Data<AppState>,
    filter: ListFilter,
    sort: Sort,
    cursor: Option<Cursor>,
    today: chrono::NaiveDate,
    done: bool,
}

impl Batches {
    async fn next(&mut self) -> Result<Vec<VehicleRow>, AppError> {
        // A connection per batch: a slow download never holds one for long.
        let mut conn = self.state.pool.get().await?;
        let (rows, more) = vehicles::list(
            &mut conn,
            &self.filter,
            self.sort,
            self.cursor.as_ref(),
            BATCH,
            self.today,
        )
        .await?;
        self.done = !more;
        self.cursor = rows
            .last()
            .map(|r| Cursor::After(self.sort.key.value_of(r), r.id));
        Ok(rows)
    }
}

pub async fn export(
    _user: Viewer,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let today = state.today();
    let mut batches = Batches {
        filter: query.filter(),
        sort: query.sort(),
        cursor: None,
        today,
        done: false,
        state,
    };
    // The first batch before answering: a database outage is a 503, not a
    // truncated file.
    let first = write_rows(&batches.next().await?, true)?;
    let rest = stream::unfold(batches, |mut b| async move {
        if b.done {
            return None;
        }
        match b.next().await.and_then(|rows| write_rows(&rows, false)) {
            Ok(bytes) => Some((Ok::<_, AppError>(bytes), b)),
            Err(e) => {
                // Aborting the chunked response makes the download fail
                // visibly instead of ending as a short but valid file.
                tracing::warn!(error = %e, "CSV export stopped");
                b.done = true;
                Some((Err(e), b))
            }
        }
    });
    let body = futures_util::StreamExt::chain(stream::once(async move { Ok(first) }), rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"vehicles-{today}.csv\""),
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Honda"), "Honda");
        assert_eq!(neutralise(""), "");
    }
}
