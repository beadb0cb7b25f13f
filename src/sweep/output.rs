//! Sweep outputs: `sweep.json` and `sweep.csv` (one row per point: the parameter values, the demand, then
//! each metric's mean and 95 % interval), shard files, and the merge of shard files.
//!
//! A shard writes `sweep-shard-K-of-N.json`: the same document with only its points. Merging reads every
//! shard of a sweep, checks they belong together and cover every point once, and writes the files an
//! unsharded sweep writes, byte for byte (floats round-trip exactly through JSON).

use super::PointResult;
use crate::Error;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `sweep.json`, and each shard's file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepDoc {
    pub scenario: String,
    pub seed: u64,
    pub reps: u32,
    /// `grid` (every combination) or `zip`.
    pub combine: String,
    /// The swept keys, in order.
    pub params: Vec<String>,
    pub points_total: usize,
    /// `[K, N]` for shard K (0-based) of N; absent in a whole sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[usize; 2]>,
    pub points: Vec<PointResult>,
}

pub fn json_bytes(doc: &SweepDoc) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).expect("a sweep serialises: plain data, string keys");
    bytes.push(b'\n');
    bytes
}

pub fn csv_bytes(doc: &SweepDoc) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let metrics: Vec<&str> =
        doc.points.first().map_or(Vec::new(), |p| p.metrics.iter().map(|m| m.metric.as_str()).collect());
    let mut header: Vec<String> = doc.params.clone();
    header.push("demand_qps".into());
    for m in &metrics {
        header.extend([format!("{m}_mean"), format!("{m}_lo"), format!("{m}_hi")]);
    }
    w.write_record(&header).expect("CSV to memory");
    for p in &doc.points {
        let mut row = p.values.clone();
        row.push(p.demand_qps.map_or(String::new(), |d| d.to_string()));
        for e in &p.metrics {
            row.extend([e.mean.to_string(), e.lo.to_string(), e.hi.to_string()]);
        }
        w.write_record(&row).expect("CSV to memory");
    }
    w.into_inner().expect("CSV to memory")
}

pub fn shard_file_name(shard: usize, shards: usize) -> String {
    format!("sweep-shard-{}-of-{shards}.json", shard + 1)
}

/// Reads every `sweep-shard-*.json` in `dirs` and combines them into the whole sweep.
pub fn merge(dirs: &[PathBuf]) -> Result<SweepDoc, Error> {
    let mut files = Vec::new();
    for dir in dirs {
        let read = |e| Error::Read { path: dir.display().to_string(), source: e };
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("sweep-shard-") && n.ends_with(".json"))
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return Err(Error::BadInput("merge: no sweep-shard-*.json in the folders given".into()));
    }
    let mut docs = Vec::with_capacity(files.len());
    for f in &files {
        let bytes = std::fs::read(f).map_err(|e| Error::Read { path: f.display().to_string(), source: e })?;
        let doc: SweepDoc = serde_json::from_slice(&bytes)
            .map_err(|e| Error::BadInput(format!("{}: not a sweep shard: {e}", f.display())))?;
        docs.push((f, doc));
    }
    let (first_path, first) = &docs[0];
    let shards = first.shard.map_or(1, |s| s[1]);
    let mut seen = vec![None::<&Path>; shards];
    let mut points: Vec<PointResult> = Vec::with_capacity(first.points_total);
    for (path, doc) in &docs {
        let same = (&doc.scenario, doc.seed, doc.reps, &doc.combine, &doc.params, doc.points_total)
            == (&first.scenario, first.seed, first.reps, &first.combine, &first.params, first.points_total);
        let Some([k, n]) = doc.shard.filter(|s| s[1] == shards && same) else {
            return Err(Error::BadInput(format!(
                "merge: {} is not a shard of the same sweep as {}",
                path.display(),
                first_path.display()
            )));
        };
        if let Some(other) = seen[k].replace(path) {
            return Err(Error::BadInput(format!(
                "merge: shard {} of {n} is given twice ({} and {})",
                k + 1,
                other.display(),
                path.display()
            )));
        }
        points.extend(doc.points.iter().cloned());
    }
    if let Some(k) = seen.iter().position(Option::is_none) {
        return Err(Error::BadInput(format!("merge: shard {} of {shards} is missing", k + 1)));
    }
    points.sort_by_key(|p| p.point);
    if points.len() != first.points_total || points.iter().enumerate().any(|(i, p)| p.point != i) {
        return Err(Error::BadInput("merge: the shards do not cover every point exactly once".into()));
    }
    Ok(SweepDoc { shard: None, points, ..first.clone() })
}

/// Writes `sweep.json`, `sweep.csv` and the charts of a whole sweep into `dir`.
pub fn write_whole(doc: &SweepDoc, dir: &Path, with_charts: bool) -> Result<Vec<PathBuf>, Error> {
    let mut files = vec![("sweep.json".to_string(), json_bytes(doc)), ("sweep.csv".to_string(), csv_bytes(doc))];
    if with_charts {
        for (name, png) in super::chart::charts(doc) {
            let png = png.map_err(|message| Error::Chart { path: dir.join(name).display().to_string(), message })?;
            files.push((name.to_string(), png));
        }
    }
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        crate::report::write_atomic(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}
