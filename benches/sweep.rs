//! A sweep of 64 points × 10 replications on one thread and on two: the speed-up of `--jobs 2`; and
//! `engine_runs_alone`, the same 640 runs as bare `engine::run` calls on scenarios prepared beforehand
//! (the replications' seeds set, nothing read from the runs): what a replication costs the sweep beyond
//! its simulation. The scenario is `scenarios/sweep-threads.toml` over 1 to 64 threads.

use criterion::{Criterion, criterion_group, criterion_main};
use quotasim::engine::{self, RunOptions};
use quotasim::replicate::seed_for;
use quotasim::sweep::{self, SweepSpec, params::parse_param};
use std::hint::black_box;

fn sweep_64_by_10(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/sweep-threads.toml");
    let text = std::fs::read_to_string(path).expect("the bundled scenario");
    let spec = SweepSpec { params: vec![parse_param("client.workers.threads=1..=64").unwrap()], zip: false, reps: 10 };
    let points = sweep::points(&text, path, &spec).expect("a valid sweep");
    let mut group = c.benchmark_group("sweep_64_points_10_reps");
    group.sample_size(10);
    for jobs in [1, 2] {
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| sweep::run(&spec, black_box(&points), Some(jobs), &|| ()).unwrap())
        });
    }
    let runs: Vec<_> = points
        .iter()
        .flat_map(|p| {
            (0..spec.reps).map(move |r| {
                let mut sc = p.scenario.clone();
                sc.seed = seed_for(p.scenario.seed, p.index, r);
                sc
            })
        })
        .collect();
    group.bench_function("engine_runs_alone", |b| {
        b.iter(|| {
            for sc in &runs {
                black_box(engine::run(sc, RunOptions::for_scenario(sc)).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = sweep_64_by_10
}
criterion_main!(benches);
