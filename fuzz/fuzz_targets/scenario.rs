//! Scenario text: parsing and validation never panic; a valid scenario's work estimate is a number.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(scenario) = quotasim::scenario::Scenario::parse(text, "fuzz.toml") {
            let work = quotasim::guard::estimate(&scenario);
            assert!(!work.attempts.is_nan());
        }
    }
});
