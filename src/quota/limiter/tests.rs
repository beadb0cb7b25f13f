//! The rules against each other and by hand: where two rules should agree call for call, they do.

use super::fixed_window::FixedWindow;
use super::leaky_bucket::LeakyBucket;
use super::sliding_counter::SlidingCounter;
use super::sliding_log::SlidingLog;
use super::token_bucket::TokenBucket;
use super::{Align, Rule};
use crate::time::{NANOS_PER_SEC, Nanos};
use proptest::prelude::*;

const MS: Nanos = 1_000_000;

/// Three calls in 0.4 s (at 0, 0.2 and 0.4 s) against L = 2, by hand. Sliding log of 1 s: two in the
/// window, the third refused. Token bucket of 2: full at 0 (2 → 1), +0.4 by 0.2 s (1.4 → 0.4), +0.4 by
/// 0.4 s (0.8 < 1): refused. nginx burst 1 nodelay: e = 0, then 0 − 0.4 + 1 = 0.6, then 0.6 − 0.4 + 1 =
/// 1.2 > 1: refused. Without nodelay the second waits 0.6 / 2 = 0.3 s.
#[test]
fn three_calls_in_four_tenths_of_a_second_at_two_qps() {
    let times = [0, 200 * MS, 400 * MS];
    let mut log = SlidingLog::new(NANOS_PER_SEC, 2, false);
    assert_eq!(times.map(|t| log.try_admit(t).is_some()), [true, true, false]);
    let mut counter = SlidingCounter::new(NANOS_PER_SEC, 0, 2, false);
    assert_eq!(times.map(|t| counter.try_admit(t).is_some()), [true, true, false]);
    // 0.2 s into the next window the two of the last weigh 2 × 0.8 = 1.6: one more fits, not two.
    assert!(counter.try_admit(1_200 * MS).is_some() && counter.try_admit(1_200 * MS).is_none());
    // The weight falls below 1 when 2 × (1 − e) + 1 < 2: past 0.5 s.
    assert_eq!(counter.next_admit(1_200 * MS), 1_500 * MS + 1);
    let mut bucket = TokenBucket::new(2, 2);
    assert_eq!(times.map(|t| bucket.try_admit(t).is_some()), [true, true, false]);
    let mut nginx = LeakyBucket::new(2, 1, true);
    assert_eq!(times.map(|t| nginx.try_admit(t).is_some()), [true, true, false]);
    let mut delayed = LeakyBucket::new(2, 1, false);
    assert_eq!(times.map(|t| delayed.try_admit(t)), [Some(0), Some(300 * MS), None]);
    // When each would next admit: the log when the call at 0 leaves (1 s), the bucket when 0.2 tokens
    // more have come (0.5 s), nginx when the excess 0.6 has drained to 0 (0.2 + 0.3 = 0.5 s).
    assert_eq!(log.next_admit(400 * MS), NANOS_PER_SEC);
    assert_eq!(bucket.next_admit(400 * MS), 500 * MS);
    assert_eq!(nginx.next_admit(400 * MS), 500 * MS);
}

fn arrivals(gaps: &[u64]) -> Vec<Nanos> {
    gaps.iter()
        .scan(0u64, |t, g| {
            *t += g;
            Some(*t)
        })
        .collect()
}

proptest! {
    /// A token bucket of capacity B + 1 admits exactly what nginx's limit_req with burst B and nodelay
    /// admits, call for call.
    #[test]
    fn token_bucket_of_b_plus_one_is_nginx_burst_b(
        rate in 1u32..20, burst in 0u64..6, gaps in proptest::collection::vec(0u64..400_000_000, 1..300),
    ) {
        let (mut tb, mut lb) = (TokenBucket::new(rate, burst + 1), LeakyBucket::new(rate, burst, true));
        for t in arrivals(&gaps) {
            prop_assert_eq!(tb.try_admit(t).is_some(), lb.try_admit(t).is_some(), "at {}", t);
        }
    }

    /// A token bucket of burst 1 at rate L never admits more than L in any clock-aligned second.
    #[test]
    fn a_token_bucket_of_one_never_passes_l_in_a_clock_second(
        rate in 1u32..12, gaps in proptest::collection::vec(0u64..300_000_000, 1..400),
    ) {
        let mut tb = TokenBucket::new(rate, 1);
        let mut per_second = std::collections::HashMap::new();
        for t in arrivals(&gaps) {
            if tb.try_admit(t).is_some() {
                *per_second.entry(t / NANOS_PER_SEC).or_insert(0u32) += 1;
            }
        }
        prop_assert!(per_second.values().all(|&n| n <= rate));
    }

    /// At L = 1, a first-call window, a sliding log of 1 s and a token bucket of burst 1 admit the same
    /// attempts.
    #[test]
    fn at_one_qps_three_limiters_agree(gaps in proptest::collection::vec(0u64..2_500_000_000, 1..300)) {
        let mut fixed = FixedWindow::new(NANOS_PER_SEC, Align::FirstCall, 0, 1);
        let mut log = SlidingLog::new(NANOS_PER_SEC, 1, false);
        let mut tb = TokenBucket::new(1, 1);
        for t in arrivals(&gaps) {
            let (a, b, c) = (fixed.try_admit(t).is_some(), log.try_admit(t).is_some(), tb.try_admit(t).is_some());
            prop_assert!(a == b && b == c, "at {}: fixed {}, log {}, bucket {}", t, a, b, c);
        }
    }

    /// next_admit is exact: nothing is admitted before it, and an attempt at it is admitted.
    #[test]
    fn next_admit_is_the_first_instant_admitted(
        rate in 1u32..8, burst in 1u64..4, gaps in proptest::collection::vec(0u64..300_000_000, 1..100),
    ) {
        let mut tb = TokenBucket::new(rate, burst);
        let mut lb = LeakyBucket::new(rate, burst, true);
        let mut log = SlidingLog::new(NANOS_PER_SEC, u64::from(rate), false);
        let mut counter = SlidingCounter::new(NANOS_PER_SEC, 300_000_000, u64::from(rate), false);
        for t in arrivals(&gaps) {
            let next = tb.next_admit(t);
            prop_assert!(next >= t && tb.clone().try_admit(next).is_some());
            if next > t {
                prop_assert!(tb.clone().try_admit(next - 1).is_none());
            }
            let next = lb.next_admit(t);
            prop_assert!(lb.clone().try_admit(next).is_some());
            if next > t {
                prop_assert!(lb.clone().try_admit(next - 1).is_none());
            }
            let next = counter.next_admit(t);
            prop_assert!(next >= t && counter.clone().try_admit(next).is_some(), "counter at {}: next {}", t, next);
            if next > t {
                prop_assert!(counter.clone().try_admit(next - 1).is_none());
            }
            let next = log.next_admit(t);
            prop_assert!(log.clone().try_admit(next).is_some());
            if next > t {
                prop_assert!(log.clone().try_admit(next - 1).is_none());
            }
            tb.try_admit(t);
            lb.try_admit(t);
            log.try_admit(t);
            counter.try_admit(t);
        }
    }
}
