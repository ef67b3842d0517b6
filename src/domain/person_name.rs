//! First and last names as people write them.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter a name.");
        }
        if s.chars().count() > 100 {
            return Err("A name has at most 100 characters.");
        }
        if s.chars().any(char::is_control) {
            return Err("A name cannot contain control characters.");
        }
        Ok(Self(s.to_string()))
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
