//! Keyset cursors in URLs (`?after=…`): the sort value of a page's last (or
//! first) row and its id, as opaque URL-safe text. What the value must look
//! like is the list's business; a cursor that does not decode is no cursor.

use base64::Engine as _;

/// Between value and id: a character no sort value holds.
const SEPARATOR: char = '\u{1f}';

pub fn encode(value: &str, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{value}{SEPARATOR}{id}"))
}

/// The value and id of a cursor made by `encode`; `None` for anything else.
pub fn decode(cursor: &str) -> Option<(String, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (value, id) = text.rsplit_once(SEPARATOR)?;
    Some((value.to_string(), id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_is_not_a_cursor_decodes_to_nothing() {
        assert_eq!(decode("%%%"), None);
        assert_eq!(decode("AAAA"), None);
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        assert_eq!(decode(&b64("2026-11-20|5")), None, "no separator");
        assert_eq!(decode(&b64("x\u{1f}one")), None, "no id");
        assert_eq!(
            decode(&b64("a\u{1f}b\u{1f}7")),
            Some(("a\u{1f}b".into(), 7))
        );
    }

    proptest! {
        #[test]
        fn cursors_round_trip(value in ".{0,40}", id in any::<i64>()) {
            prop_assert_eq!(decode(&encode(&value, id)), Some((value, id)));
        }
    }
}
