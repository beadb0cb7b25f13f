//! `quotasim advise scenarios/plan-shopping.toml --target 'throttle_rate<=1%'`, the README's purchase
//! example, on the machine's cores: every search (least QPS per API, most threads, the cheapest of the
//! offers' combinations), as the command runs it. Target: under 8 s on two cores.

use criterion::{Criterion, criterion_group, criterion_main};
use quotasim::advise::{self, Advisor, Searches};
use quotasim::scenario::Scenario;

fn plan_shopping(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/plan-shopping.toml");
    let text = std::fs::read_to_string(path).expect("the bundled scenario");
    let (sc, study) = Scenario::parse_study(&text, path).expect("a valid scenario");
    let targets = vec![advise::parse_target("throttle_rate<=1%").unwrap()];
    let reps = study.sweep.reps.unwrap_or(10);
    let mut group = c.benchmark_group("advise");
    group.sample_size(10);
    group.bench_function("plan_shopping", |b| {
        b.iter(|| {
            let advisor = Advisor::new(&sc, &study.offers, &targets, reps, false).unwrap();
            let searches = Searches { qps: true, threads: true, plans: true };
            advise::search_all(&advisor, searches, &text, path).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = plan_shopping
}
criterion_main!(benches);
