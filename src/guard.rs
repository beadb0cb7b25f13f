//! Guard: the work quotasim refuses to start unless asked. Before a run (or a sweep) the attempts and the
//! memory it needs are estimated from the scenario alone; past [`MAX_ATTEMPTS`] attempts or [`MAX_MEMORY`]
//! bytes it is refused with the estimate and the flag that lifts the limit (`--allow-large`), since such
//! work is far more often a typo (`rate = 1e9`, a million threads for a day, a zero wait with a nanosecond
//! throttle reply) than a wish.
//!
//! The estimate up front counts what is known before the run: closed threads at the rate their cycle
//! allows, capped by what the limits admit plus what throttled callers can resend; open clients by their
//! expected arrivals (each at least one attempt), or, for a rate that varies, by the candidates thinning
//! draws at the peak rate if those are more. Trace replays are bounded by their file and are not counted.
//! What cannot be known before (retries, a limiter log that only grows, a pacer's queue) is counted while
//! the run goes: the engine holds each run to a [`Budget`] and stops it with the same advice the moment
//! it passes, before any output is written.

use crate::Error;
use crate::scenario::Scenario;
use crate::time::secs_f64;
use crate::workload::{ClientModel, RateShape};
use std::sync::atomic::{AtomicBool, Ordering};

/// The most attempts a run (or all of a sweep's runs) may be estimated to make without `--allow-large`.
pub const MAX_ATTEMPTS: f64 = 1e9;
/// The most memory a run may be estimated to need without `--allow-large`: 4 GiB.
pub const MAX_MEMORY: f64 = 4.0 * (1u64 << 30) as f64;
/// Replaces [`MAX_ATTEMPTS`] when set (a number), e.g. to keep test runs short.
pub const ATTEMPTS_VAR: &str = "QUOTASIM_MAX_ATTEMPTS";
/// Replaces [`MAX_MEMORY`] (bytes) when set.
pub const MEMORY_VAR: &str = "QUOTASIM_MAX_MEMORY";

/// Memory a request in flight takes: its slot and its queued event, with room for the queue's growth.
const BYTES_PER_REQUEST: f64 = 96.0;

/// What a run is estimated to cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Work {
    pub attempts: f64,
    pub memory: f64,
    /// Requests in flight at once, at most (about).
    pub in_flight: f64,
    /// The client with the most attempts, and its share, to name in a refusal.
    pub heaviest: Option<(String, f64)>,
}

/// The most QPS any plan can give `account` for `api`.
pub fn max_limit(sc: &Scenario, account: usize, api: usize) -> f64 {
    let payg = sc.payg_qps(account, api);
    let prepaid = sc.plans.prepaid.iter().filter(|p| p.account == account && p.api == api).map(|p| p.qps);
    let category = sc.apis[api].category;
    let packages =
        sc.plans.packages.iter().filter(|p| p.account == account && p.scope.covers(api, category)).map(|p| p.qps);
    prepaid.chain(packages).fold(payg, u32::max) as f64
}

/// Estimates the attempts and memory of one run of `sc`.
pub fn estimate(sc: &Scenario) -> Work {
    let duration = secs_f64(sc.duration);
    let throttle = secs_f64(sc.throttle_latency);
    let mut work = Work::default();
    for c in &sc.clients {
        let max_attempts = c.retry.max_attempts() as f64;
        let (mut min_wait, max_wait) = c.retry.wait_range(sc.longest_window());
        // A request rejected locally or dropped ends after the throttle latency alone: its thread goes on
        // without waiting out a retry.
        if c.adaptive.is_some() || c.pace.is_some_and(|(p, _)| p.queue_limit.is_some()) {
            min_wait = 0;
        }
        let latency = c.apis.weighted_mean(|a| secs_f64(sc.apis[a].latency.mean()));
        let (attempts, in_flight) = match &c.model {
            ClientModel::Closed { threads, think, .. } | ClientModel::Batch { threads, think, .. } => {
                let threads = *threads as f64;
                let cycle = latency + secs_f64(think.mean());
                // The limits admit at most `admitted` a second, which keeps `admitted * cycle` threads busy
                // (Little's law); every other thread sends one throttled attempt per throttle reply and
                // retry wait.
                let admitted: f64 = c.apis.apis().iter().map(|&a| max_limit(sc, c.account, a)).sum();
                let served = if cycle > 0.0 { (threads / cycle).min(admitted) } else { admitted };
                let waiting = (threads - admitted * cycle).max(0.0);
                let rate = served + waiting / (throttle + secs_f64(min_wait)).max(1e-9);
                let mut attempts = rate * duration;
                if let ClientModel::Batch { requests, .. } = c.model {
                    attempts = attempts.min(requests as f64 * max_attempts);
                }
                (attempts, threads)
            }
            ClientModel::Open { shape, .. } => {
                let arrivals = shape.expected_arrivals(sc.duration);
                let stay = latency + max_attempts * (throttle + secs_f64(max_wait));
                // A rate that varies is drawn by thinning: candidates come at the peak rate all along,
                // so a short spike costs its peak over the whole run.
                let draws = match shape {
                    RateShape::Flat(_) => 0.0,
                    _ => shape.max_rate() * duration,
                };
                // Each arrival is at least one attempt; how many retries it makes is not known before
                // the run, which counts them as it goes (see `Budget`).
                (arrivals.max(draws), shape.max_rate() * stay)
            }
            ClientModel::Trace(_) => (0.0, 0.0),
        };
        if work.heaviest.as_ref().is_none_or(|(_, a)| attempts > *a) {
            work.heaviest = Some((c.name.clone(), attempts));
        }
        work.attempts += attempts;
        work.in_flight += in_flight;
        work.memory += in_flight * BYTES_PER_REQUEST;
    }
    work
}

/// `--allow-large` for the whole process: lifts the limits of the estimate and of the run alike.
static ALLOW_LARGE: AtomicBool = AtomicBool::new(false);

/// Lifts every limit of this module for the rest of the process (`--allow-large`).
pub fn allow_large() {
    ALLOW_LARGE.store(true, Ordering::Relaxed);
}

/// The attempt limit: [`ATTEMPTS_VAR`] when set, else [`MAX_ATTEMPTS`]. A value that is not a positive
/// number is refused (it must never switch the guard off).
pub fn limit_attempts() -> Result<f64, Error> {
    limit_from(ATTEMPTS_VAR, MAX_ATTEMPTS, "a number of attempts")
}

/// The memory limit in bytes: [`MEMORY_VAR`] when set, else [`MAX_MEMORY`]; refused like the attempts'.
pub fn limit_memory() -> Result<f64, Error> {
    limit_from(MEMORY_VAR, MAX_MEMORY, "a number of bytes")
}

fn limit_from(var: &str, default: f64, what: &str) -> Result<f64, Error> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 1.0 => Ok(n),
            _ => Err(Error::BadInput(format!(
                "{var}: `{}` is not valid; expected {what} of at least 1 (e.g. 1e6), or unset it for the default {}",
                v.escape_debug(),
                human(default)
            ))),
        },
    }
}

/// The attempts and memory a run may use, checked while it goes (every [`crate::engine::PROGRESS_EVERY`] events), so
/// that work no estimate foresaw (a retry storm, a log that only grows) stops instead of hanging or
/// exhausting memory. This module says what the limits are and what the message advises.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub attempts: u64,
    /// Bytes of requests, pending events and limiter logs held; a run stops when its next doubling would
    /// pass this, since growth comes in doublings.
    pub memory: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        budget()
    }
}

/// The budget a run is held to while it goes: unlimited under `--allow-large`.
pub fn budget() -> Budget {
    if ALLOW_LARGE.load(Ordering::Relaxed) {
        return Budget { attempts: u64::MAX, memory: u64::MAX };
    }
    // A bad variable was refused before any run (see `check`); here it falls back to the default.
    let attempts = limit_attempts().unwrap_or(MAX_ATTEMPTS);
    let memory = limit_memory().unwrap_or(MAX_MEMORY);
    Budget { attempts: attempts as u64, memory: memory as u64 }
}

fn at(now: crate::time::Nanos) -> String {
    format!("{:.1} s into the run", secs_f64(now))
}

/// The error a run that passed its attempt budget stops with.
pub fn over_budget_attempts(made: u64, limit: u64, now: crate::time::Nanos) -> Error {
    Error::TooLarge(format!(
        "the run stopped {}: it had made {} attempts, more than the {} allowed without --allow-large; \
         shorten the duration, lower the load or the retries, or pass --allow-large",
        at(now),
        human(made as f64),
        human(limit as f64)
    ))
}

/// A run is judged by its pace once it has made this share of its attempt budget: enough work that a
/// storm has shown itself, little enough (1.6e7 attempts of 1e9, a second or two) that it stops quickly.
pub const PACE_AFTER: u64 = 64;
/// ... and it stops when its pace so far, kept up to its end, would pass the budget this many times over.
/// A run whose work is spread as its estimate assumed never gets near it: to be stopped wrongly, a run
/// would have to do eight times its average pace in its first stretch and then almost nothing.
pub const PACE_OVER: f64 = 8.0;

/// Whether a run that has made `made` attempts by `now` of `duration`, at that pace to its end, would
/// pass `limit` [`PACE_OVER`] times over (judged only past `limit / PACE_AFTER` attempts).
pub fn over_pace(made: u64, limit: u64, now: crate::time::Nanos, duration: crate::time::Nanos) -> Option<f64> {
    if made < limit / PACE_AFTER || now == 0 {
        return None;
    }
    let projected = made as f64 * duration as f64 / now as f64;
    (projected > PACE_OVER * limit as f64).then_some(projected)
}

/// The error a run whose pace would pass its attempt budget many times over stops with: a retry storm
/// (a nanosecond throttle reply and wait, say) that would otherwise take minutes to reach the budget.
pub fn over_budget_pace(made: u64, throttled: u64, projected: f64, limit: u64, now: crate::time::Nanos) -> Error {
    Error::TooLarge(format!(
        "the run stopped {}: it had made {} attempts ({:.1} % of them throttled), and at that pace it would make \
         about {} by its end, more than the {} allowed without --allow-large; lengthen the retry wait or the \
         throttle latency, lower the load, shorten the duration, or pass --allow-large",
        at(now),
        human(made as f64),
        100.0 * throttled as f64 / made.max(1) as f64,
        human(projected),
        human(limit as f64)
    ))
}

/// The error a run that would pass its memory budget stops with.
pub fn over_budget_memory(held: u64, limit: u64, now: crate::time::Nanos) -> Error {
    Error::TooLarge(format!(
        "the run stopped {}: it held {} of memory (requests, events, limiter logs) and was about to grow past \
         the {} allowed without --allow-large; lower the load, shorten long windows, or pass --allow-large",
        at(now),
        bytes(held as f64),
        bytes(limit as f64)
    ))
}

/// Bytes in words: `64 MB`, `4.0 GiB`.
fn bytes(n: f64) -> String {
    if n >= (1u64 << 30) as f64 { format!("{:.1} GiB", n / (1u64 << 30) as f64) } else { format!("{:.0} MB", n / 1e6) }
}

fn human(n: f64) -> String {
    if n < 1e6 { format!("{n:.0}") } else { format!("{n:.1e}") }
}

/// Refuses `runs` runs of work `work` past the limits, unless `allow_large`. `what` names the run in the
/// message (`the run`, `the sweep`).
pub fn check(work: &Work, runs: f64, allow_large: bool, what: &str) -> Result<(), Error> {
    let limit = limit_attempts()?;
    let max_memory = limit_memory()?;
    if allow_large || ALLOW_LARGE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let attempts = work.attempts * runs;
    let culprit = match &work.heaviest {
        Some((name, a)) if work.attempts > 0.0 => {
            format!(" (client `{name}` makes {:.0} % of them)", 100.0 * a / work.attempts)
        }
        _ => String::new(),
    };
    if attempts.is_nan() || attempts > limit {
        return Err(Error::TooLarge(format!(
            "{what} would make about {} attempts{culprit}, more than the {} allowed without --allow-large; \
             shorten the duration, lower the load, or pass --allow-large",
            human(attempts),
            human(limit)
        )));
    }
    if work.memory.is_nan() || work.memory > max_memory {
        return Err(Error::TooLarge(format!(
            "{what} would hold about {} of requests in flight, more than the {} allowed without \
             --allow-large; lower the load or pass --allow-large",
            bytes(work.memory),
            bytes(max_memory)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(client: &str, server: &str) -> Scenario {
        let text = format!(
            "name = \"w\"\nstart = \"2026-11-26T09:00:00+08:00\"\nduration = \"1d\"\n{server}\n[[api]]\nname = \"A\"\n\
             latency = {{ dist = \"exponential\", mean = \"500ms\" }}\n[[account]]\nname = \"acme\"\n\
             [[client]]\nname = \"c\"\naccount = \"acme\"\napi = \"A\"\n{client}\n"
        );
        Scenario::parse(&text, "w.toml").unwrap()
    }

    #[test]
    fn absurd_work_is_refused_and_ordinary_work_is_not() {
        let ordinary = estimate(&scenario("model = \"closed\"\nthreads = 8", ""));
        // 8 threads at 500 ms against 2 QPS for a day: 2 admitted and 7 / 1.01 throttled a second.
        assert!((ordinary.attempts / 86_400.0 - (2.0 + 7.0 / 1.01)).abs() < 1e-9, "{ordinary:?}");
        assert!(check(&ordinary, 1.0, false, "the run").is_ok());
        let flood = estimate(&scenario("model = \"open\"\nrate = 1e9", ""));
        let e = check(&flood, 1.0, false, "the run").unwrap_err().to_string();
        assert!(e.contains("--allow-large") && e.contains("client `c`"), "{e}");
        assert!(check(&flood, 1.0, true, "the run").is_ok());
        let million = estimate(&scenario("model = \"closed\"\nthreads = 1000000", ""));
        assert!(check(&million, 1.0, false, "the run").is_err());
        // A nanosecond throttle reply and no wait: the throttled threads alone would send 10^9 a second.
        let spin = estimate(&scenario(
            "model = \"closed\"\nthreads = 8\nretry = { policy = \"fixed\", wait = \"0s\", max_attempts = 4294967295 }",
            "[server]\nthrottle_latency = \"1ns\"",
        ));
        assert!(check(&spin, 1.0, false, "the run").is_err());
        // A one-nanosecond spike to 10^9 a second: few arrivals, but thinning draws at 10^9 a second all day.
        let spike = estimate(&scenario(
            "model = \"open\"\nshape = \"ramp\"\nstages = [{ duration = \"1ns\", rate = 1e9 }, { duration = \"1ns\", \
                rate = 0 }]",
            "",
        ));
        assert!(check(&spike, 1.0, false, "the run").is_err(), "{spike:?}");
    }

    #[test]
    fn only_a_pace_far_past_the_budget_stops_a_run() {
        let (limit, duration) = (1_000_000_000, 600_000_000_000);
        // Too little work to judge yet, whatever its pace.
        assert_eq!(over_pace(limit / PACE_AFTER - 1, limit, 1, duration), None);
        // Steady work that ends at the budget, or at eight times it, goes on.
        assert_eq!(over_pace(limit / 10, limit, duration / 10, duration), None);
        assert_eq!(over_pace(limit / 10, limit, duration / 80, duration), None);
        // Past eight times it: stopped, with the projection.
        let projected = over_pace(limit / 10, limit, duration / 100, duration).unwrap();
        assert!((projected - 10.0 * limit as f64).abs() < 1.0, "{projected}");
    }
}
