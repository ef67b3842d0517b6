//! `Money::parse`: never panics; what it accepts is 0 to `MAX_CENTS` cents,
//! and both ways PCN writes an amount (`12,500.00` on pages, `12500.00` in
//! forms and CSV) parse back to the same amount.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcn::domain::{Money, money::MAX_CENTS};

fuzz_target!(|input: &str| {
    let Ok(m) = Money::parse(input) else {
        return;
    };
    assert!((0..=MAX_CENTS).contains(&m.cents()), "{input:?} → {m:?}");
    assert_eq!(Money::parse(&m.to_string()), Ok(m), "{input:?}");
    assert_eq!(Money::parse(&m.to_input()), Ok(m), "{input:?}");
});
