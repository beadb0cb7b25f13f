//! `quotasim advise`: the searches for what meets targets, and their files.

use super::*;

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    pub scenario: PathBuf,
    /// A target every answer must meet: `[ACCOUNT/API:]METRIC<=VALUE` or `>=`, e.g. `throttle_rate<=1%`,
    /// `latency_p99<=3s`, `acme/CompareFace:gave_up<=0`; repeat for several (all must hold).
    #[arg(long = "target", value_name = "TARGET", required = true)]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub replications: Replications,
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

pub(super) fn advise_command(args: &AdviseArgs) -> Result<(), Error> {
    use crate::advise::{Advisor, output};
    let formats = args.charts.formats()?;
    let file = args.scenario.display().to_string();
    let text = crate::scenario::read_text(&args.scenario)?;
    let (mut scenario, study) = Scenario::parse_study(&text, &file)?;
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
    let reps = args.replications.reps.or(study.sweep.reps).unwrap_or(10);
    if reps == 0 {
        return Err(Error::BadInput("--reps: must be at least 1".into()));
    }
    if let Some(n) = args.replications.jobs.filter(|&n| n == 0 || n > MAX_JOBS) {
        return Err(Error::BadInput(format!("--jobs: {n} is not valid; expected 1 to {MAX_JOBS}")));
    }
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&scenario.name, "advise"));
    report::prepare_dir(&dir)?;
    let advisor = Advisor::new(&scenario, &study.offers, &targets, reps, args.allow_large)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.replications.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Error::BadInput(format!("--jobs: {e}")))?;
    // Progress on standard error (a terminal, not --quiet): simulations done, and an estimate of those left
    // (each search about twice log2 of its range in points, every offer combination once).
    let searches = crate::advise::Searches { qps: only("qps"), threads: only("threads"), plans: only("plans") };
    let estimated = crate::advise::estimated_simulations(&scenario, &study.offers, reps, searches);
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
    let (written, removed) = crate::advise::write::write(&doc, &dir, formats, &args.targets.join(", "), &text)?;
    note_leftovers(&removed, args.quiet);
    if !args.quiet {
        out(&output::render(&doc))?;
        out(&wrote(&written))?;
    }
    open_output(args.charts.open.as_deref(), &written)
}
