//! The engine's events: what happens next (a [`Kind`]) and when, ordered by time and then by the order
//! they were scheduled in, so a run is the same whatever the queue.

use crate::time::Nanos;

#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// An open client's next request arrives, or a trace client's next row.
    Arrival(u32),
    /// A thread's slot starts its next request (its first attempt).
    Start(u32),
    /// A request's next attempt after a throttle.
    Retry(u32),
    /// An attempt's outcome reaches its caller.
    Return(u32),
    /// An attempt a limiter made wait at the server (a leaky bucket without `nodelay`) is served.
    Served(u32),
    /// A plan starts or ends by the clock.
    PlanChange,
    /// A pacer lets its first waiting attempt go.
    Release(u32),
    /// The clairvoyant schedule: a quota admits the attempts waiting for it, in order, while it can.
    Clear(u32),
    /// An ATB or AATB client's bucket has a token for its first waiting attempt.
    Token(u32),
    /// An AATB client's routine report to its aggregator is due.
    Report(u32),
    /// An AATB client hears its aggregator's answer.
    Reply(u32),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Event {
    pub(super) time: Nanos,
    pub(super) seq: u64,
    pub(super) kind: Kind,
}

impl crate::queue::Keyed for Event {
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.time, self.seq)
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Event {}
impl Event {
    /// (time, seq) as one number, so that the heap's comparisons are one wide compare each, without a
    /// branch between the two fields.
    #[inline]
    fn key(&self) -> u128 {
        (self.time as u128) << 64 | self.seq as u128
    }
}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
    // Reversed, as `cmp` is.
    #[inline]
    fn lt(&self, other: &Self) -> bool {
        other.key() < self.key()
    }
    #[inline]
    fn le(&self, other: &Self) -> bool {
        other.key() <= self.key()
    }
    #[inline]
    fn gt(&self, other: &Self) -> bool {
        other.key() > self.key()
    }
    #[inline]
    fn ge(&self, other: &Self) -> bool {
        other.key() >= self.key()
    }
}
impl Ord for Event {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}
