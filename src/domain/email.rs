//! Email addresses as sign-in names: trimmed, lower-cased, plausibly shaped.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Normalises (trim, lower case) and checks the shape `local@domain.tld`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an email address.");
        }
        if s.chars().count() > 254 {
            return Err("An email address has at most 254 characters.");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("Enter an email address like name@example.com.");
        };
        let ok_chars = s
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>');
        if local.is_empty()
            || local.len() > 64
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || local.contains('@')
            || !ok_chars
        {
            return Err("Enter an email address like name@example.com.");
        }
        Ok(Self(s))
    }

    /// The normalised form used to count sign-in attempts, valid or not.
    pub fn normalise_loose(input: &str) -> String {
        super::text::cleaned(&input.to_lowercase(), 254)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        assert_eq!(
            Email::parse("  Ann.Lee@Dealer.EXAMPLE ").unwrap().as_str(),
            "ann.lee@dealer.example"
        );
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@dealer.example",
            "ann@dealer",
            "ann lee@dealer.example",
            "a@b@c.d",
            "<x>@y.z",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(300))).is_err());
    }
}
