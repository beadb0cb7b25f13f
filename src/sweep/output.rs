//! Sweep outputs: `sweep.json` and `sweep.csv` (one row per point: the parameter values, the demand, then
//! each metric's mean and 95 % interval), shard files, and the merge of shard files.
//!
//! A shard writes `sweep-shard-K-of-N.json`: the same document with only its points. Merging reads every
//! shard of a sweep, checks they belong together and cover every point once, and writes the files an
//! unsharded sweep writes, byte for byte (floats round-trip exactly through JSON).

use super::PointResult;
use super::estimate::Estimate;
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
    // Every (account, API) any point reports, in order of first appearance; and the cost, if priced.
    let mut pairs: Vec<&str> = Vec::new();
    for p in &doc.points {
        for r in &p.by_pair {
            if !pairs.contains(&r.pair.as_str()) {
                pairs.push(&r.pair);
            }
        }
    }
    let priced = doc.points.iter().any(|p| p.cost.is_some());
    let mut header: Vec<String> = doc.params.clone();
    header.push("demand_qps".into());
    let columns = |prefix: &str, header: &mut Vec<String>| {
        for m in &metrics {
            header.extend([format!("{prefix}{m}_mean"), format!("{prefix}{m}_lo"), format!("{prefix}{m}_hi")]);
        }
    };
    columns("", &mut header);
    if priced {
        header.extend(["cost_mean".into(), "cost_lo".into(), "cost_hi".into()]);
    }
    for pair in &pairs {
        columns(&format!("{pair}:"), &mut header);
    }
    w.write_record(&header).expect("CSV to memory");
    let end = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    let cells = |e: &Estimate| [e.mean.to_string(), end(e.lo), end(e.hi)];
    for p in &doc.points {
        // A value that is not a number (a variant's name) is text a spreadsheet must not run.
        let text =
            |v: &String| if v.parse::<f64>().is_ok() { v.clone() } else { crate::text::csv_cell(v).into_owned() };
        let mut row: Vec<String> = p.values.iter().map(text).collect();
        row.push(p.demand_qps.map_or(String::new(), |d| d.to_string()));
        for e in &p.metrics {
            row.extend(cells(e));
        }
        if priced {
            match &p.cost {
                Some(c) => row.extend(cells(c)),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        for pair in &pairs {
            match p.by_pair.iter().find(|r| r.pair == *pair) {
                Some(r) => r.metrics.iter().for_each(|e| row.extend(cells(e))),
                None => row.extend(std::iter::repeat_n(String::new(), 3 * metrics.len())),
            }
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
        let doc = read_shard(f)?;
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

/// The largest shard file read.
pub const MAX_SHARD_BYTES: u64 = 256 << 20;

/// Reads and checks one shard file: a shard is input like any other, so every field the merge relies on is
/// checked, and an error names the file and the field.
pub fn read_shard(path: &Path) -> Result<SweepDoc, Error> {
    use std::io::Read;
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| Error::Read { path: name.clone(), source })?;
    let mut bytes = Vec::new();
    file.take(MAX_SHARD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read { path: name.clone(), source })?;
    if bytes.len() as u64 > MAX_SHARD_BYTES {
        return Err(Error::BadInput(format!("merge: {name}: larger than {} MiB", MAX_SHARD_BYTES >> 20)));
    }
    shard_from_bytes(&bytes, &name)
}

/// Parses and checks the bytes of a shard file named `name`.
pub fn shard_from_bytes(bytes: &[u8], name: &str) -> Result<SweepDoc, Error> {
    let doc: SweepDoc =
        serde_json::from_slice(bytes).map_err(|e| Error::BadInput(format!("merge: {name}: not a sweep shard: {e}")))?;
    check_shard(&doc).map_err(|(field, m)| Error::BadInput(format!("merge: {name}: {field}: {m}")))?;
    Ok(doc)
}

fn check_shard(doc: &SweepDoc) -> Result<(), (String, String)> {
    let field = |f: &str, m: String| Err((f.to_string(), m));
    if doc.reps == 0 {
        return field("reps", "must be at least 1".into());
    }
    if doc.combine != "grid" && doc.combine != "zip" {
        return field("combine", format!("`{}` is not valid; expected `grid` or `zip`", doc.combine));
    }
    if doc.params.is_empty() {
        return field("params", "must name at least one swept key".into());
    }
    if !(1..=super::MAX_POINTS).contains(&doc.points_total) {
        return field(
            "points_total",
            format!("{} is not valid; expected 1 to {}", doc.points_total, super::MAX_POINTS),
        );
    }
    let Some([k, n]) = doc.shard else { return field("shard", "missing: this is not a shard file".into()) };
    if !(1..=doc.points_total).contains(&n) || k >= n {
        return field(
            "shard",
            format!("[{k}, {n}] is not valid; expected [K, N] with K < N <= points_total ({})", doc.points_total),
        );
    }
    let names = super::metric_names();
    for (i, p) in doc.points.iter().enumerate() {
        let at = |f: &str| format!("points[{i}].{f}");
        if p.point >= doc.points_total || !super::in_shard(p.point, k, n) {
            return field(&at("point"), format!("{} is not a point of shard {} of {n}", p.point, k + 1));
        }
        if p.values.len() != doc.params.len() {
            return field(&at("values"), format!("has {} values for {} params", p.values.len(), doc.params.len()));
        }
        if p.axis.len() != doc.params.len() || p.axis.iter().any(|x| !x.is_finite()) {
            return field(&at("axis"), format!("needs {} finite numbers", doc.params.len()));
        }
        if p.demand_qps.is_some_and(|d| !d.is_finite()) {
            return field(&at("demand_qps"), "is not a finite number".into());
        }
        if p.metrics.len() != names.len() || p.metrics.iter().zip(&names).any(|(m, name)| m.metric != *name) {
            return field(&at("metrics"), format!("must list the metrics {}", names.join(", ")));
        }
        for (j, r) in p.by_pair.iter().enumerate() {
            if r.metrics.len() != names.len() || r.metrics.iter().zip(&names).any(|(m, name)| m.metric != *name) {
                return field(
                    &at(&format!("by_pair[{j}].metrics")),
                    format!("must list the metrics {}", names.join(", ")),
                );
            }
        }
    }
    Ok(())
}
