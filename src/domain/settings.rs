//! The dealership's settings: who it is (name, address, phone and the footer
//! of its receipts) and how its pages show money, dates and times. Parsed
//! from the settings form; `Settings::default()` is what PCN shows before an
//! admin saves any.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use crate::domain::{
    FieldErrors, Money,
    choice::choice,
    text::{self, Lines},
};

choice! {
    /// Where the currency symbol goes.
    pub enum CurrencyPlace {
        Before = ("before", "Before the amount"),
        After = ("after", "After the amount"),
    }
}

choice! {
    /// How a calendar date is shown (date fields keep `YYYY-MM-DD` on the
    /// wire whatever is chosen here).
    pub enum DateFormat {
        Iso = ("YYYY-MM-DD", "2026-11-24 (YYYY-MM-DD)"),
        DayMonthYear = ("DD/MM/YYYY", "24/11/2026 (DD/MM/YYYY)"),
        MonthDayYear = ("MM/DD/YYYY", "11/24/2026 (MM/DD/YYYY)"),
        DayMonthName = ("D Mon YYYY", "24 Nov 2026 (D Mon YYYY)"),
    }
}

impl DateFormat {
    /// The `chrono` format of a date in this form.
    fn pattern(self) -> &'static str {
        match self {
            Self::Iso => "%Y-%m-%d",
            Self::DayMonthYear => "%d/%m/%Y",
            Self::MonthDayYear => "%m/%d/%Y",
            Self::DayMonthName => "%-d %b %Y",
        }
    }
}

/// The most characters of each field (the table checks the same).
pub const NAME_MAX: usize = 100;
pub const ADDRESS_MAX: usize = 300;
pub const PHONE_MAX: usize = 40;
pub const SYMBOL_MAX: usize = 5;
pub const FOOTER_MAX: usize = 500;
const ZONE_MAX: usize = 64;

/// Valid settings: every field passed the form's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub name: String,
    /// May hold line breaks.
    pub address: String,
    pub phone: String,
    pub currency_symbol: String,
    pub currency_place: CurrencyPlace,
    pub date_format: DateFormat,
    /// `None`: the server's zone (`PCN_TIMEZONE`).
    pub time_zone: Option<Tz>,
    /// May hold line breaks.
    pub receipt_footer: String,
    /// Which save this is: 0 for the defaults, +1 on every save.
    pub version: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            name: "PCN Dealership".into(),
            address: String::new(),
            phone: String::new(),
            currency_symbol: "$".into(),
            currency_place: CurrencyPlace::Before,
            date_format: DateFormat::Iso,
            time_zone: None,
            receipt_footer: String::new(),
            version: 0,
        }
    }
}

impl Settings {
    /// Cents as pages show money: `$27,300.00`, `-$1.50`, `CHF 27,300.00`,
    /// `27,300.00 €`.
    pub fn money(&self, cents: i64) -> String {
        let shown = Money::from_cents(cents).to_string();
        let (sign, amount) = match shown.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", shown.as_str()),
        };
        let symbol = &self.currency_symbol;
        match self.currency_place {
            // A symbol of letters ("CHF") stands apart from the digits.
            CurrencyPlace::Before if symbol.ends_with(char::is_alphabetic) => {
                format!("{sign}{symbol} {amount}")
            }
            CurrencyPlace::Before => format!("{sign}{symbol}{amount}"),
            CurrencyPlace::After => format!("{sign}{amount} {symbol}"),
        }
    }

    /// A calendar date in the chosen format.
    pub fn date(&self, date: NaiveDate) -> String {
        date.format(self.date_format.pattern()).to_string()
    }

    /// A local date and time: the date in the chosen format, the time as
    /// `15:09`, and `zone` (an abbreviation, `EST`) after it when given.
    pub fn date_time(&self, local: NaiveDateTime, zone: Option<&str>) -> String {
        let mut out = format!("{} {}", self.date(local.date()), local.format("%H:%M"));
        if let Some(zone) = zone {
            let _ = write!(out, " {zone}");
        }
        out
    }

    /// The zone times are shown in: the chosen one, else `default`.
    pub fn zone(&self, default: Tz) -> Tz {
        self.time_zone.unwrap_or(default)
    }
}

/// The settings form as sent: every field optional, so a form missing one
/// is answered with its error beside the field, not a bare 400.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub currency_symbol: String,
    pub currency_place: String,
    pub date_format: String,
    pub time_zone: String,
    pub receipt_footer: String,
    /// The version the form was drawn from (`Settings::version`).
    pub version: String,
}

impl From<&Settings> for SettingsForm {
    fn from(s: &Settings) -> Self {
        Self {
            name: s.name.clone(),
            address: s.address.clone(),
            phone: s.phone.clone(),
            currency_symbol: s.currency_symbol.clone(),
            currency_place: s.currency_place.as_str().into(),
            date_format: s.date_format.as_str().into(),
            time_zone: s
                .time_zone
                .map(|z| z.name().to_string())
                .unwrap_or_default(),
            receipt_footer: s.receipt_footer.clone(),
            version: s.version.to_string(),
        }
    }
}

impl SettingsForm {
    /// Valid settings (with the version the form came from), or the error
    /// of every field that is not.
    pub fn parse(&self) -> Result<Settings, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            "name",
            required(&self.name, NAME_MAX, "the dealership's name"),
        );
        let address = errors.check(
            "address",
            text::bounded(&self.address, ADDRESS_MAX, Lines::Many),
        );
        let phone = errors.check("phone", phone(&self.phone));
        let symbol = errors.check("currency_symbol", currency_symbol(&self.currency_symbol));
        let place = CurrencyPlace::parse(&self.currency_place);
        if place.is_none() {
            errors.add("currency_place", "Choose before or after the amount.");
        }
        let date_format = DateFormat::parse(&self.date_format);
        if date_format.is_none() {
            errors.add("date_format", "Choose one of the date formats.");
        }
        let zone = errors.check("time_zone", time_zone(&self.time_zone));
        let footer = errors.check(
            "receipt_footer",
            text::bounded(&self.receipt_footer, FOOTER_MAX, Lines::Many),
        );
        match (
            name,
            address,
            phone,
            symbol,
            place,
            date_format,
            zone,
            footer,
        ) {
            (
                Some(name),
                Some(address),
                Some(phone),
                Some(symbol),
                Some(currency_place),
                Some(date_format),
                Some(time_zone),
                Some(footer),
            ) if errors.is_empty() => Ok(Settings {
                name: name.into(),
                address: address.into(),
                phone: phone.into(),
                currency_symbol: symbol.into(),
                currency_place,
                date_format,
                time_zone,
                receipt_footer: footer.into(),
                // A version no save has (a form that lost it) is a stale one.
                version: self.version.trim().parse().unwrap_or(-1),
            }),
            _ => Err(errors),
        }
    }
}

fn required<'a>(input: &'a str, max: usize, what: &str) -> Result<&'a str, String> {
    match text::bounded(input, max, Lines::One) {
        Ok("") => Err(format!("Enter {what}.")),
        Ok(s) if s.chars().any(text::is_invisible) => Err(INVISIBLE.into()),
        Ok(s) => Ok(s),
        Err(p) => Err(p.to_string()),
    }
}

const INVISIBLE: &str = "Remove the invisible characters.";

/// Digits, spaces and `+ - ( ) . /`, with at least one digit; or nothing.
fn phone(input: &str) -> Result<&str, String> {
    let s = text::bounded(input, PHONE_MAX, Lines::One).map_err(|p| p.to_string())?;
    let allowed = |c: char| c.is_ascii_digit() || " +-()./".contains(c);
    if !s.is_empty() && (!s.chars().all(allowed) || !s.contains(|c: char| c.is_ascii_digit())) {
        return Err("Use digits, spaces and + - ( ) . / only, like +1 555 010 0199.".into());
    }
    Ok(s)
}

fn currency_symbol(input: &str) -> Result<&str, String> {
    let s = required(input, SYMBOL_MAX, "a currency symbol, like $ or €")?;
    if s.contains(|c: char| c.is_numeric() || c.is_whitespace()) {
        return Err("Use a symbol without digits or spaces, like $, € or CHF.".into());
    }
    Ok(s)
}

/// An IANA zone name (any case), or nothing for the server's zone.
fn time_zone(input: &str) -> Result<Option<Tz>, String> {
    let s = text::bounded(input, ZONE_MAX, Lines::One).map_err(|p| p.to_string())?;
    if s.is_empty() {
        return Ok(None);
    }
    parse_zone(s).map(Some).ok_or_else(|| {
        "PCN does not know this time zone: use a name like Europe/Berlin or America/New_York."
            .into()
    })
}

/// A zone by its IANA name, in any case (`europe/berlin`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|z| z.name().eq_ignore_ascii_case(name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SettingsForm {
        SettingsForm {
            name: " Lakeside Motors ".into(),
            address: "1 Shore Road\nLakeside".into(),
            phone: "+1 (555) 010-0199".into(),
            currency_symbol: "€".into(),
            currency_place: "after".into(),
            date_format: "DD/MM/YYYY".into(),
            time_zone: "europe/berlin".into(),
            receipt_footer: "Thank you.".into(),
            version: "3".into(),
        }
    }

    #[test]
    fn a_good_form_parses_and_comes_back_as_it_was_saved() {
        let s = form().parse().unwrap();
        assert_eq!(s.name, "Lakeside Motors");
        assert_eq!(s.time_zone, Some(chrono_tz::Europe::Berlin));
        assert_eq!(s.version, 3);
        let again = SettingsForm::from(&s);
        assert_eq!(again.time_zone, "Europe/Berlin");
        assert_eq!(again.parse().unwrap(), s);
    }

    #[test]
    fn each_bad_field_has_its_own_message() {
        let bad = SettingsForm {
            name: " ".into(),
            address: "a\u{0}b".into(),
            phone: "call me".into(),
            currency_symbol: "12".into(),
            currency_place: "middle".into(),
            date_format: "%Y".into(),
            time_zone: "Mars/Olympus".into(),
            receipt_footer: "x".repeat(FOOTER_MAX + 1),
            version: "1".into(),
        };
        let errors = bad.parse().unwrap_err();
        for field in [
            "name",
            "address",
            "phone",
            "currency_symbol",
            "currency_place",
            "date_format",
            "time_zone",
            "receipt_footer",
        ] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert_eq!(errors.len(), 8);
        let missing = SettingsForm::default().parse().unwrap_err();
        assert_eq!(missing.get("name").unwrap(), "Enter the dealership's name.");
        assert!(
            missing.get("time_zone").is_none(),
            "empty: the server's zone"
        );
        assert!(missing.get("phone").is_none(), "a phone is optional");
    }

    #[test]
    fn money_takes_the_symbol_where_it_was_put() {
        let mut s = Settings::default();
        assert_eq!(s.money(2_730_000), "$27,300.00");
        assert_eq!(s.money(-150), "-$1.50");
        s.currency_symbol = "CHF".into();
        assert_eq!(s.money(2_730_000), "CHF 27,300.00");
        s.currency_symbol = "€".into();
        s.currency_place = CurrencyPlace::After;
        assert_eq!(s.money(2_730_000), "27,300.00 €");
        assert_eq!(s.money(-150), "-1.50 €");
        assert_eq!(s.money(i64::MIN).matches('-').count(), 1);
    }

    #[test]
    fn dates_in_each_format() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        let shown: Vec<String> = DateFormat::ALL
            .iter()
            .map(|&date_format| {
                Settings {
                    date_format,
                    ..Settings::default()
                }
                .date(d)
            })
            .collect();
        assert_eq!(
            shown,
            ["2026-03-04", "04/03/2026", "03/04/2026", "4 Mar 2026"]
        );
        let s = Settings::default();
        let at = d.and_hms_opt(15, 9, 0).unwrap();
        assert_eq!(s.date_time(at, None), "2026-03-04 15:09");
        assert_eq!(s.date_time(at, Some("EST")), "2026-03-04 15:09 EST");
    }
}
