//! `parse_vin`: never panics; a VIN it accepts is 17 of `A-HJ-NPR-Z0-9`
//! (what the database's CHECK allows), and parsing it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcn::domain::vehicle::parse_vin;

fuzz_target!(|input: &str| {
    match parse_vin(input) {
        Ok(Some(vin)) => {
            assert_eq!(vin.len(), 17, "{input:?} → {vin:?}");
            assert!(
                vin.bytes().all(
                    |b| matches!(b, b'A'..=b'H' | b'J'..=b'N' | b'P' | b'R'..=b'Z' | b'0'..=b'9')
                ),
                "{input:?} → {vin:?}"
            );
            assert_eq!(parse_vin(&vin), Ok(Some(vin.clone())), "{input:?}");
        }
        Ok(None) => assert!(
            input.chars().all(|c| c.is_whitespace() || c == '-'),
            "{input:?} read as no VIN"
        ),
        Err(_) => {}
    }
});
