//! Durations, RFC 3339 instants and every trace time format: an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quotasim::workload::trace::TimeFormat;

fuzz_target!(|text: &str| {
    let _ = quotasim::time::parse_duration(text);
    let _ = quotasim::time::parse_instant(text);
    for name in ["unix-s", "unix-ms", "unix-us", "unix-ns", "rfc3339", "datetime"] {
        let format = TimeFormat::parse(name, jiff::tz::Offset::UTC).expect("a known format");
        let _ = format.read(text);
    }
    let _ = TimeFormat::AccessLog.read(text);
    let _ = quotasim::workload::trace::parse_offset(text);
});
