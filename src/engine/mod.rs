//! Engine: the discrete-event loop that plays clients against quotas.
//!
//! Events are ordered by (time, insertion sequence): two events at the same nanosecond run in the order they
//! were scheduled, so a run is a pure function of the scenario and its seed. They wait in a monotone radix
//! heap ([`crate::queue`]), which stays fast with a million pending events. A request lives in a slot of a
//! slab (closed-loop and batch threads keep theirs for the whole run; open arrivals and trace rows take a
//! free one and give it back), and the loop itself touches only flat arrays and small `Copy` events: no
//! allocation in steady state and no dynamic dispatch.
//!
//! An attempt is decided when it is sent (the platform admits or rejects at once, never queues); its caller
//! learns the outcome after the response time, or after the throttle latency when it was rejected.
//! Nothing at or after the scenario's end is processed: requests still waiting then are `unfinished`.
//!
//! A trace client is read one row ahead: its next row's arrival is the only event it has queued, so a
//! replay holds one row in memory whatever the file's length. Callers it meets become sub-accounts as they
//! appear.

use crate::Error;
use crate::prefetch::prefetch;
use crate::queue::{EventQueue, RadixQueue};
use crate::quota::Quota;
use crate::quota::plans::{PlanBook, QuotaKey};
use crate::rng::{Purpose, StreamRng, stream};
use crate::scenario::Scenario;
use crate::stats::Recorder;
use crate::time::{Nanos, nanos_from_secs_f64};
use crate::workload::trace::{TraceEvent, TraceSource};
use crate::workload::{Adaptive, Arrivals, BudgetScope, ClientModel, Cost, RateBounds, RateShape};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use std::collections::BinaryHeap;
use std::collections::HashMap;

mod api;
mod arrivals;
mod clairvoyant;
mod event;
mod strategy;
mod sub_accounts;

pub use api::{
    AttemptOutcome, AttemptSeen, Budget, Observer, PROGRESS_EVERY, Progress, RunOptions, RunOutput, TraceRead,
};
use event::{Event, Kind};
use strategy::{AimdState, BucketState, Pacer, SreState, Successes};
use sub_accounts::SubAccounts;

/// Where a request stands after its last attempt was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Admitted,
    /// Throttled, with a retry to come once the reply is back.
    Retry,
    /// Throttled with no retry left: given up (counted when the attempt was rejected).
    GaveUp,
    /// Dropped by a full pacing queue, or rejected by the client's adaptive throttle: the caller learns of
    /// it after the throttle latency, like a platform throttle, so a closed thread never spins at one
    /// instant.
    Dropped,
    RejectedLocally,
}

/// One request in flight.
#[derive(Clone, Copy, Debug)]
struct Request {
    client: u32,
    /// Stats cell (sub-account × API) and quota (account × API) of the API this request calls.
    cell: u32,
    quota: u32,
    api: u32,
    first_send: Nanos,
    /// The response time a trace row gives, when `given_latency`; else one is drawn from the API's.
    latency: Nanos,
    attempts: u32,
    /// Units the request spends when admitted (only a quota with a unit limit looks at it).
    cost: u64,
    given_latency: bool,
    outcome: Outcome,
    /// The wait before the next attempt, chosen when the last one was throttled.
    wait: Nanos,
    /// The retry budget the request draws on ([`NO_BUDGET`] for none).
    budget: u32,
    /// The pacer its attempts pass ([`NO_BUDGET`] for none), when it last joined its queue, and the time
    /// it has waited there in all.
    pacer: u32,
    queued_since: Nanos,
    queued: Nanos,
}

const NO_BUDGET: u32 = u32::MAX;
/// How many events due soon have their requests read ahead (see `Engine::warm_soon`).
const WARM: usize = 4;
/// Request slots from which on they are warmed: fewer stay in the core's own cache (80 bytes each, about
/// 1.3 MB here), where warming only costs.
const WARM_FROM: usize = 1 << 14;

struct ClientState {
    arrivals: StreamRng,
    latency: StreamRng,
    think: StreamRng,
    mix: StreamRng,
    retry: StreamRng,
    /// Open clients: how many requests have arrived (constant arrivals are placed exactly at k / rate).
    arrived: u64,
    /// Batch clients: requests not yet started, threads still working, and when the last one finished.
    backlog: u64,
    active: u64,
    finished_at: Option<Nanos>,
    /// Trace clients: the file, the row read ahead, and the sub-account of each caller seen.
    trace: Option<Box<TraceSource>>,
    pending: Option<TraceEvent>,
    caller_sub: Vec<usize>,
    /// The client's own sub-account's cell and quota for each API it may call (by position in its API
    /// list); a cell is made at the first call ([`NO_CELL`] until then).
    cells: Vec<u32>,
    quotas: Vec<u32>,
    /// Trace callers' cells: `caller * apis + position`, so that a row finds its cell without a look-up.
    caller_cells: Vec<u32>,
    /// The retry budget and the pacer of the client's own sub-account ([`NO_BUDGET`] for none).
    budget: u32,
    pacer: u32,
    /// Adaptive throttling's state and draws.
    sre: Option<Box<SreState>>,
    aimd: Option<AimdState>,
    adaptive: StreamRng,
    /// Draws of request costs.
    cost: StreamRng,
    /// An open client's rate bounds, if its shape has them (thinning skips most rate computations).
    bounds: Option<RateBounds>,
    /// Requests begun and not yet ended, and when the last one ended.
    in_flight: u64,
    last_end: Nanos,
    /// An ATB or AATB client's token bucket; a window-based backoff's successes; whether either is there
    /// (one test on the hot path for the clients that have neither).
    bucket: Option<Box<BucketState>>,
    successes: Successes,
    gated: bool,
}

const NO_CELL: u32 = u32::MAX;

struct Engine<'s, 'o, O: Observer, Q: EventQueue<Event>> {
    sc: &'s Scenario,
    /// Per request slot, for an observer of attempts: the request's number and its trace row (0: none).
    seen_request: Vec<u64>,
    seen_row: Vec<u64>,
    requests_started: u64,
    /// Attempts sent so far, against `budget`, and how many of them were throttled.
    attempts: u64,
    throttled: u64,
    budget: Budget,
    queue: Q,
    /// With a queue that handles its earliest event in place: that event is being handled and still in
    /// the queue (the first event it schedules replaces it).
    top_in_hand: bool,
    seq: u64,
    requests: Vec<Request>,
    free: Vec<u32>,
    clients: Vec<ClientState>,
    quotas: Vec<Quota>,
    plans: PlanBook,
    rec: Recorder,
    sub_accounts: SubAccounts,
    quota_pairs: Vec<(usize, usize)>,
    /// Tokens of each retry budget, and which budget a (scope, owner) has.
    budget_tokens: Vec<f64>,
    budget_of: HashMap<(BudgetScope, usize), u32>,
    pacers: Vec<Pacer>,
    pacer_of: HashMap<(BudgetScope, usize), u32>,
    /// AATB's aggregators, and which one a (scope, owner) reports to.
    aggregators: Vec<crate::workload::adaptive::Aggregator>,
    aggregator_of: HashMap<(BudgetScope, usize), u32>,
    observer: &'o mut O,
    held: Option<((usize, usize), u32)>,
    /// The clairvoyant schedule ([`RunOptions::clairvoyant`]): per quota, the attempts waiting for it.
    clairvoyant: bool,
    waiting_for: Vec<std::collections::VecDeque<u32>>,
    quota_last: Vec<Option<Nanos>>,
    quota_response: Vec<(u64, u128)>,
    quota_responses: Vec<Vec<Nanos>>,
}

/// The QPS `pair` is held at, if it is the held one.
fn held_at(held: Option<((usize, usize), u32)>, pair: (usize, usize)) -> Option<u32> {
    held.filter(|(p, _)| *p == pair).map(|(_, qps)| qps)
}

/// The plans of each quota of `pairs`, and the keys they were built for.
fn plan_book(sc: &Scenario, pairs: &[(usize, usize)]) -> (Vec<QuotaKey>, PlanBook) {
    let keys: Vec<QuotaKey> = pairs
        .iter()
        .map(|&(account, api)| QuotaKey {
            account,
            api,
            category: sc.apis[api].category,
            payg_qps: sc.payg_qps(account, api),
        })
        .collect();
    let plans = PlanBook::new(&sc.plans, &keys, sc.start, sc.duration);
    (keys, plans)
}

/// The limit in force at the start for each (account, API) some client calls, in
/// [`Scenario::quota_pairs`] order, without running anything.
pub fn limits_at_start(sc: &Scenario) -> Vec<((usize, usize), u32)> {
    let pairs = sc.quota_pairs();
    let (_, plans) = plan_book(sc, &pairs);
    pairs.iter().enumerate().map(|(q, &pair)| (pair, plans.in_force(q, 0).0)).collect()
}

/// The scenario's start on its own clock (the zone of `start`), in nanoseconds: where clock windows turn
/// over.
pub fn local_start_ns(sc: &Scenario) -> i128 {
    sc.start.as_nanosecond() + i128::from(sc.offset.seconds()) * 1_000_000_000
}

/// Runs `scenario` to its end. Fails only on a trace that cannot be read or has a malformed row.
pub fn run(scenario: &Scenario, options: RunOptions) -> Result<RunOutput, Error> {
    run_observed(scenario, options, &mut ())
}

/// [`run`], showing every request's start to `observer`.
pub fn run_observed<O: Observer>(
    scenario: &Scenario,
    options: RunOptions,
    observer: &mut O,
) -> Result<RunOutput, Error> {
    // A binary heap while few events can be pending, a radix heap when many can (threads, or open arrivals
    // times their stay): the same order either way. A trace's rows count only as they arrive.
    if crate::guard::estimate(scenario).in_flight > crate::queue::SMALL_MAX as f64 {
        run_on::<O, RadixQueue<Event>>(scenario, options, observer)
    } else {
        run_on::<O, BinaryHeap<Event>>(scenario, options, observer)
    }
}

fn run_on<O: Observer, Q: EventQueue<Event>>(
    scenario: &Scenario,
    options: RunOptions,
    observer: &mut O,
) -> Result<RunOutput, Error> {
    let mut engine = Engine::<O, Q>::new(scenario, options, observer)?;
    engine.run()?;
    engine.rec.flush();
    let batch_done = engine.clients.iter().map(|c| c.finished_at).collect();
    let client_done = (engine.clients.iter().zip(&scenario.clients))
        .map(|(state, client)| match client.model {
            ClientModel::Batch { .. } => state.finished_at,
            ClientModel::Trace(_) if state.pending.is_none() && state.in_flight == 0 => Some(state.last_end),
            _ => None,
        })
        .collect();
    let traces = (engine.clients.iter().enumerate())
        .filter_map(|(client, c)| {
            c.trace.as_ref().map(|t| TraceRead {
                client,
                rows: t.rows(),
                skipped_rows: t.skipped(),
                rows_before_start: t.before_start(),
            })
        })
        .collect();
    Ok(RunOutput {
        recorder: engine.rec,
        quota_pairs: engine.quota_pairs,
        quotas: engine.quotas,
        plans: engine.plans.usage(),
        sub_accounts: engine.sub_accounts.into_list(),
        batch_done,
        client_done,
        quota_last: engine.quota_last,
        quota_response: engine.quota_response,
        quota_responses: engine.quota_responses,
        traces,
    })
}

impl RunOutput {
    /// The index of the quota of (account, API), if some client can call it.
    pub fn quota_of(&self, account: usize, api: usize) -> Option<usize> {
        self.quota_pairs.binary_search(&(account, api)).ok()
    }
}

impl<'s, 'o, O: Observer, Q: EventQueue<Event>> Engine<'s, 'o, O, Q> {
    fn new(sc: &'s Scenario, options: RunOptions, observer: &'o mut O) -> Result<Engine<'s, 'o, O, Q>, Error> {
        let quota_pairs = sc.quota_pairs();
        let (keys, plans) = plan_book(sc, &quota_pairs);
        // Clock windows turn over on the scenario's clock: a day window at local midnight in the zone of
        // `start` (UTC+8 on the modelled platform), not at UTC's. The offset is whole minutes, so windows of
        // a minute or less fall where they did on UTC.
        let local_start_ns = local_start_ns(sc);
        let quotas = keys
            .iter()
            .enumerate()
            .map(|(q, key)| {
                let (limit, plan) = plans.in_force(q, 0);
                let limit = held_at(options.held, (key.account, key.api)).unwrap_or(limit);
                Quota::new(
                    key.account,
                    key.api,
                    &sc.apis[key.api].limiter,
                    sc.on_plan_change,
                    local_start_ns,
                    limit,
                    plan,
                )
            })
            .collect::<Vec<_>>();
        let quota_of = |account: usize, api: usize| {
            quota_pairs.binary_search(&(account, api)).expect("every pair a client calls has a quota") as u32
        };
        let mut clients = Vec::with_capacity(sc.clients.len());
        for (c, client) in sc.clients.iter().enumerate() {
            let trace = match &client.model {
                ClientModel::Trace(spec) => Some(Box::new(
                    TraceSource::open(spec, sc.start.as_nanosecond(), options.skip_bad_rows)
                        .map_err(|e| Error::BadInput(e.to_string()))?,
                )),
                _ => None,
            };
            let c = c as u64;
            clients.push(ClientState {
                arrivals: stream(sc.seed, c, Purpose::Arrivals),
                latency: stream(sc.seed, c, Purpose::Latency),
                think: stream(sc.seed, c, Purpose::Think),
                mix: stream(sc.seed, c, Purpose::ApiMix),
                retry: stream(sc.seed, c, Purpose::Retry),
                arrived: 0,
                backlog: 0,
                active: 0,
                finished_at: None,
                trace,
                pending: None,
                caller_sub: Vec::new(),
                caller_cells: Vec::new(),
                budget: NO_BUDGET,
                pacer: NO_BUDGET,
                sre: match client.adaptive {
                    Some(Adaptive::Sre { k, window }) => Some(Box::new(SreState::new(k, window))),
                    _ => None,
                },
                aimd: match client.adaptive {
                    Some(Adaptive::Aimd { start, .. }) => Some(AimdState { rate: start, last: 0 }),
                    _ => None,
                },
                adaptive: stream(sc.seed, c, Purpose::Adaptive),
                cost: stream(sc.seed, c, Purpose::Cost),
                bounds: match &client.model {
                    ClientModel::Open { shape, .. } => shape.bounds(),
                    _ => None,
                },
                in_flight: 0,
                last_end: 0,
                bucket: None,
                successes: Successes::new(),
                gated: matches!(client.retry, crate::workload::RetryPolicy::Window { limit: Some(_), .. })
                    || matches!(client.adaptive, Some(Adaptive::Atb(_) | Adaptive::Aatb(_))),
                cells: vec![NO_CELL; client.apis.apis().len()],
                quotas: client.apis.apis().iter().map(|&api| quota_of(client.account, api)).collect(),
            });
        }
        let rec = Recorder::new(quotas.len(), sc.duration, options.bin);
        let waiting_for = if options.clairvoyant { vec![Default::default(); quotas.len()] } else { Vec::new() };
        let quota_last = vec![None; quotas.len()];
        let quota_response = vec![(0, 0); quotas.len()];
        let quota_responses = vec![Vec::new(); if options.clairvoyant { quotas.len() } else { 0 }];
        Ok(Engine::<O, Q> {
            sc,
            queue: Q::default(),
            top_in_hand: false,
            seq: 0,
            requests: Vec::new(),
            free: Vec::new(),
            clients,
            quotas,
            plans,
            rec,
            sub_accounts: SubAccounts::new(&sc.sub_accounts),
            quota_pairs,
            budget_tokens: Vec::new(),
            budget_of: HashMap::new(),
            pacers: Vec::new(),
            pacer_of: HashMap::new(),
            aggregators: Vec::new(),
            aggregator_of: HashMap::new(),
            observer,
            held: options.held,
            clairvoyant: options.clairvoyant,
            waiting_for,
            quota_last,
            quota_response,
            quota_responses,
            attempts: 0,
            throttled: 0,
            budget: options.budget,
            seen_request: Vec::new(),
            seen_row: Vec::new(),
            requests_started: 0,
        }
        .with_budgets()
        .with_buckets())
    }

    #[inline]
    fn schedule(&mut self, time: Nanos, kind: Kind) {
        if time < self.sc.duration {
            let event = Event { time, seq: self.seq, kind };
            if Q::TOP_IN_PLACE && self.top_in_hand {
                // The event being handled is still the queue's earliest: the new one takes its place.
                self.top_in_hand = false;
                self.queue.replace_top(event);
            } else {
                self.queue.push(event);
            }
            self.seq += 1;
        }
    }

    /// Asks for the requests of events due soon, so that with many requests in flight their cache misses
    /// overlap the handling of the current event instead of following it.
    #[inline]
    fn warm_soon(&self) {
        for event in self.queue.soon(WARM) {
            if let Kind::Return(slot) | Kind::Retry(slot) | Kind::Start(slot) = event.kind {
                prefetch(&self.requests[slot as usize]);
            }
        }
    }

    fn run(&mut self) -> Result<(), Error> {
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
                ClientModel::Trace(_) => {
                    self.read_ahead(c)?;
                    continue;
                }
            };
            for i in 0..threads {
                let slot = self.new_slot(c);
                let start = (ramp_up as u128 * i as u128 / threads as u128) as Nanos;
                self.schedule(start, Kind::Start(slot));
            }
        }
        self.first_reports();
        let mut events = 0u64;
        loop {
            let Event { time, kind, .. } = if Q::TOP_IN_PLACE {
                let Some(&event) = self.queue.peek() else { break };
                self.top_in_hand = true;
                event
            } else {
                let Some(event) = self.queue.pop() else { break };
                if self.requests.len() >= WARM_FROM {
                    self.warm_soon();
                }
                event
            };
            events += 1;
            if events.is_multiple_of(PROGRESS_EVERY) {
                self.observer.progress(time);
                self.check_budget(time)?;
            }
            match kind {
                Kind::Arrival(c) => self.arrival(c as usize, time)?,
                Kind::Start(slot) => self.start(slot, time),
                Kind::Retry(slot) => self.leave(slot, time),
                Kind::Release(p) => self.release(p as usize, time),
                Kind::Return(slot) => self.on_return(slot, time),
                Kind::Served(slot) => self.served(slot, time),
                Kind::PlanChange => self.refresh_limits(time),
                Kind::Clear(q) => self.clear(q as usize, time),
                Kind::Token(c) => self.token(c as usize, time),
                Kind::Report(c) => self.routine_report(c as usize, time),
                Kind::Reply(c) => self.reply(c as usize, time),
            }
            if Q::TOP_IN_PLACE && self.top_in_hand {
                // Nothing took its place: the handled event leaves the queue.
                self.top_in_hand = false;
                self.queue.pop();
            }
        }
        Ok(())
    }

    /// Bytes the run holds that grow with its load: request slots, pending events, pacer queues, logs.
    fn held_bytes(&self) -> u64 {
        let requests = self.requests.capacity() * std::mem::size_of::<Request>();
        let events = self.queue.pending() * std::mem::size_of::<Event>();
        let paced: usize = self.pacers.iter().map(|p| p.waiting.capacity() * 4).sum();
        let logs: usize = self.quotas.iter().map(Quota::held_bytes).sum();
        (requests + events + paced + logs) as u64
    }

    /// Shows an attempt of the request in `slot` to an observer of attempts.
    #[cold]
    fn see(&mut self, slot: u32, now: Nanos, attempt: u32, outcome: AttemptOutcome) {
        let sc = self.sc;
        let req = &self.requests[slot as usize];
        let sub_account = self.rec.cell_keys[req.cell as usize].sub_account as usize;
        let row = self.seen_row[slot as usize];
        self.observer.attempt(&AttemptSeen {
            at: now,
            request: self.seen_request[slot as usize],
            account: &sc.accounts[sc.clients[req.client as usize].account].name,
            sub_account: self.sub_accounts.name(sub_account),
            api: &sc.apis[req.api as usize].name,
            attempt,
            outcome,
            row: (row > 0).then_some(row),
            quota: req.quota as usize,
            cost: req.cost,
        });
    }

    /// Stops the run once it has done more work than its budget allows.
    fn check_budget(&self, now: Nanos) -> Result<(), Error> {
        if self.attempts > self.budget.attempts {
            return Err(crate::guard::over_budget_attempts(self.attempts, self.budget.attempts, now));
        }
        if let Some(projected) = crate::guard::over_pace(self.attempts, self.budget.attempts, now, self.sc.duration) {
            return Err(crate::guard::over_budget_pace(
                self.attempts,
                self.throttled,
                projected,
                self.budget.attempts,
                now,
            ));
        }
        let held = self.held_bytes();
        if held.saturating_mul(2) > self.budget.memory {
            return Err(crate::guard::over_budget_memory(held, self.budget.memory, now));
        }
        Ok(())
    }

    /// Puts in force, on every quota, the limit its plans give at `now`; a change starts a new phase.
    fn refresh_limits(&mut self, now: Nanos) {
        for q in 0..self.quotas.len() {
            // A held quota keeps its limit and its state whatever the plans do: no plan change resets its
            // window either, so it runs as a scenario whose only plan is that limit.
            if held_at(self.held, self.quota_pairs[q]).is_some() {
                continue;
            }
            let (limit, plan) = self.plans.in_force(q, now);
            if self.quotas[q].set_limit(now, limit, plan) {
                self.rec.new_phase(q);
            }
        }
    }

    /// Starts a new request in `slot`: the client picks its API, then sends.
    #[inline]
    fn start(&mut self, slot: u32, now: Nanos) {
        let c = self.requests[slot as usize].client as usize;
        let client = &self.sc.clients[c];
        let state = &mut self.clients[c];
        let at = client.apis.pick_position(&mut state.mix);
        let api = client.apis.apis()[at];
        let quota = state.quotas[at] as usize;
        if state.cells[at] == NO_CELL {
            state.cells[at] = self.rec.cell(client.sub_account, api, quota) as u32;
        }
        let cell = self.clients[c].cells[at] as usize;
        self.begin(slot, now, api, cell, quota, None, None);
        let req = &mut self.requests[slot as usize];
        (req.budget, req.pacer) = (self.clients[c].budget, self.clients[c].pacer);
        self.leave(slot, now);
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn begin(
        &mut self,
        slot: u32,
        now: Nanos,
        api: usize,
        cell: usize,
        quota: usize,
        latency: Option<Nanos>,
        cost: Option<u64>,
    ) {
        let sc = self.sc;
        let req = &mut self.requests[slot as usize];
        let client = &sc.clients[req.client as usize];
        let account = client.account;
        let cost = match (cost, &client.cost) {
            (Some(units), _) => units,
            (None, Some(Cost::Units(units))) => *units,
            (None, Some(Cost::Drawn(dist))) => dist.sample(&mut self.clients[req.client as usize].cost),
            _ => 1,
        };
        req.cost = cost;
        req.api = api as u32;
        req.quota = quota as u32;
        req.cell = cell as u32;
        req.first_send = now;
        req.latency = latency.unwrap_or(0);
        req.given_latency = latency.is_some();
        req.attempts = 0;
        req.queued = 0;
        self.clients[req.client as usize].in_flight += 1;
        self.rec.request(req.cell as usize, req.quota as usize);
        if O::ATTEMPTS {
            self.requests_started += 1;
            let i = slot as usize;
            if self.seen_request.len() <= i {
                self.seen_request.resize(i + 1, 0);
                self.seen_row.resize(i + 1, 0);
            }
            (self.seen_request[i], self.seen_row[i]) = (self.requests_started, 0);
        }
        if O::ACTIVE {
            let sub_account = self.rec.cell_keys[cell].sub_account as usize;
            self.observer.request_started(
                now,
                &sc.accounts[account].name,
                self.sub_accounts.name(sub_account),
                &sc.apis[api].name,
            );
        }
    }

    #[inline]
    fn send(&mut self, slot: u32, now: Nanos) {
        if self.clairvoyant && !self.may_send_now(slot, now) {
            return;
        }
        self.send_now(slot, now);
    }

    #[inline(always)]
    fn send_now(&mut self, slot: u32, now: Nanos) {
        let mut req = self.requests[slot as usize];
        req.attempts += 1;
        self.attempts += 1;
        let decision = self.quotas[req.quota as usize].try_admit(now, req.cost);
        // An attempt made to wait at the server is counted when it is served (see `served`): one still
        // waiting when the run ends is unfinished, neither admitted nor billed.
        if let Some(server_wait) = decision.filter(|&w| w > 0) {
            req.outcome = Outcome::Admitted;
            self.requests[slot as usize] = req;
            return self.schedule(now.saturating_add(server_wait), Kind::Served(slot));
        }
        let admitted = decision.is_some();
        self.throttled += u64::from(!admitted);
        self.rec.attempt(req.cell as usize, req.quota as usize, now, admitted);
        if O::ATTEMPTS {
            let outcome = if admitted { AttemptOutcome::Admitted } else { AttemptOutcome::Throttled };
            self.see(slot, now, req.attempts, outcome);
        }
        let quota = &self.quotas[req.quota as usize];
        if quota.has_units() {
            let by_units = quota.refused_by_units();
            self.rec.units(req.cell as usize, req.quota as usize, now, req.cost, admitted, by_units);
        }
        // A package's last call changes the limit at once, even mid-window.
        if admitted && self.plans.bill(req.quota as usize, now) {
            self.refresh_limits(now);
        }
        // An attempt with a wait at the server left above, for `served`; this one is served now.
        let back = if admitted {
            req.outcome = Outcome::Admitted;
            self.service_time(&req)
        } else {
            self.after_throttle(&mut req, now);
            self.sc.throttle_latency
        };
        self.requests[slot as usize] = req;
        self.schedule(now.saturating_add(back), Kind::Return(slot));
    }

    #[inline]
    /// An attempt that waited at the server is served now: counted, billed, and sent to the service.
    fn served(&mut self, slot: u32, now: Nanos) {
        let req = self.requests[slot as usize];
        let (cell, quota) = (req.cell as usize, req.quota as usize);
        self.rec.attempt(cell, quota, now, true);
        if O::ATTEMPTS {
            self.see(slot, now, req.attempts, AttemptOutcome::Admitted);
        }
        if self.quotas[quota].has_units() {
            self.rec.units(cell, quota, now, req.cost, true, false);
        }
        if self.plans.bill(quota, now) {
            self.refresh_limits(now);
        }
        let service = self.service_time(&req);
        self.schedule(now.saturating_add(service), Kind::Return(slot));
    }

    /// How long the service takes an admitted attempt: the trace row's own response time, or a draw.
    #[inline]
    fn service_time(&mut self, req: &Request) -> Nanos {
        match req.given_latency {
            true => req.latency,
            false if self.clairvoyant => self.sc.apis[req.api as usize].latency.min(),
            false => self.sc.apis[req.api as usize].latency.sample(&mut self.clients[req.client as usize].latency),
        }
    }

    fn on_return(&mut self, slot: u32, now: Nanos) {
        let req = self.requests[slot as usize];
        let client = &self.sc.clients[req.client as usize];
        if self.on_outcome(slot, &req, now) {
            return;
        }
        let state = &mut self.clients[req.client as usize];
        state.in_flight -= 1;
        state.last_end = now;
        self.quota_last[req.quota as usize] = Some(now);
        if req.outcome == Outcome::Admitted {
            let arrived = if matches!(client.model, ClientModel::Batch { .. }) { 0 } else { req.first_send };
            let response = now - arrived;
            let sum = &mut self.quota_response[req.quota as usize];
            *sum = (sum.0 + 1, sum.1 + response as u128);
            if let Some(all) = self.quota_responses.get_mut(req.quota as usize) {
                all.push(response);
            }
        }
        // The request is over: a closed thread starts its next one after thinking, so does a batch
        // thread while the backlog lasts, and an open or trace slot is freed.
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
            ClientModel::Open { .. } | ClientModel::Trace(_) => {
                self.free.push(slot);
                return;
            }
        };
        if think.is_zero() {
            self.start(slot, now);
        } else {
            let pause = if self.clairvoyant { think.min() } else { think.sample(&mut state.think) };
            self.schedule(now.saturating_add(pause), Kind::Start(slot));
        }
    }
}
