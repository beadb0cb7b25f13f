//! Finds where a key stands in a scenario file, so that every error names the file, the line and the key.
//!
//! Keys are written as paths such as `client[1].retry.wait`: table keys joined by dots, array elements by
//! index. The file is parsed once more into toml's spanned document, which keeps every key's byte range.

use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub struct Locator<'a> {
    text: &'a str,
    /// Parsed at the first look-up: only a scenario with an error needs it, and a large one parses slowly.
    root: std::cell::OnceCell<Option<Spanned<DeTable<'a>>>>,
}

enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        out.push(Seg::Key(key));
        while let Some((idx, after)) = rest.split_once(']') {
            if let Ok(i) = idx.parse() {
                out.push(Seg::Index(i));
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    out
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Locator<'a> {
        Locator { text, root: std::cell::OnceCell::new() }
    }

    fn root(&self) -> Option<&Spanned<DeTable<'a>>> {
        self.root.get_or_init(|| DeTable::parse(self.text).ok()).as_ref()
    }

    /// 1-based line of byte offset `at`.
    pub fn line_of_offset(&self, at: usize) -> usize {
        self.text.as_bytes()[..at.min(self.text.len())].iter().filter(|&&b| b == b'\n').count() + 1
    }

    /// The line where `path` is written or, when it is missing, where its nearest written parent is.
    pub fn line(&self, path: &str) -> usize {
        let Some(root) = self.root() else { return 1 };
        let mut table: Option<&DeTable<'a>> = Some(root.get_ref());
        let mut array: Option<&[Spanned<DeValue<'a>>]> = None;
        let mut best = 0;
        for seg in segments(path) {
            let found = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t.iter().find(|(key, _)| key.get_ref().as_ref() == k).map(|(key, v)| {
                    best = key.span().start;
                    v
                }),
                (Seg::Index(i), _, Some(a)) => a.get(i).inspect(|v| best = v.span().start),
                _ => None,
            };
            let Some(value) = found else { break };
            table = value.get_ref().as_table();
            array = value.get_ref().as_array().map(|a| a.as_ref());
        }
        self.line_of_offset(best)
    }

    /// The dotted path of the innermost key whose key or value spans byte offset `at` (for toml's own errors,
    /// which carry a span but not a path).
    pub fn key_at(&self, at: usize) -> String {
        let mut path = Vec::new();
        if let Some(root) = self.root() {
            find_in_table(root.get_ref(), at, &mut path);
        }
        path.iter().fold(String::new(), |acc, seg| match seg.starts_with('[') || acc.is_empty() {
            true => acc + seg,
            false => acc + "." + seg,
        })
    }
}

/// The line and depth of the deepest nesting in TOML text: the parts of one dotted key, or the open `[`
/// and `{` around a value, outside strings and comments. The parser stops at a fixed depth without saying
/// where; this says where.
pub fn deepest_nesting(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let (mut best, mut line, mut i) = (None::<(usize, usize)>, 1usize, 0usize);
    // Open brackets: `h` a table header, `[` an array, `{` an inline table.
    let mut open: Vec<u8> = Vec::new();
    let (mut in_key, mut dots) = (true, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        let depth = open.len().max(dots + 1);
        if best.is_none_or(|(_, d)| depth > d) {
            best = Some((line, depth));
        }
        match b {
            b'\n' => {
                line += 1;
                dots = 0;
                in_key = open.last().is_none_or(|&o| o == b'{');
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                // Skip a string (basic, literal or multi-line), counting the lines inside it.
                let quote = &bytes[i..i + 1];
                let close: &[u8] = if bytes[i..].starts_with(&[b, b, b]) { &bytes[i..i + 3] } else { quote };
                i += close.len();
                while i < bytes.len() && !bytes[i..].starts_with(close) {
                    if bytes[i] == b'\\' && b == b'"' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += close.len();
                continue;
            }
            b'[' => {
                let header = open.is_empty() && in_key;
                open.push(if header { b'h' } else { b'[' });
                in_key = header;
            }
            b'{' => {
                open.push(b'{');
                (in_key, dots) = (true, 0);
            }
            b']' | b'}' => {
                open.pop();
                in_key = false;
            }
            b'=' => (in_key, dots) = (false, 0),
            b',' => (in_key, dots) = (open.last() == Some(&b'{'), 0),
            b'.' if in_key => dots += 1,
            _ => {}
        }
        i += 1;
    }
    best
}

fn within(span: Range<usize>, at: usize) -> bool {
    span.start <= at && at < span.end.max(span.start + 1)
}

// A table's span in an array of tables covers only its `[[header]]`, so containers are searched whole
// rather than pruned by span.
fn find_in_table(table: &DeTable<'_>, at: usize, path: &mut Vec<String>) -> bool {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        if find_in_value(value, at, path) || within(key.span(), at) || within(value.span(), at) {
            return true;
        }
        path.pop();
    }
    false
}

fn find_in_value(value: &Spanned<DeValue<'_>>, at: usize, path: &mut Vec<String>) -> bool {
    if let Some(table) = value.get_ref().as_table() {
        return find_in_table(table, at, path);
    }
    for (i, item) in value.get_ref().as_array().map_or(&[][..], |a| a.as_ref()).iter().enumerate() {
        path.push(format!("[{i}]"));
        if find_in_value(item, at, path) || within(item.span(), at) {
            return true;
        }
        path.pop();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n\n[[client]]\nname = \"a\"\n\n[[client]]\nname = \"b\"\nthreads = 0\nretry = { \
        policy = \"fixed\", wait = \"1s\" }\n";

    #[test]
    fn finds_the_line_of_a_nested_key() {
        let loc = Locator::new(TEXT);
        assert_eq!(loc.line("name"), 1);
        assert_eq!(loc.line("client[1].threads"), 8);
        assert_eq!(loc.line("client[1].retry.wait"), 9);
    }

    #[test]
    fn a_missing_key_points_at_its_parent() {
        let loc = Locator::new(TEXT);
        // The `[[client]]` header of the first client.
        assert_eq!(loc.line("client[0].threads"), 3);
    }

    #[test]
    fn finds_the_deepest_nesting() {
        let deep = format!("a = 1\n# x.y.z.w\nb = \"q.r.s\"\nc{} = 1\n", ".d".repeat(40));
        assert_eq!(deepest_nesting(&deep), Some((4, 41)));
        assert_eq!(deepest_nesting(TEXT).map(|(_, d)| d), Some(2));
        assert_eq!(deepest_nesting("x = [[[[1]]]]\n"), Some((1, 4)));
        let floats = format!("x = [{}]\n", vec!["1.5"; 50].join(", "));
        assert_eq!(deepest_nesting(&floats), Some((1, 1)));
        assert_eq!(deepest_nesting("[a.b.c]\nk = { p.q = 1 }\n"), Some((1, 3)));
    }

    #[test]
    fn names_the_key_at_an_offset() {
        let loc = Locator::new(TEXT);
        let at = TEXT.find("threads").unwrap();
        assert_eq!(loc.key_at(at), "client[1].threads");
    }
}
