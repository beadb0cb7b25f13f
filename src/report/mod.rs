//! Report: turns a run's counts into what users read, without knowing how the run was made.
//!
//! [`Report::new`] builds the summary and time series once; the writers turn it into bytes
//! (`summary.json`, `summary.csv`, `timeseries.csv`, `billing.csv`, `timeline.png`, `report.html`, the
//! terminal table), and
//! [`write_outputs`] puts them in place as one set with a manifest written last (see [`outputs`]), so a
//! reader never sees half a file nor mistakes an interrupted run's files for a whole one.

pub mod billing;
pub mod chart;
pub mod files;
pub mod grid;
pub mod html;
pub mod outputs;
mod summary;
pub mod table;
pub mod verdict;

pub use outputs::{OutputSet, write_atomic};
pub use summary::{
    ApiEntry, BatchEntry, CALLERS_IN_JSON, CallerEntry, PhaseEntry, Report, Series, SubAccountRow, SubAccountRows,
    Summary, TOP_CALLERS, TopCallers, first_k,
};

use crate::Error;
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) and checks it can be written, before a long run rather than after.
pub fn prepare_dir(dir: &Path) -> Result<(), Error> {
    // The folder is the user's choice: one that cannot be made or written is a bad flag, not a failure.
    let fail = |source: std::io::Error| {
        Error::BadInput(format!("--out: cannot write {}: {source}; give a folder that can be written", dir.display()))
    };
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::BadInput(format!("--out: {} exists and is not a folder; give a folder", dir.display())));
    }
    std::fs::create_dir_all(dir).map_err(fail)?;
    // A probe of quotasim's own naming, created new (never through a planted link) and removed.
    outputs::probe_dir(dir).map_err(fail)
}

/// Renders every output of `report` into `dir` as one set (see [`outputs`]). Returns the paths written and
/// the leftover temporary files removed.
pub fn write_outputs(
    report: &Report,
    dir: &Path,
    charts: Option<chart::Formats>,
    scenario_text: &str,
    scenario_path: Option<&str>,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let mut set = OutputSet::new(dir, "run")?;
    set.add_two(
        ("summary.json", |w: &mut dyn std::io::Write| files::summary_json(report, w)),
        ("summary.csv", |w: &mut dyn std::io::Write| files::summary_csv(report, w)),
    )?;
    set.add("timeseries.csv", |w| files::timeseries_csv(report, w))?;
    set.add("billing.csv", |w| files::billing_csv(report, w))?;
    let mut svgs = Vec::new();
    if let Some(formats) = charts {
        svgs.push(chart::add_chart(&mut set, dir, "timeline", chart::timeline::timeline(report), formats)?);
    }
    set.add_bytes("report.html", html::run_page(report, &svgs, scenario_text, scenario_path).as_bytes())?;
    let removed = std::mem::take(&mut set.removed_leftovers);
    Ok((set.commit()?, removed))
}
