//! What the user asked for: the layered settings validated by `config` into a `Plan`;
//! `threshold` and `stages` are the rules and the rate over time.

pub mod config;
pub(crate) mod stages;
pub(crate) mod threshold;
