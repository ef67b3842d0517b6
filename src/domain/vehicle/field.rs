//! The fields a person edits on a vehicle, by name: the merge reports
//! conflicts by field, the history records changes by field.

/// One editable field. Its `name` is the form field's name and the key of
/// `vehicle_history.changes`, so neither may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VehicleField {
    VehicleNumber,
    Vin,
    Year,
    Make,
    Model,
    Trim,
    Color,
    Mileage,
    Condition,
    Cost,
    ListPrice,
    Status,
    Location,
    Notes,
    ReceivedOn,
}

impl VehicleField {
    /// In the order of the form (and of the history's lists of changes).
    pub const ALL: [VehicleField; 15] = [
        Self::VehicleNumber,
        Self::Vin,
        Self::Year,
        Self::Make,
        Self::Model,
        Self::Trim,
        Self::Color,
        Self::Mileage,
        Self::Condition,
        Self::Cost,
        Self::ListPrice,
        Self::Status,
        Self::Location,
        Self::Notes,
        Self::ReceivedOn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::VehicleNumber => "vehicle_number",
            Self::Vin => "vin",
            Self::Year => "year",
            Self::Make => "make",
            Self::Model => "model",
            Self::Trim => "trim",
            Self::Color => "color",
            Self::Mileage => "mileage",
            Self::Condition => "condition",
            Self::Cost => "cost",
            Self::ListPrice => "list_price",
            Self::Status => "status",
            Self::Location => "location",
            Self::Notes => "notes",
            Self::ReceivedOn => "received_on",
        }
    }

    /// The label people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::VehicleNumber => "Stock number",
            Self::Vin => "VIN",
            Self::Year => "Year",
            Self::Make => "Make",
            Self::Model => "Model",
            Self::Trim => "Trim",
            Self::Color => "Color",
            Self::Mileage => "Mileage",
            Self::Condition => "Condition",
            Self::Cost => "Cost",
            Self::ListPrice => "List price",
            Self::Status => "Status",
            Self::Location => "Location",
            Self::Notes => "Notes",
            Self::ReceivedOn => "Received on",
        }
    }

    /// The field a form or history name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_form_order() {
        for (i, f) in VehicleField::ALL.into_iter().enumerate() {
            assert_eq!(VehicleField::parse(f.name()), Some(f));
            assert_eq!(VehicleField::ALL.iter().position(|g| *g == f), Some(i));
        }
        assert!(VehicleField::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(VehicleField::parse("price"), None);
    }
}
