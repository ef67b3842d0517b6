//! A vehicle's editable fields, how a form becomes them, and the three-way
//! merge that lets two people edit one vehicle without losing either's work
//! (SPEC §5.1).

use chrono::{Datelike as _, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    domain::FieldErrors,
    domain::money::{Money, group_thousands},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Available,
    Reserved,
    Sold,
    Archived,
}

impl Status {
    pub const ALL: [Status; 4] = [Self::Available, Self::Reserved, Self::Sold, Self::Archived];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Reserved => "reserved",
            Self::Sold => "sold",
            Self::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Available => "Available",
            Self::Reserved => "Reserved",
            Self::Sold => "Sold",
            Self::Archived => "Archived",
        }
    }

    /// Still on the lot (counts for VIN uniqueness, can be sold).
    pub fn in_stock(self) -> bool {
        matches!(self, Self::Available | Self::Reserved)
    }
}

pub const CONDITIONS: [(&str, &str); 3] = [
    ("new", "New"),
    ("used", "Used"),
    ("certified", "Certified pre-owned"),
];

pub fn condition_label(c: &str) -> &'static str {
    CONDITIONS
        .iter()
        .find(|(v, _)| *v == c)
        .map_or("Unknown", |(_, l)| *l)
}

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
    pub condition: String,
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

/// Each field: its form name and the label people see.
pub const FIELDS: [(&str, &str); 15] = [
    ("vehicle_number", "Stock number"),
    ("vin", "VIN"),
    ("year", "Year"),
    ("make", "Make"),
    ("model", "Model"),
    ("trim", "Trim"),
    ("color", "Color"),
    ("mileage", "Mileage"),
    ("condition", "Condition"),
    ("cost", "Cost"),
    ("list_price", "List price"),
    ("status", "Status"),
    ("location", "Location"),
    ("notes", "Notes"),
    ("received_on", "Received on"),
];

pub fn field_label(name: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("Field", |(_, l)| *l)
}

fn text(
    errors: &mut FieldErrors,
    field: &'static str,
    s: &str,
    required: bool,
    max: usize,
) -> String {
    let v = s.trim();
    if required && v.is_empty() {
        errors.add(
            field,
            format!("Enter the {}.", field_label(field).to_lowercase()),
        );
    } else if v.chars().count() > max {
        errors.add(field, format!("Use at most {max} characters."));
    } else if v
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.add(field, "Remove the control characters.");
    }
    v.to_string()
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
        let make = text(&mut e, "make", &self.make, true, 50);
        let model = text(&mut e, "model", &self.model, true, 50);
        let trim = text(&mut e, "trim", &self.trim, false, 50);
        let color = text(&mut e, "color", &self.color, false, 30);
        let location = text(&mut e, "location", &self.location, false, 100);
        let notes = text(&mut e, "notes", &self.notes, false, 5000);
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
        let condition = CONDITIONS
            .iter()
            .find(|(v, _)| *v == self.condition.trim())
            .map(|(v, _)| v.to_string());
        if condition.is_none() {
            e.add("condition", "Choose new, used or certified.");
        }
        let cost = e.check("cost", Money::parse(&self.cost));
        let list_price = e.check("list_price", Money::parse(&self.list_price));
        let status = Status::parse(&self.status);
        if status.is_none() {
            e.add("status", "Choose a status.");
        }
        let received_on = match NaiveDate::parse_from_str(self.received_on.trim(), "%Y-%m-%d") {
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
            condition: f.condition.clone(),
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

/// Applies `$m!(field_ident, "form name")` to every field.
macro_rules! each_field {
    ($m:ident) => {
        $m!(vehicle_number, "vehicle_number");
        $m!(vin, "vin");
        $m!(year, "year");
        $m!(make, "make");
        $m!(model, "model");
        $m!(trim, "trim");
        $m!(color, "color");
        $m!(mileage, "mileage");
        $m!(condition, "condition");
        $m!(cost_cents, "cost");
        $m!(list_price_cents, "list_price");
        $m!(status, "status");
        $m!(location, "location");
        $m!(notes, "notes");
        $m!(received_on, "received_on");
    };
}

impl VehicleFields {
    /// A field's value as people read it.
    pub fn display(&self, field: &str) -> String {
        match field {
            "vehicle_number" => self.vehicle_number.clone(),
            "vin" => self.vin.clone().unwrap_or_default(),
            "year" => self.year.to_string(),
            "make" => self.make.clone(),
            "model" => self.model.clone(),
            "trim" => self.trim.clone(),
            "color" => self.color.clone(),
            "mileage" => group_thousands(self.mileage.max(0) as u64),
            "condition" => condition_label(&self.condition).to_string(),
            "cost" => Money::from_cents(self.cost_cents).to_string(),
            "list_price" => Money::from_cents(self.list_price_cents).to_string(),
            "status" => self.status.label().to_string(),
            "location" => self.location.clone(),
            "notes" => self.notes.clone(),
            "received_on" => self.received_on.format("%Y-%m-%d").to_string(),
            _ => String::new(),
        }
    }

    /// The fields that differ, by form name.
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        macro_rules! diff {
            ($f:ident, $name:literal) => {
                if self.$f != other.$f {
                    out.push($name);
                }
            };
        }
        each_field!(diff);
        out
    }

    /// `{field: [before, after]}` as people read them, for the history.
    pub fn changes_from(&self, before: &Self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for f in before.changed_fields(self) {
            map.insert(
                f.into(),
                serde_json::json!([before.display(f), self.display(f)]),
            );
        }
        serde_json::Value::Object(map)
    }
}

/// One field both people changed, to different values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub field: &'static str,
    pub base: String,
    pub theirs: String,
    pub mine: String,
}

/// Three-way merge with `base` (the version the form was loaded from):
/// a field only one side changed takes that change; a field both changed to
/// the same value is fine; a field both changed differently is a conflict.
pub fn merge(
    base: &VehicleFields,
    theirs: &VehicleFields,
    mine: &VehicleFields,
) -> Result<VehicleFields, Vec<Conflict>> {
    let mut merged = theirs.clone();
    let mut conflicts = Vec::new();
    macro_rules! three_way {
        ($f:ident, $name:literal) => {
            if mine.$f != base.$f {
                if theirs.$f == base.$f || theirs.$f == mine.$f {
                    merged.$f = mine.$f.clone();
                } else {
                    conflicts.push(Conflict {
                        field: $name,
                        base: base.display($name),
                        theirs: theirs.display($name),
                        mine: mine.display($name),
                    });
                }
            }
        };
    }
    each_field!(three_way);
    if conflicts.is_empty() {
        Ok(merged)
    } else {
        Err(conflicts)
    }
}

/// What the conflict page offers to save next, on top of the current version:
/// their value where only they changed a field, mine wherever I changed one
/// (the conflicting fields included). Resubmitting it keeps their other work.
pub fn proposal(
    base: &VehicleFields,
    theirs: &VehicleFields,
    mine: &VehicleFields,
) -> VehicleFields {
    let mut out = theirs.clone();
    macro_rules! take_mine {
        ($f:ident, $name:literal) => {
            if mine.$f != base.$f {
                out.$f = mine.$f.clone();
            }
        };
    }
    each_field!(take_mine);
    out
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

    fn fields() -> VehicleFields {
        form().parse(today()).unwrap()
    }

    #[test]
    fn disjoint_changes_both_land() {
        let base = fields();
        let mut theirs = base.clone();
        theirs.status = Status::Reserved;
        let mut mine = base.clone();
        mine.list_price_cents = 1_999_900;
        let merged = merge(&base, &theirs, &mine).unwrap();
        assert_eq!(merged.status, Status::Reserved);
        assert_eq!(merged.list_price_cents, 1_999_900);
    }

    #[test]
    fn same_field_changed_differently_conflicts() {
        let base = fields();
        let mut theirs = base.clone();
        theirs.list_price_cents = 2_000_000;
        let mut mine = base.clone();
        mine.list_price_cents = 1_900_000;
        mine.color = "Red".into();
        let conflicts = merge(&base, &theirs, &mine).unwrap_err();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, "list_price");
        assert_eq!(conflicts[0].base, "21,500.00");
        assert_eq!(conflicts[0].theirs, "20,000.00");
        assert_eq!(conflicts[0].mine, "19,000.00");
    }

    #[test]
    fn the_proposal_keeps_their_other_changes_and_my_values() {
        let base = fields();
        let mut theirs = base.clone();
        theirs.list_price_cents = 2_000_000;
        theirs.color = "Green".into();
        let mut mine = base.clone();
        mine.list_price_cents = 1_900_000;
        mine.mileage = 33_000;
        let p = proposal(&base, &theirs, &mine);
        assert_eq!(p.color, "Green");
        assert_eq!(p.list_price_cents, 1_900_000);
        assert_eq!(p.mileage, 33_000);
    }

    #[test]
    fn same_change_on_both_sides_is_no_conflict() {
        let base = fields();
        let mut theirs = base.clone();
        theirs.color = "Red".into();
        let merged = merge(&base, &theirs, &theirs.clone()).unwrap();
        assert_eq!(merged, theirs);
    }

    #[test]
    fn changes_are_recorded_as_people_read_them() {
        let before = fields();
        let mut after = before.clone();
        after.mileage = 40_000;
        let c = after.changes_from(&before);
        assert_eq!(c, serde_json::json!({"mileage": ["32,000", "40,000"]}));
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

        #[test]
        fn merge_keeps_every_one_sided_change(price in 0i64..10_000_000, miles in 0i32..500_000) {
            let base = fields();
            let mut theirs = base.clone();
            theirs.mileage = miles;
            let mut mine = base.clone();
            mine.list_price_cents = price;
            let merged = merge(&base, &theirs, &mine).unwrap();
            prop_assert_eq!(merged.mileage, miles);
            prop_assert_eq!(merged.list_price_cents, price);
        }
    }
}
