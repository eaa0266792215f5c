use super::*;
use crate::client::Pin;
use bytes::Bytes;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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
    assert_eq!(p.load, Load::Open { rate: 10.0 });
    assert_eq!(p.routes[0].name, "/productpage");
    assert_eq!(p.metrics_addr, Some("0.0.0.0:9464".parse().unwrap()));
    assert_eq!(p.timeout, Duration::from_secs(10));
    assert!(!p.client.http2);
    let p =
        plan(&["run", "--rate", "150.5", "--duration", "10m", "--http2", "-H", "x-a: 1", "http://a/"], &[]).unwrap();
    assert_eq!(p.load, Load::Open { rate: 150.5 });
    assert_eq!(p.duration, Some(Duration::from_secs(600)));
    assert!(p.client.http2);
    assert_eq!(p.routes[0].headers["x-a"], "1");
    let p = plan(&["--rate", "max", "--concurrency", "4", "http://a"], &[]).unwrap();
    assert_eq!(p.load, Load::Closed { concurrency: NonZeroUsize::new(4).unwrap() });
}

#[test]
fn env_sets_and_flags_override() {
    let vars = [
        ("TRAFFICGEN_RATE", "42"),
        ("TRAFFICGEN_URL", "http://a/x,http://b/y"),
        ("PRODUCTPAGE_PORT", "tcp://1.2.3.4:9080"),
    ];
    let p = plan(&[], &vars).unwrap();
    assert_eq!(p.load, Load::Open { rate: 42.0 });
    assert_eq!(p.routes.len(), 2);
    let p = plan(&["--rate", "7"], &vars).unwrap();
    assert_eq!(p.load, Load::Open { rate: 7.0 });
    let p = plan(&["--metrics-addr", "off", "http://a"], &[("TRAFFICGEN_HTTP2", "true")]).unwrap();
    assert_eq!(p.metrics_addr, None);
    assert!(p.client.http2);
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
        (vec!["productpage:9080/x"], "invalid URL=\"productpage:9080/x\": expected an absolute http"),
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
        p.client.pins[0],
        Pin { host: "productpage".into(), port: 9080, addr: "127.0.0.1:9080".parse().unwrap() }
    );
    assert_eq!(p.client.pins[1].addr, "[::1]:443".parse().unwrap());
    assert_eq!(p.routes[0].body, Bytes::from_static(b"hi"));
    let p =
        plan(&["--resolve", "productpage:9080:127.0.0.1:34567", "--resolve", "h:1:[::1]:2", "http://a"], &[]).unwrap();
    assert_eq!(p.client.pins[0].addr, "127.0.0.1:34567".parse().unwrap());
    assert_eq!(p.client.pins[1].addr, "[::1]:2".parse().unwrap());
}

#[test]
fn shards_split_rate_and_requests() {
    let args = ["--rate", "150", "--requests", "1000", "--shards", "4", "http://a"];
    let parts: Vec<Plan> = (0..4).map(|i| plan(&args, &[("JOB_COMPLETION_INDEX", &i.to_string())]).unwrap()).collect();
    let rates: f64 = parts
        .iter()
        .map(|p| match p.load {
            Load::Open { rate } => rate,
            _ => 0.0,
        })
        .sum();
    assert!((rates - 150.0).abs() < 1e-9);
    assert_eq!(parts.iter().map(|p| p.requests.unwrap()).collect::<Vec<_>>(), vec![250, 250, 250, 250]);
    let odd: Vec<u64> = (0..3)
        .map(|i| {
            plan(&["--requests", "10", "--shards", "3", "--shard-index", &i.to_string(), "http://a"], &[])
                .unwrap()
                .requests
                .unwrap()
        })
        .collect();
    assert_eq!(odd, vec![4, 3, 3]);
    assert_eq!(parts[3].shard, Shard { index: 3, count: 4 });
    // TRAFFICGEN_SHARD_INDEX wins over the Job's index.
    let p = plan(&["--shards", "2", "http://a"], &[("JOB_COMPLETION_INDEX", "0"), ("TRAFFICGEN_SHARD_INDEX", "1")])
        .unwrap();
    assert_eq!(p.shard.index, 1);
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
    assert_eq!(p.mesh, Mesh::Url("127.0.0.1:15020".parse().unwrap(), "/quitquitquit".into()));
    assert_eq!(plan(&["http://a"], &[]).unwrap().mesh, Mesh::Auto);
}

#[test]
fn trace_settings_and_the_standard_otlp_variable() {
    use crate::trace::TraceHeaders;
    let p = plan(&["http://a"], &[]).unwrap();
    assert_eq!((p.tracing.headers, p.tracing.sample, p.otlp_endpoint.is_none()), (TraceHeaders::Both, 0.01, true));
    let p = plan(&["--trace-headers", "w3c", "--trace-sample", "25%", "http://a"], &[]).unwrap();
    assert_eq!((p.tracing.headers, p.tracing.sample), (TraceHeaders::W3c, 0.25));
    let p = plan(&["http://a"], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318")]).unwrap();
    assert_eq!(p.otlp_endpoint.unwrap().to_string(), "http://jaeger:4318/v1/traces");
    let vars =
        [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318"), ("TRAFFICGEN_OTLP_ENDPOINT", "http://mine:4318/")];
    assert_eq!(plan(&["http://a"], &vars).unwrap().otlp_endpoint.unwrap().to_string(), "http://mine:4318/v1/traces");
    assert!(err(&["--trace-sample", "2", "http://a"], &[]).contains("invalid --trace-sample=\"2\""));
    assert!(err(&["--trace-headers", "zipkin", "http://a"], &[]).contains("w3c, b3, both or none"));
    let e = err(&["http://a"], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://jaeger:4318")]);
    assert!(e.contains("TRAFFICGEN_OTLP_ENDPOINT"), "{e}");
}
