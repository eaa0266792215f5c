//! The `--remote-write*` settings.

use super::*;

#[test]
fn remote_write_labels_default_to_what_a_scrape_of_the_pod_adds() {
    let rw = |args: &[&str], vars: &[(&str, &str)]| plan(args, vars).unwrap().output().remote_write().unwrap().clone();
    let pod = [
        ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ("POD_NAME", "trafficgen-r1-x7k2p"),
        ("POD_NAMESPACE", "bookinfo"),
        ("POD_IP", "10.1.2.3"),
        ("TRAFFICGEN_REMOTE_WRITE", "http://prometheus:9090/api/v1/write"),
    ];
    let r = rw(&["http://a"], &pod);
    let labels: Vec<(&str, &str)> = r.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        labels,
        [
            ("instance", "10.1.2.3:9464"),
            ("job", "trafficgen"),
            ("namespace", "bookinfo"),
            ("pod", "trafficgen-r1-x7k2p")
        ]
    );
    assert_eq!((r.interval, &r.auth), (Duration::from_secs(5), &crate::net::remote_write::Auth::None));
    let r = rw(
        &["--remote-write-label", "job=bookinfo/trafficgen", "--remote-write-label", "cluster=eu-1", "http://a"],
        &pod,
    );
    assert!(r.labels.contains(&("job".into(), "bookinfo/trafficgen".into())), "{:?}", r.labels);
    assert!(r.labels.contains(&("cluster".into(), "eu-1".into())));
    let outside = rw(&["--remote-write", "http://p/api/v1/write", "--metrics-addr", "off", "http://a"], &[]);
    assert!(outside.labels.iter().all(|(k, _)| k == "job" || k == "instance"), "{:?}", outside.labels);
}

#[test]
fn remote_write_settings_are_checked_before_anything_is_sent() {
    let base = ["--remote-write", "http://p:9090/api/v1/write"];
    let with = |extra: &[&str]| err(&[&base[..], extra, &["http://a"]].concat(), &[]);
    assert!(err(&["--remote-write", "p:9090", "http://a"], &[]).contains("invalid --remote-write=\"p:9090\""));
    assert!(
        with(&["--remote-write-label", "9x=1"]).contains("invalid --remote-write-label=\"9x=1\": expected NAME=VALUE")
    );
    assert!(with(&["--remote-write-label", "__name__=x"]).contains("--remote-write-label"));
    assert!(with(&["--remote-write-interval", "0s"]).contains("--remote-write-interval"));
    assert!(with(&["--remote-write-bearer-token-file", "/nonexistent"]).contains("expected a readable file"));
    assert!(with(&["--remote-write-username-file", "/etc/hostname"]).contains("--remote-write-password-file"));
    assert!(with(&["--remote-write-header", "no colon"]).contains("--remote-write-header"));
    let p = plan(
        &[
            &base[..],
            &[
                "--remote-write-username-file",
                "/etc/hostname",
                "--remote-write-password-file",
                "/etc/hostname",
                "http://a",
            ],
        ]
        .concat(),
        &[],
    )
    .unwrap();
    assert!(matches!(p.output().remote_write().unwrap().auth, crate::net::remote_write::Auth::Basic { .. }));
    assert!(plan(&["http://a"], &[]).unwrap().output().remote_write().is_none());
}
