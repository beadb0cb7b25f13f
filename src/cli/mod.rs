//! Command line: the flags of every subcommand (clap), one file per subcommand, and what they share
//! (writing to the terminal, opening outputs, default folders). Each command parses its flags, calls the
//! library and prints what it returns.

mod advise;
mod check;
mod fit;
mod init;
mod open;
mod run;
mod sweep;
mod trace;
mod validate;

pub use advise::AdviseArgs;
use advise::advise_command;
use check::check_command;
pub use fit::FitArgs;
use fit::fit_command;
pub use init::InitArgs;
use init::init_command;
use open::open_output;
pub use run::RunArgs;
use run::run_command;
pub use sweep::{MergeArgs, SweepArgs};
use sweep::{merge_command, sweep_command};
pub use trace::{TraceCommand, TraceGenArgs, TraceStatsArgs};
use trace::{trace_gen_command, trace_stats_command};
pub use validate::ValidateArgs;
use validate::validate_command;

use crate::engine::{self, RunOptions};
use crate::report::{self, Report};
use crate::scenario::Scenario;
use crate::sweep::output::SweepDoc;
use crate::time::{NANOS_PER_SEC, parse_duration};
use crate::workload::trace::{ApiMapping, Format, TimeFormat, TraceSpec, reading};
use crate::workload::trace_stats::trace_stats;
use crate::{Error, guard, stats, time};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
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
    /// Run one scenario: print a summary and write summary.json, summary.csv, timeseries.csv, billing.csv,
    /// timeline.png and report.html.
    #[command(after_help = "Examples:\n  quotasim run scenarios/quickstart.toml\n  quotasim run \
            scenarios/plan-stacking.toml --out plans/ --format png,svg --open\n  quotasim run \
            scenarios/retry-strategies.toml --variant full-jitter --seed 3")]
    Run(RunArgs),
    /// Run a scenario over a grid of parameter values, replicated, on all cores: sweep.csv, sweep.json,
    /// charts and report.html.
    #[command(after_help = "Examples:\n  quotasim sweep scenarios/sweep-threads.toml\n  quotasim sweep \
            scenarios/quickstart.toml --param client.workers.threads=1..=16 --reps 20\n  quotasim sweep \
            scenarios/quickstart.toml --param client.workers.threads=1,2,4,8 --param \
            api.CompareFace.latency.mean=100ms,500ms")]
    Sweep(SweepArgs),
    /// Combine the shard files of a sharded sweep into the files one machine would have written.
    #[command(after_help = "Examples:\n  quotasim sweep scenarios/sweep-threads.toml --shard 1/4 --out results/\n  \
            quotasim merge results/ --out merged/")]
    Merge(MergeArgs),
    /// Look at a recorded request log, or write a scenario's requests as one.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Check the simulator against results known in closed form (Poisson against each limiter, Erlang B,
    /// M/D/1/b, retry chains, Little's law, the pacer's M/D/1 wait, the clairvoyant bound's token-bucket closed form): analytic value, simulated value with
    /// its 95 % interval, PASS or FAIL. Exits 1 if any check fails.
    #[command(after_help = "Examples:\n  quotasim validate --quick\n  quotasim validate --json > checks.json")]
    Validate(ValidateArgs),
    /// Search for what meets targets: per (account, API) the least QPS, per closed or batch client the most
    /// threads at today's plans, and, when the scenario lists [[offer]]s, the cheapest purchase. Writes
    /// advice.json, advice.csv, charts and report.html.
    #[command(after_help = "Examples:\n  quotasim advise scenarios/quickstart.toml --target 'throttle_rate<=1%'\n  \
            quotasim advise scenarios/plan-shopping.toml --target 'throttle_rate<=1%' --target 'latency_p99<=3s' \
            --reps 20\n  quotasim advise scenarios/quickstart.toml --target 'acme/CompareFace:gave_up<=0'")]
    Advise(AdviseArgs),
    /// Learn the platform's limiter from a log of its answers (200 or 429, with times): every kind quotasim
    /// models searched, replayed on the log's attempts; fit.json, a chart and report.html.
    #[command(after_help = "Examples:\n  quotasim fit scenarios/traces/answers.csv --time-format unix-ms\n  \
            quotasim fit access.log --account host\n  quotasim fit calls.jsonl --time ts --time-format rfc3339 \
            --api-field api")]
    Fit(FitArgs),
    /// Print a shell completion script: `quotasim completions bash > /etc/bash_completion.d/quotasim`.
    #[command(
        after_help = "Examples:\n  quotasim completions bash > ~/.local/share/bash-completion/completions/quotasim\n \
             quotasim completions zsh > ~/.zfunc/_quotasim\n  quotasim completions fish > \
            ~/.config/fish/completions/quotasim.fish"
    )]
    Completions {
        /// `bash`, `zsh`, `fish`, `powershell` or `elvish`.
        shell: clap_complete::Shell,
    },
    /// Write a commented starting scenario from a few facts about the caller; `quotasim run` takes it as it
    /// is. Refuses to replace an existing file.
    #[command(after_help = "Examples:\n  quotasim init my-service.toml --threads 8 --response 500ms\n  quotasim init \
            ocr.toml --category text-recognition --api RecognizeText --threads 4 --plan package")]
    Init(InitArgs),
    /// Check a scenario (and its traces' headers) without running it: what is wrong, at its file, line and
    /// key, or what the scenario describes and the work a run would take. Exit 0, or 2 for bad input.
    #[command(after_help = "Examples:
  quotasim check scenarios/quickstart.toml
  quotasim check my-service.toml && quotasim run my-service.toml")]
    Check {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
}

/// `--contour` as a share: `5%` or `0.05`, from 0 to 1.
fn contour_share(text: &str) -> Result<f64, Error> {
    let text = text.trim();
    let share = match text.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    share.ok().filter(|x| (0.0..=1.0).contains(x)).ok_or_else(|| {
        Error::BadInput(format!("--contour: `{text}` is not valid; expected a throttle rate such as 5% or 0.05"))
    })
}

/// How charts and the report are written, and whether to open them.
/// How many replications a point gets and on how many threads (sweep and advise).
#[derive(Debug, clap::Args)]
pub struct Replications {
    /// Replications per point [default: the scenario's [sweep] reps, else 10].
    #[arg(long)]
    pub reps: Option<u32>,
    /// Threads to run on [default: all cores]. The output does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct ChartArgs {
    /// Do not draw charts (report.html is still written, without them).
    #[arg(long)]
    pub no_chart: bool,
    /// Chart files: `png`, `svg` or `png,svg` (the same drawing; PNG rendered from the SVG).
    #[arg(long, default_value = "png", value_name = "png,svg")]
    pub format: String,
    /// Open report.html (or, with `--open chart`, the first chart) in the system's viewer when there is
    /// one; otherwise print its path.
    #[arg(long, num_args = 0..=1, default_missing_value = "report", value_name = "report|chart", value_parser = ["report", "chart"])]
    pub open: Option<String>,
}

impl ChartArgs {
    /// The chart formats asked for, none with `--no-chart`.
    fn formats(&self) -> Result<Option<report::chart::Formats>, Error> {
        let formats = report::chart::Formats::parse(&self.format).map_err(Error::BadInput)?;
        Ok((!self.no_chart).then_some(formats))
    }
}

/// Prints `text` to standard output, with any control character that came from input escaped (see
/// [`crate::text`]): a reader that closed the pipe ends the command quietly; any other failure (a full
/// disk) is an error.
fn out(text: &str) -> Result<(), Error> {
    out_raw(&crate::text::terminal_lines(text))
}

/// Prints `text` as it is: for text whose input strings were escaped where it was made, and which holds
/// escapes of its own (the run table's colour).
fn out_raw(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(Error::stdout)
}

/// Tells, on standard error, which temporary files of an interrupted run were removed.
/// Said even under `--quiet`: a user should always learn that files in their folder were removed.
fn note_leftovers(removed: &[PathBuf], _quiet: bool) {
    if !removed.is_empty() {
        use std::io::Write;
        let names: Vec<String> =
            removed.iter().map(|p| crate::text::terminal(&p.display().to_string()).into_owned()).collect();
        let _ =
            writeln!(std::io::stderr(), "note: removed temporary files of an interrupted run: {}", names.join(", "));
    }
}

fn wrote(paths: &[PathBuf]) -> String {
    format!("wrote {}\n", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
}

/// The most threads `--jobs` may ask for without `--allow-large`.
pub const MAX_JOBS: usize = 1024;

use crate::stats::MAX_SERIES_ROWS;
pub fn execute(args: Args) -> Result<(), Error> {
    // --allow-large lifts the guard's limits for every run the command makes, estimated or running.
    let allow_large = match &args.command {
        Command::Run(a) => a.allow_large,
        Command::Sweep(a) => a.allow_large,
        Command::Advise(a) => a.allow_large,
        Command::Trace(TraceCommand::Gen(a)) => a.allow_large,
        _ => false,
    };
    if allow_large {
        guard::allow_large();
    }
    match args.command {
        Command::Run(run) => run_command(&run),
        Command::Sweep(sweep) => sweep_command(&sweep),
        Command::Merge(merge) => merge_command(&merge),
        Command::Trace(TraceCommand::Stats(stats)) => trace_stats_command(&stats),
        Command::Trace(TraceCommand::Gen(gen_args)) => trace_gen_command(&gen_args),
        Command::Validate(validate) => validate_command(&validate),
        Command::Check { scenario } => check_command(&scenario),
        Command::Init(init) => init_command(&init),
        Command::Advise(advise) => advise_command(&advise),
        Command::Fit(fit) => fit_command(&fit),
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut <Args as clap::CommandFactory>::command(), "quotasim", &mut buffer);
            out(&String::from_utf8_lossy(&buffer))
        }
    }
}

/// A line on standard error; a closed standard error is not worth failing a command for.
fn say_error(line: &str) -> Result<(), Error> {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{}", crate::text::terminal(line));
    Ok(())
}

/// Where a command writes by default: `output/<scenario>/<what>/` beside the run's own `output/<scenario>/`,
/// so that `run`, `sweep`, `advise` and each variant keep their own report.html.
fn default_dir(scenario: &str, what: &str) -> PathBuf {
    Path::new("output").join(scenario).join(what)
}

/// The scenario file, with variant `variant` applied when one is named, and the text it was read from.
fn load_variant(path: &Path, variant: Option<&str>) -> Result<(Scenario, String), Error> {
    let file = path.display().to_string();
    let text = crate::scenario::read_text(path)?;
    let scenario = Scenario::parse(&text, &file)?;
    let Some(name) = variant else { return Ok((scenario, text)) };
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
    crate::sweep::params::apply_variant(&mut table, name).map_err(|m| Error::BadInput(format!("--variant: {m}")))?;
    let text = toml::to_string(&table).expect("a TOML table serialises");
    let scenario = Scenario::parse(&text, &file)
        .map_err(|e| Error::BadInput(format!("--variant {name}: {}: {}", e.key, e.message)))?;
    Ok((scenario, text))
}

fn run_options(scenario: &Scenario, bin: Option<&str>) -> Result<RunOptions, Error> {
    let Some(text) = bin else { return Ok(RunOptions::for_scenario(scenario)) };
    let bin = parse_duration(text).map_err(|m| Error::BadInput(format!("--bin: {m}")))?;
    if bin == 0 {
        return Err(Error::BadInput("--bin: must be longer than zero, e.g. `1s`".into()));
    }
    let series = scenario.quota_pairs().len();
    let rows = u128::from(scenario.duration.div_ceil(bin)) * series as u128;
    if rows > u128::from(MAX_SERIES_ROWS) {
        let auto = stats::auto_bin(scenario.duration, series);
        return Err(Error::BadInput(format!(
            "--bin: `{text}` would write {rows} time-series rows (at most {MAX_SERIES_ROWS}); use a wider bin such \
                as `{}s`",
            auto / NANOS_PER_SEC
        )));
    }
    Ok(RunOptions { bin, skip_bad_rows: false, budget: engine::Budget::default(), held: None, clairvoyant: false })
}
