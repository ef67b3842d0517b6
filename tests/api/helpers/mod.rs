//! The test harness, in parts, all re-exported here so a test says
//! `use crate::helpers::{TestApp, …}`:
//!
//! - `cluster`: one PostgreSQL for the whole run, one migrated template
//!   database, a fresh copy of it for every test;
//! - `app`: the app under test (`TestApp`, `Options`), started as `main`
//!   starts it, on port 0;
//! - `client`: a cookie-keeping client that does not follow redirects,
//!   forms with and without their CSRF token, sign-in;
//! - `html`: pages parsed and queried with CSS selectors;
//! - `fixtures`: users, vehicles and their forms;
//! - `photos`: JPEGs made to order, uploads as the vehicle page sends them;
//! - `second_factor`: an authenticator app, two-step set-up and sign-in;
//! - `browser`: chromedriver and a headless Chromium;
//! - `served`: `pcn serve` as a process of its own.

mod app;
mod browser;
mod client;
mod cluster;
mod fixtures;
mod html;
mod photos;
mod second_factor;
mod served;

pub use app::*;
pub use browser::*;
pub use client::*;
pub use cluster::*;
pub use fixtures::*;
pub use html::*;
pub use photos::*;
pub use second_factor::*;
pub use served::*;
