//! Money as a whole number of cents: typed as `12,500.00`, `12500` or
//! `12500.5`; shown as `12,500.00`. Never a float.

use std::fmt;

/// The most any single amount may be: 100 million.
pub const MAX_CENTS: i64 = 10_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(i64);

impl Money {
    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses an amount a person typed: optional currency sign, thousands
    /// separators (commas, spaces), at most two decimals; never negative.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s: String = input
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',' && *c != ' ' && *c != '_')
            .collect();
        if s.is_empty() {
            return Err("Enter an amount, like 12,500.00.");
        }
        if s.starts_with('-') {
            return Err("The amount cannot be negative.");
        }
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err("Enter an amount, like 12,500.00.");
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err("Use digits only, like 12,500.00.");
        }
        if frac.len() > 2 {
            return Err("Use at most two decimals (cents).");
        }
        if whole.len() > 12 {
            return Err("That amount is too large.");
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| "That amount is too large.")?
        };
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().unwrap_or(0) * 10,
            _ => frac.parse::<i64>().unwrap_or(0),
        };
        let total = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .ok_or("That amount is too large.")?;
        if total > MAX_CENTS {
            return Err("That amount is too large (100,000,000.00 at most).");
        }
        Ok(Self(total))
    }

    /// The plain form a form field is prefilled with: `12500.00`.
    pub fn to_input(self) -> String {
        format!("{}.{:02}", self.0 / 100, (self.0 % 100).abs())
    }
}

/// `12,500.00`
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", group_thousands(abs / 100), abs % 100)
    }
}

/// `1234567` → `1,234,567`
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_spec_forms() {
        assert_eq!(Money::parse("12500").unwrap().cents(), 1_250_000);
        assert_eq!(Money::parse("12500.5").unwrap().cents(), 1_250_050);
        assert_eq!(Money::parse("12,500.00").unwrap().cents(), 1_250_000);
        assert_eq!(Money::parse(" $12,500.99 ").unwrap().cents(), 1_250_099);
        assert_eq!(Money::parse("0").unwrap().cents(), 0);
        assert_eq!(Money::parse(".5").unwrap().cents(), 50);
    }

    #[test]
    fn refuses_what_is_not_money() {
        for bad in [
            "",
            "abc",
            "-5",
            "1.234",
            "1e5",
            "12.5.0",
            "100000000.01",
            "9999999999999",
            ".",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn displays_with_grouping() {
        assert_eq!(Money::from_cents(1_250_000).to_string(), "12,500.00");
        assert_eq!(Money::from_cents(5).to_string(), "0.05");
        assert_eq!(Money::from_cents(123_456_789).to_string(), "1,234,567.89");
        assert_eq!(Money::from_cents(-150).to_string(), "-1.50");
        assert_eq!(Money::from_cents(1_250_050).to_input(), "12500.50");
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Money::parse(&s);
        }

        #[test]
        fn display_parses_back(cents in 0i64..=MAX_CENTS) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            prop_assert_eq!(Money::parse(&m.to_input()), Ok(m));
        }
    }
}
