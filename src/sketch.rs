//! A latency distribution that costs bytes per distinct value range seen, not a fixed 16 KB per cell.
//!
//! Values are counted in the buckets of an HDR histogram of 1 µs to 30 days at two significant digits
//! (each bucket within 1 % of its values), and percentiles are read exactly as HDR reads them, so a sketch
//! gives the same numbers as the `hdrhistogram` crate configured that way (a test holds it to that). What
//! differs is the storage: a new sketch allocates nothing; while it has seen few distinct buckets it keeps
//! a sorted list of (bucket, count) packed in four bytes each; once that list covers a quarter of the
//! range of buckets it spans (or holds [`SPARSE_MAX`] entries, or a count too big to pack) it keeps a dense
//! run of counters over that range instead, which records faster.

/// The largest value tracked, in microseconds: 30 days. Larger values count in its bucket.
pub const MAX_US: u64 = 30 * 86_400 * 1_000_000;
/// Buckets per power of two above the first 256 values (HDR's half sub-bucket count at two digits).
const HALF: u64 = 128;
const HALF_BITS: u32 = 7;
/// Counter slots of the HDR histogram with these bounds (35 buckets above the first, 128 slots each).
const SLOTS: usize = 4_608;
/// Sparse entries: bucket index in the top 13 bits, count in the low 19.
const COUNT_BITS: u32 = 19;
const COUNT_MAX: u32 = (1 << COUNT_BITS) - 1;
/// The most distinct buckets kept as a sparse list (4 KiB).
pub const SPARSE_MAX: usize = 1_024;
/// A sparse list shorter than this stays sparse whatever its range.
const SPARSE_MIN: usize = 64;
/// Values per sparse entry past which a sketch turns dense, checked every [`BUSY_CHECK`] values.
const BUSY: u64 = 64;
const BUSY_CHECK: u64 = 1_024;

/// HDR's slot for value `v` (>= 1 µs).
#[inline]
fn slot(v: u64) -> usize {
    let bucket = 56 - (v | 255).leading_zeros() as u64;
    let sub = v >> bucket;
    (((bucket + 1) << HALF_BITS) + sub - HALF) as usize
}

/// The lowest value of slot `i`, and its width.
fn slot_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    let mut bucket = (i >> HALF_BITS) as i64 - 1;
    let mut sub = (i & (HALF - 1)) + HALF;
    if bucket < 0 {
        sub -= HALF;
        bucket = 0;
    }
    (sub << bucket, 1 << bucket)
}

/// The value HDR reports for a percentile falling in slot `i`: the highest value equivalent to it.
fn reported(i: usize) -> u64 {
    let (low, width) = slot_range(i);
    low + width - 1
}

/// The slot a recorded value counts in: its own, or the top value's when it is past every slot.
#[inline]
fn slot_of_record(us: u64) -> usize {
    let s = slot(us.max(1));
    if s < SLOTS { s } else { slot(MAX_US) }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Counts {
    Sparse(Vec<u32>),
    /// Counts of slots `lo..lo + counts.len()`, four bytes each: a hundred busy cells' counters then stay
    /// in the core's cache, where eight bytes each spilled (a miss at every value recorded).
    Dense {
        lo: usize,
        counts: Vec<u32>,
    },
    /// The same once a slot passed 2^32 − 1 values.
    Wide {
        lo: usize,
        counts: Vec<u64>,
    },
}

/// Makes the run of counters starting at `lo` cover slot `s`.
#[inline]
fn cover<T: Copy + Default>(lo: &mut usize, counts: &mut Vec<T>, s: usize) {
    if s < *lo {
        counts.splice(0..0, std::iter::repeat_n(T::default(), *lo - s));
        *lo = s;
    } else if s >= *lo + counts.len() {
        counts.resize(s - *lo + 1, T::default());
    }
}

impl Default for Counts {
    fn default() -> Self {
        Counts::Sparse(Vec::new())
    }
}

/// Counts of values in HDR buckets (see the module's documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sketch {
    counts: Counts,
    total: u64,
}

impl Sketch {
    /// Records one value in microseconds.
    #[inline]
    pub fn record(&mut self, us: u64) {
        self.add_at(slot_of_record(us), 1);
        self.total += 1;
        if self.total.is_multiple_of(BUSY_CHECK) {
            self.densify_if_busy();
        }
    }

    /// A sparse list that has taken [`BUSY`] times as many values as it has entries turns dense: its
    /// binary search is paid at every value, and the dense run (at most 18 KB) then costs under a byte per
    /// value counted. (The list's span alone decides otherwise, in [`Sketch::crowded`].)
    #[cold]
    #[inline(never)]
    fn densify_if_busy(&mut self) {
        if let Counts::Sparse(entries) = &self.counts
            && self.total >= BUSY * entries.len() as u64
        {
            self.densify();
        }
    }

    fn add_at(&mut self, s: usize, n: u64) {
        match &mut self.counts {
            Counts::Dense { lo, counts } => {
                cover(lo, counts, s);
                let count = &mut counts[s - *lo];
                match u32::try_from(*count as u64 + n) {
                    Ok(sum) => *count = sum,
                    Err(_) => {
                        self.widen();
                        self.add_at(s, n);
                    }
                }
            }
            Counts::Wide { lo, counts } => {
                cover(lo, counts, s);
                counts[s - *lo] += n;
            }
            Counts::Sparse(entries) => {
                let at = entries.partition_point(|e| (e >> COUNT_BITS) < s as u32);
                let fits = |count: u64| count <= COUNT_MAX as u64;
                match entries.get(at) {
                    Some(&e) if (e >> COUNT_BITS) == s as u32 && fits((e & COUNT_MAX) as u64 + n) => {
                        entries[at] = e + n as u32;
                        return;
                    }
                    Some(&e) if (e >> COUNT_BITS) == s as u32 => {}
                    _ if fits(n) && !Self::crowded(entries, s) => {
                        // Grown by a quarter, not doubled: with 10^5 callers' lists the doubling's slack
                        // was a third of the run's memory.
                        if entries.len() == entries.capacity() {
                            entries.reserve_exact((entries.len() / 4).max(4));
                        }
                        entries.insert(at, (s as u32) << COUNT_BITS | n as u32);
                        return;
                    }
                    _ => {}
                }
                self.densify();
                self.add_at(s, n);
            }
        }
    }

    /// Whether a sparse list about to take slot `s` would be better dense.
    fn crowded(entries: &[u32], s: usize) -> bool {
        if entries.len() < SPARSE_MIN {
            return false;
        }
        if entries.len() >= SPARSE_MAX {
            return true;
        }
        let lo = ((entries[0] >> COUNT_BITS) as usize).min(s);
        let hi = ((entries[entries.len() - 1] >> COUNT_BITS) as usize).max(s);
        4 * entries.len() > hi - lo
    }

    fn densify(&mut self) {
        let Counts::Sparse(entries) = &self.counts else { return };
        let dense = match (entries.first(), entries.last()) {
            (Some(&first), Some(&last)) => {
                let (lo, hi) = ((first >> COUNT_BITS) as usize, (last >> COUNT_BITS) as usize);
                let mut counts = vec![0u32; hi - lo + 1];
                for e in entries {
                    counts[(e >> COUNT_BITS) as usize - lo] = e & COUNT_MAX;
                }
                Counts::Dense { lo, counts }
            }
            _ => Counts::Dense { lo: 0, counts: Vec::new() },
        };
        self.counts = dense;
    }

    #[cold]
    #[inline(never)]
    fn widen(&mut self) {
        if let Counts::Dense { lo, counts } = &self.counts {
            self.counts = Counts::Wide { lo: *lo, counts: counts.iter().map(|&c| u64::from(c)).collect() };
        }
    }

    /// (slot, count) of every non-empty slot, lowest first.
    fn slots(&self) -> Box<dyn Iterator<Item = (usize, u64)> + '_> {
        match &self.counts {
            Counts::Sparse(entries) => {
                Box::new(entries.iter().map(|e| ((e >> COUNT_BITS) as usize, (e & COUNT_MAX) as u64)))
            }
            Counts::Dense { lo, counts } => {
                Box::new(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(i, c)| (lo + i, u64::from(*c))))
            }
            Counts::Wide { lo, counts } => {
                Box::new(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(i, c)| (lo + i, *c)))
            }
        }
    }

    /// The slot a value (µs) counts in, for [`Sketch::add_sorted`].
    #[inline]
    pub fn slot_of(us: u64) -> u16 {
        slot_of_record(us) as u16
    }

    /// Records one value per entry of `slots` (from [`Sketch::slot_of`]), sorted ascending: the same as
    /// recording the values one by one.
    pub fn add_sorted(&mut self, slots: impl Iterator<Item = u16>) {
        let mut run: Option<(u16, u64)> = None;
        for s in slots {
            match &mut run {
                Some((at, n)) if *at == s => *n += 1,
                _ => {
                    if let Some((at, n)) = run.replace((s, 1)) {
                        self.add_at(at as usize, n);
                        self.total += n;
                    }
                }
            }
        }
        if let Some((at, n)) = run {
            self.add_at(at as usize, n);
            self.total += n;
        }
        self.densify_if_busy();
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Sketch) {
        if other.total == 0 {
            return;
        }
        for (s, n) in other.slots() {
            self.add_at(s, n);
        }
        self.total += other.total;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value (µs) at quantile `q`, as HDR reports it; 0 for an empty sketch.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let target = ((q.min(1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        let mut last = 0;
        for (s, n) in self.slots() {
            seen += n;
            last = s;
            if seen >= target {
                return reported(s);
            }
        }
        reported(last)
    }

    /// Heap bytes the sketch holds.
    pub fn heap_bytes(&self) -> usize {
        match &self.counts {
            Counts::Sparse(e) => e.capacity() * 4,
            Counts::Dense { counts, .. } => counts.capacity() * 4,
            Counts::Wide { counts, .. } => counts.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use proptest::prelude::*;

    #[test]
    fn the_slot_count_is_hdrs() {
        let h = Histogram::<u32>::new_with_bounds(1, MAX_US, 2).unwrap();
        assert_eq!(h.distinct_values(), SLOTS);
    }

    fn same_as_hdr(values: &[u64]) -> Result<(), TestCaseError> {
        let mut hdr = Histogram::<u32>::new_with_bounds(1, MAX_US, 2).unwrap();
        let mut sketch = Sketch::default();
        for &v in values {
            hdr.saturating_record(v.max(1));
            sketch.record(v);
        }
        for q in [0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
            prop_assert_eq!(sketch.value_at_quantile(q), hdr.value_at_quantile(q), "q = {}", q);
        }
        Ok(())
    }

    proptest! {
        // Percentiles equal hdrhistogram's, sparse or dense, over values from 1 µs to past 30 days.
        #[test]
        fn percentiles_match_hdrhistogram(
            values in proptest::collection::vec(
                prop_oneof![1u64..1_000, 1u64..10_000_000, 1u64..MAX_US * 3, Just(u64::MAX / 2)], 1..1_500),
        ) {
            same_as_hdr(&values)?;
        }

        #[test]
        fn merging_equals_recording_everything(
            a in proptest::collection::vec(1u64..100_000_000, 0..600),
            b in proptest::collection::vec(1u64..100_000_000, 0..600),
        ) {
            let (mut x, mut y, mut all) = (Sketch::default(), Sketch::default(), Sketch::default());
            a.iter().for_each(|&v| { x.record(v); all.record(v); });
            b.iter().for_each(|&v| { y.record(v); all.record(v); });
            x.merge(&y);
            for q in [0.5, 0.9, 0.99, 1.0] {
                prop_assert_eq!(x.value_at_quantile(q), all.value_at_quantile(q));
            }
            prop_assert_eq!(x.count(), all.count());
        }
    }

    /// A cell that takes many values in buckets spread thin turns dense once it has taken BUSY per entry
    /// (not before), and reads the same percentiles as hdrhistogram before and after.
    #[test]
    fn a_busy_sparse_list_turns_dense_and_reads_the_same() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let values: Vec<u64> = (0..100_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Three clusters (10-12 ms, 200-240 ms, 5-6 s): some 80 buckets spread over a span ten
                // times as wide, which the span rule keeps sparse.
                match state % 3 {
                    0 => 10_000 + state % 2_000,
                    1 => 200_000 + state % 40_000,
                    _ => 5_000_000 + state % 1_000_000,
                }
            })
            .collect();
        let mut s = Sketch::default();
        let mut turned = None;
        for (i, &v) in values.iter().enumerate() {
            s.record(v);
            if turned.is_none() && matches!(s.counts, Counts::Dense { .. }) {
                turned = Some(i + 1);
            }
        }
        let turned = turned.expect("the busy list turned dense");
        assert!(turned > 1_024 && turned < 100_000, "turned dense after {turned} values");
        same_as_hdr(&values[..turned - 1]).unwrap();
        same_as_hdr(&values).unwrap();
    }

    #[test]
    fn a_few_samples_cost_a_few_bytes() {
        let mut s = Sketch::default();
        assert_eq!(s.heap_bytes(), 0);
        for v in [120_000u64, 480_000, 950_000, 2_100_000] {
            s.record(v);
        }
        assert!(s.heap_bytes() <= 64, "{}", s.heap_bytes());
        // One value recorded a million times overflows a packed count and turns dense without loss.
        for _ in 0..1_000_000 {
            s.record(500_000);
        }
        assert_eq!(s.count(), 1_000_004);
        assert_eq!(s.value_at_quantile(0.5), reported(slot(500_000)));
    }

    /// A dense counter about to pass 2^32 − 1 widens every counter to eight bytes, losing nothing: counts,
    /// percentiles and merges read as before (it fails if the four-byte counter wraps or saturates).
    #[test]
    fn a_counter_past_four_bytes_widens_the_run() {
        let mut s = Sketch::default();
        for v in [1_000u64, 40_000, 900_000] {
            s.record(v);
        }
        let big = u64::from(u32::MAX) - 1;
        s.add_at(slot(40_000), big);
        s.total += big;
        assert!(matches!(s.counts, Counts::Dense { .. }), "{:?}", s.counts);
        s.record(40_000);
        s.record(40_000);
        assert!(matches!(s.counts, Counts::Wide { .. }));
        assert_eq!(s.count(), big + 5);
        let counts: Vec<(usize, u64)> = s.slots().collect();
        assert_eq!(counts, [(slot(1_000), 1), (slot(40_000), big + 3), (slot(900_000), 1)]);
        assert_eq!(s.value_at_quantile(0.5), reported(slot(40_000)));
        assert_eq!(s.value_at_quantile(1.0), reported(slot(900_000)));
        let mut merged = Sketch::default();
        merged.record(1_000);
        merged.merge(&s);
        assert_eq!(merged.slots().next(), Some((slot(1_000), 2)));
        assert_eq!(merged.count(), big + 6);
    }
}
