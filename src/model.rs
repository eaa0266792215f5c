//! The shared vocabulary: routes (`scenario`), response classes (`classify`), what became of a
//! request (`outcome`), and the target URLs the generator accepts (`url`).

pub(crate) mod classify;
pub(crate) mod outcome;
pub(crate) mod scenario;
pub(crate) mod url;
