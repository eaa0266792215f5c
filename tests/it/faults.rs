//! The fault suite, in process: each fault of a target or a resolver, the counts it must come
//! to, and recovery without a restart. Loopback only; every run is bounded by [`BOUND`].
//! Each test prints `FAULT <name>: ...` with what it observed (see with `--nocapture`).

use std::future::pending;
use std::net::SocketAddr;
use std::time::Duration;

use trafficgen::commands::cli::plan_from;
use trafficgen::output::report::Summary;

use crate::standin::{dns, serve, serve_on, Dns, Fault};
use crate::support::{closed_addr, closed_port, http_get};

/// No fault may make a run last longer than this.
const BOUND: Duration = Duration::from_secs(30);

const QUIET: [&str; 6] = ["--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"];

async fn run(args: &[&str]) -> Summary {
    run_resolving(args, None).await
}

/// A run whose names are resolved by `nameserver` when given.
async fn run_resolving(args: &[&str], nameserver: Option<SocketAddr>) -> Summary {
    let argv = ["trafficgen"].into_iter().chain(QUIET).chain(args.iter().copied());
    let plan = plan_from(argv, Vec::new()).expect("valid test config").with_nameserver(nameserver);
    tokio::time::timeout(BOUND, trafficgen::run(plan, pending())).await.expect("bounded").expect("run completes")
}

pub(crate) fn observed(fault: &str, s: &Summary) {
    eprintln!(
        "FAULT {fault}: requests={} ok={} errors={:?} dropped={} status={:?}",
        s.requests(),
        s.ok(),
        s.error_types(),
        s.dropped(),
        s.status_codes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_down_from_the_start() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let s = run(&["--rate", "200", "--requests", "20", &url]).await;
    observed("target down from the start", &s);
    assert_eq!((s.error_types()["connect"], s.errors(), s.ok()), (20, 20, 0));
    assert!(!s.passed(), "{s:?}");
    assert!(s.verdict().starts_with("FAILED (no request succeeded)"), "{}", s.verdict());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_answer_has_its_error_type() {
    for (name, fault, expected) in [
        ("RST right after accept", Fault::ResetAfterAccept, "reset"),
        ("RST mid-response", Fault::ResetMidResponse, "reset"),
        ("garbage status line", Fault::GarbageStatus, "protocol"),
        ("invalid chunking", Fault::BadChunk, "protocol"),
        ("short body", Fault::ShortBody, "protocol"),
        ("100% 5xx", Fault::Status500, "http_5xx"),
    ] {
        let (addr, accepted) = serve(fault).await;
        let s = run(&["--rate", "200", "--requests", "20", &format!("http://{addr}/")]).await;
        observed(name, &s);
        assert_eq!(s.error_types().get(expected), Some(&20), "{name}: {s:?}");
        assert_eq!((s.errors(), s.ok()), (20, 0), "{name}: only {expected}: {s:?}");
        assert!(accepted.load(std::sync::atomic::Ordering::Relaxed) > 0);
        assert!(!s.passed(), "{name}: nothing succeeded, no thresholds: the run fails");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_comes_back_is_used_again() {
    let addr = closed_addr();
    let metrics = closed_addr();
    let url = format!("http://{addr}/");
    let argv = ["trafficgen", "--rate", "100", "--progress-interval", "0s", "--output", "json", "--timeout", "1s"];
    let plan = plan_from(argv.into_iter().chain(["--metrics-addr", &metrics.to_string(), &url]), Vec::new()).unwrap();
    // The run ends when /metrics shows 20 successes after the target came back up.
    let recovered = async move {
        wait_for_metric(metrics, r#"error_type="connect""#, 1).await;
        let listener = tokio::net::TcpListener::bind(addr).await.expect("the target's port is free again");
        let _accepted = serve_on(listener, Fault::Ok);
        wait_for_metric(metrics, r#"http_response_status_code="200""#, 20).await;
    };
    let s = tokio::time::timeout(BOUND, trafficgen::run(plan, recovered)).await.expect("bounded").unwrap();
    observed("target down, then up mid-run", &s);
    assert!(s.error_types()["connect"] > 0, "{s:?}");
    assert!(s.ok() >= 20, "{s:?}");
    assert!(s.interrupted());
}

/// Wait until the count of the request histogram series matching `needle` reaches `at_least`.
async fn wait_for_metric(addr: SocketAddr, needle: &'static str, at_least: u64) {
    loop {
        let text = tokio::task::spawn_blocking(move || http_get(addr, "/metrics")).await.unwrap().unwrap_or_default();
        let count: u64 = text
            .lines()
            .filter(|l| l.starts_with("http_client_request_duration_seconds_count{") && l.contains(needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        if count >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_stack_names_fall_back_to_the_address_that_answers() {
    // localhost is ::1 and 127.0.0.1; the target listens on 127.0.0.1 only.
    let (addr, _) = serve(Fault::Ok).await;
    let url = format!("http://localhost:{}/", addr.port());
    let s = run(&["--rate", "400", "--requests", "40", "--connections", "8", &url]).await;
    observed("dual-stack fall-back", &s);
    assert_eq!((s.ok(), s.errors()), (40, 0), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxdomain_and_a_silent_resolver_are_dns_errors() {
    let (server, queries) = dns(Dns::NxDomain).await;
    let s = run_resolving(&["--rate", "100", "--requests", "10", "http://nowhere.test/"], Some(server)).await;
    observed("NXDOMAIN", &s);
    assert_eq!((s.error_types()["dns"], s.ok()), (10, 0), "{s:?}");
    assert!(queries.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let (server, queries) = dns(Dns::Silent).await;
    let args = ["--rate", "100", "--requests", "3", "--timeout", "5s", "http://nowhere.test/"];
    let s = run_resolving(&args, Some(server)).await;
    observed("silent resolver", &s);
    assert_eq!((s.error_types()["dns"], s.ok()), (3, 0), "{s:?}");
    assert!(queries.load(std::sync::atomic::Ordering::Relaxed) > 0);
}
