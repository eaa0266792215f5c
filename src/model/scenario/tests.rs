//! Scenario parsing tests: the shipped example and the mistakes people make.

use super::*;

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bookinfo.yaml")
}

fn err(text: &str) -> String {
    parse(text, "bad.yaml").unwrap_err().to_string()
}

#[test]
fn parses_the_bookinfo_example() {
    let s = load(&example_path()).unwrap();
    let login = s.login.as_ref().unwrap();
    assert_eq!(login.username, "jason");
    assert_eq!(login.url.path(), "/login");
    assert!(login.referer.is_some());
    let names: Vec<_> = s.routes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["productpage", "api-product", "api-reviews", "productpage-jason"]);
    assert_eq!(s.routes.iter().map(|r| r.weight).collect::<Vec<_>>(), [8, 1, 1, 1]);
    let pp = &s.routes[0];
    assert_eq!(pp.method, Method::GET);
    assert_eq!(pp.url.host(), Some("productpage"));
    assert_eq!(pp.url.port_u16(), Some(9080));
    assert!(!pp.login);
    let classes = pp.classify.as_ref().unwrap().classes();
    assert_eq!(classes, ["v1", "v2", "v3", "error", "unclassified"]);
    assert_eq!(s.routes[1].headers["accept"], "application/json");
    let api = s.routes[2].classify.as_ref().unwrap();
    assert_eq!(api.classes(), ["v3", "v2", "error", "v1", "unclassified"]);
    assert!(s.routes[3].login);
}

#[test]
fn json_is_accepted() {
    let text = r#"{"routes": [{"name": "a", "url": "https://example.com/x", "method": "post",
        "body": "{\"k\":1}", "headers": {"content-type": "application/json", "x-n": 3}}]}"#;
    let s = parse(text, "s.json").unwrap();
    let r = &s.routes[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.weight, 1);
    assert_eq!(r.body, Body::Inline(Bytes::from_static(b"{\"k\":1}")));
    assert_eq!(r.headers["x-n"], "3");
    assert!(r.classify.is_none());
}

#[test]
fn file_bodies_are_read_relative_to_the_scenario() {
    let dir = std::env::temp_dir().join(format!("trafficgen-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("payload.json"), b"{\"a\":1}").unwrap();
    let yaml = "routes:\n  - name: post\n    method: POST\n    url: http://h/x\n    body: \"@payload.json\"\n";
    std::fs::write(dir.join("s.yaml"), yaml).unwrap();
    let parsed = parse(yaml, "s.yaml").unwrap();
    assert_eq!(parsed.routes[0].body, Body::File("payload.json".into()));
    let loaded = load(&dir.join("s.yaml")).unwrap();
    assert_eq!(loaded.routes[0].body, Body::Inline(Bytes::from_static(b"{\"a\":1}")));
    std::fs::write(dir.join("s.yaml"), yaml.replace("payload", "missing")).unwrap();
    let msg = load(&dir.join("s.yaml")).unwrap_err().to_string();
    assert!(msg.contains("cannot read") && msg.contains("missing.json"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn negative_weight_names_line_and_field() {
    let text = "routes:\n  - name: a\n    url: http://h/\n    weight: -1\n";
    assert_eq!(
        err(text),
        "scenario bad.yaml: line 4: routes[0].weight: expected a positive integer up to 1000, got -1"
    );
}

#[test]
fn zero_and_fractional_weights_are_rejected() {
    for w in ["0", "1.5", "\"two\"", "4000000000"] {
        let text = format!("routes:\n  - name: a\n    url: http://h/\n    weight: {w}\n");
        let msg = err(&text);
        assert!(msg.contains("line 4: routes[0].weight: expected a positive integer"), "{msg}");
    }
}

#[test]
fn unknown_field_names_line() {
    let text = "routes:\n  - name: a\n    url: http://h/\n    wieght: 2\n";
    let msg = err(text);
    assert!(msg.starts_with("scenario bad.yaml: line 4: routes[0]: unknown field `wieght`"), "{msg}");
}

#[test]
fn bad_urls_are_rejected() {
    for url in ["ftp://h/x", "/relative", "http://", "not a url"] {
        let text = format!("routes:\n  - name: a\n    url: \"{url}\"\n");
        let msg = err(&text);
        assert!(msg.contains("line 3: routes[0].url: expected an absolute http:// or https:// URL"), "{msg}");
    }
}

#[test]
fn duplicate_names_point_at_the_second() {
    let text =
        "routes:\n  - name: a\n    url: http://h/\n  - name: b\n    url: http://h/\n  - name: a\n    url: http://h/\n";
    assert_eq!(err(text), "scenario bad.yaml: line 6: routes[2].name: duplicate route name \"a\"");
}

#[test]
fn bad_route_names_are_rejected() {
    let msg = err("routes:\n  - name: \"has space\"\n    url: http://h/\n");
    assert!(msg.contains("line 2: routes[0].name: expected 1 to 64 characters"), "{msg}");
}

#[test]
fn bad_yaml_names_line() {
    let msg = err("routes:\n  - name: a\n    url: [http://h/\n");
    assert!(msg.starts_with("scenario bad.yaml: line "), "{msg}");
}

#[test]
fn login_route_needs_login_section() {
    let msg = err("routes:\n  - name: a\n    url: http://h/\n    login: true\n");
    assert_eq!(msg, "scenario bad.yaml: line 2: routes[0].login: true, but the scenario has no login section");
}

#[test]
fn bad_classification_names_line() {
    let msg = err("routes:\n  - name: a\n    url: http://h/\n    classify: nope\n");
    assert!(msg.contains("line 4: routes[0].classify: invalid classify \"nope\""), "{msg}");
    let msg = err("routes:\n  - name: a\n    url: http://h/\n    classify:\n      - {name: x, regex: \"(\"}\n");
    assert!(msg.contains("routes[0].classify: invalid classify \"(\""), "{msg}");
}

#[test]
fn empty_routes_are_rejected() {
    assert!(err("routes: []\n").contains("at least one route"));
}
