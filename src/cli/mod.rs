//! Subcommands of the `caisse` command that have a file of their own.

pub mod catalog;
pub mod provider;
