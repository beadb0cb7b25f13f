//! The client-side strategies' state during a run: a pacer (GCRA on the client's side, with its queue),
//! Google SRE adaptive throttling's sliding history, and an AIMD pacing rate. The engine keeps one per
//! client or scope and asks them before an attempt leaves and after its outcome.

use super::{Engine, Event, Kind, NO_BUDGET, Observer};
use crate::queue::EventQueue;
use crate::time::Nanos;
use crate::workload::Adaptive;

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
        let Some(Adaptive::Aimd { increase, decrease, min_rate, max_rate, .. }) = self.sc.clients[c].adaptive else {
            return;
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
        let owner = scope.owner(c, sub_account, client.account);
        let next = self.pacers.len() as u32;
        let id = *self.pacer_of.entry((scope, owner)).or_insert(next);
        if id == next {
            self.pacers.push(Pacer { pace, tat: 0, waiting: Default::default() });
        }
        id
    }

    /// The budget a request of client `c` from `sub_account` draws on, made at first use.
    pub(super) fn budget_for(&mut self, c: usize, sub_account: usize) -> u32 {
        let client = &self.sc.clients[c];
        let Some((budget, scope)) = client.budget else { return NO_BUDGET };
        let owner = scope.owner(c, sub_account, client.account);
        let next = self.budget_tokens.len() as u32;
        let id = *self.budget_of.entry((scope, owner)).or_insert(next);
        if id == next {
            self.budget_tokens.push(budget.full());
        }
        id
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
}
