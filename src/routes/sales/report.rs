//! `GET /reports/sales`: units, revenue and gross profit by month and by
//! salesperson for a period, with a chart drawn on the server as SVG.

use std::fmt::Write as _;

use actix_session::Session;
use actix_web::{HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;

use crate::{
    app::AppState,
    auth::Viewer,
    domain::{Money, money::group_thousands},
    models::sales::{self, Totals},
    web::{AppError, Page, render},
};

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
}

pub struct Line {
    pub label: String,
    pub units: String,
    pub revenue: String,
    pub gross: String,
    pub margin: String,
}

fn line(t: &Totals) -> Line {
    Line {
        label: t.label.clone(),
        units: group_thousands(t.units.max(0) as u64),
        revenue: Money::from_cents(t.revenue_cents).to_string(),
        gross: Money::from_cents(t.gross_cents).to_string(),
        margin: if t.revenue_cents > 0 {
            format!(
                "{:.1} %",
                t.gross_cents as f64 * 100.0 / t.revenue_cents as f64
            )
        } else {
            "—".into()
        },
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
    chart: String,
}

fn month_name(label: &str) -> String {
    NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d")
        .map(|d| d.format("%b %Y").to_string())
        .unwrap_or_else(|_| label.to_string())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Revenue (light) and gross profit (dark) per month, as an accessible SVG.
pub fn chart_svg(months: &[Totals]) -> String {
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
    let y = |cents: i64| TOP + plot_h - (cents.max(0) as f64 / top as f64) * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        svg,
        r#"<title id="chart-title">Revenue and gross profit by month</title><desc id="chart-desc">Bars per month: revenue in light blue, gross profit in dark blue. The table below has the same figures.</desc>"#
    );
    for i in 0..=4 {
        let v = step * i;
        let yy = y(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#d9dee6"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#5b6675">{}</text>"##,
            W - 10.0,
            LEFT - 6.0,
            yy + 4.0,
            escape(&group_thousands((v / 100).max(0) as u64))
        );
    }
    let n = months.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).min(48.0);
    for (i, m) in months.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let (yr, yg) = (y(m.revenue_cents), y(m.gross_cents));
        let name = month_name(&m.label);
        let tip = escape(&format!(
            "{name}: {} sold, revenue {}, gross profit {}",
            m.units,
            Money::from_cents(m.revenue_cents),
            Money::from_cents(m.gross_cents)
        ));
        let _ = write!(
            svg,
            r##"<g><title>{tip}</title><rect x="{x:.1}" y="{yr:.1}" width="{bar:.1}" height="{:.1}" fill="#9cc0ea"/><rect x="{:.1}" y="{yg:.1}" width="{:.1}" height="{:.1}" fill="#1f4e8c"/></g>"##,
            (TOP + plot_h - yr).max(0.0),
            x + bar * 0.2,
            bar * 0.6,
            (TOP + plot_h - yg).max(0.0),
        );
        // Every label when they fit, else every other one.
        if months.len() <= 14 || i % 2 == 0 {
            let short = NaiveDate::parse_from_str(&format!("{}-01", m.label), "%Y-%m-%d")
                .map(|d| d.format("%b %y").to_string())
                .unwrap_or_default();
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#5b6675">{}</text>"##,
                x + bar / 2.0,
                H - BOTTOM + 16.0,
                escape(&short)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#5b6675"/></svg>"##,
        W - 10.0,
        TOP + plot_h,
        TOP + plot_h
    );
    svg
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
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
    };
    let (mut from, mut to) = (
        parse(&query.from).unwrap_or(default_from),
        parse(&query.to).unwrap_or(today),
    );
    let mut error = None;
    if from > to {
        error = Some("The start of the period is after its end; showing the last 12 months.");
        (from, to) = (default_from, today);
    } else if (to - from).num_days() > 366 * 5 {
        error = Some("Choose a period of at most five years; showing the last 12 months.");
        (from, to) = (default_from, today);
    }
    let mut conn = state.pool.get().await?;
    let months = sales::by_month(&mut conn, from, to).await?;
    let people = sales::by_salesperson(&mut conn, from, to).await?;
    drop(conn);
    let total = Totals {
        label: "Total".into(),
        units: months.iter().map(|m| m.units).sum(),
        revenue_cents: months.iter().map(|m| m.revenue_cents).sum(),
        gross_cents: months.iter().map(|m| m.gross_cents).sum(),
    };
    Ok(render(
        StatusCode::OK,
        &ReportPage {
            page: Page::new("Sales report", &session, Some(&user)).section("reports"),
            from: from.to_string(),
            to: to.to_string(),
            error,
            chart: chart_svg(&months),
            months: months
                .iter()
                .map(|m| Line {
                    label: month_name(&m.label),
                    ..line(m)
                })
                .collect(),
            people: people.iter().map(line).collect(),
            total: line(&total),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_svg_with_one_group_per_month_and_escaped_text() {
        let months: Vec<Totals> = (1..=12)
            .map(|m| Totals {
                label: format!("2026-{m:02}"),
                units: m,
                revenue_cents: m * 2_000_000,
                gross_cents: m * 300_000,
            })
            .collect();
        let svg = chart_svg(&months);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<g>").count(), 12);
        assert!(svg.contains("Dec 2026: 12 sold, revenue 240,000.00"));
        assert!(!svg.contains("style="), "no inline styles under the CSP");
        assert!(chart_svg(&[]).contains("</svg>"));
    }
}
