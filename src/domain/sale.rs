//! The sale form, validated.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{
    Email, FieldErrors, Money,
    choice::choice,
    text::{self, Lines},
};

choice! {
    /// How the customer pays.
    pub enum PaymentMethod {
        Cash = ("cash", "Cash"),
        Finance = ("finance", "Finance"),
        Card = ("card", "Card"),
        Transfer = ("transfer", "Bank transfer"),
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SaleForm {
    #[serde(default)]
    pub sale_price: String,
    #[serde(default)]
    pub sold_on: String,
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub customer_email: String,
    #[serde(default)]
    pub customer_phone: String,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub version: String,
    /// Ticked on the page that asks whether to record a sale below cost.
    #[serde(default)]
    pub confirm_below_cost: String,
    /// Whom the sale is recorded for (an admin's choice); empty: oneself.
    #[serde(default)]
    pub salesperson_id: String,
}

/// How far under the list price a sale is worth a word (never a block).
pub const FAR_UNDER_LIST_PERCENT: i64 = 20;

/// What a price means beside the vehicle's cost and list price: the
/// safeguards of a sale (issue #13 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceCheck {
    pub gross_profit_cents: i64,
    /// How much under cost, when it is: recorded only once confirmed.
    pub below_cost_cents: Option<i64>,
    /// How many percent under the list price (rounded down), when it is
    /// more than `FAR_UNDER_LIST_PERCENT`: a warning.
    pub under_list_percent: Option<i64>,
}

impl PriceCheck {
    pub fn new(price_cents: i64, cost_cents: i64, list_cents: i64) -> Self {
        let under_list = i128::from(list_cents) - i128::from(price_cents);
        let percent = (list_cents > 0)
            .then(|| under_list * 100 / i128::from(list_cents))
            .and_then(|p| i64::try_from(p).ok());
        let far = list_cents > 0
            && under_list * 100 > i128::from(FAR_UNDER_LIST_PERCENT) * i128::from(list_cents);
        Self {
            gross_profit_cents: price_cents.saturating_sub(cost_cents),
            below_cost_cents: (price_cents < cost_cents).then(|| cost_cents - price_cents),
            under_list_percent: percent.filter(|_| far),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleFields {
    pub sale_price_cents: i64,
    pub sold_on: NaiveDate,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_phone: String,
    pub payment_method: PaymentMethod,
    pub notes: String,
}

impl SaleForm {
    /// `received_on` and `today` bound the sale date.
    pub fn parse(
        &self,
        received_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<SaleFields, FieldErrors> {
        let mut e = FieldErrors::default();
        let price = e.check("sale_price", Money::parse(&self.sale_price));
        let sold_on = match crate::domain::date::parse_date(&self.sold_on).ok_or(()) {
            Ok(d) if d > today => {
                e.add("sold_on", "The sale date cannot be in the future.");
                None
            }
            Ok(d) if d < received_on => {
                e.add(
                    "sold_on",
                    format!("The sale date cannot be before the vehicle arrived ({received_on})."),
                );
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("sold_on", "Enter the date as YYYY-MM-DD.");
                None
            }
        };
        let name = self.customer_name.trim().to_string();
        match text::bounded(&name, 200, Lines::One) {
            Ok("") => e.add("customer_name", "Enter the customer's name."),
            Ok(_) => {}
            Err(problem) => e.add("customer_name", problem.to_string()),
        }
        let email = match self.customer_email.trim() {
            "" => Some(String::new()),
            typed => e.check(
                "customer_email",
                Email::parse(typed).map(|m| m.as_str().to_string()),
            ),
        };
        let phone = self.customer_phone.trim().to_string();
        if phone.chars().count() > 40
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().x".contains(c))
        {
            e.add(
                "customer_phone",
                "Use digits, spaces and + - ( ) only, at most 40.",
            );
        }
        let method = PaymentMethod::parse(&self.payment_method);
        if method.is_none() {
            e.add("payment_method", "Choose how the customer pays.");
        }
        let notes = e
            .check("notes", text::bounded(&self.notes, 5000, Lines::Many))
            .unwrap_or_default()
            .to_string();
        match (price, sold_on, email, method) {
            (Some(price), Some(sold_on), Some(customer_email), Some(payment_method))
                if e.is_empty() =>
            {
                Ok(SaleFields {
                    sale_price_cents: price.cents(),
                    sold_on,
                    customer_name: name,
                    customer_email,
                    customer_phone: phone,
                    payment_method,
                    notes,
                })
            }
            _ => Err(e),
        }
    }

    pub fn version(&self) -> Option<i32> {
        self.version.trim().parse().ok().filter(|v| *v >= 1)
    }

    /// Whether "record it below cost anyway" was ticked.
    pub fn confirmed_below_cost(&self) -> bool {
        matches!(self.confirm_below_cost.trim(), "1" | "on" | "true" | "yes")
    }

    /// Whom the sale is for: `Ok(None)` for oneself (nothing chosen),
    /// `Err` for something that is no one's id.
    pub fn salesperson(&self) -> Result<Option<i64>, &'static str> {
        match self.salesperson_id.trim() {
            "" => Ok(None),
            typed => typed
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(Some)
                .ok_or("Choose the salesperson from the list."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn form() -> SaleForm {
        SaleForm {
            sale_price: "20,500".into(),
            sold_on: "2026-11-20".into(),
            customer_name: "Dana Scully".into(),
            customer_email: "Dana@Example.com".into(),
            customer_phone: "+1 (555) 010-2000".into(),
            payment_method: "finance".into(),
            notes: String::new(),
            version: "3".into(),
            ..SaleForm::default()
        }
    }

    #[test]
    fn a_price_is_checked_against_cost_and_list() {
        // Cost 18,000, list 21,500.
        let at = |price| PriceCheck::new(price, 1_800_000, 2_150_000);
        assert_eq!(at(2_075_000).gross_profit_cents, 275_000);
        assert_eq!(at(2_075_000).below_cost_cents, None);
        assert_eq!(at(2_075_000).under_list_percent, None);
        assert_eq!(at(1_800_000).below_cost_cents, None, "at cost is not below");
        assert_eq!(at(1_799_999).below_cost_cents, Some(1));
        let low = at(1_600_000);
        assert_eq!(low.below_cost_cents, Some(200_000));
        assert_eq!(low.gross_profit_cents, -200_000);
        assert_eq!(low.under_list_percent, Some(25));
        // Exactly 20 % under list is not "more than 20 %".
        let cheap = PriceCheck::new(800_000, 100_000, 1_000_000);
        assert_eq!(cheap.under_list_percent, None);
        let cheaper = PriceCheck::new(799_999, 100_000, 1_000_000);
        assert_eq!(cheaper.under_list_percent, Some(20));
        assert_eq!(cheaper.below_cost_cents, None);
        // No list price: nothing to be under.
        assert_eq!(PriceCheck::new(1, 0, 0).under_list_percent, None);
    }

    #[test]
    fn the_confirmation_and_the_salesperson_are_read_strictly() {
        let f = |confirm: &str, who: &str| SaleForm {
            confirm_below_cost: confirm.into(),
            salesperson_id: who.into(),
            ..form()
        };
        assert!(f("1", "").confirmed_below_cost());
        assert!(f("on", "").confirmed_below_cost());
        assert!(!f("", "").confirmed_below_cost());
        assert!(!f("0", "").confirmed_below_cost());
        assert_eq!(f("", "").salesperson(), Ok(None));
        assert_eq!(f("", " 7 ").salesperson(), Ok(Some(7)));
        for bad in ["x", "-3", "0", "99999999999999999999"] {
            assert!(f("", bad).salesperson().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_good_sale_parses() {
        let f = form().parse(d("2026-10-01"), d("2026-11-23")).unwrap();
        assert_eq!(f.sale_price_cents, 2_050_000);
        assert_eq!(f.customer_email, "dana@example.com");
        assert_eq!(f.payment_method, PaymentMethod::Finance);
        let multi_line = SaleForm {
            notes: " Paid in full.\r\n\tThanks ".into(),
            ..form()
        };
        let f = multi_line.parse(d("2026-10-01"), d("2026-11-23")).unwrap();
        assert_eq!(f.notes, "Paid in full.\r\n\tThanks");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = fn(&mut SaleForm);
        let cases: Vec<(&str, Change)> = vec![
            ("sale_price", |f| f.sale_price = "-1".into()),
            ("sold_on", |f| f.sold_on = "2026-11-24".into()),
            ("sold_on", |f| f.sold_on = "2026-09-30".into()),
            ("sold_on", |f| f.sold_on = "soon".into()),
            ("customer_name", |f| f.customer_name = " ".into()),
            ("customer_email", |f| f.customer_email = "dana@".into()),
            ("customer_phone", |f| f.customer_phone = "call me".into()),
            ("payment_method", |f| f.payment_method = "barter".into()),
            ("customer_name", |f| f.customer_name = "D".repeat(201)),
            ("customer_name", |f| f.customer_name = "Dana\nScully".into()),
            ("notes", |f| f.notes = "n".repeat(5001)),
            ("notes", |f| f.notes = "a\u{7}".into()),
        ];
        for (field, change) in cases {
            let mut f = form();
            change(&mut f);
            let e = f.parse(d("2026-10-01"), d("2026-11-23")).unwrap_err();
            assert!(e.get(field).is_some(), "{field}");
            assert_eq!(e.len(), 1, "{field}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(a in ".{0,30}", b in ".{0,30}", c in ".{0,30}") {
            let f = SaleForm { sale_price: a.clone(), sold_on: b.clone(), customer_phone: c.clone(), customer_email: a, payment_method: b, ..form() };
            let _ = f.parse(d("2026-10-01"), d("2026-11-23"));
        }
    }
}
