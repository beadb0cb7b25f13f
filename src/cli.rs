//! Command line: `quotasim run`, `quotasim sweep`, `quotasim merge`, `quotasim trace stats|gen`.
//!
//! Flags are parsed by clap, then checked into settings; each command is load → run → report.

use crate::engine::{self, RunOptions};
use crate::report::{self, Report};
use crate::scenario::Scenario;
use crate::sweep::output::SweepDoc;
use crate::sweep::{self, SweepSpec};
use crate::time::{NANOS_PER_SEC, parse_duration};
use crate::workload::trace::{ApiMapping, TraceSpec, reading};
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
    #[command(
        after_help = "Examples:\n  quotasim run scenarios/quickstart.toml\n  quotasim run scenarios/plan-stacking.toml --out plans/ --format png,svg --open\n  quotasim run scenarios/retry-strategies.toml --variant full-jitter --seed 3"
    )]
    Run(RunArgs),
    /// Run a scenario over a grid of parameter values, replicated, on all cores: sweep.csv, sweep.json,
    /// charts and report.html.
    #[command(
        after_help = "Examples:\n  quotasim sweep scenarios/sweep-threads.toml\n  quotasim sweep scenarios/quickstart.toml --param client.workers.threads=1..=16 --reps 20\n  quotasim sweep scenarios/quickstart.toml --param client.workers.threads=1,2,4,8 --param api.CompareFace.latency.mean=100ms,500ms"
    )]
    Sweep(SweepArgs),
    /// Combine the shard files of a sharded sweep into the files one machine would have written.
    #[command(
        after_help = "Examples:\n  quotasim sweep scenarios/sweep-threads.toml --shard 1/4 --out results/\n  quotasim merge results/ --out merged/"
    )]
    Merge(MergeArgs),
    /// Look at a recorded request log, or write a scenario's requests as one.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Check the simulator against results known in closed form (Poisson against each limiter, Erlang B,
    /// M/D/1/b, retry chains, Little's law, the pacer's M/D/1 wait): analytic value, simulated value with
    /// its 95 % interval, PASS or FAIL. Exits 1 if any check fails.
    #[command(after_help = "Examples:\n  quotasim validate --quick\n  quotasim validate --json > checks.json")]
    Validate(ValidateArgs),
    /// Search for what meets targets: per (account, API) the least QPS, per closed or batch client the most
    /// threads at today's plans, and, when the scenario lists [[offer]]s, the cheapest purchase. Writes
    /// advice.json, advice.csv, charts and report.html.
    #[command(
        after_help = "Examples:\n  quotasim advise scenarios/quickstart.toml --target 'throttle_rate<=1%'\n  quotasim advise scenarios/plan-shopping.toml --target 'throttle_rate<=1%' --target 'latency_p99<=3s' --reps 20\n  quotasim advise scenarios/quickstart.toml --target 'acme/CompareFace:gave_up<=0'"
    )]
    Advise(AdviseArgs),
    /// Print a shell completion script: `quotasim completions bash > /etc/bash_completion.d/quotasim`.
    #[command(
        after_help = "Examples:\n  quotasim completions bash > ~/.local/share/bash-completion/completions/quotasim\n  quotasim completions zsh > ~/.zfunc/_quotasim\n  quotasim completions fish > ~/.config/fish/completions/quotasim.fish"
    )]
    Completions {
        /// `bash`, `zsh`, `fish`, `powershell` or `elvish`.
        shell: clap_complete::Shell,
    },
    /// Write a commented starting scenario from a few facts about the caller; `quotasim run` takes it as it
    /// is. Refuses to replace an existing file.
    #[command(
        after_help = "Examples:\n  quotasim init my-service.toml --threads 8 --response 500ms\n  quotasim init ocr.toml --category text-recognition --api RecognizeText --threads 4 --plan package"
    )]
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

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    pub scenario: PathBuf,
    /// A target every answer must meet: `[ACCOUNT/API:]METRIC<=VALUE` or `>=`, e.g. `throttle_rate<=1%`,
    /// `latency_p99<=3s`, `acme/CompareFace:gave_up<=0`; repeat for several (all must hold).
    #[arg(long = "target", value_name = "TARGET", required = true)]
    pub targets: Vec<String>,
    /// Replications per point [default: the scenario's [sweep] reps, else 10].
    #[arg(long)]
    pub reps: Option<u32>,
    /// Threads to run on [default: all cores]. The output does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder for the outputs [default: output/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Only these searches: `qps`, `threads`, `plans` (comma-separated) [default: all three].
    #[arg(long, value_delimiter = ',', value_name = "qps,threads,plans")]
    pub only: Vec<String>,
    /// Run points even when their work is estimated above 10^9 attempts.
    #[arg(long)]
    pub allow_large: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The scenario file to write (it must not exist).
    pub file: PathBuf,
    /// Worker threads calling the API, each waiting for its reply before the next call.
    #[arg(long, default_value_t = 8)]
    pub threads: u32,
    /// The API's mean response time.
    #[arg(long, default_value = "500ms")]
    pub response: String,
    /// The API's category: face-body, text-recognition, segmentation, other.
    #[arg(long, default_value = "face-body")]
    pub category: String,
    /// The API's name.
    #[arg(long, default_value = "CompareFace")]
    pub api: String,
    /// The plan: `pay-as-you-go`, `package` (a resource package bought the day before), or `prepaid:N`
    /// (N prepaid QPS for the whole run).
    #[arg(long, default_value = "pay-as-you-go")]
    pub plan: String,
    /// How long to simulate.
    #[arg(long, default_value = "10m")]
    pub duration: String,
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

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The short set: fewer cases, shorter runs (a few seconds on two cores).
    #[arg(long)]
    pub quick: bool,
    /// Print the checks as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Threads to run on [default: all cores]. The output does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
}

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

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// A swept key and its values, e.g. `client.workers.threads=1..=32`, `api.A.latency.mean=100ms,500ms`;
    /// repeat for a grid [default: the scenario's [sweep] param list].
    #[arg(long = "param", value_name = "KEY=VALUES")]
    pub params: Vec<String>,
    /// Pair the parameters' values instead of taking every combination.
    #[arg(long)]
    pub zip: bool,
    /// Replications per point [default: the scenario's [sweep] reps, else 10].
    #[arg(long)]
    pub reps: Option<u32>,
    /// Threads to run on [default: all cores]. The output does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Replace the scenario's seed (every replication's seed derives from it).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder for the outputs [default: output/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (1-based), writing sweep-shard-K-of-N.json for `quotasim merge`
    /// [default: from JOB_COMPLETION_INDEX with --shards, or SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT].
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// How many shards, when the shard index comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Job).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// The throttle rate the heatmap draws its contour at, e.g. `5%`.
    #[arg(long, value_name = "PERCENT", default_value = "1%")]
    pub contour: String,
    #[command(flatten)]
    pub charts: ChartArgs,
    /// Run even when the sweep's work is estimated above 10^9 attempts, or --jobs above 1024.
    #[arg(long)]
    pub allow_large: bool,
    /// Print nothing but errors (no progress bar, no table).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Folders holding sweep-shard-*.json files.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged outputs [default: the first folder given].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The throttle rate the heatmap draws its contour at, e.g. `5%`.
    #[arg(long, value_name = "PERCENT", default_value = "1%")]
    pub contour: String,
    #[command(flatten)]
    pub charts: ChartArgs,
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
    /// Run even when the work is estimated above 10^9 attempts or 4 GiB (refused otherwise).
    #[arg(long)]
    pub allow_large: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
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
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut <Args as clap::CommandFactory>::command(), "quotasim", &mut buffer);
            out(&String::from_utf8_lossy(&buffer))
        }
    }
}

/// `--open`: shows report.html or the first chart among `written` in the system's viewer, detached; when
/// none can be started, prints the path. Never fails the command.
fn open_output(what: Option<&str>, written: &[PathBuf], quiet: bool) -> Result<(), Error> {
    let Some(what) = what else { return Ok(()) };
    let wanted = |p: &&PathBuf| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match what {
            "chart" => name.ends_with(".png") || name.ends_with(".svg"),
            _ => name == "report.html",
        }
    };
    let Some(path) = written.iter().find(wanted) else {
        return out(&format!("--open {what}: nothing of that kind was written\n"));
    };
    let viewers: &[(&str, &[&str])] = if cfg!(target_os = "macos") {
        &[("open", &[])]
    } else if cfg!(windows) {
        &[("cmd", &["/C", "start", ""])]
    } else {
        &[("xdg-open", &[]), ("gio", &["open"]), ("sensible-browser", &[])]
    };
    for (program, args) in viewers {
        let started = std::process::Command::new(program)
            .args(*args)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        // A launcher that fails says so by its exit status, quickly (xdg-open exits 3 on a machine with no
        // desktop): wait a moment for it; one still running has handed the file to a viewer.
        let Ok(mut child) = started else { continue };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let opened = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if opened {
            return Ok(());
        }
    }
    if quiet {
        return Ok(());
    }
    out(&format!("no viewer to open it with; it is at {}\n", path.display()))
}

/// Where a command writes by default: `output/<scenario>/<what>/` beside the run's own `output/<scenario>/`,
/// so that `run`, `sweep`, `advise` and each variant keep their own report.html.
fn default_dir(scenario: &str, what: &str) -> PathBuf {
    Path::new("output").join(scenario).join(what)
}

/// `quotasim init`: a commented scenario from the flags, checked by the parser before it is written.
fn init_command(args: &InitArgs) -> Result<(), Error> {
    let name = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().replace(|c: char| !c.is_alphanumeric() && c != '-' && c != '_', "-"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "my-scenario".into());
    let plan = match args.plan.as_str() {
        "pay-as-you-go" => "# No plan: the category's pay-as-you-go QPS applies.\n".to_string(),
        "package" => "[[account.plan]]\ntype = \"resource-package\"\nname = \"pack\"\ncategory = \"CATEGORY\"\ncalls = 100000\nbought = \"2026-11-25T12:00:00+08:00\"   # 5 QPS from 08:00 UTC+8 the next day\n".replace("CATEGORY", &args.category),
        other => match other.strip_prefix("prepaid:").and_then(|q| q.parse::<u32>().ok()) {
            Some(q) => format!("[[account.plan]]\ntype = \"prepaid-qps\"\nname = \"prepaid\"\napi = \"{}\"\nqps = {q}\nfrom = \"2026-11-26T09:00:00+08:00\"\nuntil = \"2026-11-27T09:00:00+08:00\"\n", args.api),
            None => {
                return Err(Error::BadInput(format!(
                    "--plan: `{other}` is not valid; expected pay-as-you-go, package or prepaid:N (e.g. prepaid:10)"
                )));
            }
        },
    };
    let text = format!(
        r#"# {name}: {threads} threads call {api} ({category}); written by `quotasim init`, edit freely.
# By the platform's formula, QPS = concurrency / average response time: {threads} threads at {response}
# want about {want} QPS. Run it: quotasim run {file}
name = "{name}"
seed = 1
start = "2026-11-26T09:00:00+08:00"   # the scenario's clock: windows and plans follow its offset
duration = "{duration}"

[server]
throttle_latency = "10ms"   # a throttled call comes back at once

[[api]]
name = "{api}"
category = "{category}"   # face-body, text-recognition (1 QPS), segmentation, other: the pay-as-you-go QPS
latency = {{ dist = "exponential", mean = "{response}" }}

[[account]]
name = "main"
{plan}
[[client]]
name = "workers"
account = "main"
api = "{api}"
model = "closed"
threads = {threads}
retry = {{ policy = "fixed", wait = "1s", max_attempts = 10 }}   # the platform's advice: wait 1 s, retry
"#,
        threads = args.threads,
        want = time::parse_duration(&args.response).ok().filter(|&r| r > 0).map_or("?".to_string(), |r| format!(
            "{:.1}",
            args.threads as f64 / time::secs_f64(r)
        )
        .replace(".0", "")),
        api = args.api,
        category = args.category,
        response = args.response,
        duration = args.duration,
        file = args.file.display(),
    );
    // Checked as any scenario is, so a bad flag is an error at its key, and nothing is written.
    Scenario::parse(&text, &args.file.display().to_string())
        .map_err(|e| Error::BadInput(format!("the flags make an invalid scenario: {}: {}", e.key, e.message)))?;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&args.file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::BadInput(format!("{} exists; quotasim init writes only a new file", args.file.display()))
        } else {
            Error::Write { path: args.file.display().to_string(), source: e }
        }
    })?;
    use std::io::Write;
    file.write_all(text.as_bytes()).map_err(|e| Error::Write { path: args.file.display().to_string(), source: e })?;
    out(&format!("wrote {}; run it with: quotasim run {}\n", args.file.display(), args.file.display()))
}

/// `quotasim check`: parse and validate, then say what the scenario holds and the work a run would take.
fn check_command(path: &Path) -> Result<(), Error> {
    let sc = Scenario::load(path)?;
    for w in sc.warnings() {
        out(&format!("{w}\n"))?;
    }
    let work = guard::estimate(&sc);
    guard::check(&work, 1.0, false, "a run")?;
    let traces = sc.clients.iter().filter(|c| matches!(c.model, crate::workload::ClientModel::Trace(_))).count();
    out(&format!(
        "{}: ok — {} API{}, {} account{}, {} client{}{}, {} from {}; a run would make about {} attempts (traces not counted)\n",
        path.display(),
        sc.apis.len(),
        if sc.apis.len() == 1 { "" } else { "s" },
        sc.accounts.len(),
        if sc.accounts.len() == 1 { "" } else { "s" },
        sc.clients.len(),
        if sc.clients.len() == 1 { "" } else { "s" },
        if traces > 0 { format!(" ({traces} replaying a log, headers checked)") } else { String::new() },
        time::format_duration(sc.duration),
        sc.instant_text(0),
        if work.attempts < 1e6 { format!("{:.0}", work.attempts) } else { format!("{:.1e}", work.attempts) }
    ))
}

fn advise_command(args: &AdviseArgs) -> Result<(), Error> {
    use crate::advise::{Advisor, output};
    let formats = args.charts.formats()?;
    let file = args.scenario.display().to_string();
    let text = crate::scenario::read_text(&args.scenario)?;
    let mut scenario = Scenario::parse(&text, &file)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let targets = args
        .targets
        .iter()
        .map(|t| crate::advise::parse_target(t).map_err(Error::BadInput))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(why) = crate::advise::contradictions(&targets) {
        return Err(Error::BadInput(why));
    }
    let only = |what: &str| args.only.is_empty() || args.only.iter().any(|o| o == what);
    if let Some(bad) = args.only.iter().find(|o| !["qps", "threads", "plans"].contains(&o.as_str())) {
        return Err(Error::BadInput(format!("--only: `{bad}` is not a search; expected qps, threads or plans")));
    }
    for w in targets.iter().filter_map(|t| t.warning.as_ref()) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{w}");
    }
    let reps = args.reps.or(scenario.sweep.reps).unwrap_or(10);
    if reps == 0 {
        return Err(Error::BadInput("--reps: must be at least 1".into()));
    }
    if let Some(n) = args.jobs.filter(|&n| n == 0 || n > MAX_JOBS) {
        return Err(Error::BadInput(format!("--jobs: {n} is not valid; expected 1 to {MAX_JOBS}")));
    }
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&scenario.name, "advise"));
    report::prepare_dir(&dir)?;
    let advisor = Advisor::new(&scenario, &targets, reps, args.allow_large)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::BadInput(format!("--jobs: {e}")))?;
    // Progress on standard error (a terminal, not --quiet): simulations done, and an estimate of those left
    // (each search about twice log2 of its range in points, every offer combination once).
    let pairs = engine::limits_at_start(&scenario);
    let estimated = reps as u64
        * (if only("qps") { pairs.len() as u64 * 2 * 17 } else { 0 }
            + if only("threads") { scenario.clients.len() as u64 * 2 * 10 } else { 0 }
            + if only("plans") && !scenario.offers.is_empty() {
                crate::advise::purchase::combinations(&scenario)
            } else {
                0
            });
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(estimated.max(1)) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} simulations of about {len}, {elapsed} elapsed, about {eta} left")
            .expect("the progress template is valid"),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let (least_qps, most_threads, plans) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let n = advisor.simulations.load(std::sync::atomic::Ordering::Relaxed);
                bar.set_length(estimated.max(n + 1));
                bar.set_position(n);
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
        let searches = crate::advise::Searches { qps: only("qps"), threads: only("threads"), plans: only("plans") };
        let result = pool.install(|| crate::advise::search_all(&advisor, searches, &text, &file));
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    })?;
    bar.finish_and_clear();
    let doc = output::AdviceDoc {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        reps,
        targets: targets.clone(),
        rule: output::RULE,
        least_qps,
        most_threads,
        plans,
        simulations: advisor.simulations.load(std::sync::atomic::Ordering::Relaxed),
    };
    let mut set = report::OutputSet::new(&dir, "advise")?;
    set.add_bytes("advice.json", &output::json_bytes(&doc))?;
    set.add_bytes("advice.csv", &output::csv_bytes(&doc))?;
    let mut svgs = Vec::new();
    if let Some(formats) = formats {
        for (name, svg) in crate::advise::chart::charts(&doc) {
            svgs.push(report::chart::add_chart(&mut set, &dir, name, svg, formats)?);
        }
    }
    let page = output::page(&doc, &args.targets.join(", "), &svgs, &text);
    set.add_bytes("report.html", page.as_bytes())?;
    let removed = std::mem::take(&mut set.removed_leftovers);
    let written = set.commit()?;
    note_leftovers(&removed, args.quiet);
    if !args.quiet {
        out(&output::render(&doc))?;
        out(&wrote(&written))?;
    }
    open_output(args.charts.open.as_deref(), &written, args.quiet)
}

fn validate_command(args: &ValidateArgs) -> Result<(), Error> {
    if let Some(n) = args.jobs.filter(|&n| n == 0 || n > MAX_JOBS) {
        return Err(Error::BadInput(format!("--jobs: {n} is not valid; expected 1 to {MAX_JOBS}")));
    }
    let checks = crate::validate::run(args.quick, args.jobs)?;
    if args.json {
        out(&format!("{}\n", serde_json::to_string_pretty(&checks).expect("checks serialise")))?;
    } else {
        out(&crate::validate::render(&checks))?;
    }
    match checks.iter().filter(|c| !c.pass).count() {
        0 => Ok(()),
        n => Err(Error::Failed(format!("{n} of {} validation checks failed", checks.len()))),
    }
}

/// The scenario file, with variant `variant` applied when one is named, and the text it was read from.
fn load_variant(path: &Path, variant: Option<&str>) -> Result<(Scenario, String), Error> {
    let file = path.display().to_string();
    let text = crate::scenario::read_text(path)?;
    let scenario = Scenario::parse(&text, &file)?;
    let Some(name) = variant else { return Ok((scenario, text)) };
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
    sweep::params::apply_variant(&mut table, name).map_err(|m| Error::BadInput(format!("--variant: {m}")))?;
    let text = toml::to_string(&table).expect("a TOML table serialises");
    let scenario = Scenario::parse(&text, &file)
        .map_err(|e| Error::BadInput(format!("--variant {name}: {}: {}", e.key, e.message)))?;
    Ok((scenario, text))
}

fn run_command(args: &RunArgs) -> Result<(), Error> {
    let formats = args.charts.formats()?;
    let thresholds = args
        .fail_if
        .iter()
        .map(|t| crate::threshold::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::BadInput)?;
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
    let output = run_with_progress(&scenario, options, args.quiet, args.requests.as_deref())?;
    let mut report = Report::new(&scenario, &output);
    let verdict = report::verdict::Verdict::new(&scenario, &report);
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
    open_output(args.charts.open.as_deref(), &written, args.quiet)?;
    if !crossed.is_empty() {
        let what: Vec<String> = crossed.iter().map(|(t, v)| format!("`{t}` (it is {})", trim_value(*v))).collect();
        let headline = report.summary.verdict.as_ref().map_or(String::new(), |v| format!("\n{}", v.headline));
        return Err(Error::Failed(format!("--fail-if crossed: {}{headline}", what.join(", "))));
    }
    Ok(())
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
            "--bin: `{text}` would write {rows} time-series rows (at most {MAX_SERIES_ROWS}); use a wider bin such as `{}s`",
            auto / NANOS_PER_SEC
        )));
    }
    Ok(RunOptions { bin, skip_bad_rows: false, budget: engine::Budget::default() })
}

/// Which shard (0-based) of how many this process runs: the flags, else the batch system's environment.
fn shard_of(args: &SweepArgs) -> Result<Option<(usize, usize)>, Error> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let number = |what: &str, text: &str| -> Result<usize, Error> {
        text.trim().parse::<usize>().map_err(|_| Error::BadInput(format!("{what}: `{text}` is not a whole number")))
    };
    let (k, n) = if let Some(text) = &args.shard {
        let (k, n) =
            text.split_once('/').ok_or_else(|| Error::BadInput(format!("--shard: `{text}` is not K/N, e.g. 2/8")))?;
        let (k, n) = (number("--shard", k)?, number("--shard", n)?);
        if !(1..=n).contains(&k) {
            return Err(Error::BadInput(format!("--shard: `{text}` needs 1 <= K <= N")));
        }
        (k - 1, n)
    } else if let Some(index) = env("JOB_COMPLETION_INDEX") {
        let n = match (args.shards, env("QUOTASIM_SHARDS")) {
            (Some(n), _) => n,
            (None, Some(text)) => number("QUOTASIM_SHARDS", &text)?,
            (None, None) => {
                return Err(Error::BadInput(
                    "JOB_COMPLETION_INDEX is set: give the shard count with --shards N (or QUOTASIM_SHARDS)".into(),
                ));
            }
        };
        (number("JOB_COMPLETION_INDEX", &index)?, n)
    } else if let (Some(id), Some(count)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT")) {
        let min = env("SLURM_ARRAY_TASK_MIN").map_or(Ok(0), |m| number("SLURM_ARRAY_TASK_MIN", &m))?;
        (number("SLURM_ARRAY_TASK_ID", &id)?.saturating_sub(min), number("SLURM_ARRAY_TASK_COUNT", &count)?)
    } else {
        return Ok(None);
    };
    if n == 0 || k >= n {
        return Err(Error::BadInput(format!("shard {} of {n} does not exist", k + 1)));
    }
    Ok(Some((k, n)))
}

fn sweep_command(args: &SweepArgs) -> Result<(), Error> {
    // Flags are checked before the work, not after it.
    let contour = contour_share(&args.contour)?;
    let formats = args.charts.formats()?;
    let file = args.scenario.display().to_string();
    let text = crate::scenario::read_text(&args.scenario)?;
    let mut scenario = Scenario::parse(&text, &file)?;
    // Every point's seed derives from the scenario's: a new seed means a new `seed` in the text too.
    let text = match args.seed {
        None => text,
        Some(seed) => {
            scenario.seed = seed;
            let mut table: toml::Table =
                toml::from_str(&text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
            table.insert("seed".into(), toml::Value::Integer(seed as i64));
            toml::to_string(&table).expect("a TOML table serialises")
        }
    };
    let defaults = &scenario.sweep;
    let (texts, source) =
        if args.params.is_empty() { (&defaults.params, "[sweep] param") } else { (&args.params, "--param") };
    let params = texts
        .iter()
        .map(|t| sweep::params::parse_param(t).map_err(|m| Error::BadInput(format!("{source} {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(twice) = params.iter().enumerate().find(|(i, p)| params[..*i].iter().any(|q| q.key == p.key)) {
        return Err(Error::BadInput(format!(
            "{source} {}: given twice; give each key once, with all its values (e.g. `{}=1,2,4`)",
            twice.1.key, twice.1.key
        )));
    }
    let spec = SweepSpec { params, zip: args.zip || defaults.zip, reps: args.reps.or(defaults.reps).unwrap_or(10) };
    let spec = sweep::expand_variants(&spec, &text);
    match args.jobs {
        Some(0) => return Err(Error::BadInput("--jobs: must be at least 1".into())),
        Some(n) if n > MAX_JOBS && !args.allow_large => {
            return Err(Error::BadInput(format!(
                "--jobs: {n} threads is more than {MAX_JOBS}; this machine has {} cores (pass --allow-large to insist)",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            )));
        }
        _ => {}
    }
    let shard = shard_of(args)?;
    let all = sweep::points(&text, &file, &spec)?;
    let total = all.len();
    let points: Vec<_> =
        all.into_iter().filter(|p| shard.is_none_or(|(k, n)| sweep::in_shard(p.index, k, n))).collect();
    let work = points.iter().map(|p| guard::estimate(&p.scenario)).fold(guard::Work::default(), |mut all, w| {
        all.attempts += w.attempts;
        all.memory = all.memory.max(w.memory);
        if all.heaviest.as_ref().is_none_or(|(_, a)| w.heaviest.as_ref().is_some_and(|(_, b)| b > a)) {
            all.heaviest = w.heaviest;
        }
        all
    });
    guard::check(&work, f64::from(spec.reps), args.allow_large, "the sweep")?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&scenario.name, "sweep"));
    report::prepare_dir(&dir)?;

    let runs = (points.len() * spec.reps as usize) as u64;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(runs) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, about {eta} left")
            .expect("the progress template is valid"),
    );
    let results = sweep::run(&spec, &points, args.jobs, &|| bar.inc(1))?;
    bar.finish_and_clear();

    let doc = SweepDoc {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        reps: spec.reps,
        combine: if spec.zip { "zip" } else { "grid" }.into(),
        params: spec.params.iter().map(|p| p.key.clone()).collect(),
        points_total: total,
        shard: shard.map(|(k, n)| [k, n]),
        points: results,
    };
    let written = match shard {
        Some((k, n)) => {
            let path = dir.join(sweep::output::shard_file_name(k, n));
            let _lock = report::outputs::FolderLock::take(&dir)?;
            report::write_atomic(&path, &sweep::output::json_bytes(&doc))?;
            vec![path]
        }
        None => {
            let (written, removed) = sweep::write::write_whole(&doc, &dir, formats, Some(&text), contour)?;
            note_leftovers(&removed, args.quiet);
            written
        }
    };
    if !args.quiet {
        out(&sweep::findings::findings(&doc).terminal())?;
        out(&wrote(&written))?;
        if shard.is_none() && !args.charts.no_chart && doc.params.len() >= 3 {
            out(&format!(
                "no chart: a sweep of {} parameters has no picture that reads well (one draws lines, two a heatmap); sweep.csv and sweep.json hold every point\n",
                doc.params.len()
            ))?;
        }
    }
    open_output(args.charts.open.as_deref(), &written, args.quiet)
}

fn merge_command(args: &MergeArgs) -> Result<(), Error> {
    let (contour, formats) = (contour_share(&args.contour)?, args.charts.formats()?);
    let doc = sweep::output::merge(&args.dirs)?;
    // Never a folder named by the shard files' contents: the first folder given, or --out.
    let dir = args.out.clone().unwrap_or_else(|| args.dirs[0].clone());
    report::prepare_dir(&dir)?;
    let (written, removed) = sweep::write::write_whole(&doc, &dir, formats, None, contour)?;
    note_leftovers(&removed, false);
    out(&format!("merged {} points; {}", doc.points.len(), wrote(&written)))?;
    open_output(args.charts.open.as_deref(), &written, false)
}

fn trace_stats_command(args: &TraceStatsArgs) -> Result<(), Error> {
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

fn trace_gen_command(args: &TraceGenArgs) -> Result<(), Error> {
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
