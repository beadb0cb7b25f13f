//! Command line: `quotasim run SCENARIO [--out DIR] [--bin DURATION] [--seed N] [--no-chart] [--quiet]`.
//!
//! Flags are parsed by clap, then checked into settings; the pipeline is load → run → report.

use crate::engine::{self, RunOptions};
use crate::report::{self, Report};
use crate::scenario::Scenario;
use crate::time::{NANOS_PER_SEC, parse_duration};
use crate::{Error, stats};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "quotasim",
    version,
    about = "Simulate per-API QPS quotas: how many calls get throttled, when, and what to buy"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario: print a summary and write summary.json, summary.csv, timeseries.csv, timeline.png.
    Run(RunArgs),
}

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
    /// Do not draw timeline.png.
    #[arg(long)]
    pub no_chart: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Most rows a time series may have in all; a finer `--bin` is refused rather than writing a huge CSV.
pub const MAX_SERIES_ROWS: u64 = 1_000_000;

pub fn execute(args: Args) -> Result<(), Error> {
    match args.command {
        Command::Run(run) => run_command(&run),
    }
}

fn run_command(args: &RunArgs) -> Result<(), Error> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let options = run_options(&scenario, args.bin.as_deref())?;
    let dir = args.out.clone().unwrap_or_else(|| Path::new("output").join(&scenario.name));
    report::prepare_dir(&dir)?;

    let output = engine::run(&scenario, options);
    let report = Report::new(&scenario, &output);
    let written = report::write_outputs(&report, &dir, !args.no_chart)?;
    if !args.quiet {
        print!("{}", report::table::render(&report));
        println!("wrote {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(())
}

fn run_options(scenario: &Scenario, bin: Option<&str>) -> Result<RunOptions, Error> {
    let Some(text) = bin else { return Ok(RunOptions::for_scenario(scenario)) };
    let bin = parse_duration(text).map_err(|m| Error::BadInput(format!("--bin: {m}")))?;
    if bin == 0 {
        return Err(Error::BadInput("--bin: must be longer than zero, e.g. `1s`".into()));
    }
    let series = scenario.clients.iter().flat_map(|c| c.apis.apis().iter().map(move |a| (c.account, *a)));
    let quotas = series.collect::<std::collections::BTreeSet<_>>().len() as u64;
    let rows = scenario.duration.div_ceil(bin) * quotas;
    if rows > MAX_SERIES_ROWS {
        let auto = stats::auto_bin(scenario.duration);
        return Err(Error::BadInput(format!(
            "--bin: `{text}` would write {rows} time-series rows (at most {MAX_SERIES_ROWS}); use a wider bin such as `{}s`",
            auto / NANOS_PER_SEC
        )));
    }
    Ok(RunOptions { bin })
}
