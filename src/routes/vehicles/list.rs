//! `GET /vehicles`: 50 a page, search, filters and sorts in the URL, keyset
//! pagination (no OFFSET), a capped count labelled honestly.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::vehicle::bulk,
    domain::{Role, Status, photo::Size, saved_view::ViewList, text},
    models::photos::{self, Covers},
    models::vehicles::{self, Cursor, ListFilter, Sort, SortKey, StatusFilter, Total, VehicleRow},
    routes::saved_views::{self, ViewsBox},
    web::{AppError, Page, SortHeader, cursor, filters, render},
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
    /// Where this page starts in the view (1 for the first row), carried by
    /// the page links for the "51–100 of 1,876" line; only shown, never
    /// used to read (the cursor is what reads).
    pub at: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> ListFilter {
        // What PostgreSQL cannot store (NUL) and nobody types (controls) goes.
        let clean = |s: &str| text::cleaned(s, 100);
        let status = match self.status.as_deref().map(str::trim) {
            Some("all") => StatusFilter::All,
            Some("current") => StatusFilter::Current,
            Some(s) => Status::parse(s).map_or(StatusFilter::InStock, StatusFilter::Only),
            None => StatusFilter::InStock,
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

    /// The position of this page's first row, when known: 1 on the first
    /// page (no cursor, or one that was ignored), else what the link that
    /// led here said.
    fn at(&self, cursor: Option<&Cursor>) -> Option<i64> {
        if cursor.is_none() {
            return Some(1);
        }
        self.at
            .as_deref()
            .and_then(|a| a.trim().parse::<i64>().ok())
            .filter(|a| (1..1_000_000_000_000).contains(a))
    }

    /// The query string for this view with other page/sort settings.
    fn url(&self, sort: Sort, page: &[(&str, String)]) -> String {
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
        pairs.extend(page.iter().cloned());
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            "/vehicles".into()
        } else {
            format!("/vehicles?{qs}")
        }
    }

    pub fn csv_url(&self) -> String {
        self.url(self.sort(), &[])
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

/// The positions of a page's first and last rows ("51–100 of …"), when the
/// view has more than this page, the page has rows, where it starts is
/// known, and it fits in an exact total (a view that changed between pages,
/// or a hand-edited `at`, shows none).
fn shown_rows(at: Option<i64>, rows: usize, total: &Count) -> Option<(i64, i64)> {
    let first = at.filter(|_| rows > 0)?;
    let last = first + rows as i64 - 1;
    let whole = total.exact && first == 1 && last == total.n;
    (!whole && (!total.exact || last <= total.n)).then_some((first, last))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_are_rounded_to_two_digits() {
        assert_eq!(round_two_digits(934_512), 930_000);
        assert_eq!(round_two_digits(12_600), 13_000);
        assert_eq!(round_two_digits(87), 87);
    }

    #[test]
    fn a_page_shows_its_rows_positions_when_they_fit_the_total() {
        let exact = |n| Count { n, exact: true };
        assert_eq!(shown_rows(Some(1), 50, &exact(1876)), Some((1, 50)));
        assert_eq!(shown_rows(Some(1851), 26, &exact(1876)), Some((1851, 1876)));
        assert_eq!(shown_rows(Some(1), 0, &exact(0)), None);
        assert_eq!(shown_rows(Some(1), 2, &exact(2)), None, "all on one page");
        assert_eq!(shown_rows(None, 50, &exact(1876)), None);
        assert_eq!(shown_rows(Some(1900), 50, &exact(1876)), None);
        let about = Count {
            n: 930_000,
            exact: false,
        };
        assert_eq!(shown_rows(Some(51), 50, &about), Some((51, 100)));
    }

    #[test]
    fn the_list_opens_on_what_is_in_stock_and_keeps_every_choice() {
        let status = |s: Option<&str>| {
            ListQuery {
                status: s.map(String::from),
                ..ListQuery::default()
            }
            .filter()
            .status
        };
        assert_eq!(status(None), StatusFilter::InStock);
        assert_eq!(status(Some("")), StatusFilter::InStock);
        assert_eq!(status(Some("nonsense")), StatusFilter::InStock);
        assert_eq!(status(Some("all")), StatusFilter::All);
        assert_eq!(status(Some("current")), StatusFilter::Current);
        assert_eq!(status(Some("sold")), StatusFilter::Only(Status::Sold));
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
    /// The first and last row's position in the view ("51–100"), when known.
    shown: Option<(i64, i64)>,
    next_url: Option<String>,
    prev_url: Option<String>,
    first_url: Option<String>,
    csv_url: String,
    can_add: bool,
    filtered: bool,
    /// What the ticked rows may be given (editors; archiving for admins);
    /// none for a viewer, who sees no tick boxes.
    bulk_actions: Vec<(&'static str, &'static str)>,
    /// This view, first page: where a bulk change's summary leads back to.
    here: String,
    bulk_js: &'static str,
    /// The saved views beside the filters.
    views: ViewsBox,
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
    // First click: the natural direction (most days, highest, A→Z).
    let first_desc = matches!(key, SortKey::Updated | SortKey::Price | SortKey::Year);
    let desc = SortHeader::next_desc(active, current.desc, first_desc);
    // "Days in stock" runs opposite to the received date it sorts by.
    let shown_desc = current.desc != (key == SortKey::Received);
    SortHeader::new(
        label,
        query.url(Sort { key, desc }, &[]),
        active,
        shown_desc,
        numeric,
    )
    .hidden_below(class)
}

pub async fn list(
    req: HttpRequest,
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
        filter.q.is_some() || filter.make.is_some() || filter.status != StatusFilter::InStock;
    let total = match total {
        Total::Exact(n) => Count { n, exact: true },
        Total::About(n) => Count {
            n: round_two_digits(n),
            exact: false,
        },
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let covers = photos::covers(&mut conn, &ids).await?;
    let views =
        saved_views::beside(&mut conn, ViewList::Vehicles, &user, req.query_string()).await?;
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
    let at = query.at(cursor.as_ref());
    // A page link: its cursor, and where that page starts when known.
    let link = |dir: &'static str, r: &VehicleRow, starts: Option<i64>| {
        let mut page = vec![(dir, cursor::encode(&sort.key.value_of(r), r.id))];
        page.extend(starts.map(|n| ("at", n.to_string())));
        query.url(sort, &page)
    };
    let next_url = rows
        .last()
        .filter(|_| has_next)
        .map(|r| link("after", r, at.map(|a| a + rows.len() as i64)));
    let prev_url = rows
        .first()
        .filter(|_| has_prev)
        .map(|r| link("before", r, at.map(|a| (a - PAGE_SIZE).max(1))));
    let first_url = cursor.is_some().then(|| query.url(sort, &[]));
    let shown = shown_rows(at, rows.len(), &total);
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
                ("", "In stock"),
                ("available", "Available"),
                ("reserved", "Reserved"),
                ("sold", "Sold"),
                ("current", "In stock and sold"),
                ("archived", "Archived"),
                ("all", "All, including archived"),
            ],
            sorts,
            columns,
            total,
            shown,
            next_url,
            prev_url,
            first_url,
            csv_url: query.csv_url(),
            can_add: user.role.allows(Role::Editor),
            filtered,
            bulk_actions: bulk::ACTIONS
                .into_iter()
                .filter(|(action, _)| match *action {
                    "archive" => user.role == Role::Admin,
                    _ => user.role.allows(Role::Editor),
                })
                .collect(),
            here: query.url(sort, &[]),
            bulk_js: crate::web::assets::bulk_js_url(),
            views,
        },
    ))
}
