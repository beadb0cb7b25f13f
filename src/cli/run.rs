//! `quotasim run`: one scenario (or one of its variants), its outputs and, with `--requests`, a row per attempt.

use super::*;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Folder for the outputs [default: output/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Width of the time-series bins, e.g. `1s`, `1m` [default: 1s, coarser past 3600 bins].
    #[arg(long)]
    pub bin: Option<String>,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run one of the scenario's named variants (`[[variant]]`) instead of the scenario as written.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Exit 1 (after writing the outputs) when a threshold is crossed: `[ACCOUNT/API:]METRIC>VALUE` (or >=,
    /// <, <=), e.g. `throttle_rate>1%`, `acme/CompareFace:latency_p99>3s`; repeatable.
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,
    /// Also write one CSV row per attempt to this file (time, request, account, sub-account, API, attempt
    /// number, outcome, trace row), streamed as the run goes.
    #[arg(long, value_name = "FILE.csv")]
    pub requests: Option<PathBuf>,
    /// Count and pass over malformed trace rows (reported in summary.json) instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// The throttle rate the verdict's remedies aim under, e.g. `1%` (the default) or `0.5%`.
    #[arg(long, value_name = "RATE", default_value = "1%")]
    pub remedy_rate: String,
    /// Give the verdict's remedies as the closed forms estimate them, without the simulations that confirm
    /// them (faster; labelled as estimates).
    #[arg(long)]
    pub no_confirm: bool,
    /// Run even when the work is estimated above 10^9 attempts or 4 GiB (refused otherwise).
    #[arg(long)]
    pub allow_large: bool,
    /// With more than 1,000 (account, sub-account, API) rows, summary.json names the top N callers by
    /// throttles and by requests and leaves every row to summary.csv.
    #[arg(long, value_name = "N", default_value_t = crate::report::TOP_CALLERS)]
    pub top: usize,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(super) fn run_command(args: &RunArgs) -> Result<(), Error> {
    let formats = args.charts.formats()?;
    let thresholds = args
        .fail_if
        .iter()
        .map(|t| crate::threshold::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::BadInput)?;
    let aim =
        crate::advise::remedy::Aim { under_ppm: remedy_ppm(&args.remedy_rate)?, skip_bad_rows: args.skip_bad_rows };
    let (mut scenario, text) = load_variant(&args.scenario, args.variant.as_deref())?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let mut options = run_options(&scenario, args.bin.as_deref())?;
    options.skip_bad_rows = args.skip_bad_rows;
    guard::check(&guard::estimate(&scenario), 1.0, args.allow_large, "the run")?;
    let dir = args.out.clone().unwrap_or_else(|| match args.variant.as_deref() {
        Some(v) => default_dir(&scenario.name, &format!("variant-{}", crate::text::label(v).replace(['/', '\\'], "_"))),
        None => Path::new("output").join(&scenario.name),
    });
    report::prepare_dir(&dir)?;

    for w in scenario.warnings().iter().filter(|_| !args.quiet) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{}", crate::text::terminal(w));
    }
    // The clairvoyant schedule of the same requests, beside the run, where the requests do not depend on the
    // platform's answers. Run first, so that its cells are gone before the run's are made (a replay of a
    // million callers holds a cell for each).
    let bound = crate::bound::bounded(&scenario, &scenario.quota_pairs())
        .contains(&true)
        .then(|| crate::bound::run(&scenario, options))
        .transpose()?;
    let output = run_with_progress(&scenario, options, args.quiet, args.requests.as_deref())?;
    let mut report = Report::new(&scenario, output);
    report.digest_callers(args.top);
    if let Some(bound) = &bound {
        report.attach_bound(&scenario, bound);
    }
    let mut verdict = report::verdict::Verdict::new(&scenario, &report, aim.rate());
    if !args.no_confirm {
        crate::advise::remedy::confirm(&scenario, &mut verdict, report.summary.totals.attempts, aim)?;
    }
    let scenario_path = args.scenario.display().to_string();
    let verdict_lines = verdict.lines(Some(&scenario_path));
    report.summary.verdict = Some(verdict);
    report.summary.quotasim_version = Some(env!("CARGO_PKG_VERSION"));
    report.summary.scenario_sha256 = Some({
        use sha2::Digest;
        sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    });
    let crossed = crate::threshold::crossed(&thresholds, &report.summary).map_err(Error::BadInput)?;
    let (written, removed) = report::write_outputs(&report, &dir, formats, &text, Some(&scenario_path))?;
    note_leftovers(&removed, args.quiet);
    if !args.quiet {
        out(&format!("{}\n\n", verdict_lines.join("\n")))?;
        out_raw(&report::table::render(&report, report::table::colour_wanted()))?;
        if args.bin.is_none() && options.bin > stats::auto_bin(scenario.duration, 1) {
            out(&format!(
                "timeseries.csv: {} bins, widened to stay under {MAX_SERIES_ROWS} rows for {} (account, API) series\n",
                time::format_duration(options.bin),
                report.series.len()
            ))?;
        }
        out(&wrote(&written))?;
    }
    open_output(args.charts.open.as_deref(), &written)?;
    if !crossed.is_empty() {
        let what: Vec<String> = crossed.iter().map(|(t, v)| format!("`{t}` (it is {})", trim_value(*v))).collect();
        let headline = report.summary.verdict.as_ref().map_or(String::new(), |v| format!("\n{}", v.headline));
        return Err(Error::Failed(format!("--fail-if crossed: {}{headline}", what.join(", "))));
    }
    Ok(())
}

/// `--remedy-rate`: a share above 0 and at most 100 %, as `1%` or `0.01`, in parts per million.
fn remedy_ppm(text: &str) -> Result<u64, Error> {
    let bad = || {
        Error::BadInput(format!(
            "--remedy-rate: `{}` is not valid; expected a throttle rate above 0 and at most 100 %, e.g. `1%` or `0.01`",
            crate::text::terminal(text)
        ))
    };
    let t = text.trim();
    let share = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => t.parse::<f64>().map_err(|_| bad())?,
    };
    let ppm = (share * 1e6).round();
    if !share.is_finite() || share <= 0.0 || share > 1.0 || ppm < 1.0 {
        return Err(bad());
    }
    Ok(ppm as u64)
}

/// A metric's value for a message: at most six significant digits.
fn trim_value(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}").trim_end_matches('0').to_string()
    }
}

/// Runs `scenario`, with a progress bar on standard error once the run has taken a second (when that is
/// a terminal and not `quiet`), and, with `requests`, a row per attempt written to that file.
fn run_with_progress(
    scenario: &Scenario,
    options: RunOptions,
    quiet: bool,
    requests: Option<&Path>,
) -> Result<engine::RunOutput, Error> {
    let started = std::time::Instant::now();
    let bar = ProgressBar::hidden();
    bar.set_length(scenario.duration.max(1));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent}% of the simulated time, {elapsed} elapsed, about {eta} left")
            .expect("the progress template is valid"),
    );
    let mut shown = false;
    let progress = |now| {
        if !shown && !quiet && started.elapsed().as_secs_f64() >= 1.0 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            shown = true;
        }
        bar.set_position(now);
    };
    let output = match requests {
        None => engine::run_observed(scenario, options, &mut engine::Progress(progress)),
        Some(path) => {
            if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                return Err(Error::BadInput(format!("--requests: {} is a folder; give a file", path.display())));
            }
            let fail =
                |e: csv::Error| Error::Write { path: path.display().to_string(), source: std::io::Error::other(e) };
            report::outputs::write_streamed(path, |w| {
                let mut writer = RequestsWriter { csv: csv::Writer::from_writer(w), error: None, progress };
                writer.csv.write_record(REQUEST_COLUMNS).map_err(fail)?;
                let out = engine::run_observed(scenario, options, &mut writer)?;
                if let Some(e) = writer.error.take() {
                    return Err(fail(e));
                }
                writer.csv.flush().map_err(|e| fail(e.into()))?;
                Ok(out)
            })
        }
    };
    bar.finish_and_clear();
    output
}

const REQUEST_COLUMNS: [&str; 8] = ["time_s", "request", "account", "sub_account", "api", "attempt", "outcome", "row"];

/// `run --requests`: one CSV row per attempt, streamed; keeps the first write error for after the run.
struct RequestsWriter<W: std::io::Write, F: FnMut(time::Nanos)> {
    csv: csv::Writer<W>,
    error: Option<csv::Error>,
    progress: F,
}

impl<W: std::io::Write, F: FnMut(time::Nanos)> engine::Observer for RequestsWriter<W, F> {
    const ACTIVE: bool = false;
    const ATTEMPTS: bool = true;

    fn request_started(&mut self, _: time::Nanos, _: &str, _: &str, _: &str) {}

    fn attempt(&mut self, a: &engine::AttemptSeen<'_>) {
        if self.error.is_some() {
            return;
        }
        let time_s = format!("{}.{:09}", a.at / time::NANOS_PER_SEC, a.at % time::NANOS_PER_SEC);
        let (request, attempt) = (a.request.to_string(), a.attempt.to_string());
        let row = a.row.map_or(String::new(), |r| r.to_string());
        let cell = crate::text::csv_cell;
        let record = [
            time_s.as_str(),
            &request,
            &cell(a.account),
            &cell(a.sub_account),
            &cell(a.api),
            &attempt,
            a.outcome.name(),
            &row,
        ];
        if let Err(e) = self.csv.write_record(record) {
            self.error = Some(e);
        }
    }

    fn progress(&mut self, now: time::Nanos) {
        (self.progress)(now)
    }
}
