//! The one send loop. Open and closed loop differ only in the pacer: open-loop ticks wait for
//! their deadline and are dropped when `--max-in-flight` is reached; closed-loop ticks are due at
//! once and wait for a free slot instead.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use tokio::sync::watch;
use tokio::time::{timeout, Instant};

use crate::engine::pacer::{Pacer, Tick};
use crate::model::classify::{Classifier, BODY_CAP};
use crate::model::outcome::{ErrorType, Outcome};
use crate::model::scenario::Route;
use crate::net::client::{Client, Extra, Want};
use crate::net::trace::{Started, Tracer};
use crate::output::metrics::{Metrics, Observer};
use crate::output::recorder::{Phase, Recorder};

mod alarms;
mod flights;
use alarms::Alarms;
use flights::{unless_expired, Expiry, Flight, Flights};

/// Why sending stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep going.
    Running,
    /// The sending window is over: closed loop stops; in-flight requests finish (each bounded by `--timeout`).
    Done,
    /// A signal: stop sending and drain in-flight requests.
    Signal,
    /// The drain timeout after a signal passed: in-flight requests end as `cancelled`.
    Abort,
}

/// What all workers share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The HTTP client.
    pub client: Client,
    /// Where outcomes go for the summary.
    pub recorder: Recorder,
    /// Where outcomes go for Prometheus.
    pub metrics: Metrics,
    /// The routes, indexed like the client's.
    pub routes: Vec<Route>,
    /// The first route of each name: the recorder keeps per-route figures by name.
    pub named: Vec<Route>,
    /// The login route, sent once per worker before the first request.
    pub login: Option<usize>,
    /// Route of request n is `wheel[n % wheel.len()]`: a smooth weighted round robin.
    pub wheel: Vec<usize>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Trace headers, span export, failure lines.
    pub trace: Tracer,
}

/// Run worker `id`: send the pacer's ticks with at most `cap` in flight until the schedule ends
/// or `stop` says so, then drain. `grid` is one of the whole milliseconds of the runtime's
/// timer (it counts them from when the runtime was built).
pub(crate) async fn work(
    shared: Arc<Shared>,
    id: usize,
    mut pacer: Pacer,
    grid: Instant,
    cap: usize,
    mut stop: watch::Receiver<Stop>,
) {
    let mut observer = shared.metrics.observer();
    let cookie = match shared.login {
        Some(route) => log_in(&shared, id, route).await,
        None => None,
    };
    let mut in_flight = FuturesUnordered::new();
    // What each request in flight is, so that the abort can end them all as `cancelled` by
    // dropping them, with no stop watch per request, and the sweep can time them out.
    let mut flights = Flights::new(shared.timeout);
    let finish = |(o, key): (Outcome, usize), flights: &mut Flights, observer: &mut Observer| {
        let flight = flights.end(key);
        shared.metrics.in_flight.dec();
        shared.recorder.record_in(id, phase(flight.tick), &o);
        observer.observe(&o);
    };
    // An open-loop schedule ends by itself at the window's end, and every tick due before then is
    // sent, however late; only closed loop needs `Done`.
    let open = pacer.is_open();
    // Two timer entries and one stop watch for the whole loop, reset per tick, instead of
    // registering (and removing) them each time a response wakes the loop.
    let mut watching = stop.clone();
    let stopping = watching.wait_for(|s| matches!(s, Stop::Signal | Stop::Abort) || (*s == Stop::Done && !open));
    tokio::pin!(stopping);
    let mut alarms = Alarms::new(grid);
    // The tick whose successor is armed too.
    let mut ahead = None;
    while let Some(tick) = pacer.peek() {
        let now = Instant::now();
        let wait = alarms.arm(tick, now);
        if wait && ahead != Some(tick.index) {
            ahead = Some(tick.index);
            if let Some(next) = pacer.peek_after() {
                alarms.arm(next, now);
            }
        }
        tokio::select! {
            biased;
            _ = &mut stopping => break,
            Some(o) = in_flight.next() => finish(o, &mut flights, &mut observer),
            () = flights.swept() => {}
            _ = due(alarms.timer(tick), wait), if open || in_flight.len() < cap => {
                pacer.advance();
                if in_flight.len() >= cap {
                    shared.recorder.drop_in(id, phase(tick));
                    shared.metrics.dropped.inc();
                    continue;
                }
                shared.metrics.in_flight.inc();
                let flight = new_flight(&shared, tick);
                let (key, expiry) = flights.start(flight);
                in_flight.push(send(&shared, id, flight, expiry, cookie.as_ref()).map(move |o| (o, key)));
            }
        }
    }
    // Each request ends by itself (response, error, timeout) or as `cancelled` at `Stop::Abort`.
    let mut abort_at = std::pin::pin!(stop.wait_for(|s| *s == Stop::Abort));
    loop {
        tokio::select! {
            o = in_flight.next() => match o {
                Some(o) => finish(o, &mut flights, &mut observer),
                None => break,
            },
            () = flights.swept() => {}
            _ = &mut abort_at => {
                drop(in_flight);
                let end = Instant::now();
                for (key, f) in flights.in_flight() {
                    shared.client.note_route(f.route, ErrorType::Cancelled, || "still in flight when --drain-timeout ended".into());
                    let o = f.outcome(end, Err(ErrorType::Cancelled), None);
                    shared.trace.end(f.trace, &shared.routes[f.route].name, &o, end - f.started);
                    finish((o, key), &mut flights, &mut observer);
                }
                break;
            }
        }
    }
}

/// The part of the run a tick's outcome counts in.
fn phase(tick: Tick) -> Phase {
    if tick.warmup {
        Phase::Warmup
    } else {
        Phase::Stage(tick.stage)
    }
}

/// Wait for the next tick on `timer`, armed for it. A tick already due goes at once, but
/// spends a unit of tokio's budget: a loop working off a backlog of due ticks must still hand
/// the thread back to the runtime now and then, or no response is read until the backlog is
/// gone (the connections sat idle for tens of milliseconds while ticks piled up behind them).
async fn due(timer: std::pin::Pin<&mut tokio::time::Sleep>, wait: bool) {
    if wait {
        timer.await;
    } else {
        tokio::task::coop::consume_budget().await;
    }
}

/// A request for `tick`, starting now.
fn new_flight(shared: &Shared, tick: Tick) -> Flight {
    let route = shared.wheel[(tick.index % shared.wheel.len() as u64) as usize];
    Flight { tick, route, started: Instant::now(), trace: shared.trace.start() }
}

/// Send `flight`'s request and read its answer, unless `expiry` ends it at its `--timeout`; a
/// failure is noted once per type and target.
async fn send(
    shared: &Shared,
    id: usize,
    flight: Flight,
    expiry: Arc<Expiry>,
    cookie: Option<&HeaderValue>,
) -> Outcome {
    let route = flight.route;
    let classifier = shared.routes[route].classifier.as_deref();
    let want = Want {
        body: if classifier.is_some_and(Classifier::needs_body) { BODY_CAP } else { 0 },
        headers: classifier.is_some_and(Classifier::needs_headers),
    };
    let extra = Adds { cookie: cookie.filter(|_| shared.routes[route].login), trace: &flight.trace };
    let mut body = Vec::new();
    let client = &shared.client;
    // Boxed: the request's future (its connection, the exchange's state) in an allocation of
    // its own keeps the one `in_flight` makes per request small. At over a kilobyte that one
    // took glibc's slow path, which merges freed small blocks first, and was copied whole.
    let request = Box::pin(client.send(id, route, &extra, want, &mut body));
    let sent = unless_expired(&expiry, request).await;
    let end = Instant::now();
    let outcome = match sent {
        None => {
            client.note_route(route, ErrorType::Timeout, || {
                format!("no complete response within --timeout {:?}", shared.timeout)
            });
            flight.outcome(end, Err(ErrorType::Timeout), None)
        }
        Some(Err(e)) => flight.outcome(end, Err(e), None),
        Some(Ok(answer)) => {
            if let Some(e) = ErrorType::from_status(answer.status) {
                client.note_route(route, e, || format!("status {} on {}", answer.status, shared.routes[route].uri));
            }
            let class = classifier.map(|c| c.classify(answer.status, &answer.headers, &body));
            let sent = Instant::from_std(answer.sent).max(flight.started);
            Outcome { service_time: end - sent, ..flight.outcome(end, Ok(answer.status), class) }
        }
    };
    shared.trace.end(flight.trace, &shared.routes[route].name, &outcome, end - flight.started);
    outcome
}

/// Send the login route and keep its cookies for this worker's logged-in routes. A failed login
/// is logged and the worker goes on without a session: its responses then show it.
async fn log_in(shared: &Shared, id: usize, route: usize) -> Option<HeaderValue> {
    let result =
        timeout(shared.timeout, shared.client.send(id, route, &(), Want { body: 0, headers: true }, &mut Vec::new()))
            .await;
    let answer = match result {
        Ok(Ok(answer)) if answer.status < 400 => answer,
        other => {
            tracing::warn!(outcome = ?other.map(|r| r.map(|a| a.status)), "login failed; logged-in routes go without a session");
            return None;
        }
    };
    let cookies: Vec<&str> = answer
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    HeaderValue::from_str(&cookies.join("; ")).ok().filter(|_| !cookies.is_empty())
}

/// What a request adds to its route's headers: the session cookie on a logged-in route, and
/// the trace headers.
struct Adds<'a> {
    cookie: Option<&'a HeaderValue>,
    trace: &'a Started,
}

impl Extra for Adds<'_> {
    fn headers(&self, put: &mut dyn FnMut(&'static str, &[u8])) {
        if let Some(cookie) = self.cookie {
            put(COOKIE.as_str(), cookie.as_bytes());
        }
        self.trace.headers(put);
    }
}

/// A smooth weighted round robin over route indices (nginx's algorithm): weights 2,1 give 0,1,0.
pub(crate) fn wheel(weights: &[u32]) -> Vec<usize> {
    // Weights of 1 (URL arguments, thousands of them) take turns: the same order, in linear time.
    if weights.iter().all(|w| *w == 1) {
        return (0..weights.len()).collect();
    }
    let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
    let mut current = vec![0i64; weights.len()];
    (0..total)
        .map(|_| {
            for (c, w) in current.iter_mut().zip(weights) {
                *c += i64::from(*w);
            }
            let (best, _) =
                current.iter().enumerate().max_by_key(|(i, c)| (**c, -(*i as i64))).expect("at least one route");
            current[best] -= total;
            best
        })
        .collect()
}

#[cfg(test)]
mod tests;
