//! `parse_date` and `parse_instant`: never panic; what they accept lies in
//! years 1 to 9999 (every PostgreSQL column and HTML date field holds it), and
//! the form PCN writes it in (`YYYY-MM-DD`, a cursor's instant) reads back to
//! the same value.
#![no_main]

use chrono::Datelike as _;
use libfuzzer_sys::fuzz_target;
use pcn::domain::date::{format_instant, parse_date, parse_instant};

fuzz_target!(|input: &str| {
    if let Some(d) = parse_date(input) {
        assert!((1..=9999).contains(&d.year()), "{input:?} → {d}");
        let written = d.format("%Y-%m-%d").to_string();
        assert_eq!(written.len(), 10, "{input:?} → {written:?}");
        assert_eq!(parse_date(&written), Some(d), "{input:?}");
    }
    if let Some(at) = parse_instant(input) {
        assert!((1..=9999).contains(&at.year()), "{input:?} → {at}");
        assert_eq!(parse_instant(&format_instant(at)), Some(at), "{input:?}");
    }
});
