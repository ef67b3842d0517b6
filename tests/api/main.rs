//! Integration tests: the real app over HTTP against a real PostgreSQL.
//! One binary, so one compile, one link and one database start.

mod account;
mod admin;
mod bench;
mod browser;
mod cli;
mod csrf;
mod demo;
mod headers;
mod helpers;
mod instances;
mod outage;
mod proxy;
mod routes;
mod sales;
mod sessions;
mod setup;
mod sign_in;
mod throttling;
mod vehicles;
