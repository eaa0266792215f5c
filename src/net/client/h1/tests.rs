//! The HTTP/1.1 exchange against a loopback server that answers with scripted bytes.

use bytes::Bytes;
use http::{HeaderValue, Method};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::model::scenario::Route;

fn route(method: Method, headers: &[(&'static str, &'static str)], body: &'static str) -> Prepared {
    let headers = headers.iter().map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v))).collect();
    let uri = "http://example.test:8080/a?b=1".parse().unwrap();
    let route = Route {
        name: "a".into(),
        method,
        uri,
        headers,
        body: Bytes::from(body),
        weight: 1,
        classifier: None,
        login: false,
    };
    super::super::prepare(&route, 0, false)
}

fn get() -> Prepared {
    route(Method::GET, &[], "")
}

/// Extra headers from a list.
struct Pairs(&'static [(&'static str, &'static str)]);

impl Extra for Pairs {
    fn headers(&self, put: &mut dyn FnMut(&'static str, &[u8])) {
        for (name, value) in self.0 {
            put(name, value.as_bytes());
        }
    }
}

fn encoded(r: &Prepared, extra: &'static [(&'static str, &'static str)]) -> String {
    let mut out = Vec::new();
    r.encode(&Pairs(extra), &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn requests_carry_the_line_host_headers_and_body() {
    let text = encoded(&route(Method::POST, &[("x-a", "1")], "hi"), &[]);
    assert_eq!(
        text,
        concat!(
            "POST /a?b=1 HTTP/1.1\r\nx-a: 1\r\nuser-agent: trafficgen/",
            env!("CARGO_PKG_VERSION"),
            "\r\nhost: example.test:8080\r\ncontent-length: 2\r\n\r\nhi"
        )
    );
    assert!(encoded(&route(Method::PUT, &[], ""), &[]).contains("content-length: 0\r\n"));
    assert!(!encoded(&get(), &[]).contains("content-length"));
}

#[test]
fn extra_headers_replace_the_routes_and_a_session_cookie_joins_its_own() {
    let r = route(Method::GET, &[("cookie", "a=1"), ("traceparent", "mine")], "");
    let text = encoded(&r, &[("cookie", "session=2"), ("traceparent", "00-x")]);
    assert!(text.contains("\r\ncookie: a=1; session=2\r\n"), "{text}");
    assert!(text.contains("\r\ntraceparent: 00-x\r\n") && !text.contains("mine"), "{text}");
    assert_eq!(text.matches("cookie").count(), 1, "{text}");
    let mut h2 = r.request(&Pairs(&[("cookie", "session=2"), ("traceparent", "00-x")]));
    let headers = std::mem::take(h2.headers_mut());
    assert_eq!(
        (headers["cookie"].as_bytes(), headers["traceparent"].as_bytes()),
        (&b"a=1; session=2"[..], &b"00-x"[..])
    );
}

/// A server that answers the first request on one connection with `parts` (written one by one),
/// then closes if `close`; returns the client's connection.
async fn answering(parts: &'static [&'static [u8]], close: bool) -> Conn1 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        while !seen.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            if tcp.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            seen.push(byte[0]);
        }
        for part in parts {
            tcp.write_all(part).await.unwrap();
            tcp.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        if !close {
            // Hold the connection open until the client is done with it.
            let _ = tcp.read(&mut [0u8; 1]).await;
        }
    });
    Conn1::new(Box::new(TcpStream::connect(addr).await.unwrap()))
}

/// Exchange a GET (or HEAD) keeping up to 64 body bytes; status, kept body, whether reusable.
async fn exchange(parts: &'static [&'static [u8]], close: bool, method: Method) -> Result<(u16, String, bool), Failed> {
    let mut conn = answering(parts, close).await;
    let mut body = Vec::new();
    let want = Want { body: 64, headers: true };
    let (status, _, reusable) = conn.exchange(&route(method, &[], ""), &(), want, &mut body).await?;
    Ok((status, String::from_utf8(body).unwrap(), reusable))
}

async fn ok(parts: &'static [&'static [u8]]) -> (u16, String, bool) {
    exchange(parts, false, Method::GET).await.expect("a valid answer")
}

async fn kind(parts: &'static [&'static [u8]], close: bool) -> (ErrorType, bool) {
    let f = exchange(parts, close, Method::GET).await.expect_err("a broken answer");
    (f.kind, f.unanswered)
}

#[tokio::test]
async fn bodies_end_by_length_chunks_or_close() {
    let split: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\nContent-Le", b"ngth: 5\r\n\r\nhe", b"llo"];
    assert_eq!(ok(split).await, (200, "hello".into(), true));
    let chunked: &[&[u8]] =
        &[b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n", b"2;x=y\r\nlo\r\n0\r\nt: 1\r\n\r\n"];
    assert_eq!(ok(chunked).await, (200, "hello".into(), true));
    let close: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\n\r\nhel", b"lo"];
    assert_eq!(exchange(close, true, Method::GET).await.unwrap(), (200, "hello".into(), false));
    let http10: &[&[u8]] = &[b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nhi"];
    assert_eq!(ok(http10).await, (200, "hi".into(), false));
    let closing: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi"];
    assert_eq!(ok(closing).await, (200, "hi".into(), false));
}

#[tokio::test]
async fn heads_without_bodies_and_interim_answers() {
    let no_content: &[&[u8]] = &[b"HTTP/1.1 204 No Content\r\n\r\n"];
    assert_eq!(ok(no_content).await, (204, String::new(), true));
    let head: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n"];
    assert_eq!(exchange(head, false, Method::HEAD).await.unwrap(), (200, String::new(), true));
    let interim: &[&[u8]] = &[b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 201 Created\r\ncontent-length: 1\r\n\r\nx"];
    assert_eq!(ok(interim).await, (201, "x".into(), true));
    let extra: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxy"];
    assert_eq!(ok(extra).await, (200, "x".into(), false), "bytes past the body make the connection unusable");
}

#[tokio::test]
async fn broken_answers_have_their_error_type() {
    assert_eq!(kind(&[], true).await, (ErrorType::Reset, true), "closed without answering: retried when pooled");
    assert_eq!(kind(&[b"HTTP/1.1 200 OK\r\ncont"], true).await, (ErrorType::Reset, false));
    assert_eq!(kind(&[b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nhi"], true).await, (ErrorType::Protocol, false));
    assert_eq!(kind(&[b"garbage\r\n\r\n"], true).await, (ErrorType::Protocol, false));
    assert_eq!(
        kind(&[b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"], true).await,
        (ErrorType::Protocol, false)
    );
    assert_eq!(
        kind(&[b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nhi"], false).await,
        (ErrorType::Protocol, false)
    );
}

#[tokio::test]
async fn headers_are_kept_only_when_wanted() {
    let parts: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 0\r\n\r\n"];
    for wanted in [true, false] {
        let mut conn = answering(parts, false).await;
        let want = Want { body: 0, headers: wanted };
        let (_, headers, _) = conn.exchange(&get(), &(), want, &mut Vec::new()).await.unwrap();
        assert_eq!(headers.get_all("set-cookie").iter().count(), if wanted { 2 } else { 0 });
    }
}

#[test]
fn any_number_of_added_headers_replaces_the_routes_once() {
    const NAMES: [&str; 12] = ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10", "h11"];
    static ADDED: [(&str, &str); 12] = {
        let mut pairs = [("", "new"); 12];
        let mut i = 0;
        while i < 12 {
            pairs[i].0 = NAMES[i];
            i += 1;
        }
        pairs
    };
    let own: Vec<(&'static str, &'static str)> = NAMES.iter().map(|n| (*n, "old")).collect();
    let text = encoded(&route(Method::GET, &own, ""), &ADDED);
    for name in NAMES {
        assert_eq!(text.matches(&format!("\r\n{name}: ")).count(), 1, "{name} once in\n{text}");
        assert!(text.contains(&format!("{name}: new\r\n")), "{name} replaced in\n{text}");
    }
    assert!(!text.contains("old"), "{text}");
}
