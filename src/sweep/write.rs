//! A whole sweep's files put in place as one set: `sweep.json`, `sweep.csv`, the charts and `report.html`
//! (the verdict, the charts, the findings as a table, the scenario), with the set's manifest.

use super::output::{SweepDoc, csv_bytes, json_bytes};
use crate::Error;
use std::path::{Path, PathBuf};

/// Writes `sweep.json`, `sweep.csv` and the charts of a whole sweep into `dir` as one set with its
/// manifest. Returns the paths written and the leftover temporary files removed.
/// The findings (as the terminal shows them), the charts and the scenario text go into `report.html`.
pub fn write_whole(
    doc: &SweepDoc,
    dir: &Path,
    charts: Option<crate::report::chart::Formats>,
    scenario_text: Option<&str>,
    contour: f64,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let mut set = crate::report::OutputSet::new(dir, "sweep")?;
    set.add_bytes("sweep.json", &json_bytes(doc))?;
    set.add_bytes("sweep.csv", &csv_bytes(doc))?;
    let mut svgs = Vec::new();
    if let Some(formats) = charts {
        for (name, svg) in super::chart::charts(doc, contour) {
            svgs.push(crate::report::chart::add_chart(&mut set, dir, name, svg, formats)?);
        }
    }
    let findings = super::findings::findings(doc);
    let mut page = crate::report::html::Page::new(&format!("quotasim sweep — {}", doc.scenario));
    page.paragraph(&format!(
        "{} over {}, {} replications per point ({} points)",
        doc.scenario,
        doc.params.join(" × "),
        doc.reps,
        doc.points.len()
    ));
    page.verdict(std::slice::from_ref(&findings.verdict.trim_start_matches("Verdict: ").to_string()));
    page.charts(&svgs);
    page.heading(if super::findings::categorical(doc) { "Ranked" } else { "Points" });
    page.note(&findings.title);
    for n in &findings.notes {
        page.note(n);
    }
    page.grid(&findings.grid);
    page.scenario(scenario_text.unwrap_or("(merged from shard files, which do not keep the scenario text)"));
    let page = page.finish();
    set.add_bytes("report.html", page.as_bytes())?;
    let removed = std::mem::take(&mut set.removed_leftovers);
    Ok((set.commit()?, removed))
}

/// Writes shard `k` of `n` of a sweep as `sweep-shard-K-of-N.json` in `dir` (under the folder's lock).
pub fn write_shard(doc: &SweepDoc, dir: &Path, k: usize, n: usize) -> Result<PathBuf, Error> {
    let path = dir.join(super::output::shard_file_name(k, n));
    let _lock = crate::report::outputs::FolderLock::take(dir)?;
    crate::report::write_atomic(&path, &json_bytes(doc))?;
    Ok(path)
}
