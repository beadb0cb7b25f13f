//! `quotasim trace stats|gen`: a recorded request log summarised, or a scenario's requests written as one.

use super::*;

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Requests, span, per-second peak / mean / p50 / p99, distinct callers, and the QPS that would
    /// throttle nothing, 1 % or 5 % of the calls under a clock-aligned 1 s window.
    Stats(TraceStatsArgs),
    /// Run a scenario and write each request's start (its first attempt) as a CSV trace:
    /// unix_ns,account,sub_account,api; with --answers, every attempt the platform answered and its
    /// status (200 or 429), a log for `quotasim fit`.
    Gen(TraceGenArgs),
}

/// How a log file is read: the flags `trace stats` and `fit` share.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
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
    /// The offset of `datetime` times, e.g. `+08:00` [default: UTC]; for `fit`, also the clock a day's
    /// window turns on.
    #[arg(long)]
    pub zone: Option<String>,
    /// Count and pass over malformed rows instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
}

impl LogArgs {
    /// The log's format and time format, or which flag is wrong and why.
    pub(super) fn reading(&self) -> Result<(Format, TimeFormat), Error> {
        reading(&self.file, self.format.as_deref(), self.time_format.as_deref(), self.zone.as_deref()).map_err(
            |(field, m)| {
                let flag = match field {
                    "zone" => "--zone",
                    "time_format" => "--time-format",
                    _ => "--format",
                };
                Error::BadInput(format!("{flag}: {m}"))
            },
        )
    }
}

#[derive(Debug, clap::Args)]
pub struct TraceStatsArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The caller column or key (access logs: `host`), to count distinct callers.
    #[arg(long)]
    pub caller: Option<String>,
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
    /// Write every attempt the platform answered, with its status (200 admitted, 429 throttled):
    /// unix_ns,account,sub_account,api,status. Attempts a client kept to itself are left out.
    #[arg(long)]
    pub answers: bool,
    /// Run even when the work is estimated above 10^9 attempts or 4 GiB (refused otherwise).
    #[arg(long)]
    pub allow_large: bool,
}

pub(super) fn trace_stats_command(args: &TraceStatsArgs) -> Result<(), Error> {
    let (format, time_format) = args.log.reading()?;
    let spec = TraceSpec {
        path: args.log.file.clone(),
        format,
        time: args.log.time.clone(),
        time_format,
        caller: args.caller.clone(),
        api: ApiMapping::Constant(0),
        latency: None,
        cost: Vec::new(),
        shift: true,
        speed: 1.0,
    };
    let stats = trace_stats(&spec, args.log.skip_bad_rows).map_err(|e| Error::BadInput(e.to_string()))?;
    if args.json {
        return out(&format!("{}\n", serde_json::to_string_pretty(&stats).expect("plain data serialises")));
    }
    let callers = stats.distinct_callers.map_or("-".to_string(), |n| n.to_string());
    let mut text = format!("{}\n", args.log.file.display());
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

impl<W: std::io::Write> TraceWriter<W> {
    fn write(&mut self, at: time::Nanos, fields: [&str; 3], status: Option<&str>) {
        if self.error.is_none() {
            let unix_ns = (self.start + at as i128).to_string();
            let cell = crate::text::csv_cell;
            let (a, s, p) = (cell(fields[0]), cell(fields[1]), cell(fields[2]));
            let result = match status {
                Some(status) => self.csv.write_record([unix_ns.as_str(), &a, &s, &p, status]),
                None => self.csv.write_record([unix_ns.as_str(), &a, &s, &p]),
            };
            if let Err(e) = result {
                self.error = Some(e);
            }
        }
    }
}

/// `trace gen --answers`: every attempt the platform answered, and its status.
struct AnswersWriter<W: std::io::Write>(TraceWriter<W>);

impl<W: std::io::Write> engine::Observer for AnswersWriter<W> {
    const ACTIVE: bool = false;
    const ATTEMPTS: bool = true;

    fn request_started(&mut self, _: time::Nanos, _: &str, _: &str, _: &str) {}

    fn attempt(&mut self, a: &engine::AttemptSeen<'_>) {
        let status = match a.outcome {
            engine::AttemptOutcome::Admitted => "200",
            engine::AttemptOutcome::Throttled => "429",
            _ => return,
        };
        self.0.write(a.at, [a.account, a.sub_account, a.api], Some(status));
    }
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
        let header: &[&str] = if args.answers {
            &["unix_ns", "account", "sub_account", "api", "status"]
        } else {
            &["unix_ns", "account", "sub_account", "api"]
        };
        writer.csv.write_record(header).map_err(|e| fail(std::io::Error::other(e.to_string())))?;
        let options = RunOptions::for_scenario(&scenario);
        let (out, mut writer) = if args.answers {
            let mut answers = AnswersWriter(writer);
            (engine::run_observed(&scenario, options, &mut answers)?, answers.0)
        } else {
            (engine::run_observed(&scenario, options, &mut writer)?, writer)
        };
        if let Some(e) = writer.error.take() {
            return Err(fail(std::io::Error::other(e.to_string())));
        }
        writer.csv.flush().map_err(fail)?;
        Ok(out)
    })?;
    if args.answers {
        let attempts: u64 = output.recorder.cells.iter().map(|c| c.admitted + c.throttled).sum();
        return out(&format!("wrote {attempts} answered attempts to {}\n", path.display()));
    }
    let requests: u64 = output.recorder.cells.iter().map(|c| c.requests).sum();
    out(&format!("wrote {requests} requests to {}\n", path.display()))
}
