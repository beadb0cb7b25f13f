//! Reading a log's rows: bounded physical lines (any line ending, counted for error messages) and the
//! fields of a delimited line (quotes, doubled quotes), without copying.

/// The longest row a trace may have. A longer one stops the read (it cannot be skipped): it is almost
/// always a file that is not a trace at all, and reading on would hold an unbounded line in memory.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// How a read failure's message starts (told apart from a malformed row, which may be skipped).
pub(crate) const CANNOT_READ: &str = "cannot read";
use std::io::BufRead;

/// Reads physical lines of at most [`MAX_ROW_BYTES`], ended by `\n`, `\r\n` or a lone `\r`, counting
/// them, so that every row's line number is right whatever the file's line endings.
pub struct LineReader {
    inner: Box<dyn BufRead>,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub line: u64,
    /// The last line ended with `\r`: a `\n` right after it belongs to the same line ending.
    after_cr: bool,
    at_start: bool,
}

/// Why a line could not be read.
pub enum LineError {
    TooLong,
    Io(std::io::Error),
}

impl LineReader {
    pub fn new(inner: Box<dyn BufRead>) -> LineReader {
        LineReader { inner, buf: Vec::with_capacity(256), line: 0, after_cr: false, at_start: true }
    }

    /// The next line without its ending, or `None` at the end of the input.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, LineError> {
        self.buf.clear();
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(LineError::Io(e)),
            };
            if available.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            if std::mem::take(&mut self.after_cr) && available[0] == b'\n' {
                self.inner.consume(1);
                continue;
            }
            any = true;
            // memchr's vector search: a row's end is found in a few instructions, not two compares a byte.
            match memchr::memchr2(b'\n', b'\r', available) {
                Some(p) => {
                    if self.buf.len() + p > MAX_ROW_BYTES {
                        self.line += 1;
                        return Err(LineError::TooLong);
                    }
                    self.buf.extend_from_slice(&available[..p]);
                    self.after_cr = available[p] == b'\r';
                    self.inner.consume(p + 1);
                    break;
                }
                None => {
                    let n = available.len();
                    if self.buf.len() + n > MAX_ROW_BYTES {
                        self.line += 1;
                        return Err(LineError::TooLong);
                    }
                    self.buf.extend_from_slice(available);
                    self.inner.consume(n);
                }
            }
        }
        self.line += 1;
        let mut line = &self.buf[..];
        if std::mem::take(&mut self.at_start) {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        Ok(Some(line))
    }
}

pub(crate) fn line_error(e: LineError) -> String {
    match e {
        LineError::TooLong => {
            format!("{CANNOT_READ} on past a row longer than {} MiB (is this a trace?)", MAX_ROW_BYTES >> 20)
        }
        LineError::Io(e) => format!("{CANNOT_READ}: {e}"),
    }
}

/// Splits one line of delimited text into fields, in place of a CSV reader: a row is one line, a quoted
/// field may hold the delimiter and `""` for a quote, and a quote that does not close on its line is an
/// error at that line (rather than swallowing the rest of the file into one field).
pub struct Splitter {
    delimiter: u8,
    /// The row's fields one after another, when they are not all UTF-8 text (else in `text`).
    bytes: Vec<u8>,
    /// The row's fields, when they are UTF-8 text: checked once a row, not once a field.
    text: String,
    utf8: bool,
    /// Each field's (start, end) in `text` or `bytes`.
    fields: Vec<(usize, usize)>,
}

/// A byte with its high bit set where `word`'s byte is zero, and nowhere else.
#[inline]
fn zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW7).wrapping_add(LOW7)) | word | LOW7)
}

/// Copies `bytes` to `text` if they are UTF-8, and says whether they were.
fn copy_text(bytes: &[u8], text: &mut String) -> bool {
    std::str::from_utf8(bytes).map(|t| text.push_str(t)).is_ok()
}

impl Splitter {
    pub fn new(delimiter: u8) -> Splitter {
        Splitter { delimiter, bytes: Vec::new(), text: String::new(), utf8: true, fields: Vec::new() }
    }

    pub fn split(&mut self, line: &[u8]) -> Result<(), String> {
        self.bytes.clear();
        self.text.clear();
        self.fields.clear();
        // The common row has no quotes: its fields are its own bytes between delimiters, found in one pass
        // that also looks for a quote, eight bytes at a time; a quote sends the row to the reading below.
        if self.split_plain(line) {
            self.keep(line);
            return Ok(());
        }
        self.fields.clear();
        let mut i = 0;
        loop {
            let start = self.bytes.len();
            if line.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match line.get(i) {
                        None => return Err("a quoted field does not close on its line (an unterminated quote?)".into()),
                        Some(b'"') if line.get(i + 1) == Some(&b'"') => {
                            self.bytes.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&b) => {
                            self.bytes.push(b);
                            i += 1;
                        }
                    }
                }
            }
            while let Some(&b) = line.get(i).filter(|&&b| b != self.delimiter) {
                self.bytes.push(b);
                i += 1;
            }
            self.fields.push((start, self.bytes.len()));
            if i >= line.len() {
                self.utf8 = copy_text(&self.bytes, &mut self.text);
                return Ok(());
            }
            i += 1;
        }
    }

    /// Finds the fields of a row without quotes; false, with the fields left unfinished, at a quote.
    #[inline]
    fn split_plain(&mut self, line: &[u8]) -> bool {
        let (delimiter, quote) = (u64::from(self.delimiter) * 0x0101_0101_0101_0101, 0x2222_2222_2222_2222);
        let mut start = 0;
        let mut at = 0;
        while let Some(chunk) = line.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            let mut hits = zero_bytes(word ^ delimiter) | zero_bytes(word ^ quote);
            while hits != 0 {
                let i = at + hits.trailing_zeros() as usize / 8;
                if line[i] != self.delimiter {
                    return false;
                }
                self.fields.push((start, i));
                start = i + 1;
                hits &= hits - 1;
            }
            at += 8;
        }
        for (i, &b) in line.iter().enumerate().skip(at) {
            if b == self.delimiter {
                self.fields.push((start, i));
                start = i + 1;
            } else if b == b'"' {
                return false;
            }
        }
        self.fields.push((start, line.len()));
        true
    }

    /// Keeps the row's field bytes: as text when they are UTF-8, so fields are read without another check.
    fn keep(&mut self, line: &[u8]) {
        self.utf8 = copy_text(line, &mut self.text);
        if !self.utf8 {
            self.bytes.extend_from_slice(line);
        }
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let &(start, end) = self.fields.get(i)?;
        Some(if self.utf8 { &self.text.as_bytes()[start..end] } else { &self.bytes[start..end] })
    }

    /// Field `i` as text: `None` past the last field, `Some(Err(()))` when it is not UTF-8.
    #[inline]
    pub fn get_str(&self, i: usize) -> Option<Result<&str, ()>> {
        let &(start, end) = self.fields.get(i)?;
        Some(if self.utf8 {
            // A field split off at a delimiter that is not ASCII may cut a character.
            self.text.get(start..end).ok_or(())
        } else {
            std::str::from_utf8(&self.bytes[start..end]).map_err(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Result<Vec<String>, String> {
        let mut s = Splitter::new(b',');
        s.split(line.as_bytes())?;
        Ok((0..s.len()).map(|i| String::from_utf8(s.get(i).unwrap().to_vec()).unwrap()).collect())
    }

    /// Rows without quotes (the fast path) and with them split alike: empty fields, a trailing delimiter,
    /// a quoted delimiter and a doubled quote.
    #[test]
    fn splits_plain_and_quoted_rows() {
        assert_eq!(fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(fields("a,").unwrap(), ["a", ""]);
        assert_eq!(fields("").unwrap(), [""]);
        assert_eq!(fields(r#""x,y",z,"a""b""#).unwrap(), ["x,y", "z", "a\"b"]);
        assert_eq!(fields(r#"1,"q",,"#).unwrap(), ["1", "q", "", ""]);
        assert!(fields(r#"1,"open"#).is_err());
    }

    /// The fields as a byte-at-a-time reading gives them (the splitter's specification).
    fn reference(line: &[u8], delimiter: u8) -> Result<Vec<Vec<u8>>, ()> {
        if !line.contains(&b'"') || delimiter == b'"' {
            return Ok(line.split(|&b| b == delimiter).map(<[u8]>::to_vec).collect());
        }
        let (mut fields, mut i) = (Vec::new(), 0);
        loop {
            let mut field = Vec::new();
            if line.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match (line.get(i), line.get(i + 1)) {
                        (None, _) => return Err(()),
                        (Some(b'"'), Some(b'"')) => (field.push(b'"'), i += 2).1,
                        (Some(b'"'), _) => break i += 1,
                        (Some(&b), _) => (field.push(b), i += 1).1,
                    }
                }
            }
            while let Some(&b) = line.get(i).filter(|&&b| b != delimiter) {
                field.push(b);
                i += 1;
            }
            fields.push(field);
            if i >= line.len() {
                return Ok(fields);
            }
            i += 1;
        }
    }

    proptest::proptest! {
        /// Rows of any length (across the eight-byte steps), with delimiters, quotes, a non-ASCII character
        /// and bytes that are not UTF-8, split as the reference does; a field reads as text exactly when
        /// its bytes are UTF-8.
        #[test]
        fn rows_split_as_byte_by_byte(
            line in proptest::collection::vec(proptest::sample::select(
                vec![b'a', b'7', b',', b';', b'"', b' ', 0xc3, 0xa9, 0xff, 0x80]), 0..40),
            delimiter in proptest::sample::select(vec![b',', b';', b'"', 0xa9]),
        ) {
            let mut splitter = Splitter::new(delimiter);
            let got = splitter.split(&line);
            let want = reference(&line, delimiter);
            proptest::prop_assert_eq!(got.is_ok(), want.is_ok());
            if let Ok(want) = want {
                proptest::prop_assert_eq!(splitter.len(), want.len());
                for (i, field) in want.iter().enumerate() {
                    proptest::prop_assert_eq!(splitter.get(i), Some(field.as_slice()));
                    let text = splitter.get_str(i).expect("a field");
                    proptest::prop_assert_eq!(text.ok(), std::str::from_utf8(field).ok());
                }
                proptest::prop_assert!(splitter.get(want.len()).is_none() && splitter.get_str(want.len()).is_none());
            }
        }
    }
}
