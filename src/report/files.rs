//! The bytes of each output file: `summary.json`, `summary.csv` and `timeseries.csv`.

use super::summary::Report;
use crate::stats::Metrics;
use crate::time::secs_f64;

pub fn summary_json(report: &Report) -> Vec<u8> {
    let mut bytes =
        serde_json::to_vec_pretty(&report.summary).expect("the summary serialises: plain data, string keys");
    bytes.push(b'\n');
    bytes
}

const METRIC_COLUMNS: [&str; 15] = [
    "requests",
    "attempts",
    "admitted",
    "throttled",
    "gave_up",
    "unfinished",
    "throttle_rate",
    "offered_qps",
    "admitted_qps",
    "attempts_per_request",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p90_s",
    "latency_p99_s",
    "latency_max_s",
];

fn metric_fields(m: &Metrics) -> [String; 15] {
    let l = m.latency_s;
    [
        m.requests.to_string(),
        m.attempts.to_string(),
        m.admitted.to_string(),
        m.throttled.to_string(),
        m.gave_up.to_string(),
        m.unfinished.to_string(),
        m.throttle_rate.to_string(),
        m.offered_qps.to_string(),
        m.admitted_qps.to_string(),
        m.attempts_per_request.to_string(),
        l.mean.to_string(),
        l.p50.to_string(),
        l.p90.to_string(),
        l.p99.to_string(),
        l.max.to_string(),
    ]
}

fn csv_bytes(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    write(&mut w).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("flushing CSV to memory cannot fail")
}

/// One row per (account, sub-account, API).
pub fn summary_csv(report: &Report) -> Vec<u8> {
    csv_bytes(|w| {
        let header = ["account", "sub_account", "api"].into_iter().chain(METRIC_COLUMNS);
        w.write_record(header)?;
        for e in &report.summary.by_sub_account {
            let names = [e.account.clone(), e.sub_account.clone(), e.api.clone()];
            w.write_record(names.into_iter().chain(metric_fields(&e.metrics)))?;
        }
        Ok(())
    })
}

/// One row per time bin and (account, API), time first; `second` is the bin's start.
pub fn timeseries_csv(report: &Report) -> Vec<u8> {
    csv_bytes(|w| {
        w.write_record(["second", "account", "api", "attempts", "admitted", "throttled", "limit_qps", "plan"])?;
        let bins = report.series.first().map_or(0, |s| s.bins.len());
        for i in 0..bins {
            let start = i as u64 * report.bin;
            for s in &report.series {
                let b = s.bins[i];
                let limit = crate::quota::limit_at(&s.limits, start);
                w.write_record([
                    secs_f64(start).to_string(),
                    s.account.clone(),
                    s.api.clone(),
                    (b.admitted + b.throttled).to_string(),
                    b.admitted.to_string(),
                    b.throttled.to_string(),
                    limit.limit_qps.to_string(),
                    limit.plan.name().to_string(),
                ])?;
            }
        }
        Ok(())
    })
}
