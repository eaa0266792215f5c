//! The six Bookinfo workloads, their latency model and the faults that can be injected into them.

use crate::error::ServeError;
use setting::{Cause, Invalid};
use std::str::FromStr;
use std::time::Duration;

/// One of Bookinfo's six deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    /// The Python front end.
    Productpage,
    /// Book details (Ruby).
    Details,
    /// Reviews without ratings.
    ReviewsV1,
    /// Reviews with black stars.
    ReviewsV2,
    /// Reviews with red stars.
    ReviewsV3,
    /// Star ratings (Node.js).
    Ratings,
}

impl Workload {
    /// All workloads, in call-graph order.
    pub const ALL: [Workload; 6] = [
        Workload::Productpage,
        Workload::Details,
        Workload::ReviewsV1,
        Workload::ReviewsV2,
        Workload::ReviewsV3,
        Workload::Ratings,
    ];

    /// Short name used by `--fault` and as the key of `Bookinfo::service_stats`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Productpage => "productpage",
            Workload::Details => "details",
            Workload::ReviewsV1 => "reviews-v1",
            Workload::ReviewsV2 => "reviews-v2",
            Workload::ReviewsV3 => "reviews-v3",
            Workload::Ratings => "ratings",
        }
    }

    /// Kubernetes Service name (`destination_service_name`, `destination_app`).
    pub fn service(self) -> &'static str {
        match self {
            Workload::Productpage => "productpage",
            Workload::Details => "details",
            Workload::ReviewsV1 | Workload::ReviewsV2 | Workload::ReviewsV3 => "reviews",
            Workload::Ratings => "ratings",
        }
    }

    /// Deployment name, as Istio reports it in `*_workload` labels.
    pub fn deployment(self) -> &'static str {
        match self {
            Workload::Productpage => "productpage-v1",
            Workload::Details => "details-v1",
            Workload::ReviewsV1 => "reviews-v1",
            Workload::ReviewsV2 => "reviews-v2",
            Workload::ReviewsV3 => "reviews-v3",
            Workload::Ratings => "ratings-v1",
        }
    }

    /// `version` label of the pods.
    pub fn version(self) -> &'static str {
        match self {
            Workload::ReviewsV2 => "v2",
            Workload::ReviewsV3 => "v3",
            _ => "v1",
        }
    }

    /// A realistic, stable pod name (reviews shows it on the page).
    pub fn pod(self) -> &'static str {
        match self {
            Workload::Productpage => "productpage-v1-7c9f8b6d5d-x2kqz",
            Workload::Details => "details-v1-65cfcf56f9-4vgqs",
            Workload::ReviewsV1 => "reviews-v1-6d8bc58dc6-kw5pz",
            Workload::ReviewsV2 => "reviews-v2-5b667bcbf8-2xq4m",
            Workload::ReviewsV3 => "reviews-v3-5c5c7b4d8f-qn7tl",
            Workload::Ratings => "ratings-v1-7c9bd4b87f-9mhq6",
        }
    }

    /// Own processing time at latency scale 1, excluding calls to other services.
    ///
    /// Chosen so observed averages match the target environment: ratings 30, details 50, reviews-v1 80,
    /// v2 90 + ratings 30 = 120, v3 95 + 30 = 125, productpage 40 + max(details, reviews) ≈ 150
    /// (productpage's two calls overlap in the simulation; see `productpage.rs`).
    pub fn own_time(self) -> Duration {
        Duration::from_millis(match self {
            Workload::Productpage => 40,
            Workload::Details => 50,
            Workload::ReviewsV1 => 80,
            Workload::ReviewsV2 => 90,
            Workload::ReviewsV3 => 95,
            Workload::Ratings => 30,
        })
    }

    fn matches(self, selector: &str) -> bool {
        selector == self.name() || (selector == "reviews" && self.service() == "reviews")
    }
}

/// What a fault does to a service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultEffect {
    /// Answer 503 for this fraction of requests (0..=1).
    Error(f64),
    /// Add this much latency to every request.
    Delay(Duration),
    /// The container crash-loops under load: kube-state-metrics counts a restart every
    /// [`crate::kube::RESTART_EVERY`] requests it serves (the first one included).
    Restart,
}

/// `--fault SERVICE:error=10%`, `--fault SERVICE:delay=200ms` or `--fault SERVICE:restart`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// A workload name, or `reviews` for all three versions.
    pub service: String,
    /// The injected behaviour.
    pub effect: FaultEffect,
}

impl FromStr for Fault {
    type Err = ServeError;

    fn from_str(s: &str) -> Result<Fault, ServeError> {
        let invalid = |expected: &str| ServeError::from(Invalid::new("--fault", s, expected));
        let because =
            |expected: &'static str| move |cause: Cause| ServeError::from(cause.invalid("--fault", s, expected));
        let shape = "SERVICE:error=10%, SERVICE:delay=200ms or SERVICE:restart";
        let (service, effect) = s.split_once(':').ok_or_else(|| invalid(shape))?;
        if service != "reviews" && !Workload::ALL.iter().any(|w| w.name() == service) {
            return Err(invalid(
                "a service of productpage, details, reviews, reviews-v1, reviews-v2, reviews-v3, ratings",
            ));
        }
        let effect = match effect.split_once('=') {
            None if effect == "restart" => FaultEffect::Restart,
            Some(("error", v)) => {
                FaultEffect::Error(setting::ratio(v).map_err(because("error=PERCENT like error=10%"))?)
            }
            Some(("delay", v)) => {
                FaultEffect::Delay(setting::duration(v).map_err(because("delay=DURATION like delay=200ms"))?)
            }
            _ => return Err(invalid(shape)),
        };
        Ok(Fault { service: service.to_owned(), effect })
    }
}

/// How one workload behaves: its latency and injected faults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Behaviour {
    own: Duration,
    error_rate: f64,
    extra_delay: Duration,
    restarts: bool,
}

impl Behaviour {
    /// Scaled own time plus the faults that select `w`; for the same kind of fault the last one wins.
    pub(crate) fn new(w: Workload, latency_scale: f64, faults: &[Fault]) -> Behaviour {
        let mut b = Behaviour {
            own: w.own_time().mul_f64(latency_scale.max(0.0)),
            error_rate: 0.0,
            extra_delay: Duration::ZERO,
            restarts: false,
        };
        for f in faults.iter().filter(|f| w.matches(&f.service)) {
            match f.effect {
                FaultEffect::Error(rate) => b.error_rate = rate,
                FaultEffect::Delay(d) => b.extra_delay = d,
                FaultEffect::Restart => b.restarts = true,
            }
        }
        b
    }

    /// Time to spend on one request: own time with ±10% uniform jitter, plus any injected delay.
    pub(crate) fn service_time(&self) -> Duration {
        self.own.mul_f64(0.9 + 0.2 * fastrand::f64()) + self.extra_delay
    }

    /// Whether the workload's container crash-loops under load.
    pub(crate) fn restarts(&self) -> bool {
        self.restarts
    }

    /// Rolls the injected error die.
    pub(crate) fn fails(&self) -> bool {
        self.error_rate > 0.0 && fastrand::f64() < self.error_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faults() {
        let f: Fault = "ratings:error=10%".parse().unwrap();
        assert_eq!(f.effect, FaultEffect::Error(0.1));
        let f: Fault = "reviews-v3:delay=200ms".parse().unwrap();
        assert_eq!(f.effect, FaultEffect::Delay(Duration::from_millis(200)));
        assert_eq!("ratings:restart".parse::<Fault>().unwrap().effect, FaultEffect::Restart);
        let f: Fault = "reviews:error=0.5".parse().unwrap();
        assert_eq!(f.service, "reviews");
    }

    #[test]
    fn bad_faults_name_flag_and_value() {
        for bad in ["ratings", "nope:error=1%", "ratings:error=abc", "ratings:delay=x", "ratings:slow=1"] {
            let msg = bad.parse::<Fault>().unwrap_err().to_string();
            assert!(msg.starts_with(&format!("invalid --fault={bad:?}: expected")), "{msg}");
        }
    }

    #[test]
    fn reviews_selects_all_versions() {
        let faults = vec!["reviews:delay=1s".parse().unwrap()];
        for w in Workload::ALL {
            let b = Behaviour::new(w, 0.0, &faults);
            let expect = if w.service() == "reviews" { Duration::from_secs(1) } else { Duration::ZERO };
            assert_eq!(b.service_time(), expect, "{w:?}");
        }
    }

    #[test]
    fn own_times_keep_the_documented_order() {
        use Workload::*;
        let t = |w: Workload| w.own_time();
        assert!(t(Ratings) < t(Details) && t(Details) < t(ReviewsV1));
        assert!(t(ReviewsV1) < t(ReviewsV2) + t(Ratings));
        assert_eq!(t(ReviewsV2) + t(Ratings), Duration::from_millis(120));
        assert_eq!(t(ReviewsV3) + t(Ratings), Duration::from_millis(125));
    }
}
