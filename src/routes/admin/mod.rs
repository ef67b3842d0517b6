//! Administration: staff accounts, their sessions, what is going on, and
//! the dealership's settings.

pub mod activity;
pub mod settings;
pub mod users;
