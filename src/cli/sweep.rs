//! `quotasim sweep` and `quotasim merge`: a grid of runs, replicated (or one shard of it), and the merge of shards.

use super::*;

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
    #[command(flatten)]
    pub replications: Replications,
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

pub(super) fn sweep_command(args: &SweepArgs) -> Result<(), Error> {
    // Flags are checked before the work, not after it.
    let contour = contour_share(&args.contour)?;
    let formats = args.charts.formats()?;
    let file = args.scenario.display().to_string();
    let text = crate::scenario::read_text(&args.scenario)?;
    let (mut scenario, study) = Scenario::parse_study(&text, &file)?;
    // Every point's seed derives from the scenario's: a new seed means a new `seed` in the text too.
    let text = match args.seed {
        None => text,
        Some(seed) => {
            scenario.seed = seed;
            crate::sweep::with_seed(&text, &file, seed)?
        }
    };
    let defaults = &study.sweep;
    let (texts, source) =
        if args.params.is_empty() { (&defaults.params, "[sweep] param") } else { (&args.params, "--param") };
    let reps = args.replications.reps.or(defaults.reps).unwrap_or(10);
    let spec = crate::sweep::spec_from(texts, source, args.zip || defaults.zip, reps, &text)?;
    match args.replications.jobs {
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
    let all = crate::sweep::points(&text, &file, &spec)?;
    let total = all.len();
    let points: Vec<_> =
        all.into_iter().filter(|p| shard.is_none_or(|(k, n)| crate::sweep::in_shard(p.index, k, n))).collect();
    crate::sweep::check_work(&points, spec.reps, args.allow_large)?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&scenario.name, "sweep"));
    report::prepare_dir(&dir)?;

    let runs = (points.len() * spec.reps as usize) as u64;
    let bar = if args.quiet { ProgressBar::hidden() } else { ProgressBar::new(runs) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {elapsed} elapsed, about {eta} left")
            .expect("the progress template is valid"),
    );
    let results = crate::sweep::run(&spec, &points, args.replications.jobs, &|| bar.inc(1))?;
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
        Some((k, n)) => vec![crate::sweep::write::write_shard(&doc, &dir, k, n)?],
        None => {
            let (written, removed) = crate::sweep::write::write_whole(&doc, &dir, formats, Some(&text), contour)?;
            note_leftovers(&removed, args.quiet);
            written
        }
    };
    if !args.quiet {
        out(&crate::sweep::findings::findings(&doc).terminal())?;
        out(&wrote(&written))?;
        if shard.is_none() && !args.charts.no_chart && doc.params.len() >= 3 {
            out(&format!(
                "no chart: a sweep of {} parameters has no picture that reads well (one draws lines, two a heatmap); \
                    sweep.csv and sweep.json hold every point\n",
                doc.params.len()
            ))?;
        }
    }
    open_output(args.charts.open.as_deref(), &written)
}

pub(super) fn merge_command(args: &MergeArgs) -> Result<(), Error> {
    let (contour, formats) = (contour_share(&args.contour)?, args.charts.formats()?);
    let doc = crate::sweep::output::merge(&args.dirs)?;
    // Never a folder named by the shard files' contents: the first folder given, or --out.
    let dir = args.out.clone().unwrap_or_else(|| args.dirs[0].clone());
    report::prepare_dir(&dir)?;
    let (written, removed) = crate::sweep::write::write_whole(&doc, &dir, formats, None, contour)?;
    note_leftovers(&removed, false);
    out(&format!("merged {} points; {}", doc.points.len(), wrote(&written)))?;
    open_output(args.charts.open.as_deref(), &written)
}
