//! caisse: a self-hostable hosted checkout server.
//!
//! `domain` holds the pure rules, `store` the database, `core` the operations the API and the
//! page share, `web` the HTTP layer, `workers` what runs in the background.

pub mod adapters;
pub mod config;
pub mod core;
pub mod domain;
pub mod qr;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod workers;
