//! Integration tests: one binary, shared helpers, real servers on 127.0.0.1:0.

mod binary;
mod bookinfo;
mod capacity;
mod cluster;
mod compare;
mod dashboards;
mod edges;
mod engine;
mod faults;
mod faults_bin;
mod inputs;
mod merge;
mod output;
mod prometheus;
mod remote_write;
mod report;
mod standin;
mod support;
mod throughput;
mod trace;
mod verify;
