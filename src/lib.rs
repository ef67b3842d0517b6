//! PCN: the management system of a vehicle dealership.
//!
//! A request travels: `routes` (the table of every route and its least role)
//! → `auth` extractors (who is asking) → a handler → `models` functions on a
//! pooled connection (`db`) → an askama template (`web::render`).
//!
//! Modules depend only downwards (the `layers` test checks it): `startup`
//! and `cli` → `routes` → `auth` → `web` → `app` (shared state) → `live`
//! (changes as they happen) → `models` → `domain`, `db`, `schema`, `config`,
//! `cluster`, `token`.

pub mod app;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod live;
pub mod models;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod token;
pub mod web;
