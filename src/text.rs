//! Text that came from input (trace callers, names, cells) made safe where it is shown: on a terminal,
//! in a CSV cell a spreadsheet may open, and in a chart label.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is a control character: C0 (but the caller decides on tab and newline), DEL, or C1.
fn is_control(c: char) -> bool {
    c.is_control()
}

/// `s` with every control character written as an escape (`\u{1b}`), so that a terminal shows it as text
/// instead of obeying it (a title change, a screen clear, a colour). Newlines are escaped too: a name is
/// one line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message of several lines (an error) for a terminal: control characters escaped but newlines and
/// tabs kept.
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_control(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\n')
            .map(|line| line.split('\t').map(terminal).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A text cell for a CSV file that a spreadsheet may open, neutralised as OWASP recommends against CSV
/// injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
/// so a spreadsheet shows it as text instead of running it as a formula. Only for cells that hold names:
/// numbers are written as numbers.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// The longest label a chart draws, in characters; longer ones are cut with an ellipsis (layout time
/// grows with a label's length, and a label longer than the canvas says nothing more).
pub const LABEL_CHARS: usize = 60;

/// A label for a chart: control characters (not allowed in SVG text) escaped, and cut to
/// [`LABEL_CHARS`] with an ellipsis.
pub fn label(s: &str) -> Cow<'_, str> {
    let escaped = terminal(s);
    if escaped.chars().nth(LABEL_CHARS).is_none() {
        return escaped;
    }
    let mut out: String = escaped.chars().take(LABEL_CHARS - 1).collect();
    out.push('…');
    Cow::Owned(out)
}

/// The candidate closest to `word` by edit distance, when close enough to be a slip of the keyboard (at
/// most a third of the word's letters, and at least one, apart): for "did you mean" hints.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= limit && *c != word)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `message` with ` (did you mean `x`?)` when `word` is a near miss of one of `candidates`.
pub fn with_hint<'a>(message: String, word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("{message} (did you mean `{c}`?)"),
        None => message,
    }
}

/// A whole number with thousands separators: `356,325`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An ordinal in words' digits: 1st, 2nd, 3rd, 4th, 11th, 22nd.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Ranges of whole numbers as words: `14, 16–18`.
pub fn ranges(ranges: &[(u64, u64)]) -> String {
    let parts: Vec<String> =
        ranges.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") }).collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_ranges_read_as_words() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal).to_vec();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"]);
        assert_eq!(ranges(&[(14, 14), (16, 18)]), "14, 16–18");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn terminal_escapes_every_control_character() {
        assert_eq!(terminal("\u{1b}]0;PWNED\u{7}\u{1b}[2Jred"), "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2Jred");
        assert_eq!(terminal("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(terminal("10.0.1.12"), "10.0.1.12");
        assert_eq!(terminal_lines("one\n\ttwo\u{1b}"), "one\n\ttwo\\u{1b}");
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://evil.example\",\"x\")"), "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(csv_cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("acme"), "acme");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn near_misses_get_a_hint_and_far_ones_none() {
        assert_eq!(did_you_mean("theads", ["threads", "think", "rate"]), Some("threads"));
        assert_eq!(did_you_mean("throtle_rate", ["throttle_rate", "gave_up"]), Some("throttle_rate"));
        assert_eq!(did_you_mean("fulljitter", ["none", "full", "equal", "decorrelated"]), None);
        assert_eq!(did_you_mean("ful", ["none", "full", "equal"]), Some("full"));
        assert_eq!(did_you_mean("xyz", ["threads"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn labels_are_cut_and_escaped() {
        let long = "x".repeat(1 << 17);
        let l = label(&long);
        assert_eq!(l.chars().count(), LABEL_CHARS);
        assert!(l.ends_with('…'));
        assert_eq!(label("A\u{1b}[2J"), "A\\u{1b}[2J");
        assert_eq!(label("CompareFace"), "CompareFace");
        let exact = "y".repeat(LABEL_CHARS);
        assert_eq!(label(&exact), exact);
    }
}
