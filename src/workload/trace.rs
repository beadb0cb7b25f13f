//! Trace replay: recorded request logs read as a stream, a few rows ahead of the engine, in constant memory
//! whatever their length.
//!
//! Formats: CSV or TSV with a header (columns named in the scenario), web-server access logs in Common or
//! Combined Log Format, and JSON Lines. A row gives a time, and optionally a caller (mapped to a
//! sub-account), an API field (mapped to an API by prefix rules or by name) and a response time.
//! [`TraceSource`] turns rows into [`TraceEvent`]s in simulated time: shifted so the first row falls at
//! the scenario's start (or kept at their own instants), and sped up or slowed down by `speed`.

use super::callers::CallerIndex;
use super::lines::CANNOT_READ;
use super::lines::line_error;
pub use super::lines::{LineError, LineReader, MAX_ROW_BYTES, Splitter};
use crate::time::{NANOS_PER_SEC, Nanos};
use foldhash::HashMap;
use jiff::Timestamp;
use jiff::tz::Offset;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The longest response time a row may give: 30 days.
pub const MAX_RESPONSE_NS: Nanos = 30 * 86_400 * NANOS_PER_SEC;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with a header row.
    Delimited(u8),
    /// Common or Combined Log Format (`host ident user [time] "request" status bytes ["referer" "agent"]`).
    AccessLog,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// `csv`, `tsv`, `clf` (also `combined`), `jsonl`; or `None`.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "csv" => Some(Format::Delimited(b',')),
            "tsv" => Some(Format::Delimited(b'\t')),
            "clf" | "combined" => Some(Format::AccessLog),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format a file's extension suggests.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Some(Format::Delimited(b',')),
            Some("tsv" | "tab") => Some(Format::Delimited(b'\t')),
            Some("log") => Some(Format::AccessLog),
            Some("jsonl" | "ndjson") => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// How a time field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds, milliseconds, microseconds or nanoseconds since the Unix epoch (decimals allowed).
    Unix(u64),
    Rfc3339,
    /// `YYYY-MM-DD HH:MM:SS[.fraction]` in a stated offset.
    DateTime(Offset),
    /// An access log's `[01/Aug/1995:00:00:01 -0400]`.
    AccessLog,
}

impl TimeFormat {
    pub const NAMES: &'static str = "`unix-s`, `unix-ms`, `unix-us`, `unix-ns`, `rfc3339`, `datetime`";

    pub fn parse(name: &str, zone: Offset) -> Option<TimeFormat> {
        match name {
            "unix-s" => Some(TimeFormat::Unix(NANOS_PER_SEC)),
            "unix-ms" => Some(TimeFormat::Unix(1_000_000)),
            "unix-us" => Some(TimeFormat::Unix(1_000)),
            "unix-ns" => Some(TimeFormat::Unix(1)),
            "rfc3339" => Some(TimeFormat::Rfc3339),
            "datetime" => Some(TimeFormat::DateTime(zone)),
            _ => None,
        }
    }

    /// Unix nanoseconds of `text`, which must name an instant the calendar holds (years -9999 to 9999).
    #[inline]
    pub fn read(self, text: &str) -> Result<i128, String> {
        if let TimeFormat::Unix(scale) = self
            && let Some(n) = plain_digits(text)
        {
            let ns = n as i128 * scale as i128;
            if in_calendar(ns) {
                return Ok(ns);
            }
        }
        self.read_any(text)
    }

    /// [`TimeFormat::read`] for any text, the plain digits' shortcut aside.
    fn read_any(self, text: &str) -> Result<i128, String> {
        let text = text.trim();
        let bad = |what: &str| format!("`{text}` is not {what}");
        let ns = match self {
            TimeFormat::Unix(scale) => {
                if let Ok(n) = text.parse::<i64>() {
                    n as i128 * scale as i128
                } else if let Some(ns) = exact_decimal(text, scale) {
                    ns
                } else {
                    let f: f64 = text.parse().map_err(|_| bad("a Unix time"))?;
                    let ns = (f * scale as f64).round();
                    // Checked as a float, before any cast could saturate or wrap.
                    if !(ns.is_finite() && ns.abs() <= i64::MAX as f64 * 1e9) {
                        return Err(out_of_range(text));
                    }
                    ns as i128
                }
            }
            TimeFormat::Rfc3339 => text
                .parse::<Timestamp>()
                .map(|t| t.as_nanosecond())
                .map_err(|_| bad("an RFC 3339 instant with an offset"))?,
            TimeFormat::DateTime(offset) => {
                let dt: jiff::civil::DateTime =
                    text.parse().map_err(|_| bad("a date and time like `2023-11-16 18:15:46.68`"))?;
                offset.to_timestamp(dt).map(|t| t.as_nanosecond()).map_err(|_| bad("a representable instant"))?
            }
            TimeFormat::AccessLog => jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", text)
                .and_then(|t| t.to_timestamp())
                .map(|t| t.as_nanosecond())
                .map_err(|_| bad("an access-log time like `01/Aug/1995:00:00:01 -0400`"))?,
        };
        if !in_calendar(ns) {
            return Err(out_of_range(text));
        }
        Ok(ns)
    }
}

/// A decimal `[-]digits.digits` times `scale` nanoseconds, exactly, rounded half away from zero to the
/// nanosecond (a float would be off by up to a few hundred ns at today's Unix times in ns: enough to move
/// an attempt across a window's edge in a log of whole milliseconds). None for anything else (exponents,
/// more than 18 digits either side), left to the float reading.
fn exact_decimal(text: &str, scale: u64) -> Option<i128> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = body.split_once('.')?;
    let digits = |s: &str| s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let denominator = 10i128.pow(fraction.len() as u32);
    let numerator: i128 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    let scaled = numerator * scale as i128;
    let ns = whole * scale as i128 + (scaled + denominator / 2) / denominator;
    Some(if negative { -ns } else { ns })
}

/// `text`'s value when it is 1 to 19 ASCII digits and nothing else (as most Unix times in a log are) and
/// fits an `i64`: read in one pass (19 digits cannot overflow a `u64`), where the general reading trims,
/// takes a sign and checks each digit for overflow. Anything else is left to it, so both give the same
/// value and the same errors.
#[inline]
fn plain_digits(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let (mut n, mut rest) = (0u64, bytes);
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        n = n * 100_000_000 + eight_digits(*chunk)?;
        rest = tail;
    }
    for &b in rest {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + digit as u64;
    }
    i64::try_from(n).ok()
}

/// The value of eight ASCII digits, the first the most significant, read at once in a `u64`; `None` if
/// one is not a digit.
#[inline]
fn eight_digits(chunk: [u8; 8]) -> Option<u64> {
    let v = u64::from_le_bytes(chunk).wrapping_sub(0x3030_3030_3030_3030);
    // A digit's byte is now 0 to 9: its high half is clear, and stays clear with 6 added. Any other byte
    // (a byte below `0` borrowing from the next one, which is then also counted out) sets one.
    if (v | v.wrapping_add(0x0606_0606_0606_0606)) & 0xf0f0_f0f0_f0f0_f0f0 != 0 {
        return None;
    }
    // Pairs of digits, then fours, then the eight: each step multiplies the higher half by 10, 100,
    // 10^4 and adds the lower.
    let v = ((v & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00ff_00ff_00ff_00ff).wrapping_mul(6_553_601)) >> 16;
    Some(((v & 0x0000_ffff_0000_ffff).wrapping_mul(42_949_672_960_001)) >> 32)
}

fn in_calendar(ns: i128) -> bool {
    (Timestamp::MIN.as_nanosecond()..=Timestamp::MAX.as_nanosecond()).contains(&ns)
}

fn out_of_range(text: &str) -> String {
    format!("`{text}` is outside the calendar (years -9999 to 9999)")
}

/// `Z`, `UTC`, `+08:00`, `-0530`.
pub fn parse_offset(text: &str) -> Option<Offset> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Some(Offset::UTC);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3_600 + m * 60)).ok()
}

/// The format and time format a trace is read with: `format` by name or else from the file's extension,
/// `time_format` by name in offset `zone` (default UTC); access logs carry their own time format. An error
/// names the setting at fault (`format`, `path`, `zone` or `time_format`) and says what would be valid.
pub fn reading(
    path: &Path,
    format: Option<&str>,
    time_format: Option<&str>,
    zone: Option<&str>,
) -> Result<(Format, TimeFormat), (&'static str, String)> {
    let format = match format {
        Some(name) => Format::parse(name)
            .ok_or(("format", format!("`{name}` is not valid; expected `csv`, `tsv`, `clf`, `jsonl`")))?,
        None => Format::from_path(path).ok_or((
            "path",
            "cannot tell the format from the file's extension: give a format (`csv`, `tsv`, `clf`, `jsonl`)"
                .to_string(),
        ))?,
    };
    let zone = match zone {
        None => Offset::UTC,
        Some(z) => parse_offset(z).ok_or(("zone", format!("`{z}` is not an offset like `+08:00` or `UTC`")))?,
    };
    let time_format = match (format, time_format) {
        (Format::AccessLog, None) => TimeFormat::AccessLog,
        (Format::AccessLog, Some(_)) => {
            return Err(("time_format", "an access log's time has its own format; leave the time format out".into()));
        }
        (_, None) => return Err(("time_format", format!("needed: one of {}", TimeFormat::NAMES))),
        (_, Some(name)) => TimeFormat::parse(name, zone)
            .ok_or(("time_format", format!("`{name}` is not valid; expected one of {}", TimeFormat::NAMES)))?,
    };
    Ok((format, time_format))
}

/// A response time written as a number of `unit` nanoseconds: from 0 to [`MAX_RESPONSE_NS`].
fn response_time(text: &str, unit: f64) -> Result<Nanos, String> {
    let v: f64 = text.trim().parse().map_err(|_| format!("response time `{text}` is not a number"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("response time `{text}` must be >= 0"));
    }
    let ns = (v * unit).round();
    if ns > MAX_RESPONSE_NS as f64 {
        return Err(format!("response time `{text}` is more than 30 days"));
    }
    Ok(ns as Nanos)
}

/// How a row's API is found.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiMapping {
    /// Every row calls this API.
    Constant(usize),
    /// The field's value picks the API: the first rule whose prefix it starts with, else `default`, else
    /// the API of that exact name (`names`).
    Field { field: String, rules: Vec<(String, usize)>, default: Option<usize>, names: HashMap<String, usize> },
}

/// A map from API names to their index, for [`ApiMapping::Field`].
pub fn api_names<'a>(names: impl Iterator<Item = (&'a str, usize)>) -> HashMap<String, usize> {
    names.map(|(n, i)| (n.to_string(), i)).collect()
}

impl ApiMapping {
    /// Every API the mapping can give.
    pub fn apis(&self) -> Vec<usize> {
        let mut out = match self {
            ApiMapping::Constant(a) => vec![*a],
            ApiMapping::Field { rules, default, names, .. } => {
                let mut v: Vec<usize> = rules.iter().map(|r| r.1).chain(*default).collect();
                if rules.is_empty() && default.is_none() {
                    v.extend(names.values().copied());
                }
                v
            }
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What a trace client replays and how.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpec {
    pub path: PathBuf,
    pub format: Format,
    /// The time column or key (ignored for access logs).
    pub time: String,
    pub time_format: TimeFormat,
    /// The column or key naming the caller; each distinct caller becomes a sub-account.
    pub caller: Option<String>,
    pub api: ApiMapping,
    /// A response-time column and its unit in nanoseconds; rows then keep their own response times.
    pub latency: Option<(String, f64)>,
    /// Columns (or keys) whose sum is a row's cost in units; empty when rows have none.
    pub cost: Vec<String>,
    /// Move the first row to the scenario's start (else rows keep their own instants).
    pub shift: bool,
    /// Replay `speed` times faster (0.5: twice as slow).
    pub speed: f64,
}

/// One row, ready for the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub at: Nanos,
    /// A caller's index in the source's caller list, or `None` when the spec maps no caller.
    pub caller: Option<usize>,
    pub api: usize,
    pub latency: Option<Nanos>,
    pub cost: Option<u64>,
    /// The row's line in its file (1-based), for a per-request listing.
    pub line: u64,
}

/// A trace file that cannot be read, or a bad row: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct TraceError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

/// Field positions of a delimited file, found from its header.
struct Columns {
    time: usize,
    caller: Option<usize>,
    api: Option<usize>,
    latency: Option<usize>,
    cost: Vec<usize>,
}

/// The fields of one row, borrowed from the reader's buffers.
struct Fields<'a> {
    time: &'a str,
    caller: Option<&'a str>,
    api: Option<&'a str>,
    latency: Option<&'a str>,
    /// The sum of the cost columns, already read.
    cost: Option<u64>,
}

/// Reads a trace's rows in file order and maps them to [`TraceEvent`]s.
pub struct TraceSource {
    spec: TraceSpec,
    label: String,
    lines: LineReader,
    /// Delimited files: the splitter and the columns the mapping reads.
    delimited: Option<(Splitter, Columns)>,
    skip_bad_rows: bool,
    state: RowState,
    /// Rows read ahead of the engine, oldest first (see [`TraceSource::read_ahead`]).
    ahead: std::collections::VecDeque<Ahead>,
    /// The counts as of the event last returned.
    counts: Counts,
    /// Where the name of the event last returned's caller is in the batch's names.
    last_caller: Option<(u32, u32)>,
}

/// How many rows are read, and their callers looked up, at a time.
const AHEAD: usize = 16;

/// One row read ahead: what `next_event` will return for it, where its caller's name is in the batch's
/// names, and the counts as they stand once it is read.
struct Ahead {
    result: Result<Option<TraceEvent>, TraceError>,
    caller: Option<(u32, u32)>,
    counts: Counts,
}

/// Rows read, rows before the start, malformed rows skipped and distinct callers, so far.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    rows: u64,
    before_start: u64,
    skipped: u64,
    callers: u64,
}

/// What the rows read so far have established; apart from the reader so a row's borrowed fields can be
/// mapped without copying them.
struct RowState {
    /// Unix nanoseconds that simulated time 0 stands for: the first row's time when shifting, else the
    /// scenario's start.
    origin: Option<i128>,
    last: i128,
    speed: f64,
    /// Each distinct caller's number, by name.
    caller_index: CallerIndex,
    /// The callers' names of the rows being read ahead, one after another, their hashes, and where the
    /// last row's name is.
    names: String,
    hashes: Vec<u64>,
    caller: Option<(u32, u32)>,
    /// Rows read, before the start and skipped so far (the callers are counted as they are looked up).
    counts: Counts,
    last_api: LastApi,
}

/// The API the last mapped field named, and that field: a log's rows mostly name a few APIs, so a row
/// naming the same as the row before is mapped by comparing it, not by the rules and the names' table.
#[derive(Default)]
struct LastApi {
    field: String,
    api: Option<usize>,
}

impl LastApi {
    #[inline]
    fn map(&mut self, mapping: &ApiMapping, field: Option<&str>) -> Result<usize, String> {
        let ApiMapping::Field { .. } = mapping else { return map_api(mapping, field) };
        let value = field.unwrap_or_default();
        if let Some(api) = self.api
            && self.field == value
        {
            return Ok(api);
        }
        let api = map_api(mapping, field)?;
        self.field.clear();
        self.field.push_str(value);
        self.api = Some(api);
        Ok(api)
    }
}

/// A trace file opened for buffered reading; an error starts with [`CANNOT_READ`].
pub fn open_file(path: &Path) -> Result<Box<dyn BufRead>, String> {
    let file = File::open(path).map_err(|e| format!("{CANNOT_READ}: {e}"))?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
}

/// The header of a delimited trace file.
pub fn header(path: &Path, delimiter: u8) -> Result<Vec<String>, String> {
    read_header(&mut LineReader::new(open_file(path)?), delimiter)
}

/// The header row of a delimited file: its column names.
pub fn read_header(lines: &mut LineReader, delimiter: u8) -> Result<Vec<String>, String> {
    let line = lines.next_line().map_err(line_error)?.ok_or("the file is empty: a header row is needed")?;
    let mut splitter = Splitter::new(delimiter);
    splitter.split(line)?;
    (0..splitter.len())
        .map(|i| {
            std::str::from_utf8(splitter.get(i).unwrap_or_default())
                .map(str::to_string)
                .map_err(|_| "the header is not UTF-8 text".to_string())
        })
        .collect()
}

fn position(header: &[String], name: &str) -> Result<usize, String> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("no column `{name}`; the header has {}", header.join(", ")))
}

impl TraceSource {
    /// Opens the spec's file; `start` is the scenario's start as Unix nanoseconds.
    pub fn open(spec: &TraceSpec, start: i128, skip_bad_rows: bool) -> Result<TraceSource, TraceError> {
        let label = spec.path.display().to_string();
        let input = open_file(&spec.path).map_err(|message| TraceError { file: label.clone(), line: 0, message })?;
        TraceSource::from_reader(spec, label, input, start, skip_bad_rows)
    }

    /// Reads a trace from `input`, named `label` in errors.
    pub fn from_reader(
        spec: &TraceSpec,
        label: String,
        input: Box<dyn BufRead>,
        start: i128,
        skip_bad_rows: bool,
    ) -> Result<TraceSource, TraceError> {
        let mut lines = LineReader::new(input);
        let delimited = match spec.format {
            Format::Delimited(delimiter) => {
                let fail = |message| TraceError { file: label.clone(), line: 1, message };
                let header = read_header(&mut lines, delimiter).map_err(fail)?;
                let find = |name: &str| position(&header, name).map_err(fail);
                let api = match &spec.api {
                    ApiMapping::Field { field, .. } => Some(find(field)?),
                    ApiMapping::Constant(_) => None,
                };
                let columns = Columns {
                    time: find(&spec.time)?,
                    caller: spec.caller.as_deref().map(find).transpose()?,
                    api,
                    latency: spec.latency.as_ref().map(|(f, _)| find(f)).transpose()?,
                    cost: spec.cost.iter().map(|f| find(f)).collect::<Result<_, _>>()?,
                };
                Some((Splitter::new(delimiter), columns))
            }
            _ => None,
        };
        let state = RowState {
            origin: (!spec.shift).then_some(start),
            last: i128::MIN,
            speed: spec.speed,
            caller_index: CallerIndex::default(),
            names: String::new(),
            hashes: Vec::new(),
            caller: None,
            counts: Counts::default(),
            last_api: LastApi::default(),
        };
        Ok(TraceSource {
            spec: spec.clone(),
            label,
            lines,
            delimited,
            skip_bad_rows,
            state,
            ahead: Default::default(),
            counts: Counts::default(),
            last_caller: None,
        })
    }

    /// Unix nanoseconds of simulated time 0, once known (at the first row when shifting).
    pub fn origin(&self) -> Option<i128> {
        self.state.origin
    }

    /// How many distinct callers the rows returned so far name.
    pub fn caller_count(&self) -> usize {
        self.counts.callers as usize
    }

    /// The name of the caller of the event last returned ("" if it names none).
    pub fn caller_name(&self) -> &str {
        let (from, to) = self.last_caller.unwrap_or((0, 0));
        &self.state.names[from as usize..to as usize]
    }

    /// Rows returned (malformed ones not counted).
    pub fn rows(&self) -> u64 {
        self.counts.rows
    }

    /// Rows before the scenario's start, not replayed.
    pub fn before_start(&self) -> u64 {
        self.counts.before_start
    }

    /// Malformed rows skipped.
    pub fn skipped(&self) -> u64 {
        self.counts.skipped
    }

    /// The next row as an event, `None` at the end of the file. A malformed row is an error naming its
    /// line, or, when skipping bad rows, is counted and passed over.
    pub fn next_event(&mut self) -> Result<Option<TraceEvent>, TraceError> {
        if self.ahead.is_empty() {
            self.read_ahead();
        }
        let ahead = self.ahead.pop_front().expect("reading ahead reads at least one row");
        self.counts = ahead.counts;
        self.last_caller = ahead.caller;
        ahead.result
    }

    /// Reads up to [`AHEAD`] rows (fewer at the end of the file or at an error, which stays in its place),
    /// then numbers their callers in one batch ([`CallerIndex::number_all`]; each name's slot was asked
    /// for as its row was read), whose cache misses overlap,
    /// where one look-up a row, between the engine's work, waits for each in turn (with 10^5 callers most
    /// of a row's time). Callers are numbered in row order as before, and each row's counts are kept with
    /// it, so what the engine sees does not change.
    fn read_ahead(&mut self) {
        self.state.names.clear();
        self.state.hashes.clear();
        while self.ahead.len() < AHEAD {
            let result = self.read_event();
            let last = !matches!(result, Ok(Some(_)));
            let caller = self.state.caller.take();
            self.ahead.push_back(Ahead { result, caller, counts: self.state.counts });
            if last {
                break;
            }
        }
        let RowState { names, hashes, caller_index, .. } = &mut self.state;
        let mut batch = [""; AHEAD];
        let mut numbers = [0; AHEAD];
        let named = self.ahead.iter().filter_map(|a| a.caller.filter(|_| matches!(a.result, Ok(Some(_)))));
        let mut n = 0;
        for (name, (from, to)) in batch.iter_mut().zip(named) {
            *name = &names[from as usize..to as usize];
            n += 1;
        }
        let mut callers = caller_index.count();
        caller_index.number_all(&batch[..n], hashes, &mut numbers[..n]);
        let mut numbers = numbers.iter();
        for ahead in &mut self.ahead {
            if let (Ok(Some(event)), Some(_)) = (&mut ahead.result, ahead.caller) {
                let number = *numbers.next().expect("a number for each row naming a caller");
                // Numbers are given in row order: a new caller's is the count so far.
                callers = callers.max(number + 1);
                event.caller = Some(number);
            }
            ahead.counts.callers = callers as u64;
        }
    }

    /// The next row's event, its caller's name left in `names` for [`TraceSource::read_ahead`].
    fn read_event(&mut self) -> Result<Option<TraceEvent>, TraceError> {
        loop {
            match self.next_row() {
                Ok(None) => return Ok(None),
                Ok(Some(Some(event))) => return Ok(Some(TraceEvent { line: self.lines.line, ..event })),
                Ok(Some(None)) => continue,
                // A file that cannot be read (or is not a trace) stays an error: skipping would only meet
                // it again.
                Err(message) if self.skip_bad_rows && !message.starts_with(CANNOT_READ) => {
                    self.state.counts.skipped += 1
                }
                Err(message) => return Err(TraceError { file: self.label.clone(), line: self.lines.line, message }),
            }
        }
    }

    /// `Ok(None)` at the end; `Ok(Some(None))` for a blank row or one before the scenario's start.
    fn next_row(&mut self) -> Result<Option<Option<TraceEvent>>, String> {
        let spec = &self.spec;
        let Some(line) = self.lines.next_line().map_err(line_error)? else { return Ok(None) };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(None));
        }
        let fields = match &mut self.delimited {
            Some((splitter, columns)) => {
                splitter.split(line)?;
                let splitter = &*splitter;
                let get = |i: usize| -> Result<&str, String> {
                    splitter
                        .get_str(i)
                        .ok_or_else(|| format!("the row has {} fields, too few for the mapping", splitter.len()))?
                        .map_err(|_| format!("field {} is not UTF-8 text", i + 1))
                };
                let mut cost = None;
                for (&i, name) in columns.cost.iter().zip(&spec.cost) {
                    cost = Some(add_units(cost, name, get(i)?, false)?);
                }
                Fields {
                    time: get(columns.time)?,
                    caller: columns.caller.map(get).transpose()?,
                    api: columns.api.map(get).transpose()?,
                    latency: columns.latency.map(get).transpose()?,
                    cost,
                }
            }
            None => {
                let text = std::str::from_utf8(line)
                    .map_err(|e| format!("the line is not UTF-8 text (at byte {})", e.valid_up_to() + 1))?;
                match spec.format {
                    Format::AccessLog => access_log_fields(text, spec)?,
                    _ => return json_row(spec, text, &mut self.state),
                }
            }
        };
        let time = spec.time_format.read(fields.time)?;
        let latency = match (fields.latency, &spec.latency) {
            (Some(text), Some((_, unit))) => Some(response_time(text, *unit)?),
            _ => None,
        };
        let api = self.state.last_api.map(&spec.api, fields.api)?;
        self.state.event(time, fields.caller, api, latency, fields.cost)
    }
}

/// A JSON Lines row's value at `key` as text: a string, or a number as written.
pub fn json_field(object: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<String, String> {
    match object.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(format!("`{key}` is {other}, not a string or a number")),
        None => Err(format!("no key `{key}`")),
    }
}

fn json_row(spec: &TraceSpec, line: &str, state: &mut RowState) -> Result<Option<Option<TraceEvent>>, String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let text = |key: &str| json_field(&object, key);
    let time = spec.time_format.read(&text(&spec.time)?)?;
    let caller = spec.caller.as_deref().map(text).transpose()?;
    let api_field = match &spec.api {
        ApiMapping::Field { field, .. } => Some(text(field)?),
        ApiMapping::Constant(_) => None,
    };
    let api = map_api(&spec.api, api_field.as_deref())?;
    let latency = spec.latency.as_ref().map(|(key, unit)| response_time(&text(key)?, *unit)).transpose()?;
    let mut cost = None;
    for key in &spec.cost {
        cost = Some(add_units(cost, key, &text(key)?, false)?);
    }
    state.event(time, caller.as_deref(), api, latency, cost)
}

/// Adds a row's cost field to the sum so far: a whole number of units. An access log writes `-` for
/// "no bytes", read as 0 (`access_log`); in other files `-` is not a number and is refused.
fn add_units(sum: Option<u64>, name: &str, text: &str, access_log: bool) -> Result<u64, String> {
    let text = text.trim();
    let units = match text {
        "-" if access_log => 0,
        _ => text.parse::<u64>().ok().filter(|&u| u <= MAX_UNITS).ok_or_else(|| {
            format!("cost field `{name}` is `{text}`, not a whole number of units from 0 to {MAX_UNITS}")
        })?,
    };
    Ok(sum.unwrap_or(0) + units)
}

/// The most units one row's field may give (so that sums never wrap).
pub const MAX_UNITS: u64 = 1_000_000_000_000;

impl RowState {
    fn event(
        &mut self,
        time: i128,
        caller: Option<&str>,
        api: usize,
        latency: Option<Nanos>,
        cost: Option<u64>,
    ) -> Result<Option<Option<TraceEvent>>, String> {
        if time < self.last {
            return Err("rows must be in time order: this one is earlier than the row before".into());
        }
        self.last = time;
        self.counts.rows += 1;
        let origin = *self.origin.get_or_insert(time);
        if time < origin {
            self.counts.before_start += 1;
            return Ok(Some(None));
        }
        let at = if self.speed == 1.0 { (time - origin) as f64 } else { ((time - origin) as f64 / self.speed).round() };
        let at = if at >= u64::MAX as f64 { Nanos::MAX } else { at as Nanos };
        // The caller is looked up with the other rows read ahead; until then its index is a placeholder.
        self.caller = caller.map(|c| {
            let from = self.names.len() as u32;
            self.names.push_str(c);
            self.hashes.push(self.caller_index.ask(c));
            (from, self.names.len() as u32)
        });
        let caller = self.caller.map(|_| usize::MAX);
        Ok(Some(Some(TraceEvent { at, caller, api, latency, cost, line: 0 })))
    }
}

fn map_api(mapping: &ApiMapping, field: Option<&str>) -> Result<usize, String> {
    match mapping {
        ApiMapping::Constant(api) => Ok(*api),
        ApiMapping::Field { rules, default, names, .. } => {
            let value = field.unwrap_or_default();
            rules
                .iter()
                .find(|(prefix, _)| value.starts_with(prefix.as_str()))
                .map(|r| r.1)
                .or(*default)
                .or_else(|| names.get(value).copied())
                .ok_or_else(|| format!("`{value}` matches no API rule and names no API"))
        }
    }
}

/// Splits an access-log line: `host ident user [time] "METHOD path PROTO" status bytes ["referer" "agent"]`,
/// into its time text and its fields in [`ACCESS_LOG_FIELDS`] order.
pub fn access_log_split(line: &str) -> Result<(&str, [&str; 10]), String> {
    let bad = || "not a Common or Combined Log Format line".to_string();
    let (head, rest) = line.split_once(" [").ok_or_else(bad)?;
    let (time, rest) = rest.split_once("] ").ok_or_else(bad)?;
    let mut head_parts = head.splitn(3, ' ');
    let (host, ident, user) =
        (head_parts.next().ok_or_else(bad)?, head_parts.next().unwrap_or("-"), head_parts.next().unwrap_or("-"));
    let rest = rest.strip_prefix('"').ok_or_else(bad)?;
    let (request, rest) = rest.split_once('"').ok_or_else(bad)?;
    let mut req = request.splitn(3, ' ');
    let (method, path, protocol) = (req.next().unwrap_or(""), req.next().unwrap_or(""), req.next().unwrap_or(""));
    let mut tail = rest.trim_start().splitn(3, ' ');
    let (status, bytes, extra) = (tail.next().unwrap_or(""), tail.next().unwrap_or(""), tail.next().unwrap_or(""));
    let mut quoted = extra.split('"').skip(1).step_by(2);
    let (referer, agent) = (quoted.next().unwrap_or(""), quoted.next().unwrap_or(""));
    Ok((time, [host, ident, user, method, path, protocol, status, bytes, referer, agent]))
}

/// An access-log field by name, from [`access_log_split`]'s fields.
pub fn access_log_field<'a>(fields: &[&'a str; 10], name: &str) -> Result<&'a str, String> {
    ACCESS_LOG_FIELDS
        .iter()
        .position(|f| *f == name)
        .map(|i| fields[i])
        .ok_or_else(|| format!("an access log has no field `{name}`"))
}

/// An access-log line's fields as the mapping reads them.
fn access_log_fields<'a>(line: &'a str, spec: &TraceSpec) -> Result<Fields<'a>, String> {
    let (time, fields) = access_log_split(line)?;
    let field = |name: &str| access_log_field(&fields, name);
    let api = match &spec.api {
        ApiMapping::Field { field: f, .. } => Some(field(f)?),
        ApiMapping::Constant(_) => None,
    };
    let mut cost = None;
    for name in &spec.cost {
        cost = Some(add_units(cost, name, field(name)?, true)?);
    }
    Ok(Fields {
        time,
        caller: spec.caller.as_deref().map(field).transpose()?,
        api,
        latency: spec.latency.as_ref().map(|(f, _)| field(f)).transpose()?,
        cost,
    })
}

/// The field names an access log offers to a mapping.
pub const ACCESS_LOG_FIELDS: [&str; 10] =
    ["host", "ident", "user", "method", "path", "protocol", "status", "bytes", "referer", "agent"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_read_to_unix_nanoseconds() {
        let utc = Offset::UTC;
        assert_eq!(TimeFormat::parse("unix-s", utc).unwrap().read("807256800"), Ok(807_256_800_000_000_000));
        assert_eq!(TimeFormat::parse("unix-ms", utc).unwrap().read("1.5"), Ok(1_500_000));
        assert_eq!(TimeFormat::parse("unix-ns", utc).unwrap().read("42"), Ok(42));
        let rfc = TimeFormat::Rfc3339.read("1995-08-01T02:00:00-04:00").unwrap();
        assert_eq!(rfc, 807_256_800_000_000_000);
        let dt = TimeFormat::DateTime(utc).read("2023-11-16 18:15:46.6805900").unwrap();
        assert_eq!(dt, TimeFormat::Rfc3339.read("2023-11-16T18:15:46.68059Z").unwrap());
        let plus8 = TimeFormat::DateTime(Offset::constant(8)).read("1995-08-01 14:00:00").unwrap();
        assert_eq!(plus8, rfc);
        assert_eq!(TimeFormat::AccessLog.read("01/Aug/1995:02:00:00 -0400"), Ok(rfc));
        assert!(TimeFormat::Unix(1).read("soon").is_err());
        // Decimals exactly, where a float would be off by tens of nanoseconds.
        let s = TimeFormat::parse("unix-s", utc).unwrap();
        assert_eq!(s.read("1795996807.001"), Ok(1_795_996_807_001_000_000));
        assert_eq!(s.read("1795996807.123456789"), Ok(1_795_996_807_123_456_789));
        assert_eq!(s.read("-1.5"), Ok(-1_500_000_000));
        assert_eq!(TimeFormat::Unix(1).read("2.5"), Ok(3));
        assert_eq!(s.read(".25"), Ok(250_000_000));
        assert_eq!(s.read("1e3"), Ok(1_000_000_000_000));
    }

    proptest::proptest! {
        /// Plain digits read by the shortcut give what the general reading gives, value or error, whatever
        /// their length (past an `i64`, past the calendar) and whatever surrounds them.
        #[test]
        fn unix_times_read_the_same_with_or_without_the_shortcut(
            text in proptest::prop_oneof![
                "[ +-]?[0-9]{0,21}(\\.[0-9]{0,3})?[ a]?",
                // About i64::MAX (9223372036854775807), where 19 digits stop fitting.
                "9[0-9]{18}|92233720368547758[0-9]{2}",
                // Digits with one byte anywhere that is not one (each side of the digits in ASCII, or not
                // ASCII at all).
                "[0-9]{0,10}[/:\\x00-\\x2f\\x3a-\\x7fé][0-9]{0,10}",
            ],
            scale in proptest::sample::select(vec![1u64, 1_000, 1_000_000, NANOS_PER_SEC]),
        ) {
            let format = TimeFormat::Unix(scale);
            proptest::prop_assert_eq!(format.read(&text), format.read_any(&text));
        }
    }

    /// Rows are read and their callers looked up [`AHEAD`] at a time, yet each event comes with the
    /// counts, caller numbers and names of a row-by-row reader, and a bad row is met at its place: the
    /// rows before it are all replayed, and nothing after it is counted. Expected values are worked out
    /// from the rows themselves.
    #[test]
    fn reading_ahead_is_invisible_to_the_reader() {
        // 70 rows: new callers among old ones, a first row before the start (when not shifting),
        // blank rows and one malformed row at data row 41.
        let mut text = String::from("t,c\n");
        // (line, time, caller number and name, rows, rows before the start, callers), or the rows read
        // before the malformed one.
        let mut expected = Vec::new();
        let (mut rows, mut before, mut names) = (0u64, 0u64, Vec::<String>::new());
        for k in 0..70u64 {
            let line = k + 2;
            if k % 17 == 5 {
                text += "\n";
                continue;
            }
            if k == 41 {
                text += "soon,c1\n";
                expected.push(Err(rows));
                continue;
            }
            let name = format!("c{}", (k * 7) % (k / 3 + 1));
            let time = if k == 0 { 99 } else { 100 + k };
            text += &format!("{time},{name}\n");
            rows += 1;
            if time < 100 {
                before += 1;
                continue;
            }
            let number = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                names.push(name.clone());
                names.len() - 1
            });
            expected.push(Ok((line, (time - 100) * NANOS_PER_SEC, number, name, rows, before, names.len())));
        }
        for skip in [false, true] {
            let spec = TraceSpec {
                path: PathBuf::new(),
                format: Format::Delimited(b','),
                time: "t".into(),
                time_format: TimeFormat::parse("unix-s", Offset::UTC).unwrap(),
                caller: Some("c".into()),
                api: ApiMapping::Constant(0),
                latency: None,
                cost: Vec::new(),
                shift: false,
                speed: 1.0,
            };
            let input: Box<dyn BufRead> = Box::new(std::io::Cursor::new(text.clone().into_bytes()));
            let mut source =
                TraceSource::from_reader(&spec, "t.csv".into(), input, 100 * NANOS_PER_SEC as i128, skip).unwrap();
            let mut skipped = 0;
            for want in &expected {
                let (line, at, number, name, rows, before, callers) = match want {
                    Ok(row) => row,
                    Err(rows) if !skip => {
                        let e = source.next_event().unwrap_err();
                        assert_eq!((e.line, source.rows()), (43, *rows), "{e}");
                        break;
                    }
                    Err(_) => {
                        skipped += 1;
                        continue;
                    }
                };
                let event = source.next_event().unwrap().unwrap();
                assert_eq!((event.line, event.at, event.caller), (*line, *at, Some(*number)));
                assert_eq!(source.caller_name(), name);
                assert_eq!((source.rows(), source.before_start(), source.skipped()), (*rows, *before, skipped));
                assert_eq!(source.caller_count(), *callers);
            }
            if skip {
                assert_eq!(source.next_event(), Ok(None));
                assert_eq!(source.skipped(), 1);
            }
        }
    }

    #[test]
    fn access_log_lines_split_into_fields() {
        let spec = TraceSpec {
            path: PathBuf::new(),
            format: Format::AccessLog,
            time: String::new(),
            time_format: TimeFormat::AccessLog,
            caller: Some("host".into()),
            api: ApiMapping::Field { field: "path".into(), rules: vec![], default: None, names: HashMap::default() },
            latency: None,
            cost: Vec::new(),
            shift: true,
            speed: 1.0,
        };
        let line = r#"in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /shuttle/missions/sts-68/news/sts-68-mcc-05.txt HTTP/1.0" 200 1839 "http://x/" "Mozilla/2.0""#;
        let f = access_log_fields(line, &spec).unwrap();
        assert_eq!(
            (f.time, f.caller, f.api),
            (
                "01/Aug/1995:00:00:01 -0400",
                Some("in24.inetnebr.com"),
                Some("/shuttle/missions/sts-68/news/sts-68-mcc-05.txt")
            )
        );
        assert!(access_log_fields("garbage", &spec).is_err());
    }

    #[test]
    fn api_rules_go_by_prefix_then_default_then_name() {
        let names = api_names([("Pages", 1)].into_iter());
        let m = ApiMapping::Field { field: "url".into(), rules: vec![("/images/".into(), 0)], default: None, names };
        assert_eq!(map_api(&m, Some("/images/logo.gif")), Ok(0));
        assert_eq!(map_api(&m, Some("Pages")), Ok(1));
        assert!(map_api(&m, Some("/other")).is_err());
    }

    proptest::proptest! {
        /// Remembering the last field mapped changes no row's API, nor any error, whatever the order of
        /// the fields (repeats, prefixes of one another, a field that maps to nothing, none at all).
        #[test]
        fn the_last_api_remembered_maps_as_the_rules_do(
            fields in proptest::collection::vec(
                proptest::option::of(proptest::sample::select(vec!["/images/a", "/images/", "/image", "Pages", "Page", ""])),
                0..30,
            ),
            default in proptest::option::of(2usize..3),
        ) {
            let names = api_names([("Pages", 1)].into_iter());
            let m = ApiMapping::Field { field: "url".into(), rules: vec![("/images/".into(), 0)], default, names };
            let mut last = LastApi::default();
            for field in fields {
                proptest::prop_assert_eq!(last.map(&m, field), map_api(&m, field));
            }
        }
    }
}
