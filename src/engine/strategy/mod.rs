//! The client side of a request's life: the strategies' state (a pacer, GCRA on the client's side with
//! its queue; Google SRE adaptive throttling's sliding history; an AIMD pacing rate; retry budgets) and
//! the hooks the loop calls: [`Engine::leave`] before an attempt leaves, [`Engine::after_throttle`] when
//! one is throttled (retry or give up, and the wait), and [`Engine::on_outcome`] when the caller learns
//! the outcome. The loop itself knows only that an attempt is sent, decided and returned.

mod buckets;

pub(super) use buckets::{BucketState, Successes};

use super::{AttemptOutcome, Engine, Event, Kind, NO_BUDGET, Observer, Outcome, Request};
use crate::queue::EventQueue;
use crate::time::Nanos;
use crate::workload::RetryContext;
use crate::workload::{Adaptive, BudgetScope};
use rand::RngExt;
use std::collections::HashMap;

/// An AIMD pacing rate and when it last changed.
#[derive(Clone, Copy)]
pub(super) struct AimdState {
    pub(super) rate: f64,
    pub(super) last: Nanos,
}

/// Google SRE client-side throttling's history: requests and accepts in the buckets of a sliding window.
pub(super) struct SreState {
    k: f64,
    width: Nanos,
    /// Per bucket (requests, accepts); `current` is the index (time / width) of the newest bucket.
    buckets: [(u64, u64); crate::scenario::SRE_BUCKETS],
    current: u64,
    requests: u64,
    accepts: u64,
}

impl SreState {
    pub(super) fn new(k: f64, window: Nanos) -> SreState {
        let width = window / crate::scenario::SRE_BUCKETS as Nanos;
        SreState { k, width, buckets: [(0, 0); crate::scenario::SRE_BUCKETS], current: 0, requests: 0, accepts: 0 }
    }

    /// Moves the window to `now`, forgetting the buckets that fell out of it.
    fn advance(&mut self, now: Nanos) -> usize {
        let n = crate::scenario::SRE_BUCKETS as u64;
        let idx = now / self.width;
        let stale = (idx - self.current).min(n);
        for i in 1..=stale {
            let b = &mut self.buckets[((self.current + i) % n) as usize];
            self.requests -= b.0;
            self.accepts -= b.1;
            *b = (0, 0);
        }
        self.current = idx;
        (idx % n) as usize
    }

    /// Counts a request and says whether to reject it locally, with `u` uniform on [0, 1).
    pub(super) fn reject(&mut self, now: Nanos, u: f64) -> bool {
        let b = self.advance(now);
        let p = ((self.requests as f64 - self.k * self.accepts as f64) / (self.requests as f64 + 1.0)).max(0.0);
        self.buckets[b].0 += 1;
        self.requests += 1;
        u < p
    }

    pub(super) fn accepted(&mut self, now: Nanos) {
        let b = self.advance(now);
        self.buckets[b].1 += 1;
        self.accepts += 1;
    }
}

/// A client-side pacer's state: GCRA's theoretical arrival time and the attempts waiting, in order.
pub(super) struct Pacer {
    pub(super) pace: crate::workload::Pace,
    pub(super) tat: Nanos,
    pub(super) waiting: std::collections::VecDeque<u32>,
}

impl Pacer {
    /// The first instant an attempt conforms.
    pub(super) fn conforming(&self) -> Nanos {
        self.tat.saturating_sub((self.pace.burst - 1).saturating_mul(self.pace.interval))
    }

    pub(super) fn take(&mut self, now: Nanos) {
        self.tat = self.tat.max(now).saturating_add(self.pace.interval);
    }
}

/// The state a (scope, owner) shares, by its index in `states`: the one it has, or one made by `make`.
pub(super) fn shared<T>(
    of: &mut HashMap<(BudgetScope, usize), u32>,
    states: &mut Vec<T>,
    key: (BudgetScope, usize),
    make: impl FnOnce() -> T,
) -> u32 {
    let next = states.len() as u32;
    let id = *of.entry(key).or_insert(next);
    if id == next {
        states.push(make());
    }
    id
}

impl<'s, 'o, O: Observer, Q: EventQueue<Event>> Engine<'s, 'o, O, Q> {
    /// Makes the budget state each client's own sub-account draws on.
    pub(super) fn with_budgets(mut self) -> Self {
        for c in 0..self.sc.clients.len() {
            let client = &self.sc.clients[c];
            if client.budget.is_some() {
                self.clients[c].budget = self.budget_for(c, client.sub_account);
            }
            if client.pace.is_some() {
                self.clients[c].pacer = self.pacer_for(c, client.sub_account);
            }
            // AIMD steers a pacer: the client's own, or one made for it.
            if let (Some(Adaptive::Aimd { start, .. }), NO_BUDGET) = (client.adaptive, self.clients[c].pacer) {
                self.clients[c].pacer = self.pacers.len() as u32;
                let pace = crate::workload::Pace::new(start, 1, None);
                self.pacers.push(Pacer { pace, tat: 0, waiting: Default::default() });
            }
        }
        self
    }

    /// An AIMD client learned an outcome at `now`: its rate grows with the time since the last change, or
    /// falls by its factor at a throttle; its pacer follows.
    pub(super) fn steer(&mut self, c: usize, now: Nanos, throttled: bool) {
        let (increase, decrease, min_rate, max_rate) = match self.sc.clients[c].adaptive {
            Some(Adaptive::Aimd { increase, decrease, min_rate, max_rate, .. }) => {
                (increase, decrease, min_rate, max_rate)
            }
            Some(Adaptive::Atb(_) | Adaptive::Aatb(_)) => return self.steer_bucket(c, now, throttled),
            _ => return,
        };
        let state = &mut self.clients[c];
        let Some(aimd) = state.aimd.as_mut() else { return };
        aimd.rate = if throttled {
            aimd.rate * decrease
        } else {
            aimd.rate + increase * (now - aimd.last) as f64 / crate::time::NANOS_PER_SEC as f64
        }
        .clamp(min_rate, max_rate);
        aimd.last = now;
        let rate = aimd.rate;
        let pacer = state.pacer as usize;
        if let Some(p) = self.pacers.get_mut(pacer) {
            p.pace.interval = crate::workload::Pace::new(rate, p.pace.burst, p.pace.queue_limit).interval;
        }
    }

    /// The pacer a request of client `c` from `sub_account` passes, made at first use.
    pub(super) fn pacer_for(&mut self, c: usize, sub_account: usize) -> u32 {
        let client = &self.sc.clients[c];
        let Some((pace, scope)) = client.pace else { return NO_BUDGET };
        let key = (scope, scope.owner(c, sub_account, client.account));
        shared(&mut self.pacer_of, &mut self.pacers, key, || Pacer { pace, tat: 0, waiting: Default::default() })
    }

    /// The budget a request of client `c` from `sub_account` draws on, made at first use.
    pub(super) fn budget_for(&mut self, c: usize, sub_account: usize) -> u32 {
        let client = &self.sc.clients[c];
        let Some((budget, scope)) = client.budget else { return NO_BUDGET };
        let key = (scope, scope.owner(c, sub_account, client.account));
        shared(&mut self.budget_of, &mut self.budget_tokens, key, || budget.full())
    }

    /// Pacer `p` lets its first waiting attempt go, and wakes again for the next.
    pub(super) fn release(&mut self, p: usize, now: Nanos) {
        let pacer = &mut self.pacers[p];
        let Some(slot) = pacer.waiting.pop_front() else { return };
        pacer.take(now);
        let next = (!pacer.waiting.is_empty()).then(|| pacer.conforming().max(now));
        let req = &mut self.requests[slot as usize];
        req.queued += now - req.queued_since;
        if let Some(at) = next {
            self.schedule(at, Kind::Release(p as u32));
        }
        self.send(slot, now);
    }

    /// An attempt the client keeps back (refused by its adaptive throttle, or dropped by a full pacing
    /// queue): counted, and the caller learns of it after the throttle latency, like a platform throttle, so
    /// a closed thread never spins at one instant.
    #[cold]
    fn kept_back(&mut self, slot: u32, now: Nanos, outcome: Outcome) {
        let req = &mut self.requests[slot as usize];
        req.outcome = outcome;
        let (cell, quota) = (req.cell as usize, req.quota as usize);
        let seen = if outcome == Outcome::Dropped {
            self.rec.dropped(cell, quota);
            AttemptOutcome::Dropped
        } else {
            self.rec.rejected_locally(cell, quota);
            AttemptOutcome::RejectedLocally
        };
        if O::ATTEMPTS {
            let attempt = req.attempts + 1;
            self.see(slot, now, attempt, seen);
        }
        let back = now.saturating_add(self.sc.throttle_latency);
        self.schedule(back, Kind::Return(slot));
    }

    /// The first hook, before an attempt leaves the client: an adaptive (SRE) client may refuse it locally;
    /// then it leaves at once, or through its pacer (in FIFO order, when the pacer allows), or, with the
    /// pacer's queue full, not at all (the request is dropped).
    #[inline]
    pub(super) fn leave(&mut self, slot: u32, now: Nanos) {
        let c = self.requests[slot as usize].client as usize;
        let state = &mut self.clients[c];
        if let Some(sre) = state.sre.as_mut() {
            let u = state.adaptive.random::<f64>();
            if sre.reject(now, u) {
                return self.kept_back(slot, now, Outcome::RejectedLocally);
            }
        }
        if state.gated && (!self.window_admits(c, slot, now) || !self.bucket_admits(c, slot, now)) {
            return;
        }
        let p = self.requests[slot as usize].pacer;
        if p == NO_BUDGET {
            return self.send(slot, now);
        }
        let pacer = &mut self.pacers[p as usize];
        if pacer.waiting.is_empty() && now >= pacer.conforming() {
            pacer.take(now);
            return self.send(slot, now);
        }
        if pacer.pace.queue_limit.is_some_and(|limit| pacer.waiting.len() >= limit) {
            return self.kept_back(slot, now, Outcome::Dropped);
        }
        pacer.waiting.push_back(slot);
        let first = pacer.waiting.len() == 1;
        let at = pacer.conforming().max(now);
        self.requests[slot as usize].queued_since = now;
        if first {
            self.schedule(at, Kind::Release(p));
        }
    }

    /// The second hook, for a throttled attempt: the retry policy and budget decide at once whether the
    /// request retries (and after what wait, which may use the platform's next admission) or gives up;
    /// the caller learns of it only when the reply is back. A give-up is counted here.
    #[inline]
    pub(super) fn after_throttle(&mut self, req: &mut Request, now: Nanos) {
        // The give-up is decided, and counted, when the attempt with no retry left is rejected; the
        // caller still learns of it only when the reply is back. So is the wait, which may use what the
        // platform's reply says (the next instant it would admit).
        let client = &self.sc.clients[req.client as usize];
        let policy = client.retry;
        let budget = client.budget.filter(|_| req.budget != NO_BUDGET);
        let tokens = budget.map(|_| &mut self.budget_tokens[req.budget as usize]);
        let refused = match (budget, tokens) {
            (Some((b, _)), Some(tokens)) if policy.retries_after(req.attempts) => !b.allow_retry(tokens),
            (Some((b, _)), Some(tokens)) => {
                b.note_failure(tokens);
                false
            }
            _ => false,
        };
        if refused {
            req.outcome = Outcome::GaveUp;
            self.rec.budget_refused(req.cell as usize, req.quota as usize);
        } else if policy.retries_after(req.attempts) {
            req.outcome = Outcome::Retry;
            let ctx = RetryContext {
                attempts: req.attempts,
                previous_wait: req.wait,
                retry_after: self.quotas[req.quota as usize].next_admit(now, req.cost) - now,
            };
            req.wait = policy.wait(ctx, &mut self.clients[req.client as usize].retry);
        } else {
            req.outcome = Outcome::GaveUp;
            self.rec.gave_up(req.cell as usize, req.quota as usize);
        }
    }

    /// The caller learns an attempt's outcome: the strategies see it (SRE's accepts, AIMD's rate, the
    /// budget's refund) and a retry is scheduled. True when the request goes on (a retry), false when it
    /// is over.
    #[inline]
    pub(super) fn on_outcome(&mut self, slot: u32, req: &Request, now: Nanos) -> bool {
        let client = &self.sc.clients[req.client as usize];
        match req.outcome {
            Outcome::Admitted => {
                self.rec.finished(req.cell as usize, req.quota as usize, now - req.first_send);
                if req.queued > 0 {
                    self.rec.queued(req.cell as usize, req.quota as usize, req.queued);
                }
                if let Some(sre) = self.clients[req.client as usize].sre.as_mut() {
                    sre.accepted(now);
                }
                self.steer(req.client as usize, now, false);
                if self.clients[req.client as usize].gated {
                    self.note_success(req.client as usize, now);
                }
                if let (Some((b, _)), false) = (client.budget, req.budget == NO_BUDGET) {
                    b.note_success(&mut self.budget_tokens[req.budget as usize]);
                }
            }
            Outcome::Retry => {
                self.steer(req.client as usize, now, true);
                let wait = match self.clients[req.client as usize].gated {
                    true => req.wait.max(self.answer_delay(req.client as usize)),
                    false => req.wait,
                };
                self.schedule(now.saturating_add(wait), Kind::Retry(slot));
                return true;
            }
            Outcome::GaveUp => self.steer(req.client as usize, now, true),
            Outcome::Dropped | Outcome::RejectedLocally => {}
        }
        false
    }
}
