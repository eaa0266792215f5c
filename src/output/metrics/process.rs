//! The process collector, with `process_cpu_seconds_total` at the kernel's tick resolution
//! (10 ms) instead of the whole seconds the prometheus crate's collector rounds it down to: a
//! generator using 0.02 cores would otherwise draw a staircase in the CPU panel.

use prometheus::core::{Collector, Desc};
use prometheus::process_collector::ProcessCollector;
use prometheus::proto::{Counter, MetricFamily};

const CPU: &str = "process_cpu_seconds_total";

/// This process's `process_*` metrics.
pub(crate) struct Process(ProcessCollector);

impl Process {
    pub(crate) fn for_self() -> Self {
        Process(ProcessCollector::for_self())
    }
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Process")
    }
}

impl Collector for Process {
    fn desc(&self) -> Vec<&Desc> {
        self.0.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut families = self.0.collect();
        if let Some(seconds) = cpu_seconds() {
            for metric in families.iter_mut().filter(|f| f.name() == CPU).flat_map(|f| f.mut_metric()) {
                let mut counter = Counter::default();
                counter.set_value(seconds);
                metric.set_counter(counter);
            }
        }
        families
    }
}

/// User plus system CPU time of this process, in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = procfs::process::Process::myself().ok()?.stat().ok()?;
    Some((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_are_fractional() {
        // Burn a little CPU so the counter is past its first tick.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let families = Process::for_self().collect();
        let cpu = families.iter().find(|f| f.name() == CPU).expect("cpu family");
        let value = cpu.get_metric()[0].get_counter().get_value();
        assert!(value > 0.0 && value.fract() != 0.0, "{value} has sub-second resolution");
    }
}
