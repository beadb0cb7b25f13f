//! The strategies of Farkiani, Liu and Crowley at run time: an ATB or AATB client's token bucket with its
//! queue of waiting attempts (FIFO, woken when the next token is there), AATB's reports to its scope's
//! aggregator and the answers that come back a telemetry delay later, and window-based backoff's count of
//! the successes the client has learned of. The arithmetic is `workload::adaptive`'s; this is when it runs.

use super::super::{Engine, Event, Kind, Observer};
use crate::queue::EventQueue;
use crate::time::{NANOS_PER_SEC, Nanos};
use crate::workload::adaptive::{AATB_TOKENS_AFTER_THROTTLE, Aggregator, Bucket, MIN_RATE, MIN_STEP, Telemetry};
use crate::workload::{Adaptive, ClientModel, RetryPolicy};
use rand::RngExt;
use std::collections::VecDeque;

/// An ATB or AATB client's bucket and what waits for it.
pub(in crate::engine) struct BucketState {
    pub(in crate::engine) bucket: Bucket,
    /// ATB: the rate that drew the last throttle.
    last_congestion: f64,
    waiting: VecDeque<u32>,
    /// The instant of the one wake-up that counts (`Nanos::MAX`: none); earlier ones scheduled are stale.
    wake: Nanos,
    /// AATB: the aggregator, attempts learned of since the last report and in the one before, and the
    /// last rate change and throttle report.
    aggregator: u32,
    sent: u64,
    archived_sent: u64,
    last_rate_change: Nanos,
    last_throttle_report: Option<Nanos>,
    /// Answers on their way back, in the order they were asked for.
    answers: VecDeque<Answer>,
}

/// What an aggregator answered, and to what.
#[derive(Clone, Copy)]
enum Answer {
    Routine(Telemetry),
    Throttle(Telemetry),
}

impl BucketState {
    fn new(bucket: Bucket, last_congestion: f64, aggregator: u32) -> Box<BucketState> {
        Box::new(BucketState {
            bucket,
            last_congestion,
            waiting: VecDeque::new(),
            wake: Nanos::MAX,
            aggregator,
            sent: 0,
            archived_sent: 0,
            last_rate_change: 0,
            last_throttle_report: None,
            answers: VecDeque::new(),
        })
    }
}

/// Per client of a window-based backoff: when it learned of each success still within its window.
pub(in crate::engine) type Successes = VecDeque<Nanos>;

impl<'s, 'o, O: Observer, Q: EventQueue<Event>> Engine<'s, 'o, O, Q> {
    /// Makes each ATB and AATB client's bucket (and AATB's aggregators, one per scope owner).
    pub(in crate::engine) fn with_buckets(mut self) -> Self {
        for c in 0..self.sc.clients.len() {
            let client = &self.sc.clients[c];
            let state = match client.adaptive {
                Some(Adaptive::Atb(p)) => BucketState::new(Bucket::new(p.rate, p.burst, p.tokens), p.congestion, 0),
                Some(Adaptive::Aatb(p)) => {
                    let key = (p.scope, p.scope.owner(c, client.sub_account, client.account));
                    let id = super::shared(&mut self.aggregator_of, &mut self.aggregators, key, Aggregator::default);
                    BucketState::new(Bucket::new(p.rate, p.burst, p.tokens), 0.0, id)
                }
                _ => continue,
            };
            self.clients[c].bucket = Some(state);
        }
        self
    }

    /// Schedules each AATB client's first routine report, one period in.
    pub(in crate::engine) fn first_reports(&mut self) {
        for c in 0..self.sc.clients.len() {
            if let Some(Adaptive::Aatb(p)) = self.sc.clients[c].adaptive {
                self.schedule(p.period, Kind::Report(c as u32));
            }
        }
    }

    /// The bucket's gate, before an attempt of client `c` leaves: true if it takes a token now; else the
    /// attempt waits in line (false).
    #[inline]
    pub(in crate::engine) fn bucket_admits(&mut self, c: usize, slot: u32, now: Nanos) -> bool {
        let Some(state) = self.clients[c].bucket.as_mut() else { return true };
        if state.waiting.is_empty() && now >= state.bucket.ready_at() {
            state.bucket.take(now);
            return true;
        }
        state.waiting.push_back(slot);
        self.requests[slot as usize].queued_since = now;
        self.rearm(c, now);
        false
    }

    /// Schedules the wake-up for the first attempt waiting on client `c`'s bucket, if it moved.
    fn rearm(&mut self, c: usize, now: Nanos) {
        let Some(state) = self.clients[c].bucket.as_mut() else { return };
        if state.waiting.is_empty() {
            state.wake = Nanos::MAX;
            return;
        }
        let at = state.bucket.ready_at().max(now);
        if at != state.wake {
            state.wake = at;
            self.schedule(at, Kind::Token(c as u32));
        }
    }

    /// Client `c`'s bucket wakes: the attempts waiting go while there are tokens.
    pub(in crate::engine) fn token(&mut self, c: usize, now: Nanos) {
        let Some(state) = self.clients[c].bucket.as_mut() else { return };
        if state.wake != now {
            return;
        }
        state.wake = Nanos::MAX;
        loop {
            let Some(state) = self.clients[c].bucket.as_mut() else { return };
            let Some(&slot) = state.waiting.front() else { return };
            if now < state.bucket.ready_at() {
                return self.rearm(c, now);
            }
            state.waiting.pop_front();
            state.bucket.take(now);
            let req = &mut self.requests[slot as usize];
            req.queued += now - req.queued_since;
            self.send(slot, now);
        }
    }

    /// An ATB or AATB client learns an outcome at `now`. ATB steps its rate on each one; AATB counts the
    /// attempt and, on a throttle, reports it to its aggregator.
    pub(in crate::engine) fn steer_bucket(&mut self, c: usize, now: Nanos, throttled: bool) {
        let adaptive = self.sc.clients[c].adaptive;
        let Some(state) = self.clients[c].bucket.as_mut() else { return };
        match adaptive {
            Some(Adaptive::Atb(_)) if throttled => state.last_congestion = state.bucket.atb_throttle(),
            Some(Adaptive::Atb(p)) => state.bucket.atb_success(&p, state.last_congestion),
            Some(Adaptive::Aatb(_)) => {
                state.sent += 1;
                if throttled {
                    state.last_throttle_report = Some(now);
                    self.report(c, now, true);
                }
            }
            _ => return,
        }
        self.rearm(c, now);
    }

    /// The least wait before an AATB client retries: its throttle's answer comes first.
    #[inline]
    pub(in crate::engine) fn answer_delay(&self, c: usize) -> Nanos {
        match self.sc.clients[c].adaptive {
            Some(Adaptive::Aatb(p)) => p.delay,
            _ => 0,
        }
    }

    /// AATB client `c` reports to its aggregator at `now` (its routine report, or a throttle's) and hears
    /// back one delay later.
    fn report(&mut self, c: usize, now: Nanos, throttle: bool) {
        let Some(Adaptive::Aatb(p)) = self.sc.clients[c].adaptive else { return };
        let Some(state) = self.clients[c].bucket.as_mut() else { return };
        let aggregator = &mut self.aggregators[state.aggregator as usize];
        let seen = aggregator.snapshot(now, p.window);
        aggregator.record(now, c as u32, state.sent, throttle);
        state.archived_sent = state.sent;
        state.sent = 0;
        state.answers.push_back(if throttle { Answer::Throttle(seen) } else { Answer::Routine(seen) });
        self.schedule(now.saturating_add(p.delay), Kind::Reply(c as u32));
    }

    /// AATB client `c`'s routine report is due: sent unless a throttle was reported within the period,
    /// and due again a period later while the client has work.
    pub(in crate::engine) fn routine_report(&mut self, c: usize, now: Nanos) {
        let Some(Adaptive::Aatb(p)) = self.sc.clients[c].adaptive else { return };
        let state = &self.clients[c];
        // A finished batch stops reporting (the paper's client stops its scheduler when its work is done).
        if matches!(self.sc.clients[c].model, ClientModel::Batch { .. }) && state.finished_at.is_some() {
            return;
        }
        let quiet = state.bucket.as_ref().and_then(|s| s.last_throttle_report).is_none_or(|t| now - t >= p.period);
        if quiet {
            self.report(c, now, false);
        }
        self.schedule(now.saturating_add(p.period), Kind::Report(c as u32));
    }

    /// AATB client `c` hears its aggregator's answer: after a throttle it waits for the throttles its scope
    /// reported to be paid back at the server's rate and slows down; after a routine report it holds off
    /// a period if its scope was throttled, else it may speed up (once a period).
    pub(in crate::engine) fn reply(&mut self, c: usize, now: Nanos) {
        let Some(Adaptive::Aatb(p)) = self.sc.clients[c].adaptive else { return };
        let server_rate = p.server_rate.unwrap_or_else(|| self.server_rate(c));
        let client = &mut self.clients[c];
        let Some(state) = client.bucket.as_mut() else { return };
        let Some(answer) = state.answers.pop_front() else { return };
        let own = (state.archived_sent + state.sent) as f64;
        let b = &mut state.bucket;
        match answer {
            Answer::Throttle(seen) => {
                let wait = (seen.throttles + 1) as f64 / server_rate + client.adaptive.random::<f64>();
                let divisor = if own < 0.5 * seen.mean_sent() { 2.0 } else { 3.0 };
                b.rate = (b.rate / divisor).max(MIN_RATE);
                b.tokens = AATB_TOKENS_AFTER_THROTTLE.min(b.burst);
                state.last_rate_change = now;
                b.hold_until = now.saturating_add(secs(wait));
            }
            Answer::Routine(seen) if seen.throttles > 0 => {
                let spread = client.adaptive.random_range(-2.0..=2.0);
                let wait = (p.period as f64 / NANOS_PER_SEC as f64 + spread).max(0.0);
                b.hold_until = now.saturating_add(secs(wait));
            }
            Answer::Routine(seen) if now - state.last_rate_change >= p.period => {
                let mean = seen.mean_sent();
                let light = own < 0.75 * mean || seen.active == 1 || mean == 0.0;
                let step = if light { p.step_light } else { p.step_heavy };
                b.rate = (b.rate * step).max(b.rate + MIN_STEP);
                state.last_rate_change = now;
            }
            Answer::Routine(_) => {}
        }
        self.rearm(c, now);
    }

    /// The server's rate as an aggregator announces it by default: the limit in force on the client's
    /// (first) API.
    fn server_rate(&self, c: usize) -> f64 {
        let q = self.clients[c].quotas.first().copied().unwrap_or(0) as usize;
        let history = self.quotas.get(q).map(|q| q.history()).unwrap_or(&[]);
        history.last().map_or(1.0, |l| l.limit_qps.max(1) as f64)
    }

    /// Window-based backoff's gate, before an attempt of client `c` leaves: while the client knows of
    /// `limit` successes within the window, the attempt waits for the oldest to leave it (false).
    #[inline]
    pub(in crate::engine) fn window_admits(&mut self, c: usize, slot: u32, now: Nanos) -> bool {
        let RetryPolicy::Window { window, limit: Some(limit), .. } = self.sc.clients[c].retry else { return true };
        let successes = &mut self.clients[c].successes;
        while successes.front().is_some_and(|&t| t.saturating_add(window) <= now) {
            successes.pop_front();
        }
        if (successes.len() as u64) < limit {
            return true;
        }
        let at = successes[0].saturating_add(window);
        self.schedule(at, Kind::Retry(slot));
        false
    }

    /// A success client `c` learned of at `now`, for its window-based backoff.
    #[inline]
    pub(in crate::engine) fn note_success(&mut self, c: usize, now: Nanos) {
        if let RetryPolicy::Window { limit: Some(_), .. } = self.sc.clients[c].retry {
            self.clients[c].successes.push_back(now);
        }
    }
}

fn secs(s: f64) -> Nanos {
    (s * NANOS_PER_SEC as f64).round().clamp(0.0, Nanos::MAX as f64) as Nanos
}
