//! Database access: functions that take a connection and return `QueryResult`.
//! Handlers call these; they do not build SQL themselves.

pub mod attempts;
pub mod sessions;
pub mod setup_tokens;
pub mod users;
