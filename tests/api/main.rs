//! Integration tests: the real app over HTTP against a real PostgreSQL.
//! One binary, so one compile, one link and one database start.

mod account;
mod activity;
mod admin;
mod bench;
mod browser;
mod browser_deals;
mod cli;
mod csrf;
mod db_roles;
mod demo;
mod faults;
mod fuzz;
mod headers;
mod helpers;
mod hostile;
mod instances;
mod invitations;
mod kept_forms;
mod layers;
mod live;
mod load;
mod outage;
mod prepared;
mod proxy;
mod routes;
mod sales;
mod scale_out;
mod schema;
mod sessions;
mod setup;
mod sign_in;
mod templates;
mod throttling;
mod two_factor;
mod vehicles;
