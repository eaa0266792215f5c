//! The floor under any open-loop load generator at a fixed rate: keep-alive GETs on one
//! connection, each sent on its tick and its answer read before the next, and nothing else (no
//! runtime, no parsing beyond "an answer came", no figures kept). What this costs per request
//! is what the kernel charges for the exchange (two sleeps, the write, the read); the CPU a
//! generator spends above it is its own.
//!
//! `rustc -O bench/floor.rs -o floor && ./floor 127.0.0.1:18099 1000 10` (address, req/s, s).
//! Prints the requests sent. Every answer from `return 200 "hello\n"` fits one read.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, rate, secs] = &args[..] else {
        eprintln!("usage: floor ADDRESS RATE SECONDS");
        std::process::exit(2);
    };
    let (rate, secs): (u64, u64) = (rate.parse().expect("RATE: req/s"), secs.parse().expect("SECONDS"));
    let request = format!("GET / HTTP/1.1\r\nhost: {addr}\r\n\r\n");
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let mut conn: Option<TcpStream> = None;
    let mut buf = [0u8; 4096];
    let mut sent = 0u64;
    while sent < rate * secs {
        let due = start + interval * sent as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let c = conn.get_or_insert_with(|| {
            let c = TcpStream::connect(addr.as_str()).expect("connect");
            c.set_nodelay(true).expect("nodelay");
            c
        });
        // The server may close a keep-alive connection after so many requests: dial again.
        let answered = c.write_all(request.as_bytes()).is_ok() && c.read(&mut buf).is_ok_and(|n| n > 0);
        if answered {
            sent += 1;
        } else {
            conn = None;
        }
    }
    println!("{sent}");
}
