//! Each output file, streamed to a writer row by row: `summary.json`, `summary.csv`, `timeseries.csv`,
//! `billing.csv`. Cells holding names from input are neutralised against spreadsheet formulas
//! ([`csv_cell`]).

use super::summary::Report;
use crate::text::csv_cell;
use crate::time::secs_f64;
use std::io::Write;

pub type Writer<'a> = &'a mut dyn Write;

pub fn summary_json(report: &Report, w: Writer<'_>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &report.summary).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}

fn csv_rows(w: Writer<'_>, write: impl FnOnce(&mut csv::Writer<Writer<'_>>) -> csv::Result<()>) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    write(&mut csv).map_err(std::io::Error::other)?;
    csv.flush()
}

/// One row per (account, sub-account, API).
pub fn summary_csv(report: &Report, out: Writer<'_>) -> std::io::Result<()> {
    csv_rows(out, |w| {
        let columns = crate::metric::flat(&report.summary.totals).map(|(name, _)| name);
        // Unit columns only when a unit limit is in use, so other runs' files keep their shape.
        let units = report.summary.totals.units_admitted.is_some();
        let unit_columns =
            units.then_some(crate::metric::Metric::UNITS.map(crate::metric::Metric::name)).into_iter().flatten();
        w.write_record(["account", "sub_account", "api"].into_iter().chain(columns).chain(unit_columns))?;
        // One text buffer for every number: a million rows of 25 values each allocated nothing but this.
        let mut text = String::new();
        let mut field = |w: &mut csv::Writer<Writer<'_>>, value: &dyn std::fmt::Display| {
            use std::fmt::Write as _;
            text.clear();
            let _ = write!(text, "{value}");
            w.write_field(&text)
        };
        for e in report.summary.by_sub_account.iter() {
            for name in [e.account, e.sub_account, e.api] {
                w.write_field(&*csv_cell(name))?;
            }
            let m = e.metrics();
            // Counts are whole f64s, which print without a decimal point.
            for (_, v) in crate::metric::flat(&m) {
                field(w, &v)?;
            }
            if units {
                for u in [m.units_admitted, m.units_throttled, m.throttled_by_units] {
                    match u {
                        Some(u) => field(w, &u)?,
                        None => w.write_field("")?,
                    }
                }
            }
            w.write_record(None::<&[u8]>)?;
        }
        Ok(())
    })
}

/// One row per time bin and (account, API), time first; `second` is the bin's start.
pub fn timeseries_csv(report: &Report, out: Writer<'_>) -> std::io::Result<()> {
    csv_rows(out, |w| {
        let header = ["second", "account", "api", "attempts", "admitted", "throttled", "limit_qps", "plan"];
        let units = report.series.iter().any(|s| s.units.is_some());
        let unit_columns =
            units.then_some(crate::metric::Metric::UNITS.map(crate::metric::Metric::name)).into_iter().flatten();
        w.write_record(header.into_iter().chain(unit_columns))?;
        let bins = report.series.first().map_or(0, |s| s.bins.len());
        for i in 0..bins {
            let start = i as u64 * report.bin;
            for s in &report.series {
                let b = s.bins[i];
                let limit = crate::quota::limit_at(&s.limits, start);
                let unit_values = units
                    .then(|| match &s.units {
                        Some(u) => u[i].map(|n| n.to_string()),
                        None => [String::new(), String::new(), String::new()],
                    })
                    .into_iter()
                    .flatten();
                let row = [
                    secs_f64(start).to_string(),
                    csv_cell(&s.account).into_owned(),
                    csv_cell(&s.api).into_owned(),
                    (b.admitted + b.throttled).to_string(),
                    b.admitted.to_string(),
                    b.throttled.to_string(),
                    limit.limit_qps.to_string(),
                    limit.plan.kind().name().to_string(),
                ];
                w.write_record(row.into_iter().chain(unit_values))?;
            }
        }
        Ok(())
    })
}

/// One row per billed item: pay-as-you-go calls per API and month, each package, each prepaid QPS plan.
pub fn billing_csv(report: &Report, out: Writer<'_>) -> std::io::Result<()> {
    let text = |v: Option<f64>| v.map_or(String::new(), |c| c.to_string());
    csv_rows(out, |w| {
        w.write_record(["account", "item", "name", "api", "period", "calls", "left", "cost"])?;
        for bill in &report.summary.billing {
            let account = &*csv_cell(&bill.account);
            for l in &bill.pay_as_you_go_by_month {
                let calls = l.calls.to_string();
                w.write_record([account, "pay-as-you-go", "", &csv_cell(&l.api), &l.month, &calls, "", &text(l.cost)])?;
            }
            for p in &bill.packages {
                let period = format!("{}/{}", p.active_from, p.until.as_deref().unwrap_or(""));
                let (used, left) = (p.used.to_string(), p.left.to_string());
                w.write_record([
                    account,
                    "resource-package",
                    &csv_cell(&p.name),
                    &csv_cell(&p.covers),
                    &period,
                    &used,
                    &left,
                    &text(p.price),
                ])?;
            }
            for p in &bill.prepaid_qps {
                let period = format!("{}/{}", p.from, p.until);
                let calls = p.calls.to_string();
                w.write_record([
                    account,
                    "prepaid-qps",
                    &csv_cell(&p.name),
                    &csv_cell(&p.api),
                    &period,
                    &calls,
                    "",
                    &text(p.price),
                ])?;
            }
        }
        Ok(())
    })
}
