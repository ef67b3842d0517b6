//! Form errors shown beside their fields, and together in the summary above
//! the form that links to each of them.

/// The errors of one form, in the order they were found (the order of the
/// form's fields, as the parsers check them top to bottom).
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

/// One line of the error summary: the field's label, its message and
/// whether the page has a control `#name` to link to.
pub struct SummaryLine<'a> {
    pub name: &'static str,
    pub label: &'static str,
    pub message: &'a str,
    pub linked: bool,
}

impl FieldErrors {
    /// Records `message` for `field`; the first message of a field stays.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Records the error of a parse, passing the value on when it is good.
    pub fn check<T, E: ToString>(&mut self, field: &'static str, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.add(field, e.to_string())).ok()
    }

    /// The lines of the summary above the form, in the form's order.
    pub fn summary(&self) -> Vec<SummaryLine<'_>> {
        self.0
            .iter()
            .map(|(name, message)| {
                let label = label_of(name);
                SummaryLine {
                    name,
                    label: label.unwrap_or(""),
                    message,
                    linked: label.is_some(),
                }
            })
            .collect()
    }
}

/// The label every form shows for a field it has a control for; `None` for
/// what has no control of its own (the hidden `version`, say).
fn label_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "vehicle_number" => "Stock number",
        "vin" => "VIN",
        "year" => "Year",
        "make" => "Make",
        "model" => "Model",
        "trim" => "Trim",
        "color" => "Color",
        "mileage" => "Mileage",
        "condition" => "Condition",
        "cost" => "Cost",
        "list_price" => "List price",
        "status" => "Status",
        "location" => "Location",
        "notes" => "Notes",
        "received_on" => "Received on",
        "sale_price" => "Sale price",
        "sold_on" => "Sold on",
        "customer_name" => "Customer name",
        "customer_email" => "Customer email",
        "customer_phone" => "Customer phone",
        "payment_method" => "Payment method",
        "salesperson_id" => "Salesperson",
        "email" => "Email",
        "first_name" => "First name",
        "last_name" => "Last name",
        "role" => "Role",
        "active" => "Active",
        "password" => "Password",
        "current_password" => "Current password",
        "new_password" => "New password",
        "reason" => "Reason",
        "code" => "Code",
        "photos" => "Photos",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_keeps_the_forms_order_and_links_only_real_fields() {
        let mut e = FieldErrors::default();
        e.add("year", "Enter a year from 1900 to 2027.");
        e.add("cost", "Enter an amount like 12,500.00.");
        e.add("year", "a second message for the same field is dropped");
        e.add("version", "Reload the page.");
        let lines = e.summary();
        let names: Vec<_> = lines.iter().map(|l| (l.name, l.label, l.linked)).collect();
        assert_eq!(
            names,
            [
                ("year", "Year", true),
                ("cost", "Cost", true),
                ("version", "", false)
            ]
        );
        assert_eq!(lines[0].message, "Enter a year from 1900 to 2027.");
        assert_eq!(e.len(), 3);
    }
}
