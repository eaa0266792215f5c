//! Expansion against Grafana's documented behaviour ("Variable syntax", "Advanced variable format
//! options", "Prometheus template variables", "Global variables") and its Prometheus data source.

use super::*;

fn scope(vars: &[(&str, Selected)]) -> Scope {
    vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn multi(values: &[&str]) -> Selected {
    Selected { values: values.iter().map(|s| s.to_string()).collect(), multi: true, ..Selected::default() }
}

#[test]
fn every_syntax_names_the_variable() {
    let s = scope(&[("ns", Selected::one("bookinfo")), ("job", Selected::one("a"))]);
    for text in ["$ns", "${ns}", "[[ns]]", "${ns:raw}", "[[ns:raw]]"] {
        assert_eq!(interpolate(text, &s), "bookinfo", "{text}");
    }
    assert_eq!(interpolate(r#"up{namespace="$ns",job=~"$job"}"#, &s), r#"up{namespace="bookinfo",job=~"a"}"#);
    // Unknown variables stay as written; `$ns_x` is another name, not `$ns` then `_x`.
    assert_eq!(interpolate("$nope ${nope} $ns_x", &s), "$nope ${nope} $ns_x");
    // The text inside a label_replace replacement (`$1`) is not a variable either.
    assert_eq!(
        interpolate(r#"label_replace(up, "w", "$1", "pod", "(.+)")"#, &s),
        r#"label_replace(up, "w", "$1", "pod", "(.+)")"#
    );
}

#[test]
fn multi_values_become_a_regex_escaped_alternation() {
    let s = scope(&[("svc", multi(&["details", "reviews.v1"]))]);
    assert_eq!(interpolate(r#"x{s=~"$svc"}"#, &s), r#"x{s=~"(details|reviews\\.v1)"}"#);
    // One value chosen of a multi-value variable: escaped, no parentheses.
    let s = scope(&[("svc", multi(&["a.b"]))]);
    assert_eq!(interpolate("$svc", &s), r"a\\.b");
    // A single-value variable is inserted as is.
    let s = scope(&[("svc", Selected::one("a.b"))]);
    assert_eq!(interpolate("$svc", &s), "a.b");
}

#[test]
fn all_uses_the_custom_all_value_unformatted_else_every_value() {
    let custom = Selected { all: true, all_value: Some(".+".into()), include_all: true, ..multi(&["a", "b"]) };
    let s = scope(&[("svc", custom)]);
    assert_eq!(interpolate(r#"x{s=~"$svc"}"#, &s), r#"x{s=~".+"}"#);
    assert_eq!(interpolate("${svc:regex}", &s), ".+");
    assert_eq!(interpolate("${svc:text}", &s), "All");
    let every = Selected { all: true, include_all: true, ..multi(&["a", "b.c"]) };
    let s = scope(&[("svc", every)]);
    assert_eq!(interpolate("$svc", &s), r"(a|b\\.c)");
    // A custom "All" value may itself hold variables.
    let s = scope(&[
        ("ns", Selected::one("bookinfo")),
        ("svc", Selected { all: true, all_value: Some("$ns-.*".into()), include_all: true, ..Selected::default() }),
    ]);
    assert_eq!(interpolate("$svc", &s), "bookinfo-.*");
}

#[test]
fn formats_as_documented() {
    let s = scope(&[("v", multi(&["test1", "test2"]))]);
    let cases = [
        ("${v:csv}", "test1,test2"),
        ("${v:raw}", "test1,test2"),
        ("${v:pipe}", "test1|test2"),
        ("${v:regex}", "(test1|test2)"),
        ("${v:glob}", "{test1,test2}"),
        ("${v:json}", r#"["test1","test2"]"#),
        ("${v:doublequote}", r#""test1","test2""#),
        ("${v:singlequote}", "'test1','test2'"),
        ("${v:sqlstring}", "'test1','test2'"),
        ("${v:lucene}", r#"("test1" OR "test2")"#),
        ("${v:queryparam}", "var-v=test1&var-v=test2"),
        ("${v:percentencode}", "%7Btest1%2Ctest2%7D"),
        ("${v:text}", "test1 + test2"),
        ("${v:nosuchformat}", "{test1,test2}"),
    ];
    for (text, want) in cases {
        assert_eq!(interpolate(text, &s), want, "{text}");
    }
    let s = scope(&[("v", Selected::one("a.b/c"))]);
    assert_eq!(interpolate("${v:regex}", &s), r"a\.b\/c");
    assert_eq!(interpolate("${v:json}", &s), r#""a.b/c""#);
}

#[test]
fn intervals_follow_grafanas_arithmetic() {
    let sec = Duration::from_secs;
    // 1 h over 1,500 points is 2.4 s, below a 15 s scrape: $__interval is the scrape interval.
    let i = interval(sec(3600), 1500, sec(15));
    assert_eq!(format_duration(i), "15s");
    // $__rate_interval = max($__interval + scrape, 4 x scrape) = max(30 s, 60 s).
    assert_eq!(format_duration(rate_interval(i, sec(15))), "1m");
    // 24 h over 1,000 points is 86.4 s, rounded to 1m; then max(1m + 15s, 1m) = 75 s, written "1m" as
    // Grafana's FormatDuration truncates.
    let i = interval(sec(86_400), 1000, sec(15));
    assert_eq!(i, sec(60));
    assert_eq!(rate_interval(i, sec(15)), sec(75));
    assert_eq!(format_duration(sec(75)), "1m");
    assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(round_interval(sec(40)), sec(30));
    let b = builtins(Duration::from_millis(299_600), sec(5), sec(5), 1_000_000);
    assert_eq!(b["__range"].values, ["300s"]);
    assert_eq!(b["__range_s"].values, ["300"]);
    assert_eq!(b["__rate_interval"].values, ["20s"]);
    assert_eq!(b["__interval_ms"].values, ["5000"]);
}
