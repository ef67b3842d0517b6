//! `GET /sales` and `GET /sales.csv`: newest first, by date range,
//! salesperson and customer.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, http::header, web};
use askama::Template;
use base64::Engine as _;
use chrono::NaiveDate;
use futures_util::stream;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{Money, sale::payment_label},
    models::sales::{self, SaleRow, SalesFilter},
    routes::vehicles::csv::neutralise,
    web::{AppError, Page, render},
};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct SalesQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub salesperson: Option<String>,
    pub customer: Option<String>,
    pub after: Option<String>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
}

impl SalesQuery {
    fn filter(&self) -> SalesFilter {
        SalesFilter {
            from: date(&self.from),
            to: date(&self.to),
            salesperson: self
                .salesperson
                .as_deref()
                .and_then(|p| p.trim().parse().ok()),
            customer: self
                .customer
                .as_deref()
                .map(|c| {
                    c.trim()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(100)
                        .collect::<String>()
                })
                .filter(|c| !c.is_empty()),
        }
    }

    fn after(&self) -> Option<(NaiveDate, i64)> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(self.after.as_deref()?)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (d, id) = text.split_once('|')?;
        Some((
            NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
            id.parse().ok()?,
        ))
    }

    fn url(&self, base: &str, after: Option<String>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("salesperson", &self.salesperson),
            ("customer", &self.customer),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                pairs.push((k, v.to_string()));
            }
        }
        if let Some(a) = after {
            pairs.push(("after", a));
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{qs}")
        }
    }
}

pub struct SaleView {
    pub id: i64,
    pub sold_on: String,
    pub stock: String,
    pub vehicle_id: i64,
    pub vehicle: String,
    pub customer: String,
    pub salesperson: String,
    pub payment: &'static str,
    pub price: String,
    pub gross: String,
    pub voided: bool,
}

impl SaleView {
    fn from(s: &SaleRow) -> Self {
        Self {
            id: s.id,
            sold_on: s.sold_on.format("%Y-%m-%d").to_string(),
            stock: s.vehicle_number.clone(),
            vehicle_id: s.vehicle_id,
            vehicle: s.vehicle_title.clone(),
            customer: s.customer_name.clone(),
            salesperson: s.salesperson.clone(),
            payment: payment_label(&s.payment_method),
            price: Money::from_cents(s.sale_price_cents).to_string(),
            gross: Money::from_cents(s.gross_profit_cents()).to_string(),
            voided: s.voided_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "sales/list.html")]
struct ListPage {
    page: Page,
    rows: Vec<SaleView>,
    from: String,
    to: String,
    salesperson: String,
    customer: String,
    people: Vec<(String, String)>,
    next_url: Option<String>,
    first_url: Option<String>,
    csv_url: String,
    filtered: bool,
}

pub async fn list(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<SalesQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let filter = q.filter();
    let after = q.after();
    let mut conn = state.pool.get().await?;
    let (rows, more) = sales::list(&mut conn, &filter, after, PAGE_SIZE).await?;
    let people = sales::salespeople(&mut conn).await?;
    drop(conn);
    let next_url = rows.last().filter(|_| more).map(|r| {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}|{}", r.sold_on, r.id));
        q.url("/sales", Some(cursor))
    });
    Ok(render(
        StatusCode::OK,
        &ListPage {
            page: Page::new("Sales", &session, Some(&user)).section("sales"),
            rows: rows.iter().map(SaleView::from).collect(),
            from: filter.from.map(|d| d.to_string()).unwrap_or_default(),
            to: filter.to.map(|d| d.to_string()).unwrap_or_default(),
            salesperson: filter
                .salesperson
                .map(|p| p.to_string())
                .unwrap_or_default(),
            customer: filter.customer.clone().unwrap_or_default(),
            people: people
                .into_iter()
                .map(|(id, n)| (id.to_string(), n))
                .collect(),
            next_url,
            first_url: after.is_some().then(|| q.url("/sales", None)),
            csv_url: q.url("/sales.csv", None),
            filtered: filter.from.is_some()
                || filter.to.is_some()
                || filter.salesperson.is_some()
                || filter.customer.is_some(),
        },
    ))
}

const HEADER: [&str; 15] = [
    "sale_id",
    "sold_on",
    "vehicle_number",
    "vin",
    "vehicle",
    "sale_price",
    "cost",
    "gross_profit",
    "customer_name",
    "customer_email",
    "customer_phone",
    "payment_method",
    "salesperson",
    "voided_at",
    "void_reason",
];

fn csv_rows(rows: &[SaleRow], header: bool) -> Result<web::Bytes, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| AppError::Internal(e.into());
    if header {
        w.write_record(HEADER).map_err(err)?;
    }
    for s in rows {
        let record = [
            s.id.to_string(),
            s.sold_on.to_string(),
            s.vehicle_number.clone(),
            s.vin.clone().unwrap_or_default(),
            s.vehicle_title.clone(),
            Money::from_cents(s.sale_price_cents).to_input(),
            Money::from_cents(s.cost_cents).to_input(),
            Money::from_cents(s.gross_profit_cents()).to_input(),
            s.customer_name.clone(),
            s.customer_email.clone(),
            s.customer_phone.clone(),
            s.payment_method.clone(),
            s.salesperson.clone(),
            s.voided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            s.void_reason.clone().unwrap_or_default(),
        ];
        w.write_record(record.iter().map(|c| neutralise(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner()
        .map(web::Bytes::from)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

pub async fn export(
    _user: Viewer,
    state: web::Data<AppState>,
    query: web::Query<SalesQuery>,
) -> Result<HttpResponse, AppError> {
    const BATCH: i64 = 1000;
    let filter = query.into_inner().filter();
    let mut conn = state.pool.get().await?;
    let (rows, more) = sales::list(&mut conn, &filter, None, BATCH).await?;
    drop(conn);
    let first = csv_rows(&rows, true)?;
    let start = rows.last().filter(|_| more).map(|r| (r.sold_on, r.id));
    let rest = stream::unfold(start, move |after| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let after = after?;
            let batch = async {
                let mut conn = state.pool.get().await?;
                let (rows, more) = sales::list(&mut conn, &filter, Some(after), BATCH).await?;
                let next = rows.last().filter(|_| more).map(|r| (r.sold_on, r.id));
                Ok::<_, AppError>((csv_rows(&rows, false)?, next))
            };
            match batch.await {
                Ok((bytes, next)) => Some((Ok(bytes), next)),
                Err(e) => {
                    tracing::warn!(error = %e, "sales CSV export stopped");
                    Some((Err(e), None))
                }
            }
        }
    });
    let body =
        futures_util::StreamExt::chain(stream::once(async move { Ok::<_, AppError>(first) }), rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"sales.csv\"",
        ))
        .streaming(body))
}
