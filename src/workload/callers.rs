//! A trace's callers, numbered by name in the order they first appear. A name's slot is asked of memory
//! as its row is read ([`CallerIndex::ask`]) and rows are numbered in batches ([`CallerIndex::number_all`]),
//! so that with 10^5 or more callers, whose table outgrows the core's cache, the batch's memory reads are
//! under way together instead of one after another.

use crate::prefetch::prefetch;
use std::hash::BuildHasher;

/// The callers seen so far and their numbers.
///
/// An open-addressing table (linear probing, at most half full): a slot is 0 when empty, else a caller's
/// record's place in `records` plus one, with 16 bits of its name's hash above it to pass over most other
/// callers without reading their names. A record is the caller's number and its name's length (four bytes
/// each, little-endian) followed by the name: one place in memory holds all a look-up compares.
pub struct CallerIndex<S = foldhash::fast::FixedState> {
    slots: Vec<u64>,
    records: Vec<u8>,
    len: u32,
    hasher: S,
}

const PLACE_BITS: u32 = 48;
const PLACE_MASK: u64 = (1 << PLACE_BITS) - 1;
const HEAD: usize = 8;
/// Slots from which on a batch's slots and records are prefetched (2^15 slots: 256 KB, and 2^14 callers'
/// records).
const PREFETCH_FROM: usize = 1 << 15;

impl Default for CallerIndex {
    fn default() -> Self {
        CallerIndex::with_hasher(foldhash::fast::FixedState::with_seed(0))
    }
}

impl<S: BuildHasher> CallerIndex<S> {
    fn with_hasher(hasher: S) -> Self {
        CallerIndex { slots: vec![0; 16], records: Vec::new(), len: 0, hasher }
    }

    /// How many distinct callers have been numbered.
    pub fn count(&self) -> usize {
        self.len as usize
    }

    /// The hash of a caller's name, for [`CallerIndex::number_all`]; with a large table, the slot its
    /// search starts from is asked of memory now, so the rows read after it overlap the miss.
    #[inline]
    pub fn ask(&self, name: &str) -> u64 {
        let hash = self.hasher.hash_one(name.as_bytes());
        if self.slots.len() >= PREFETCH_FROM {
            prefetch(&self.slots[self.home(hash)]);
        }
        hash
    }

    /// Numbers each of `names` (whose hashes [`CallerIndex::ask`] gave) in the order they come, into
    /// `numbers`. With a large table the records the names' slots point at are asked for first, so their
    /// cache misses are under way together before the first is needed.
    pub fn number_all(&mut self, names: &[&str], hashes: &[u64], numbers: &mut [usize]) {
        debug_assert!(names.len() == hashes.len() && names.len() == numbers.len());
        if self.slots.len() >= PREFETCH_FROM {
            for &h in hashes {
                if let Some(place) = self.candidate(h) {
                    prefetch(&self.records[place]);
                }
            }
        }
        for ((&h, name), number) in hashes.iter().zip(names).zip(numbers) {
            *number = self.number_hashed(name, h);
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask()
    }

    fn tag(hash: u64) -> u64 {
        (hash >> PLACE_BITS) << PLACE_BITS
    }

    /// The slots from `hash`'s home on, as (index, slot), to the empty one that ends every search.
    fn probe(&self, hash: u64) -> impl Iterator<Item = (usize, u64)> + '_ {
        let mask = self.mask();
        let mut next = Some(self.home(hash));
        std::iter::from_fn(move || {
            let at = next?;
            let slot = self.slots[at];
            next = (slot != 0).then_some((at + 1) & mask);
            Some((at, slot))
        })
    }

    /// Whether a slot that is not empty may hold `hash`'s caller (its tag matches).
    fn may_hold(slot: u64, hash: u64) -> bool {
        slot & !PLACE_MASK == Self::tag(hash)
    }

    /// Where in `records` a slot that is not empty points.
    fn place(slot: u64) -> usize {
        (slot & PLACE_MASK) as usize - 1
    }

    /// The record of the first slot from `hash`'s home that may hold it, if any.
    fn candidate(&self, hash: u64) -> Option<usize> {
        let (_, slot) = self.probe(hash).find(|&(_, slot)| slot == 0 || Self::may_hold(slot, hash))?;
        (slot != 0).then(|| Self::place(slot))
    }

    fn record(&self, place: usize) -> (usize, &[u8]) {
        let word = |i: usize| u32::from_le_bytes(self.records[place + i..place + i + 4].try_into().expect("4 bytes"));
        let (number, len) = (word(0) as usize, word(4) as usize);
        (number, &self.records[place + HEAD..place + HEAD + len])
    }

    fn number_hashed(&mut self, name: &str, hash: u64) -> usize {
        // Not found, the search ends at an empty slot: the new caller's.
        let mut at = 0;
        for (here, slot) in self.probe(hash) {
            if slot == 0 {
                at = here;
            } else if Self::may_hold(slot, hash) {
                let (number, stored) = self.record(Self::place(slot));
                if stored == name.as_bytes() {
                    return number;
                }
            }
        }
        let number = self.len;
        let place = self.records.len();
        self.records.extend_from_slice(&number.to_le_bytes());
        // A name is a field of one row, which is far shorter than 4 GB (`MAX_ROW_BYTES`).
        self.records.extend_from_slice(&(name.len() as u32).to_le_bytes());
        self.records.extend_from_slice(name.as_bytes());
        self.slots[at] = Self::tag(hash) | (place as u64 + 1);
        // As the run's sub-accounts, numbered in four bytes: 2^32 callers would need over 100 GB here.
        self.len = self.len.checked_add(1).expect("fewer than 2^32 callers");
        if self.len as usize * 2 > self.slots.len() {
            self.grow();
        }
        number as usize
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|&s| s != 0) {
            let (_, name) = self.record(Self::place(slot));
            let (at, _) = self.probe(self.hasher.hash_one(name)).last().expect("a search ends at an empty slot");
            self.slots[at] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Numbers match a map's: first appearance order, whether names come one by one or in batches of
        /// any length (with repeats inside a batch, and names that differ only in length).
        #[test]
        fn callers_are_numbered_in_order_of_first_appearance(
            names in prop::collection::vec("[ab]{0,3}|caller-[0-9]{1,4}", 0..400),
            batched in any::<bool>(),
        ) {
            let mut reference: HashMap<&str, usize> = HashMap::new();
            let want: Vec<usize> = names.iter().map(|n| {
                let next = reference.len();
                *reference.entry(n.as_str()).or_insert(next)
            }).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            prop_assert_eq!(numbered(CallerIndex::default(), &names, batched), want.clone());
            // Every name's hash the same: each look-up walks past the others' records, comparing names.
            prop_assert_eq!(numbered(CallerIndex::with_hasher(Colliding), &names, batched), want);
        }
    }

    fn numbered<S: BuildHasher>(mut index: CallerIndex<S>, names: &[&str], batched: bool) -> Vec<usize> {
        let mut got = vec![usize::MAX; names.len()];
        if batched {
            let hashes: Vec<u64> = names.iter().map(|n| index.ask(n)).collect();
            index.number_all(names, &hashes, &mut got);
        } else {
            for (n, name) in got.iter_mut().zip(names) {
                let hash = index.ask(name);
                index.number_all(std::slice::from_ref(name), &[hash], std::slice::from_mut(n));
            }
        }
        let distinct = names.iter().collect::<std::collections::HashSet<_>>().len();
        assert_eq!(index.count(), distinct);
        got
    }

    /// A hasher giving every name the same hash.
    struct Colliding;

    impl BuildHasher for Colliding {
        type Hasher = Constant;
        fn build_hasher(&self) -> Constant {
            Constant
        }
    }

    struct Constant;

    impl std::hash::Hasher for Constant {
        fn finish(&self) -> u64 {
            0xdead_beef_0000_0000
        }
        fn write(&mut self, _: &[u8]) {}
    }

    #[test]
    fn a_hundred_thousand_callers_keep_their_numbers_through_growth() {
        let mut index = CallerIndex::default();
        let names: Vec<String> = (0..100_000).map(|i| format!("caller-{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut numbers = vec![0; names.len()];
        let hashes: Vec<u64> = names.iter().map(|n| index.ask(n)).collect();
        index.number_all(&names, &hashes, &mut numbers);
        assert!(numbers.iter().enumerate().all(|(i, &n)| n == i));
        let again: Vec<&str> = names.iter().step_by(7).rev().copied().collect();
        let hashes: Vec<u64> = again.iter().map(|n| index.ask(n)).collect();
        index.number_all(&again, &hashes, &mut numbers[..again.len()]);
        assert!(again.iter().zip(&numbers).all(|(name, &n)| names[n] == *name));
        assert_eq!(index.count(), 100_000);
        assert!(index.slots.len() >= 200_000);
    }
}
