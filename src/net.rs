//! Talking HTTP: the `client` (connections, DNS, TLS, HTTP/1.1 and h2), the `trace` headers,
//! sampled spans sent by `otlp`, and the metrics pushed by `remote_write`.

pub(crate) mod client;
pub(crate) mod otlp;
pub(crate) mod remote_write;
pub(crate) mod trace;
