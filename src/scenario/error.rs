//! A scenario error: where (file, line, key), what is wrong and what would be valid, and how it reads on a
//! terminal (the offending line with a caret under the key).

/// A scenario that failed to parse or validate: where, which key, and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl ScenarioError {
    /// The message without its hint, and the hint (`did you mean …`, `write it as …`, `expected …`): the
    /// last `; ` clause or a closing `(did you mean …)`.
    fn split_hint(&self) -> (&str, Option<&str>) {
        let m = self.message.as_str();
        if let Some(at) = m.rfind(" (did you mean ")
            && m.ends_with(')')
        {
            return (&m[..at], Some(&m[at + 2..m.len() - 1]));
        }
        match m.rfind("; ") {
            Some(at) if at > 0 => (&m[..at], Some(&m[at + 2..])),
            _ => (m, None),
        }
    }

    /// The error as cargo writes one: the message on the first line (with `file:line: key:` as before), then
    /// the offending line of `source` (the file's text, when it could be read) with a caret under the key,
    /// and the hint as `help:`. Text from the file is escaped for the terminal by the caller.
    pub fn report(&self, source: Option<&str>) -> String {
        let (message, hint) = self.split_hint();
        let mut out = format!("{}:{}: {}: {message}", self.file, self.line, self.key);
        let text = source.and_then(|s| s.lines().nth(self.line.checked_sub(1)?));
        if let Some(text) = text.filter(|_| self.line > 0) {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            // Under the key's own name when the line holds it (`theads` in `client[0].theads`), else under
            // the line's text.
            let name = self.key.rsplit('.').next().unwrap_or(&self.key);
            let name = name.split('[').next().unwrap_or(name);
            let text: String = text.chars().take(200).collect();
            let (from, width) = match text.find(name).filter(|_| !name.is_empty()) {
                Some(at) => (text[..at].chars().count(), name.chars().count()),
                None => {
                    let lead = text.len() - text.trim_start().len();
                    (text[..lead].chars().count(), text.trim().chars().count().max(1))
                }
            };
            out.push_str(&format!(
                "\n{pad}--> {}:{}\n{pad} |\n{number} | {text}\n{pad} | {}{}",
                self.file,
                self.line,
                " ".repeat(from),
                "^".repeat(width)
            ));
            if let Some(h) = hint {
                out.push_str(&format!("\n{pad} = help: {h}"));
            }
        } else if let Some(h) = hint {
            out.push_str(&format!("\n  = help: {h}"));
        }
        out
    }
}

/// serde names Rust types; a scenario's author thinks in TOML's.
/// A parser's message in the scenario's own words: no Rust type names, an example where the value's form
/// was wrong, and a "did you mean" for a misspelt key.
pub(super) fn plain_types(message: &str, key: &str) -> String {
    let mut m = [("i64", "a whole number"), ("u64", "a whole number >= 0"), ("f64", "a number")]
        .iter()
        .fold(message.to_string(), |m, (rust, toml)| {
            m.replace(&format!("expected {rust}"), &format!("expected {toml}"))
        });
    if let Some(at) = m.find("expected struct Raw") {
        let end = m[at..].find([',', '\n']).map_or(m.len(), |e| at + e);
        m.replace_range(at..end, "expected a table");
    }
    let field = key.rsplit('.').next().unwrap_or(key);
    let field = field.split('[').next().unwrap_or(field);
    if m.contains("expected a table") && matches!(field, "latency" | "think" | "cost") {
        m.push_str(&format!("; write it as `{field} = {{ dist = \"exponential\", mean = \"500ms\" }}`"));
    }
    const DURATIONS: [&str; 12] =
        ["duration", "window", "throttle_latency", "wait", "base", "cap", "ramp_up", "on", "off", "mean", "min", "max"];
    if m.contains("expected a string") && DURATIONS.contains(&field) {
        m.push_str(&format!("; durations are text with a unit, e.g. `{field} = \"600s\"` or `\"10m\"`"));
    }
    // "unknown field `theads`, expected one of `threads`, ...": the nearest valid one.
    if let Some((word, tail)) = m.strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')) {
        let valid: Vec<String> = tail.split('`').skip(1).step_by(2).map(str::to_string).collect();
        let word = word.to_string();
        m = crate::text::with_hint(m.clone(), &word, valid.iter().map(String::as_str));
    }
    m
}
