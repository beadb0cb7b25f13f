//! Sweep parameters: `KEY=VALUES` parsed into a key path and a list of TOML values, and applied to a
//! scenario's TOML before it is validated, so a swept value is checked exactly like a written one.
//!
//! Keys are dotted paths; an array of tables (`[[client]]`, `[[api]]`, `[[account]]`, `[[account.plan]]`)
//! is entered by an element's `name` or by `[i]`: `client.workers.threads`, `api.CompareFace.latency.mean`,
//! `server.window`, `client[0].rate`; `*` enters every element alike (`client.*.retry`). Values are a list (`1,2,4,8`, `100ms,200ms`), an inclusive range
//! (`1..=64`), a range with a step (`1..=64:4`, `0.5..=2.0:0.25`, `100ms..=1s:100ms`) or a geometric series
//! (`1..=64*2`, `10ms..=1s*10`).

use crate::time::parse_duration;
use toml::{Table, Value};

/// The most values one parameter may take.
pub const MAX_VALUES: usize = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub key: String,
    pub values: Vec<Value>,
}

/// Parses `KEY=VALUES`.
pub fn parse_param(text: &str) -> Result<Param, String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUES, e.g. `client.workers.threads=1..=32`"))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("`{key}` is not a key path, e.g. `client.workers.threads`"));
    }
    let values = parse_values(values.trim()).map_err(|m| format!("{key}: {m}"))?;
    // A value given twice would run twice as two points of the same name.
    if let Some((_, v)) = values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)) {
        return Err(format!("{key}: `{}` is given twice; give each value once", display(v)));
    }
    Ok(Param { key: key.to_string(), values })
}

fn scalar(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.replace('_', "").parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(f) = t.parse::<f64>() {
        Value::Float(f)
    } else if let Ok(b) = t.parse::<bool>() {
        Value::Boolean(b)
    } else {
        Value::String(t.trim_matches('"').to_string())
    }
}

fn number(text: &str) -> Result<f64, String> {
    text.trim().replace('_', "").parse::<f64>().map_err(|_| format!("`{text}` is not a number"))
}

fn is_integer(text: &str) -> bool {
    text.trim().replace('_', "").parse::<i64>().is_ok()
}

/// Splits `text` at the commas that are not inside braces, brackets or quotes.
fn top_level_items(text: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start, mut items) = (0i32, None::<char>, 0, Vec::new());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
}

/// A value written as TOML: an inline table, an array or a quoted string.
fn toml_value(text: &str) -> Result<Value, String> {
    let table: Table = toml::from_str(&format!("v = {}", text.trim()))
        .map_err(|e| format!("`{}` is not a TOML value: {}", text.trim(), e.message()))?;
    Ok(table.get("v").cloned().expect("the key was just written"))
}

fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    if text.is_empty() {
        return Err("no values; give a list (`1,2,4`) or a range (`1..=8`)".into());
    }
    // Whole TOML values (inline tables, arrays, quoted strings), e.g. whole retry policies to compare.
    if text.trim_start().starts_with(['{', '[', '"', '\'']) {
        let values = top_level_items(text).into_iter().map(toml_value).collect::<Result<Vec<_>, _>>()?;
        if values.len() > MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} values"));
        }
        return Ok(values);
    }
    let values = match text.split_once("..") {
        None => text.split(',').map(scalar).collect(),
        Some((from, rest)) => {
            let to_and_step = rest.strip_prefix('=').ok_or("ranges are inclusive: write `A..=B`")?;
            let (to, step, geometric) = match (to_and_step.split_once(':'), to_and_step.split_once('*')) {
                (Some((to, step)), None) => (to, Some(step), false),
                (None, Some((to, factor))) => (to, Some(factor), true),
                (None, None) => (to_and_step, None, false),
                _ => return Err("a range takes a step `:S` or a factor `*F`, not both".into()),
            };
            // A range of durations when either end is written as one: each end is then checked as a
            // duration, so the message names the end that is wrong.
            let looks_like_duration =
                |t: &str| number(t).is_err() && t.trim().ends_with(|c: char| c.is_ascii_alphabetic());
            if looks_like_duration(from) || looks_like_duration(to) {
                let a = parse_duration(from).map_err(|m| format!("the range's start: {m}"))?;
                let b = parse_duration(to).map_err(|m| format!("the range's end: {m}"))?;
                return duration_range(text, a, b, step, geometric);
            }
            let integral = is_integer(from) && is_integer(to) && step.is_none_or(is_integer);
            let (a, b) = (number(from)?, number(to)?);
            let s = step.map_or(Ok(1.0), number)?;
            if !(a.is_finite() && b.is_finite() && s.is_finite()) {
                return Err(format!("the range `{text}` has an end or step that is not a finite number"));
            }
            if b < a {
                return Err(format!("the range `{text}` is empty"));
            }
            let mut out = Vec::new();
            if geometric {
                if !(s > 1.0 && a > 0.0) {
                    return Err("a geometric series needs a start > 0 and a factor > 1".into());
                }
                let mut x = a;
                while x <= b * (1.0 + 1e-12) {
                    if out.len() == MAX_VALUES {
                        return Err(format!("`{text}` has more than {MAX_VALUES} values"));
                    }
                    out.push(x);
                    x *= s;
                }
            } else {
                if s <= 0.0 {
                    return Err("a range's step must be > 0".into());
                }
                // Counted as a float first: a huge count must be refused, not wrapped to nothing.
                let n = ((b - a) / s + 1e-9).floor() + 1.0;
                if n.is_nan() || n > MAX_VALUES as f64 {
                    return Err(format!("`{text}` has about {n:.1e} values, more than {MAX_VALUES}"));
                }
                out.extend((0..n as usize).map(|i| a + i as f64 * s));
            }
            if integral && out.iter().any(|x| x.abs() > i64::MAX as f64) {
                return Err(format!("the range `{text}` goes past the largest whole number"));
            }
            out.into_iter().map(|x| if integral { Value::Integer(x.round() as i64) } else { Value::Float(x) }).collect()
        }
    };
    let values: Vec<Value> = values;
    if values.len() > MAX_VALUES {
        return Err(format!("more than {MAX_VALUES} values"));
    }
    if let Some(bad) = values.iter().find(|v| matches!(v, Value::Float(f) if !f.is_finite())) {
        return Err(format!("`{}` is not a finite number", display(bad)));
    }
    Ok(values)
}

/// `100ms..=1s:100ms` (a duration step) or `10ms..=1s*10` (a factor), as duration strings.
fn duration_range(text: &str, a: u64, b: u64, step: Option<&str>, geometric: bool) -> Result<Vec<Value>, String> {
    if b < a {
        return Err(format!("the range `{text}` is empty"));
    }
    let mut out = Vec::new();
    if geometric {
        let f = step.map_or(Ok(2.0), number)?;
        if !(f.is_finite() && f > 1.0 && a > 0) {
            return Err("a geometric series needs a start > 0 and a finite factor > 1".into());
        }
        let mut x = a as f64;
        while x <= b as f64 * (1.0 + 1e-12) {
            if out.len() == MAX_VALUES {
                return Err(format!("`{text}` has more than {MAX_VALUES} values"));
            }
            out.push(x.round() as u64);
            x *= f;
        }
    } else {
        let s = step.ok_or("a duration range needs a step, e.g. `100ms..=1s:100ms`")?;
        let s = parse_duration(s).map_err(|m| format!("the range's step: {m}"))?;
        if s == 0 {
            return Err("a range's step must be > 0".into());
        }
        let n = (b - a) / s + 1;
        if n > MAX_VALUES as u64 {
            return Err(format!("`{text}` has {n} values, more than {MAX_VALUES}"));
        }
        out.extend((0..n).map(|i| a + i * s));
    }
    Ok(out.into_iter().map(|ns| Value::String(exact_duration(ns))).collect())
}

/// A span in the largest unit that writes it exactly: `1s`, `250ms`, `1500us`.
fn exact_duration(ns: u64) -> String {
    let units =
        [(3_600_000_000_000, "h"), (60_000_000_000, "m"), (1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")];
    match units.iter().find(|(size, _)| ns > 0 && ns.is_multiple_of(*size)) {
        Some((size, unit)) => format!("{}{unit}", ns / size),
        None => format!("{ns}ns"),
    }
}

/// A value as a person reads it: `8`, `0.5`, `500ms`, `{ policy = "none" }`.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Table(t) => {
            let fields: Vec<String> = t.iter().map(|(k, v)| format!("{k} = {}", inline(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

/// A value as TOML writes it on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Table(_) => display(value),
        Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "a whole number",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// Sets `key` in the scenario's TOML to `value`. The key's last part may be new (validation then says
/// whether it is allowed); every part before it must exist, except a missing `[server]`.
pub fn apply(root: &mut Table, key: &str, value: &Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut table = root;
    let mut i = 0;
    while i + 1 < parts.len() {
        let (name, index) = split_index(parts[i])?;
        if !table.contains_key(name) && name == "server" && i == 0 {
            table.insert(name.to_string(), Value::Table(Table::new()));
        }
        let entry = table.get_mut(name).ok_or_else(|| format!("the scenario has no `{}`", parts[..=i].join(".")))?;
        table = match entry {
            Value::Table(t) if index.is_none() => t,
            Value::Array(items) => {
                // An array of tables is entered by index (`client[0]`) or by the next part as a name.
                let pick = match index {
                    Some(k) => k,
                    None => {
                        i += 1;
                        let wanted = parts.get(i).filter(|_| i + 1 < parts.len()).ok_or_else(|| {
                            format!(
                                "`{}` holds several tables: name one, e.g. `{}.NAME.key`",
                                parts[..i].join("."),
                                parts[..i].join(".")
                            )
                        })?;
                        // `client.*.key`: every element alike.
                        if *wanted == "*" {
                            let rest = parts[i + 1..].join(".");
                            for item in items.iter_mut() {
                                let Value::Table(t) = item else { continue };
                                apply(t, &rest, value).map_err(|m| format!("{}.*: {m}", parts[..i].join(".")))?;
                            }
                            return Ok(());
                        }
                        items
                            .iter()
                            .position(|item| item.get("name").and_then(Value::as_str) == Some(*wanted))
                            .ok_or_else(|| format!("no `{}` is named `{wanted}`", parts[..i].join(".")))?
                    }
                };
                match items.get_mut(pick) {
                    Some(Value::Table(t)) => t,
                    _ => return Err(format!("`{}` has no element {pick}", parts[..=i].join("."))),
                }
            }
            _ => return Err(format!("`{}` is not a table", parts[..=i].join("."))),
        };
        i += 1;
    }
    let last = parts[parts.len() - 1];
    let new = match table.get(last) {
        None => value.clone(),
        Some(old) => match (old, value) {
            (Value::Float(_), Value::Integer(n)) => Value::Float(*n as f64),
            (old, new) if std::mem::discriminant(old) == std::mem::discriminant(new) => new.clone(),
            (old, new) => {
                return Err(format!(
                    "`{}` is {} in the scenario, not {} like `{}`",
                    key,
                    type_name(old),
                    type_name(new),
                    display(new)
                ));
            }
        },
    };
    table.insert(last.to_string(), new);
    Ok(())
}

/// The key that sweeps over the scenario's named variants (`variant=all` or `variant=a,b`).
pub const VARIANT_KEY: &str = "variant";

/// The names of a scenario's variants, `baseline` first.
pub fn variant_names(root: &Table) -> Vec<String> {
    let defined = root.get("variant").and_then(Value::as_array).map_or(&[][..], |a| a.as_slice());
    std::iter::once(crate::scenario::BASELINE.to_string())
        .chain(defined.iter().filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string)))
        .collect()
}

/// Applies variant `name`'s `set` to the scenario's TOML (`baseline` sets nothing).
pub fn apply_variant(root: &mut Table, name: &str) -> Result<(), String> {
    if name == crate::scenario::BASELINE {
        return Ok(());
    }
    let set = root
        .get("variant")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(name)))
        .and_then(|v| v.get("set"))
        .and_then(Value::as_table)
        .cloned()
        .ok_or_else(|| {
            let names = variant_names(root);
            let message = format!("no [[variant]] is named `{name}`; defined: {}", names.join(", "));
            crate::text::with_hint(message, name, names.iter().map(String::as_str))
        })?;
    for (key, value) in &set {
        if key == VARIANT_KEY || key.starts_with("variant.") || key.starts_with("variant[") {
            return Err(format!("variant `{name}` sets `{key}`: a variant may not change the variants"));
        }
        apply(root, key, value).map_err(|m| format!("variant `{name}`: {m}"))?;
    }
    Ok(())
}

fn split_index(part: &str) -> Result<(&str, Option<usize>), String> {
    match part.split_once('[') {
        None => Ok((part, None)),
        Some((name, rest)) => {
            let index = rest
                .strip_suffix(']')
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| format!("`{part}` is not `name[index]`"))?;
            Ok((name, Some(index)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        parse_values(text).unwrap().iter().map(display).collect()
    }

    #[test]
    fn lists_ranges_steps_and_series() {
        assert_eq!(values("1,2,4,8"), ["1", "2", "4", "8"]);
        assert_eq!(values("100ms,1s"), ["100ms", "1s"]);
        assert_eq!(values("1..=5"), ["1", "2", "3", "4", "5"]);
        assert_eq!(values("1..=64:16"), ["1", "17", "33", "49"]);
        assert_eq!(values("0.5..=1.5:0.25"), ["0.5", "0.75", "1.0", "1.25", "1.5"]);
        assert_eq!(values("1..=64*2"), ["1", "2", "4", "8", "16", "32", "64"]);
        assert_eq!(values("250ms..=1s:250ms"), ["250ms", "500ms", "750ms", "1s"]);
        assert_eq!(values("10ms..=1s*10"), ["10ms", "100ms", "1s"]);
        assert!(parse_values("5..=1").unwrap_err().contains("empty"));
        assert!(parse_values("1..5").unwrap_err().contains("inclusive"));
        assert!(parse_values("1..=10:0").is_err());
        assert!(parse_values("").is_err());
        assert!(parse_values("1..=1000000").unwrap_err().contains("more than"));
        // Counts that would overflow, infinite ends and huge geometric series are refused, not emptied.
        assert!(parse_values("1..=1e300:1").unwrap_err().contains("more than"));
        assert!(parse_values("1..=inf").unwrap_err().contains("finite"));
        assert!(parse_values("1..=1e300*1.0000001").unwrap_err().contains("more than"));
        assert!(parse_values("nan,1").is_err());
        // Whole TOML values, split at top-level commas only.
        let tables = values("{ policy = \"none\" },{ policy = \"exponential\", base = \"100ms\", cap = \"10s\" }");
        assert_eq!(tables, ["{ policy = \"none\" }", "{ base = \"100ms\", cap = \"10s\", policy = \"exponential\" }"]);
        assert!(parse_values("{ policy = ").unwrap_err().contains("not a TOML value"));
        // The end that is wrong is the one named.
        let e = parse_values("1ms..=1000000d:1ms").unwrap_err();
        assert!(e.contains("end") && e.contains("1000000d"), "{e}");
    }

    fn table() -> Table {
        toml::from_str(
            "name = \"x\"\n[[client]]\nname = \"workers\"\nthreads = 2\nrate = 1.5\n[[api]]\nname = \"A\"\nlatency = \
                { dist = \"constant\", mean = \"1s\" }\n",
        )
        .unwrap()
    }

    #[test]
    fn keys_reach_named_and_indexed_tables() {
        let mut t = table();
        apply(&mut t, "client.workers.threads", &Value::Integer(8)).unwrap();
        apply(&mut t, "client[0].rate", &Value::Integer(3)).unwrap();
        apply(&mut t, "api.A.latency.mean", &Value::String("250ms".into())).unwrap();
        apply(&mut t, "server.window", &Value::String("2s".into())).unwrap();
        let text = toml::to_string(&t).unwrap();
        for expected in ["threads = 8", "rate = 3.0", "mean = \"250ms\"", "window = \"2s\""] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn bad_keys_and_types_are_refused() {
        let mut t = table();
        assert!(apply(&mut t, "client.nobody.threads", &Value::Integer(1)).unwrap_err().contains("named `nobody`"));
        assert!(apply(&mut t, "clients.workers.threads", &Value::Integer(1)).unwrap_err().contains("no `clients`"));
        assert!(
            apply(&mut t, "client.workers.threads", &Value::String("many".into()))
                .unwrap_err()
                .contains("whole number")
        );
        assert!(apply(&mut t, "client.threads", &Value::Integer(1)).is_err());
    }
}
