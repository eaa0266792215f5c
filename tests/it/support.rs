//! Shared helpers: an in-process axum target, a raw HTTP GET, the built binary, external tools.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{StatusCode, Version};
use axum::routing::{get, post};
use axum::Router;

/// What the target saw.
#[derive(Debug, Default)]
pub(crate) struct Hits {
    pub(crate) total: AtomicU64,
    pub(crate) h2: AtomicU64,
    pub(crate) quits: AtomicU64,
    pub(crate) probes: AtomicU64,
}

/// A target with `/ok`, `/status/{code}`, `/sleep/{ms}`; returns its address and hit counters.
pub(crate) async fn target() -> (SocketAddr, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/status/{code}", get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap() }))
        .route(
            "/sleep/{ms}",
            get(|Path(ms): Path<u64>| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slept"
            }),
        )
        .route(
            "/quitquitquit",
            post(|State(hits): State<Arc<Hits>>| async move {
                hits.quits.fetch_add(1, Ordering::Relaxed);
                "bye"
            }),
        )
        .route(
            "/ready-after/{n}",
            get(|State(hits): State<Arc<Hits>>, Path(n): Path<u64>| async move {
                let seen = hits.probes.fetch_add(1, Ordering::Relaxed) + 1;
                if seen > n {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(hits.clone(), count))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

async fn count(
    State(hits): State<Arc<Hits>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    hits.total.fetch_add(1, Ordering::Relaxed);
    if req.version() == Version::HTTP_2 {
        hits.h2.fetch_add(1, Ordering::Relaxed);
    }
    next.run(req).await
}

/// A loopback port nothing listens on, for a server a test starts there. It is picked below
/// Linux's ephemeral range (32768 and up), where the kernel never takes source ports for outgoing
/// connections or `bind(:0)`: between this check and the server's own bind, none of the many
/// connections the tests open can occupy it. Never the same port twice in one test process.
pub(crate) fn closed_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = 20000 + fastrand::u16(..12000);
        let free = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
        if free && GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// A loopback address nothing listens on, for a server the test starts there.
pub(crate) fn closed_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], closed_port()))
}

/// GET `path` on `addr` with HTTP/1.0 and return the body (small responses only).
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

/// The built `trafficgen` binary.
pub(crate) fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_trafficgen"));
    c.env_remove("RUST_LOG");
    c
}

/// Path to an external tool, or `None` after a loud skip message; panics when
/// `TRAFFICGEN_REQUIRE_EXTERNAL=1` so CI cannot pass by skipping.
pub(crate) fn external(tool: &str) -> Option<PathBuf> {
    let found =
        std::env::var_os("PATH").iter().flat_map(std::env::split_paths).map(|dir| dir.join(tool)).find(|p| p.is_file());
    if found.is_none() {
        let msg = format!("SKIPPED: `{tool}` is not installed; install it (see .ci/run) to run this test");
        if std::env::var("TRAFFICGEN_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
            panic!("{msg} (TRAFFICGEN_REQUIRE_EXTERNAL=1)");
        }
        eprintln!("{msg}");
    }
    found
}

/// A child process killed when the test ends, however it ends (a failed assertion included).
pub(crate) struct Killed(Child);

impl Killed {
    /// Spawn `cmd` as it is set up (pipes included).
    pub(crate) fn spawn(cmd: &mut Command) -> Killed {
        Killed(cmd.spawn().expect("spawn"))
    }
}

impl Deref for Killed {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Killed {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawn `cmd` with its output discarded, killed when the test ends.
pub(crate) fn spawn(cmd: &mut Command) -> Killed {
    Killed::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
}

/// A real Prometheus with `config`, its data under `dir`, serving on `addr`; returns once ready.
pub(crate) fn prometheus(
    bin: &std::path::Path,
    config: &std::path::Path,
    dir: &std::path::Path,
    addr: SocketAddr,
) -> Killed {
    prometheus_with(bin, config, dir, addr, &[])
}

/// [`prometheus`] with extra flags, e.g. `--web.enable-remote-write-receiver`.
pub(crate) fn prometheus_with(
    bin: &std::path::Path,
    config: &std::path::Path,
    dir: &std::path::Path,
    addr: SocketAddr,
    extra: &[&str],
) -> Killed {
    let server = spawn(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra),
    );
    eventually(30, "Prometheus to be ready", || http_get(addr, "/-/ready").ok_or("not ready"));
    server
}

/// Poll `f` until it returns `Ok`, for at most `secs` seconds.
pub(crate) fn eventually<T, E: std::fmt::Display>(secs: u64, what: &str, mut f: impl FnMut() -> Result<T, E>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("timed out waiting for {what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}
