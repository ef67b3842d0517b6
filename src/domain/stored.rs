//! Choices kept in a `TEXT` column (with a `CHECK` listing the values): each
//! enum reads and writes itself through `as_str` and `parse`, so a row holds
//! `status: Status`, never a string with a silent default. A value the enum
//! does not know is an error, not a guess.

/// Implements diesel's `ToSql`/`FromSql` for `Text` on a choice enum that has
/// `as_str(self) -> &'static str` and `parse(&str) -> Option<Self>` and
/// derives `AsExpression` and `FromSqlRow` with `sql_type = Text`.
macro_rules! stored_as_text {
    ($ty:ident) => {
        impl ::diesel::serialize::ToSql<::diesel::sql_types::Text, ::diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, ::diesel::pg::Pg>,
            ) -> ::diesel::serialize::Result {
                use ::std::io::Write as _;
                out.write_all(self.as_str().as_bytes())?;
                Ok(::diesel::serialize::IsNull::No)
            }
        }

        impl ::diesel::deserialize::FromSql<::diesel::sql_types::Text, ::diesel::pg::Pg> for $ty {
            fn from_sql(value: ::diesel::pg::PgValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let text = ::std::str::from_utf8(value.as_bytes())?;
                Self::parse(text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($ty), " {:?}"), text).into()
                })
            }
        }
    };
}

pub(crate) use stored_as_text;
