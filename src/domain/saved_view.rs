//! A saved view (issue #14 §4): a list's filter kept under a name. What a
//! view may hold is decided here, apart from HTTP: which list, a name people
//! can tell apart, and the list's own filter parameters in one order, so
//! that the same filter always reads as the same query string.

use std::fmt;

use super::{
    choice::choice,
    text::{self, Lines},
};

/// At most this many personal views per person and list.
pub const MAX_PERSONAL: i64 = 50;
/// A name's length in characters (the database checks it too).
pub const NAME_MAX: usize = 60;
/// The longest normalised query, in bytes, as the database checks it: every
/// parameter at its 100 characters, each a 4-byte character sent as 12.
pub const QUERY_MAX: usize = 8000;

choice! {
    /// The lists a view can be saved from.
    pub enum ViewList {
        Vehicles = ("vehicles", "Inventory"),
        Sales = ("sales", "Sales"),
    }
}

impl ViewList {
    /// The list page's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Vehicles => "/vehicles",
            Self::Sales => "/sales",
        }
    }

    /// The list's own filter parameters, in the order a view keeps them.
    /// Cursors and page positions (`after`, `before`, `at`) are not a
    /// filter: a view opens on its first page.
    fn params(self) -> &'static [&'static str] {
        match self {
            Self::Vehicles => &["q", "status", "make", "sort"],
            Self::Sales => &["from", "to", "salesperson", "customer", "sort"],
        }
    }

    /// `raw` (a query string, with or without its '?') as a view keeps it:
    /// only this list's filter parameters, in a fixed order, the first of
    /// each, cleaned like the filters themselves clean them, empty ones left
    /// out, URL-encoded.
    pub fn normalise(self, raw: &str) -> String {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).unwrap_or_default();
        let mut kept: Vec<(&str, String)> = Vec::new();
        for &name in self.params() {
            let value = pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| text::cleaned(v, 100))
                .filter(|v| !v.is_empty());
            if let Some(v) = value {
                kept.push((name, v));
            }
        }
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    }

    /// The link of a view of this list with this (normalised) query.
    pub fn link(self, query: &str) -> String {
        if query.is_empty() {
            self.path().to_string()
        } else {
            format!("{}?{query}", self.path())
        }
    }
}

/// Why a name was refused (shown beside the field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    Text(text::TextProblem),
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Give the view a name."),
            Self::Text(p) => p.fmt(f),
        }
    }
}

/// A view's name: trimmed, 1 to 60 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewName(String);

impl ViewName {
    pub fn parse(input: &str) -> Result<Self, NameProblem> {
        match text::bounded(input, NAME_MAX, Lines::One) {
            Ok("") => Err(NameProblem::Empty),
            Ok(s) => Ok(Self(s.to_string())),
            Err(p) => Err(NameProblem::Text(p)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_only_its_lists_filter_in_one_order() {
        let v = ViewList::Vehicles;
        assert_eq!(
            v.normalise("?sort=price&after=abc&at=51&q=civic+ex&evil=1&make=Honda&status="),
            "q=civic+ex&make=Honda&sort=price"
        );
        assert_eq!(v.normalise("q=a%26b%3Dc&q=second"), "q=a%26b%3Dc");
        assert_eq!(v.normalise("before=x&at=3"), "");
        assert_eq!(v.normalise("%zz=%ff"), "");
        let s = ViewList::Sales;
        assert_eq!(
            s.normalise("after=x&to=2026-02-01&from=2026-01-01&salesperson=3&q=no"),
            "from=2026-01-01&to=2026-02-01&salesperson=3"
        );
        assert_eq!(s.link(""), "/sales");
        assert_eq!(v.link("q=x"), "/vehicles?q=x");
    }

    #[test]
    fn the_longest_filter_fits_what_the_database_keeps() {
        let wide = "😀".repeat(500);
        for list in ViewList::ALL {
            let raw: String = list
                .params()
                .iter()
                .map(|p| format!("{p}={wide}&"))
                .collect();
            let query = list.normalise(&raw);
            assert!(
                query.len() > 1000 && query.len() <= QUERY_MAX,
                "{}",
                query.len()
            );
        }
    }

    #[test]
    fn a_name_is_one_line_of_one_to_sixty_characters() {
        assert_eq!(ViewName::parse("  Trucks ").unwrap().as_str(), "Trucks");
        assert_eq!(ViewName::parse("   "), Err(NameProblem::Empty));
        assert!(ViewName::parse(&"x".repeat(60)).is_ok());
        assert!(ViewName::parse(&"x".repeat(61)).is_err());
        assert!(ViewName::parse("a\u{7}b").is_err());
    }
}
