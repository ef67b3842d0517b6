//! `parse_vehicle_number`: never panics; a stock number it accepts is 1 to
//! 20 of `A-Z 0-9 -` (what the database's CHECK allows), and parsing it again
//! changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcn::domain::vehicle::parse_vehicle_number;

fuzz_target!(|input: &str| {
    let Ok(number) = parse_vehicle_number(input) else {
        return;
    };
    assert!((1..=20).contains(&number.len()), "{input:?} → {number:?}");
    assert!(
        number
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
        "{input:?} → {number:?}"
    );
    assert_eq!(
        parse_vehicle_number(&number),
        Ok(number.clone()),
        "{input:?}"
    );
});
