//! HTTP/1.1 on one keep-alive connection, driven by the request that holds it: the request is
//! written from a buffer the connection keeps, and the response is read and parsed (httparse) in
//! the same task. No connection task and no channels between it and the request, so a response
//! wakes the send loop once. hyper's client, with its dispatch task, spent most of the CPU of a
//! closed-loop request (see BENCHMARKS.md); h2 still goes through hyper.

use std::io;
use std::mem::MaybeUninit;
use std::time::Instant;

use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use httparse::{ParserConfig, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Extra, Prepared, Want, Wire};
use crate::model::outcome::ErrorType;

/// The largest response head (or chunk trailer) read; hyper's default limit is some 400 KiB.
const MAX_HEAD: usize = 1 << 20;
/// Header lines parsed per response head; more is a protocol error, as in hyper.
const MAX_HEADERS: usize = 100;
/// Names of added headers kept on the stack while a request is encoded (a session cookie and five
/// trace headers today); more spill to the heap, see [`Added`].
const MAX_EXTRA: usize = 8;
/// Room made in the read buffer before each read.
const READ_CHUNK: usize = 16 * 1024;

/// One HTTP/1.1 connection with its buffers, reused request after request.
pub(super) struct Conn1 {
    wire: Wire,
    /// Bytes read; `buf[start..]` are not parsed yet.
    buf: Vec<u8>,
    start: usize,
    /// The request being written.
    out: Vec<u8>,
    /// When it was opened: see [`super::MAX_CONNECTION_AGE`].
    pub(super) opened: Instant,
}

impl std::fmt::Debug for Conn1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn1").field("opened", &self.opened).finish_non_exhaustive()
    }
}

/// Why an exchange failed: the error type, what the first log line of its type says, and
/// whether the server closed the connection before any byte of an answer (on a pooled
/// connection: closed while idle, so the request is retried once on a new one).
#[derive(Debug)]
pub(super) struct Failed {
    pub(super) kind: ErrorType,
    pub(super) detail: String,
    pub(super) unanswered: bool,
}

/// A final response head, as the exchange needs it.
#[derive(Debug)]
struct Head {
    status: u16,
    framing: Framing,
    /// Empty unless headers were wanted.
    headers: HeaderMap,
    /// The connection can carry another request after this response.
    reusable: bool,
}

/// How the response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

impl Conn1 {
    pub(super) fn new(wire: Wire) -> Self {
        Conn1 { wire, buf: Vec::new(), start: 0, out: Vec::new(), opened: Instant::now() }
    }

    /// Send `route`'s request with `extra` headers and read the whole response. Returns its
    /// status and headers, and whether the connection can carry another request.
    pub(super) async fn exchange(
        &mut self,
        route: &Prepared,
        extra: &dyn Extra,
        want: Want,
        body: &mut Vec<u8>,
    ) -> Result<(u16, HeaderMap, bool), Failed> {
        route.encode(extra, &mut self.out);
        let written = match self.wire.write_all(&self.out).await {
            Ok(()) => self.wire.flush().await,
            Err(e) => Err(e),
        };
        written.map_err(|e| Failed { unanswered: true, ..io_failed("writing the request", &e) })?;
        let Head { status, framing, headers, mut reusable } =
            self.head(route.method == Method::HEAD, want.headers).await?;
        match framing {
            Framing::Empty => {}
            Framing::Length(n) => self.exact(n, want.body, body).await?,
            Framing::Chunked => self.chunked(want.body, body).await?,
            Framing::Close => {
                self.until_close(want.body, body).await?;
                reusable = false;
            }
        }
        // Bytes nobody asked for: the connection's framing cannot be trusted any more.
        reusable &= self.start == self.buf.len();
        Ok((status, headers, reusable))
    }

    /// Read more bytes after `buf[start..]`; `Ok(0)` at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK);
        self.wire.read_buf(&mut self.buf).await
    }

    /// The final response head: status, body framing, headers (when wanted) and whether the
    /// connection stays open. Interim 1xx heads are skipped.
    async fn head(&mut self, head_request: bool, want_headers: bool) -> Result<Head, Failed> {
        let mut answered = self.start < self.buf.len();
        loop {
            match parse_response(&self.buf[self.start..], head_request, want_headers)? {
                Some(Parsed { len, status, .. }) if (100..200).contains(&status) && status != 101 => {
                    self.start += len;
                    answered = self.start < self.buf.len();
                    continue;
                }
                Some(Parsed { len, head, .. }) => {
                    self.start += len;
                    return head;
                }
                None if self.buf.len() - self.start > MAX_HEAD => {
                    return Err(protocol(format!("response head longer than {MAX_HEAD} bytes")))
                }
                None => {}
            }
            match self.fill().await {
                Ok(0) if answered => {
                    return Err(failed(
                        ErrorType::Reset,
                        "the server closed the connection mid-way through the response head",
                    ))
                }
                Ok(0) => {
                    return Err(Failed {
                        unanswered: true,
                        ..failed(ErrorType::Reset, "the server closed the connection without answering")
                    })
                }
                Ok(_) => answered = true,
                Err(e) => return Err(Failed { unanswered: !answered, ..io_failed("reading the response head", &e) }),
            }
        }
    }

    /// Consume `n` body bytes, keeping up to `keep` of them in `kept`.
    async fn exact(&mut self, mut n: u64, keep: usize, kept: &mut Vec<u8>) -> Result<(), Failed> {
        loop {
            let here = (self.buf.len() - self.start).min(usize::try_from(n).unwrap_or(usize::MAX));
            self.take(here, keep, kept);
            n -= here as u64;
            if n == 0 {
                return Ok(());
            }
            match self.fill().await {
                Ok(0) => return Err(protocol(format!("the body ended {n} bytes short of its length"))),
                Ok(_) => {}
                Err(e) => return Err(io_failed("reading the response body", &e)),
            }
        }
    }

    /// Consume a chunked body and its trailers.
    async fn chunked(&mut self, keep: usize, kept: &mut Vec<u8>) -> Result<(), Failed> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[self.start..]) {
                    Ok(Status::Complete((n, size))) => {
                        self.start += n;
                        break size;
                    }
                    Ok(Status::Partial) => self.more("a chunk size").await?,
                    Err(_) => return Err(protocol("invalid chunk size line".into())),
                }
            };
            if size == 0 {
                return self.trailers().await;
            }
            self.exact(size, keep, kept).await?;
            while self.buf.len() - self.start < 2 {
                self.more("the end of a chunk").await?;
            }
            if &self.buf[self.start..self.start + 2] != b"\r\n" {
                return Err(protocol("a chunk longer than its size".into()));
            }
            self.start += 2;
        }
    }

    /// Skip trailer lines up to the empty line that ends a chunked body.
    async fn trailers(&mut self) -> Result<(), Failed> {
        loop {
            match self.buf[self.start..].windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.start += 2;
                    return Ok(());
                }
                Some(end) => self.start += end + 2,
                None if self.buf.len() - self.start > MAX_HEAD => {
                    return Err(protocol(format!("trailer longer than {MAX_HEAD} bytes")))
                }
                None => self.more("the end of a chunked body").await?,
            }
        }
    }

    /// Consume everything up to the end of the stream.
    async fn until_close(&mut self, keep: usize, kept: &mut Vec<u8>) -> Result<(), Failed> {
        loop {
            self.take(self.buf.len() - self.start, keep, kept);
            match self.fill().await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                // A TLS peer that closes without close_notify still ended the body.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(io_failed("reading the response body", &e)),
            }
        }
    }

    /// Read more of the body, which must not end before `what`.
    async fn more(&mut self, what: &str) -> Result<(), Failed> {
        match self.fill().await {
            Ok(0) => Err(protocol(format!("the connection closed before {what}"))),
            Ok(_) => Ok(()),
            Err(e) => Err(io_failed("reading the response body", &e)),
        }
    }

    /// Consume `n` parsed bytes, keeping as many as fit in `keep`.
    fn take(&mut self, n: usize, keep: usize, kept: &mut Vec<u8>) {
        let room = keep.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&self.buf[self.start..self.start + room]);
        self.start += n;
    }
}

/// A complete response head at the start of the read buffer.
struct Parsed {
    /// Its length in bytes.
    len: usize,
    status: u16,
    /// The head, or why its framing or headers are invalid.
    head: Result<Head, Failed>,
}

/// The response head at the start of `buf` when it is complete: its length, its status, and its
/// body framing, headers and keep-alive (or why those are invalid). A plain function, so that
/// the header slots live on the stack, not in every request's future.
fn parse_response(buf: &[u8], head_request: bool, want_headers: bool) -> Result<Option<Parsed>, Failed> {
    // Uninitialised: zeroing 100 header slots per response would be a large share of the exchange.
    let mut lines = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    match ParserConfig::default().parse_response_with_uninit_headers(&mut response, buf, &mut lines) {
        Ok(Status::Complete(len)) => {
            let head = parse_head(&response, head_request, want_headers);
            Ok(Some(Parsed { len, status: response.code.unwrap_or_default(), head }))
        }
        Ok(Status::Partial) => Ok(None),
        Err(e) => Err(protocol(format!("invalid response head: {e}"))),
    }
}

/// Body framing, headers (when wanted) and keep-alive of a parsed head.
fn parse_head(response: &httparse::Response<'_, '_>, head_request: bool, want_headers: bool) -> Result<Head, Failed> {
    let status = response.code.unwrap_or_default();
    let mut length: Option<u64> = None;
    let mut chunked = None;
    let mut close = response.version == Some(0);
    let mut headers = HeaderMap::new();
    for line in response.headers.iter() {
        let name = line.name;
        if name.eq_ignore_ascii_case(CONTENT_LENGTH.as_str()) {
            let n = std::str::from_utf8(line.value).ok().and_then(|v| v.trim().parse::<u64>().ok());
            match (n, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(before)) if n == before => {}
                _ => return Err(protocol(format!("invalid content-length {:?}", String::from_utf8_lossy(line.value)))),
            }
        } else if name.eq_ignore_ascii_case(TRANSFER_ENCODING.as_str()) {
            // Chunked must be the last coding; any other makes the body run to the close.
            chunked = Some(last_token(line.value).eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(CONNECTION.as_str()) {
            for token in line.value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && response.version == Some(0) {
                    close = false;
                }
            }
        }
        if want_headers {
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(line.value))
            else {
                return Err(protocol(format!("invalid header line {name:?}")));
            };
            headers.append(name, value);
        }
    }
    let framing = if head_request || status == 204 || status == 304 || status == 101 {
        Framing::Empty
    } else {
        match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) | (None, None) => Framing::Close,
            (None, Some(0)) => Framing::Empty,
            (None, Some(n)) => Framing::Length(n),
        }
    };
    Ok(Head { status, framing, headers, reusable: !close && status != 101 })
}

fn last_token(v: &[u8]) -> &[u8] {
    v.rsplit(|b| *b == b',').next().unwrap_or_default().trim_ascii()
}

fn failed(kind: ErrorType, detail: &str) -> Failed {
    Failed { kind, detail: detail.into(), unanswered: false }
}

fn protocol(detail: String) -> Failed {
    Failed { kind: ErrorType::Protocol, detail, unanswered: false }
}

/// An I/O error while `doing` something, typed like hyper's (see `failure`).
fn io_failed(doing: &str, e: &io::Error) -> Failed {
    Failed { kind: super::failure::io_kind(e.kind()), detail: format!("{doing}: {e}"), unanswered: false }
}

impl Prepared {
    /// Write the HTTP/1.1 request into `out`: the request line, the `extra` headers, the route's
    /// own but those `extra` replaced, then the body.
    pub(super) fn encode(&self, extra: &dyn Extra, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.line);
        let mut added = Added::default();
        extra.headers(&mut |name, value| {
            match self.joined_by(name) {
                Some(own) => put(out, name, &[own.as_bytes(), b"; ", value]),
                None => put(out, name, &[value]),
            }
            added.push(name);
        });
        for (name, value) in &self.headers {
            if !added.contains(name.as_str()) {
                put(out, name.as_str(), &[value.as_bytes()]);
            }
        }
        let sends_body = !self.body.is_empty() || matches!(self.method, Method::POST | Method::PUT | Method::PATCH);
        if sends_body && !self.headers.contains_key(CONTENT_LENGTH) {
            put(out, CONTENT_LENGTH.as_str(), &[self.body.len().to_string().as_bytes()]);
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

/// The names of the headers a request added, so the route's headers of those names are left out:
/// the first [`MAX_EXTRA`] on the stack, any more on the heap. However many an [`Extra`] adds, none
/// of the route's is sent beside its replacement; the heap is touched only past the usual few.
#[derive(Debug, Default)]
struct Added {
    first: [&'static str; MAX_EXTRA],
    len: usize,
    more: Vec<&'static str>,
}

impl Added {
    fn push(&mut self, name: &'static str) {
        match self.first.get_mut(self.len) {
            Some(slot) => {
                *slot = name;
                self.len += 1;
            }
            None => self.more.push(name),
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.first[..self.len].contains(&name) || self.more.contains(&name)
    }
}

fn put(out: &mut Vec<u8>, name: &str, value: &[&[u8]]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    for part in value {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;
