//! Reading a log of the platform's answers for `fit`: each row an attempt, its time, its status and, if
//! mapped, the account and API it counts against. Rows are grouped by (account, API), sorted by time (a
//! log written by several threads is rarely in order; how far out of order is reported), and every status
//! is sorted into admitted, throttled or left out.

use crate::workload::trace::{
    Format, LineReader, Splitter, TimeFormat, access_log_field, access_log_split, json_field, open_file, read_header,
};
use std::collections::HashMap;
use std::path::PathBuf;

/// How to read the log.
#[derive(Clone, Debug)]
pub struct LogSpec {
    pub path: PathBuf,
    pub format: Format,
    /// The time column or key (not for access logs).
    pub time: String,
    pub time_format: TimeFormat,
    pub status: String,
    /// The column naming the account whose limit an attempt counts against (None: one account).
    pub account: Option<String>,
    /// The column naming the API (None: one API).
    pub api: Option<String>,
    pub statuses: Statuses,
    pub skip_bad_rows: bool,
}

/// Which statuses mean what: each entry a whole status (`429`, `throttled`) or a class (`2xx`).
#[derive(Clone, Debug)]
pub struct Statuses {
    pub throttled: Vec<String>,
    pub admitted: Vec<String>,
}

impl Default for Statuses {
    /// HTTP's 429 and 2xx, and the outcomes `quotasim run --requests` writes.
    fn default() -> Statuses {
        Statuses { throttled: vec!["429".into(), "throttled".into()], admitted: vec!["2xx".into(), "admitted".into()] }
    }
}

/// A status class like `2xx` matches any three-digit status starting with its digit.
fn matches(pattern: &str, status: &str) -> bool {
    let p = pattern.as_bytes();
    if p.len() == 3 && p[0].is_ascii_digit() && p[1..].eq_ignore_ascii_case(b"xx") {
        let s = status.as_bytes();
        return s.len() == 3 && s[0] == p[0] && s[1..].iter().all(u8::is_ascii_digit);
    }
    pattern.eq_ignore_ascii_case(status)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Admitted,
    Throttled,
    Other,
}

impl Statuses {
    pub fn answer(&self, status: &str) -> Answer {
        let status = status.trim();
        if self.throttled.iter().any(|p| matches(p, status)) {
            Answer::Throttled
        } else if self.admitted.iter().any(|p| matches(p, status)) {
            Answer::Admitted
        } else {
            Answer::Other
        }
    }
}

/// One answered attempt: its instant (Unix ns), whether it was throttled, and its line in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub at: i128,
    pub throttled: bool,
    pub line: u64,
}

/// One (account, API)'s attempts, in time order.
#[derive(Clone, Debug)]
pub struct Group {
    pub account: String,
    pub api: String,
    pub rows: Vec<Row>,
}

/// Everything read.
#[derive(Clone, Debug, Default)]
pub struct Log {
    pub groups: Vec<Group>,
    /// Rows read, admitted or throttled (not the others).
    pub rows: u64,
    /// Rows of other statuses, counted by status, most common first.
    pub other_statuses: Vec<(String, u64)>,
    pub skipped_rows: u64,
    /// Rows earlier than a row above them, and the furthest one's lag behind it (ns).
    pub out_of_order: u64,
    pub worst_lag_ns: i128,
}

/// A bad row: where and what.
#[derive(Debug)]
pub struct ReadError {
    pub line: Option<u64>,
    pub message: String,
}

impl ReadError {
    fn at(line: u64, message: String) -> ReadError {
        ReadError { line: Some(line), message }
    }

    fn whole(message: String) -> ReadError {
        ReadError { line: None, message }
    }
}

/// The fields of one row that the fit needs.
struct Fields<'a> {
    time: &'a str,
    status: &'a str,
    account: Option<&'a str>,
    api: Option<&'a str>,
}

/// Reads the whole log into groups. Memory: 32 bytes a row.
pub fn read(spec: &LogSpec) -> Result<Log, ReadError> {
    let mut lines = LineReader::new(open_file(&spec.path).map_err(ReadError::whole)?);
    let columns = match spec.format {
        Format::Delimited(d) => {
            let header = read_header(&mut lines, d).map_err(|m| ReadError::at(1, m))?;
            let find = |flag: &str, name: &str| -> Result<usize, ReadError> {
                header.iter().position(|h| h == name).ok_or_else(|| {
                    let columns = header.iter().map(|h| format!("`{}`", crate::text::label(h))).collect::<Vec<_>>();
                    let message =
                        format!("{flag}: the header has no column `{name}`; its columns are {}", columns.join(", "));
                    ReadError::at(1, crate::text::with_hint(message, name, header.iter().map(String::as_str)))
                })
            };
            Some((
                d,
                find("--time", &spec.time)?,
                find("--status", &spec.status)?,
                spec.account.as_deref().map(|a| find("--account", a)).transpose()?,
                spec.api.as_deref().map(|a| find("--api-field", a)).transpose()?,
            ))
        }
        Format::AccessLog => {
            for (flag, name) in [
                ("--status", Some(&spec.status)),
                ("--account", spec.account.as_ref()),
                ("--api-field", spec.api.as_ref()),
            ] {
                if let Some(name) = name {
                    access_log_field(&[""; 10], name).map_err(|m| ReadError::whole(format!("{flag}: {m}")))?;
                }
            }
            None
        }
        Format::JsonLines => None,
    };
    let mut splitter = Splitter::new(columns.map_or(b',', |c| c.0));
    let mut log = Log::default();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut last: Option<(String, String, usize)> = None;
    let mut others: HashMap<String, u64> = HashMap::new();
    let mut latest: Option<i128> = None;
    loop {
        let number = lines.line + 1;
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(ReadError::at(number, crate::workload::lines::line_error(e))),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let groups = &mut log.groups;
        let parsed = parse_row(spec, columns, line, &mut splitter, |fields| {
            let at = spec.time_format.read(fields.time)?;
            let answer = spec.statuses.answer(fields.status);
            if answer == Answer::Other {
                *others.entry(fields.status.trim().to_string()).or_default() += 1;
                return Ok(None);
            }
            let (account, api) = (fields.account.unwrap_or(""), fields.api.unwrap_or(""));
            // Most rows name the group of the row before: no look-up, no copy.
            if let Some((a, p, g)) = &last
                && a == account
                && p == api
            {
                return Ok(Some((at, answer, *g)));
            }
            let key = (account.to_string(), api.to_string());
            let next = groups.len();
            let g = *index.entry(key).or_insert(next);
            if g == next {
                groups.push(Group { account: account.to_string(), api: api.to_string(), rows: Vec::new() });
            }
            last = Some((account.to_string(), api.to_string(), g));
            Ok(Some((at, answer, g)))
        });
        let (at, answer, group) = match parsed {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(_) if spec.skip_bad_rows => {
                log.skipped_rows += 1;
                continue;
            }
            Err(m) => return Err(ReadError::at(number, m)),
        };
        match latest {
            Some(l) if at < l => {
                log.out_of_order += 1;
                log.worst_lag_ns = log.worst_lag_ns.max(l - at);
            }
            _ => latest = Some(at),
        }
        log.rows += 1;
        log.groups[group].rows.push(Row { at, throttled: answer == Answer::Throttled, line: number });
    }
    if log.out_of_order > 0 {
        // Stable: rows logged at the same instant keep the file's order.
        log.groups.iter_mut().for_each(|g| g.rows.sort_by_key(|r| r.at));
    }
    let mut others: Vec<(String, u64)> = others.into_iter().collect();
    others.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    log.other_statuses = others;
    Ok(log)
}

type Delimited = Option<(u8, usize, usize, Option<usize>, Option<usize>)>;

/// Splits one line into its fields and hands them to `take`.
fn parse_row<T>(
    spec: &LogSpec,
    columns: Delimited,
    line: &[u8],
    splitter: &mut Splitter,
    take: impl FnOnce(Fields<'_>) -> Result<T, String>,
) -> Result<T, String> {
    match spec.format {
        Format::Delimited(_) => {
            let (_, time, status, account, api) = columns.expect("a delimited file has columns");
            splitter.split(line)?;
            let field = |i: usize| -> Result<&str, String> {
                match splitter.get_str(i) {
                    Some(Ok(s)) => Ok(s),
                    Some(Err(())) => Err(format!("field {} is not UTF-8", i + 1)),
                    None => Err(format!("the row has {} fields; field {} is needed", splitter.len(), i + 1)),
                }
            };
            take(Fields {
                time: field(time)?,
                status: field(status)?,
                account: account.map(field).transpose()?,
                api: api.map(field).transpose()?,
            })
        }
        Format::AccessLog => {
            let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8".to_string())?;
            let (time, fields) = access_log_split(text)?;
            take(Fields {
                time,
                status: access_log_field(&fields, &spec.status)?,
                account: spec.account.as_deref().map(|a| access_log_field(&fields, a)).transpose()?,
                api: spec.api.as_deref().map(|a| access_log_field(&fields, a)).transpose()?,
            })
        }
        Format::JsonLines => {
            let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8".to_string())?;
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
            let get = |key: &str| json_field(&object, key);
            let (time, status) = (get(&spec.time)?, get(&spec.status)?);
            let account = spec.account.as_deref().map(get).transpose()?;
            let api = spec.api.as_deref().map(get).transpose()?;
            take(Fields { time: &time, status: &status, account: account.as_deref(), api: api.as_deref() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        let s = Statuses::default();
        assert_eq!(s.answer("429"), Answer::Throttled);
        assert_eq!(s.answer(" 200"), Answer::Admitted);
        assert_eq!(s.answer("204"), Answer::Admitted);
        assert_eq!(s.answer("2000"), Answer::Other);
        assert_eq!(s.answer("503"), Answer::Other);
        assert_eq!(s.answer("THROTTLED"), Answer::Throttled);
        assert_eq!(s.answer("rejected_locally"), Answer::Other);
    }
}
