//! `--param KEY=VALUES`: values parsed or refused, never a panic and never more than the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(param) = quotasim::sweep::params::parse_param(text) {
        assert!(param.values.len() <= quotasim::sweep::params::MAX_VALUES);
    }
});
