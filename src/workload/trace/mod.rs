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

mod times;
pub use times::*;

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
mod tests;
