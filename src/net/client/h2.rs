//! h2 through the `h2` crate (the HTTP/2 inside hyper) without hyper's client around it. hyper
//! hands each request to its connection task over a channel, spawns a task per request to await
//! the response, and passes the response back over a oneshot: three tasks polled, a spawn and
//! three channels per request (see BENCHMARKS.md). Here the request's own task opens the stream
//! and reads the response from it, and the connection's task only moves frames.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use h2::client::{Builder, SendRequest};
use h2::Reason;
use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};

use super::{failure, Extra, Prepared, Want, Wire};
use crate::model::outcome::ErrorType;

/// hyper's defaults for its h2 client, kept: 2 MiB per stream and 5 MiB per connection of
/// receive window, 16 KiB frames and header lists, 1 MiB buffered per stream sending.
const STREAM_WINDOW: u32 = 2 << 20;
const CONNECTION_WINDOW: u32 = 5 << 20;
const MAX_FRAME: u32 = 16 << 10;
const MAX_HEADER_LIST: u32 = 16 << 10;
const MAX_SEND_BUFFER: usize = 1 << 20;
/// Streams opened before the server's SETTINGS say how many it takes.
const INITIAL_STREAMS: usize = 100;

/// One h2 connection: the handle requests open streams with, when it was opened, and whether
/// it can take no more (its driver ended, or the server said GOAWAY).
#[derive(Debug)]
pub(super) struct Conn2 {
    sender: SendRequest<Bytes>,
    pub(super) opened: Instant,
    closed: Arc<AtomicBool>,
}

impl Conn2 {
    /// Open h2 on `wire`. The returned future moves the connection's frames until it closes;
    /// the caller owns it.
    pub(super) async fn open(wire: Wire) -> Result<(Conn2, impl Future<Output = ()>), h2::Error> {
        let (sender, connection) = Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(MAX_FRAME)
            .max_header_list_size(MAX_HEADER_LIST)
            .max_send_buffer_size(MAX_SEND_BUFFER)
            .initial_max_send_streams(INITIAL_STREAMS)
            .enable_push(false)
            .handshake::<_, Bytes>(wire)
            .await?;
        let closed = Arc::new(AtomicBool::new(false));
        let driver = {
            let closed = closed.clone();
            async move {
                let _ = connection.await;
                closed.store(true, Ordering::Relaxed);
            }
        };
        Ok((Conn2 { sender, opened: Instant::now(), closed }, driver))
    }

    /// Whether new requests can still go on this connection.
    pub(super) fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Relaxed)
    }

    /// A handle for one request.
    pub(super) fn stream(&self) -> Stream2 {
        Stream2 { sender: self.sender.clone(), closed: self.closed.clone() }
    }
}

/// What one request needs of its connection.
#[derive(Debug)]
pub(super) struct Stream2 {
    sender: SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
}

/// Why an h2 exchange failed, and whether the server never processed the request, so that it
/// can go once more: it never left (the connection took no new stream), or the server refused
/// its stream (RFC 9113, 8.7). A connection that will take no new stream is marked closed.
#[derive(Debug)]
pub(super) struct Failed2 {
    pub(super) error: h2::Error,
    pub(super) unprocessed: bool,
}

impl Stream2 {
    /// Send `route`'s request with `extra` headers and read the whole response, keeping in
    /// `body` what `want` asks for. Returns its status and headers.
    pub(super) async fn exchange(
        self,
        route: &Prepared,
        extra: &dyn Extra,
        want: Want,
        body: &mut Vec<u8>,
    ) -> Result<(u16, HeaderMap), Failed2> {
        let Stream2 { sender, closed } = self;
        let unsent = |error: h2::Error| {
            closed.store(true, Ordering::Relaxed);
            Failed2 { error, unprocessed: true }
        };
        let mut sender = sender.ready().await.map_err(unsent)?;
        let end = route.body.is_empty();
        let (response, mut send) = sender.send_request(route.request(extra), end).map_err(unsent)?;
        let sent = |error| Failed2 { error, unprocessed: false };
        if !end {
            send.send_data(route.body.clone(), true).map_err(sent)?;
        }
        let (parts, mut recv) = response
            .await
            .map_err(|error| {
                // A graceful GOAWAY (NO_ERROR) fails only the streams above the last one the
                // server processes; REFUSED_STREAM says the same of one stream.
                let go_away = error.is_go_away() && error.reason() == Some(Reason::NO_ERROR);
                let refused = error.is_remote() && (go_away || error.reason() == Some(Reason::REFUSED_STREAM));
                if refused && go_away {
                    closed.store(true, Ordering::Relaxed);
                }
                Failed2 { error, unprocessed: refused }
            })?
            .into_parts();
        while let Some(data) = recv.data().await {
            let data = data.map_err(sent)?;
            let room = want.body.saturating_sub(body.len()).min(data.len());
            body.extend_from_slice(&data[..room]);
            // Read and discarded: the server may send as much again.
            let _ = recv.flow_control().release_capacity(data.len());
        }
        Ok((parts.status.as_u16(), parts.headers))
    }
}

/// Type an h2 failure. The peer's resets and GOAWAY are `reset`, like a TCP reset over
/// HTTP/1.1; I/O errors are typed as on HTTP/1.1; frames h2 rejects are `protocol`.
pub(super) fn kind(e: &h2::Error) -> ErrorType {
    match e.get_io() {
        Some(io) => failure::io_kind(io.kind()),
        None if e.is_remote() && (e.is_reset() || e.is_go_away()) => ErrorType::Reset,
        None => ErrorType::Protocol,
    }
}

/// Make a route's headers fit for h2, once, as hyper did per request: connection-specific
/// headers dropped (RFC 9113, 8.2.2), `te` only as `trailers`, and `content-length` set when
/// the request has a body or a method that defines one.
pub(super) fn fit_headers(headers: &mut HeaderMap, method: &Method, body: &Bytes) {
    for name in
        [HeaderName::from_static("keep-alive"), HeaderName::from_static("proxy-connection"), TRANSFER_ENCODING, UPGRADE]
    {
        headers.remove(name);
    }
    if headers.get(TE).is_some_and(|te| te != "trailers") {
        headers.remove(TE);
    }
    if let Some(listed) = headers.remove(CONNECTION) {
        for name in listed.to_str().unwrap_or_default().split(',') {
            headers.remove(name.trim());
        }
    }
    let defines_body = !matches!(*method, Method::GET | Method::HEAD | Method::DELETE | Method::CONNECT);
    if (!body.is_empty() || defines_body) && !headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
}

impl Prepared {
    /// The h2 request head: the route's headers with `extra`'s (see [`Prepared::encode`] for
    /// HTTP/1.1).
    pub(super) fn request(&self, extra: &dyn Extra) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        let mut headers = self.headers.clone();
        extra.headers(&mut |name, value| {
            let value = match self.joined_by(name) {
                Some(own) => HeaderValue::from_bytes(&[own.as_bytes(), b"; ", value].concat()),
                _ => HeaderValue::from_bytes(value),
            };
            if let Ok(mut value) = value {
                // Never indexed by HPACK: a trace id is new on every request, and indexing it
                // churned both ends' header tables (h2's encoding was a tenth of the profile).
                value.set_sensitive(true);
                headers.insert(HeaderName::from_static(name), value);
            }
        });
        *request.headers_mut() = headers;
        request
    }
}

#[cfg(test)]
mod tests;
