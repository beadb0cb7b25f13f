//! Report: turns a run's counts into what users read, without knowing how the run was made.
//!
//! [`Report::new`] builds the summary and time series once; the writers turn it into bytes
//! (`summary.json`, `summary.csv`, `timeseries.csv`, `billing.csv`, `timeline.png`, the terminal table), and
//! [`write_outputs`] puts each file in place atomically: written beside its final name, then renamed, so a
//! reader never sees half a file.

pub mod billing;
pub mod chart;
pub mod files;
mod summary;
pub mod table;

pub use summary::{ApiEntry, BatchEntry, PhaseEntry, Report, Series, SubAccountEntry, Summary};

use crate::Error;
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) and checks it can be written, before a long run rather than after.
pub fn prepare_dir(dir: &Path) -> Result<(), Error> {
    let fail = |source| Error::Write { path: dir.display().to_string(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".quotasim-write-check");
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Renders every output of `report` in memory, then writes each into `dir`. Returns the paths written.
pub fn write_outputs(report: &Report, dir: &Path, with_chart: bool) -> Result<Vec<PathBuf>, Error> {
    let mut outputs = vec![
        ("summary.json", files::summary_json(report)),
        ("summary.csv", files::summary_csv(report)),
        ("timeseries.csv", files::timeseries_csv(report)),
        ("billing.csv", files::billing_csv(report)),
    ];
    if with_chart {
        let path = dir.join("timeline.png");
        let png = chart::timeline::timeline_png(report)
            .map_err(|message| Error::Chart { path: path.display().to_string(), message })?;
        outputs.push(("timeline.png", png));
    }
    let mut written = Vec::with_capacity(outputs.len());
    for (name, bytes) in outputs {
        let path = dir.join(name);
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}
