//! askama filters: how a value looks on a page. Templates say what to show
//! (`{{ v.list_price_cents|money }}`, `{{ s.sold_on|date }}`,
//! `{{ at|local_time(page.tz) }}`), these say how, once, as the dealership's
//! settings say (currency symbol and place, date format): `web::render`
//! hands them to every template as the value `SETTINGS`. A template finds
//! the filters as `filters::…` in the scope of its struct, so a route module
//! with templates that use them has `use crate::web::filters;`.

use std::sync::LazyLock;

use askama::Values;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::{money::group_thousands, settings::Settings};

/// The key of the dealership's settings among a template's values.
pub const SETTINGS: &str = "settings";

/// The settings a template was rendered with; the defaults without any.
fn settings(values: &dyn Values) -> &Settings {
    static DEFAULTS: LazyLock<Settings> = LazyLock::new(Settings::default);
    askama::get_value::<Settings>(values, SETTINGS).unwrap_or(&DEFAULTS)
}

/// Anything askama may hand a filter for a whole number: the value itself or
/// a reference to it, however deep.
pub trait Whole {
    fn whole(&self) -> i64;
}

macro_rules! whole {
    ($($t:ty),*) => {$(
        impl Whole for $t {
            fn whole(&self) -> i64 {
                i64::from(*self)
            }
        }
    )*};
}
whole!(i16, i32, i64, u16, u32);

impl<T: Whole + ?Sized> Whole for &T {
    fn whole(&self) -> i64 {
        (**self).whole()
    }
}

/// An instant, or a reference to one.
pub trait Instant {
    fn instant(&self) -> DateTime<Utc>;
}

impl Instant for DateTime<Utc> {
    fn instant(&self) -> DateTime<Utc> {
        *self
    }
}

impl<T: Instant + ?Sized> Instant for &T {
    fn instant(&self) -> DateTime<Utc> {
        (**self).instant()
    }
}

/// Cents as the app shows money: `$12,500.00` (the currency and its place
/// as the settings say).
#[askama::filter_fn]
pub fn money<T: Whole>(cents: T, values: &dyn Values) -> askama::Result<String> {
    Ok(settings(values).money(cents.whole()))
}

/// A calendar date, or a reference to one.
pub trait Day {
    fn day(&self) -> NaiveDate;
}

impl Day for NaiveDate {
    fn day(&self) -> NaiveDate {
        *self
    }
}

impl<T: Day + ?Sized> Day for &T {
    fn day(&self) -> NaiveDate {
        (**self).day()
    }
}

/// A calendar date in the settings' format: `2026-03-14`, `14/03/2026`, …
#[askama::filter_fn]
pub fn date<T: Day>(day: T, values: &dyn Values) -> askama::Result<String> {
    Ok(settings(values).date(day.day()))
}

/// A count with thousands separators: `1,234,567`.
#[askama::filter_fn]
pub fn thousands<T: Whole>(n: T, _: &dyn Values) -> askama::Result<String> {
    let n = n.whole();
    let sign = if n < 0 { "-" } else { "" };
    Ok(format!("{sign}{}", group_thousands(n.unsigned_abs())))
}

/// An instant in the dealership's zone: `2026-03-14 15:09`, or with
/// `zone = true` `2026-03-14 15:09 EDT` (the date in the settings' format).
/// The only place the app turns an instant into local time for people to
/// read.
#[askama::filter_fn]
pub fn local_time<T: Instant>(
    at: T,
    values: &dyn Values,
    tz: &Tz,
    #[optional(false)] zone: bool,
) -> askama::Result<String> {
    let local = at.instant().with_timezone(tz);
    let abbreviation = zone.then(|| local.format("%Z").to_string());
    Ok(settings(values).date_time(local.naive_local(), abbreviation.as_deref()))
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use chrono::TimeZone as _;

    use super::*;
    use crate::domain::settings::{CurrencyPlace, DateFormat};
    use crate::web::filters;

    #[derive(Template)]
    #[template(
        source = "{{ cents|money }} {{ n|thousands }} {{ day|date }} {{ at|local_time(tz) }} | {{ at|local_time(tz, zone = true) }}",
        ext = "txt"
    )]
    struct Sample {
        cents: i64,
        n: i32,
        day: NaiveDate,
        at: DateTime<Utc>,
        tz: Tz,
    }

    fn sample(cents: i64, n: i32, at: DateTime<Utc>, tz: Tz) -> Sample {
        Sample {
            cents,
            n,
            day: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
            at,
            tz,
        }
    }

    #[test]
    fn format_money_counts_and_local_times() {
        let page = sample(
            123_456_789,
            48_210,
            Utc.with_ymd_and_hms(2026, 1, 15, 3, 30, 0).unwrap(),
            chrono_tz::America::New_York,
        );
        assert_eq!(
            page.render().unwrap(),
            "$1,234,567.89 48,210 2026-03-04 2026-01-14 22:30 | 2026-01-14 22:30 EST"
        );
    }

    #[test]
    fn negative_amounts_keep_their_sign() {
        let page = sample(
            -150,
            -1234,
            Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap(),
            chrono_tz::UTC,
        );
        assert_eq!(
            page.render().unwrap(),
            "-$1.50 -1,234 2026-03-04 2026-07-01 12:00 | 2026-07-01 12:00 UTC"
        );
    }

    #[test]
    fn the_settings_given_decide_currency_and_date_format() {
        let settings = Settings {
            currency_symbol: "€".into(),
            currency_place: CurrencyPlace::After,
            date_format: DateFormat::DayMonthName,
            ..Settings::default()
        };
        let values: &dyn std::any::Any = &settings;
        let page = sample(
            2_730_000,
            7,
            Utc.with_ymd_and_hms(2026, 11, 24, 9, 5, 0).unwrap(),
            chrono_tz::UTC,
        );
        assert_eq!(
            page.render_with_values(&(SETTINGS, values)).unwrap(),
            "27,300.00 € 7 4 Mar 2026 24 Nov 2026 09:05 | 24 Nov 2026 09:05 UTC"
        );
    }
}
