//! What the search box's words mean for a vehicle's year, make, model, trim
//! and colour: each word as people type it, brought to the form the database
//! keeps beside each vehicle (`pcn_search_words`, migration `search_words`),
//! so "F150" finds an F-150, "Mercedes Benz" a Mercedes-Benz and "Chevy" a
//! Chevrolet.
//!
//! The database's form of a vehicle is its words in lower case, split at
//! every ASCII character that is neither a letter nor a digit, and each field
//! that had such a character also written as one word without them:
//! "Mercedes-Benz" is `mercedes benz mercedesbenz`, "Grand Cherokee" is
//! `grand cherokee grandcherokee`, all between spaces. A typed word loses
//! those characters too ("F-150" → `f150`), so it is found whichever way
//! either side was written.

/// Common names for makes, and the make they stand for (in the normalised
/// form). Only names that mean one make whatever else is typed.
const MAKE_ALIASES: &[(&str, &str)] = &[
    ("chevy", "chevrolet"),
    ("vw", "volkswagen"),
    ("merc", "mercedesbenz"),
    ("beemer", "bmw"),
    ("bimmer", "bmw"),
];

/// At most this many words count; a search box holds 100 characters.
const MAX_WORDS: usize = 8;

/// Words shorter than this are matched as whole words: a trigram index
/// (three characters in a row) cannot look up "any part of" a shorter one.
const PART_MIN: usize = 3;

/// One typed word, normalised, and how it must be found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    /// Found anywhere in a word ("civ" in Civic, "150" in F-150).
    Part(String),
    /// Found only as a whole word ("x5", "ex").
    Whole(String),
}

impl Word {
    pub fn text(&self) -> &str {
        match self {
            Self::Part(w) | Self::Whole(w) => w,
        }
    }
}

/// Whether `c` separates words (and is dropped inside one): ASCII that is
/// neither a letter nor a digit, and any white space. Letters beyond ASCII
/// (é, š) belong to words, as in the database's form.
fn separates(c: char) -> bool {
    c.is_whitespace() || (c.is_ascii() && !c.is_ascii_alphanumeric())
}

/// The words of a search, each of which a vehicle must match (AND), in the
/// order typed, without repeats. Hyphens, dots and the like inside a word are
/// dropped ("F-150" → `f150`); a known make alias becomes its make. Nothing
/// left (a search of only punctuation) gives no words.
///
/// Only ASCII letters are lowered here: the query lowers the word again with
/// the database's own `lower()`, the one that lowered the vehicle's fields,
/// so "ŠKODA" finds "Škoda" exactly when the database thinks they are alike.
pub fn words(query: &str) -> Vec<Word> {
    let mut found: Vec<Word> = Vec::new();
    for raw in query.split_whitespace() {
        let squashed: String = raw
            .chars()
            .filter(|c| !separates(*c))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if squashed.is_empty() {
            continue;
        }
        let word = MAKE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == squashed)
            .map_or(squashed, |(_, make)| (*make).to_string());
        let word = if word.chars().count() >= PART_MIN {
            Word::Part(word)
        } else {
            Word::Whole(word)
        };
        if !found.contains(&word) {
            found.push(word);
        }
        if found.len() == MAX_WORDS {
            break;
        }
    }
    found
}

/// A field as the database keeps it for search (the twin of SQL's
/// `pcn_search_field`, checked against it by a test): its words, then, when
/// it had separators, itself as one word. Letters are lowered as in the C
/// locale, ASCII only (the own cluster's); a database with another locale
/// lowers more, and the typed words with them.
pub fn field_form(field: &str) -> String {
    let lower = field.to_ascii_lowercase();
    let spaced: Vec<&str> = lower.split(separates).filter(|w| !w.is_empty()).collect();
    let squashed = spaced.concat();
    let spaced = spaced.join(" ");
    if lower.trim().chars().any(separates) {
        format!("{spaced} {squashed}")
    } else {
        spaced
    }
}

/// Whether a vehicle whose search form is `form` (with a space at each end)
/// matches `word`.
pub fn matches(form: &str, word: &Word) -> bool {
    match word {
        Word::Part(w) => form.contains(w.as_str()),
        Word::Whole(w) => form.contains(&format!(" {w} ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &str) -> Vec<String> {
        words(q).iter().map(|w| w.text().to_string()).collect()
    }

    /// A vehicle's form as `pcn_search_words` builds it.
    fn vehicle(year: i32, fields: [&str; 4]) -> String {
        let mut form = format!(" {year} ");
        for f in fields {
            form.push_str(&field_form(f));
            form.push(' ');
        }
        form
    }

    fn finds(form: &str, q: &str) -> bool {
        let ws = words(q);
        !ws.is_empty() && ws.iter().all(|w| matches(form, w))
    }

    #[test]
    fn words_lose_case_hyphens_and_dots_and_keep_their_order() {
        assert_eq!(texts("  2019   Civic "), ["2019", "civic"]);
        assert_eq!(texts("F-150"), ["f150"]);
        assert_eq!(texts("Mercedes-Benz C-Class"), ["mercedesbenz", "cclass"]);
        assert_eq!(texts("Mercedes Benz"), ["mercedes", "benz"]);
        assert_eq!(texts("ÉCLAIR"), ["Éclair"], "the database lowers the rest");
        assert_eq!(texts("civic Civic CIVIC"), ["civic"], "no repeats");
        assert_eq!(texts("% - _ ."), Vec::<String>::new());
        assert_eq!(texts("a b c d e f g h i j").len(), MAX_WORDS);
    }

    #[test]
    fn short_words_are_whole_words_longer_ones_parts() {
        assert_eq!(
            words("x5 tahoe 3 f-1"),
            [
                Word::Whole("x5".into()),
                Word::Part("tahoe".into()),
                Word::Whole("3".into()),
                Word::Whole("f1".into()),
            ]
        );
    }

    #[test]
    fn common_make_names_stand_for_their_make() {
        assert_eq!(texts("Chevy Tahoe"), ["chevrolet", "tahoe"]);
        assert_eq!(texts("vw"), ["volkswagen"]);
        assert_eq!(texts("VW Jetta"), ["volkswagen", "jetta"]);
        assert_eq!(texts("merc"), ["mercedesbenz"]);
        assert_eq!(texts("Beemer x5"), ["bmw", "x5"]);
        assert_eq!(texts("bimmer"), ["bmw"]);
        // Only a whole word is an alias.
        assert_eq!(texts("chevys vwx"), ["chevys", "vwx"]);
    }

    #[test]
    fn fields_are_kept_as_their_words_and_as_one_word() {
        assert_eq!(field_form("Mercedes-Benz"), "mercedes benz mercedesbenz");
        assert_eq!(field_form("F-150"), "f 150 f150");
        assert_eq!(field_form("Grand Cherokee"), "grand cherokee grandcherokee");
        assert_eq!(field_form("Civic"), "civic");
        assert_eq!(field_form(""), "");
        assert_eq!(field_form("--"), " ", "as the database has it: harmless");
    }

    #[test]
    fn what_people_type_finds_the_car_they_mean() {
        let civic = vehicle(2019, ["Honda", "Civic", "EX", "Black"]);
        let old_civic = vehicle(2015, ["Honda", "Civic", "LX", "White"]);
        let tahoe = vehicle(2021, ["Chevrolet", "Tahoe", "XLE", "Silver"]);
        let f150 = vehicle(2020, ["Ford", "F-150", "XLT", "Blue"]);
        let benz = vehicle(2022, ["Mercedes-Benz", "C-Class", "", "Black"]);
        let bmw = vehicle(2018, ["BMW", "X5", "", "Gray"]);
        let all = [&civic, &old_civic, &tahoe, &f150, &benz, &bmw];
        let found =
            |q: &str| -> Vec<usize> { (0..all.len()).filter(|&i| finds(all[i], q)).collect() };
        assert_eq!(found("2019 Civic"), [0]);
        assert_eq!(found("black civic"), [0]);
        assert_eq!(found("civic"), [0, 1]);
        assert_eq!(found("tahoe xle"), [2]);
        assert_eq!(found("Chevy"), [2]);
        assert_eq!(found("F150"), [3]);
        assert_eq!(found("f 150"), [3]);
        assert_eq!(found("F-150"), [3]);
        assert_eq!(found("Mercedes Benz"), [4]);
        assert_eq!(found("mercedesbenz"), [4]);
        assert_eq!(found("Mercedes-Benz"), [4]);
        assert_eq!(found("merc c class"), [4]);
        assert_eq!(found("black"), [0, 4]);
        assert_eq!(found("x5"), [5]);
        assert_eq!(found("beemer"), [5]);
        // Every word must match, and a short one only as a whole word.
        assert_eq!(found("2019 tahoe"), Vec::<usize>::new());
        assert_eq!(found("x"), Vec::<usize>::new());
        assert_eq!(found("%"), Vec::<usize>::new());
    }
}
