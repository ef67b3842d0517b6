//! What travels: the JSON the database announces (`pcn_change_event`, or a
//! control message), parsed once per instance into a `Message`, with the
//! Server-Sent Events frame a browser gets already written, so a change sent
//! to a thousand streams is one shared buffer.

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::domain::VehicleField;

#[derive(Clone, Debug)]
pub enum Message {
    /// A vehicle or sale changed.
    Change(Arc<Change>),
    /// Too much changed at once to tell (a bulk load): pages should reload.
    Many,
    /// Someone opened or closed vehicle `vehicle_id` for editing.
    Presence { vehicle_id: i64 },
    /// Session `session_id` ended (signed out, revoked): its streams end.
    SessionEnded { session_id: i64 },
    /// User `user_id`'s role or active flag changed: their streams end.
    UserChanged { user_id: i64 },
}

/// A change, with its event id and its frame for browsers.
#[derive(Debug)]
pub struct Change {
    pub id: i64,
    pub vehicle_id: i64,
    pub version: i32,
    pub frame: Bytes,
}

/// `pcn_change_event`'s JSON.
#[derive(Deserialize)]
struct Stored {
    event: i64,
    kind: String,
    action: String,
    vehicle_id: i64,
    version: i32,
    by_id: Option<i64>,
    by: Option<String>,
    at: String,
    fields: Vec<String>,
    sale_id: Option<i64>,
}

/// What a browser reads in `data:` (SPEC §4: at least kind, id, version, by).
#[derive(Serialize)]
struct Sent<'a> {
    kind: &'a str,
    action: &'a str,
    /// The vehicle's id, or the sale's for a sale event.
    id: i64,
    vehicle_id: i64,
    sale_id: Option<i64>,
    /// The vehicle's version after the change.
    version: i32,
    /// Who made it, by name; `by_id` their user id.
    by: &'a str,
    by_id: Option<i64>,
    at: &'a str,
    /// Changed fields by form name and by label, in form order.
    fields: Vec<&'static str>,
    labels: Vec<&'static str>,
}

/// Writes a Server-Sent Events frame; `data` is one line of JSON.
pub fn frame(id: Option<i64>, event: Option<&str>, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 40);
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    if let Some(event) = event {
        out.push_str(&format!("event: {event}\n"));
    }
    // JSON text holds no raw newline; a line break would split the field.
    for line in data.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

impl Change {
    /// From `pcn_change_event`'s JSON text; `None` if it is not one.
    pub fn parse(json: &str) -> Option<Self> {
        let s: Stored = serde_json::from_str(json).ok()?;
        let mut fields: Vec<VehicleField> = s
            .fields
            .iter()
            .filter_map(|f| VehicleField::parse(f))
            .collect();
        fields.sort();
        let sent = Sent {
            kind: &s.kind,
            action: &s.action,
            id: if s.kind == "sale" {
                s.sale_id.unwrap_or(s.vehicle_id)
            } else {
                s.vehicle_id
            },
            vehicle_id: s.vehicle_id,
            sale_id: s.sale_id,
            version: s.version,
            by: s.by.as_deref().unwrap_or("Someone"),
            by_id: s.by_id,
            at: &s.at,
            fields: fields.iter().map(|f| f.name()).collect(),
            labels: fields.iter().map(|f| f.label()).collect(),
        };
        let data = serde_json::to_string(&sent).ok()?;
        Some(Self {
            id: s.event,
            vehicle_id: s.vehicle_id,
            version: s.version,
            frame: frame(Some(s.event), None, &data),
        })
    }
}

impl Message {
    /// A notification's payload; `None` for anything else.
    pub fn parse(payload: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Kind {
            kind: String,
            vehicle_id: Option<i64>,
            session_id: Option<i64>,
            user_id: Option<i64>,
        }
        let k: Kind = serde_json::from_str(payload).ok()?;
        match k.kind.as_str() {
            "vehicle" | "sale" => Change::parse(payload).map(|c| Self::Change(Arc::new(c))),
            "many" => Some(Self::Many),
            "presence" => k.vehicle_id.map(|vehicle_id| Self::Presence { vehicle_id }),
            "session ended" => k
                .session_id
                .map(|session_id| Self::SessionEnded { session_id }),
            "user changed" => k.user_id.map(|user_id| Self::UserChanged { user_id }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_becomes_one_frame_with_labels_in_form_order() {
        let json = r#"{"event": 42, "kind": "vehicle", "action": "edited", "vehicle_id": 7,
            "version": 3, "by_id": 2, "by": "Erin Smith", "at": "2026-11-24T10:00:00+00:00",
            "fields": ["notes", "list_price", "nonsense"], "sale_id": null}"#;
        let Some(Message::Change(c)) = Message::parse(json) else {
            panic!("not a change");
        };
        assert_eq!((c.id, c.vehicle_id, c.version), (42, 7, 3));
        let text = std::str::from_utf8(&c.frame).unwrap();
        assert!(text.starts_with("id: 42\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"), "{text}");
        assert_eq!(text.matches('\n').count(), 3, "one data line: {text}");
        let data: serde_json::Value =
            serde_json::from_str(text.lines().nth(1).unwrap().strip_prefix("data: ").unwrap())
                .unwrap();
        assert_eq!(data["kind"], "vehicle");
        assert_eq!(data["id"], 7);
        assert_eq!(data["by"], "Erin Smith");
        assert_eq!(data["fields"], serde_json::json!(["list_price", "notes"]));
        assert_eq!(data["labels"][0], "List price");
    }

    #[test]
    fn a_sale_event_is_about_the_sale() {
        let json = r#"{"event": 5, "kind": "sale", "action": "sale voided", "vehicle_id": 7,
            "version": 4, "by_id": null, "by": null, "at": "x", "fields": [], "sale_id": 11}"#;
        let Some(Message::Change(c)) = Message::parse(json) else {
            panic!("not a change");
        };
        let text = std::str::from_utf8(&c.frame).unwrap();
        assert!(text.contains(r#""id":11"#), "{text}");
        assert!(text.contains(r#""by":"Someone""#), "{text}");
    }

    #[test]
    fn control_messages_and_garbage() {
        assert!(matches!(
            Message::parse(r#"{"kind": "session ended", "session_id": 3, "user_id": 1}"#),
            Some(Message::SessionEnded { session_id: 3 })
        ));
        assert!(matches!(
            Message::parse(r#"{"kind": "presence", "vehicle_id": 9}"#),
            Some(Message::Presence { vehicle_id: 9 })
        ));
        assert!(Message::parse("not json").is_none());
        assert!(Message::parse(r#"{"kind": "vehicle"}"#).is_none());
    }
}
