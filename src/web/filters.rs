//! askama filters: how a value looks on a page. Templates say what to show
//! (`{{ v.list_price_cents|money }}`, `{{ at|local_time(page.tz) }}`), these
//! say how, once. A template finds them as `filters::…` in the scope of its
//! struct, so a route module with templates that use them has
//! `use crate::web::filters;`.

use askama::Values;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{Money, money::group_thousands};

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

/// Cents as the app shows money: `12,500.00`.
#[askama::filter_fn]
pub fn money<T: Whole>(cents: T, _: &dyn Values) -> askama::Result<String> {
    Ok(Money::from_cents(cents.whole()).to_string())
}

/// A count with thousands separators: `1,234,567`.
#[askama::filter_fn]
pub fn thousands<T: Whole>(n: T, _: &dyn Values) -> askama::Result<String> {
    let n = n.whole();
    let sign = if n < 0 { "-" } else { "" };
    Ok(format!("{sign}{}", group_thousands(n.unsigned_abs())))
}

/// An instant in the dealership's zone: `2026-03-14 15:09`, or with
/// `zone = true` `2026-03-14 15:09 EDT`. The only place the app turns an
/// instant into local time for people to read.
#[askama::filter_fn]
pub fn local_time<T: Instant>(
    at: T,
    _: &dyn Values,
    tz: &Tz,
    #[optional(false)] zone: bool,
) -> askama::Result<String> {
    let local = at.instant().with_timezone(tz);
    Ok(if zone {
        local.format("%Y-%m-%d %H:%M %Z").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M").to_string()
    })
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use chrono::TimeZone as _;

    use super::*;
    use crate::web::filters;

    #[derive(Template)]
    #[template(
        source = "{{ cents|money }} {{ n|thousands }} {{ at|local_time(tz) }} | {{ at|local_time(tz, zone = true) }}",
        ext = "txt"
    )]
    struct Sample {
        cents: i64,
        n: i32,
        at: DateTime<Utc>,
        tz: Tz,
    }

    #[test]
    fn format_money_counts_and_local_times() {
        let page = Sample {
            cents: 123_456_789,
            n: 48_210,
            at: Utc.with_ymd_and_hms(2026, 1, 15, 3, 30, 0).unwrap(),
            tz: chrono_tz::America::New_York,
        };
        assert_eq!(
            page.render().unwrap(),
            "1,234,567.89 48,210 2026-01-14 22:30 | 2026-01-14 22:30 EST"
        );
    }

    #[test]
    fn negative_amounts_keep_their_sign() {
        let page = Sample {
            cents: -150,
            n: -1234,
            at: Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap(),
            tz: chrono_tz::UTC,
        };
        assert_eq!(
            page.render().unwrap(),
            "-1.50 -1,234 2026-07-01 12:00 | 2026-07-01 12:00 UTC"
        );
    }
}
