//! `web::cursor::decode`: never panics on any text a URL can carry; what it
//! decodes, `encode` writes so that it decodes to the same value and id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcn::web::cursor::{decode, encode};

fuzz_target!(|input: &str| {
    if let Some((value, id)) = decode(input) {
        assert_eq!(decode(&encode(&value, id)), Some((value, id)), "{input:?}");
    }
});
