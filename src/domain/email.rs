//! Email addresses as sign-in names: trimmed, lower-cased, plausibly shaped,
//! and nothing in them that does not show.

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
        // Before the shape: `ann@x.io` and `ann@x.io` with a zero-width
        // space look the same, and must not be two accounts.
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || super::text::is_invisible(c))
        {
            return Err("An email address cannot hold spaces or invisible characters.");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("Enter an email address like name@example.com.");
        };
        let ok_chars = s.chars().all(|c| c != '<' && c != '>');
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

    #[test]
    fn refuses_invisible_format_and_control_characters_anywhere() {
        for bad in [
            "ann@x.io\u{200B}",
            "\u{200B}ann@x.io",
            "an\u{200D}n@x.io",
            "ann@x\u{00AD}.io",
            "\u{FEFF}ann@x.io",
            "ann@x.io\u{202E}",
            "ann@x.io\u{2066}",
            "ann@x.io\u{2060}",
            "ann@x.io\u{180E}",
            "ann@x.io\u{061C}",
            "ann@x.io\u{E0041}",
            "ann@x.io\u{E0001}",
            "ann@x.io\u{1D173}",
            "ann@x.io\u{FE0F}",
            "ann@x.io\u{034F}",
            "ann@x.io\u{3164}",
            "an\u{0085}n@x.io",
            "an\u{3000}n@x.io",
            "an\u{2028}n@x.io",
            "an\tn@x.io",
        ] {
            let err = Email::parse(bad).expect_err(bad);
            assert!(err.contains("invisible"), "{bad:?}: {err}");
        }
        // Letters of any script are fine.
        assert!(Email::parse("zoë@bücher.example").is_ok());
    }
}
