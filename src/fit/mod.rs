//! `quotasim fit`: which limiter a log of the platform's answers shows. [`read`] reads the log into
//! (account, API) groups; [`search`] finds, per group, the best of every kind quotasim models by
//! replaying candidates through its own limiters ([`model`]); this module judges the result (ties, poor
//! agreement, no throttles at all) and [`output`] writes it.

pub mod model;
pub mod output;
pub mod read;
pub mod search;

use model::{Kind, Model, Series, replay};
use serde::Serialize;

use crate::time::{NANOS_PER_SEC, Nanos};

/// Below this agreement no modelled limiter is said to explain the log.
pub const POOR: f64 = 0.9;

/// How many disagreeing rows are listed.
const LISTED: usize = 10;

/// A fitted limiter as `fit.json` gives it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Limiter {
    /// The scenario's name for it.
    pub limiter: &'static str,
    /// Calls a second it allows: the window's limit over its length, or the bucket's rate.
    pub qps: f64,
    /// The window, as a scenario writes it (windowed rules).
    pub window: Option<String>,
    pub window_ns: Option<u64>,
    /// Admissions per window (windowed rules).
    pub limit: Option<u64>,
    /// The bucket's capacity (token bucket), or nginx's `burst` (leaky bucket).
    pub burst: Option<u64>,
    pub align: Option<&'static str>,
    pub count_rejected: Option<bool>,
    /// nginx's `nodelay` (leaky bucket).
    pub nodelay: Option<bool>,
    /// A further window and its limit, counted by the same rule.
    pub windows: Vec<WindowText>,
    /// How far the platform's clock runs ahead of the log's, in ms (clock-aligned rules).
    pub clock_offset_ms: Option<f64>,
    /// The share of attempts whose answer it reproduces.
    pub agreement: f64,
    pub agreeing: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WindowText {
    pub window: String,
    pub limit: u64,
}

/// A length as a scenario writes it, exactly: in the largest unit it is a whole number of.
pub fn duration_text(ns: Nanos) -> String {
    const UNITS: [(Nanos, &str); 7] = [
        (86_400 * NANOS_PER_SEC, "d"),
        (3_600 * NANOS_PER_SEC, "h"),
        (60 * NANOS_PER_SEC, "m"),
        (NANOS_PER_SEC, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    let (unit, name) = UNITS.iter().find(|(u, _)| ns.is_multiple_of(*u)).copied().unwrap_or((1, "ns"));
    format!("{}{name}", ns / unit)
}

/// A length for reading: exact when it is round, else to four significant figures.
fn length_words(ns: Nanos) -> String {
    let exact = duration_text(ns);
    if exact.len() <= 6 {
        return exact;
    }
    let s = ns as f64 / 1e9;
    let digits = (3 - s.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{s:.digits$} s")
}

impl Limiter {
    fn of(model: &Model, agree: u64, attempts: u64) -> Limiter {
        let windowed = model.kind.is_windowed();
        Limiter {
            limiter: model.kind.limiter(),
            qps: model.qps(),
            window: windowed.then(|| duration_text(model.window)),
            window_ns: windowed.then_some(model.window),
            limit: windowed.then_some(model.limit),
            burst: (!windowed).then_some(model.limit),
            align: model.kind.align(),
            count_rejected: model.kind.count_rejected(),
            nodelay: None,
            windows: model.second.iter().map(|&(w, limit)| WindowText { window: duration_text(w), limit }).collect(),
            clock_offset_ms: model.kind.on_clock().then_some(model.shift as f64 / 1e6),
            agreement: agree as f64 / attempts.max(1) as f64,
            agreeing: agree,
        }
    }

    /// The same decisions as nginx states them: a token bucket of capacity b is a leaky bucket of burst
    /// b − 1 with `nodelay`.
    fn leaky(bucket: &Limiter) -> Limiter {
        Limiter {
            limiter: "leaky-bucket",
            burst: bucket.burst.map(|b| b.saturating_sub(1)),
            nodelay: Some(true),
            ..bucket.clone()
        }
    }

    /// One line: the rule and its parameters.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.limiter.to_string()];
        if let (Some(ns), Some(l)) = (self.window_ns, self.limit) {
            parts.push(format!("{l} per {}", length_words(ns)));
        }
        for w in &self.windows {
            let ns = crate::time::parse_duration(&w.window).unwrap_or(0);
            parts.push(format!("and {} per {}", w.limit, length_words(ns)));
        }
        if let Some(a) = self.align {
            parts.push(format!("align {a}"));
        }
        if self.limiter == "token-bucket" || self.limiter == "leaky-bucket" {
            parts.push(format!("{} QPS", crate::report::chart::trim_number(self.qps)));
        }
        if let Some(b) = self.burst {
            parts.push(format!("burst {b}"));
        }
        if self.nodelay == Some(true) {
            parts.push("nodelay".into());
        }
        if let Some(c) = self.count_rejected {
            parts.push(format!("count_rejected {c}"));
        }
        if let Some(ms) = self.clock_offset_ms.filter(|ms| *ms != 0.0) {
            parts.push(format!("windows turn {} ms off the log's clock", crate::report::chart::trim_number(-ms)));
        }
        parts.join(", ")
    }
}

/// A row the best fit answers otherwise than the log.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Disagreement {
    pub line: u64,
    /// Its time, RFC 3339 in the log's zone.
    pub time: String,
    /// `admitted` or `throttled`, as the log says.
    pub logged: &'static str,
}

/// Observed and fitted admissions per bin, for the chart.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Bins {
    pub bin_s: f64,
    /// Unix seconds of the first bin's start.
    pub first_s: f64,
    pub attempts: Vec<u64>,
    pub observed: Vec<u64>,
    pub fitted: Vec<u64>,
}

/// One (account, API)'s fit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupFit {
    pub account: String,
    pub api: String,
    pub attempts: u64,
    pub throttled: u64,
    /// The fit, or None when the log cannot give one (no throttles, no limiter explains it).
    pub best: Option<Limiter>,
    /// Every kind's best, best first (the leaky bucket beside its equal token bucket).
    pub candidates: Vec<Limiter>,
    /// Candidates of another rule that reproduce exactly as many rows as the best.
    pub ties: Vec<String>,
    /// What would tell the ties apart.
    pub separate_by: Vec<String>,
    /// No throttles: a limiter admitted at least this many calls in its busiest second.
    pub at_least_qps: Option<u64>,
    /// What the fit says, in words.
    pub statement: String,
    /// Rows the best answers otherwise: admitted by it but throttled in the log, and the reverse.
    pub fit_admits_logged_throttles: u64,
    pub fit_throttles_logged_admits: u64,
    pub disagreements: Vec<Disagreement>,
    pub bins: Option<Bins>,
}

/// Everything `fit` found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FitDoc {
    pub log: String,
    pub rows: u64,
    pub skipped_rows: u64,
    pub other_statuses: Vec<(String, u64)>,
    pub out_of_order_rows: u64,
    pub out_of_order_worst_ms: f64,
    /// The first group's fit (the only one for a log of one account and API).
    pub best: Option<Limiter>,
    pub candidates: Vec<Limiter>,
    pub groups: Vec<GroupFit>,
}

/// The series of one group: times from the local midnight of its first row, so that a day's clock
/// windows turn at the zone's midnight.
pub fn series(group: &read::Group, zone_s: i64) -> Series {
    let day = 86_400 * NANOS_PER_SEC as i128;
    let zone = zone_s as i128 * NANOS_PER_SEC as i128;
    let first = group.rows.first().map_or(0, |r| r.at);
    let origin = (first + zone).div_euclid(day) * day - zone;
    Series {
        times: group.rows.iter().map(|r| (r.at - origin) as Nanos).collect(),
        throttled: group.rows.iter().map(|r| r.throttled).collect(),
        lines: group.rows.iter().map(|r| r.line).collect(),
        origin,
        clock0: origin + zone,
    }
}

/// What traffic would tell `a`'s rule from `b`'s.
fn separation(a: Kind, b: Kind) -> &'static str {
    ordered_separation(a, b)
        .or_else(|| ordered_separation(b, a))
        .unwrap_or("bursts at several rates and pauses of several lengths, each longer than a window")
}

fn ordered_separation(a: Kind, b: Kind) -> Option<&'static str> {
    use Kind::*;
    Some(match (a, b) {
        (FixedClock, FirstCall) => {
            "a burst that starts mid-second: a clock window turns on the clock, a first-call window a window after the burst's first call"
        }
        (FixedClock | FirstCall, SlidingLog | SlidingLogRejected | SlidingCounter | SlidingCounterRejected) => {
            "bursts just before and just after a window's turn: a fixed window admits its limit on each side, a sliding one no more than its limit in any window"
        }
        (TokenBucket, _) => {
            "a long pause and then a burst longer than the limit: a bucket refills to its burst and then admits at its rate, a window admits its whole limit again"
        }
        (SlidingLog, SlidingLogRejected) | (SlidingCounter, SlidingCounterRejected) => {
            "callers that keep retrying against a full window: counting rejected attempts keeps the window shut"
        }
        (SlidingLog | SlidingLogRejected, SlidingCounter | SlidingCounterRejected) => {
            "a burst early in a window after a busy one: a sliding counter weighs the previous window's count, a sliding log counts each call"
        }
        _ => return None,
    })
}

/// Fits one group.
pub fn fit_group(group: &read::Group, zone_s: i64) -> GroupFit {
    let series = series(group, zone_s);
    let attempts = series.len() as u64;
    let throttled = series.throttles();
    let mut fit = GroupFit {
        account: group.account.clone(),
        api: group.api.clone(),
        attempts,
        throttled,
        best: None,
        candidates: Vec::new(),
        ties: Vec::new(),
        separate_by: Vec::new(),
        at_least_qps: None,
        statement: String::new(),
        fit_admits_logged_throttles: 0,
        fit_throttles_logged_admits: 0,
        disagreements: Vec::new(),
        bins: None,
    };
    if throttled == 0 {
        let most = search::busiest(&series, NANOS_PER_SEC, true);
        fit.at_least_qps = Some(most);
        fit.statement = format!(
            "the limit was never reached: none of {} attempts was throttled. At least {most} QPS: the busiest second \
             admitted {most} calls (a lower bound, not a fit)",
            crate::text::thousands(attempts)
        );
        fit.bins = Some(bins(&series, None));
        return fit;
    }
    if throttled == attempts {
        fit.statement = format!(
            "every one of {} attempts was throttled: no limiter that admits anything explains it (is the status \
             column the right one?)",
            crate::text::thousands(attempts)
        );
        return fit;
    }
    let fits = search::search(&series);
    let mut candidates: Vec<(Limiter, Kind)> = Vec::new();
    for f in &fits {
        let limiter = Limiter::of(&f.model, f.agree, attempts);
        if f.model.kind == Kind::TokenBucket {
            let leaky = Limiter::leaky(&limiter);
            candidates.push((limiter, f.model.kind));
            candidates.push((leaky, f.model.kind));
        } else {
            candidates.push((limiter, f.model.kind));
        }
    }
    let top = fits[0];
    let best = candidates[0].0.clone();
    let mut tied = vec![top.model.kind];
    for (c, kind) in candidates.iter().skip(1) {
        if c.agreeing == best.agreeing && c.limiter != "leaky-bucket" {
            fit.ties.push(c.describe());
            tied.push(*kind);
        }
    }
    // What tells each pair of the tied rules apart.
    for (i, &a) in tied.iter().enumerate() {
        for &b in &tied[i + 1..] {
            let why = separation(a, b).to_string();
            if a != b && !fit.separate_by.contains(&why) {
                fit.separate_by.push(why);
            }
        }
    }
    let mut decided = vec![false; series.len()];
    replay(&top.model, &series, |i, admitted| decided[i] = admitted);
    let day = |i: usize| series.origin + series.times[i] as i128;
    for (i, &admitted) in decided.iter().enumerate() {
        if admitted == series.throttled[i] {
            if admitted {
                fit.fit_admits_logged_throttles += 1;
            } else {
                fit.fit_throttles_logged_admits += 1;
            }
            if fit.disagreements.len() < LISTED {
                fit.disagreements.push(Disagreement {
                    line: series.lines[i],
                    time: instant_text(day(i), zone_s),
                    logged: if series.throttled[i] { "throttled" } else { "admitted" },
                });
            }
        }
    }
    fit.bins = Some(bins(&series, Some(&decided)));
    let share = |a: f64| format!("{:.2} %", a * 100.0);
    fit.statement = if best.agreement < POOR {
        format!(
            "no modelled limiter explains the log: the closest, {}, reproduces only {} of the answers",
            best.describe(),
            share(best.agreement)
        )
    } else {
        let mut s = format!(
            "{}: reproduces {} of {} answers",
            best.describe(),
            share(best.agreement),
            crate::text::thousands(attempts)
        );
        if best.limiter == "token-bucket" {
            s += &format!(
                " (the same decisions as nginx's leaky bucket of burst {} with nodelay)",
                best.burst.unwrap_or(1).saturating_sub(1)
            );
        }
        if !fit.ties.is_empty() {
            s += &format!(
                ". As well: {}. The log cannot tell them apart; traffic that would: {}",
                fit.ties.join("; "),
                fit.separate_by.join("; ")
            );
        }
        s
    };
    fit.best = (best.agreement >= POOR).then_some(best);
    fit.candidates = candidates.into_iter().map(|c| c.0).collect();
    fit
}

fn instant_text(unix_ns: i128, zone_s: i64) -> String {
    let offset = jiff::tz::Offset::from_seconds(zone_s as i32).unwrap_or(jiff::tz::Offset::UTC);
    match jiff::Timestamp::from_nanosecond(unix_ns) {
        Ok(t) => t.display_with_offset(offset).to_string(),
        Err(_) => unix_ns.to_string(),
    }
}

/// Attempts, logged admissions and fitted admissions per bin: about 200 bins of a round length, 1 s or
/// more.
fn bins(series: &Series, decided: Option<&[bool]>) -> Bins {
    let span = series.span().max(1);
    let bin = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400]
        .iter()
        .map(|s| s * NANOS_PER_SEC)
        .find(|b| span / b <= 240)
        .unwrap_or(86_400 * NANOS_PER_SEC);
    let first = series.times.first().copied().unwrap_or(0) / bin * bin;
    let n = ((series.times.last().copied().unwrap_or(0) - first) / bin + 1) as usize;
    let mut out = Bins {
        bin_s: bin as f64 / 1e9,
        first_s: (series.origin + first as i128) as f64 / 1e9,
        attempts: vec![0; n],
        observed: vec![0; n],
        fitted: vec![0; n],
    };
    for (i, &t) in series.times.iter().enumerate() {
        let k = ((t - first) / bin) as usize;
        out.attempts[k] += 1;
        out.observed[k] += !series.throttled[i] as u64;
        out.fitted[k] += decided.map_or(!series.throttled[i], |d| d[i]) as u64;
    }
    out
}

/// Fits every group of the log, in parallel.
pub fn fit(log: &read::Log, path: &str, zone_s: i64) -> FitDoc {
    use rayon::prelude::*;
    let groups: Vec<GroupFit> = log.groups.par_iter().map(|g| fit_group(g, zone_s)).collect();
    FitDoc {
        log: path.to_string(),
        rows: log.rows,
        skipped_rows: log.skipped_rows,
        other_statuses: log.other_statuses.clone(),
        out_of_order_rows: log.out_of_order,
        out_of_order_worst_ms: log.worst_lag_ns as f64 / 1e6,
        best: groups.first().and_then(|g| g.best.clone()),
        candidates: groups.first().map(|g| g.candidates.clone()).unwrap_or_default(),
        groups,
    }
}
