//! Administration: staff accounts, their sessions, and what is going on.

pub mod activity;
pub mod users;
