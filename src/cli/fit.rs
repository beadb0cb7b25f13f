//! `quotasim fit`: the limiter a log of the platform's answers shows.

use super::trace::LogArgs;
use super::*;

#[derive(Debug, clap::Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The status column or key (access logs: `status`).
    #[arg(long, default_value = "status")]
    pub status: String,
    /// The column naming the account whose limit an attempt counts against: each account is fitted on
    /// its own [default: one account].
    #[arg(long, alias = "caller", value_name = "COL")]
    pub account: Option<String>,
    /// The column naming the API: each API is fitted on its own [default: one API].
    #[arg(long, value_name = "COL")]
    pub api_field: Option<String>,
    /// Statuses that mean throttled: whole values or classes like `4xx`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "429,throttled")]
    pub throttle_status: Vec<String>,
    /// Statuses that mean admitted [default: 2xx,admitted]; any other status is counted and left out.
    #[arg(long, value_delimiter = ',', default_value = "2xx,admitted")]
    pub ok_status: Vec<String>,
    /// Folder for the outputs [default: output/fit/<file name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not draw charts (report.html is still written, without them).
    #[arg(long)]
    pub no_chart: bool,
    /// Chart files: `png`, `svg` or `png,svg` (`--format` is the log's).
    #[arg(long, default_value = "png", value_name = "png,svg")]
    pub chart_format: String,
    /// Open report.html (or, with `--open chart`, the first chart) in the system's viewer when there is
    /// one; otherwise print its path.
    #[arg(long, num_args = 0..=1, default_missing_value = "report", value_name = "report|chart", value_parser = ["report", "chart"])]
    pub open: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(super) fn fit_command(args: &FitArgs) -> Result<(), Error> {
    use crate::fit::read::{LogSpec, Statuses, read};
    let charts = ChartArgs { no_chart: args.no_chart, format: args.chart_format.clone(), open: args.open.clone() };
    let formats = charts.formats()?;
    let (format, time_format) = args.log.reading()?;
    let zone_s = match args.log.zone.as_deref() {
        None => 0,
        Some(z) => crate::workload::trace::parse_offset(z).map_or(0, |o| o.seconds() as i64),
    };
    if let Some(both) = args.throttle_status.iter().find(|s| args.ok_status.contains(s)) {
        return Err(Error::BadInput(format!("--throttle-status and --ok-status both name `{both}`")));
    }
    let spec = LogSpec {
        path: args.log.file.clone(),
        format,
        time: args.log.time.clone(),
        time_format,
        status: args.status.clone(),
        account: args.account.clone(),
        api: args.api_field.clone(),
        statuses: Statuses { throttled: args.throttle_status.clone(), admitted: args.ok_status.clone() },
        skip_bad_rows: args.log.skip_bad_rows,
    };
    let file = args.log.file.display().to_string();
    let log = read(&spec).map_err(|e| match e.line {
        Some(line) => Error::BadInput(format!("{file}:{line}: {}", e.message)),
        None => Error::BadInput(format!("{file}: {}", e.message)),
    })?;
    if log.rows == 0 {
        let others: u64 = log.other_statuses.iter().map(|o| o.1).sum();
        return Err(Error::BadInput(format!(
            "{file}: no row is admitted or throttled ({others} rows of other statuses); say which statuses mean \
             what with --throttle-status and --ok-status"
        )));
    }
    let doc = crate::fit::fit(&log, &file, zone_s);
    let stem = args.log.file.file_stem().map_or("log".into(), |s| s.to_string_lossy().into_owned());
    let dir = args.out.clone().unwrap_or_else(|| Path::new("output").join("fit").join(stem));
    report::prepare_dir(&dir)?;
    let (written, removed) = crate::fit::output::write(&doc, &dir, formats)?;
    note_leftovers(&removed, args.quiet);
    if !args.quiet {
        out(&crate::fit::output::render_text(&doc))?;
        out(&wrote(&written))?;
    }
    open_output(args.open.as_deref(), &written)
}
