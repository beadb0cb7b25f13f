//! Where requests come from: an open client's next arrival (its shape, thinned), a trace's next row, and
//! the slot a new request takes.

use super::*;

impl<'s, 'o, O: Observer, Q: EventQueue<Event>> Engine<'s, 'o, O, Q> {
    pub(super) fn arrival(&mut self, c: usize, now: Nanos) -> Result<(), Error> {
        let slot = self.new_slot(c);
        match self.clients[c].pending.take() {
            Some(row) => {
                let client = &self.sc.clients[c];
                let state = &mut self.clients[c];
                // A trace's API list is sorted: the row's API is found by bisection among a few.
                let at = client.apis.apis().binary_search(&row.api).expect("a row's API is one the mapping gives");
                let quota = state.quotas[at] as usize;
                let (sub, cell) = match row.caller {
                    Some(caller) => {
                        (state.caller_sub[caller], &mut state.caller_cells[caller * state.cells.len() + at])
                    }
                    None => (client.sub_account, &mut state.cells[at]),
                };
                if *cell == NO_CELL {
                    *cell = self.rec.cell(sub, row.api, quota) as u32;
                }
                let cell = *cell as usize;
                let budget = match client.budget {
                    Some((_, BudgetScope::SubAccount)) if row.caller.is_some() => self.budget_for(c, sub),
                    _ => self.clients[c].budget,
                };
                let pacer = match client.pace {
                    Some((_, BudgetScope::SubAccount)) if row.caller.is_some() => self.pacer_for(c, sub),
                    _ => self.clients[c].pacer,
                };
                self.begin(slot, now, row.api, cell, quota, row.latency, row.cost);
                if O::ATTEMPTS {
                    self.seen_row[slot as usize] = row.line;
                }
                let req = &mut self.requests[slot as usize];
                (req.budget, req.pacer) = (budget, pacer);
                self.leave(slot, now);
                self.read_ahead(c)
            }
            None => {
                self.start(slot, now);
                let next = self.next_arrival(c, now);
                self.schedule(next, Kind::Arrival(c as u32));
                Ok(())
            }
        }
    }

    /// Reads trace client `c`'s next row and queues its arrival; stops reading at the scenario's end.
    pub(super) fn read_ahead(&mut self, c: usize) -> Result<(), Error> {
        let state = &mut self.clients[c];
        let Some(source) = state.trace.as_mut() else { return Ok(()) };
        let Some(row) = source.next_event().map_err(|e| Error::BadInput(e.to_string()))? else { return Ok(()) };
        if let Some(caller) = row.caller
            && state.caller_sub.len() <= caller
        {
            // A new caller: a sub-account of the client's account, shared with any of the same name.
            let sub = self.sub_accounts.find_or_add(self.sc.clients[c].account, source.caller_name());
            state.caller_sub.push(sub);
            state.caller_cells.extend(std::iter::repeat_n(NO_CELL, state.cells.len()));
        }
        state.pending = Some(row);
        self.schedule(row.at, Kind::Arrival(c as u32));
        Ok(())
    }

    /// When the open client `c`'s next request arrives, its previous one having arrived at `now`.
    pub(super) fn next_arrival(&mut self, c: usize, now: Nanos) -> Nanos {
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
                // A draw under the shape's least rate is kept whatever the time, without computing the rate
                // (the same decision: the rate is never below it).
                let floor = shape.min_rate();
                let ClientState { bounds, arrivals: state, .. } = state;
                let bounds = bounds.as_ref();
                let mut t = now;
                loop {
                    let gap: f64 = Exp1.sample(state);
                    t = t.saturating_add(nanos_from_secs_f64(gap / envelope));
                    if t >= self.sc.duration {
                        return t;
                    }
                    let u = state.random::<f64>() * envelope;
                    if u < floor {
                        return t;
                    }
                    // Most draws are decided by the rate's bounds near t, without its cosine.
                    let keep = bounds.and_then(|b| b.decide(t, u)).unwrap_or_else(|| u < shape.rate_at(t));
                    if keep {
                        return t;
                    }
                }
            }
        }
    }

    pub(super) fn new_slot(&mut self, client: usize) -> u32 {
        let fresh = Request {
            client: client as u32,
            cell: 0,
            quota: 0,
            api: 0,
            first_send: 0,
            latency: 0,
            attempts: 0,
            cost: 1,
            given_latency: false,
            outcome: Outcome::Retry,
            wait: 0,
            budget: NO_BUDGET,
            pacer: NO_BUDGET,
            queued_since: 0,
            queued: 0,
        };
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
}
