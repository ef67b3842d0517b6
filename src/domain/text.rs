//! Text people type: trimmed, at most so many characters, and without control
//! characters (PostgreSQL cannot store NUL, and nobody means to type the
//! others). One rule for every free-text field, and one lenient twin for
//! search boxes and filters.

use std::fmt;

/// Whether a field may hold line breaks and tabs (notes, reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// Every control character is refused.
    One,
    /// `\n`, `\r` and `\t` are kept; other control characters are refused.
    Many,
}

/// Why typed text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// Longer than this many characters.
    TooLong(usize),
    Control,
}

/// The message shown beside the field.
impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong(max) => write!(f, "Use at most {max} characters."),
            Self::Control => f.write_str("Remove the control characters."),
        }
    }
}

/// `input` trimmed, when it has at most `max` characters and no control
/// characters (but line breaks and tabs with `Lines::Many`). Empty text
/// passes: whether a field is required is its own rule.
pub fn bounded(input: &str, max: usize, lines: Lines) -> Result<&str, TextProblem> {
    let s = input.trim();
    if s.chars().count() > max {
        return Err(TextProblem::TooLong(max));
    }
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(TextProblem::Control);
    }
    Ok(s)
}

/// For search boxes and filters, where refusing helps nobody: `input`
/// trimmed, its control characters dropped, cut to `max` characters.
pub fn cleaned(input: &str, max: usize) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// Characters that show nothing, or change how their neighbours show:
/// general category Cf (format: zero-width space and joiners, bidi
/// controls, the soft hyphen, tags, …) and the other default-ignorable code
/// points (variation selectors, the combining grapheme joiner, Hangul
/// fillers). A name that holds one looks the same as one that does not.
///
/// A hand list (the standard library has no general categories, and this
/// is not worth a dependency): every Cf code point of Unicode 15 (checked
/// against Python's `unicodedata`, Unicode 14, plus 15's Egyptian format
/// controls 13439–1343F) and the Default_Ignorable_Code_Point ranges of
/// `DerivedCoreProperties.txt`, whose unassigned code points are included
/// so that later additions there are covered. Cc is `char::is_control`.
pub fn is_invisible(c: char) -> bool {
    const RANGES: &[(char, char)] = &[
        ('\u{00AD}', '\u{00AD}'),   // soft hyphen
        ('\u{034F}', '\u{034F}'),   // combining grapheme joiner
        ('\u{0600}', '\u{0605}'),   // Arabic number signs
        ('\u{061C}', '\u{061C}'),   // Arabic letter mark
        ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
        ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
        ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
        ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
        ('\u{115F}', '\u{1160}'),   // Hangul choseong and jungseong fillers
        ('\u{17B4}', '\u{17B5}'),   // Khmer inherent vowels
        ('\u{180B}', '\u{180F}'),   // Mongolian variation selectors, vowel separator
        ('\u{200B}', '\u{200F}'),   // zero-width space, non-joiner, joiner; LRM, RLM
        ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
        ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates
        ('\u{3164}', '\u{3164}'),   // Hangul filler
        ('\u{FE00}', '\u{FE0F}'),   // variation selectors
        ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
        ('\u{FFA0}', '\u{FFA0}'),   // halfwidth Hangul filler
        ('\u{FFF0}', '\u{FFFB}'),   // interlinear annotation controls
        ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
        ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
        ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
        ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
        ('\u{1D173}', '\u{1D17A}'), // musical symbol beams and phrases
        ('\u{E0000}', '\u{E0FFF}'), // tags, variation selectors supplement
    ];
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounded_trims_and_checks_length_then_control_characters() {
        assert_eq!(bounded("  Zoë ", 3, Lines::One), Ok("Zoë"));
        assert_eq!(bounded(" ", 3, Lines::One), Ok(""));
        assert_eq!(bounded("abcd", 3, Lines::One), Err(TextProblem::TooLong(3)));
        assert_eq!(
            bounded("a\u{0}b", 3, Lines::Many),
            Err(TextProblem::Control)
        );
        assert_eq!(bounded("a\nb", 3, Lines::One), Err(TextProblem::Control));
        assert_eq!(bounded("a\r\n\tb", 5, Lines::Many), Ok("a\r\n\tb"));
        assert_eq!(
            TextProblem::TooLong(50).to_string(),
            "Use at most 50 characters."
        );
    }

    #[test]
    fn cleaned_drops_what_cannot_be_searched_for() {
        assert_eq!(cleaned("  hon\u{0}da\n ", 100), "honda");
        assert_eq!(cleaned(&"x".repeat(150), 100).len(), 100);
    }

    proptest! {
        #[test]
        fn whatever_passes_is_within_the_rule(s in ".{0,60}", max in 0usize..40) {
            if let Ok(v) = bounded(&s, max, Lines::One) {
                prop_assert!(v.chars().count() <= max);
                prop_assert!(!v.chars().any(char::is_control));
            }
            let c = cleaned(&s, max);
            prop_assert!(c.chars().count() <= max);
            prop_assert!(!c.chars().any(char::is_control));
        }
    }
}
