//! Simulated time: integer nanoseconds since the scenario's start, and the parsing of the human forms a
//! scenario writes (`500ms`, `2h 30m`, RFC 3339 instants with an offset).
//!
//! Integers keep runs exact and reproducible: no event is ever nudged by an epsilon, and two events at the
//! same instant are ordered by the engine's insertion sequence, never by float rounding.

use jiff::Timestamp;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;

/// Nanoseconds since the scenario's start (or a span of them).
pub type Nanos = u64;

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Parses a non-negative duration: one or more `<number><unit>` terms, e.g. `500ms`, `1.5s`, `2h 30m`,
/// `1d`. Units: `ns`, `us`, `ms`, `s`, `m`, `h`, `d`. The total must fit in [`Nanos`] (about 584 years);
/// nothing wraps.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let bad = || {
        format!(
            "`{text}` is not a duration; expected terms such as `500ms`, `1s`, `2h 30m` (units ns, us, ms, s, m, h, d)"
        )
    };
    let too_long = || format!("`{text}` is too long (at most about 584 years)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: Nanos = 0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let unit_len = rest[number_len..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len() - number_len);
        let (number, unit) = (&rest[..number_len], &rest[number_len..number_len + unit_len]);
        let scale: u64 = match unit {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SEC,
            "m" => 60 * NANOS_PER_SEC,
            "h" => 3_600 * NANOS_PER_SEC,
            "d" => 86_400 * NANOS_PER_SEC,
            _ => return Err(bad()),
        };
        let value: f64 = number.parse().map_err(|_| bad())?;
        let ns = (value * scale as f64).round();
        // 2^64 is exactly representable: anything at or above it does not fit.
        if !ns.is_finite() || ns >= 18_446_744_073_709_551_616.0 {
            return Err(too_long());
        }
        total = total.checked_add(ns as Nanos).ok_or_else(too_long)?;
        rest = rest[number_len + unit_len..].trim_start();
    }
    Ok(total)
}

/// Parses an RFC 3339 instant that carries an offset, e.g. `2026-11-26T09:00:00+08:00`; returns the
/// instant and the offset it was written with (for display).
pub fn parse_instant(text: &str) -> Result<(Timestamp, Offset), String> {
    let bad = || format!("`{text}` is not an RFC 3339 instant with an offset, e.g. `2026-11-26T09:00:00+08:00`");
    let instant = text.trim().parse::<Timestamp>().map_err(|_| bad())?;
    let offset = Pieces::parse(text.trim()).ok().and_then(|p| p.to_numeric_offset()).unwrap_or(Offset::UTC);
    if offset.seconds().unsigned_abs() >= 24 * 3_600 {
        return Err(format!("`{text}` has an offset of 24 hours or more; offsets run from -23:59 to +23:59"));
    }
    Ok((instant, offset))
}

pub fn secs_f64(nanos: Nanos) -> f64 {
    nanos as f64 / NANOS_PER_SEC as f64
}

/// Rounds a non-negative number of seconds to nanoseconds, saturating at the largest representable time.
#[inline]
pub fn nanos_from_secs_f64(secs: f64) -> Nanos {
    let ns = secs * NANOS_PER_SEC as f64;
    // Below 2^52 a double has a fraction: rounding half away from zero by truncation and the exact
    // fractional part gives `round()`'s result without its call into libm (this runs for every draw).
    if ns > 0.0 && ns < (1u64 << 52) as f64 {
        let whole = ns as u64;
        return whole + u64::from(ns - whole as f64 >= 0.5);
    }
    let ns = ns.round();
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else if ns > 0.0 {
        ns as u64
    } else {
        0
    }
}

/// Formats a span compactly for tables and chart labels: `750ms`, `12s`, `3m 20s`, `2h 5m`.
pub fn format_duration(nanos: Nanos) -> String {
    let s = nanos / NANOS_PER_SEC;
    if nanos < NANOS_PER_SEC {
        return format!("{}ms", nanos as f64 / 1e6);
    }
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let parts = [(d, "d"), (h, "h"), (m, "m"), (sec, "s")];
    let first = parts.iter().position(|(v, _)| *v > 0).unwrap_or(3);
    parts[first..(first + 2).min(4)]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path rounds as `f64::round` does, at halves, just under them, near 2^52 and past it.
    #[test]
    fn nanos_round_like_libm() {
        let reference = |secs: f64| {
            let ns = (secs * NANOS_PER_SEC as f64).round();
            if ns >= u64::MAX as f64 {
                u64::MAX
            } else if ns > 0.0 {
                ns as u64
            } else {
                0
            }
        };
        let mut xs =
            vec![0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, 1e30, 0.5e-9, 1.5e-9, 2.5e-9, 0.5f64.next_down() / 1e9];
        for k in 0..64 {
            let p = 2f64.powi(k) / 1e9;
            xs.extend([p, p * 1.5, p * 0.75, f64::from_bits(p.to_bits() - 1), f64::from_bits(p.to_bits() + 1)]);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(mantissa * 10f64.powi((state % 14) as i32 - 9) + (state % 3) as f64 * 0.5e-9);
        }
        for x in xs {
            assert_eq!(nanos_from_secs_f64(x), reference(x), "{x:e} s");
        }
    }

    #[test]
    fn durations_parse_in_the_forms_scenarios_use() {
        assert_eq!(parse_duration("500ms"), Ok(500_000_000));
        assert_eq!(parse_duration("1s"), Ok(NANOS_PER_SEC));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("2h 30m"), Ok(9_000 * NANOS_PER_SEC));
        assert_eq!(parse_duration("10m"), Ok(600 * NANOS_PER_SEC));
        assert_eq!(parse_duration("1d"), Ok(86_400 * NANOS_PER_SEC));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_duration("1m30s"), Ok(90 * NANOS_PER_SEC));
        // Nothing wraps: a total past 2^64 ns is an error, not a small number.
        assert!(parse_duration("99999999999999999999999999999d 2ns").unwrap_err().contains("too long"));
        assert!(parse_duration("584y").is_err());
        assert!(parse_duration("213503d 1d").is_err());
        assert_eq!(
            parse_duration("18446744073709551615ns"),
            Err("`18446744073709551615ns` is too long (at most about 584 years)".into())
        );
        assert_eq!(parse_duration("106751d"), Ok(106_751 * 86_400 * NANOS_PER_SEC));
    }

    #[test]
    fn instants_need_an_offset() {
        let (a, offset) = parse_instant("2026-11-26T09:00:00+08:00").unwrap();
        let (b, _) = parse_instant("2026-11-26T01:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.display_with_offset(offset).to_string(), "2026-11-26T09:00:00+08:00");
        assert!(parse_instant("2026-11-26T09:00:00").is_err());
        assert!(parse_instant("2026-11-26T09:00:00+25:00").is_err());
        assert!(parse_instant("2026-11-26T09:00:00+23:59").is_ok());
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(750_000_000), "750ms");
        assert_eq!(format_duration(12 * NANOS_PER_SEC), "12s");
        assert_eq!(format_duration(200 * NANOS_PER_SEC), "3m 20s");
        assert_eq!(format_duration(7_500 * NANOS_PER_SEC), "2h 5m");
    }
}
