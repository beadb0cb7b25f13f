//! Shard files: parsed and checked field by field, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = quotasim::sweep::output::shard_from_bytes(data, "fuzz.json");
});
