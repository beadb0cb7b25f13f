//! Validation by hand: a good scenario, and bad ones named at their key and line.

use super::*;

const GOOD: &str = r#"
name = "t"
seed = 3
start = "2026-11-26T09:00:00.25+08:00"
duration = "1m"

[[api]]
name = "CompareFace"
category = "face-body"
latency = { dist = "exponential", mean = "500ms" }

[[account]]
name = "acme"

[[client]]
name = "w"
account = "acme"
api = "CompareFace"
model = "closed"
threads = 4
"#;

#[test]
fn a_good_scenario_validates_with_defaults() {
    let s = Scenario::parse(GOOD, "good.toml").unwrap();
    assert_eq!(s.duration, 60 * NANOS_PER_SEC);
    assert_eq!(s.apis[0].payg_qps, 2);
    assert_eq!(s.clients[0].retry, RetryPolicy::PLATFORM_ADVICE);
    assert_eq!(s.sub_accounts[0].name, MAIN_SUB_ACCOUNT);
    assert_eq!(s.start.as_nanosecond().rem_euclid(NANOS_PER_SEC as i128), 250_000_000);
    assert_eq!(s.apis[0].limiter, LimiterSpec::platform());
    assert_eq!(s.throttle_latency, DEFAULT_THROTTLE_LATENCY);
}

fn error_of(text: &str) -> ScenarioError {
    Scenario::parse(text, "bad.toml").unwrap_err()
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let e = error_of(&GOOD.replace("threads = 4", "threads = 4\nthraeds = 5"));
    assert_eq!((e.line, e.key.as_str()), (21, "client[0].thraeds"));
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn a_run_past_the_calendars_end_is_refused() {
    let e = error_of(&GOOD.replace("2026-11-26T09:00:00.25+08:00", "9999-12-30T21:00:00Z").replace("\"1m\"", "\"2h\""));
    assert_eq!((e.line, e.key.as_str()), (5, "duration"));
}

#[test]
fn zero_threads_is_named_with_its_line() {
    let e = error_of(&GOOD.replace("threads = 4", "threads = 0"));
    assert_eq!((e.line, e.key.as_str()), (20, "client[0].threads"));
    assert_eq!(
        e.to_string(),
        "bad.toml:20: client[0].threads: 0 is not valid; expected a whole number from 1 to 1000000"
    );
}
