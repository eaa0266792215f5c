//! Every bad input of issue 11, and a property test over flags, env values (non-UTF-8 included)
//! and scenario files: the generator never panics or aborts; it exits 2 within 1 s without
//! connecting, or it runs.

use std::ffi::OsString;
use std::net::TcpListener;
use std::os::unix::ffi::OsStringExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::support::{bin, target};

/// Cases of the in-process property (the parse path `trafficgen` takes before it sends).
const CASES: u32 = 256;
/// Cases run through the real binary: each costs a process and up to a second.
const BINARY_CASES: u32 = 6;

/// Run the binary with exactly `env`; its code (or `None` while it still runs after 1 s) and stderr.
fn within_a_second(args: &[OsString], env: &[(OsString, OsString)]) -> (Option<i32>, Duration, String) {
    let mut child = bin()
        .current_dir(std::env::temp_dir())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.code().is_some(), "killed by a signal (abort?): {status:?}");
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(1) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = child.stderr.take().map(|e| std::io::read_to_string(e).unwrap_or_default()).unwrap_or_default();
    (code, started.elapsed(), stderr)
}

fn os(pairs: &[(&str, &[u8])]) -> Vec<(OsString, OsString)> {
    pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from_vec(v.to_vec()))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_exits_2_at_once_without_sending() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    let dir = std::env::temp_dir().join(format!("trafficgen-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deep = dir.join("deep.yaml");
    std::fs::write(&deep, "[".repeat(100_000)).unwrap();
    let deep = deep.to_str().unwrap();
    for (args, env, needle) in [
        (
            vec!["--connections", "4294967296000"],
            vec![],
            "--connections=\"4294967296000\": expected a whole number from 1 to 10000",
        ),
        (vec!["--connections", "18446744073709551615"], vec![], "from 1 to 10000"),
        (vec!["--connections", "100000000"], vec![], "from 1 to 10000"),
        (vec!["--rate", "max", "--concurrency", "9223372036854775807", "--duration", "1s"], vec![], "--concurrency"),
        (vec!["--max-in-flight", "1000000000000"], vec![], "from 1 to 100000"),
        (vec!["--shards", "4294967296"], vec![], "from 1 to 1000"),
        (vec!["--requests", "100000000000000000000"], vec![], "--requests"),
        (vec![], vec![("TRAFFICGEN_RATE", &b"\xff"[..])], "invalid TRAFFICGEN_RATE: the value is not valid UTF-8"),
        (vec![], vec![("TRAFFICGEN_DURATION", &b""[..])], "invalid TRAFFICGEN_DURATION=\"\""),
        (vec!["--scenario", deep], vec![], "nested deeper than 64 levels"),
        (vec!["--scenario", "/dev/zero"], vec![], "larger than 1024 KiB"),
        (vec!["--body", "@/dev/zero"], vec![], "at most 16 MiB"),
        (vec!["--http2=true"], vec![], "--http2"),
    ] {
        let mut argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        if !args.contains(&"--scenario") {
            argv.push(url.clone().into());
        }
        let (code, took, stderr) = within_a_second(&argv, &os(&env));
        eprintln!("FAULT bad input {args:?} {env:?}: exit {code:?} in {took:?}: {}", stderr.trim());
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert_eq!(hits.total.load(Ordering::Relaxed), 0, "a bad input sends nothing");
    // Variables that are not trafficgen's are never read, whatever their bytes; switches never eat the URL.
    let env = os(&[("FOO", b"\xff\xfe"), ("\u{e9}", b"\xc3")]);
    let args: Vec<OsString> = ["--requests", "2", "--metrics-addr", "off", "--http2", "--insecure", url.as_str()]
        .iter()
        .map(OsString::from)
        .collect();
    let out = bin().env_clear().envs(env).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(hits.total.load(Ordering::Relaxed), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The options, spelled as flags; env names are `TRAFFICGEN_` + upper case.
const OPTIONS: [&str; 35] = [
    "rate",
    "concurrency",
    "duration",
    "requests",
    "connections",
    "max-in-flight",
    "timeout",
    "method",
    "header",
    "body",
    "http2",
    "insecure",
    "cacert",
    "resolve",
    "metrics-addr",
    "output",
    "summary-file",
    "progress-interval",
    "log-format",
    "threshold",
    "scenario",
    "classify",
    "classify-header",
    "classify-preset",
    "expect-split",
    "drain-timeout",
    "linger",
    "mesh-shutdown",
    "wait-for",
    "wait-timeout",
    "pushgateway",
    "run-id",
    "shards",
    "shard-index",
    "url",
];

/// Values worth trying: bounds, their neighbours, units, files that never end, text, bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    let picked = prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "10",
        "max",
        "1e7",
        "1e8",
        "NaN",
        "inf",
        "10000",
        "10001",
        "100000",
        "100001",
        "18446744073709551615",
        "9223372036854775807",
        "4294967296000",
        "1s",
        "0s",
        "100y",
        "30",
        "",
        " ",
        "true",
        "false",
        "yes",
        "@/dev/zero",
        "@/nonexistent",
        "/dev/zero",
        "/nonexistent",
        "text",
        "json",
        "none",
        "auto",
        "p99<300ms",
        "error_rate<1%",
        "v1=1,v2=1",
        "a=(x",
        "x-a: 1",
        "h:1:127.0.0.1",
        "http://a/",
        "ftp://a/",
        "http://[::1",
        "localhost:0",
    ])
    .prop_map(|s| s.as_bytes().to_vec());
    prop_oneof![4 => picked, 1 => "[ -~]{0,16}".prop_map(String::into_bytes), 1 => prop::collection::vec(1u8..=255, 0..8)]
}

/// A scenario file's text: valid, deeply nested, random or not UTF-8.
fn scenario() -> impl Strategy<Value = Vec<u8>> {
    let valid = "routes:\n  - name: a\n    url: http://127.0.0.1:9/\n    weight: 2\n".to_string();
    prop_oneof![
        Just(valid.into_bytes()),
        (0usize..300, prop::sample::select(vec!["[", "{a: ", "- ", "  "])).prop_map(|(n, s)| s.repeat(n).into_bytes()),
        "[ -~\n]{0,200}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Argv, env and an optional scenario file of one case; the URL points at `port`.
type Case = (Vec<(usize, Vec<u8>)>, Vec<(usize, Vec<u8>)>, Option<Vec<u8>>);

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0..OPTIONS.len() + 2, value()), 0..6),
        prop::collection::vec((0..OPTIONS.len() + 2, value()), 0..4),
        prop::option::of(scenario()),
    )
}

static FILES: AtomicU64 = AtomicU64::new(0);

/// The case as argv and env; `OPTIONS.len()` stands for an unknown flag, `+1` for a bare value.
fn materialize(case: &Case, url: &str) -> (Vec<OsString>, Vec<(OsString, OsString)>, Option<std::path::PathBuf>) {
    let (flags, vars, file) = case;
    let mut argv: Vec<OsString> = vec!["trafficgen".into()];
    for (i, v) in flags {
        match OPTIONS.get(*i) {
            Some(name) => argv.push(format!("--{name}").into()),
            None if *i == OPTIONS.len() => argv.push("--bogus".into()),
            None => {}
        }
        argv.push(OsString::from_vec(v.clone()));
    }
    argv.push(url.into());
    let env = vars
        .iter()
        .map(|(i, v)| {
            let name = OPTIONS
                .get(*i)
                .map_or("FOO".to_string(), |n| format!("TRAFFICGEN_{}", n.replace('-', "_").to_uppercase()));
            (OsString::from(name), OsString::from_vec(v.iter().copied().filter(|b| *b != 0).collect()))
        })
        .collect();
    let path = file.as_ref().map(|text| {
        let n = FILES.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("trafficgen-prop-{}-{n}.yaml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        argv.push("--scenario".into());
        argv.push(path.clone().into());
        path
    });
    (argv, env, path)
}

/// A loopback listener that counts the connections made to it.
fn counting_listener() -> (String, std::sync::Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        listener.incoming().for_each(|_| {
            count.fetch_add(1, Ordering::Relaxed);
        })
    });
    (url, accepted)
}

#[test]
fn parsing_never_panics_and_rejects_fast_without_connecting() {
    let (url, accepted) = counting_listener();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(case in case())| {
        let (argv, env, file) = materialize(&case, &url);
        let started = Instant::now();
        let parsed = runtime.block_on(trafficgen::commands::cli::parse(argv, env));
        prop_assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
        if let Err(e) = parsed {
            prop_assert!(!e.to_string().is_empty());
        }
        if let Some(path) = file {
            let _ = std::fs::remove_file(path);
        }
    });
    assert_eq!(accepted.load(Ordering::Relaxed), 0, "parsing connects nowhere");
    eprintln!("PROPTEST in-process cases: {CASES}");
}

#[test]
fn the_binary_never_panics_and_exits_2_fast_or_runs() {
    let (url, accepted) = counting_listener();
    let config = ProptestConfig { cases: BINARY_CASES, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(case in case())| {
        let (argv, mut env, file) = materialize(&case, &url);
        // Defaults that keep parallel tests apart; a generated variable of the same name wins.
        env.insert(0, ("TRAFFICGEN_METRICS_ADDR".into(), "127.0.0.1:0".into()));
        env.insert(0, ("TRAFFICGEN_MESH_SHUTDOWN".into(), "none".into()));
        env.retain(|(k, _)| !k.is_empty() && !k.as_encoded_bytes().contains(&b'='));
        let before = accepted.load(Ordering::Relaxed);
        let (code, took, stderr) = within_a_second(&argv[1..], &env);
        match code {
            None => {} // it runs
            Some(2) => {
                prop_assert!(took < Duration::from_secs(1));
                prop_assert_eq!(accepted.load(Ordering::Relaxed), before, "exit 2 after connecting: {}", stderr);
            }
            Some(c) => prop_assert!((0..=3).contains(&c), "exit {} (a panic is 101): {}", c, stderr),
        }
        if let Some(path) = file {
            let _ = std::fs::remove_file(path);
        }
    });
    eprintln!("PROPTEST binary cases: {BINARY_CASES}");
}
