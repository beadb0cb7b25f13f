//! `report.html`: one self-contained page per run, sweep or advice (tables, the charts inline as SVG, the
//! scenario text), readable offline and without scripts.

pub use super::grid::Cell;
use super::summary::Report;
use crate::stats::Metrics;
use std::fmt::Write;

/// Rows of the sub-account table a page shows.
const MAX_SUB_ROWS: usize = 50;

/// An RFC 3339 instant as a reader wants it on the page: `2026-11-26 13:33:19`, on its own offset's clock
/// (the scenario's), to the second.
fn clock(rfc3339: &str) -> String {
    match rfc3339.split_once('T') {
        Some((date, rest)) => format!("{date} {}", rest.get(..8).unwrap_or(rest)),
        None => rfc3339.to_string(),
    }
}

/// Text made safe for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1240px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #e4e4e4}\
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}\
td.bad{color:#b71c1c;font-weight:bold}pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.85em}\
figure{margin:1em 0}svg{max-width:100%;height:auto}p.note,ul.note{color:#555}ul.note{margin-top:0}div.wide{overflow-x:auto}\
section.verdict{background:#fff8e1;border:1px solid #f0c36d;padding:.2em 1.2em 1em;margin:1em 0}\
section.verdict h2{border:0;margin-top:.6em}section.verdict p.head{font-weight:bold;margin:.8em 0 .3em}\
section.verdict p.sub{margin:.2em 0 .2em 1.5em}";

/// A page being built: sections of headings, tables, figures and text.
pub struct Page {
    body: String,
    title: String,
}

impl Page {
    pub fn new(title: &str) -> Page {
        let mut body = String::new();
        let _ = writeln!(body, "<h1>{}</h1>", escape(title));
        Page { body, title: title.to_string() }
    }

    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
    }

    pub fn paragraph(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
    }

    /// The verdict, first on the page: a boxed list of sentences (indented ones under the one before).
    pub fn verdict(&mut self, lines: &[String]) {
        let _ = writeln!(self.body, "<section class=\"verdict\"><h2>Verdict</h2>");
        for line in lines {
            let class = if line.starts_with("  ") { "sub" } else { "head" };
            let _ = writeln!(self.body, "<p class=\"{class}\">{}</p>", escape(line.trim()));
        }
        let _ = writeln!(self.body, "</section>");
    }

    /// A finding and the lines that explain it, as a list under it.
    pub fn details(&mut self, first: &str, rest: &[String]) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", escape(first));
        if !rest.is_empty() {
            let _ = write!(self.body, "<ul class=\"note\">");
            for line in rest {
                let _ = write!(self.body, "<li>{}</li>", escape(line));
            }
            let _ = writeln!(self.body, "</ul>");
        }
    }

    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", escape(text));
    }

    pub fn table(&mut self, headers: &[&str], rows: &[Vec<Cell>]) {
        let _ = write!(self.body, "<div class=\"wide\"><table><thead><tr>");
        for h in headers {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        let _ = writeln!(self.body, "</tr></thead><tbody>");
        for row in rows {
            let _ = write!(self.body, "<tr>");
            for c in row {
                let _ = match c {
                    Cell::Text(t) => write!(self.body, "<td>{}</td>", escape(t)),
                    Cell::Num(t) => write!(self.body, "<td class=\"n\">{}</td>", escape(t)),
                    Cell::Bad(t) => write!(self.body, "<td class=\"n bad\">{}</td>", escape(t)),
                };
            }
            let _ = writeln!(self.body, "</tr>");
        }
        let _ = writeln!(self.body, "</tbody></table></div>");
    }

    /// A chart, inline. The SVG comes from our own renderer; its XML declaration is dropped.
    pub fn figure(&mut self, svg: &str) {
        let svg = match svg.find("<svg") {
            Some(i) => &svg[i..],
            None => svg,
        };
        let _ = writeln!(self.body, "<figure>{svg}</figure>");
    }

    pub fn preformatted(&mut self, text: &str) {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape(text));
    }

    /// A table made as a [`Grid`](super::grid::Grid).
    pub fn grid(&mut self, grid: &super::grid::Grid) {
        let headers: Vec<&str> = grid.headers.iter().map(String::as_str).collect();
        self.table(&headers, &grid.rows);
    }

    /// The charts, if any, under their heading: before the long tables, after the verdict.
    pub fn charts(&mut self, charts: &[String]) {
        if !charts.is_empty() {
            self.heading("Charts");
            for svg in charts {
                self.figure(svg);
            }
        }
    }

    /// The closing section every page has: the scenario it came from.
    pub fn scenario(&mut self, scenario_text: &str) {
        self.heading("Scenario");
        self.preformatted(scenario_text);
    }

    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta \
                charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}

/// Counts as whole numbers, rates as percentages, times with three decimals: as the terminal shows them.
pub fn metric_cells(m: &Metrics) -> Vec<Cell> {
    let rate = format!("{:.1}%", 100.0 * m.throttle_rate);
    vec![
        Cell::Num(m.requests.to_string()),
        Cell::Num(m.attempts.to_string()),
        Cell::Num(m.admitted.to_string()),
        Cell::Num(m.throttled.to_string()),
        if m.throttle_rate > 0.01 { Cell::Bad(rate) } else { Cell::Num(rate) },
        Cell::Num(m.gave_up.to_string()),
        Cell::Num(m.unfinished.to_string()),
        Cell::Num(format!("{:.2}", m.offered_qps)),
        Cell::Num(format!("{:.2}", m.admitted_qps)),
        Cell::Num(format!("{:.3}", m.latency_s.p50)),
        Cell::Num(format!("{:.3}", m.latency_s.p99)),
    ]
}

pub const METRIC_HEADERS: [&str; 11] = [
    "requests",
    "attempts",
    "admitted",
    "throttled",
    "throttle rate",
    "gave up",
    "unfinished",
    "offered/s",
    "admitted/s",
    "p50 s",
    "p99 s",
];

fn with_metrics(names: &[&str]) -> Vec<String> {
    names.iter().chain(METRIC_HEADERS.iter()).map(|s| s.to_string()).collect()
}

fn headers(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

/// The page of one run: summary, per sub-account, phases, the bill, batches, the charts, the scenario.
pub fn run_page(report: &Report, charts: &[String], scenario_text: &str, scenario_path: Option<&str>) -> String {
    let s = &report.summary;
    let mut page = Page::new(&format!("quotasim — {}", s.scenario));
    page.paragraph(&format!(
        "seed {}, {} s from {} (UTC{}); time-series bins of {} s",
        s.seed,
        s.duration_s,
        clock(&s.start),
        s.start.get(s.start.len().saturating_sub(6)..).unwrap_or(""),
        s.bin_s
    ));
    if let Some(v) = &s.verdict {
        page.verdict(&v.lines(scenario_path));
    }
    page.heading("Summary");
    let names = with_metrics(&["account", "API", "limit (QPS)"]);
    let mut rows: Vec<Vec<Cell>> = s
        .by_api
        .iter()
        .zip(&report.series)
        .map(|(e, series)| {
            let mut limits: Vec<u32> = series.limits.iter().map(|l| l.limit_qps).collect();
            limits.dedup();
            let limits = limits.iter().map(u32::to_string).collect::<Vec<_>>().join("→");
            let mut row = vec![Cell::Text(e.account.clone()), Cell::Text(e.api.clone()), Cell::Num(limits)];
            row.extend(metric_cells(&e.metrics));
            row
        })
        .collect();
    let mut total = vec![Cell::Text("total".into()), Cell::Text(String::new()), Cell::Text(String::new())];
    total.extend(metric_cells(&s.totals));
    rows.push(total);
    page.table(&headers(&names), &rows);
    page.charts(charts);

    if s.by_sub_account.len() > 1 {
        page.heading("By sub-account");
        let names = with_metrics(&["account", "sub-account", "API"]);
        // The most throttled first, at most MAX_SUB_ROWS: 100,000 callers must not make a page no browser
        // opens; summary.csv holds them all.
        let mut order: Vec<u32> = (0..s.by_sub_account.len() as u32).collect();
        if order.len() > MAX_SUB_ROWS {
            let throttled = |i: u32| s.by_sub_account.get(i as usize).cell.throttled;
            order = super::first_k(order, MAX_SUB_ROWS, |a, b| throttled(*b).cmp(&throttled(*a)).then(a.cmp(b)));
        }
        let rows: Vec<Vec<Cell>> = order
            .into_iter()
            .map(|i| {
                let e = s.by_sub_account.get(i as usize);
                let mut row =
                    vec![Cell::Text(e.account.into()), Cell::Text(e.sub_account.into()), Cell::Text(e.api.into())];
                row.extend(metric_cells(&e.metrics()));
                row
            })
            .collect();
        page.table(&headers(&names), &rows);
        if s.by_sub_account.len() > MAX_SUB_ROWS {
            page.note(&format!(
                "The {MAX_SUB_ROWS} most throttled of {} rows; summary.csv holds them all{}.",
                s.by_sub_account.len(),
                if s.by_sub_account.moved_out() { "" } else { ", and so does summary.json" }
            ));
        }
    }

    if s.phases.len() > s.by_api.len() {
        page.heading("Plan phases");
        let names = with_metrics(&["account", "API", "plan", "name", "from", "until", "limit (QPS)"]);
        let rows: Vec<Vec<Cell>> = s
            .phases
            .iter()
            .map(|p| {
                let mut row = vec![
                    Cell::Text(p.account.clone()),
                    Cell::Text(p.api.clone()),
                    Cell::Text(p.plan.to_string()),
                    Cell::Text(p.plan_name.clone()),
                    Cell::Text(clock(&p.from)),
                    Cell::Text(clock(&p.until)),
                    Cell::Num(p.limit_qps.to_string()),
                ];
                row.extend(metric_cells(&p.metrics));
                row
            })
            .collect();
        page.table(&headers(&names), &rows);
    }

    if s.by_api.iter().any(|e| e.metrics.units_admitted.is_some()) {
        page.heading("Units");
        let rows: Vec<Vec<Cell>> = s
            .by_api
            .iter()
            .filter_map(|e| {
                let m = &e.metrics;
                let (admitted, throttled, by_units) = (m.units_admitted?, m.units_throttled?, m.throttled_by_units?);
                Some(vec![
                    Cell::Text(e.account.clone()),
                    Cell::Text(e.api.clone()),
                    Cell::Num(admitted.to_string()),
                    Cell::Num(throttled.to_string()),
                    Cell::Num(m.throttled.to_string()),
                    Cell::Num(by_units.to_string()),
                ])
            })
            .collect();
        page.table(
            &[
                "account",
                "API",
                "units admitted",
                "units in throttled attempts",
                "throttled",
                "for want of units alone",
            ],
            &rows,
        );
    }

    page.heading("Bill");
    let rows: Vec<Vec<Cell>> = s
        .billing
        .iter()
        .map(|b| {
            vec![
                Cell::Text(b.account.clone()),
                Cell::Num(b.admitted.to_string()),
                Cell::Num(b.under_prepaid_qps.to_string()),
                Cell::Num(b.from_packages.to_string()),
                Cell::Num(b.pay_as_you_go.to_string()),
                Cell::Num(b.cost.map_or("not priced".into(), |c| format!("{c:.2}"))),
            ]
        })
        .collect();
    page.table(&["account", "admitted", "under prepaid QPS", "from packages", "pay-as-you-go", "cost"], &rows);

    if !s.batches.is_empty() {
        page.heading("Batches");
        let rows: Vec<Vec<Cell>> = s
            .batches
            .iter()
            .map(|b| {
                vec![
                    Cell::Text(b.client.clone()),
                    Cell::Num(b.requests.to_string()),
                    Cell::Num(b.threads.to_string()),
                    Cell::Num(b.makespan_s.map_or("unfinished".into(), |m| format!("{m:.1}"))),
                    Cell::Num(format!("{:.1}", b.floor_s)),
                    Cell::Num(match b.bound_s {
                        Some(Some(t)) => format!("{t:.1}"),
                        Some(None) => "unfinished".into(),
                        None => "—".into(),
                    }),
                    Cell::Num(b.limit_qps.to_string()),
                ]
            })
            .collect();
        page.table(
            &["client", "requests", "threads", "makespan s", "floor s", "in the bound's schedule s", "limit (QPS)"],
            &rows,
        );
    }

    let bounds: Vec<&super::summary::ApiEntry> = s.by_api.iter().filter(|e| e.bound.is_some()).collect();
    if !bounds.is_empty() {
        page.heading("Against the clairvoyant bound");
        page.paragraph(
            "The bound sends the same requests each at the earliest instant the quota admits it, in arrival \
                order, never throttled, every reply at its shortest: no client strategy finishes sooner. A \
                response time runs from a request's arrival (a batch's: the start of the run) to its reply.",
        );
        let secs = |v: Option<f64>| v.map_or("not within the run".into(), |v| format!("{v:.2}"));
        let ratio = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.2}x"));
        let rows: Vec<Vec<Cell>> = bounds
            .iter()
            .filter_map(|e| e.bound.map(|b| (e, b)))
            .map(|(e, b)| {
                vec![
                    Cell::Text(e.account.clone()),
                    Cell::Text(e.api.clone()),
                    Cell::Num(secs(b.run_last_s)),
                    Cell::Num(secs(b.bound.last_s)),
                    Cell::Num(ratio(b.last_ratio)),
                    Cell::Num(format!("{:.2}", b.run_mean_s)),
                    Cell::Num(format!("{:.2}", b.bound.mean_s)),
                    Cell::Num(ratio(b.mean_ratio)),
                    Cell::Num(format!("{:.1} %", e.metrics.throttle_rate * 100.0)),
                ]
            })
            .collect();
        page.table(
            &[
                "account",
                "API",
                "last done s",
                "bound s",
                "x bound",
                "mean response s",
                "bound's s",
                "x bound",
                "throttled",
            ],
            &rows,
        );
        if bounds.iter().any(|e| e.bound.is_some_and(|b| b.mean_ratio.is_none())) {
            page.note(
                "— : the run did not complete every request (some were given up, or still waited at the end), so \
                    its times are not comparable with the bound's, which serves every one.",
            );
        }
    }

    page.scenario(scenario_text);
    page.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
