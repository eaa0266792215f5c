use super::*;
use crate::net::client::Pin;
use bytes::Bytes;

fn env(pairs: &[(&str, &str)]) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
}

/// The run options alone, as clap reads them (the `run` word of the real command line dropped).
fn plan(args: &[&str], vars: &[(&str, &str)]) -> Result<Plan, ConfigError> {
    use clap::Args;
    let argv = std::iter::once("trafficgen").chain(args.iter().copied().skip_while(|a| *a == "run"));
    let cmd = settings::RawConfig::augment_args(clap::Command::new("trafficgen")).allow_negative_numbers(true);
    let matches = cmd.try_get_matches_from(argv).map_err(|e| ConfigError::Usage(e.to_string()))?;
    Plan::from_layered(&settings::layer(&matches, env(vars))?)
}

fn err(args: &[&str], vars: &[(&str, &str)]) -> String {
    plan(args, vars).expect_err("config should be rejected").to_string()
}

#[test]
fn defaults_and_flags() {
    let p = plan(&["http://productpage:9080/productpage"], &[]).unwrap();
    assert_eq!(p.load().mode(), Load::Open { rate: 10.0 });
    assert_eq!(p.target().routes()[0].name, "/productpage");
    assert_eq!(p.output().metrics_addr(), Some("0.0.0.0:9464".parse().unwrap()));
    assert_eq!(p.client().timeout(), Duration::from_secs(10));
    assert!(!p.client().options().http2);
    let p =
        plan(&["run", "--rate", "150.5", "--duration", "10m", "--http2", "-H", "x-a: 1", "http://a/"], &[]).unwrap();
    assert_eq!(p.load().mode(), Load::Open { rate: 150.5 });
    assert_eq!(p.load().duration(), Some(Duration::from_secs(600)));
    assert!(p.client().options().http2);
    assert_eq!(p.target().routes()[0].headers["x-a"], "1");
    let p = plan(&["--rate", "max", "--concurrency", "4", "http://a"], &[]).unwrap();
    assert_eq!(p.load().mode(), Load::Closed { concurrency: NonZeroUsize::new(4).unwrap() });
}

#[test]
fn env_sets_and_flags_override() {
    let vars = [
        ("TRAFFICGEN_RATE", "42"),
        ("TRAFFICGEN_URL", "http://a/x,http://b/y"),
        ("PRODUCTPAGE_PORT", "tcp://1.2.3.4:9080"),
    ];
    let p = plan(&[], &vars).unwrap();
    assert_eq!(p.load().mode(), Load::Open { rate: 42.0 });
    assert_eq!(p.target().routes().len(), 2);
    let p = plan(&["--rate", "7"], &vars).unwrap();
    assert_eq!(p.load().mode(), Load::Open { rate: 7.0 });
    let p = plan(&["--metrics-addr", "off", "http://a"], &[("TRAFFICGEN_HTTP2", "true")]).unwrap();
    assert_eq!(p.output().metrics_addr(), None);
    assert!(p.client().options().http2);
}

#[test]
fn bad_values_name_the_setting_value_and_expectation() {
    let url = "http://a/";
    for (args, needle) in [
        (vec!["--rate", "abc", url], "invalid --rate=\"abc\": expected a positive number"),
        (vec!["--rate", "-5", url], "--rate=\"-5\""),
        (vec!["--rate", "NaN", url], "--rate=\"NaN\""),
        (vec!["--rate", "0", url], "--rate=\"0\""),
        (vec!["--rate", "1e-300", url], "--rate=\"1e-300\""),
        (vec!["--duration", "500000000000y", url], "invalid --duration=\"500000000000y\""),
        (vec!["https://a..b/"], "invalid URL=\"https://a..b/\""),
        (vec!["http://user:pw@a/"], "invalid URL=\"http://user:pw@a/\""),
        (vec!["--duration", "ten minutes", url], "invalid --duration=\"ten minutes\": expected a duration"),
        (vec!["productpage:9080/x"], "invalid URL=\"productpage:9080/x\": expected an absolute URL with a scheme: did you mean http://productpage:9080/x?"),
        (vec!["ftp://a/"], "URL=\"ftp://a/\""),
        (vec!["http:///nohost"], "URL=\"http:///nohost\""),
        (vec!["-H", "novalue", url], "invalid --header=\"novalue\": expected NAME: VALUE"),
        (vec!["--body", "@/does/not/exist", url], "invalid --body=\"@/does/not/exist\""),
        (vec!["--resolve", "a:b:c", url], "invalid --resolve=\"a:b:c\": expected HOST:PORT:ADDR"),
        (vec!["--metrics-addr", "9464", url], "invalid --metrics-addr=\"9464\""),
        (vec!["--threshold", "p99<<3", url], "invalid --threshold=\"p99<<3\""),
        (vec!["--threshold", "latency<3ms", url], "unknown metric"),
        (vec!["--concurrency", "0", "--rate", "max", url], "invalid --concurrency=\"0\""),
        (vec!["--output", "yaml", url], "invalid --output=\"yaml\": expected text or json"),
        (vec!["--cacert", "/nonexistent.pem", url], "invalid --cacert"),
    ] {
        let e = err(&args, &[]);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

#[test]
fn env_errors_name_the_env_var() {
    let e = err(&["http://a"], &[("TRAFFICGEN_RATE", "fast")]);
    assert!(e.contains("invalid TRAFFICGEN_RATE=\"fast\""), "{e}");
    let e = err(&[], &[("TRAFFICGEN_URL", "nope")]);
    assert!(e.contains("invalid TRAFFICGEN_URL=\"nope\""), "{e}");
    let e = err(&["http://a"], &[("TRAFFICGEN_MAX_IN_FLIGHT", "-1")]);
    assert!(e.contains("TRAFFICGEN_MAX_IN_FLIGHT=\"-1\""), "{e}");
    let e = err(&["http://a"], &[("TRAFFICGEN_THRESHOLD", "p99")]);
    assert!(e.contains("TRAFFICGEN_THRESHOLD=\"p99\""), "{e}");
}

#[test]
fn missing_url_and_unknown_flag() {
    assert!(err(&[], &[]).contains("no target URL: give one"));
    assert!(err(&["--bogus", "http://a"], &[]).contains("--bogus"));
}

#[test]
fn pins_and_bodies() {
    let p =
        plan(&["--resolve", "productpage:9080:127.0.0.1", "--resolve", "h:443:[::1]", "--body", "hi", "http://a"], &[])
            .unwrap();
    assert_eq!(
        p.client().options().pins[0],
        Pin { host: "productpage".into(), port: 9080, addr: "127.0.0.1:9080".parse().unwrap() }
    );
    assert_eq!(p.client().options().pins[1].addr, "[::1]:443".parse().unwrap());
    assert_eq!(p.target().routes()[0].body, Bytes::from_static(b"hi"));
    let p =
        plan(&["--resolve", "productpage:9080:127.0.0.1:34567", "--resolve", "h:1:[::1]:2", "http://a"], &[]).unwrap();
    assert_eq!(p.client().options().pins[0].addr, "127.0.0.1:34567".parse().unwrap());
    assert_eq!(p.client().options().pins[1].addr, "[::1]:2".parse().unwrap());
}

#[test]
fn shards_split_rate_and_requests() {
    let args = ["--rate", "150", "--requests", "1000", "--shards", "4", "http://a"];
    let parts: Vec<Plan> = (0..4).map(|i| plan(&args, &[("JOB_COMPLETION_INDEX", &i.to_string())]).unwrap()).collect();
    let rates: f64 = parts
        .iter()
        .map(|p| match p.load().mode() {
            Load::Open { rate } => rate,
            _ => 0.0,
        })
        .sum();
    assert!((rates - 150.0).abs() < 1e-9);
    assert_eq!(parts.iter().map(|p| p.load().requests().unwrap()).collect::<Vec<_>>(), vec![250, 250, 250, 250]);
    let odd: Vec<u64> = (0..3)
        .map(|i| {
            plan(&["--requests", "10", "--shards", "3", "--shard-index", &i.to_string(), "http://a"], &[])
                .unwrap()
                .load()
                .requests()
                .unwrap()
        })
        .collect();
    assert_eq!(odd, vec![4, 3, 3]);
    assert_eq!(parts[3].cluster().shard(), Shard { index: 3, count: 4 });
    // TRAFFICGEN_SHARD_INDEX wins over the Job's index.
    let p = plan(&["--shards", "2", "http://a"], &[("JOB_COMPLETION_INDEX", "0"), ("TRAFFICGEN_SHARD_INDEX", "1")])
        .unwrap();
    assert_eq!(p.cluster().shard().index, 1);
}

#[test]
fn bad_cluster_settings() {
    let e = err(&["--shards", "3", "http://a"], &[]);
    assert!(e.contains("--shard-index") && e.contains("JOB_COMPLETION_INDEX"), "{e}");
    let e = err(&["--shards", "3", "http://a"], &[("JOB_COMPLETION_INDEX", "3")]);
    assert!(e.contains("invalid TRAFFICGEN_SHARD_INDEX=\"3\": expected a whole number below 3"), "{e}");
    for (args, needle) in [
        (vec!["--mesh-shutdown", "consul", "http://a"], "invalid --mesh-shutdown=\"consul\""),
        (vec!["--linger", "forever", "http://a"], "invalid --linger=\"forever\""),
        (vec!["--wait-for", "sidecar", "http://a"], "invalid --wait-for=\"sidecar\""),
        (vec!["--pushgateway", "pushgateway:9091", "http://a"], "invalid --pushgateway=\"pushgateway:9091\""),
        (vec!["--run-id", "a b", "http://a"], "invalid --run-id=\"a b\""),
        (vec!["--shards", "0", "http://a"], "invalid --shards=\"0\""),
    ] {
        let e = err(&args, &[]);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    let p = plan(&["--mesh-shutdown", "http://127.0.0.1:15020/quitquitquit", "http://a"], &[]).unwrap();
    assert_eq!(*p.cluster().sidecar(), Sidecar::Url("127.0.0.1:15020".parse().unwrap(), "/quitquitquit".into()));
    assert_eq!(plan(&["http://a"], &[]).unwrap().cluster().sidecar(), &Sidecar::Auto);
}

#[test]
fn boolean_flags_are_switches_and_never_take_the_url() {
    let p = plan(&["--http2", "http://a/x", "--insecure", "https://b/y"], &[]).unwrap();
    assert!(p.client().options().http2 && p.client().options().insecure);
    assert_eq!(p.target().routes().len(), 2);
    assert!(err(&["--http2=true", "http://a/"], &[]).contains("--http2"));
    let p = plan(&["http://a/"], &[("TRAFFICGEN_HTTP2", "false"), ("TRAFFICGEN_INSECURE", "true")]).unwrap();
    assert!(!p.client().options().http2 && p.client().options().insecure);
}

#[test]
fn env_is_read_as_bytes_and_empty_values_are_errors() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let bad = || OsString::from_vec(vec![b'x', 0xff]);
    let layered = |pairs: Vec<(OsString, OsString)>| {
        use clap::Args;
        let cmd = settings::RawConfig::augment_args(clap::Command::new("trafficgen"));
        settings::layer(&cmd.get_matches_from(["trafficgen", "http://a/"]), pairs).map(|_| ())
    };
    // Other variables are never looked at, whatever their bytes.
    assert!(layered(vec![("FOO".into(), bad()), (bad(), bad())]).is_ok());
    let e = layered(vec![("TRAFFICGEN_RATE".into(), bad())]).unwrap_err().to_string();
    assert_eq!(e, "invalid TRAFFICGEN_RATE: the value is not valid UTF-8");
    let e = layered(vec![("JOB_COMPLETION_INDEX".into(), bad())]).unwrap_err().to_string();
    assert!(e.contains("JOB_COMPLETION_INDEX"), "{e}");
    for name in ["TRAFFICGEN_DURATION", "TRAFFICGEN_URL", "TRAFFICGEN_HTTP2"] {
        let e = err(&["http://a/"], &[(name, "")]);
        assert!(e.contains(&format!("invalid {name}=\"\": expected a value")), "{e}");
    }
}

#[test]
fn every_count_has_a_stated_upper_bound() {
    for (args, needle) in [
        (
            vec!["--connections", "4294967296000"],
            "invalid --connections=\"4294967296000\": expected a whole number from 1 to 10000",
        ),
        (vec!["--connections", "18446744073709551615"], "from 1 to 10000"),
        (vec!["--connections", "100000000"], "from 1 to 10000"),
        (
            vec!["--rate", "max", "--concurrency", "9223372036854775807"],
            "--concurrency=\"9223372036854775807\": expected a whole number from 1 to 10000",
        ),
        (vec!["--max-in-flight", "1000001"], "--max-in-flight=\"1000001\": expected a whole number from 1 to 100000"),
        (vec!["--shards", "1001"], "--shards=\"1001\": expected a whole number from 1 to 1000"),
        (vec!["--requests", "18446744073709551615"], "from 1 to 1000000000000"),
    ] {
        let e = err(&[args.as_slice(), &["http://a/"]].concat(), &[]);
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    let e = err(&["http://a/"], &[("TRAFFICGEN_MAX_IN_FLIGHT", "99999999999999999999")]);
    assert!(e.contains("TRAFFICGEN_MAX_IN_FLIGHT") && e.contains("to 100000"), "{e}");
    let dir = std::env::temp_dir().join(format!("trafficgen-urls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("urls.txt");
    std::fs::write(&file, (0..=100_000).map(|i| format!("http://a/{i}\n")).collect::<String>()).unwrap();
    let e = err(&[format!("@{}", file.display()).as_str()], &[]);
    assert!(e.contains("at most 100000 target URLs"), "{e}");
    let e = err(&["@/does/not/exist"], &[]);
    assert!(e.contains("invalid URL=\"@/does/not/exist\": expected @FILE naming a readable file"), "{e}");
    let e = err(&["--body", "@/dev/zero", "http://a/"], &[]);
    assert!(e.contains("at most 16 MiB"), "{e}");
    assert!(err(&["--cacert", "/dev/zero", "http://a/"], &[]).contains("invalid --cacert"));
}

#[test]
fn scenario_files_are_bounded_and_read_after_the_cheap_checks() {
    let dir = std::env::temp_dir().join(format!("trafficgen-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deep = dir.join("deep.yaml");
    std::fs::write(&deep, "[".repeat(100_000)).unwrap();
    let deep = deep.to_str().unwrap();
    let started = std::time::Instant::now();
    let e = err(&["--scenario", deep], &[]);
    assert!(e.contains("line 1: nested deeper than 64 levels"), "{e}");
    // A cheap mistake is reported first: the file is not even read.
    assert!(err(&["--scenario", deep, "--rate", "fast"], &[]).contains("--rate"));
    let big = dir.join("big.yaml");
    std::fs::write(&big, "#".repeat(2 << 20)).unwrap();
    assert!(err(&["--scenario", big.to_str().unwrap()], &[]).contains("larger than 1024 KiB"));
    assert!(err(&["--scenario", "/dev/zero"], &[]).contains("larger than 1024 KiB"));
    let routes: String = (0..101).map(|i| format!("  - {{name: r{i}, url: http://a/}}\n")).collect();
    let many = dir.join("many.yaml");
    std::fs::write(&many, format!("routes:\n{routes}")).unwrap();
    assert!(err(&["--scenario", many.to_str().unwrap()], &[]).contains("at most 100 routes"));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn env_list_items_may_hold_commas() {
    let h = |vars: &[(&str, &str)]| plan(&["http://a/"], vars).unwrap().target().routes()[0].headers.clone();
    let one = h(&[("TRAFFICGEN_HEADER", r"accept: text/html\,application/json")]);
    assert_eq!(one.get_all("accept").iter().collect::<Vec<_>>(), ["text/html,application/json"]);
    // A YAML block in a manifest: one item per line, commas as they are.
    let lines = h(&[("TRAFFICGEN_HEADER", "accept: text/html,application/json\nx-demo: 1\n")]);
    assert_eq!(lines["accept"], "text/html,application/json");
    assert_eq!(lines["x-demo"], "1");
    let plain = plan(&[], &[("TRAFFICGEN_URL", "http://a/x,http://b/y")]).unwrap();
    assert_eq!(plain.target().routes().len(), 2);
}

#[test]
fn stages_set_rate_and_duration_and_shard_per_stage() {
    let p = plan(&["--stages", "30s:0->150, 1m:150, 30s:150->0", "--warmup", "30s", "http://a/"], &[]).unwrap();
    assert_eq!(p.load().duration(), Some(Duration::from_secs(120)));
    // (2250 + 9000 + 2250) requests over 120 s.
    assert_eq!(p.load().mode(), Load::Open { rate: 112.5 });
    assert_eq!(p.load().warmup(), Duration::from_secs(30));
    let env_stages =
        [("TRAFFICGEN_STAGES", "10s:0->90, 10s:90"), ("TRAFFICGEN_SHARDS", "3"), ("JOB_COMPLETION_INDEX", "2")];
    let p = plan(&["http://a/"], &env_stages).unwrap();
    let stages = p.load().stages().unwrap();
    assert_eq!((stages[0].from, stages[0].to, stages[1].from), (0.0, 30.0, 30.0));
    assert_eq!(p.load().mode(), Load::Open { rate: 67.5 / 3.0 });
}

#[test]
fn stages_and_warmup_errors_name_the_setting() {
    for (args, vars, want) in [
        (vec!["--stages", "30s:0->x"], vec![], r#"invalid --stages="30s:0->x": expected DURATION:RATE"#),
        (vec!["--stages", "30s:1", "--rate", "5"], vec![], r#"invalid --rate="5": expected no --rate with --stages"#),
        (vec!["--stages", "30s:1"], vec![("TRAFFICGEN_DURATION", "1m")], r#"invalid TRAFFICGEN_DURATION="1m""#),
        (vec!["--stages", "30s:1", "--warmup", "30s"], vec![], "shorter than the stages' total"),
        (
            vec!["--warmup", "1m", "--duration", "30s"],
            vec![],
            r#"invalid --warmup="1m": expected a warm-up shorter than --duration"#,
        ),
        (vec![], vec![("TRAFFICGEN_WARMUP", "x")], r#"invalid TRAFFICGEN_WARMUP="x""#),
    ] {
        let mut args = args;
        args.push("http://a/");
        let e = err(&args, &vars);
        assert!(e.contains(want), "{args:?}: {e}");
    }
}

#[test]
fn trace_settings_and_the_standard_otlp_variable() {
    use crate::net::trace::TraceHeaders;
    let p = plan(&["http://a"], &[]).unwrap();
    assert_eq!(
        (p.output().tracing().headers, p.output().tracing().sample, p.output().otlp_endpoint().is_none()),
        (TraceHeaders::Both, 0.01, true)
    );
    let p = plan(&["--trace-headers", "w3c", "--trace-sample", "25%", "http://a"], &[]).unwrap();
    assert_eq!((p.output().tracing().headers, p.output().tracing().sample), (TraceHeaders::W3c, 0.25));
    let p = plan(&["http://a"], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318")]).unwrap();
    assert_eq!(p.output().otlp_endpoint().unwrap().to_string(), "http://jaeger:4318/v1/traces");
    let vars =
        [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318"), ("TRAFFICGEN_OTLP_ENDPOINT", "http://mine:4318/")];
    assert_eq!(
        plan(&["http://a"], &vars).unwrap().output().otlp_endpoint().unwrap().to_string(),
        "http://mine:4318/v1/traces"
    );
    assert!(err(&["--trace-sample", "2", "http://a"], &[]).contains("invalid --trace-sample=\"2\""));
    assert!(err(&["--trace-headers", "zipkin", "http://a"], &[]).contains("w3c, b3, both or none"));
    let e = err(&["http://a"], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://jaeger:4318")]);
    assert!(e.contains("TRAFFICGEN_OTLP_ENDPOINT"), "{e}");
}

#[test]
fn shares_sum_to_the_total() {
    for (total, parts) in [(10, 3), (0, 4), (7, 7), (1000, 6)] {
        let shares: Vec<u64> = (0..parts).map(|i| super::share(total, i, parts)).collect();
        assert_eq!(shares.iter().sum::<u64>(), total);
        assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
    }
    assert_eq!(super::share(10, 0, 3), 4);
}

mod remote;
