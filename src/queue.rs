//! The event queue: a monotone radix heap over (time, insertion sequence) keys.
//!
//! A discrete-event simulation never schedules an event before the one it is processing, and the
//! insertion sequence only grows, so the 128-bit key `time << 64 | seq` of every event pushed is larger
//! than the key last popped. A radix heap exploits that: an item lives in the bucket numbered by the
//! highest bit in which its key differs from the last popped key; popping takes the smallest key of the
//! lowest non-empty bucket and spreads that bucket's other items over lower buckets. Each item moves at
//! most 128 times and every move is a sequential push, so a million pending events cost no more per
//! operation than ten, where a binary heap pays a cache miss at every level.
//!
//! With few events pending a binary heap is faster still (a few comparisons in cache), so the engine runs
//! on one unless the scenario can have more than [`SMALL_MAX`] events pending. Either way the order is
//! exactly (time, seq): equal-time events keep FIFO order, and the run's output does not depend on which
//! holds them.

const BUCKETS: usize = 129;
/// Pending events from which on the engine runs on a radix heap.
pub const SMALL_MAX: usize = 1_024;

/// An item with its ordering key: `time` first, then `seq`.
pub trait Keyed: Copy {
    fn key(&self) -> (u64, u64);
}

fn key128<T: Keyed>(item: &T) -> u128 {
    let (time, seq) = item.key();
    (time as u128) << 64 | seq as u128
}

fn bucket(key: u128, last: u128) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

/// A monotone min-queue: every push must have a key above the last popped one.
pub struct RadixQueue<T: Keyed> {
    last: u128,
    buckets: Vec<Vec<T>>,
    /// Bit b set when bucket b is not empty.
    occupied: [u64; 3],
    len: usize,
}

impl<T: Keyed> Default for RadixQueue<T> {
    fn default() -> Self {
        RadixQueue { last: 0, buckets: (0..BUCKETS).map(|_| Vec::new()).collect(), occupied: [0; 3], len: 0 }
    }
}

impl<T: Keyed> RadixQueue<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn push(&mut self, item: T) {
        let key = key128(&item);
        debug_assert!(key >= self.last, "an event scheduled before the last one popped");
        let b = bucket(key, self.last);
        self.buckets[b].push(item);
        self.occupied[b / 64] |= 1 << (b % 64);
        self.len += 1;
    }

    fn first_occupied(&self) -> Option<usize> {
        self.occupied.iter().enumerate().find(|(_, w)| **w != 0).map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }

    fn mark_empty(&mut self, b: usize) {
        self.occupied[b / 64] &= !(1 << (b % 64));
    }

    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let b = self.first_occupied()?;
        self.len -= 1;
        if b == 0 {
            // Keys are unique, so bucket 0 (key == last) holds one item at most.
            let item = self.buckets[0].pop();
            self.mark_empty(0);
            return item;
        }
        let (lower, rest) = self.buckets.split_at_mut(b);
        let items = &mut rest[0];
        if items.len() == 1 {
            // The common case with few pending events: nothing to spread.
            let min = items.pop().expect("an occupied bucket holds an item");
            self.last = key128(&min);
            self.mark_empty(b);
            return Some(min);
        }
        let (at, _) =
            items.iter().enumerate().min_by_key(|(_, item)| key128(*item)).expect("an occupied bucket holds an item");
        let min = items.swap_remove(at);
        let last = key128(&min);
        for item in items.drain(..) {
            // Every other item of the bucket differs from the new minimum below bit b: a lower bucket.
            let nb = bucket(key128(&item), last);
            lower[nb].push(item);
            self.occupied[nb / 64] |= 1 << (nb % 64);
        }
        // Every bucket keeping its largest size would hold many times the queue's length; shrinking each one
        // that held more than a few would regrow it at its next turn (a page-fault storm with a million
        // pending). So a drained bucket keeps a capacity up to a quarter of the queue's length.
        let keep = (self.len / 4).max(1024);
        if items.capacity() > keep {
            items.shrink_to(keep);
        }
        self.last = last;
        self.mark_empty(b);
        Some(min)
    }
}

/// What the engine needs of its event queue: pops in key order, the earliest (time, seq) first. A binary
/// heap (items ordering themselves, the earliest greatest) is fastest with few events pending, a
/// [`RadixQueue`] with many; the engine picks one per run from the scenario, and both give the same order.
pub trait EventQueue<T>: Default {
    /// Whether the engine handles the earliest item where it lies (`peek`, then `replace_top` with the
    /// first item the handling schedules, or `pop` if it schedules none): one sift instead of a pop's
    /// and a push's.
    const TOP_IN_PLACE: bool = false;
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    /// Items pending (for the run's memory guard).
    fn pending(&self) -> usize;
    /// The earliest item, left in the queue (only where `TOP_IN_PLACE`).
    fn peek(&self) -> Option<&T> {
        None
    }
    /// Up to `n` items due soon (the first often the next), for the engine to warm what they will touch
    /// while it handles the current one; none where no cheap guess exists.
    fn soon<'a>(&'a self, _n: usize) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        std::iter::empty()
    }
    /// Puts `item` where the earliest item was, and restores the order.
    fn replace_top(&mut self, item: T) {
        self.pop();
        self.push(item);
    }
}

impl<T: Ord> EventQueue<T> for std::collections::BinaryHeap<T> {
    const TOP_IN_PLACE: bool = true;

    #[inline]
    fn peek(&self) -> Option<&T> {
        std::collections::BinaryHeap::peek(self)
    }

    #[inline]
    fn replace_top(&mut self, item: T) {
        // A `PeekMut` written through sifts the new top down when dropped.
        if let Some(mut top) = self.peek_mut() {
            *top = item;
        } else {
            self.push(item);
        }
    }

    #[inline]
    fn push(&mut self, item: T) {
        std::collections::BinaryHeap::push(self, item)
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        std::collections::BinaryHeap::pop(self)
    }

    fn pending(&self) -> usize {
        std::collections::BinaryHeap::len(self)
    }
}

impl<T: Keyed> EventQueue<T> for RadixQueue<T> {
    #[inline]
    fn push(&mut self, item: T) {
        RadixQueue::push(self, item)
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        RadixQueue::pop(self)
    }

    fn pending(&self) -> usize {
        RadixQueue::len(self)
    }

    #[inline]
    fn soon<'a>(&'a self, n: usize) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        // Every item of an occupied bucket is due before any item of a higher one: the first `n` items of
        // the lowest buckets are the next `n`, in some order, unless one bucket holds more than that.
        let occupied = (0..3).flat_map(move |w| {
            let mut bits = self.occupied[w];
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    b
                })
            })
        });
        occupied.flat_map(|b| self.buckets[b].iter().rev()).take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct E(u64, u64);

    impl Keyed for E {
        fn key(&self) -> (u64, u64) {
            (self.0, self.1)
        }
    }

    impl PartialOrd for E {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for E {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            (other.0, other.1).cmp(&(self.0, self.1))
        }
    }

    proptest! {
        // Against a sorted reference: pops come out in (time, seq) order, whatever the interleaving of
        // pushes (each after the last pop, as a simulation makes them) and pops.
        #[test]
        fn pops_in_time_then_sequence_order(ops in proptest::collection::vec((any::<bool>(), 0u64..1_000, any::<bool>()), 1..400)) {
            let mut q = RadixQueue::new();
            let mut reference: Vec<E> = Vec::new();
            let (mut now, mut seq) = (0u64, 0u64);
            for (push, delay, far) in ops {
                if push || reference.is_empty() {
                    let at = now + if far { delay << 40 } else { delay };
                    q.push(E(at, seq));
                    reference.push(E(at, seq));
                    seq += 1;
                } else {
                    reference.sort_by_key(|e| (e.0, e.1));
                    let want = reference.remove(0);
                    let got = q.pop().unwrap();
                    prop_assert_eq!(got, want);
                    now = got.0;
                }
                prop_assert_eq!(q.len(), reference.len());
                // The items due soon are four pending ones (or all), each due before every other pending
                // item but those of its own bucket; the next among them unless its bucket holds more than four.
                let soon: Vec<E> = EventQueue::soon(&q, 4).copied().collect();
                prop_assert!(soon.iter().all(|e| reference.contains(e)), "{:?} not all pending", soon);
                prop_assert_eq!(soon.len(), reference.len().min(4));
                let bucket_of = |e: &E| q.buckets.iter().position(|b| b.contains(e)).unwrap();
                for e in &soon {
                    let later = reference.iter().filter(|o| !soon.contains(o) && bucket_of(o) != bucket_of(e));
                    prop_assert!(later.clone().all(|o| (o.0, o.1) > (e.0, e.1)), "{:?} is not due soon", e);
                }
                if let Some(next) = reference.iter().min_by_key(|e| (e.0, e.1)) {
                    prop_assert!(soon.contains(next) || q.buckets[bucket_of(next)].len() > 4);
                }
            }
            reference.sort_by_key(|e| (e.0, e.1));
            for want in reference {
                prop_assert_eq!(q.pop(), Some(want));
            }
            prop_assert!(q.pop().is_none());
        }

        // The binary heap the engine uses with few events pending gives the same order.
        #[test]
        fn the_binary_heap_gives_the_same_order(delays in proptest::collection::vec(0u64..50, 1..500)) {
            let mut radix: RadixQueue<E> = RadixQueue::new();
            let mut heap: std::collections::BinaryHeap<E> = Default::default();
            let (mut now, mut seq) = (0u64, 0u64);
            for (i, d) in delays.iter().enumerate() {
                EventQueue::push(&mut radix, E(now + d, seq));
                EventQueue::push(&mut heap, E(now + d, seq));
                seq += 1;
                if i % 3 == 2 {
                    let (a, b) = (EventQueue::pop(&mut radix), EventQueue::pop(&mut heap));
                    prop_assert_eq!(a, b);
                    now = a.unwrap().0;
                }
            }
            while let Some(a) = EventQueue::pop(&mut radix) {
                prop_assert_eq!(Some(a), EventQueue::pop(&mut heap));
            }
        }

        // The engine's way with a heap: handle the earliest item in place, let the first item scheduled
        // while handling it replace it, push the others, pop it when it scheduled none. The same order as
        // popping first and pushing everything.
        #[test]
        fn handling_the_top_in_place_keeps_the_order(
            spawns in proptest::collection::vec(proptest::collection::vec(0u64..40, 0..3), 1..300),
        ) {
            let mut radix: RadixQueue<E> = RadixQueue::new();
            let mut heap: std::collections::BinaryHeap<E> = Default::default();
            let (mut seq_a, mut seq_b) = (0u64, 0u64);
            for q in 0..3 {
                EventQueue::push(&mut radix, E(q, seq_a));
                EventQueue::push(&mut heap, E(q, seq_b));
                seq_a += 1;
                seq_b += 1;
            }
            for delays in spawns.iter().cycle().take(600) {
                let Some(a) = EventQueue::pop(&mut radix) else { break };
                for d in delays {
                    EventQueue::push(&mut radix, E(a.0 + d, seq_a));
                    seq_a += 1;
                }
                let b = *EventQueue::peek(&heap).unwrap();
                prop_assert_eq!(a, b);
                for (i, d) in delays.iter().enumerate() {
                    let item = E(b.0 + d, seq_b);
                    seq_b += 1;
                    if i == 0 { EventQueue::replace_top(&mut heap, item) } else { EventQueue::push(&mut heap, item) }
                }
                if delays.is_empty() {
                    EventQueue::pop(&mut heap);
                }
                prop_assert_eq!(radix.len(), heap.len());
            }
        }
    }
}
