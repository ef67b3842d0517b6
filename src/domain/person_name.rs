//! First and last names as people write them.

use super::text::{Lines, TextProblem};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        match super::text::bounded(input, 100, Lines::One) {
            Ok("") => Err("Enter a name."),
            Ok(s) => Ok(Self(s.to_string())),
            Err(TextProblem::TooLong(_)) => Err("A name has at most 100 characters."),
            Err(TextProblem::Control) => Err("A name cannot contain control characters."),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_limits() {
        assert_eq!(PersonName::parse("  Zoë ").unwrap().as_str(), "Zoë");
        assert!(PersonName::parse(" ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
    }
}
