//! What the kubelet's cAdvisor and kube-state-metrics would tell Prometheus about the six Bookinfo
//! pods, computed from the simulated services' real work. Names and labels are the real ones
//! (shared/MESH-METRICS.md §1); the figures are approximations, see docs/verify.md:
//! - CPU seconds are the simulated processing time (each service "computes" for its whole own time);
//! - network bytes are the HTTP heads (estimated) and bodies (exact) each pod received and sent;
//! - memory is a per-runtime baseline plus 256 KiB per request in flight;
//! - every pod is ready and never restarts, unless `--fault NAME:restart` makes its container
//!   crash-loop: a restart every [`RESTART_EVERY`] requests it serves.

use crate::workload::Workload;
use prometheus::{CounterVec, GaugeVec, IntGaugeVec, Opts, Registry};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The namespace the simulated pods live in.
pub(crate) const NAMESPACE: &str = "bookinfo";

/// Memory of an idle pod per runtime: Python, Ruby, Java (three), Node.js.
const BASE_MEMORY: [f64; 6] = [62.0e6, 31.0e6, 182.0e6, 186.0e6, 186.0e6, 38.0e6];
/// Extra working set per request in flight.
const PER_REQUEST_MEMORY: f64 = 256.0 * 1024.0;

/// Requests a crash-looping container serves between restarts.
pub(crate) const RESTART_EVERY: u64 = 50;

/// cAdvisor and kube-state-metrics series for the simulated pods.
#[derive(Debug)]
pub(crate) struct KubeMetrics {
    pub(crate) registry: Registry,
    cpu: CounterVec,
    memory: GaugeVec,
    rx: CounterVec,
    tx: CounterVec,
    in_flight: [AtomicI64; 6],
    restarts: IntGaugeVec,
    served: [AtomicU64; 6],
}

fn container(w: Workload) -> &'static str {
    w.service()
}

fn image(w: Workload) -> String {
    let name = match w {
        Workload::Productpage => "productpage",
        Workload::Details => "details",
        Workload::ReviewsV1 | Workload::ReviewsV2 | Workload::ReviewsV3 => "reviews",
        Workload::Ratings => "ratings",
    };
    format!("docker.io/istio/examples-bookinfo-{name}-{}:1.20.3", w.version())
}

/// A stable, UUID-shaped pod uid.
fn uid(w: Workload) -> String {
    format!("5e1d{:04x}-0b1c-4f00-9a00-00000000000{}", w as usize, w as usize)
}

/// The pod's cgroup id, as cAdvisor's `id` label shows it.
fn cgroup(w: Workload, container: Option<&str>) -> String {
    let pod =
        format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice", uid(w).replace('-', "_"));
    match container {
        Some(c) => format!("{pod}/cri-containerd-{c}-{}.scope", w as usize),
        None => pod,
    }
}

impl KubeMetrics {
    pub(crate) fn new() -> Result<KubeMetrics, prometheus::Error> {
        let registry = Registry::new();
        let labels = ["id", "name", "image", "namespace", "pod", "container"];
        let cpu = CounterVec::new(
            Opts::new("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds."),
            &[&labels[..], &["cpu"]].concat(),
        )?;
        let memory =
            GaugeVec::new(Opts::new("container_memory_working_set_bytes", "Current working set in bytes."), &labels)?;
        let net = [&labels[..], &["interface"]].concat();
        let rx = CounterVec::new(
            Opts::new("container_network_receive_bytes_total", "Cumulative count of bytes received"),
            &net,
        )?;
        let tx = CounterVec::new(
            Opts::new("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted"),
            &net,
        )?;
        let ready = IntGaugeVec::new(
            Opts::new("kube_pod_status_ready", "Describes whether the pod is ready to serve requests."),
            &["namespace", "pod", "uid", "condition"],
        )?;
        let restarts = IntGaugeVec::new(
            Opts::new("kube_pod_container_status_restarts_total", "The number of container restarts per container."),
            &["namespace", "pod", "uid", "container"],
        )?;
        let available = IntGaugeVec::new(
            Opts::new("kube_deployment_status_replicas_available", "The number of available replicas per deployment."),
            &["namespace", "deployment"],
        )?;
        for c in [&cpu, &rx, &tx] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(memory.clone()))?;
        for g in [&ready, &restarts, &available] {
            registry.register(Box::new(g.clone()))?;
        }
        for w in Workload::ALL {
            let (pod, uid) = (w.pod(), uid(w));
            for (condition, v) in [("true", 1), ("false", 0), ("unknown", 0)] {
                ready.with_label_values(&[NAMESPACE, pod, &uid, condition]).set(v);
            }
            restarts.with_label_values(&[NAMESPACE, pod, &uid, container(w)]).set(0);
            available.with_label_values(&[NAMESPACE, w.deployment()]).set(1);
        }
        let metrics = KubeMetrics {
            registry,
            cpu,
            memory,
            rx,
            tx,
            in_flight: Default::default(),
            restarts,
            served: Default::default(),
        };
        for w in Workload::ALL {
            metrics.cpu_seconds(w, 0.0);
            metrics.bytes(w, 0, 0);
            metrics.refresh_memory(w);
        }
        Ok(metrics)
    }

    /// Labels of the app container's series (`cpu` and memory).
    fn container_labels(w: Workload) -> [String; 6] {
        let c = container(w);
        let id = cgroup(w, Some(c));
        [id.clone(), id, image(w), NAMESPACE.into(), w.pod().into(), c.into()]
    }

    /// Network is reported for the pod sandbox only: no container name, no image.
    fn sandbox_labels(w: Workload) -> [String; 7] {
        let id = cgroup(w, None);
        [id.clone(), id, String::new(), NAMESPACE.into(), w.pod().into(), String::new(), "eth0".into()]
    }

    /// `w` computed for `secs`.
    pub(crate) fn cpu_seconds(&self, w: Workload, secs: f64) {
        let l = Self::container_labels(w);
        let labels: Vec<&str> = l.iter().map(String::as_str).chain(["total"]).collect();
        self.cpu.with_label_values(&labels).inc_by(secs);
    }

    /// `w` received `rx` and sent `tx` bytes.
    pub(crate) fn bytes(&self, w: Workload, rx: u64, tx: u64) {
        let l = Self::sandbox_labels(w);
        let labels: Vec<&str> = l.iter().map(String::as_str).collect();
        self.rx.with_label_values(&labels).inc_by(rx as f64);
        self.tx.with_label_values(&labels).inc_by(tx as f64);
    }

    /// A crash-looping `w` served one more request: every [`RESTART_EVERY`]th (the first included)
    /// its container restarts.
    pub(crate) fn crash_loop(&self, w: Workload) {
        if self.served[w as usize].fetch_add(1, Ordering::Relaxed) % RESTART_EVERY == 0 {
            self.restarts.with_label_values(&[NAMESPACE, w.pod(), &uid(w), container(w)]).inc();
        }
    }

    /// A request to `w` started (`+1`) or ended (`-1`).
    pub(crate) fn in_flight(&self, w: Workload, delta: i64) {
        self.in_flight[w as usize].fetch_add(delta, Ordering::Relaxed);
        self.refresh_memory(w);
    }

    fn refresh_memory(&self, w: Workload) {
        let l = Self::container_labels(w);
        let labels: Vec<&str> = l.iter().map(String::as_str).collect();
        let n = self.in_flight[w as usize].load(Ordering::Relaxed).max(0) as f64;
        self.memory.with_label_values(&labels).set(BASE_MEMORY[w as usize] + n * PER_REQUEST_MEMORY);
    }
}
