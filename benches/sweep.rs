//! A sweep of 64 points × 10 replications on one thread and on two: the speed-up of `--jobs 2`.
//! The scenario is `scenarios/sweep-threads.toml` over 1 to 64 threads.

use criterion::{Criterion, criterion_group, criterion_main};
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
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = sweep_64_by_10
}
criterion_main!(benches);
