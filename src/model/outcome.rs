//! The vocabulary of what one request came to: its [`Outcome`], and on failure its [`ErrorType`],
//! whose string is the `error_type` label of logs, metrics and the summary alike. The client
//! produces outcomes; the recorder, the metrics and the report read them.

use std::time::Duration;

/// Why a request failed. The string is also the `error_type` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorType {
    /// No complete response within `--timeout`.
    Timeout,
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The name did not resolve.
    Dns,
    /// The connection was closed or reset mid-request.
    Reset,
    /// TLS handshake or certificate failure.
    Tls,
    /// The peer spoke malformed HTTP.
    Protocol,
    /// The server answered 4xx.
    Http4xx,
    /// The server answered 5xx.
    Http5xx,
    /// Still in flight when the drain timeout ended the run.
    Cancelled,
}

impl ErrorType {
    /// Every variant, in label order.
    pub const ALL: [ErrorType; 9] = [
        ErrorType::Timeout,
        ErrorType::Connect,
        ErrorType::Dns,
        ErrorType::Reset,
        ErrorType::Tls,
        ErrorType::Protocol,
        ErrorType::Http4xx,
        ErrorType::Http5xx,
        ErrorType::Cancelled,
    ];

    /// The label string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Timeout => "timeout",
            ErrorType::Connect => "connect",
            ErrorType::Dns => "dns",
            ErrorType::Reset => "reset",
            ErrorType::Tls => "tls",
            ErrorType::Protocol => "protocol",
            ErrorType::Http4xx => "http_4xx",
            ErrorType::Http5xx => "http_5xx",
            ErrorType::Cancelled => "cancelled",
        }
    }

    /// The error a status code counts as, if any.
    pub fn from_status(status: u16) -> Option<Self> {
        match status {
            400..=499 => Some(ErrorType::Http4xx),
            500..=599 => Some(ErrorType::Http5xx),
            _ => None,
        }
    }
}

/// The result of one request.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Index of the route it was sent on.
    pub route: usize,
    /// Response status, if a response arrived.
    pub status: Option<u16>,
    /// Failure, if any (a 5xx has both a status and an error).
    pub error: Option<ErrorType>,
    /// From the intended send time to the end of the response (coordinated-omission corrected).
    pub latency: Duration,
    /// From the actual send (on a connection: the wait for a free one is left out, dialling is
    /// not) to the end of the response.
    pub service_time: Duration,
    /// Response class index, when classification is on.
    pub class: Option<u16>,
}
