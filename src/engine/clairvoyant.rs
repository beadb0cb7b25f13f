//! The clairvoyant schedule's gate ([`RunOptions::clairvoyant`](super::RunOptions)): per quota, the
//! attempts waiting in arrival order for the instant it would admit the first of them.

use super::{Engine, Event, Kind, Observer};
use crate::queue::EventQueue;
use crate::time::Nanos;

impl<'s, 'o, O: Observer, Q: EventQueue<Event>> Engine<'s, 'o, O, Q> {
    /// The clairvoyant schedule's gate: an attempt goes now if nothing waits for its quota and the quota
    /// admits it now; else it waits in line, and the quota is woken when it would next admit.
    #[cold]
    pub(super) fn may_send_now(&mut self, slot: u32, now: Nanos) -> bool {
        let req = self.requests[slot as usize];
        let q = req.quota as usize;
        if self.waiting_for[q].is_empty() {
            let at = self.quotas[q].next_admit(now, req.cost);
            if at <= now {
                return true;
            }
            self.schedule(at, Kind::Clear(q as u32));
        }
        self.waiting_for[q].push_back(slot);
        false
    }

    /// The clairvoyant schedule: quota `q` admits its waiting attempts in order while it can, and is woken
    /// again when it would admit the next.
    #[cold]
    pub(super) fn clear(&mut self, q: usize, now: Nanos) {
        while let Some(&slot) = self.waiting_for[q].front() {
            let at = self.quotas[q].next_admit(now, self.requests[slot as usize].cost);
            if at > now {
                return self.schedule(at, Kind::Clear(q as u32));
            }
            self.waiting_for[q].pop_front();
            self.send_now(slot, now);
        }
    }
}
