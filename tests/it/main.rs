//! Integration tests: one binary, shared helpers, real servers on 127.0.0.1:0.

mod binary;
mod bookinfo;
mod cluster;
mod compare;
mod engine;
mod prometheus;
mod report;
mod support;
mod trace;
