//! `Email::parse`: never panics; an address it accepts is what the database's
//! CHECK allows (lower case, 3 to 254 characters) and has the shape
//! `local@domain.tld` without spaces or controls, and parsing it again
//! changes nothing (it is the normal form sign-in compares).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcn::domain::Email;

fuzz_target!(|input: &str| {
    let Ok(email) = Email::parse(input) else {
        return;
    };
    let s = email.as_str();
    assert!((3..=254).contains(&s.chars().count()), "{input:?} → {s:?}");
    assert_eq!(s, s.to_lowercase(), "{input:?}");
    assert_eq!(
        s,
        s.to_ascii_lowercase(),
        "{input:?}: PostgreSQL's lower() differs"
    );
    let (local, domain) = s.rsplit_once('@').expect("an @");
    assert!(!local.is_empty() && local.len() <= 64, "{input:?} → {s:?}");
    assert!(
        domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'),
        "{input:?} → {s:?}"
    );
    assert!(
        !s.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{input:?} → {s:?}"
    );
    assert_eq!(Email::parse(s), Ok(email.clone()), "{input:?}");
});
