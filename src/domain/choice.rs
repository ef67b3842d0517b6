//! Enums of choices (a vehicle's status, its condition, a payment method):
//! each value declared once with the text it is stored as — in its `TEXT`
//! column and in JSON alike — and the label people see.

/// Declares `pub enum $name` from `Variant = ("stored text", "Label")` lines
/// and gives it `ALL` (in declaration order), `parse`, `as_str`, `label`,
/// `Display` (the stored text), serde as the stored text, and diesel's
/// `Text` mapping (`stored_as_text!`). Attributes before `pub enum` (docs,
/// more derives) are kept.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = ($text:literal, $label:literal)),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            ::serde::Serialize,
            ::serde::Deserialize,
            ::diesel::expression::AsExpression,
            ::diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$(Self::$variant),+];

            /// The value stored as `s` (surrounding space ignored), if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s.trim() {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The text it is stored as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The label people see.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }

        $crate::domain::stored::stored_as_text!($name);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use choice;

#[cfg(test)]
mod tests {
    choice! {
        /// A sample.
        pub enum Sample {
            Plain = ("plain", "Plain"),
            TwoWords = ("two_words", "Two words"),
        }
    }

    #[test]
    fn every_value_is_stored_parsed_and_serialised_as_its_text() {
        assert_eq!(Sample::ALL, [Sample::Plain, Sample::TwoWords]);
        for v in Sample::ALL {
            assert_eq!(Sample::parse(v.as_str()), Some(v));
            assert_eq!(Sample::parse(&format!(" {v} ")), Some(v));
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
            assert_eq!(
                serde_json::from_value::<Sample>(v.as_str().into()).unwrap(),
                v
            );
        }
        assert_eq!(Sample::TwoWords.label(), "Two words");
        assert_eq!(Sample::parse("Plain"), None);
        assert_eq!(Sample::parse(""), None);
        assert!(serde_json::from_value::<Sample>("Plain".into()).is_err());
    }
}
