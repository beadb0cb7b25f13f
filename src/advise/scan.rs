//! Scans: which whole values of one knob (a QPS, a thread count) meet a predicate the engine judges,
//! without assuming that the answer is monotone in the knob.
//!
//! A scan first brackets the answer by doubling (or halving) from a starting value, then evaluates every
//! value from 1 to the top of the bracket — each in parallel, since with common random numbers one value's
//! runs do not depend on another's — or, past `max_points` values, every value at a coarser resolution and
//! then bisects the last step before the answer. What it reports is read from the values it evaluated and
//! from nothing else: the answer (the least value that meets, or the most), the value from which every
//! evaluated value meets (up to which, for thread counts), and each range that fails in between. A claim of
//! monotony is made only where every evaluated value agreed.

use crate::Error;
use rayon::prelude::*;
use serde::Serialize;

/// Which way the predicate is expected to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From some value up: more QPS, fewer throttles.
    Up,
    /// Up to some value: fewer threads, fewer throttles.
    Down,
}

/// How the bracket ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bracket {
    /// A value that meets was found (up) or one that misses above one that meets (down).
    Found,
    /// Up: nothing up to the ceiling meets.
    NotUpTo(u64),
    /// Down: not even 1 meets.
    NotEvenOne,
    /// Down: every value tried up to the ceiling meets.
    Ceiling(u64),
    /// The bracket stopped at a value whose runs pass the work limits.
    TooLarge(u64),
}

/// A value's point, as the caller evaluates it.
pub trait Judged {
    fn met(&self) -> bool;
}

/// Every value a scan evaluated, and how.
#[derive(Debug)]
pub struct Scan<T> {
    /// (value, point) in the order evaluated; a batch in ascending order of value.
    pub points: Vec<(u64, T)>,
    /// Values whose runs would pass the work limits: not evaluated.
    pub too_large: Vec<u64>,
    pub bracket: Bracket,
    /// Every value from 1 to `top` was evaluated at `resolution` (1: every one).
    pub top: u64,
    pub resolution: u64,
}

/// What the evaluated values say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// Up: the least value that meets; down: the most.
    pub answer: Option<u64>,
    /// Up: the least value from which every evaluated value meets; down: the most up to which every one
    /// does. None when the last evaluated value (up: the highest; down: 1) misses.
    pub solid: Option<u64>,
    /// The ranges of evaluated values beyond the answer that miss (up: above it; down: below it), each
    /// from its first to its last evaluated value, in ascending order.
    pub failing: Vec<(u64, u64)>,
}

impl Reading {
    /// Whether every evaluated value agreed with a monotone answer.
    pub fn monotone(&self) -> bool {
        self.failing.is_empty() && (self.answer.is_none() || self.solid.is_some())
    }
}

/// Scans `[1, ceiling]` from `start` in `direction`, evaluating at most about `max_points` values after
/// the bracket (then at a coarser resolution). `eval` gives a value's point, or `None` when its runs
/// would pass the work limits.
pub fn scan<T: Judged + Send>(
    start: u64,
    ceiling: u64,
    direction: Direction,
    max_points: u64,
    eval: impl Fn(u64) -> Result<Option<T>, Error> + Sync,
) -> Result<Scan<T>, Error> {
    let ceiling = ceiling.max(1);
    let mut scan = Scan { points: Vec::new(), too_large: Vec::new(), bracket: Bracket::Found, top: 1, resolution: 1 };
    let one = |v: u64, scan: &mut Scan<T>| -> Result<Option<bool>, Error> {
        Ok(match eval(v)? {
            Some(p) => {
                let met = p.met();
                scan.points.push((v, p));
                Some(met)
            }
            None => {
                scan.too_large.push(v);
                None
            }
        })
    };
    let start = start.clamp(1, ceiling);
    // The bracket: the top of the range every value of which is then evaluated.
    let top = match direction {
        Direction::Up => {
            let mut v = start;
            loop {
                match one(v, &mut scan)? {
                    None => {
                        scan.bracket = Bracket::TooLarge(v);
                        break start.min(v.saturating_sub(1));
                    }
                    Some(true) => break v,
                    Some(false) if v >= ceiling => {
                        scan.bracket = Bracket::NotUpTo(ceiling);
                        break start;
                    }
                    Some(false) => v = v.saturating_mul(2).min(ceiling),
                }
            }
        }
        Direction::Down => match one(start, &mut scan)? {
            None => {
                scan.bracket = Bracket::TooLarge(start);
                start.saturating_sub(1)
            }
            Some(true) => {
                let mut v = start;
                loop {
                    if v >= ceiling {
                        scan.bracket = Bracket::Ceiling(ceiling);
                        break ceiling;
                    }
                    let next = v.saturating_mul(2).min(ceiling);
                    match one(next, &mut scan)? {
                        None => {
                            scan.bracket = Bracket::TooLarge(next);
                            break v;
                        }
                        Some(true) => v = next,
                        Some(false) => break next,
                    }
                }
            }
            Some(false) => {
                let mut v = start;
                loop {
                    if v == 1 {
                        scan.bracket = Bracket::NotEvenOne;
                        break start;
                    }
                    v /= 2;
                    match one(v, &mut scan)? {
                        None => {
                            scan.bracket = Bracket::TooLarge(v);
                            break start;
                        }
                        Some(true) => break start,
                        Some(false) => {}
                    }
                }
            }
        },
    };
    scan.top = top;
    if top == 0 {
        return Ok(scan);
    }
    // Every value of [1, top], or every `resolution`-th one when they are too many.
    let resolution = top.div_ceil(max_points.max(1)).max(1);
    scan.resolution = resolution;
    let grid: Vec<u64> = (1..=top).filter(|v| resolution == 1 || v % resolution == 0 || *v == 1 || *v == top).collect();
    batch(&mut scan, grid, &eval)?;
    if resolution > 1 {
        refine(&mut scan, direction, &eval)?;
    }
    Ok(scan)
}

/// Evaluates the values of `values` not evaluated yet, in parallel, appending them in ascending order.
fn batch<T: Judged + Send>(
    scan: &mut Scan<T>,
    mut values: Vec<u64>,
    eval: &(impl Fn(u64) -> Result<Option<T>, Error> + Sync),
) -> Result<(), Error> {
    values.retain(|v| !scan.points.iter().any(|(w, _)| w == v) && !scan.too_large.contains(v));
    values.sort_unstable();
    values.dedup();
    let found: Vec<(u64, Option<T>)> =
        values.into_par_iter().map(|v| eval(v).map(|p| (v, p))).collect::<Result<_, _>>()?;
    for (v, p) in found {
        match p {
            Some(p) => scan.points.push((v, p)),
            None => scan.too_large.push(v),
        }
    }
    Ok(())
}

/// At a coarse resolution: bisects the step between the answer and the evaluated value next to it on the
/// missing side, so the answer is exact where the values there are monotone.
fn refine<T: Judged + Send>(
    scan: &mut Scan<T>,
    direction: Direction,
    eval: &(impl Fn(u64) -> Result<Option<T>, Error> + Sync),
) -> Result<(), Error> {
    loop {
        let Some(answer) = read(scan, direction).answer else { return Ok(()) };
        let miss = scan.points.iter().filter(|(_, p)| !p.met()).map(|(v, _)| *v);
        // The nearest evaluated miss on the far side of the answer.
        let neighbour = match direction {
            Direction::Up => miss.filter(|&v| v < answer).max(),
            Direction::Down => miss.filter(|&v| v > answer).min(),
        };
        let Some(n) = neighbour else { return Ok(()) };
        if n.abs_diff(answer) <= 1 {
            return Ok(());
        }
        let mid = n.min(answer) + n.abs_diff(answer) / 2;
        let before = scan.points.len() + scan.too_large.len();
        batch(scan, vec![mid], eval)?;
        if scan.points.len() + scan.too_large.len() == before || scan.too_large.contains(&mid) {
            return Ok(());
        }
    }
}

/// What the evaluated values of `scan` say (see [`Reading`]).
pub fn read<T: Judged>(scan: &Scan<T>, direction: Direction) -> Reading {
    read_values(scan.points.iter().map(|(v, p)| (*v, p.met())), direction)
}

/// [`read`] from (value, met) pairs.
pub fn read_values(values: impl Iterator<Item = (u64, bool)>, direction: Direction) -> Reading {
    let mut sorted: Vec<(u64, bool)> = values.collect();
    sorted.sort_unstable();
    sorted.dedup_by_key(|(v, _)| *v);
    // Walk from the worst end to the best: up, in ascending order; down, in descending.
    if direction == Direction::Down {
        sorted.reverse();
    }
    let Some(first_met) = sorted.iter().position(|(_, m)| *m) else {
        return Reading { answer: None, solid: None, failing: Vec::new() };
    };
    let last_miss = sorted.iter().rposition(|(_, m)| !*m);
    let solid = match last_miss {
        None => sorted.first().map(|(v, _)| *v),
        Some(i) => sorted.get(i + 1).map(|(v, _)| *v),
    };
    let mut failing: Vec<(u64, u64)> = Vec::new();
    let mut run: Option<(u64, u64)> = None;
    for &(v, met) in &sorted[first_met..] {
        match (met, &mut run) {
            (false, Some(r)) => r.1 = v,
            (false, None) => run = Some((v, v)),
            (true, _) => failing.extend(run.take()),
        }
    }
    failing.extend(run);
    let mut failing: Vec<(u64, u64)> = failing.into_iter().map(|(a, b)| (a.min(b), a.max(b))).collect();
    failing.sort_unstable();
    Reading { answer: Some(sorted[first_met].0), solid, failing }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct P(bool);
    impl Judged for P {
        fn met(&self) -> bool {
            self.0
        }
    }

    fn run(start: u64, ceiling: u64, d: Direction, max: u64, met: impl Fn(u64) -> bool + Sync) -> (Scan<P>, Reading) {
        let scan = scan(start, ceiling, d, max, |v| Ok(Some(P(met(v))))).unwrap();
        let reading = read(&scan, d);
        (scan, reading)
    }

    #[test]
    fn a_monotone_answer_is_exact_from_any_start() {
        for answer in [1, 2, 3, 7, 8, 9, 64, 100] {
            for start in [1, 2, 5, 64, 500] {
                let (s, r) = run(start, 100_000, Direction::Up, 128, |v| v >= answer);
                assert_eq!((r.answer, r.solid, r.monotone()), (Some(answer), Some(answer), true), "{answer} {start}");
                // Every value up to the top of the bracket was evaluated when they are few enough.
                assert_eq!(s.resolution == 1, s.top <= 128, "{}", s.top);
                for v in (1..=s.top).filter(|_| s.resolution == 1) {
                    assert!(s.points.iter().any(|(w, _)| *w == v), "{v} of {}", s.top);
                }
                assert!(s.top < 2 * answer.max(start), "{} for {answer} from {start}", s.top);
            }
            let (_, r) = run(4, 1000, Direction::Down, 128, |v| v <= answer);
            assert_eq!((r.answer, r.solid, r.monotone()), (Some(answer), Some(answer), true), "down {answer}");
        }
    }

    #[test]
    fn a_non_monotone_answer_is_the_least_meeting_value_with_its_failing_ranges() {
        // The README's closed loop: met at 10, missed at 14, met at 15, missed at 16–18, met from 19 on.
        let met = |v: u64| v == 10 || v == 15 || (11..=13).contains(&v) || v >= 19;
        let (_, r) = run(2, 100_000, Direction::Up, 128, met);
        assert_eq!(r.answer, Some(10));
        assert_eq!(r.solid, Some(19));
        assert_eq!(r.failing, vec![(14, 14), (16, 18)]);
        assert!(!r.monotone());
        assert_eq!(crate::text::ranges(&r.failing), "14, 16–18");
        // Met only low: 1 meets, nothing above does.
        let (s, r) = run(2, 1000, Direction::Up, 128, |v| v == 1);
        assert_eq!((r.answer, r.solid), (Some(1), None));
        assert_eq!(s.bracket, Bracket::NotUpTo(1000));
        assert!(!r.monotone());
        // Threads: met up to 3 and again at 6, found from 8 (8 and 4 miss, 2 meets: every count to 8 is
        // evaluated).
        let (_, r) = run(8, 1000, Direction::Down, 128, |v| v <= 3 || v == 6);
        assert_eq!((r.answer, r.solid, r.failing.clone()), (Some(6), Some(3), vec![(4, 5)]));
    }

    #[test]
    fn past_max_points_the_resolution_is_coarser_and_the_last_step_bisected() {
        let (s, r) = run(2, 100_000, Direction::Up, 64, |v| v >= 1000);
        // Doubling from 2 first meets at 1024: every 16th value up to it, then the last step bisected.
        assert_eq!((s.top, s.resolution), (1024, 16));
        assert_eq!(r.answer, Some(1000));
        assert!(s.points.len() < 64 + 12 + 12, "{}", s.points.len());
        let (_, r) = run(1, 100_000, Direction::Down, 64, |v| v <= 777);
        assert_eq!(r.answer, Some(777));
    }

    #[test]
    fn nothing_meets_and_not_even_one() {
        let (s, r) = run(2, 100, Direction::Up, 128, |_| false);
        assert_eq!((s.bracket, r.answer), (Bracket::NotUpTo(100), None));
        let (s, r) = run(8, 100, Direction::Down, 128, |_| false);
        assert_eq!((s.bracket, r.answer), (Bracket::NotEvenOne, None));
        let (s, r) = run(8, 100, Direction::Down, 128, |_| true);
        assert_eq!((s.bracket, r.answer, r.solid), (Bracket::Ceiling(100), Some(100), Some(100)));
    }

    #[test]
    fn values_past_the_work_limits_are_not_evaluated_and_end_the_bracket() {
        let scan = scan(4, 10_000, Direction::Down, 128, |v| Ok((v < 300).then_some(P(true)))).unwrap();
        assert_eq!(scan.bracket, Bracket::TooLarge(512));
        assert_eq!(read(&scan, Direction::Down).answer, Some(256));
    }
}
