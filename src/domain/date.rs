//! Dates and instants people type or links carry. Only years 1 to 9999 are
//! taken: every HTML date field and every PostgreSQL column holds them, so a
//! value that parses here can never make the database refuse a query.

use chrono::{DateTime, Datelike as _, NaiveDate, SubsecRound as _, Utc};

const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A `YYYY-MM-DD` date (surrounding space ignored) in years 1–9999.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // chrono also reads signed and five-digit years ("+10000-01-01").
    if s.len() != 10 || !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// An RFC 3339 instant in years 1–9999 (in UTC and in its own offset), to
/// the microsecond: finer digits are dropped, so the value is one PostgreSQL
/// holds and `format_instant` writes exactly.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    (YEARS.contains(&at.year()) && YEARS.contains(&at.naive_utc().year()))
        .then(|| at.with_timezone(&Utc).trunc_subsecs(6))
}

/// How a cursor or link carries an instant: UTC, microseconds.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_outside_years_1_to_9999_are_not_dates() {
        assert_eq!(
            parse_date(" 2026-11-24 "),
            NaiveDate::from_ymd_opt(2026, 11, 24)
        );
        assert!(parse_date("0001-01-01").is_some());
        assert!(parse_date("9999-12-31").is_some());
        for bad in [
            "0000-01-01",
            "-5000-01-01",
            "+10000-01-01",
            "10000-01-01",
            "2026-02-30",
            "2026-1-5",
            "",
            "tomorrow",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn instants_outside_years_1_to_9999_are_not_instants() {
        assert!(parse_instant("2026-11-24T10:00:00.000001Z").is_some());
        assert!(parse_instant("2026-11-24T10:00:00+23:59").is_some());
        for bad in [
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-02:00",
            "2026-11-24",
            "x",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn instants_are_kept_to_the_microsecond_as_the_database_keeps_them() {
        // Found by `cargo fuzz run dates`: nanoseconds were kept, and lost
        // on the way through a cursor.
        let at = parse_instant("6160-02-01 02:02:03.58110987z").unwrap();
        assert_eq!(format_instant(at), "6160-02-01T02:02:03.581109Z");
        assert_eq!(parse_instant(&format_instant(at)), Some(at));
    }

    proptest! {
        #[test]
        fn instants_round_trip_through_their_cursor_form(secs in -62_135_596_800i64..253_402_300_799i64) {
            let at = DateTime::from_timestamp(secs, 0).unwrap();
            prop_assert_eq!(parse_instant(&format_instant(at)), Some(at));
        }
    }
}
