//! How a search box's text becomes the conditions of the list's query: each
//! condition is one that an index of its own can answer (migration
//! `vehicle_search`), and none is there that could not match.

use crate::models::escape_like;

/// A search as the conditions that could match it: codes (stock numbers,
/// VINs, stored upper case) that start with it, codes that end with it
/// (reversed codes that start with it reversed), make and model that contain
/// it. A code condition is left out when no such code could match (a space,
/// say, or too long), so a search by name does not pay for them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Search {
    /// (expression, LIKE pattern): the patterns hold only code characters.
    pub(super) codes: Vec<(&'static str, String)>,
    pub(super) names: Names,
}

/// How make and model are matched.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Names {
    /// `lower(make || ' ' || model) LIKE` this: three letters or digits in a
    /// row give the trigram index something to look up.
    Containing(String),
    /// A shorter search ("X5", "A4") is a whole model name or nothing: a
    /// substring pattern without a trigram would read the whole index.
    Model(String),
}

impl Search {
    pub(super) fn new(q: &str) -> Self {
        let q = q.trim();
        let code = q.to_ascii_uppercase();
        let reversed: String = code.chars().rev().collect();
        let mut codes = Vec::new();
        let stock_chars = |c: char| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-';
        if code.len() <= 20 && code.chars().all(stock_chars) {
            codes.push(("vehicle_number", format!("{code}%")));
            codes.push(("reverse(vehicle_number)", format!("{reversed}%")));
        }
        let vin_chars = |c: char| {
            c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q'))
        };
        if code.len() <= 17 && code.chars().all(vin_chars) {
            codes.push(("vin", format!("{code}%")));
            codes.push(("reverse(vin)", format!("{reversed}%")));
        }
        let mut run = 0;
        let trigram = q.chars().any(|c| {
            run = if c.is_alphanumeric() { run + 1 } else { 0 };
            run >= 3
        });
        let lower = q.to_lowercase();
        let names = if trigram {
            Names::Containing(format!("%{}%", escape_like(&lower)))
        } else {
            Names::Model(lower)
        };
        Self { codes, names }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_leave_out_codes_that_cannot_match_and_take_wildcards_literally() {
        let s = Search::new(" s50-1a ");
        assert_eq!(
            s.codes,
            [
                ("vehicle_number", "S50-1A%".to_string()),
                ("reverse(vehicle_number)", "A1-05S%".to_string()),
            ],
            "a VIN has no '-'"
        );
        assert_eq!(s.names, Names::Containing("%s50-1a%".into()));
        let vin = Search::new("1hgcm82633a004352");
        assert_eq!(vin.codes.len(), 4);
        assert_eq!(
            vin.codes[3],
            ("reverse(vin)", "253400A33628MCGH1%".to_string())
        );
        assert!(Search::new("honda civic").codes.is_empty());
        assert!(Search::new("Škoda").codes.is_empty());
        assert!(Search::new(&"A".repeat(21)).codes.is_empty());
        let wild = Search::new("50%_off\\");
        assert!(wild.codes.is_empty());
        assert_eq!(wild.names, Names::Containing("%50\\%\\_off\\\\%".into()));
        // Without three letters or digits in a row, a whole model name.
        assert_eq!(Search::new(" X5 ").names, Names::Model("x5".into()));
        assert_eq!(Search::new("l-1").names, Names::Model("l-1".into()));
        assert_eq!(Search::new("%").names, Names::Model("%".into()));
    }
}
