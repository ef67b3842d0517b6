//! `GET /reports/sales`: units, revenue and gross profit by month and by
//! salesperson for a period, with a chart drawn on the server as SVG.

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    models::sales::{self, Totals},
    web::{AppError, Page, filters, render},
};

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One row of a table (a month, a salesperson, the total) and its figures.
pub struct Line {
    pub label: String,
    pub units: i64,
    pub revenue_cents: i64,
    pub gross_cents: i64,
    /// The sales this row adds up, in the sales list.
    pub sales_url: String,
}

impl Line {
    fn of(t: &Totals, sales_url: String) -> Self {
        Self {
            label: t.label.clone(),
            units: t.units,
            revenue_cents: t.revenue_cents,
            gross_cents: t.gross_cents,
            sales_url,
        }
    }

    /// Gross profit as a share of revenue, in per cent; none without revenue.
    pub fn margin(&self) -> Option<f64> {
        (self.revenue_cents > 0)
            .then(|| self.gross_cents as f64 * 100.0 / self.revenue_cents as f64)
    }
}

#[derive(Template)]
#[template(path = "reports/sales.html")]
struct ReportPage {
    page: Page,
    from: String,
    to: String,
    error: Option<&'static str>,
    months: Vec<Line>,
    people: Vec<Line>,
    total: Line,
    chart: Chart,
}

/// The first day of the month a `YYYY-MM` label names.
fn month_of(label: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok()
}

/// The sales list of the sales sold from `from` to `to`, by one
/// salesperson or by all.
fn sales_url(from: NaiveDate, to: NaiveDate, salesperson: Option<i64>) -> String {
    let mut pairs = vec![("from", from.to_string()), ("to", to.to_string())];
    pairs.extend(salesperson.map(|p| ("salesperson", p.to_string())));
    format!(
        "/sales?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// The part of the period `from`–`to` in the month a `YYYY-MM` label names.
fn month_in(label: &str, from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let Some(start) = month_of(label) else {
        return (from, to);
    };
    let end = start
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start);
    (start.max(from), end.min(to))
}

/// `2026-03` → `Mar 2026`; anything else as it is.
fn month_name(label: &str) -> String {
    month_of(label).map_or_else(|| label.to_string(), |d| d.format("%b %Y").to_string())
}

/// Revenue (light) and gross profit (dark) per month: the geometry, which
/// `templates/reports/_chart.svg` draws as an accessible SVG.
pub struct Chart {
    pub width: f64,
    pub height: f64,
    /// Where the plot starts (after the amounts) and ends, left to right.
    pub left: f64,
    pub right: f64,
    /// The y of the zero line.
    pub baseline: f64,
    pub gridlines: Vec<Gridline>,
    pub bars: Vec<Bar>,
}

/// A horizontal line at a round amount.
pub struct Gridline {
    pub y: f64,
    pub dollars: i64,
}

/// One month: a wide revenue bar with a narrower gross profit bar on it.
pub struct Bar {
    /// `Mar 2026`, for the tooltip.
    pub month: String,
    /// `Mar 26` under the bar, when there is room for this month's label.
    pub short: Option<String>,
    pub units: i64,
    pub revenue_cents: i64,
    pub gross_cents: i64,
    pub x: f64,
    pub width: f64,
    pub revenue_y: f64,
    pub revenue_height: f64,
    pub gross_x: f64,
    pub gross_width: f64,
    pub gross_y: f64,
    pub gross_height: f64,
    /// The middle of the bar, where its label goes.
    pub center: f64,
}

impl Chart {
    pub fn of(months: &[Totals]) -> Self {
        const W: f64 = 760.0;
        const H: f64 = 280.0;
        const LEFT: f64 = 86.0;
        const BOTTOM: f64 = 36.0;
        const TOP: f64 = 16.0;
        let max = months
            .iter()
            .map(|m| m.revenue_cents.max(m.gross_cents))
            .max()
            .unwrap_or(0)
            .max(1);
        // Four gridlines at a round step: 1, 2 or 5 times a power of ten.
        let raw = (max + 3) / 4;
        let mut magnitude = 1i64;
        while magnitude * 10 <= raw {
            magnitude *= 10;
        }
        let step = [1, 2, 5, 10]
            .iter()
            .map(|k| k * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10 * magnitude);
        let top = step * 4;
        let plot_h = H - TOP - BOTTOM;
        let plot_w = W - LEFT - 10.0;
        let baseline = TOP + plot_h;
        let y = |cents: i64| baseline - (cents.max(0) as f64 / top as f64) * plot_h;
        let n = months.len().max(1) as f64;
        let slot = plot_w / n;
        let bar = (slot * 0.7).min(48.0);
        Self {
            width: W,
            height: H,
            left: LEFT,
            right: W - 10.0,
            baseline,
            gridlines: (0..=4)
                .map(|i| Gridline {
                    y: y(step * i),
                    dollars: (step * i / 100).max(0),
                })
                .collect(),
            bars: months
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
                    let (revenue_y, gross_y) = (y(m.revenue_cents), y(m.gross_cents));
                    // Every label when they fit, else every other one.
                    let labelled = months.len() <= 14 || i % 2 == 0;
                    Bar {
                        month: month_name(&m.label),
                        short: labelled.then(|| {
                            month_of(&m.label)
                                .map(|d| d.format("%b %y").to_string())
                                .unwrap_or_default()
                        }),
                        units: m.units,
                        revenue_cents: m.revenue_cents,
                        gross_cents: m.gross_cents,
                        x,
                        width: bar,
                        revenue_y,
                        revenue_height: (baseline - revenue_y).max(0.0),
                        gross_x: x + bar * 0.2,
                        gross_width: bar * 0.6,
                        gross_y,
                        gross_height: (baseline - gross_y).max(0.0),
                        center: x + bar / 2.0,
                    }
                })
                .collect(),
        }
    }
}

pub async fn report(
    user: Viewer,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let today = state.today();
    let default_from = NaiveDate::from_ymd_opt(today.year() - 1, today.month(), 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .unwrap_or(today);
    // Each date: `Ok(None)` when not given, `Err` when given but unreadable.
    let parse = |s: &Option<String>| match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) => crate::domain::date::parse_date(d).map(Some).ok_or(()),
    };
    let (given_from, given_to) = (parse(&query.from), parse(&query.to));
    let (mut from, mut to) = (
        given_from.ok().flatten().unwrap_or(default_from),
        given_to.ok().flatten().unwrap_or(today),
    );
    let mut error = None;
    if given_from.is_err() || given_to.is_err() {
        error =
            Some("Write dates as YYYY-MM-DD, in the years 1 to 9999; showing the last 12 months.");
        (from, to) = (default_from, today);
    } else if from > to {
        error = Some("The start of the period is after its end; showing the last 12 months.");
        (from, to) = (default_from, today);
    } else if (to - from).num_days() > 366 * 5 {
        error = Some("Choose a period of at most five years; showing the last 12 months.");
        (from, to) = (default_from, today);
    }
    let mut conn = user.reader(&state).await?;
    let months = sales::by_month(&mut conn, from, to).await?;
    let people = sales::by_salesperson(&mut conn, from, to).await?;
    drop(conn);
    let total = Totals {
        label: "Total".into(),
        units: months.iter().map(|m| m.units).sum(),
        revenue_cents: months.iter().map(|m| m.revenue_cents).sum(),
        gross_cents: months.iter().map(|m| m.gross_cents).sum(),
        salesperson_id: None,
    };
    Ok(render(
        StatusCode::OK,
        &ReportPage {
            page: Page::new("Sales report", &session, Some(&user)).section("reports"),
            from: from.to_string(),
            to: to.to_string(),
            error,
            chart: Chart::of(&months),
            months: months
                .iter()
                .map(|m| {
                    let (start, end) = month_in(&m.label, from, to);
                    Line {
                        label: month_name(&m.label),
                        ..Line::of(m, sales_url(start, end, None))
                    }
                })
                .collect(),
            people: people
                .iter()
                .map(|p| Line::of(p, sales_url(from, to, p.salesperson_id)))
                .collect(),
            total: Line::of(&total, sales_url(from, to, None)),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chart alone, drawn by the same file the report includes.
    #[derive(Template)]
    #[template(path = "reports/_chart.svg")]
    struct ChartOnly {
        chart: Chart,
    }

    fn draw(months: &[Totals]) -> String {
        ChartOnly {
            chart: Chart::of(months),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_chart_is_svg_with_one_group_per_month_and_escaped_text() {
        let mut months: Vec<Totals> = (1..=12)
            .map(|m| Totals {
                label: format!("2026-{m:02}"),
                units: m,
                revenue_cents: m * 2_000_000,
                gross_cents: m * 300_000,
                salesperson_id: None,
            })
            .collect();
        let svg = draw(&months);
        let svg = svg.trim();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<g>").count(), 12);
        assert!(
            svg.contains("Dec 2026: 12 sold, revenue $240,000.00"),
            "{svg}"
        );
        assert!(svg.contains(">400,000</text>"), "the top gridline: {svg}");
        assert!(!svg.contains("style="), "no inline styles under the CSP");
        assert!(!svg.contains("fill="), "colours come from the stylesheet");
        assert!(draw(&[]).contains("</svg>"));
        // A label that is not a month is shown as it is, escaped.
        months[0].label = "<b>&".into();
        let svg = draw(&months);
        assert!(svg.contains("&#60;b&#62;&#38;: 1 sold"), "{svg}");
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn a_months_sales_are_those_of_the_month_within_the_period() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (from, to) = (d("2026-01-15"), d("2026-03-10"));
        assert_eq!(month_in("2026-01", from, to), (from, d("2026-01-31")));
        assert_eq!(
            month_in("2026-02", from, to),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(month_in("2026-03", from, to), (d("2026-03-01"), to));
        assert_eq!(
            sales_url(from, to, Some(7)),
            "/sales?from=2026-01-15&to=2026-03-10&salesperson=7"
        );
    }

    #[test]
    fn months_are_labelled_every_other_one_when_crowded() {
        let months: Vec<Totals> = (0..24)
            .map(|i| Totals {
                label: format!("{}-{:02}", 2025 + i / 12, i % 12 + 1),
                units: 1,
                revenue_cents: 100,
                gross_cents: 10,
                salesperson_id: None,
            })
            .collect();
        let chart = Chart::of(&months);
        let labelled = chart.bars.iter().filter(|b| b.short.is_some()).count();
        assert_eq!(labelled, 12);
        assert_eq!(chart.bars[0].short.as_deref(), Some("Jan 25"));
    }
}
