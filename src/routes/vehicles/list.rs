//! `GET /vehicles`: 50 a page, search, filters and sorts in the URL, keyset
//! pagination (no OFFSET), a capped count labelled honestly.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{Role, Status, photo::Size, text},
    models::photos::{self, Covers},
    models::vehicles::{self, Cursor, ListFilter, Sort, SortKey, StatusFilter, Total, VehicleRow},
    web::{AppError, Page, cursor, filters, render},
};

pub const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub make: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> ListFilter {
        // What PostgreSQL cannot store (NUL) and nobody types (controls) goes.
        let clean = |s: &str| text::cleaned(s, 100);
        let status = match self.status.as_deref().map(str::trim) {
            Some("all") => StatusFilter::All,
            Some(s) => Status::parse(s).map_or(StatusFilter::Current, StatusFilter::Only),
            None => StatusFilter::Current,
        };
        ListFilter {
            q: self.q.as_deref().map(clean).filter(|q| !q.is_empty()),
            status,
            make: self.make.as_deref().map(clean).filter(|m| !m.is_empty()),
        }
    }

    pub fn sort(&self) -> Sort {
        self.sort
            .as_deref()
            .and_then(Sort::parse)
            .unwrap_or_default()
    }

    /// The page's starting point; a cursor that does not fit the sort (edited
    /// by hand, or from another sort) is ignored: the first page is shown.
    fn cursor(&self) -> Option<Cursor> {
        let key = self.sort().key;
        let decode =
            |s: &str| cursor::decode(s).and_then(|(value, id)| Some((key.normalize(&value)?, id)));
        if let Some((v, id)) = self.after.as_deref().and_then(decode) {
            return Some(Cursor::After(v, id));
        }
        self.before
            .as_deref()
            .and_then(decode)
            .map(|(v, id)| Cursor::Before(v, id))
    }

    /// The query string for this view with other page/sort settings.
    fn url(&self, sort: Sort, page: Option<(&str, String)>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("status", &self.status),
            ("make", &self.make),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                pairs.push((k, v.to_string()));
            }
        }
        if sort != Sort::default() {
            pairs.push(("sort", sort.param()));
        }
        if let Some(p) = page {
            pairs.push(p);
        }
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            "/vehicles".into()
        } else {
            format!("/vehicles?{qs}")
        }
    }

    pub fn csv_url(&self) -> String {
        self.url(self.sort(), None)
            .replacen("/vehicles", "/vehicles.csv", 1)
    }
}

/// 934,512 → 930,000: an estimate should not look more precise than it is.
fn round_two_digits(n: i64) -> i64 {
    let mut scale = 1;
    while n / scale >= 100 {
        scale *= 10;
    }
    (n + scale / 2) / scale * scale
}

/// A vehicle as a row of the list.
pub struct RowView {
    pub v: VehicleRow,
    pub title: String,
    /// Days in stock; none once sold.
    pub days: Option<i32>,
}

impl RowView {
    fn from(v: VehicleRow) -> Self {
        Self {
            title: v.title(),
            days: (v.status != Status::Sold).then_some(v.days_in_stock),
            v,
        }
    }
}

/// How many vehicles the list holds: counted, or estimated when counting
/// would cost too much (then rounded to two digits).
pub struct Count {
    pub n: i64,
    pub exact: bool,
}

impl Count {
    /// Exactly one: "1 vehicle matches", not "vehicles match".
    pub fn is_one(&self) -> bool {
        self.exact && self.n == 1
    }
}

/// A column heading of the list: one that sorts, or a plain one (label,
/// and the class that hides it on narrow screens).
pub enum Column {
    Sorts(SortHeader),
    Plain(&'static str, &'static str),
}

/// Which columns give way first on a narrow screen (`static/app.css`): the
/// stock number, vehicle, status and price always show; then days in stock
/// and location; mileage and colour from a tablet's width; the VIN, on
/// every vehicle's own page, only on a wide screen.
const ALWAYS: &str = "";
const FROM_PHONE: &str = "col-wide-phone";
const FROM_TABLET: &str = "col-tablet";
const FROM_LAPTOP: &str = "col-laptop";

pub struct SortHeader {
    /// What hides the column on narrow screens (one of the constants above).
    pub class: &'static str,
    pub label: &'static str,
    pub url: String,
    /// `ascending`, `descending` or `none`, for aria-sort.
    pub aria: &'static str,
    pub numeric: bool,
}

#[cfg(test)]
mod tests {
    #[test]
    fn estimates_are_rounded_to_two_digits() {
        assert_eq!(super::round_two_digits(934_512), 930_000);
        assert_eq!(super::round_two_digits(12_600), 13_000);
        assert_eq!(super::round_two_digits(87), 87);
    }
}

#[derive(Template)]
#[template(path = "vehicles/list.html")]
struct ListPage {
    page: Page,
    rows: Vec<RowView>,
    /// The rows' cover photos, for their thumbnails.
    covers: Covers,
    q: String,
    status: String,
    make: String,
    sort: String,
    makes: std::sync::Arc<[String]>,
    statuses: Vec<(&'static str, &'static str)>,
    sorts: Vec<(String, &'static str)>,
    columns: Vec<Column>,
    total: Count,
    next_url: Option<String>,
    prev_url: Option<String>,
    first_url: Option<String>,
    csv_url: String,
    can_add: bool,
    filtered: bool,
}

fn header(
    query: &ListQuery,
    current: Sort,
    key: SortKey,
    label: &'static str,
    numeric: bool,
    class: &'static str,
) -> SortHeader {
    let active = current.key == key;
    // First click: the natural direction (most days, highest, A→Z); then toggle.
    let desc = if active {
        !current.desc
    } else {
        matches!(key, SortKey::Updated | SortKey::Price | SortKey::Year)
    };
    // "Days in stock" runs opposite to the received date it sorts by.
    let shown_desc = current.desc != (key == SortKey::Received);
    SortHeader {
        class,
        label,
        url: query.url(Sort { key, desc }, None),
        aria: match (active, shown_desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        },
        numeric,
    }
}

pub async fn list(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = query.filter();
    let sort = query.sort();
    let cursor = query.cursor();
    let today = state.today();
    let mut conn = user.reader(&state).await?;
    let vehicles::Listing { rows, more, total } = vehicles::page(
        &mut conn,
        &filter,
        sort,
        cursor.as_ref(),
        PAGE_SIZE,
        today,
        &state.estimates,
    )
    .await?;
    let filtered =
        filter.q.is_some() || filter.make.is_some() || filter.status != StatusFilter::Current;
    let total = match total {
        Total::Exact(n) => Count { n, exact: true },
        Total::About(n) => Count {
            n: round_two_digits(n),
            exact: false,
        },
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let covers = photos::covers(&mut conn, &ids).await?;
    drop(conn);
    // Read again from the primary, never the replica: a replica a moment
    // behind would keep a new make out of the filter for the whole 30 s.
    let makes = match state.makes.fresh() {
        Some(makes) => makes,
        None => state.makes.get(&mut **user.db(&state).await?).await?,
    };

    let backwards = matches!(cursor, Some(Cursor::Before(..)));
    let (has_next, has_prev) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let next_url = rows.last().filter(|_| has_next).map(|r| {
        query.url(
            sort,
            Some(("after", cursor::encode(&sort.key.value_of(r), r.id))),
        )
    });
    let prev_url = rows.first().filter(|_| has_prev).map(|r| {
        query.url(
            sort,
            Some(("before", cursor::encode(&sort.key.value_of(r), r.id))),
        )
    });
    let first_url = cursor.is_some().then(|| query.url(sort, None));
    // The order people read a row in: which car, is it for sale, its price;
    // then what matters on the lot. The template's cells follow this order.
    let column = |key, label, numeric, class| {
        Column::Sorts(header(&query, sort, key, label, numeric, class))
    };
    let columns = vec![
        column(SortKey::Stock, "Stock #", false, ALWAYS),
        column(SortKey::Make, "Vehicle", false, ALWAYS),
        Column::Plain("Status", ALWAYS),
        column(SortKey::Price, "Price", true, ALWAYS),
        column(SortKey::Received, "Days in stock", true, FROM_PHONE),
        Column::Plain("Location", FROM_PHONE),
        column(SortKey::Mileage, "Mileage", true, FROM_TABLET),
        Column::Plain("Color", FROM_TABLET),
        Column::Plain("VIN", FROM_LAPTOP),
    ];
    let mut sorts = Vec::new();
    for (key, label_asc, label_desc) in [
        (
            SortKey::Received,
            "Oldest stock first",
            "Newest stock first",
        ),
        (SortKey::Price, "Price: low to high", "Price: high to low"),
        (SortKey::Year, "Year: oldest first", "Year: newest first"),
        (
            SortKey::Mileage,
            "Mileage: lowest first",
            "Mileage: highest first",
        ),
        (SortKey::Stock, "Stock number A→Z", "Stock number Z→A"),
        (SortKey::Make, "Make A→Z", "Make Z→A"),
        (
            SortKey::Updated,
            "Least recently changed",
            "Recently changed",
        ),
    ] {
        sorts.push((Sort { key, desc: true }.param(), label_desc));
        sorts.push((Sort { key, desc: false }.param(), label_asc));
    }
    let page = Page::new("Inventory", &session, Some(&user)).section("inventory");
    Ok(render(
        StatusCode::OK,
        &ListPage {
            page,
            rows: rows.into_iter().map(RowView::from).collect(),
            covers,
            q: filter.q.clone().unwrap_or_default(),
            status: query.status.clone().unwrap_or_default(),
            make: filter.make.clone().unwrap_or_default(),
            sort: sort.param(),
            makes,
            statuses: vec![
                ("", "In stock and sold"),
                ("available", "Available"),
                ("reserved", "Reserved"),
                ("sold", "Sold"),
                ("archived", "Archived"),
                ("all", "All, including archived"),
            ],
            sorts,
            columns,
            total,
            next_url,
            prev_url,
            first_url,
            csv_url: query.csv_url(),
            can_add: user.role.allows(Role::Editor),
            filtered,
        },
    ))
}
