//! Sweep: many runs of one scenario over a grid of parameter values, in parallel, each point replicated.
//!
//! A point is the scenario with its parameters applied to the TOML and validated again; a replication is
//! that scenario with a seed derived from (scenario seed, point, replication). Runs go to a rayon pool
//! and come back in input order, so the output is the same bytes whatever the number of threads. A sweep
//! can be cut into shards (`--shard K/N`), each running a deterministic slice of the points; [`output`]
//! merges shard files into exactly what one machine would have written.

pub mod chart;
pub use crate::replicate::estimate;
pub mod findings;
pub mod output;
pub mod params;
pub mod write;

use crate::scenario::{Scenario, ScenarioError};
use crate::stats::Metrics;
use crate::workload::ClientModel;
use crate::{Error, time};
use estimate::{Estimate, estimate};
use params::Param;
use serde::{Deserialize, Serialize};

/// The most points a sweep may have, and the most runs (points × replications).
pub const MAX_POINTS: usize = 10_000;
pub const MAX_RUNS: usize = 1_000_000;

/// What to sweep: the parameters, grid or zip, and how many replications per point.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub params: Vec<Param>,
    /// Pair the parameters' values (all lists the same length) instead of taking every combination.
    pub zip: bool,
    pub reps: u32,
}

/// One point: its index in the whole sweep, the value of each parameter, and the validated scenario.
#[derive(Clone, Debug)]
pub struct Point {
    pub index: usize,
    pub values: Vec<toml::Value>,
    pub scenario: Scenario,
}

/// One point's results: the parameter values, what the scenario asks for, and each metric's estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub point: usize,
    /// The parameter values as written, in parameter order.
    pub values: Vec<String>,
    /// The parameter values as numbers for chart axes (durations in seconds; other text by position).
    pub axis: Vec<f64>,
    /// Calls per second the clients would make with no throttling: closed threads / (mean response +
    /// mean think) plus open rates (the Little's-law demand C/R); none when a cycle takes no time.
    pub demand_qps: Option<f64>,
    pub metrics: Vec<Estimate>,
    /// The same metrics per (account, API) in use, in the order of the scenario's quota pairs.
    #[serde(default)]
    pub by_pair: Vec<PairResult>,
    /// The bill over the run, summed over accounts, when anything is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Estimate>,
    /// The last completion over the clairvoyant bound's, when every replication has both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_bound: Option<Estimate>,
}

/// One (account, API)'s metrics at a point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    /// `account/API`.
    pub pair: String,
    pub metrics: Vec<Estimate>,
}

/// What one replication measured: the totals, each pair's, and the bill (None when nothing is priced).
struct RunValues {
    totals: Vec<f64>,
    by_pair: Vec<(String, Vec<f64>)>,
    cost: Option<f64>,
    /// The run's last completion over the clairvoyant bound's (see [`crate::bound`]), where both are known.
    x_bound: Option<f64>,
}

/// Values of one run: every metric of [`crate::metric::Metric::FLAT`], then the time-averaged limit.
fn metric_values(m: &Metrics, limit_qps: f64) -> Vec<f64> {
    crate::metric::flat(m).iter().map(|(_, v)| *v).chain([limit_qps]).collect()
}

/// The metrics a sweep reports per point, in the order of [`metric_values`].
pub fn metric_names() -> Vec<&'static str> {
    crate::metric::Metric::FLAT.iter().map(|k| k.name()).chain(["limit_qps"]).collect()
}

/// The sweep's points in order: every combination (first parameter slowest) or, with `zip`, the i-th
/// value of each. Each point's scenario is validated; an invalid one is an error naming the parameters.
pub fn points(base_text: &str, file: &str, spec: &SweepSpec) -> Result<Vec<Point>, Error> {
    let base: toml::Table =
        toml::from_str(base_text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
    let combos = combinations(spec)?;
    let mut out = Vec::with_capacity(combos.len());
    for (index, values) in combos.into_iter().enumerate() {
        let mut table = base.clone();
        for (param, value) in spec.params.iter().zip(&values) {
            let applied = match (param.key.as_str(), value) {
                (params::VARIANT_KEY, toml::Value::String(name)) => params::apply_variant(&mut table, name),
                (params::VARIANT_KEY, other) => Err(format!("`{}` is not a variant name", params::display(other))),
                (key, value) => params::apply(&mut table, key, value),
            };
            applied.map_err(|m| Error::BadInput(format!("--param {}: {m}", param.key)))?;
        }
        let text = toml::to_string(&table).expect("a TOML table serialises");
        let scenario = Scenario::parse(&text, file).map_err(|e| point_error(spec, &values, e))?;
        out.push(Point { index, values, scenario });
    }
    Ok(out)
}

/// `spec` with `variant=all` replaced by every variant of the scenario, the baseline first.
pub fn expand_variants(spec: &SweepSpec, base_text: &str) -> SweepSpec {
    let mut spec = spec.clone();
    for p in spec.params.iter_mut().filter(|p| p.key == params::VARIANT_KEY) {
        if p.values.iter().any(|v| v.as_str() == Some("all")) {
            let base: toml::Table = toml::from_str(base_text).unwrap_or_default();
            p.values = params::variant_names(&base).into_iter().map(toml::Value::String).collect();
        }
    }
    spec
}

fn point_error(spec: &SweepSpec, values: &[toml::Value], e: ScenarioError) -> Error {
    let at: Vec<String> =
        spec.params.iter().zip(values).map(|(p, v)| format!("{}={}", p.key, params::display(v))).collect();
    let culprit = spec.params.iter().find(|p| e.key.contains(p.key.rsplit('.').next().unwrap_or(&p.key)));
    let name = culprit.map_or_else(|| at.join(" "), |p| p.key.clone());
    Error::BadInput(format!("--param {name}: at {}: {}: {}", at.join(", "), e.key, e.message))
}

fn combinations(spec: &SweepSpec) -> Result<Vec<Vec<toml::Value>>, Error> {
    if spec.params.is_empty() {
        return Err(Error::BadInput(
            "a sweep needs at least one --param KEY=VALUES (or `param = [...]` under [sweep])".into(),
        ));
    }
    if spec.reps == 0 {
        return Err(Error::BadInput("--reps: must be at least 1".into()));
    }
    let lens: Vec<usize> = spec.params.iter().map(|p| p.values.len()).collect();
    let count = if spec.zip {
        if lens.iter().any(|&n| n != lens[0]) {
            let sizes: Vec<String> = spec.params.iter().map(|p| format!("{} has {}", p.key, p.values.len())).collect();
            return Err(Error::BadInput(format!("--zip: every parameter needs as many values ({})", sizes.join(", "))));
        }
        lens[0]
    } else {
        lens.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n)).unwrap_or(usize::MAX)
    };
    if count > MAX_POINTS || count.saturating_mul(spec.reps as usize) > MAX_RUNS {
        let keys: Vec<&str> = spec.params.iter().map(|p| p.key.as_str()).collect();
        return Err(Error::BadInput(format!(
            "--param {}: {count} points × {} replications is more than this sweep allows ({MAX_POINTS} points, \
                {MAX_RUNS} runs); use fewer values or shard a smaller grid",
            keys.join(" × "),
            spec.reps
        )));
    }
    Ok((0..count)
        .map(|i| {
            if spec.zip {
                return spec.params.iter().map(|p| p.values[i].clone()).collect();
            }
            let mut rest = i;
            let mut picked = vec![toml::Value::Integer(0); spec.params.len()];
            for (k, p) in spec.params.iter().enumerate().rev() {
                picked[k] = p.values[rest % p.values.len()].clone();
                rest /= p.values.len();
            }
            picked
        })
        .collect())
}

/// The scenario text with its `seed` replaced: every point's seed derives from the scenario's, so a new
/// seed is a new `seed` in the text the points are made from.
pub fn with_seed(text: &str, file: &str, seed: u64) -> Result<String, Error> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| Error::BadInput(format!("{file}: {}", e.message())))?;
    table.insert("seed".into(), toml::Value::Integer(seed as i64));
    Ok(toml::to_string(&table).expect("a TOML table serialises"))
}

/// The sweep to run: `params` (as `--param` or `[sweep] param` wrote them, named by `source` in errors),
/// each key once, with variants expanded from the scenario text.
pub fn spec_from(params: &[String], source: &str, zip: bool, reps: u32, text: &str) -> Result<SweepSpec, Error> {
    let params = params
        .iter()
        .map(|t| params::parse_param(t).map_err(|m| Error::BadInput(format!("{source} {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(twice) = params.iter().enumerate().find(|(i, p)| params[..*i].iter().any(|q| q.key == p.key)) {
        return Err(Error::BadInput(format!(
            "{source} {}: given twice; give each key once, with all its values (e.g. `{}=1,2,4`)",
            twice.1.key, twice.1.key
        )));
    }
    Ok(expand_variants(&SweepSpec { params, zip, reps }, text))
}

/// The work of every run of `points` together (the heaviest client named), held to the guard's limits.
pub fn check_work(points: &[Point], reps: u32, allow_large: bool) -> Result<(), Error> {
    let work =
        points.iter().map(|p| crate::guard::estimate(&p.scenario)).fold(crate::guard::Work::default(), |mut all, w| {
            all.attempts += w.attempts;
            all.memory = all.memory.max(w.memory);
            if all.heaviest.as_ref().is_none_or(|(_, a)| w.heaviest.as_ref().is_some_and(|(_, b)| b > a)) {
                all.heaviest = w.heaviest;
            }
            all
        });
    crate::guard::check(&work, f64::from(reps), allow_large, "the sweep")
}

pub use crate::replicate::seed_for;

/// Points `shard` of `shards` runs: every `shards`-th point starting at `shard` (0-based), so slow and
/// fast regions of a grid are spread over the shards.
pub fn in_shard(point: usize, shard: usize, shards: usize) -> bool {
    point % shards == shard
}

fn demand_qps(sc: &Scenario) -> Option<f64> {
    sc.clients
        .iter()
        .map(|c| match &c.model {
            ClientModel::Closed { threads, think, .. } | ClientModel::Batch { threads, think, .. } => {
                let cycle =
                    c.apis.weighted_mean(|a| time::secs_f64(sc.apis[a].latency.mean())) + time::secs_f64(think.mean());
                (cycle > 0.0).then(|| *threads as f64 / cycle)
            }
            ClientModel::Open { shape, .. } => Some(shape.expected_arrivals(sc.duration) / time::secs_f64(sc.duration)),
            ClientModel::Trace(_) => None,
        })
        .sum()
}

fn run_once(point: &Point, rep: u32) -> Result<RunValues, Error> {
    let mut sc = point.scenario.clone();
    sc.seed = seed_for(point.scenario.seed, point.index, rep);
    let n = crate::replicate::run(&sc, None)?;
    let name = |(account, api): (usize, usize)| format!("{}/{}", sc.accounts[account].name, sc.apis[api].name);
    let by_pair =
        n.by_pair.iter().zip(&n.mean_limits).map(|((p, m), limit)| (name(*p), metric_values(m, *limit))).collect();
    // `completion` is there only where some pair has a bound.
    let x_bound = match n.completion {
        Some(done) => {
            let bound = crate::bound::run(&sc, crate::engine::RunOptions::for_scenario(&sc))?;
            bound.completion().filter(|&b| b > 0.0).map(|b| time::secs_f64(done) / b)
        }
        _ => None,
    };
    Ok(RunValues { totals: metric_values(&n.totals, n.mean_limits.iter().sum()), by_pair, cost: n.cost, x_bound })
}

/// Axis values of a point: numbers as they are, durations in seconds, other text by its position among
/// the parameter's values.
fn axis(spec: &SweepSpec, values: &[toml::Value]) -> Vec<f64> {
    values
        .iter()
        .zip(&spec.params)
        .map(|(v, p)| match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            toml::Value::String(s) => time::parse_duration(s)
                .map(time::secs_f64)
                .unwrap_or_else(|_| p.values.iter().position(|x| x == v).unwrap_or(0) as f64),
            _ => p.values.iter().position(|x| x == v).unwrap_or(0) as f64,
        })
        .collect()
}

/// Runs every replication of `points` on `jobs` threads (all cores if `None`), calling `progress` after
/// each run. Results come back in point order.
pub fn run(
    spec: &SweepSpec,
    points: &[Point],
    jobs: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<PointResult>, Error> {
    let reps = spec.reps;
    let samples: Vec<RunValues> = crate::replicate::pool(jobs)?.install(|| {
        crate::replicate::each(points.len(), reps, |p, r| {
            let values = run_once(&points[p], r);
            progress();
            values
        })
    })?;
    Ok(points
        .iter()
        .enumerate()
        .map(|(p, point)| {
            let runs = &samples[p * reps as usize..(p + 1) * reps as usize];
            let estimates = |values: &dyn Fn(&RunValues) -> &[f64]| -> Vec<Estimate> {
                metric_names()
                    .iter()
                    .enumerate()
                    .map(|(m, name)| estimate(name, &runs.iter().map(|r| values(r)[m]).collect::<Vec<_>>()))
                    .collect()
            };
            let by_pair = runs[0]
                .by_pair
                .iter()
                .enumerate()
                .map(|(i, (pair, _))| PairResult {
                    pair: pair.clone(),
                    metrics: estimates(&|r: &RunValues| r.by_pair[i].1.as_slice()),
                })
                .collect();
            let costs: Option<Vec<f64>> = runs.iter().map(|r| r.cost).collect();
            let x_bound: Option<Vec<f64>> = runs.iter().map(|r| r.x_bound).collect();
            PointResult {
                point: point.index,
                values: point.values.iter().map(params::display).collect(),
                axis: axis(spec, &point.values),
                demand_qps: demand_qps(&point.scenario),
                metrics: estimates(&|r: &RunValues| r.totals.as_slice()),
                by_pair,
                cost: costs.map(|c| estimate("cost", &c)),
                x_bound: x_bound.map(|x| estimate("x_bound", &x)),
            }
        })
        .collect())
}
