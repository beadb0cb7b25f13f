//! `quotasim trace stats`: what a recorded log asks of a limiter, read in one pass.
//!
//! Counts go into clock-aligned one-second windows (of the log's own time, UTC), so the QPS figures are
//! those a platform with the default fixed window would see: the least limit L for which the calls over L
//! in each second make up at most 0 %, 1 % or 5 % of all calls.

use super::trace::{TraceError, TraceSource, TraceSpec};
use crate::time::{NANOS_PER_SEC, Nanos};
use serde::Serialize;

#[derive(Debug, Serialize, PartialEq)]
pub struct TraceStats {
    pub requests: u64,
    pub skipped_rows: u64,
    /// From the first request to the last, in seconds.
    pub span_s: f64,
    pub first: String,
    pub last: String,
    /// Requests per clock second, over every second of the span (empty ones included).
    pub per_second_peak: u64,
    pub per_second_mean: f64,
    pub per_second_p50: u64,
    pub per_second_p99: u64,
    /// Distinct values of the caller field, if one is mapped.
    pub distinct_callers: Option<usize>,
    /// The least clock-aligned fixed-window limit that throttles no call, at most 1 %, at most 5 %.
    pub qps_throttling_none: u64,
    pub qps_throttling_1_percent: u64,
    pub qps_throttling_5_percent: u64,
}

/// Calls over `limit` summed over the seconds.
fn excess(counts: &[u64], limit: u64) -> u64 {
    counts.iter().map(|&n| n.saturating_sub(limit)).sum()
}

/// The least limit whose excess is at most `share` of `total` (excess falls as the limit rises).
fn least_limit(counts: &[u64], total: u64, share: f64) -> u64 {
    let allowed = (share * total as f64).floor() as u64;
    let (mut lo, mut hi) = (0, counts.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if excess(counts, mid) <= allowed { hi = mid } else { lo = mid + 1 }
    }
    lo
}

/// Reads the whole trace. Memory grows with the span in seconds and the distinct callers, not the rows.
pub fn trace_stats(spec: &TraceSpec, skip_bad_rows: bool) -> Result<TraceStats, TraceError> {
    let mut spec = spec.clone();
    spec.shift = true;
    spec.speed = 1.0;
    let mut source = TraceSource::open(&spec, 0, skip_bad_rows)?;
    let mut counts: Vec<u64> = Vec::new();
    let mut first_second = None;
    let mut last_at = 0;
    while let Some(row) = source.next_event()? {
        let origin = source.origin().expect("a row was read");
        let second = (origin + row.at as i128).div_euclid(NANOS_PER_SEC as i128);
        let base = *first_second.get_or_insert(second);
        let i = (second - base) as usize;
        if counts.len() <= i {
            counts.resize(i + 1, 0);
        }
        counts[i] += 1;
        last_at = row.at;
    }
    let total: u64 = counts.iter().sum();
    let origin = source.origin();
    let text = |offset: Nanos| match origin {
        Some(o) => jiff::Timestamp::from_nanosecond(o + offset as i128).map_or_else(|_| "-".into(), |t| t.to_string()),
        None => "-".to_string(),
    };
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    let pick = |q: f64| sorted.get(((q * sorted.len() as f64).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0);
    Ok(TraceStats {
        requests: total,
        skipped_rows: source.skipped(),
        span_s: last_at as f64 / 1e9,
        first: text(0),
        last: text(last_at),
        per_second_peak: sorted.last().copied().unwrap_or(0),
        per_second_mean: if counts.is_empty() { 0.0 } else { total as f64 / counts.len() as f64 },
        per_second_p50: pick(0.50),
        per_second_p99: pick(0.99),
        distinct_callers: spec.caller.as_ref().map(|_| source.caller_count()),
        qps_throttling_none: least_limit(&counts, total, 0.0),
        qps_throttling_1_percent: least_limit(&counts, total, 0.01),
        qps_throttling_5_percent: least_limit(&counts, total, 0.05),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_limits_by_hand() {
        // 100 calls: one second of 50, fifty seconds of 1.
        let mut counts = vec![50];
        counts.extend(std::iter::repeat_n(1, 50));
        assert_eq!(least_limit(&counts, 100, 0.0), 50);
        // At most 1 call over: L = 49. At most 5: L = 45.
        assert_eq!(least_limit(&counts, 100, 0.01), 49);
        assert_eq!(least_limit(&counts, 100, 0.05), 45);
    }
}
