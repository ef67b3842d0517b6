//! How a search box's text becomes the conditions of the list's query: each
//! condition is one that an index of its own can answer (migrations
//! `vehicle_search` and `search_words`), and none is there that could not
//! match.

use crate::{
    domain::search::{self, Word},
    models::escape_like,
};

/// A search as the conditions that could match it: codes (stock numbers,
/// VINs, stored upper case) that start with it, codes that end with it
/// (reversed codes that start with it reversed), or a vehicle whose search
/// words (year, make, model, trim, colour) hold every typed word. A code
/// condition is left out when no such code could match (a space, say, or
/// too long), so a search by name does not pay for them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Search {
    /// (expression, LIKE pattern): the patterns hold only code characters.
    pub(super) codes: Vec<(&'static str, String)>,
    /// `search_words LIKE lower(…)` each of these (all of them); none when
    /// nothing was typed but punctuation, which then matches no vehicle.
    pub(super) words: Vec<String>,
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
        // `search_words` has a space at each end and between words, so a
        // whole word is one with a space on each side.
        let words = search::words(q)
            .into_iter()
            .map(|w| match w {
                Word::Part(w) => format!("%{}%", escape_like(&w)),
                Word::Whole(w) => format!("% {} %", escape_like(&w)),
            })
            .collect();
        Self { codes, words }
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
        assert_eq!(s.words, ["%s501a%"]);
        let vin = Search::new("1hgcm82633a004352");
        assert_eq!(vin.codes.len(), 4);
        assert_eq!(
            vin.codes[3],
            ("reverse(vin)", "253400A33628MCGH1%".to_string())
        );
        assert!(Search::new("honda civic").codes.is_empty());
        assert!(Search::new("Škoda").codes.is_empty());
        assert!(Search::new(&"A".repeat(21)).codes.is_empty());
        // Punctuation separates words and is dropped; what is left is literal.
        let wild = Search::new("50%_off\\");
        assert!(wild.codes.is_empty());
        assert_eq!(wild.words, ["%50off%"]);
        assert!(Search::new("%").words.is_empty());
    }

    #[test]
    fn every_word_is_a_condition_short_ones_whole_words() {
        let s = Search::new("2019 Civic ex");
        assert!(s.codes.is_empty());
        assert_eq!(s.words, ["%2019%", "%civic%", "% ex %"]);
        assert_eq!(Search::new(" X5 ").words, ["% x5 %"]);
        assert_eq!(Search::new("Chevy").words, ["%chevrolet%"]);
        assert_eq!(Search::new("F-150").words, ["%f150%"]);
    }
}
