//! The fault suite, against the built binary: exit codes, memory (peak RSS from /proc), logs,
//! signals, and every bad input. Waits on readiness (hit counters, log lines), never on sleeps.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::standin::{serve, Fault};
use crate::support::{bin, closed_port, target};

/// Peak memory any fault may cost the generator (the binary alone is about 10 MB).
const MEMORY_BOUND_KB: u64 = 64 << 10;

/// What a finished run of the binary left.
struct Finished {
    code: i32,
    stdout: String,
    stderr: String,
    peak_kb: u64,
}

/// Run the binary to its end, sampling its peak RSS (VmHWM) while it runs.
fn measured(cmd: &mut Command) -> Finished {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let drain = |r: Box<dyn Read + Send>| std::thread::spawn(move || std::io::read_to_string(r).unwrap_or_default());
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(hwm) = std::fs::read_to_string(&status).ok().and_then(|s| vm_hwm(&s)) {
            peak_kb = peak_kb.max(hwm);
        }
        match child.try_wait().unwrap() {
            Some(status) => break status.code().unwrap_or(-1),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("the run did not end within 60 s");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Finished { code, stdout: out.join().unwrap(), stderr: err.join().unwrap(), peak_kb }
}

fn vm_hwm(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix(" kB")?.parse().ok())
}

fn json(run: &Finished) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr))
}

fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.args(["--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_target_costs_timeouts_and_drops_not_memory() {
    let (addr, accepted) = serve(Fault::Silent).await;
    let url = format!("http://{addr}/");
    let args = ["--rate", "500", "--duration", "2s", "--timeout", "500ms", "--max-in-flight", "50", &url];
    let run = measured(quiet(&mut bin()).args(args));
    let v = json(&run);
    eprintln!("FAULT accept, never answer: {} peak_rss={} kB", run.stdout.trim(), run.peak_kb);
    assert_eq!(run.code, 3, "nothing succeeded: {}", run.stderr);
    let (requests, dropped) = (v["requests"].as_u64().unwrap(), v["dropped"].as_u64().unwrap());
    assert_eq!(v["error_types"]["timeout"].as_u64(), Some(requests), "{v}");
    assert!(dropped > 0, "sends beyond --max-in-flight are dropped: {v}");
    assert_eq!(requests + dropped, 1000, "every tick is sent or dropped: {v}");
    // At most 50 in flight, each for 500 ms, over 2.5 s.
    assert!(requests <= 50 * 6, "in flight is bounded: {v}");
    assert!(accepted.load(Ordering::Relaxed) <= requests);
    assert!(run.peak_kb < MEMORY_BOUND_KB, "peak RSS {} kB", run.peak_kb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_and_huge_bodies_are_streamed() {
    let (addr, _) = serve(Fault::Endless).await;
    let run = measured(
        quiet(&mut bin()).args(["--rate", "10", "--requests", "3", "--timeout", "1s"]).arg(format!("http://{addr}/")),
    );
    eprintln!("FAULT endless body: {} peak_rss={} kB", run.stdout.trim(), run.peak_kb);
    assert_eq!(json(&run)["error_types"]["timeout"], 3, "{}", run.stdout);
    assert!(run.peak_kb < MEMORY_BOUND_KB, "peak RSS {} kB", run.peak_kb);
    let (addr, _) = serve(Fault::Big(200 << 20)).await;
    let run = measured(
        quiet(&mut bin()).args(["--rate", "10", "--requests", "2", "--timeout", "50s"]).arg(format!("http://{addr}/")),
    );
    eprintln!("FAULT 200 MB body: {} peak_rss={} kB", run.stdout.trim(), run.peak_kb);
    assert_eq!((run.code, json(&run)["ok"].as_u64()), (0, Some(2)), "{}", run.stderr);
    assert!(run.peak_kb < MEMORY_BOUND_KB, "peak RSS {} kB", run.peak_kb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_error_is_logged_at_once_then_counted_by_type() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let run = measured(bin().args(["--metrics-addr", "off", "--rate", "100", "--duration", "1s"]).args([
        "--progress-interval",
        "200ms",
        &url,
    ]));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let first: Vec<&str> = run.stderr.lines().filter(|l| l.contains("first connect error")).collect();
    assert_eq!(first.len(), 1, "{}", run.stderr);
    assert!(first[0].contains("Connection refused"), "the OS error is in the log: {}", first[0]);
    let progress: Vec<&str> = run.stderr.lines().filter(|l| l.contains("(connect=")).collect();
    assert!(progress.len() >= 3, "progress lines count errors by type: {}", run.stderr);
    eprintln!("FAULT first-error log: {}\n{}", first[0], progress[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_port_taken_is_a_runtime_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (addr, hits) = target().await;
    let port = taken.local_addr().unwrap().to_string();
    let run = measured(bin().args(["--metrics-addr", &port, "--requests", "1", &format!("http://{addr}/ok")]));
    eprintln!("FAULT metrics port taken: exit {}", run.code);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot serve metrics on"), "{}", run.stderr);
    assert_eq!(hits.total.load(Ordering::Relaxed), 0);
}

/// Start a run under load, wait until the target has seen `hits` requests, send `signal`.
fn signalled(url: &str, extra: &[&str], hits: &std::sync::atomic::AtomicU64, signal: &str) -> std::process::Child {
    let mut child = quiet(&mut bin())
        .args(["--rate", "100"])
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::Relaxed) < 5 {
        assert!(Instant::now() < deadline, "no load within 10 s");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success());
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sigint_print_the_summary_and_exit_128_plus_the_signal() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/sleep/50");
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        hits.total.store(0, Ordering::Relaxed);
        let child = signalled(&url, &["--drain-timeout", "5s"], &hits.total, signal);
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("FAULT {signal} under load: exit {:?}: {}", out.status.code(), stdout.trim());
        assert_eq!(out.status.code(), Some(code), "{stdout}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("the summary is printed");
        assert_eq!(v["interrupted"], true);
        assert_eq!(v["requests"], v["ok"], "in-flight requests were drained: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_during_a_slow_drain_exits_at_once() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/sleep/30000");
    let mut child = signalled(&url, &["--drain-timeout", "60s"], &hits.total, "-TERM");
    let (lines, seen) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || stderr.lines().map_while(Result::ok).for_each(|l| drop(lines.send(l))));
    let started = Instant::now();
    // The drain has begun once the run says so; then the second signal.
    while !seen.recv_timeout(Duration::from_secs(10)).expect("drain log line").contains("draining in-flight") {}
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let code = child.wait().unwrap().code();
    eprintln!("FAULT second signal during a 60 s drain: exit {code:?} after {:?}", started.elapsed());
    assert_eq!(code, Some(130));
    assert!(started.elapsed() < Duration::from_secs(20), "the second signal cut the 60 s drain short");
}
