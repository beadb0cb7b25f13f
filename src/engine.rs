//! Engine: the discrete-event loop that plays clients against quotas.
//!
//! Events are ordered by (time, insertion sequence): two events at the same nanosecond run in the order they
//! were scheduled, so a run is a pure function of the scenario and its seed. A request lives in a slot of a
//! slab (closed-loop threads keep theirs for the whole run; open arrivals take a free one and give it back),
//! and the loop itself touches only flat arrays and small `Copy` events: no allocation after start-up and no
//! dynamic dispatch.
//!
//! An attempt is decided when it is sent (the platform admits or rejects at once, never queues); its caller
//! learns the outcome after the API's response time, or after the throttle latency when it was rejected.
//! Nothing at or after the scenario's end is processed: requests still waiting then are `unfinished`.

use crate::quota::Quota;
use crate::quota::plans::{PlanBook, PlanUsage, QuotaKey};
use crate::rng::{Purpose, StreamRng, stream};
use crate::scenario::Scenario;
use crate::stats::Recorder;
use crate::time::{Nanos, nanos_from_secs_f64};
use crate::workload::{Arrivals, ClientModel, RateShape};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// An open client's next request arrives.
    Arrival(u32),
    /// A request's next attempt is sent (a closed thread's first attempt of a new request, or a retry).
    Send(u32),
    /// An attempt's outcome reaches its caller.
    Return(u32),
    /// A plan starts or ends by the clock.
    PlanChange,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    time: Nanos,
    seq: u64,
    kind: Kind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// One request in flight.
#[derive(Clone, Copy, Debug, Default)]
struct Request {
    client: u32,
    /// Stats cell (sub-account × API) and quota (account × API) of the API this request calls.
    cell: u32,
    quota: u32,
    api: u32,
    first_send: Nanos,
    /// Attempts sent so far; 0 means the slot holds no request yet (a closed thread about to start one).
    attempts: u32,
    admitted: bool,
}

struct ClientState {
    arrivals: StreamRng,
    latency: StreamRng,
    think: StreamRng,
    mix: StreamRng,
    /// Open clients: how many requests have arrived (constant arrivals are placed exactly at k / rate).
    arrived: u64,
    /// Batch clients: requests not yet started, threads still working, and when the last one finished.
    backlog: u64,
    active: u64,
    finished_at: Option<Nanos>,
}

/// What a run produced: the counts, and each quota's limit history.
#[derive(Debug)]
pub struct RunOutput {
    pub recorder: Recorder,
    pub quotas: Vec<Quota>,
    pub plans: PlanUsage,
    /// Per client: when a batch client's last request finished (None for other clients, or unfinished).
    pub batch_done: Vec<Option<Nanos>>,
    /// Events processed; a measure of work for benchmarks.
    pub events: u64,
}

/// Options that shape the record of a run but not the run itself.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Width of the time-series bins.
    pub bin: Nanos,
}

impl RunOptions {
    pub fn for_scenario(scenario: &Scenario) -> RunOptions {
        RunOptions { bin: crate::stats::auto_bin(scenario.duration) }
    }
}

struct Engine<'s> {
    sc: &'s Scenario,
    queue: BinaryHeap<Event>,
    seq: u64,
    requests: Vec<Request>,
    free: Vec<u32>,
    clients: Vec<ClientState>,
    quotas: Vec<Quota>,
    plans: PlanBook,
    rec: Recorder,
}

/// Runs `scenario` to its end.
pub fn run(scenario: &Scenario, options: RunOptions) -> RunOutput {
    let mut engine = Engine::new(scenario, options);
    let events = engine.run();
    let batch_done = engine.clients.iter().map(|c| c.finished_at).collect();
    RunOutput { recorder: engine.rec, quotas: engine.quotas, plans: engine.plans.usage(), batch_done, events }
}

/// Index of the quota of (account, API) in [`RunOutput::quotas`].
pub fn quota_index(scenario: &Scenario, account: usize, api: usize) -> usize {
    account * scenario.apis.len() + api
}

/// Index of the stats cell of (sub-account, API) in the recorder.
pub fn cell_index(scenario: &Scenario, sub_account: usize, api: usize) -> usize {
    sub_account * scenario.apis.len() + api
}

impl<'s> Engine<'s> {
    fn new(sc: &'s Scenario, options: RunOptions) -> Engine<'s> {
        let keys: Vec<QuotaKey> = (0..sc.accounts.len())
            .flat_map(|account| {
                sc.apis.iter().enumerate().map(move |(api, a)| QuotaKey {
                    account,
                    api,
                    category: a.category,
                    payg_qps: sc.payg_qps[quota_index(sc, account, api)],
                })
            })
            .collect();
        let plans = PlanBook::new(&sc.plans, &keys, sc.start, sc.duration);
        let phase = sc.clock_phase();
        let quotas = keys
            .iter()
            .enumerate()
            .map(|(q, key)| {
                let (limit, plan) = plans.in_force(q, 0);
                Quota::new(key.account, key.api, sc.limiter, sc.on_plan_change, phase, limit, plan)
            })
            .collect::<Vec<_>>();
        let clients = (0..sc.clients.len() as u64)
            .map(|c| ClientState {
                arrivals: stream(sc.seed, c, Purpose::Arrivals),
                latency: stream(sc.seed, c, Purpose::Latency),
                think: stream(sc.seed, c, Purpose::Think),
                mix: stream(sc.seed, c, Purpose::ApiMix),
                arrived: 0,
                backlog: 0,
                active: 0,
                finished_at: None,
            })
            .collect();
        let rec = Recorder::new(sc.sub_accounts.len() * sc.apis.len(), quotas.len(), sc.duration, options.bin);
        Engine {
            sc,
            queue: BinaryHeap::new(),
            seq: 0,
            requests: Vec::new(),
            free: Vec::new(),
            clients,
            quotas,
            plans,
            rec,
        }
    }

    #[inline]
    fn schedule(&mut self, time: Nanos, kind: Kind) {
        if time < self.sc.duration {
            self.queue.push(Event { time, seq: self.seq, kind });
            self.seq += 1;
        }
    }

    fn run(&mut self) -> u64 {
        // Scheduled first, so a plan change precedes every other event at the same instant.
        for t in self.plans.change_times(self.sc.duration) {
            self.schedule(t, Kind::PlanChange);
        }
        for (c, client) in self.sc.clients.iter().enumerate() {
            let (threads, ramp_up) = match client.model {
                ClientModel::Closed { threads, ramp_up, .. } => (threads as u64, ramp_up),
                ClientModel::Batch { threads, requests, ramp_up, .. } => {
                    let started = (threads as u64).min(requests);
                    self.clients[c].backlog = requests - started;
                    self.clients[c].active = started;
                    (started, ramp_up)
                }
                ClientModel::Open { .. } => {
                    let first = self.next_arrival(c, 0);
                    self.schedule(first, Kind::Arrival(c as u32));
                    continue;
                }
            };
            for i in 0..threads {
                let slot = self.new_slot(c);
                let start = (ramp_up as u128 * i as u128 / threads as u128) as Nanos;
                self.schedule(start, Kind::Send(slot));
            }
        }
        let mut events = 0;
        while let Some(Event { time, kind, .. }) = self.queue.pop() {
            events += 1;
            match kind {
                Kind::Arrival(c) => {
                    let slot = self.new_slot(c as usize);
                    self.send(slot, time);
                    let next = self.next_arrival(c as usize, time);
                    self.schedule(next, Kind::Arrival(c));
                }
                Kind::Send(slot) => self.send(slot, time),
                Kind::Return(slot) => self.on_return(slot, time),
                Kind::PlanChange => self.refresh_limits(time),
            }
        }
        events
    }

    /// Puts in force, on every quota, the limit its plans give at `now`; a change starts a new phase.
    fn refresh_limits(&mut self, now: Nanos) {
        for q in 0..self.quotas.len() {
            let (limit, plan) = self.plans.in_force(q, now);
            if self.quotas[q].set_limit(now, limit, plan) {
                self.rec.new_phase(q);
            }
        }
    }

    /// When the open client `c`'s next request arrives, its previous one having arrived at `now`.
    fn next_arrival(&mut self, c: usize, now: Nanos) -> Nanos {
        let ClientModel::Open { ref shape, arrivals } = self.sc.clients[c].model else {
            unreachable!("only open clients have arrivals")
        };
        let state = &mut self.clients[c];
        match (shape, arrivals) {
            (RateShape::Flat(rate), Arrivals::Poisson) => {
                let gap: f64 = Exp1.sample(&mut state.arrivals);
                now.saturating_add(nanos_from_secs_f64(gap / rate))
            }
            (RateShape::Flat(rate), Arrivals::Constant) => {
                // Exact placement avoids drift from summing rounded gaps.
                let k = state.arrived;
                state.arrived += 1;
                nanos_from_secs_f64(k as f64 / rate)
            }
            // A rate that varies: thinning (Lewis and Shedler). Candidates come at the envelope rate and
            // each is kept with probability rate(t) / envelope, which gives a Poisson process of rate(t).
            (shape, _) => {
                let envelope = shape.max_rate();
                let mut t = now;
                loop {
                    let gap: f64 = Exp1.sample(&mut state.arrivals);
                    t = t.saturating_add(nanos_from_secs_f64(gap / envelope));
                    if t >= self.sc.duration || state.arrivals.random::<f64>() * envelope < shape.rate_at(t) {
                        return t;
                    }
                }
            }
        }
    }

    fn new_slot(&mut self, client: usize) -> u32 {
        let fresh = Request { client: client as u32, ..Request::default() };
        match self.free.pop() {
            Some(slot) => {
                self.requests[slot as usize] = fresh;
                slot
            }
            None => {
                self.requests.push(fresh);
                (self.requests.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn send(&mut self, slot: u32, now: Nanos) {
        let r = self.requests[slot as usize];
        let client = &self.sc.clients[r.client as usize];
        let mut req = r;
        if req.attempts == 0 {
            let api = client.apis.pick(&mut self.clients[r.client as usize].mix);
            req.api = api as u32;
            req.quota = quota_index(self.sc, client.account, api) as u32;
            req.cell = cell_index(self.sc, client.sub_account, api) as u32;
            req.first_send = now;
            self.rec.request(req.cell as usize, req.quota as usize);
        }
        req.attempts += 1;
        req.admitted = self.quotas[req.quota as usize].try_admit(now);
        self.rec.attempt(req.cell as usize, req.quota as usize, now, req.admitted);
        // A package's last call changes the limit at once, even mid-window.
        if req.admitted && self.plans.bill(req.quota as usize, now) {
            self.refresh_limits(now);
        }
        let back = if req.admitted {
            self.sc.apis[req.api as usize].latency.sample(&mut self.clients[r.client as usize].latency)
        } else {
            self.sc.throttle_latency
        };
        self.requests[slot as usize] = req;
        self.schedule(now.saturating_add(back), Kind::Return(slot));
    }

    #[inline]
    fn on_return(&mut self, slot: u32, now: Nanos) {
        let req = self.requests[slot as usize];
        let client = &self.sc.clients[req.client as usize];
        if req.admitted {
            self.rec.finished(req.cell as usize, req.quota as usize, now - req.first_send);
        } else if let Some(wait) = client.retry.wait_after(req.attempts) {
            self.schedule(now.saturating_add(wait), Kind::Send(slot));
            return;
        } else {
            self.rec.gave_up(req.cell as usize, req.quota as usize);
        }
        // The request is over: a closed thread starts its next one after thinking, so does a batch
        // thread while the backlog lasts, and an open slot is freed.
        let state = &mut self.clients[req.client as usize];
        let think = match &client.model {
            ClientModel::Closed { think, .. } => think,
            ClientModel::Batch { think, .. } if state.backlog > 0 => {
                state.backlog -= 1;
                think
            }
            ClientModel::Batch { .. } => {
                state.active -= 1;
                if state.active == 0 {
                    state.finished_at = Some(now);
                }
                return;
            }
            ClientModel::Open { .. } => {
                self.free.push(slot);
                return;
            }
        };
        self.requests[slot as usize].attempts = 0;
        if think.is_zero() {
            self.send(slot, now);
        } else {
            let pause = think.sample(&mut state.think);
            self.schedule(now.saturating_add(pause), Kind::Send(slot));
        }
    }
}
