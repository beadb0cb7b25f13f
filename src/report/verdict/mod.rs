//! The verdict: what a run means for its caller, computed from the run's own statistics and the model —
//! for each (account, API) that throttled, the demand against the limit, when throttling bites, who causes
//! it, what it costs the callers and what would close the gap; for a run that never throttles, its
//! headroom. It opens the terminal output, `summary.json` (`verdict`) and `report.html`.

use super::summary::{Report, Series};
use crate::scenario::Scenario;
use crate::text::thousands as count;
use crate::time::{Nanos, secs_f64};
use crate::workload::ClientModel;
pub mod data;

pub use data::*;

/// A bin, or a stretch of bins, throttles when more than this share of its attempts are throttled.
pub const BITES: f64 = 0.01;

/// Whether throttling bites in a bin: more than [`BITES`] of its attempts throttled.
pub fn bites(b: &crate::stats::Bin) -> bool {
    let attempts = b.admitted + b.throttled;
    attempts > 0 && b.throttled as f64 > BITES * attempts as f64
}
/// Pairs told in full; the rest are counted.
const MAX_PAIRS: usize = 10;
const MAX_EPISODES: usize = 5;
const MAX_WHO: usize = 5;
/// A caller is named in "Who" when it has at least this share of a quota's throttles: pacing or removing
/// it alone would then take away a tenth of them or more. Below, no one caller moves the throttle rate
/// much, and naming the busiest of many (five of 10^5 callers at 0.00 % each) would blame by accident.
pub const STANDS_OUT: f64 = 0.10;

/// A rate in words: whole above 10, one decimal below.
pub fn qps_text(x: f64) -> String {
    if x >= 10.0 { format!("{x:.0}") } else { format!("{:.1}", x).trim_end_matches(".0").to_string() }
}

fn percent(x: f64) -> String {
    if x >= 0.1 || x == 0.0 { format!("{:.1} %", 100.0 * x) } else { format!("{:.2} %", 100.0 * x) }
}

fn seconds(x: f64) -> String {
    if x >= 10.0 { format!("{x:.1} s") } else { format!("{x:.2} s") }
}

impl Verdict {
    /// The verdict of a run whose remedies aim under `remedy_rate` of attempts throttled (0.01).
    pub fn new(sc: &Scenario, report: &Report, remedy_rate: f64) -> Verdict {
        let s = &report.summary;
        let mut order: Vec<usize> = (0..s.by_api.len()).filter(|&i| s.by_api[i].metrics.throttled > 0).collect();
        order.sort_by(|&a, &b| s.by_api[b].metrics.throttled.cmp(&s.by_api[a].metrics.throttled).then(a.cmp(&b)));
        let more_pairs = order.len().saturating_sub(MAX_PAIRS);
        let pairs: Vec<PairVerdict> =
            order.iter().take(MAX_PAIRS).map(|&i| pair_verdict(sc, report, i, remedy_rate)).collect();
        let headroom = pairs.is_empty().then(|| headroom(sc, report)).flatten();
        let headline = match (pairs.first(), &headroom) {
            (Some(p), _) => p.words[0].clone(),
            (None, Some(h)) => format!(
                "No throttling: the busiest, {} / {}, peaked at {} of {} QPS ({} of its limit).",
                h.account,
                h.api,
                qps_text(h.peak_qps),
                h.limit_qps,
                percent(h.peak_qps / h.limit_qps.max(1) as f64)
            ),
            (None, None) => "No throttling: no call was made.".to_string(),
        };
        Verdict { throttled: !pairs.is_empty(), headline, pairs, more_pairs, headroom }
    }

    /// Writes each pair's sentences, and the headline, anew from its fields (after the remedies were
    /// confirmed by simulation).
    pub fn reword(&mut self, sc: &Scenario) {
        for p in &mut self.pairs {
            p.words = words(p, sc);
        }
        if let Some(p) = self.pairs.first() {
            self.headline = p.words[0].clone();
        }
    }

    /// The verdict as lines for the terminal (or a page): the headline, then each pair's sentences.
    pub fn lines(&self, scenario_path: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        if !self.throttled {
            out.push(self.headline.clone());
            return out;
        }
        for p in &self.pairs {
            out.extend(p.words.iter().cloned());
            out.push(format!(
                "  Over replications, other targets and purchases: quotasim advise {} --target '{}'",
                scenario_path.unwrap_or("SCENARIO"),
                p.remedy.advise_target
            ));
        }
        if self.more_pairs > 0 {
            out.push(format!(
                "… and {} more throttled (account, API) pairs (summary.json: verdict, by_api).",
                self.more_pairs
            ));
        }
        out
    }
}

/// Every (account, API) pair's index in `by_api` matches its series.
fn pair_verdict(sc: &Scenario, report: &Report, i: usize, remedy_rate: f64) -> PairVerdict {
    let s = &report.summary;
    let entry = &s.by_api[i];
    let series = &report.series[i];
    let account = sc.accounts.iter().position(|a| a.name == entry.account).unwrap_or(0);
    let api = sc.apis.iter().position(|a| a.name == entry.api).unwrap_or(0);
    let m = &entry.metrics;
    let (limit_qps, limits) = limits(sc, series);
    let demand = demand(sc, report, series, account, api, m.requests);
    let gap = demand.mean_qps / limit_qps.max(1) as f64;
    let (episodes, episodes_total, throttling_share) = episodes(sc, report, series);
    // The callers of this quota by index, and the largest few shares of its throttled attempts chosen
    // among them: a million callers cost 4 MB here, and only those shown are named.
    let rows = &s.by_sub_account;
    let subs: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| {
            let e = rows.get(i as usize);
            e.account == entry.account && e.api == entry.api && e.cell.requests > 0
        })
        .collect();
    let share = |n: u64, of: u64| n as f64 / of.max(1) as f64;
    let throttled_share = |i: u32| share(rows.get(i as usize).cell.throttled, m.throttled);
    // Most throttled first, then by name; the index keeps the order total, as a stable sort's would be.
    let order = |a: &u32, b: &u32| {
        (throttled_share(*b).total_cmp(&throttled_share(*a)))
            .then_with(|| rows.get(*a as usize).sub_account.cmp(rows.get(*b as usize).sub_account))
            .then(a.cmp(b))
    };
    let callers = subs.len();
    let (mut who, mut largest_share) = (Vec::new(), None);
    if callers > 1 {
        let shown = crate::report::first_k(subs, MAX_WHO, order);
        largest_share = shown.first().map(|&i| throttled_share(i));
        let material = shown.into_iter().filter(|&i| throttled_share(i) >= STANDS_OUT);
        who = material
            .map(|i| {
                let e = rows.get(i as usize);
                CallerShare {
                    name: e.sub_account.to_string(),
                    throttled_share: throttled_share(i),
                    demand_share: share(e.cell.requests, m.requests),
                }
            })
            .collect();
    }
    let latency = &sc.apis[api].latency;
    let given_latency = sc.clients.iter().any(|c| {
        c.account == account
            && c.apis.apis().contains(&api)
            && matches!(&c.model, ClientModel::Trace(t) if t.latency.is_some())
    });
    let cost = CallerCost {
        latency_p50_s: m.latency_s.p50,
        latency_p99_s: m.latency_s.p99,
        service_p50_s: (!given_latency).then(|| latency.quantile_s(0.5)),
        service_p99_s: (!given_latency).then(|| latency.quantile_s(0.99)),
        attempts_per_request: m.attempts_per_request,
        gave_up: m.gave_up,
        unfinished: m.unfinished,
        bill: s.billing.iter().find(|b| b.account == entry.account).and_then(|b| b.cost),
    };
    let mut remedy = remedy(sc, report, series, (account, api), limit_qps, &demand, remedy_rate);
    remedy.units_bind = m.throttled_by_units.filter(|&u| 2 * u > m.throttled);
    let mut v = PairVerdict {
        account: entry.account.clone(),
        api: entry.api.clone(),
        throttled: m.throttled,
        throttle_rate: m.throttle_rate,
        demand,
        limits,
        limit_qps,
        gap,
        episodes,
        episodes_total,
        throttling_share,
        callers,
        who,
        largest_share,
        cost,
        remedy,
        words: Vec::new(),
    };
    v.words = words(&v, sc);
    v
}

/// The limit in force in each plan period, and the one in force the longest.
fn limits(sc: &Scenario, series: &Series) -> (u32, Vec<LimitPeriod>) {
    let mut periods = Vec::new();
    let mut longest = (0, series.limits.first().map_or(0, |l| l.limit_qps));
    for (i, change) in series.limits.iter().enumerate() {
        let until = series.limits.get(i + 1).map_or(sc.duration, |n| n.at);
        periods.push(LimitPeriod {
            from: sc.clock_text(change.at),
            until: sc.clock_text(until),
            plan: change.plan.kind().name(),
            limit_qps: change.limit_qps,
        });
        if until - change.at > longest.0 {
            longest = (until - change.at, change.limit_qps);
        }
    }
    (longest.1, periods)
}

/// The demand on (account, API), from the model for threads and open arrivals, from the run for a log.
fn demand(sc: &Scenario, report: &Report, series: &Series, account: usize, api: usize, requests: u64) -> Demand {
    let duration = secs_f64(sc.duration).max(1e-9);
    let (mut mean, mut peak, mut parts, mut trace) = (0.0, 0.0, Vec::new(), false);
    for c in sc.clients.iter().filter(|c| c.account == account && c.apis.apis().contains(&api)) {
        let share = c.apis.weighted_mean(|a| if a == api { 1.0 } else { 0.0 });
        let response = c.apis.weighted_mean(|a| secs_f64(sc.apis[a].latency.mean()));
        let of = if share < 1.0 { format!(" ({} of its calls)", percent(share)) } else { String::new() };
        match &c.model {
            ClientModel::Closed { threads, think, .. } | ClientModel::Batch { threads, think, .. } => {
                let cycle = response + secs_f64(think.mean());
                let rate = if cycle > 0.0 { *threads as f64 / cycle * share } else { 0.0 };
                mean += rate;
                peak += rate;
                let think = if think.is_zero() {
                    String::new()
                } else {
                    format!(" + {} think", seconds(secs_f64(think.mean())))
                };
                let batch = if matches!(c.model, ClientModel::Batch { .. }) { " (while the batch runs)" } else { "" };
                let noun = if *threads == 1 { "thread" } else { "threads" };
                parts.push(format!("{threads} {noun} at {}{think}{of}{batch}", seconds(response)));
            }
            ClientModel::Open { shape, .. } => {
                let m = shape.expected_arrivals(sc.duration) / duration * share;
                mean += m;
                peak += shape.max_rate() * share;
                let shaped = if shape.max_rate() * share > m * 1.001 {
                    format!(" (peak {}/s)", qps_text(shape.max_rate() * share))
                } else {
                    String::new()
                };
                parts.push(format!("{}/s arriving{shaped}{of}", qps_text(m)));
            }
            ClientModel::Trace(_) => trace = true,
        }
    }
    if trace {
        // The log's own rate: what it asked for, beyond what the modelled clients account for.
        let logged = (requests as f64 / duration - mean).max(0.0);
        mean += logged;
        let (busiest, over) = busiest_window(report, series, sc.apis[api].limiter.rule.window());
        peak = f64::max(peak + logged, busiest);
        parts.push(format!(
            "the log's {}/s on average, {}/s in its busiest {}",
            qps_text(logged),
            qps_text(busiest),
            crate::time::format_duration(over)
        ));
    }
    // Several clients alike read as one: "3 clients of 1/s arriving".
    let mut merged: Vec<(String, usize)> = Vec::new();
    for p in parts {
        match merged.iter_mut().find(|(q, _)| *q == p) {
            Some(m) => m.1 += 1,
            None => merged.push((p, 1)),
        }
    }
    let basis: Vec<String> =
        merged.into_iter().map(|(p, n)| if n > 1 { format!("{n} clients of {p}") } else { p }).collect();
    Demand { mean_qps: mean, peak_qps: peak.max(mean), basis: basis.join(" and ") }
}

/// The busiest stretch of the limiter's own window length (bins summed in runs of window / bin from the
/// start; the bin itself when it is the longer), as attempts per second, and that length.
fn busiest_window(report: &Report, series: &Series, window: Nanos) -> (f64, Nanos) {
    let bin = report.bin.max(1);
    let per = (window / bin).max(1) as usize;
    let busiest =
        series.bins.chunks(per).map(|c| c.iter().map(|b| b.admitted + b.throttled).sum::<u64>()).max().unwrap_or(0);
    let over = bin * per as Nanos;
    (busiest as f64 / secs_f64(over), over)
}

/// Runs of bins whose throttled share passes [`BITES`], merged; the largest few in time order.
fn episodes(sc: &Scenario, report: &Report, series: &Series) -> (Vec<Episode>, usize, f64) {
    let bin = report.bin.max(1);
    let mut found: Vec<(usize, usize, f64, u64)> = Vec::new();
    for (i, b) in series.bins.iter().enumerate() {
        let start = i as Nanos * bin;
        if start >= sc.duration || !bites(b) {
            continue;
        }
        let attempts = b.admitted + b.throttled;
        let width = secs_f64((start + bin).min(sc.duration) - start).max(1e-9);
        let rate = attempts as f64 / width;
        match found.last_mut() {
            Some(e) if e.1 + 1 == i => {
                e.1 = i;
                e.2 = e.2.max(rate);
                e.3 += b.throttled;
            }
            _ => found.push((i, i, rate, b.throttled)),
        }
    }
    let total = found.len();
    let spent: Nanos = found.iter().map(|e| ((e.1 as Nanos + 1) * bin).min(sc.duration) - e.0 as Nanos * bin).sum();
    let share = spent as f64 / sc.duration.max(1) as f64;
    let mut largest = found;
    largest.sort_by(|a, b| b.3.cmp(&a.3).then(a.0.cmp(&b.0)));
    largest.truncate(MAX_EPISODES);
    largest.sort_by_key(|e| e.0);
    let episodes = largest
        .into_iter()
        .map(|(a, b, peak, throttled)| {
            let (from, until) = (a as Nanos * bin, ((b as Nanos + 1) * bin).min(sc.duration));
            Episode {
                from: sc.clock_text(from),
                until: sc.clock_text(until),
                from_s: secs_f64(from),
                until_s: secs_f64(until),
                peak_qps: peak,
                throttled,
            }
        })
        .collect();
    (episodes, total, share)
}

/// What would close the gap: the least QPS estimated to throttle under `rate`, the threads that fit, a pace.
/// The estimates seed the confirmation by simulation ([`crate::advise::remedy`]), which replaces them.
fn remedy(
    sc: &Scenario,
    report: &Report,
    series: &Series,
    (account, api): (usize, usize),
    limit_qps: u32,
    demand: &Demand,
    rate: f64,
) -> Remedy {
    let a = &sc.apis[api];
    let callers: Vec<_> = sc.clients.iter().filter(|c| c.account == account && c.apis.apis().contains(&api)).collect();
    let window = a.limiter.rule.window().max(1);
    let window_s = secs_f64(window);
    let clock_window = a.limiter.rule.clock_aligned() && a.limiter.more.is_empty() && a.limiter.units.is_none();
    let all_logs = callers.iter().all(|c| matches!(c.model, ClientModel::Trace(_)));
    let (qps, method) = if all_logs && clock_window && report.bin == window {
        // The log's own windows: the least limit under which these windows' attempts would have seen at
        // most 1 % throttled (exact for rows that are dropped when throttled; retries make it an upper bound).
        let counts: Vec<u64> = series.bins.iter().map(|b| b.admitted + b.throttled).collect();
        let total: u64 = counts.iter().sum();
        let excess = |cap: u64| counts.iter().map(|&n| n.saturating_sub(cap)).sum::<u64>();
        let (mut lo, mut hi) = (0u64, counts.iter().copied().max().unwrap_or(0));
        while lo < hi {
            let mid = (lo + hi) / 2;
            if (excess(mid) as f64) < rate * total as f64 { hi = mid } else { lo = mid + 1 }
        }
        let per_s = (lo as f64 / window_s).ceil() as u64;
        (
            per_s.max(1),
            format!(
                "the log's own windows: the least limit under which they would have throttled under {}",
                percent(rate)
            ),
        )
    } else {
        let per_window = demand.peak_qps * window_s;
        let c = crate::queueing::least_capacity_for_share(per_window, rate);
        (
            ((c as f64 / window_s).ceil() as u64).max(1),
            format!(
                "the closed form for Poisson arrivals at {} QPS against the {} window (an estimate: confirm it below)",
                qps_text(demand.peak_qps),
                crate::time::format_duration(window)
            ),
        )
    };
    let closed: Vec<_> =
        callers.iter().filter(|c| matches!(c.model, ClientModel::Closed { .. } | ClientModel::Batch { .. })).collect();
    let threads_that_fit = match closed.as_slice() {
        [c] if callers.len() == 1 && c.apis.apis().len() == 1 => {
            let (ClientModel::Closed { think, .. } | ClientModel::Batch { think, .. }) = &c.model else {
                unreachable!()
            };
            let cycle = secs_f64(a.latency.mean()) + secs_f64(think.mean());
            Some(((limit_qps as f64 * cycle).floor() as u64).max(1))
        }
        _ => None,
    };
    let pace_qps = callers.iter().any(|c| !matches!(c.model, ClientModel::Trace(_))).then_some(limit_qps);
    Remedy {
        qps,
        method,
        confirmed: false,
        target_rate: rate,
        check: None,
        purchasable_max_qps: a.category.prepaid_max_qps(),
        threads_that_fit,
        threads_check: None,
        pace_qps,
        pace_check: None,
        advise_target: format!("{}/{}:throttle_rate<={}%", sc.accounts[account].name, a.name, 100.0 * rate),
        units_bind: None,
    }
}

/// The pair closest to its limit in a run that never throttled.
fn headroom(sc: &Scenario, report: &Report) -> Option<Headroom> {
    let bin = report.bin.max(1);
    report
        .series
        .iter()
        .map(|s| {
            let peak = s
                .bins
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let start = i as Nanos * bin;
                    let width = secs_f64((start + bin).min(sc.duration).saturating_sub(start)).max(1e-9);
                    b.admitted as f64 / width
                })
                .fold(0.0, f64::max);
            let limit = s.limits.iter().map(|l| l.limit_qps).max().unwrap_or(0);
            (s, peak, limit)
        })
        .filter(|(_, peak, _)| *peak > 0.0)
        .max_by(|a, b| (a.1 / a.2.max(1) as f64).total_cmp(&(b.1 / b.2.max(1) as f64)))
        .map(|(s, peak, limit)| Headroom {
            account: s.account.clone(),
            api: s.api.clone(),
            peak_qps: peak,
            limit_qps: limit,
        })
}

/// The pair's verdict in sentences.
fn words(v: &PairVerdict, sc: &Scenario) -> Vec<String> {
    let mut w = Vec::new();
    // Times of day alone when the run stays within one date; dates too when it spans several.
    let one_day = sc.clock_text(0).get(..10) == sc.clock_text(sc.duration.saturating_sub(1)).get(..10);
    let short_clock = |text: &str| -> String {
        if one_day { text.split_once(' ').map_or(text, |(_, t)| t).to_string() } else { text.to_string() }
    };
    let name = format!("{} / {}", v.account, v.api);
    let limits = if v.limits.len() == 1 {
        format!("{} allowed ({})", v.limit_qps, v.limits[0].plan)
    } else {
        let steps: Vec<String> =
            v.limits.iter().map(|l| format!("{} ({}) from {}", l.limit_qps, l.plan, short_clock(&l.from))).collect();
        format!("{} allowed most of the run; limits: {}", v.limit_qps, steps.join(", "))
    };
    let peaks = v.demand.peak_qps > v.demand.mean_qps * 1.05;
    let peak = if peaks { format!(", peaking at {}", qps_text(v.demand.peak_qps)) } else { String::new() };
    let gap = if peaks {
        format!(
            "{}x on average, {}x at the peak",
            gap_text(v.gap),
            gap_text(v.demand.peak_qps / v.limit_qps.max(1) as f64)
        )
    } else {
        format!("{}x", gap_text(v.gap))
    };
    w.push(format!(
        "{name}: {} want {} QPS{peak}; {limits}; the gap is {gap}. {} of attempts throttled ({}).",
        v.demand.basis,
        qps_text(v.demand.mean_qps),
        percent(v.throttle_rate),
        count(v.throttled)
    ));
    if !v.episodes.is_empty() {
        let shown: Vec<String> = v
            .episodes
            .iter()
            .map(|e| {
                format!(
                    "{}–{} (peak {} attempts/s, {} throttled)",
                    short_clock(&e.from),
                    short_clock(&e.until),
                    qps_text(e.peak_qps),
                    count(e.throttled)
                )
            })
            .collect();
        let more = if v.episodes_total > v.episodes.len() {
            format!(" and {} shorter stretches", v.episodes_total - v.episodes.len())
        } else {
            String::new()
        };
        w.push(format!(
            "  When: throttling bites {} of the run: {}{more}.",
            percent(v.throttling_share),
            shown.join("; ")
        ));
    }
    if v.who.is_empty() && v.callers > 1 {
        w.push(format!(
            "  Who: no caller stands out: {} callers share the throttles, none {} of them (a caller is named at {} or more).",
            count(v.callers as u64),
            v.largest_share.map_or("more than a tenth".to_string(), |x| match x < 5e-5 {
                true => "more than 0.01 %".to_string(),
                false => format!("more than {}", percent(x)),
            }),
            share_text(STANDS_OUT)
        ));
    }
    if !v.who.is_empty() {
        let shown: Vec<String> = v
            .who
            .iter()
            .take(3)
            .map(|c| {
                format!(
                    "{}: {} of throttles, {} of demand",
                    crate::text::terminal(&c.name),
                    percent(c.throttled_share),
                    percent(c.demand_share)
                )
            })
            .collect();
        w.push(format!("  Who ({} callers): {}.", v.callers, shown.join("; ")));
    }
    let c = &v.cost;
    let service = match (c.service_p50_s, c.service_p99_s) {
        (Some(p50), Some(p99)) => format!(" instead of {} and {} unthrottled", seconds(p50), seconds(p99)),
        _ => String::new(),
    };
    let bill = c.bill.map_or(String::new(), |b| format!("; the bill is {b:.2}"));
    w.push(format!(
        "  Cost to callers: latency p50 {} and p99 {}{service}; {:.2} attempts a request; {} requests given up{bill}.",
        seconds(c.latency_p50_s),
        seconds(c.latency_p99_s),
        c.attempts_per_request,
        count(c.gave_up)
    ));
    let (qps, others, not) = remedy_words(v);
    w.push(format!("  To close it: {qps}."));
    match (others.is_empty(), not) {
        (false, None) => w.push(format!("  Or: {}.", others.join("; or "))),
        (false, Some(not)) => w.push(format!("  Or: {}. {not}.", others.join("; or "))),
        (true, Some(not)) => w.push(format!("  {not}.")),
        (true, None) => {}
    }
    w
}

/// The remedy in words: the least QPS (confirmed by simulation, or estimated); then the other ways, the
/// threads that fit and a pace.
fn remedy_words(v: &PairVerdict) -> (String, Vec<String>, Option<String>) {
    let r = &v.remedy;
    let under = share_text(r.target_rate);
    let mut ways = Vec::new();
    match &r.check {
        Some(c) => ways.push(confirmed_words(c, &under)),
        None => ways.push(format!(
            "about {} QPS would throttle under {under}, by {} (an estimate, not confirmed: run without --no-confirm)",
            r.qps, r.method
        )),
    }
    if r.check.as_ref().is_none_or(|c| c.answer.is_some()) && r.qps > r.purchasable_max_qps as u64 {
        ways[0]
            .push_str(&format!(", more than the {} QPS the platform sells for this category", r.purchasable_max_qps));
    }
    if let Some(u) = r.units_bind {
        ways[0] = format!(
            "the unit limit binds ({} of the {} throttles were for want of units alone), so a larger unit quota, not \
                more QPS, would close it",
            count(u),
            count(v.throttled)
        );
    }
    let threads = |n: u64| format!("{n} thread{}", if n == 1 { "" } else { "s" });
    let mut not = None;
    match (&r.threads_check, r.threads_that_fit) {
        (Some(t), Some(n)) => ways.push(format!(
            "run {} ({} throttled at today's {} QPS)",
            threads(n),
            t.throttle_rate.map_or("?".to_string(), percent),
            v.limit_qps
        )),
        (Some(t), None) => {
            not = Some(format!(
                "Fewer threads would not do: even one throttles {} at today's {} QPS",
                t.throttle_rate.map_or("?".to_string(), percent),
                v.limit_qps
            ))
        }
        (None, Some(n)) => ways.push(format!("run {} (what {} QPS keeps busy)", threads(n), v.limit_qps)),
        (None, None) => {}
    }
    if let Some(p) = r.pace_qps {
        let scope = if r.pace_check.as_ref().is_some_and(|c| c.shared) { ", scope = \"account\"" } else { "" };
        let mut pace = format!("pace the callers at {p} QPS (`pace = {{ rate = {p}{scope} }}`)");
        if let Some(c) = &r.pace_check {
            pace.push_str(&format!(": {} throttled", percent(c.throttle_rate)));
            if c.throttle_rate < r.target_rate {
                pace.push_str(&format!(", but requests wait in the pacer up to {} (p99)", seconds(c.queued_p99_s)));
                if c.unfinished > 0 {
                    let are = if c.unfinished == 1 { "is" } else { "are" };
                    pace.push_str(&format!(" and {} {are} still waiting at the end", count(c.unfinished)));
                }
            }
        }
        ways.push(pace);
    }
    let qps = ways.remove(0);
    (qps, ways, not)
}

/// A target share in words: `1 %`, `0.5 %`.
fn share_text(x: f64) -> String {
    let text = format!("{:.4}", 100.0 * x);
    format!("{} %", text.trim_end_matches('0').trim_end_matches('.'))
}

/// "22 QPS held for the whole run throttles under 1 % (…): the least that does, confirmed by 31
/// simulations …".
fn confirmed_words(c: &RemedyCheck, under: &str) -> String {
    let Some(answer) = c.answer else {
        return format!(
            "no QPS up to {} throttles under {under} (confirmed by {} simulations of this run's workload)",
            count(c.ceiling.unwrap_or(c.up_to)),
            c.simulations
        );
    };
    let mut evidence = Vec::new();
    if let Some(t) = c.throttle_rate {
        evidence.push(format!("{} in this run", percent(t)));
    }
    if let Some(s) = c.seeds.as_ref().filter(|s| s.seeds > 1) {
        let (lo, hi) = (s.lo.unwrap_or(s.mean), s.hi.unwrap_or(s.mean));
        evidence.push(if hi - lo < 5e-7 {
            format!("the same on {} seeds", s.seeds)
        } else {
            format!("{} [{}, {}] over {} seeds", percent(s.mean), percent(lo), percent(hi), s.seeds)
        });
    }
    match (c.seeds_moved_from, c.below) {
        (Some(m), _) => {
            evidence.push(format!("{m} throttles under {under} in this run, but not on average over the seeds"))
        }
        (None, Some((q, t))) => evidence.push(format!("{q} throttles {}", percent(t))),
        (None, None) => {}
    }
    let how = if c.resolution == 1 {
        format!("every QPS from 1 to {}", c.up_to)
    } else {
        format!("every {} QPS up to {}, then the last step bisected", crate::text::ordinal(c.resolution), c.up_to)
    };
    let monotone = if c.failing.is_empty() && c.all_meet_from.is_some() {
        String::new()
    } else {
        format!(
            "; not monotone: {} throttle {under} or more, {}",
            if c.failing.is_empty() { "higher values".to_string() } else { crate::text::ranges(&c.failing) },
            match c.all_meet_from {
                Some(f) => format!("every value from {f} up to {} under", c.up_to),
                None => "and so does the highest simulated".to_string(),
            }
        )
    };
    let left_out = if c.not_simulated.is_empty() {
        String::new()
    } else {
        let values: Vec<(u64, u64)> = c.not_simulated.iter().map(|&v| (v, v)).collect();
        format!(
            "; not simulated, their runs passing the confirmation's work bound: {}",
            crate::text::ranges(&merge_runs(values))
        )
    };
    let by = match c.recorded_attempts {
        Some(n) => format!(
            "by this run's own {} attempts (no retries: they do not depend on the limit) passed through a limiter \
             of each candidate, {how}",
            count(n)
        ),
        None => format!("by {} simulations of this run's workload, {how}", c.simulations),
    };
    format!(
        "{answer} QPS for the whole run, the least that throttles under {under}{} ({}); confirmed {by}{monotone}\
            {left_out}",
        if c.not_simulated.iter().any(|&v| v < answer) { " of those simulated" } else { "" },
        evidence.join("; "),
    )
}

/// Adjacent ranges joined: (1, 1), (2, 2) → (1, 2).
fn merge_runs(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if last.1 + 1 >= a => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn gap_text(gap: f64) -> String {
    if gap >= 10.0 || (gap - gap.round()).abs() < 0.05 { format!("{:.0}", gap) } else { format!("{gap:.1}") }
}
