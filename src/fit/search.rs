//! The search for the limiter a series' answers show.
//!
//! Each kind decides an attempt by comparing one number the history gives (the admissions in the window
//! so far, a bucket's debt in tokens) with its limit: admitted iff s < limit. Read with the log's own
//! answers as the history, s is known at every row, so for a given window (or a bucket's rate) the limit
//! that reproduces the most answers is found exactly, by counting, in one pass. Windows are scanned on a
//! grid (the usual lengths and a geometric one from 10 ms to the log's span), the best zoomed in on and
//! snapped to the roundest length that does as well; bucket rates are scanned (every integer to 50, then 3 % apart) and the best walked integer by integer. The
//! best of each kind are then replayed through quotasim's own limiters (their state moved by their own
//! decisions, as the platform's was) with their limits nudged, and a clock-aligned rule's offset from
//! the log's clock is estimated from where admissions resume after throttles. Last, a second window is
//! tried beside the best windowed rule.

use super::model::{Kind, Model, Series, agreement, replay};
use crate::time::{NANOS_PER_SEC, Nanos};
use rayon::prelude::*;
use std::collections::VecDeque;

const MS: Nanos = 1_000_000;
const SEC: Nanos = NANOS_PER_SEC;
const MIN: Nanos = 60 * SEC;
const HOUR: Nanos = 60 * MIN;
const DAY: Nanos = 24 * HOUR;

/// The window lengths platforms publish.
pub const USUAL_WINDOWS: [Nanos; 24] = [
    100 * MS,
    200 * MS,
    250 * MS,
    500 * MS,
    SEC,
    2 * SEC,
    3 * SEC,
    5 * SEC,
    10 * SEC,
    15 * SEC,
    20 * SEC,
    30 * SEC,
    MIN,
    2 * MIN,
    5 * MIN,
    10 * MIN,
    15 * MIN,
    30 * MIN,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
];

/// Units a window is rounded to when snapped, coarsest first.
const ROUND_UNITS: [Nanos; 22] = [
    DAY,
    12 * HOUR,
    6 * HOUR,
    HOUR,
    30 * MIN,
    15 * MIN,
    10 * MIN,
    5 * MIN,
    MIN,
    30 * SEC,
    15 * SEC,
    10 * SEC,
    5 * SEC,
    SEC,
    500 * MS,
    250 * MS,
    100 * MS,
    50 * MS,
    10 * MS,
    5 * MS,
    MS,
    1,
];

/// The rows' statistic s under one kind and window (or rate), the log's answers as history, counted by
/// value: admitted rows and throttled rows with each s.
struct Histogram {
    admitted: Vec<u64>,
    throttled: Vec<u64>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram { admitted: Vec::new(), throttled: Vec::new() }
    }

    #[inline]
    fn add(&mut self, s: u64, throttled: bool) {
        let s = s as usize;
        if s >= self.admitted.len() {
            self.admitted.resize(s + 1, 0);
            self.throttled.resize(s + 1, 0);
        }
        if throttled { self.throttled[s] += 1 } else { self.admitted[s] += 1 }
    }

    /// The limit L >= 1 (admitted iff s < L) that reproduces the most rows, the least such, and how many.
    fn best_limit(&self) -> (u64, u64) {
        let mut below = 0; // admitted rows with s < L
        let mut at_or_above: u64 = self.throttled.iter().sum(); // throttled rows with s >= L
        let (mut best, mut best_agree) = (1, 0);
        for l in 1..=self.admitted.len() {
            below += self.admitted[l - 1];
            at_or_above -= self.throttled[l - 1];
            if below + at_or_above > best_agree {
                (best, best_agree) = (l as u64, below + at_or_above);
            }
        }
        (best, best_agree)
    }
}

/// The histogram of s for a windowed kind over `window`, with clock phase `phase` (clock kinds).
fn window_histogram(kind: Kind, window: Nanos, phase: Nanos, series: &Series, only: Option<&[bool]>) -> Histogram {
    let mut h = Histogram::new();
    let rejected = matches!(kind, Kind::SlidingLogRejected | Kind::SlidingCounterRejected);
    let rows = series.times.iter().zip(&series.throttled).enumerate();
    let mut take = |i: usize, s: u64, throttled: bool| {
        if only.is_none_or(|o| o[i]) {
            h.add(s, throttled)
        }
    };
    match kind {
        Kind::FixedClock | Kind::FirstCall => {
            // The window's end is kept, so a row costs a compare, not a division.
            let (mut end, mut count) = (0, 0);
            for (i, (&t, &throttled)) in rows {
                if t >= end {
                    end = match kind {
                        Kind::FixedClock => ((t + phase) / window + 1) * window - phase,
                        _ => t + window,
                    };
                    count = 0;
                }
                take(i, count, throttled);
                count += !throttled as u64;
            }
        }
        Kind::SlidingLog | Kind::SlidingLogRejected => {
            let mut log: VecDeque<Nanos> = VecDeque::new();
            for (i, (&t, &throttled)) in rows {
                while log.front().is_some_and(|&e| e + window <= t) {
                    log.pop_front();
                }
                take(i, log.len() as u64, throttled);
                if !throttled || rejected {
                    log.push_back(t);
                }
            }
        }
        Kind::SlidingCounter | Kind::SlidingCounterRejected => {
            let (w, phase) = (window as u128, phase as u128);
            let (mut start, mut cur, mut prev) = (0u128, 0u128, 0u128);
            let mut started = false;
            for (i, (&t, &throttled)) in rows {
                let at = t as u128 + phase;
                if !started || at >= start + w {
                    let k_start = at / w * w;
                    (prev, cur) = if started && k_start == start + w { (cur, 0) } else { (0, 0) };
                    (start, started) = (k_start, true);
                }
                let elapsed = at - start;
                // Admitted iff prev·(w − e) + cur·w < L·w, i.e. iff cur + floor(prev·(w − e) / w) < L; in
                // 64 bits where the product fits.
                let weighed = match (prev as u64).checked_mul((w - elapsed) as u64) {
                    Some(p) if w <= u64::MAX as u128 => p / w as u64,
                    _ => (prev * (w - elapsed) / w) as u64,
                };
                take(i, cur as u64 + weighed, throttled);
                cur += (!throttled || rejected) as u128;
            }
        }
        Kind::TokenBucket => unreachable!("a bucket has a rate, not a window"),
    }
    h
}

/// The histogram of a token bucket's debt in whole tokens at `rate` (admitted iff debt < burst).
fn bucket_histogram(rate: u32, series: &Series) -> Histogram {
    let mut h = Histogram::new();
    let (r, s) = (rate as i128, SEC as i128);
    let mut tat: i128 = 0;
    for (&t, &throttled) in series.times.iter().zip(&series.throttled) {
        let now = t as i128 * r;
        let debt = tat - now;
        let tokens = if debt <= 0 { 0 } else { (debt + s - 1) / s };
        h.add(tokens.min(u32::MAX as i128) as u64, throttled);
        if !throttled {
            tat = tat.max(now) + s;
        }
    }
    h
}

/// A candidate judged by the log's answers as history: its model and how many rows it reproduces so.
#[derive(Clone, Copy, Debug)]
struct Scored {
    model: Model,
    agree: u64,
}

fn phase_of(series: &Series, window: Nanos, shift: i64) -> Nanos {
    (series.clock0 + shift as i128).rem_euclid(window as i128) as Nanos
}

fn score_window(kind: Kind, window: Nanos, shift: i64, series: &Series) -> Scored {
    let (limit, agree) = window_histogram(kind, window, phase_of(series, window, shift), series, None).best_limit();
    Scored { model: Model::windowed(kind, window, limit, shift), agree }
}

fn score_bucket(rate: u32, series: &Series) -> Scored {
    let (burst, agree) = bucket_histogram(rate, series).best_limit();
    Scored { model: Model::bucket(rate, burst), agree }
}

/// The better of two: more rows reproduced, then the rounder window, then the shorter.
fn better(a: &Scored, b: &Scored) -> bool {
    (a.agree, roundness(a.model.window), std::cmp::Reverse(a.model.window))
        > (b.agree, roundness(b.model.window), std::cmp::Reverse(b.model.window))
}

/// How round a length is: the index from the end of the coarsest unit it is a multiple of.
fn roundness(w: Nanos) -> usize {
    ROUND_UNITS.iter().position(|&u| w.is_multiple_of(u)).map_or(0, |i| ROUND_UNITS.len() - i)
}

fn best_of(scored: impl IntoIterator<Item = Scored>) -> Option<Scored> {
    scored.into_iter().fold(None, |best, s| match best {
        Some(b) if !better(&s, &b) => Some(b),
        _ => Some(s),
    })
}

/// The grid of windows: the usual lengths and a geometric one (×1.2) from 10 ms, up to the span.
fn window_grid(span: Nanos) -> Vec<Nanos> {
    let top = span.max(SEC);
    let mut grid: Vec<Nanos> = USUAL_WINDOWS.iter().copied().filter(|&w| w <= top).collect();
    let mut w = 10.0 * MS as f64;
    while w <= top as f64 {
        grid.push(w.round() as Nanos);
        w *= 1.3;
    }
    grid.sort_unstable();
    grid.dedup();
    grid
}

/// Zooms in on a window between its grid neighbours (three passes of 16 steps), then snaps it to the
/// roundest length that reproduces as many rows.
fn refine_window(start: Scored, low: Nanos, high: Nanos, series: &Series) -> Scored {
    let (kind, shift) = (start.model.kind, start.model.shift);
    let mut best = start;
    let (mut lo, mut hi) = (low as f64, high as f64);
    for _ in 0..3 {
        let step = (hi / lo).powf(1.0 / 16.0);
        let windows: Vec<Nanos> = (0..=16).map(|k| (lo * step.powi(k)).round().max(1.0) as Nanos).collect();
        let scored: Vec<Scored> = windows.par_iter().map(|&w| score_window(kind, w, shift, series)).collect();
        if let Some(b) = best_of(scored.into_iter().chain([best])) {
            best = b;
        }
        let w = best.model.window as f64;
        (lo, hi) = ((w / step).max(1.0), w * step);
    }
    // The roundest length near it that does as well.
    let w = best.model.window;
    for &unit in &ROUND_UNITS {
        let rounded = ((w + unit / 2) / unit) * unit;
        if rounded == 0 || rounded.abs_diff(w) * 20 > w {
            continue;
        }
        let s = score_window(kind, rounded, shift, series);
        if s.agree >= best.agree {
            return s;
        }
    }
    best
}

/// The bucket rates worth scanning: every integer up to 50, then 3 % apart, up to twice the busiest
/// second's admissions (the best of these is then walked integer by integer).
fn rate_grid(series: &Series) -> Vec<u32> {
    let top = (2 * busiest(series, SEC, true) + 2).min(u32::MAX as u64 / 2) as u32;
    let mut rates: Vec<u32> = (1..=top.min(50)).collect();
    let mut r = 50.0f64;
    while r < top as f64 {
        r *= 1.03;
        rates.push(r.round() as u32);
    }
    rates.dedup();
    rates
}

/// Walks a bucket's rate one by one from `start` while a neighbour reproduces more rows.
fn walk_rate(start: Scored, series: &Series) -> Scored {
    let mut best = start;
    for direction in [1i64, -1] {
        loop {
            let r = best.model.rate as i64 + direction;
            if r < 1 || r > u32::MAX as i64 {
                break;
            }
            let s = score_bucket(r as u32, series);
            if s.agree > best.agree { best = s } else { break }
        }
    }
    best
}

/// The most rows (admitted only, or all) in any window (t − window, t].
pub fn busiest(series: &Series, window: Nanos, admitted_only: bool) -> u64 {
    let mut log: VecDeque<Nanos> = VecDeque::new();
    let mut most = 0;
    for (&t, &throttled) in series.times.iter().zip(&series.throttled) {
        if admitted_only && throttled {
            continue;
        }
        while log.front().is_some_and(|&e| e + window <= t) {
            log.pop_front();
        }
        log.push_back(t);
        most = most.max(log.len() as u64);
    }
    most
}

/// Where a clock rule's windows turn, estimated from where admissions resume after a throttle (a
/// boundary lies between): the shift (ns, within half a window of 0) that puts a boundary inside the most
/// of those gaps, nearest to 0 among the best.
fn clock_shift(model: &Model, series: &Series) -> i64 {
    let w = model.window as i128;
    // Each gap (throttle, next admission] as an interval of the boundary's position mod w.
    let mut events: Vec<(i128, i32)> = Vec::new();
    let mut gaps = 0;
    for i in 1..series.len() {
        if series.throttled[i - 1] && !series.throttled[i] {
            let (a, b) = (series.times[i - 1] as i128, series.times[i] as i128);
            if b - a >= w {
                continue;
            }
            gaps += 1;
            let (a, b) = ((a + 1).rem_euclid(w), (b + 1).rem_euclid(w)); // (a, b] as [a + 1, b + 1)
            if a < b {
                events.extend([(a, 1), (b, -1)]);
            } else {
                events.extend([(a, 1), (w, -1), (0, 1), (b, -1)]);
            }
        }
    }
    if gaps == 0 {
        return model.shift;
    }
    events.sort_unstable();
    // Boundaries sit at times T with (clock0 + shift + T) ≡ 0 (mod w): position u = −(clock0 + shift).
    let u_of = |shift: i128| (-(series.clock0 + shift)).rem_euclid(w);
    let shift_of = |u: i128| {
        let s = (-(series.clock0 + u)).rem_euclid(w);
        if s > w / 2 { s - w } else { s }
    };
    let (mut depth, mut most) = (0, 0);
    let mut spans: Vec<(i128, i128)> = Vec::new();
    for (k, &(at, d)) in events.iter().enumerate() {
        depth += d;
        let next = events.get(k + 1).map_or(w, |e| e.0);
        if next > at {
            if depth > most {
                (most, spans) = (depth, vec![(at, next)]);
            } else if depth == most && most > 0 {
                spans.push((at, next));
            }
        }
    }
    let here = u_of(0);
    if spans.iter().any(|&(a, b)| (a..b).contains(&here)) {
        return 0;
    }
    // The point of the best spans nearest to no shift.
    spans.iter().flat_map(|&(a, b)| [a, b - 1]).map(shift_of).min_by_key(|s| (s.abs(), *s)).map_or(0, |s| s as i64)
}

/// A candidate replayed exactly: its model and how many rows it reproduces.
#[derive(Clone, Copy, Debug)]
pub struct Fitted {
    pub model: Model,
    pub agree: u64,
}

/// Replays the candidate and its limit's neighbours, walking the limit (by doubling steps) while that
/// reproduces more rows.
fn confirm(start: Model, series: &Series) -> Fitted {
    let at = |limit: u64| {
        let model = Model { limit, ..start };
        Fitted { model, agree: agreement(&model, series) }
    };
    let mut best = at(start.limit);
    for direction in [1i64, -1] {
        let mut step = 1i64;
        loop {
            let limit = best.model.limit as i64 + direction * step;
            if limit < 1 {
                break;
            }
            let f = at(limit as u64);
            if f.agree > best.agree {
                best = f;
                step *= 2;
            } else if step > 1 {
                step = 1;
            } else {
                break;
            }
        }
    }
    best
}

/// The best candidate of each kind, replayed, best first.
pub fn search(series: &Series) -> Vec<Fitted> {
    let grid = window_grid(series.span());
    let windowed: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_windowed()).collect();
    let cells: Vec<(Kind, usize)> = windowed.iter().flat_map(|&k| (0..grid.len()).map(move |i| (k, i))).collect();
    let scored: Vec<Scored> = cells.par_iter().map(|&(k, i)| score_window(k, grid[i], 0, series)).collect();
    let rates = rate_grid(series);
    let buckets: Vec<Scored> = rates.par_iter().map(|&r| score_bucket(r, series)).collect();

    let leader = scored.iter().chain(&buckets).map(|s| s.agree).max().unwrap_or(0);
    let mut out: Vec<Fitted> = windowed
        .par_iter()
        .map(|&kind| {
            let of_kind: Vec<(usize, Scored)> =
                cells.iter().zip(&scored).filter(|(c, _)| c.0 == kind).map(|(c, s)| (c.1, *s)).collect();
            let (i, start) = of_kind.iter().copied().fold(None, |b: Option<(usize, Scored)>, (i, s)| match b {
                Some(b) if !better(&s, &b.1) => Some(b),
                _ => Some((i, s)),
            })?;
            let low = grid[i.saturating_sub(1)];
            let high = grid[(i + 1).min(grid.len() - 1)];
            // Zoomed in on only when it is in the running (within 5 % of the rows of the best kind) and
            // not already perfect: the others are listed at their grid's best.
            let perfect = start.agree == series.len() as u64;
            let in_running = start.agree + series.len() as u64 / 20 >= leader;
            let mut best = if in_running && !perfect { refine_window(start, low, high, series) } else { start };
            if kind.on_clock() {
                let shift = clock_shift(&best.model, series);
                // A clock's skew, not a window's phase: at most a tenth of the window, and a second.
                let most = (best.model.window / 10).min(SEC) as i64;
                if shift != 0 && shift.abs() <= most {
                    let shifted = score_window(kind, best.model.window, shift, series);
                    if shifted.agree > best.agree {
                        best = shifted;
                    }
                }
            }
            Some(confirm(best.model, series))
        })
        .collect::<Vec<Option<Fitted>>>()
        .into_iter()
        .flatten()
        .collect();

    // Buckets: the three best rates, their neighbours, replayed.
    let mut ranked = buckets.clone();
    ranked.sort_by(|a, b| b.agree.cmp(&a.agree).then(a.model.rate.cmp(&b.model.rate)));
    let tops: Vec<Scored> = ranked.iter().take(3).copied().collect();
    let bucket_fits: Vec<Fitted> = tops.par_iter().map(|&s| confirm(walk_rate(s, series).model, series)).collect();
    if let Some(b) = bucket_fits.into_iter().reduce(|a, b| if b.agree > a.agree { b } else { a }) {
        out.push(b);
    }

    // A second window beside the best windowed rule, where it reproduces clearly more.
    let best_windowed = out.iter().filter(|f| f.model.kind.is_windowed()).max_by_key(|f| f.agree).copied();
    if let Some(first) = best_windowed
        && let Some(two) = second_window(&first, series)
    {
        out.push(two);
    }
    out.sort_by(|a, b| b.agree.cmp(&a.agree).then(rank(&a.model).cmp(&rank(&b.model))));
    out
}

/// The order among equals: the simpler rule first (one window before two), then by kind.
fn rank(m: &Model) -> (bool, Kind) {
    (m.second.is_some(), m.kind)
}

/// The best second window for `first`'s rule: each usual length, its limit counted among the rows the
/// first window admits, replayed; kept only when it reproduces at least a tenth of the rows `first` gets
/// wrong, and at least 3.
fn second_window(first: &Fitted, series: &Series) -> Option<Fitted> {
    let wrong = series.len() as u64 - first.agree;
    if wrong < 3 {
        return None;
    }
    let mut admitted = vec![false; series.len()];
    replay(&first.model, series, |i, a| admitted[i] = a);
    let span = series.span();
    let model = first.model;
    let candidates: Vec<Fitted> = USUAL_WINDOWS
        .par_iter()
        .filter(|&&w| w != model.window && w <= span.max(SEC))
        .map(|&w| {
            let phase = phase_of(series, w, model.shift);
            let (limit, _) = window_histogram(model.kind, w, phase, series, Some(&admitted)).best_limit();
            confirm(Model { second: Some((w, limit)), ..model }, series)
        })
        .map(|f| {
            // `confirm` walks the first limit; walk the second too.
            let (w, limit) = f.model.second.expect("made with a second window");
            let walked = confirm(Model { limit, second: Some((w, f.model.limit)), window: w, ..f.model }, series);
            let back = Model {
                window: f.model.window,
                limit: f.model.limit,
                second: Some((w, walked.model.limit)),
                ..f.model
            };
            let f2 = Fitted { model: back, agree: agreement(&back, series) };
            if f2.agree > f.agree { f2 } else { f }
        })
        .collect();
    let best = candidates.into_iter().max_by(|a, b| a.agree.cmp(&b.agree).then(b.model.second.cmp(&a.model.second)))?;
    let gained = best.agree.saturating_sub(first.agree);
    (gained >= 3 && gained * 10 >= wrong).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(times: &[Nanos], throttled: &[bool]) -> Series {
        Series {
            times: times.to_vec(),
            throttled: throttled.to_vec(),
            lines: (1..=times.len() as u64).collect(),
            origin: 0,
            clock0: 0,
        }
    }

    #[test]
    fn the_histogram_finds_a_fixed_window_limit_by_counting() {
        // Four attempts a second, 0, 100, 200, 300 ms into each second; the window admits two.
        let mut times = Vec::new();
        let mut throttled = Vec::new();
        for s in 0..5 {
            for k in 0..4 {
                times.push(s * SEC + k * 100 * MS);
                throttled.push(k >= 2);
            }
        }
        let s = series(&times, &throttled);
        let scored = score_window(Kind::FixedClock, SEC, 0, &s);
        assert_eq!((scored.model.limit, scored.agree), (2, 20));
        assert_eq!(agreement(&scored.model, &s), 20);
    }

    #[test]
    fn the_clock_shift_is_found_from_where_admissions_resume() {
        // Windows of 1 s that turn 3 ms after each log second: attempts every 2 ms, 100 admitted a window.
        let shift_ms = 3;
        let (mut times, mut throttled) = (Vec::new(), Vec::new());
        let mut count = 0;
        let mut window = u64::MAX;
        for k in 0..5000u64 {
            let t = 10 * SEC + k * 2 * MS;
            let w = (t - shift_ms * MS) / SEC;
            if w != window {
                (window, count) = (w, 0);
            }
            throttled.push(count >= 100);
            count += 1;
            times.push(t);
        }
        let s = series(&times, &throttled);
        let model = Model::windowed(Kind::FixedClock, SEC, 100, 0);
        let shift = clock_shift(&model, &s);
        let shifted = Model { shift, ..model };
        assert_eq!(agreement(&shifted, &s), 5000, "shift {shift}");
        assert!((-4 * MS as i64..=-2 * MS as i64).contains(&shift), "shift {shift}");
    }
}
