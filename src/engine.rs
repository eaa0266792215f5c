//! One sending window: `send` starts a `worker` per core, each the one send loop, driven by a
//! `pacer`; `cluster` is what a Job's pod does around it, `shutdown` the signals that end it.

pub(crate) mod cluster;
pub(crate) mod pacer;
pub(crate) mod send;
pub(crate) mod shutdown;
pub(crate) mod worker;
