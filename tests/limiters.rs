//! The platform's limiters in whole scenarios, on schedules worked out by hand.

mod common;

use common::*;

/// Ten requests 0.2 s apart (0, 0.2, …, 1.8 s) against 2 QPS, no retries, under each limiter.
fn admitted(server: &str) -> (u64, f64) {
    let text = scenario_text(
        "2s",
        2,
        "{ dist = \"constant\", mean = \"10ms\" }",
        "10ms",
        &open_client("even", "main", 5.0, "constant", NO_RETRY),
    )
    .replace("[server]\n", &format!("[server]\n{server}\n"));
    let (_, report) = run_text(&text);
    (report.summary.totals.admitted, report.summary.totals.latency_s.max)
}

/// Fixed clock windows admit the first two of each second: 4. A sliding log of 1 s admits 0 and 0.2, then
/// 1.0 (the call at 0 has left (0, 1]) and 1.2: 4. A token bucket of 2 at 2 a second: 0, 0.2 (1.4 tokens),
/// 0.6 (1.2), 1.0 (1.0), 1.6 (1.2): 5; nginx with burst 1 and nodelay is the same bucket. Without nodelay
/// it admits the same five, each waiting its excess over 2 a second at the server: the excesses are 0,
/// 0.6, 0.8, 1.0 and 0.8, so the longest wait is 0.5 s (at 1.0 s), on top of the 10 ms response.
#[test]
fn ten_calls_against_each_limiter_by_hand() {
    assert_eq!(admitted("limiter = \"fixed-window\"").0, 4);
    assert_eq!(admitted("limiter = \"sliding-log\"").0, 4);
    // The counter: 0 and 0.2 in the first second. In the next, the first second's two weigh 2 × (1 − e)
    // at e seconds in, plus this second's count: at 1.0, 2 (refused); at 1.2, 1.6 (admitted); at 1.4,
    // 1.2 + 1 = 2.2 (refused); at 1.6, 0.8 + 1 = 1.8 (admitted); at 1.8, 0.4 + 2 = 2.4 (refused): 4.
    assert_eq!(admitted("limiter = \"sliding-counter\"").0, 4);
    assert_eq!(admitted("limiter = \"token-bucket\"").0, 5);
    assert_eq!(admitted("limiter = \"leaky-bucket\"\nburst = 1\nnodelay = true").0, 5);
    let (n, max) = admitted("limiter = \"leaky-bucket\"\nburst = 1");
    assert_eq!(n, 5);
    assert!((max - 0.51).abs() < 1e-9, "{max}");
}
