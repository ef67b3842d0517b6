//! The dealership's settings as this instance shows them: a copy in memory,
//! so no page pays a query for them. The listener reads them when it
//! connects and again whenever a save announces itself (`kind: settings`
//! on the change channel, sent by the table's trigger), so a change made on
//! any instance shows on every other within moments; the instance that saved
//! keeps its own save at once.

use std::sync::{Arc, PoisonError, RwLock};

use diesel_async::AsyncPgConnection;

use crate::{domain::settings::Settings, models};

#[derive(Default)]
pub struct Current(RwLock<Arc<Settings>>);

impl Current {
    pub fn get(&self) -> Arc<Settings> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps `settings` unless a newer version is kept already (a save and
    /// the listener's read of it may arrive in either order).
    pub fn offer(&self, settings: Settings) {
        let mut kept = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if settings.version >= kept.version {
            *kept = Arc::new(settings);
        }
    }

    /// Keeps `settings`, whatever was kept: what the database holds now.
    fn replace(&self, settings: Settings) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
    }
}

/// What the settings table's trigger sends on the change channel.
pub(super) const ANNOUNCED: &str = r#"{"kind": "settings"}"#;

/// Whether a notification on the change channel announces a save.
pub(super) fn announced(payload: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        kind: &'a str,
    }
    serde_json::from_str::<Kind>(payload).is_ok_and(|k| k.kind == "settings")
}

/// Reads the settings on the listening connection and keeps them, whatever
/// was kept: what the database holds now (a restored one may hold an older
/// version; a save committed after this read announces itself again).
pub(super) async fn read(
    conn: &mut AsyncPgConnection,
    current: &Current,
) -> diesel::QueryResult<()> {
    current.replace(models::settings::load(conn).await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_version_is_kept() {
        let current = Current::default();
        let v = |version, name: &str| Settings {
            version,
            name: name.into(),
            ..Settings::default()
        };
        current.offer(v(2, "two"));
        current.offer(v(1, "one"));
        assert_eq!(current.get().name, "two");
        current.offer(v(3, "three"));
        assert_eq!(current.get().name, "three");
        current.replace(v(1, "restored"));
        assert_eq!(current.get().name, "restored");
    }

    #[test]
    fn only_a_settings_notification_is_one() {
        assert!(announced(ANNOUNCED));
        assert!(announced(r#"{"kind":"settings"}"#));
        assert!(!announced(r#"{"kind": "presence", "vehicle_id": 1}"#));
        assert!(!announced("nonsense"));
    }
}
