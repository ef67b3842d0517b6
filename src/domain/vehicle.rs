//! A vehicle's editable fields and how a form becomes them. Its status and
//! condition, the names of its fields, and the three-way merge that lets two
//! people edit one vehicle without losing either's work (SPEC §5.1) each have
//! a module below.

pub mod bulk;
mod condition;
mod field;
mod merge;
mod status;

use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

pub use bulk::BulkAction;
pub use condition::Condition;
pub use field::VehicleField;
pub use merge::{Conflict, merge, proposal};
pub use status::Status;

use crate::domain::{
    FieldErrors, Money,
    text::{self, Lines},
};

/// Everything a person edits on a vehicle, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleFields {
    pub vehicle_number: String,
    pub vin: Option<String>,
    pub year: i32,
    pub make: String,
    pub model: String,
    pub trim: String,
    pub color: String,
    pub mileage: i32,
    pub condition: Condition,
    pub cost_cents: i64,
    pub list_price_cents: i64,
    pub status: Status,
    pub location: String,
    pub notes: String,
    pub received_on: NaiveDate,
}

/// The form as typed: every field optional text, so nothing is lost on a 422.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct VehicleForm {
    #[serde(default)]
    pub vehicle_number: String,
    #[serde(default)]
    pub vin: String,
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub make: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub trim: String,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub mileage: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub cost: String,
    #[serde(default)]
    pub list_price: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub received_on: String,
    #[serde(default)]
    pub version: String,
}

/// A free-text field: trimmed, within `max` characters, no control
/// characters but line breaks and tabs (the form has always accepted them).
fn text(
    errors: &mut FieldErrors,
    field: VehicleField,
    s: &str,
    required: bool,
    max: usize,
) -> String {
    match text::bounded(s, max, Lines::Many) {
        Ok(v) if required && v.is_empty() => errors.add(
            field.name(),
            format!("Enter the {}.", field.label().to_lowercase()),
        ),
        Ok(_) => {}
        Err(problem) => errors.add(field.name(), problem.to_string()),
    }
    s.trim().to_string()
}

pub fn parse_vehicle_number(s: &str) -> Result<String, &'static str> {
    let v = s.trim().to_uppercase();
    if v.is_empty() {
        return Err("Enter the stock number.");
    }
    if v.len() > 20
        || !v
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("Use 1 to 20 letters, digits or dashes.");
    }
    Ok(v)
}

pub fn parse_vin(s: &str) -> Result<Option<String>, &'static str> {
    let v: String = s
        .trim()
        .to_uppercase()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() != 17 {
        return Err("A VIN has exactly 17 characters.");
    }
    if v.chars().any(|c| matches!(c, 'I' | 'O' | 'Q')) {
        return Err("A VIN never contains I, O or Q (they look like 1 and 0).");
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err("A VIN has only letters and digits.");
    }
    Ok(Some(v))
}

fn whole_number(s: &str) -> Option<i64> {
    let cleaned: String = s
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if cleaned.is_empty() || cleaned.len() > 12 || !cleaned.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    cleaned.parse().ok()
}

impl VehicleForm {
    /// Validates every field; `today` bounds the year and the received date.
    pub fn parse(&self, today: NaiveDate) -> Result<VehicleFields, FieldErrors> {
        let mut e = FieldErrors::default();
        let vehicle_number = e.check("vehicle_number", parse_vehicle_number(&self.vehicle_number));
        let vin = e.check("vin", parse_vin(&self.vin));
        let max_year = today.year() + 1;
        let year = match whole_number(&self.year) {
            Some(y) if (1900..=i64::from(max_year)).contains(&y) => Some(y as i32),
            _ => {
                e.add("year", format!("Enter a year from 1900 to {max_year}."));
                None
            }
        };
        let make = text(&mut e, VehicleField::Make, &self.make, true, 50);
        let model = text(&mut e, VehicleField::Model, &self.model, true, 50);
        let trim = text(&mut e, VehicleField::Trim, &self.trim, false, 50);
        let color = text(&mut e, VehicleField::Color, &self.color, false, 30);
        let location = text(&mut e, VehicleField::Location, &self.location, false, 100);
        let notes = text(&mut e, VehicleField::Notes, &self.notes, false, 5000);
        let mileage = match whole_number(&self.mileage) {
            Some(m) if m <= 2_000_000 => Some(m as i32),
            Some(_) => {
                e.add("mileage", "That is more than 2,000,000: check the mileage.");
                None
            }
            None => {
                e.add(
                    "mileage",
                    "Enter the mileage as a whole number (0 for new).",
                );
                None
            }
        };
        let condition = Condition::parse(&self.condition);
        if condition.is_none() {
            e.add("condition", "Choose new, used or certified.");
        }
        let cost = e.check("cost", Money::parse(&self.cost));
        let list_price = e.check("list_price", Money::parse(&self.list_price));
        let status = Status::parse(&self.status);
        if status.is_none() {
            e.add("status", "Choose a status.");
        }
        let received_on = match crate::domain::date::parse_date(&self.received_on).ok_or(()) {
            Ok(d) if d > today => {
                e.add("received_on", "The received date cannot be in the future.");
                None
            }
            Ok(d) if d.year() < 1900 => {
                e.add("received_on", "Enter a date after 1900.");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("received_on", "Enter the date as YYYY-MM-DD.");
                None
            }
        };
        match (
            vehicle_number,
            vin,
            year,
            mileage,
            condition,
            cost,
            list_price,
            status,
            received_on,
        ) {
            (
                Some(vehicle_number),
                Some(vin),
                Some(year),
                Some(mileage),
                Some(condition),
                Some(cost),
                Some(list_price),
                Some(status),
                Some(received_on),
            ) if e.is_empty() => Ok(VehicleFields {
                vehicle_number,
                vin,
                year,
                make,
                model,
                trim,
                color,
                mileage,
                condition,
                cost_cents: cost.cents(),
                list_price_cents: list_price.cents(),
                status,
                location,
                notes,
                received_on,
            }),
            _ => Err(e),
        }
    }

    /// The form prefilled with a vehicle's values.
    pub fn from_fields(f: &VehicleFields, version: i32) -> Self {
        Self {
            vehicle_number: f.vehicle_number.clone(),
            vin: f.vin.clone().unwrap_or_default(),
            year: f.year.to_string(),
            make: f.make.clone(),
            model: f.model.clone(),
            trim: f.trim.clone(),
            color: f.color.clone(),
            mileage: f.mileage.to_string(),
            condition: f.condition.as_str().to_string(),
            cost: Money::from_cents(f.cost_cents).to_input(),
            list_price: Money::from_cents(f.list_price_cents).to_input(),
            status: f.status.as_str().to_string(),
            location: f.location.clone(),
            notes: f.notes.clone(),
            received_on: f.received_on.format("%Y-%m-%d").to_string(),
            version: version.to_string(),
        }
    }

    pub fn version(&self) -> Option<i32> {
        self.version.trim().parse().ok().filter(|v| *v >= 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn form() -> VehicleForm {
        VehicleForm {
            vehicle_number: "a-1001".into(),
            vin: "1hgcm82633a004352".into(),
            year: "2021".into(),
            make: "Honda".into(),
            model: "Accord".into(),
            trim: "EX".into(),
            color: "Blue".into(),
            mileage: "32,000".into(),
            condition: "used".into(),
            cost: "18,000".into(),
            list_price: "21,500.00".into(),
            status: "available".into(),
            location: "Lot B".into(),
            notes: String::new(),
            received_on: "2026-10-01".into(),
            version: "1".into(),
        }
    }

    #[test]
    fn a_good_form_parses_and_normalises() {
        let f = form().parse(today()).unwrap();
        assert_eq!(f.vehicle_number, "A-1001");
        assert_eq!(f.vin.as_deref(), Some("1HGCM82633A004352"));
        assert_eq!(f.mileage, 32_000);
        assert_eq!(f.list_price_cents, 2_150_000);
        assert_eq!(VehicleForm::from_fields(&f, 3).parse(today()).unwrap(), f);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        type Change = fn(&mut VehicleForm);
        let cases: Vec<(&str, Change)> = vec![
            ("vehicle_number", |f| f.vehicle_number = "A 1".into()),
            ("vehicle_number", |f| f.vehicle_number = "X".repeat(21)),
            ("vin", |f| f.vin = "1HGCM82633A00435".into()),
            ("vin", |f| f.vin = "1HGCM82633A00435O".into()),
            ("year", |f| f.year = "1899".into()),
            ("year", |f| f.year = "2028".into()),
            ("make", |f| f.make = "  ".into()),
            ("model", |f| f.model = "M".repeat(51)),
            ("mileage", |f| f.mileage = "-5".into()),
            ("mileage", |f| f.mileage = "lots".into()),
            ("condition", |f| f.condition = "mint".into()),
            ("cost", |f| f.cost = "-1".into()),
            ("list_price", |f| f.list_price = "12.345".into()),
            ("status", |f| f.status = "gone".into()),
            ("received_on", |f| f.received_on = "2026-13-01".into()),
            ("received_on", |f| f.received_on = "2026-11-24".into()),
            ("notes", |f| f.notes = "n".repeat(5001)),
            ("color", |f| f.color = "red\u{0}".into()),
        ];
        for (field, change) in cases {
            let mut f = form();
            change(&mut f);
            let errors = f.parse(today()).unwrap_err();
            assert!(errors.get(field).is_some(), "{field} not flagged");
            assert_eq!(errors.len(), 1, "only {field} flagged");
        }
    }

    #[test]
    fn next_year_is_allowed() {
        let mut f = form();
        f.year = "2027".into();
        assert!(f.parse(today()).is_ok());
    }

    #[test]
    fn snapshots_in_the_history_keep_their_json() {
        // As every history row has stored it, before and after typed columns.
        let stored = serde_json::json!({
            "vehicle_number": "A-1001", "vin": "1HGCM82633A004352", "year": 2021,
            "make": "Honda", "model": "Accord", "trim": "EX", "color": "Blue",
            "mileage": 32000, "condition": "used", "cost_cents": 1_800_000,
            "list_price_cents": 2_150_000, "status": "available", "location": "Lot B",
            "notes": "", "received_on": "2026-10-01"
        });
        let f: VehicleFields = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(f, fields());
        assert_eq!(serde_json::to_value(&f).unwrap(), stored);
    }

    /// A valid vehicle, for the tests of the modules below.
    pub(super) fn fields() -> VehicleFields {
        form().parse(today()).unwrap()
    }

    proptest! {
        #[test]
        fn parsing_never_panics(a in ".{0,40}", b in ".{0,40}", c in ".{0,40}", d in ".{0,40}") {
            let mut f = form();
            f.vehicle_number = a.clone();
            f.vin = b.clone();
            f.year = c.clone();
            f.mileage = d.clone();
            f.cost = a;
            f.received_on = b;
            f.status = c;
            f.condition = d;
            let _ = f.parse(today());
        }
    }
}
