//! How a trace writes its instants and response times: Unix seconds to nanoseconds (read exactly, decimals
//! and all), RFC 3339, strftime patterns and access-log dates, each in a fixed offset where the text has none.

use super::*;

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
    pub(super) fn read_any(self, text: &str) -> Result<i128, String> {
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
pub(super) fn response_time(text: &str, unit: f64) -> Result<Nanos, String> {
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
