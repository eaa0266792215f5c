//! placeholder

pub mod classify;
pub mod scenario;
pub mod server;
