//! One change for many vehicles at once (`POST /vehicles/bulk`): what the
//! `action` and `value` fields ask for, and that change made to one
//! vehicle's fields as the list showed them.

use std::fmt;

use crate::domain::{
    Money, Status, VehicleFields,
    money::MAX_CENTS,
    text::{self, Lines},
};

/// A change the list offers for the selected vehicles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkAction {
    /// Available or reserved.
    SetStatus(Status),
    SetLocation(String),
    /// Add this many cents (negative: take off).
    PriceBy(i64),
    /// Change by this many hundredths of a percent (−500: 5 % off).
    PricePercent(i64),
    /// Admins only.
    Archive,
}

/// The `action` values, with what the list's menu calls them.
pub const ACTIONS: [(&str, &str); 4] = [
    ("status", "Set status to…"),
    ("location", "Set location to…"),
    ("price", "Change list price by…"),
    ("archive", "Archive"),
];

impl BulkAction {
    /// Reads the form's `action` and `value`; the error says what to type.
    pub fn parse(action: &str, value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        match action.trim() {
            "status" => match Status::parse(&value.to_lowercase()) {
                Some(s @ (Status::Available | Status::Reserved)) => Ok(Self::SetStatus(s)),
                Some(Status::Sold) => Err("A vehicle becomes sold by recording a sale."),
                Some(Status::Archived) => Err("Choose Archive to archive vehicles."),
                None => Err("Type the status: available or reserved."),
            },
            "location" => match text::bounded(value, 100, Lines::One) {
                Ok("") => Err("Type the new location, like Lot B."),
                Ok(v) => Ok(Self::SetLocation(v.to_string())),
                Err(_) => Err("A location is one line of at most 100 characters."),
            },
            "price" => parse_adjustment(value),
            "archive" => Ok(Self::Archive),
            "" => Err("Choose what to do with the selected vehicles."),
            _ => Err("Choose one of the actions offered."),
        }
    }

    /// Only an admin archives.
    pub fn needs_admin(&self) -> bool {
        matches!(self, Self::Archive)
    }

    /// This change made to `base` (the fields the list showed); refused
    /// when it would take the price below zero or over the maximum.
    /// Archiving changes no field here: it is a status move of its own.
    pub fn apply(&self, base: &VehicleFields) -> Result<VehicleFields, &'static str> {
        let mut next = base.clone();
        match self {
            Self::SetStatus(s) => next.status = *s,
            Self::SetLocation(l) => next.location.clone_from(l),
            Self::PriceBy(cents) => next.list_price_cents = price(base.list_price_cents + cents)?,
            Self::PricePercent(bp) => {
                let scaled = i128::from(base.list_price_cents) * i128::from(10_000 + bp);
                // Rounded half away from zero, to the cent.
                let cents = (scaled + 5_000) / 10_000;
                next.list_price_cents = price(i64::try_from(cents).unwrap_or(i64::MAX))?;
            }
            Self::Archive => {}
        }
        Ok(next)
    }
}

fn price(cents: i64) -> Result<i64, &'static str> {
    if cents < 0 {
        Err("That would take the list price below zero.")
    } else if cents > MAX_CENTS {
        Err("That would take the list price over 100,000,000.00.")
    } else {
        Ok(cents)
    }
}

/// `-500`, `+1,000.00`, `-5%`, `2.5 %`: an amount or a percentage, with a
/// sign (none means up).
fn parse_adjustment(value: &str) -> Result<BulkAction, &'static str> {
    const HINT: &str = "Type an amount or a percentage, like -500 or -5%.";
    let v = value.replace('\u{2212}', "-");
    let v = v.trim();
    let (negative, rest) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let sign = if negative { -1 } else { 1 };
    if let Some(p) = rest.trim_end().strip_suffix('%') {
        let bp = Money::parse(p.trim()).map_err(|_| HINT)?.cents();
        if bp == 0 {
            return Err("A change of 0% changes nothing.");
        }
        if negative && bp >= 10_000 {
            return Err("A price can come down by less than 100%.");
        }
        if bp > 100_000 {
            return Err("A change of more than 1,000% is surely a typo.");
        }
        return Ok(BulkAction::PricePercent(sign * bp));
    }
    if rest.is_empty() {
        return Err(HINT);
    }
    let cents = Money::parse(rest).map_err(|_| HINT)?.cents();
    if cents == 0 {
        return Err("A change of 0.00 changes nothing.");
    }
    Ok(BulkAction::PriceBy(sign * cents))
}

/// "Status → Reserved", "Price −5%": what a summary calls the change.
impl fmt::Display for BulkAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signed = |n: i64| if n < 0 { "−" } else { "+" };
        match self {
            Self::SetStatus(s) => write!(f, "Status set to {}", s.label()),
            Self::SetLocation(l) => write!(f, "Location set to “{l}”"),
            Self::PriceBy(c) => {
                write!(f, "List price {}{}", signed(*c), Money::from_cents(c.abs()))
            }
            Self::PricePercent(bp) => {
                let abs = bp.unsigned_abs();
                let pct = if abs % 100 == 0 {
                    format!("{}", abs / 100)
                } else {
                    format!("{}.{:02}", abs / 100, abs % 100)
                        .trim_end_matches('0')
                        .to_string()
                };
                write!(f, "List price {}{pct}%", signed(*bp))
            }
            Self::Archive => write!(f, "Archived"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vehicle::tests::fields as sample;

    #[test]
    fn reads_what_people_type() {
        use BulkAction::*;
        let p = BulkAction::parse;
        assert_eq!(p("status", " Reserved "), Ok(SetStatus(Status::Reserved)));
        assert_eq!(p("location", " Lot C "), Ok(SetLocation("Lot C".into())));
        assert_eq!(p("price", "-500"), Ok(PriceBy(-50_000)));
        assert_eq!(p("price", "+1,000.50"), Ok(PriceBy(100_050)));
        assert_eq!(p("price", "250"), Ok(PriceBy(25_000)));
        assert_eq!(p("price", "-5%"), Ok(PricePercent(-500)));
        assert_eq!(p("price", "\u{2212}2.5 %"), Ok(PricePercent(-250)));
        assert_eq!(p("price", "+10%"), Ok(PricePercent(1_000)));
        assert_eq!(p("archive", ""), Ok(Archive));
        for (action, value) in [
            ("status", "sold"),
            ("status", "archived"),
            ("status", "gone"),
            ("location", ""),
            ("location", "a\u{0}b"),
            ("location", &"x".repeat(101)),
            ("price", ""),
            ("price", "-"),
            ("price", "0"),
            ("price", "0%"),
            ("price", "-100%"),
            ("price", "5.555%"),
            ("price", "abc"),
            ("price", "--5"),
            ("delete", "1"),
            ("", ""),
        ] {
            assert!(p(action, value).is_err(), "{action} {value:?}");
        }
    }

    #[test]
    fn changes_only_its_field_from_the_base() {
        let base = sample(); // list price 21,500.00
        let cut = BulkAction::PricePercent(-500).apply(&base).unwrap();
        assert_eq!(cut.list_price_cents, 2_042_500);
        assert_eq!(base.changed_fields(&cut).len(), 1);
        let third = BulkAction::PricePercent(-3_333).apply(&base).unwrap();
        assert_eq!(third.list_price_cents, 1_433_405, "rounded to the cent");
        assert_eq!(
            BulkAction::PriceBy(-2_150_001).apply(&base),
            Err("That would take the list price below zero.")
        );
        let moved = BulkAction::SetLocation("Lot Z".into())
            .apply(&base)
            .unwrap();
        assert_eq!(moved.location, "Lot Z");
        assert_eq!(BulkAction::Archive.apply(&base).unwrap(), base);
    }

    #[test]
    fn says_what_it_did() {
        assert_eq!(
            BulkAction::PricePercent(-250).to_string(),
            "List price −2.5%"
        );
        assert_eq!(
            BulkAction::PriceBy(50_000).to_string(),
            "List price +500.00"
        );
        assert_eq!(
            BulkAction::SetStatus(Status::Reserved).to_string(),
            "Status set to Reserved"
        );
    }
}
