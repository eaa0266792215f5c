//! What happened and how it is shown: the `recorder`'s figures, the `timeline`, `/metrics`, and
//! the `report` (progress lines, the summary and its verdict).

pub(crate) mod metrics;
pub(crate) mod recorder;
pub mod report;
pub(crate) mod timeline;
