//! Adaptive client-side strategies: what a client learns from its outcomes and how it holds back. Google
//! SRE throttling, AIMD pacing, and the adaptive token buckets of Farkiani, Liu and Crowley ("Rethinking
//! HTTP API Rate Limiting: A Client-Side Approach", 2025): ATB, each client on its own, and AATB, whose
//! clients also hear from a telemetry aggregator what their scope sent and how often it was throttled.
//! The buckets' arithmetic lives here ([`Bucket`]); the engine schedules it.

use super::BudgetScope;
use crate::time::{NANOS_PER_SEC, Nanos};

/// Adaptive client-side throttling: the client decides from recent outcomes whether, or when, to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Adaptive {
    /// Google SRE's client-side throttling: before each attempt, reject it locally with probability
    /// max(0, (requests − k × accepts) / (requests + 1)), counted over the last `window`.
    Sre { k: f64, window: Nanos },
    /// A pacing rate (attempts per second) that grows by `increase` for every second without a throttle and
    /// is multiplied by `decrease` at each throttle reply, kept within [min_rate, max_rate]; it starts at
    /// `start`. It steers the client's pacer (one of burst 1 is made if the client has none).
    Aimd { increase: f64, decrease: f64, min_rate: f64, max_rate: f64, start: f64 },
    /// ATB: every attempt takes a token from the client's own bucket.
    Atb(Atb),
    /// AATB: ATB's bucket steered by the scope's telemetry instead of by each success.
    Aatb(Aatb),
}

/// ATB's parameters (rates per second). On a success the rate grows by `step_below` while it is under the
/// rate that drew the last throttle, by `step_above` past it (at least by [`MIN_STEP`]); on a throttle the
/// rate that drew it is remembered, the rate halves (down to [`MIN_RATE`]) and the bucket empties.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Atb {
    pub rate: f64,
    pub burst: f64,
    pub tokens: f64,
    /// The rate taken to have drawn a throttle before any did.
    pub congestion: f64,
    pub step_below: f64,
    pub step_above: f64,
}

/// AATB's parameters (rates per second). The rate never grows on a success: every `period` the client
/// reports what it sent to its scope's aggregator and, `delay` later, hears what the scope sent over the
/// last `window` (and which clients were active over twice that) and how many throttles were reported. If
/// any were, it holds off for about a period; else, at most once a period, it raises its rate by
/// `step_light` if it sent under 3/4 of the scope's mean per client (or is alone), by `step_heavy`
/// otherwise. A throttle is reported at once; the answer sets its wait to (throttles reported + 1) /
/// `server_rate` plus up to a second, and divides its rate by 2 if it sent under half the mean, by 3
/// otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aatb {
    pub rate: f64,
    pub burst: f64,
    pub tokens: f64,
    pub step_light: f64,
    pub step_heavy: f64,
    pub period: Nanos,
    pub window: Nanos,
    pub delay: Nanos,
    /// The server's token rate per second as the aggregator announces it (None: the limit in force).
    pub server_rate: Option<f64>,
    pub scope: BudgetScope,
}

/// The least step of a rate increase, per second (the paper's 0.01).
pub const MIN_STEP: f64 = 0.01;
/// The least rate, per second (the paper's 0.01).
pub const MIN_RATE: f64 = 0.01;
/// The tokens an AATB bucket is left with after a throttle's answer (the paper's 1.1).
pub const AATB_TOKENS_AFTER_THROTTLE: f64 = 1.1;

/// An adaptive token bucket: `tokens` as of `last` (the instant of the last take), filling at `rate` a
/// second up to `burst`; no attempt leaves before `hold_until`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub rate: f64,
    pub burst: f64,
    pub tokens: f64,
    pub last: Nanos,
    pub hold_until: Nanos,
}

impl Bucket {
    pub fn new(rate: f64, burst: f64, tokens: f64) -> Bucket {
        Bucket { rate, burst, tokens: tokens.min(burst), last: 0, hold_until: 0 }
    }

    /// The first instant an attempt may take a token: when the bucket holds one, and not before the hold.
    /// Rounded up to the nanosecond, so that a token is always there at that instant.
    pub fn ready_at(&self) -> Nanos {
        let full = if self.tokens >= 1.0 {
            self.last
        } else {
            let wait = ((1.0 - self.tokens) / self.rate * NANOS_PER_SEC as f64).ceil();
            self.last.saturating_add(if wait.is_finite() { wait as Nanos } else { Nanos::MAX })
        };
        full.max(self.hold_until)
    }

    /// An attempt takes a token at `now` (at or after [`Bucket::ready_at`]).
    pub fn take(&mut self, now: Nanos) {
        let filled = self.tokens + now.saturating_sub(self.last) as f64 * self.rate / NANOS_PER_SEC as f64;
        self.tokens = (filled.min(self.burst) - 1.0).max(0.0);
        self.last = now;
    }

    /// ATB learns a success: its rate grows.
    pub fn atb_success(&mut self, p: &Atb, last_congestion: f64) {
        let step = if self.rate < last_congestion { p.step_below } else { p.step_above };
        self.rate = (self.rate * step).max(self.rate + MIN_STEP);
    }

    /// ATB learns a throttle: it returns the rate that drew it, halves its rate and empties the bucket.
    pub fn atb_throttle(&mut self) -> f64 {
        let drew = self.rate;
        self.rate = (self.rate / 2.0).max(MIN_RATE);
        self.tokens = 0.0;
        drew
    }
}

/// What an AATB aggregator answers: over its window, what the scope sent and the throttles reported, and
/// how many distinct clients reported over twice the window (at least 1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Telemetry {
    pub sent: u64,
    pub throttles: u64,
    pub active: u64,
}

impl Telemetry {
    /// The scope's mean sent per active client.
    pub fn mean_sent(&self) -> f64 {
        self.sent as f64 / self.active.max(1) as f64
    }
}

/// An AATB aggregator: the reports of its scope, kept while they count (within twice the window).
#[derive(Clone, Debug, Default)]
pub struct Aggregator {
    /// (when, client, sent, a throttle's report) in the order they arrived.
    reports: std::collections::VecDeque<(Nanos, u32, u64, bool)>,
}

impl Aggregator {
    /// What the aggregator knows at `now`, before it counts the report arriving then: sent and throttles
    /// over (now − window, now), clients over (now − 2 window, now).
    pub fn snapshot(&mut self, now: Nanos, window: Nanos) -> Telemetry {
        if let Some(horizon) = now.checked_sub(window.saturating_mul(2)) {
            while self.reports.front().is_some_and(|r| r.0 <= horizon) {
                self.reports.pop_front();
            }
        }
        let from = now.checked_sub(window);
        let recent = |t: Nanos| from.is_none_or(|f| t > f);
        let mut t = Telemetry::default();
        let mut clients: Vec<u32> = Vec::new();
        for &(at, client, sent, throttle) in &self.reports {
            if recent(at) {
                t.sent += sent;
                t.throttles += u64::from(throttle);
            }
            if let Err(i) = clients.binary_search(&client) {
                clients.insert(i, client);
            }
        }
        t.active = (clients.len() as u64).max(1);
        t
    }

    pub fn record(&mut self, now: Nanos, client: u32, sent: u64, throttle: bool) {
        self.reports.push_back((now, client, sent, throttle));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = NANOS_PER_SEC;

    #[test]
    fn a_bucket_waits_for_its_next_token_and_its_hold() {
        let mut b = Bucket::new(2.0, 3.0, 1.0);
        assert_eq!(b.ready_at(), 0);
        b.take(0);
        assert_eq!(b.tokens, 0.0);
        assert_eq!(b.ready_at(), S / 2);
        b.take(S / 2);
        // Three seconds idle fill it to its burst, not beyond.
        b.take(S / 2 + 3 * S);
        assert_eq!(b.tokens, 2.0);
        b.hold_until = 10 * S;
        assert_eq!(b.ready_at(), 10 * S);
    }

    #[test]
    fn atb_steps_differ_below_and_above_the_last_throttle() {
        let p = Atb { rate: 1.0, burst: 4.0, tokens: 1.0, congestion: 5.0, step_below: 1.5, step_above: 1.2 };
        let mut b = Bucket::new(p.rate, p.burst, p.tokens);
        b.atb_success(&p, 5.0);
        assert!((b.rate - 1.5).abs() < 1e-12);
        let drew = b.atb_throttle();
        assert_eq!((drew, b.rate, b.tokens), (1.5, 0.75, 0.0));
        b.atb_success(&p, 0.5);
        assert!((b.rate - 0.9).abs() < 1e-12);
        b.rate = 0.001;
        b.atb_success(&p, 0.5);
        assert!((b.rate - 0.011).abs() < 1e-12, "the least step is 0.01: {}", b.rate);
    }

    #[test]
    fn an_aggregator_counts_its_window_and_twice_it_for_clients() {
        let mut a = Aggregator::default();
        a.record(S, 0, 5, false);
        a.record(20 * S, 1, 3, true);
        a.record(40 * S, 2, 7, false);
        let t = a.snapshot(45 * S, 30 * S);
        assert_eq!(t, Telemetry { sent: 10, throttles: 1, active: 3 });
        let t = a.snapshot(61 * S, 30 * S);
        assert_eq!(t, Telemetry { sent: 7, throttles: 0, active: 2 });
    }
}
