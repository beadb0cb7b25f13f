//! The advice's files put in place as one set: `advice.json`, `advice.csv`, the charts and `report.html`,
//! with the set's manifest.

/// Writes `advice.json`, `advice.csv`, the charts (in `formats`, if any) and `report.html` into `dir` as
/// one set with its manifest. Returns the paths written and the leftover temporary files removed.
pub fn write(
    doc: &super::output::AdviceDoc,
    dir: &std::path::Path,
    formats: Option<crate::report::chart::Formats>,
    targets: &str,
    scenario_text: &str,
) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>), crate::Error> {
    let mut set = crate::report::OutputSet::new(dir, "advise")?;
    set.add_bytes("advice.json", &super::output::json_bytes(doc))?;
    set.add_bytes("advice.csv", &super::output::csv_bytes(doc))?;
    let mut svgs = Vec::new();
    if let Some(formats) = formats {
        for (name, svg) in super::chart::charts(doc) {
            svgs.push(crate::report::chart::add_chart(&mut set, dir, name, svg, formats)?);
        }
    }
    set.add_bytes("report.html", super::output::page(doc, targets, &svgs, scenario_text).as_bytes())?;
    let removed = std::mem::take(&mut set.removed_leftovers);
    Ok((set.commit()?, removed))
}
