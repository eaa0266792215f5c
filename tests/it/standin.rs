//! Raw stand-in servers for the fault suite: TCP targets that misbehave in one precise way, and
//! a DNS server on a UDP socket that answers NXDOMAIN or never answers. Loopback only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// How a stand-in target treats each connection.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Accept, then reset at once (SO_LINGER 0), before reading anything.
    ResetAfterAccept,
    /// Read the request, send part of a response, then reset.
    ResetMidResponse,
    /// Accept and read, never answer.
    Silent,
    /// Answer with a status line that is not HTTP.
    GarbageStatus,
    /// Answer with an invalid chunk size.
    BadChunk,
    /// Answer with fewer body bytes than Content-Length, then close.
    ShortBody,
    /// Answer every request 500 (keep-alive).
    Status500,
    /// A chunked body that never ends.
    Endless,
    /// A 200 with a body of this many bytes (keep-alive).
    Big(u64),
    /// A plain 200 "ok" (keep-alive).
    Ok,
}

/// A stand-in target on 127.0.0.1; returns its address and the connections it accepted.
pub(crate) async fn serve(fault: Fault) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, serve_on(listener, fault))
}

/// Serve `fault` on `listener`; returns the count of accepted connections.
pub(crate) fn serve_on(listener: TcpListener, fault: Fault) -> Arc<AtomicU64> {
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(connection(tcp, fault));
        }
    });
    accepted
}

async fn connection(mut tcp: TcpStream, fault: Fault) {
    if let Fault::ResetAfterAccept = fault {
        let _ = tcp.set_zero_linger();
        return;
    }
    while read_head(&mut tcp).await {
        let head: &[u8] = match fault {
            Fault::Silent => {
                // Hold the connection open, reading and discarding, until the client leaves.
                let mut sink = [0u8; 1024];
                while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Fault::ResetMidResponse => b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial",
            Fault::GarbageStatus => b"HELLO WORLD 12\r\n\r\n",
            Fault::BadChunk => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            Fault::ShortBody => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
            Fault::Status500 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
            Fault::Endless => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            Fault::Big(_) | Fault::Ok | Fault::ResetAfterAccept => b"",
        };
        let written = match fault {
            Fault::Big(n) => big(&mut tcp, n).await,
            Fault::Ok => tcp.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await.is_ok(),
            Fault::Endless => tcp.write_all(head).await.is_ok() && endless(&mut tcp).await,
            _ => tcp.write_all(head).await.is_ok(),
        };
        match fault {
            Fault::ResetMidResponse => {
                let _ = tcp.flush().await;
                let _ = tcp.set_zero_linger();
                return;
            }
            Fault::GarbageStatus | Fault::BadChunk | Fault::ShortBody => return,
            _ if !written => return,
            _ => {}
        }
    }
}

/// Read one request head; false when the client closed the connection.
async fn read_head(tcp: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tcp.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

async fn big(tcp: &mut TcpStream, n: u64) -> bool {
    let chunk = vec![b'x'; 64 << 10];
    if tcp.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").as_bytes()).await.is_err() {
        return false;
    }
    let mut left = n;
    while left > 0 {
        let len = left.min(chunk.len() as u64) as usize;
        if tcp.write_all(&chunk[..len]).await.is_err() {
            return false;
        }
        left -= len as u64;
    }
    true
}

async fn endless(tcp: &mut TcpStream) -> bool {
    let mut chunk = format!("{:x}\r\n", 64 << 10).into_bytes();
    chunk.extend(vec![b'x'; 64 << 10]);
    chunk.extend(b"\r\n");
    while tcp.write_all(&chunk).await.is_ok() {}
    false
}

/// How the stand-in DNS server answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dns {
    /// Every name does not exist.
    NxDomain,
    /// Queries are read and never answered.
    Silent,
}

/// A DNS server on a UDP socket of 127.0.0.1; returns its address and the queries it received.
pub(crate) async fn dns(mode: Dns) -> (SocketAddr, Arc<AtomicU64>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let queries = Arc::new(AtomicU64::new(0));
    let count = queries.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            count.fetch_add(1, Ordering::Relaxed);
            if mode == Dns::NxDomain {
                if let Some(answer) = nxdomain(&buf[..n]) {
                    let _ = socket.send_to(&answer, from).await;
                }
            }
        }
    });
    (addr, queries)
}

/// The NXDOMAIN answer to `query`: its id and question, QR and RA set, RCODE 3, no records.
fn nxdomain(query: &[u8]) -> Option<Vec<u8>> {
    let mut end = 12;
    while *query.get(end)? != 0 {
        end += 1 + usize::from(query[end]);
    }
    let question = query.get(12..end + 5)?;
    let mut answer = vec![query[0], query[1], 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0];
    answer.extend_from_slice(question);
    Some(answer)
}
