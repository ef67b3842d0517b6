//! The three-way merge that lets two people edit one vehicle without losing
//! either's work (SPEC §5.1), and the changes the history records.

use super::{VehicleField, VehicleFields};
use crate::domain::money::{Money, group_thousands};

/// Applies `$m!(field_ident, VehicleField variant)` to every field.
macro_rules! each_field {
    ($m:ident) => {
        $m!(vehicle_number, VehicleNumber);
        $m!(vin, Vin);
        $m!(year, Year);
        $m!(make, Make);
        $m!(model, Model);
        $m!(trim, Trim);
        $m!(color, Color);
        $m!(mileage, Mileage);
        $m!(condition, Condition);
        $m!(cost_cents, Cost);
        $m!(list_price_cents, ListPrice);
        $m!(status, Status);
        $m!(location, Location);
        $m!(notes, Notes);
        $m!(received_on, ReceivedOn);
    };
}

impl VehicleFields {
    /// A field's value as people read it.
    pub fn display(&self, field: VehicleField) -> String {
        match field {
            VehicleField::VehicleNumber => self.vehicle_number.clone(),
            VehicleField::Vin => self.vin.clone().unwrap_or_default(),
            VehicleField::Year => self.year.to_string(),
            VehicleField::Make => self.make.clone(),
            VehicleField::Model => self.model.clone(),
            VehicleField::Trim => self.trim.clone(),
            VehicleField::Color => self.color.clone(),
            VehicleField::Mileage => group_thousands(self.mileage.max(0) as u64),
            VehicleField::Condition => self.condition.label().to_string(),
            VehicleField::Cost => Money::from_cents(self.cost_cents).to_string(),
            VehicleField::ListPrice => Money::from_cents(self.list_price_cents).to_string(),
            VehicleField::Status => self.status.label().to_string(),
            VehicleField::Location => self.location.clone(),
            VehicleField::Notes => self.notes.clone(),
            VehicleField::ReceivedOn => self.received_on.format("%Y-%m-%d").to_string(),
        }
    }

    /// The fields that differ, in form order.
    pub fn changed_fields(&self, other: &Self) -> Vec<VehicleField> {
        let mut out = Vec::new();
        macro_rules! diff {
            ($f:ident, $field:ident) => {
                if self.$f != other.$f {
                    out.push(VehicleField::$field);
                }
            };
        }
        each_field!(diff);
        out
    }

    /// `{field name: [before, after]}` as people read them, for the history.
    pub fn changes_from(&self, before: &Self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for f in before.changed_fields(self) {
            map.insert(
                f.name().into(),
                serde_json::json!([before.display(f), self.display(f)]),
            );
        }
        serde_json::Value::Object(map)
    }
}

/// One field both people changed, to different values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub field: VehicleField,
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
        ($f:ident, $field:ident) => {
            if mine.$f != base.$f {
                if theirs.$f == base.$f || theirs.$f == mine.$f {
                    merged.$f = mine.$f.clone();
                } else {
                    let field = VehicleField::$field;
                    conflicts.push(Conflict {
                        field,
                        base: base.display(field),
                        theirs: theirs.display(field),
                        mine: mine.display(field),
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
        ($f:ident, $field:ident) => {
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
    use crate::domain::vehicle::{Status, tests::fields};
    use proptest::prelude::*;

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
        assert_eq!(conflicts[0].field, VehicleField::ListPrice);
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
        after.list_price_cents = 2_000_000;
        after.condition = crate::domain::vehicle::Condition::Certified;
        let c = after.changes_from(&before);
        assert_eq!(
            c,
            serde_json::json!({
                "mileage": ["32,000", "40,000"],
                "condition": ["Used", "Certified pre-owned"],
                "list_price": ["21,500.00", "20,000.00"],
            })
        );
    }

    #[test]
    fn every_field_is_compared() {
        let before = fields();
        let mut after = before.clone();
        after.vehicle_number = "B-2".into();
        after.vin = None;
        after.year += 1;
        after.make = "Acura".into();
        after.model = "TLX".into();
        after.trim = "Base".into();
        after.color = "Red".into();
        after.mileage += 1;
        after.condition = crate::domain::vehicle::Condition::New;
        after.cost_cents += 1;
        after.list_price_cents += 1;
        after.status = Status::Reserved;
        after.location = "Lot A".into();
        after.notes = "n".into();
        after.received_on = after.received_on.pred_opt().unwrap();
        assert_eq!(before.changed_fields(&after), VehicleField::ALL);
    }

    proptest! {
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
