//! `GET /sales` and `GET /sales.csv`: by date range, salesperson and
//! customer, newest first or sorted by a column, with the count and totals
//! of the filter.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{FieldErrors, Money, saved_view::ViewList, text},
    models::sales::{self, ListTotals, SaleRow, SalesFilter, SalesSort, SalesSortKey},
    routes::saved_views::{self, ViewsBox},
    web::{
        AppError, Page, SortHeader,
        csv::{self, Batch},
        cursor, filters, render,
    },
};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct SalesQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub salesperson: Option<String>,
    pub customer: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(crate::domain::date::parse_date)
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
                .map(|c| text::cleaned(c, 100))
                .filter(|c| !c.is_empty()),
        }
    }

    fn sort(&self) -> SalesSort {
        self.sort
            .as_deref()
            .and_then(SalesSort::parse)
            .unwrap_or_default()
    }

    /// Where the page starts: after this sort value and id. A cursor that
    /// does not fit the sort (edited by hand) is none: the first page.
    fn after(&self) -> Option<(String, i64)> {
        let (value, id) = cursor::decode(self.after.as_deref()?)?;
        Some((self.sort().key.normalize(&value)?, id))
    }

    /// What is wrong with the filter: a period that ends before it starts.
    fn errors(&self, filter: &SalesFilter) -> FieldErrors {
        let mut errors = FieldErrors::default();
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            errors.add(
                "to",
                format!("“To” ({to}) is before “From” ({from}): choose a date on or after {from}."),
            );
        }
        errors
    }

    fn url(&self, base: &str, sort: SalesSort, after: Option<String>) -> String {
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
        if sort != SalesSort::default() {
            pairs.push(("sort", sort.param()));
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

/// A sale as a row of the list, with its payment method's label.
pub struct SaleLine {
    pub sale: SaleRow,
    pub payment: &'static str,
}

#[derive(Template)]
#[template(path = "sales/list.html")]
struct ListPage {
    page: Page,
    rows: Vec<SaleLine>,
    from: String,
    to: String,
    salesperson: String,
    customer: String,
    people: Vec<(String, String)>,
    sort: String,
    columns: Vec<SortHeader>,
    totals: Option<ListTotals>,
    errors: FieldErrors,
    next_url: Option<String>,
    first_url: Option<String>,
    csv_url: String,
    filtered: bool,
    /// The saved views beside the filters.
    views: ViewsBox,
}

/// The heading of a column the list sorts by.
fn heading(
    q: &SalesQuery,
    current: SalesSort,
    key: SalesSortKey,
    label: &'static str,
    numeric: bool,
) -> SortHeader {
    let active = current.key == key;
    let first_desc = matches!(
        key,
        SalesSortKey::Date | SalesSortKey::Price | SalesSortKey::Gross
    );
    let desc = SortHeader::next_desc(active, current.desc, first_desc);
    let url = q.url("/sales", SalesSort { key, desc }, None);
    SortHeader::new(label, url, active, current.desc, numeric)
}

pub async fn list(
    req: HttpRequest,
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<SalesQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let filter = q.filter();
    let sort = q.sort();
    let after = q.after();
    let errors = q.errors(&filter);
    let mut conn = user.reader(&state).await?;
    // A period that ends before it starts lists nothing: the form says why.
    let ((rows, more), totals) = if errors.is_empty() {
        let page = sales::list(&mut conn, &filter, sort, after.as_ref(), PAGE_SIZE).await?;
        (page, Some(sales::totals(&mut conn, &filter).await?))
    } else {
        ((Vec::new(), false), None)
    };
    let people = sales::salespeople(&mut conn).await?;
    let views = saved_views::beside(&mut conn, ViewList::Sales, &user, req.query_string()).await?;
    drop(conn);
    let next_url = rows.last().filter(|_| more).map(|r| {
        q.url(
            "/sales",
            sort,
            Some(cursor::encode(&sort.key.value_of(r), r.id)),
        )
    });
    let columns = vec![
        heading(&q, sort, SalesSortKey::Date, "Date", false),
        heading(&q, sort, SalesSortKey::Customer, "Customer", false),
        heading(&q, sort, SalesSortKey::Salesperson, "Salesperson", false)
            .hidden_below("col-tablet"),
        heading(&q, sort, SalesSortKey::Price, "Price", true),
        heading(&q, sort, SalesSortKey::Gross, "Gross profit", true),
    ];
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &ListPage {
            page: Page::new("Sales", &session, Some(&user)).section("sales"),
            rows: rows
                .into_iter()
                .map(|sale| SaleLine {
                    payment: sale.payment_method.label(),
                    sale,
                })
                .collect(),
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
            sort: sort.param(),
            columns,
            totals,
            errors,
            next_url,
            first_url: after.is_some().then(|| q.url("/sales", sort, None)),
            csv_url: q.url("/sales.csv", sort, None),
            filtered: filter.from.is_some()
                || filter.to.is_some()
                || filter.salesperson.is_some()
                || filter.customer.is_some(),
            views,
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

fn record(s: &SaleRow) -> [String; 15] {
    [
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
        s.payment_method.as_str().to_string(),
        s.salesperson.clone(),
        s.voided_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        s.void_reason.clone().unwrap_or_default(),
    ]
}

/// The filtered sales as CSV, newest first (see `web::csv`).
pub async fn export(
    user: Viewer,
    state: web::Data<AppState>,
    query: web::Query<SalesQuery>,
) -> Result<HttpResponse, AppError> {
    const BATCH: i64 = 1000;
    let q = query.into_inner();
    let (filter, sort) = (q.filter(), q.sort());
    let (acting, last_write) = (user.acting(), user.last_write);
    csv::download("sales.csv", HEADER, move |after: Option<(String, i64)>| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            // A connection per batch: a slow download never holds one for long.
            let mut conn = state.reader(acting, last_write).await?;
            let (rows, more) = sales::list(&mut conn, &filter, sort, after.as_ref(), BATCH).await?;
            Ok(Batch {
                records: rows.iter().map(record).collect(),
                next: rows
                    .last()
                    .filter(|_| more)
                    .map(|r| (sort.key.value_of(r), r.id)),
            })
        }
    })
    .await
}
