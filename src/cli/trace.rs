//! `quotasim trace stats|gen`: a recorded request log summarised, or a scenario's requests written as one.

use super::*;

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Requests, span, per-second peak / mean / p50 / p99, distinct callers, and the QPS that would
    /// throttle nothing, 1 % or 5 % of the calls under a clock-aligned 1 s window.
    Stats(TraceStatsArgs),
    /// Run a scenario and write each request's start (its first attempt) as a CSV trace:
    /// unix_ns,account,sub_account,api.
    Gen(TraceGenArgs),
}

#[derive(Debug, clap::Args)]
pub struct TraceStatsArgs {
    /// The log: CSV or TSV with a header, an access log (Common / Combined Log Format), or JSON Lines.
    pub file: PathBuf,
    /// `csv`, `tsv`, `clf`, `jsonl` [default: from the file's extension].
    #[arg(long)]
    pub format: Option<String>,
    /// The time column or key (not for access logs).
    #[arg(long, default_value = "time")]
    pub time: String,
    /// `unix-s`, `unix-ms`, `unix-us`, `unix-ns`, `rfc3339`, `datetime` (not for access logs).
    #[arg(long)]
    pub time_format: Option<String>,
    /// The offset of `datetime` times, e.g. `+08:00` [default: UTC].
    #[arg(long)]
    pub zone: Option<String>,
    /// The caller column or key (access logs: `host`), to count distinct callers.
    #[arg(long)]
    pub caller: Option<String>,
    /// Count and pass over malformed rows instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TraceGenArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The trace file to write.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run even when the work is estimated above 10^9 attempts or 4 GiB (refused otherwise).
    #[arg(long)]
    pub allow_large: bool,
}

pub(super) fn trace_stats_command(args: &TraceStatsArgs) -> Result<(), Error> {
    let (format, time_format) =
        reading(&args.file, args.format.as_deref(), args.time_format.as_deref(), args.zone.as_deref()).map_err(
            |(field, m)| {
                let flag = match field {
                    "zone" => "--zone",
                    "time_format" => "--time-format",
                    _ => "--format",
                };
                Error::BadInput(format!("{flag}: {m}"))
            },
        )?;
    let spec = TraceSpec {
        path: args.file.clone(),
        format,
        time: args.time.clone(),
        time_format,
        caller: args.caller.clone(),
        api: ApiMapping::Constant(0),
        latency: None,
        cost: Vec::new(),
        shift: true,
        speed: 1.0,
    };
    let stats = trace_stats(&spec, args.skip_bad_rows).map_err(|e| Error::BadInput(e.to_string()))?;
    if args.json {
        return out(&format!("{}\n", serde_json::to_string_pretty(&stats).expect("plain data serialises")));
    }
    let callers = stats.distinct_callers.map_or("-".to_string(), |n| n.to_string());
    let mut text = format!("{}\n", args.file.display());
    text += &format!("  requests            {} ({} malformed rows skipped)\n", stats.requests, stats.skipped_rows);
    text += &format!("  span                {:.3} s, {} to {}\n", stats.span_s, stats.first, stats.last);
    text += &format!(
        "  per second          peak {}, mean {:.3}, p50 {}, p99 {}\n",
        stats.per_second_peak, stats.per_second_mean, stats.per_second_p50, stats.per_second_p99
    );
    text += &format!("  distinct callers    {callers}\n");
    text += &format!(
        "  QPS that throttles  nothing: {}   at most 1 %: {}   at most 5 %: {}   (clock-aligned 1 s windows)\n",
        stats.qps_throttling_none, stats.qps_throttling_1_percent, stats.qps_throttling_5_percent
    );
    out(&text)
}

/// Writes each request's start as a CSV row; keeps the first write error for after the run.
struct TraceWriter<W: std::io::Write> {
    csv: csv::Writer<W>,
    start: i128,
    error: Option<csv::Error>,
}

impl<W: std::io::Write> engine::Observer for TraceWriter<W> {
    fn request_started(&mut self, at: time::Nanos, account: &str, sub_account: &str, api: &str) {
        if self.error.is_none() {
            let unix_ns = (self.start + at as i128).to_string();
            if let Err(e) = self.csv.write_record([unix_ns.as_str(), account, sub_account, api]) {
                self.error = Some(e);
            }
        }
    }
}

pub(super) fn trace_gen_command(args: &TraceGenArgs) -> Result<(), Error> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    guard::check(&guard::estimate(&scenario), 1.0, args.allow_large, "the run")?;
    let path = &args.output;
    if path.file_name().is_none() || std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(Error::BadInput(format!("-o: {} is a folder; give the path of a file to write", path.display())));
    }
    let fail = |e: std::io::Error| Error::Write { path: path.display().to_string(), source: e };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // Written to a temporary file created new beside the target and renamed into place: an interrupted
    // or failed run leaves the target as it was.
    let output = report::outputs::write_streamed(path, |w| {
        let mut writer =
            TraceWriter { csv: csv::Writer::from_writer(w), start: scenario.start.as_nanosecond(), error: None };
        writer
            .csv
            .write_record(["unix_ns", "account", "sub_account", "api"])
            .map_err(|e| fail(std::io::Error::other(e.to_string())))?;
        let out = engine::run_observed(&scenario, RunOptions::for_scenario(&scenario), &mut writer)?;
        if let Some(e) = writer.error.take() {
            return Err(fail(std::io::Error::other(e.to_string())));
        }
        writer.csv.flush().map_err(fail)?;
        Ok(out)
    })?;
    let requests: u64 = output.recorder.cells.iter().map(|c| c.requests).sum();
    out(&format!("wrote {requests} requests to {}\n", path.display()))
}
