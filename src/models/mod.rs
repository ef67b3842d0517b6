//! Database access: functions that take a connection and return `QueryResult`.
//! Handlers call these; they do not build SQL themselves.

pub mod attempts;
pub mod demo;
pub mod sessions;
pub mod setup_tokens;
pub mod users;
pub mod vehicles;
