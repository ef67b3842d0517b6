//! The dealership's settings row (one at most): read by every instance's
//! change listener (pages show a copy kept in memory, see `live`) and by the
//! settings page; saved by an admin onto the version their form came from,
//! with its audit entry in the same transaction.

use diesel::{
    ExpressionMethods as _, OptionalExtension as _, QueryDsl as _, QueryResult,
    SelectableHelper as _,
    prelude::{Queryable, Selectable},
};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};

use crate::{
    domain::settings::{CurrencyPlace, DateFormat, Settings, parse_zone},
    models::audit,
    schema::dealership_settings as ds,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ds, check_for_backend(diesel::pg::Pg))]
struct Row {
    name: String,
    address: String,
    phone: String,
    currency_symbol: String,
    currency_place: CurrencyPlace,
    date_format: DateFormat,
    time_zone: Option<String>,
    receipt_footer: String,
    version: i32,
}

impl From<Row> for Settings {
    fn from(r: Row) -> Self {
        let time_zone = r.time_zone.and_then(|name| {
            let zone = parse_zone(&name);
            if zone.is_none() {
                // Saved by a PCN whose zone database knew it; this one does not.
                tracing::warn!(zone = %name, "unknown time zone in the settings; using the server's");
            }
            zone
        });
        Self {
            name: r.name,
            address: r.address,
            phone: r.phone,
            currency_symbol: r.currency_symbol,
            currency_place: r.currency_place,
            date_format: r.date_format,
            time_zone,
            receipt_footer: r.receipt_footer,
            version: r.version,
        }
    }
}

/// The settings, or the defaults while none were saved.
pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Settings> {
    let row: Option<Row> = ds::table
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(Settings::from).unwrap_or_default())
}

pub enum SaveOutcome {
    /// Saved as this version.
    Saved(Settings),
    /// The form changed nothing.
    Unchanged,
    /// Someone saved other settings after the form was drawn: nothing was
    /// saved; these are the settings now.
    Stale(Settings),
}

/// Saves `new` onto `new.version` (the version its form came from), as
/// `actor`, with an audit entry naming what changed.
pub async fn save(
    conn: &mut AsyncPgConnection,
    new: &Settings,
    actor: i64,
) -> QueryResult<SaveOutcome> {
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        let current = load(conn).await?;
        if current.version != new.version {
            return Ok(SaveOutcome::Stale(current));
        }
        let changes = changes(&current, new);
        if changes.is_empty() {
            return Ok(SaveOutcome::Unchanged);
        }
        let zone = new.time_zone.map(|z| z.name());
        let values = (
            ds::name.eq(&new.name),
            ds::address.eq(&new.address),
            ds::phone.eq(&new.phone),
            ds::currency_symbol.eq(&new.currency_symbol),
            ds::currency_place.eq(new.currency_place),
            ds::date_format.eq(new.date_format),
            ds::time_zone.eq(zone),
            ds::receipt_footer.eq(&new.receipt_footer),
        );
        // Onto the version the form came from, and nothing else: a save in
        // between (another admin, another instance) leaves nothing written.
        let written = if current.version == 0 {
            diesel::insert_into(ds::table)
                .values((values, ds::version.eq(1)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?
        } else {
            diesel::update(ds::table.filter(ds::version.eq(current.version)))
                .set((
                    values,
                    ds::version.eq(ds::version + 1),
                    ds::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?
        };
        if written == 0 {
            return Ok(SaveOutcome::Stale(load(conn).await?));
        }
        audit::record(conn, actor, "settings changed", None, &changes.join("; ")).await?;
        Ok(SaveOutcome::Saved(Settings {
            version: current.version + 1,
            ..new.clone()
        }))
    })
    .await
}

/// What differs, as the audit log says it: `Currency symbol: $ → €`.
fn changes(old: &Settings, new: &Settings) -> Vec<String> {
    let zone = |s: &Settings| {
        s.time_zone
            .map_or_else(|| "the server's".to_string(), |z| z.name().to_string())
    };
    let fields: [(&str, String, String); 8] = [
        ("Name", old.name.clone(), new.name.clone()),
        ("Address", old.address.clone(), new.address.clone()),
        ("Phone", old.phone.clone(), new.phone.clone()),
        (
            "Currency symbol",
            old.currency_symbol.clone(),
            new.currency_symbol.clone(),
        ),
        (
            "Currency place",
            old.currency_place.as_str().into(),
            new.currency_place.as_str().into(),
        ),
        (
            "Date format",
            old.date_format.as_str().into(),
            new.date_format.as_str().into(),
        ),
        ("Time zone", zone(old), zone(new)),
        (
            "Receipt footer",
            old.receipt_footer.clone(),
            new.receipt_footer.clone(),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(label, before, after)| {
            let shown = |s: &str| {
                if s.is_empty() {
                    "(empty)".to_string()
                } else {
                    s.replace(['\r', '\n'], " ")
                }
            };
            format!("{label}: {} → {}", shown(&before), shown(&after))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_field_that_differs() {
        let old = Settings::default();
        let new = Settings {
            currency_symbol: "€".into(),
            address: "1 Shore Road\nLakeside".into(),
            time_zone: Some(chrono_tz::Europe::Berlin),
            ..Settings::default()
        };
        assert_eq!(
            changes(&old, &new),
            [
                "Address: (empty) → 1 Shore Road Lakeside",
                "Currency symbol: $ → €",
                "Time zone: the server's → Europe/Berlin",
            ]
        );
        assert!(changes(&old, &old).is_empty());
    }
}
