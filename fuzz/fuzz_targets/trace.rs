//! Trace bytes in each format (the first byte picks it): every row is read or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quotasim::workload::trace::{ApiMapping, Format, TimeFormat, TraceSource, TraceSpec};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let (format, time_format) = match pick % 5 {
        0 => (Format::Delimited(b','), TimeFormat::Unix(1_000_000_000)),
        1 => (Format::Delimited(b'\t'), TimeFormat::Rfc3339),
        2 => (Format::AccessLog, TimeFormat::AccessLog),
        3 => (Format::JsonLines, TimeFormat::Unix(1_000)),
        _ => (Format::Delimited(b','), TimeFormat::DateTime(jiff::tz::Offset::UTC)),
    };
    let spec = TraceSpec {
        path: "fuzz".into(),
        format,
        time: "t".into(),
        time_format,
        caller: (pick & 0x10 != 0).then(|| if format == Format::AccessLog { "host".into() } else { "c".into() }),
        api: ApiMapping::Constant(0),
        latency: (pick & 0x20 != 0).then(|| ("ms".to_string(), 1e6)),
        // With a latency column, the same column (or an access log's byte count) is a cost too.
        cost: match (pick & 0x20 != 0, format) {
            (false, _) => Vec::new(),
            (true, Format::AccessLog) => vec!["bytes".into()],
            (true, _) => vec!["ms".into()],
        },
        shift: pick & 0x40 != 0,
        speed: 1.0,
    };
    let input: Box<dyn std::io::BufRead> = Box::new(std::io::Cursor::new(bytes.to_vec()));
    if let Ok(mut source) = TraceSource::from_reader(&spec, "fuzz".into(), input, 0, pick & 0x80 != 0) {
        while let Ok(Some(_)) = source.next_event() {}
    }
});
