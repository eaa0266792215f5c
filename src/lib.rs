//! placeholder

pub mod classify;
pub mod scenario;
