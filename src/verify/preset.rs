//! The `bookinfo` preset: Bookinfo's success criteria as PromQL, for a cluster with no mesh, with
//! Linkerd or with Istio (metric names and labels: shared/MESH-METRICS.md). Pods map to workloads
//! by name (`kube_pod_labels` is empty by default) and no query filters on `job`, whose value
//! differs per installation. Placeholders: `$namespace`, `$window`, `$rate_interval`, `$step`,
//! `$trafficgen` (the generator's series: its `trafficgen_run_info` or `trafficgen_build_info`).

use super::check::{Check, Expect, Measure, Needs};

/// Which kind of cluster the checks are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mesh {
    /// No mesh: cAdvisor and productpage's own `request_result_total`.
    None,
    /// Linkerd proxy metrics (`request_total`, `response_total`).
    Linkerd,
    /// Istio's standard metrics (`istio_requests_total`).
    Istio,
    /// Whichever mesh's metric families exist; `None` when neither does.
    Auto,
}

impl Mesh {
    /// `none`, `linkerd`, `istio`, `auto`.
    pub(crate) fn parse(s: &str) -> Option<Mesh> {
        Some(match s {
            "none" => Mesh::None,
            "linkerd" => Mesh::Linkerd,
            "istio" => Mesh::Istio,
            "auto" => Mesh::Auto,
            _ => return None,
        })
    }

    /// The name as given on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mesh::None => "none",
            Mesh::Linkerd => "linkerd",
            Mesh::Istio => "istio",
            Mesh::Auto => "auto",
        }
    }
}

/// Bookinfo's Deployments; their pods are named `<deployment>-<hash>-<id>`.
const DEPLOYMENTS: [&str; 6] = ["productpage-v1", "details-v1", "reviews-v1", "reviews-v2", "reviews-v3", "ratings-v1"];

/// Received bytes per second above which a pod counts as having received traffic: an idle pod
/// gets only kubelet probes and DNS answers, far below this.
const IDLE_RX_BYTES: f64 = 256.0;

/// Chi-square bound of the reviews split (df 2, p = 0.001), as `--expect-split` uses.
const SPLIT_CHI_SQUARE: f64 = 13.82;

/// The query whose answer says a mesh's metrics are in Prometheus.
pub(crate) fn probe(mesh: Mesh) -> Option<&'static str> {
    match mesh {
        Mesh::Linkerd => {
            Some(r#"count(max_over_time(request_total{direction="inbound",namespace="$namespace"}[$window]))"#)
        }
        Mesh::Istio => Some(
            r#"count(max_over_time(istio_requests_total{reporter="destination",destination_workload_namespace="$namespace"}[$window]))"#,
        ),
        _ => None,
    }
}

fn check(name: String, query: String, expect: Expect, needs: Option<&Needs>) -> Check {
    Check { name, query, expect, needs: needs.cloned(), measure: Measure::Query }
}

/// Checks for every kind of cluster: the generator is scraped and ran at its rate; pods are ready.
pub(crate) fn common() -> Vec<Check> {
    let mut out = vec![
        check("trafficgen scraped".into(), "count(max_over_time($trafficgen[$window]))".into(), Expect::Ge(1.0), None),
        Check {
            name: "trafficgen rate / target".into(),
            // Shown as the query: the samples are judged in `sent`, between scrapes taken while sending.
            query: "http_client_request_duration_seconds_count and on (instance, job) $trafficgen".into(),
            expect: Expect::Within { tolerance: 0.05, of: 1.0 },
            needs: Some(Needs {
                query:
                    "max_over_time((sum(trafficgen_target_rps and on (instance, job) $trafficgen) > 0)[$window:$step])"
                        .into(),
                reason: "no target rate (closed loop, or trafficgen not scraped)".into(),
            }),
            measure: Measure::SentRate,
        },
    ];
    let classes = Needs {
        query: r#"last_over_time(trafficgen_responses_total{response_class="error"}[$window])"#.into(),
        reason: "trafficgen does not classify pages (--classify-preset bookinfo-reviews)".into(),
    };
    let pages = |class: &str| {
        format!(
            r#"sum(increase(trafficgen_responses_total{{response_class=~"{class}"}}[$window]) and on (instance, job) $trafficgen)"#
        )
    };
    out.push(check(
        "error pages seen by trafficgen".into(),
        format!("{}\n  / {}", pages("error"), pages(".+")),
        Expect::Lt(0.01),
        Some(&classes),
    ));
    let by_class = r#"sum by (response_class) (increase(trafficgen_responses_total{response_class=~"v[123]"}[$window]) and on (instance, job) $trafficgen)"#.to_string();
    out.push(check(
        "reviews split 1/3 each, chi-square (trafficgen)".into(),
        chi_square(&by_class),
        Expect::Lt(SPLIT_CHI_SQUARE),
        Some(&classes),
    ));
    let ksm = Needs {
        query: r#"last_over_time(kube_pod_status_ready{namespace="$namespace"}[$window])"#.into(),
        reason: "no kube-state-metrics series (kube_pod_status_ready) in the namespace".into(),
    };
    for d in DEPLOYMENTS {
        out.push(check(
            format!("{d} has ready pods"),
            format!(r#"sum(kube_pod_status_ready{{namespace="$namespace",condition="true",pod=~"{d}-.*"}})"#),
            Expect::Ge(1.0),
            Some(&ksm),
        ));
    }
    let restarts = Needs {
        query: r#"last_over_time(kube_pod_container_status_restarts_total{namespace="$namespace"}[$window])"#.into(),
        reason: "no kube-state-metrics series (kube_pod_container_status_restarts_total) in the namespace".into(),
    };
    for d in DEPLOYMENTS {
        // How much each container's restart count grew within the window (a crash loop under the
        // load); exact, where increase() would extrapolate to the window's edges.
        let series = format!(r#"kube_pod_container_status_restarts_total{{namespace="$namespace",pod=~"{d}-.*"}}"#);
        out.push(check(
            format!("{d} no container restarted"),
            format!("max(max_over_time({series}[$window]) - min_over_time({series}[$window]))"),
            Expect::Eq(0.0),
            Some(&restarts),
        ));
    }
    out
}

/// No mesh: cAdvisor's per-pod network and CPU, and productpage's own counter of its calls.
pub(crate) fn none() -> Vec<Check> {
    let net = Needs {
        query: r#"last_over_time(container_network_receive_bytes_total{namespace="$namespace"}[$window])"#.into(),
        reason: "no cAdvisor series (container_network_receive_bytes_total) in the namespace".into(),
    };
    let mut out: Vec<Check> = DEPLOYMENTS
        .iter()
        .map(|d| {
            check(
                format!("{d} received traffic (rx B/s)"),
                format!(r#"max_over_time(sum(rate(container_network_receive_bytes_total{{namespace="$namespace",pod=~"{d}-.*"}}[$rate_interval]))[$window:$step])"#),
                Expect::Gt(IDLE_RX_BYTES),
                Some(&net),
            )
        })
        .collect();
    let regex = DEPLOYMENTS.join("|");
    out.push(check(
        "workloads that used CPU".into(),
        format!(r#"count(max_over_time(sum by (workload) (label_replace(rate(container_cpu_usage_seconds_total{{namespace="$namespace",container!="",image!="",pod=~"({regex})-.*"}}[$rate_interval]), "workload", "$1", "pod", "({regex})-.*"))[$window:$step]) > 0)"#),
        Expect::Ge(DEPLOYMENTS.len() as f64),
        Some(&Needs {
            query: r#"last_over_time(container_cpu_usage_seconds_total{namespace="$namespace"}[$window])"#.into(),
            reason: "no cAdvisor series (container_cpu_usage_seconds_total) in the namespace".into(),
        }),
    ));
    let own = Needs {
        query: r#"last_over_time(request_result_total{namespace="$namespace"}[$window])"#.into(),
        reason: "productpage's /metrics is not scraped (no request_result_total)".into(),
    };
    for app in ["details", "reviews"] {
        out.push(check(
            format!("productpage called {app}"),
            format!(
                r#"sum(increase(request_result_total{{namespace="$namespace",destination_app="{app}"}}[$window]))"#
            ),
            Expect::Gt(0.0),
            Some(&own),
        ));
    }
    out
}

/// The label names a mesh's request counter uses, so Linkerd and Istio share one set of checks.
struct Names {
    title: &'static str,
    requests: &'static str,
    responses: &'static str,
    /// Label selecting this namespace's inbound traffic.
    inbound: &'static str,
    workload: &'static str,
    success: &'static str,
    reason: &'static str,
}

const LINKERD: Names = Names {
    title: "Linkerd",
    requests: "request_total",
    responses: "response_total",
    inbound: r#"direction="inbound",namespace="$namespace""#,
    workload: "deployment",
    success: r#"classification="success""#,
    reason: "no Linkerd proxy metrics (request_total{direction=\"inbound\"}) in the namespace",
};

const ISTIO: Names = Names {
    title: "Istio",
    requests: "istio_requests_total",
    responses: "istio_requests_total",
    inbound: r#"reporter="destination",destination_workload_namespace="$namespace""#,
    workload: "destination_workload",
    success: r#"response_code!~"5..""#,
    reason: "no Istio metrics (istio_requests_total{reporter=\"destination\"}) in the namespace",
};

/// A mesh's checks: inbound rate per workload, success rate, productpage vs trafficgen, reviews split.
pub(crate) fn mesh(mesh: Mesh) -> Vec<Check> {
    let n = match mesh {
        Mesh::Linkerd => &LINKERD,
        Mesh::Istio => &ISTIO,
        _ => return Vec::new(),
    };
    let needs =
        Needs { query: format!("last_over_time({}{{{}}}[$window])", n.requests, n.inbound), reason: n.reason.into() };
    let (req, resp, inb, wl) = (n.requests, n.responses, n.inbound, n.workload);
    let mut out: Vec<Check> = DEPLOYMENTS
        .iter()
        .map(|d| {
            check(
                format!("{d} inbound req/s ({})", n.title),
                format!(r#"max_over_time(sum(rate({req}{{{inb},{wl}="{d}"}}[$rate_interval]))[$window:$step])"#),
                Expect::Gt(0.0),
                Some(&needs),
            )
        })
        .collect();
    out.push(check(
        format!("success rate per workload ({})", n.title),
        // A workload with no successful answer has no success series: count it as 0, not absent.
        format!(
            "(sum by ({wl}) (increase({resp}{{{inb},{}}}[$window])) or 0 * sum by ({wl}) (increase({resp}{{{inb}}}[$window])))\n  / sum by ({wl}) (increase({resp}{{{inb}}}[$window]))",
            n.success
        ),
        Expect::Ge(0.99),
        Some(&needs),
    ));
    out.push(check(
        format!("productpage inbound / trafficgen ({})", n.title),
        // The median of the two rates' ratio: robust to the run's edges and to the scrape phases.
        format!(
            r#"quantile_over_time(0.5, (sum(rate({req}{{{inb},{wl}="productpage-v1"}}[$rate_interval]))
  / (sum(rate(http_client_request_duration_seconds_count[$rate_interval]) and on (instance, job) $trafficgen) > 0))[$window:$step])"#
        ),
        Expect::Within { tolerance: 0.05, of: 1.0 },
        Some(&needs),
    ));
    let reviews = format!(r#"sum by ({wl}) (increase({req}{{{inb},{wl}=~"reviews-v[123]"}}[$window]))"#);
    out.push(check(
        format!("reviews split 1/3 each, chi-square ({})", n.title),
        chi_square(&reviews),
        Expect::Lt(SPLIT_CHI_SQUARE),
        Some(&needs),
    ));
    out
}

/// Pearson's chi-square of the counts `by` (one series per version) against a third each.
/// A version with no series is left out of the sum, but the others' excess still shows it.
fn chi_square(by: &str) -> String {
    format!("sum((({by}) - scalar(sum({by})) / 3) ^ 2 / (scalar(sum({by})) / 3))")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_query_filters_on_job() {
        for c in [common(), none(), mesh(Mesh::Linkerd), mesh(Mesh::Istio)].concat() {
            assert!(!c.query.contains("job=") && !c.query.contains("job!"), "{}", c.query);
            assert!(c.query.contains("$namespace") || c.query.contains("$trafficgen"), "{}", c.query);
        }
    }

    #[test]
    fn one_inbound_check_per_deployment() {
        let names: Vec<String> = mesh(Mesh::Istio).into_iter().map(|c| c.name).collect();
        assert!(names.contains(&"reviews-v3 inbound req/s (Istio)".to_string()), "{names:?}");
        assert_eq!(mesh(Mesh::None).len(), 0);
    }
}
