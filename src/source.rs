//! Source text and locations: every diagnostic points into a [`SourceFile`] through a [`Span`].

use std::fmt;

/// A byte range in a source file, with the 1-based line and column of its start
/// (column counted in characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub col: usize,
}

impl Span {
    /// The range as used by snippet renderers.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A named text that diagnostics can point into.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics (the path as the user gave it).
    pub name: String,
    /// The text, without a leading byte-order mark.
    pub text: String,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    /// Byte offset of every `CHAR_STEP`-th character; empty when the text is ASCII (then
    /// character and byte offsets are the same). Makes position conversions O(1), not
    /// O(column): a long flow line must not make loading quadratic. Empty exactly when the
    /// text is ASCII (a non-ASCII text has a mark at 0).
    char_marks: Vec<usize>,
    /// The credential values of the text (found on first use): every excerpt and message
    /// shown about this file masks them.
    masker: std::sync::OnceLock<Box<crate::secrets::Masker>>,
}

/// Distance, in characters, between two entries of `SourceFile::char_marks`.
const CHAR_STEP: usize = 64;

impl SourceFile {
    /// Wrap a text; a leading UTF-8 byte-order mark is dropped (kubectl accepts it too).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        // YAML also ends lines with a lone CR (old Mac files): make it a LF, so that lines
        // here are the parser's lines.
        if text.contains('\r') {
            let mut fixed = String::with_capacity(text.len());
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                fixed.push(if c == '\r' && chars.peek() != Some(&'\n') {
                    '\n'
                } else {
                    c
                });
            }
            text = fixed;
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let ascii = text.is_ascii();
        let char_marks = if ascii {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(CHAR_STEP)
                .map(|(i, _)| i)
                .collect()
        };
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            char_marks,
            masker: std::sync::OnceLock::new(),
        }
    }

    /// The credential values of this text and where they are (see [`crate::secrets`]).
    pub fn masker(&self) -> &crate::secrets::Masker {
        self.masker
            .get_or_init(|| Box::new(crate::secrets::Masker::scan(&self.text)))
    }

    /// Byte offset of the character with index `ci` (the text's length when there is none).
    fn byte_of_char(&self, ci: usize) -> usize {
        if self.char_marks.is_empty() {
            return ci.min(self.text.len());
        }
        let Some(&mark) = self.char_marks.get(ci / CHAR_STEP) else {
            return self.text.len();
        };
        mark + byte_offset_of_char(&self.text[mark..], ci % CHAR_STEP)
    }

    /// Character index of a byte offset (on a character boundary).
    fn char_of_byte(&self, at: usize) -> usize {
        if self.char_marks.is_empty() {
            return at;
        }
        let k = self.char_marks.partition_point(|&m| m <= at).max(1) - 1;
        k * CHAR_STEP + self.text[self.char_marks[k]..at].chars().count()
    }

    /// The span of a byte range: line and column computed from the text.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let start = self.clamp(start);
        let end = self.clamp(end.max(start));
        let line_idx = match self.line_starts.binary_search(&start) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_idx];
        let col = self.char_of_byte(start) - self.char_of_byte(line_start) + 1;
        Span {
            start,
            end,
            line: line_idx + 1,
            col,
        }
    }

    /// The span of a 1-based line and column (in characters); used for parser positions.
    pub fn span_at_line_col(&self, line: usize, col: usize, len_chars: usize) -> Span {
        let line_idx = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let line_start = self.line_starts[line_idx];
        let start_char = self.char_of_byte(line_start) + col.saturating_sub(1);
        let start = self.byte_of_char(start_char);
        let end = if start == self.text.len() {
            start
        } else {
            self.byte_of_char(start_char + len_chars)
        };
        Span {
            start,
            end,
            line: line_idx + 1,
            col: col.max(1),
        }
    }

    /// Byte range from the start of 1-based line `first_line` to the end of the line holding
    /// byte `last_byte` (without its line break).
    pub fn line_window(&self, first_line: usize, last_byte: usize) -> (usize, usize) {
        let idx = first_line.saturating_sub(1).min(self.line_starts.len() - 1);
        let from = self.line_starts[idx];
        let last_byte = self.clamp(last_byte.max(from));
        let to = self.text[last_byte..]
            .find('\n')
            .map_or(self.text.len(), |i| last_byte + i);
        (from, to)
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    fn clamp(&self, mut at: usize) -> usize {
        at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        at
    }
}

/// Byte offset of the `n`-th character of `s` (or `s.len()` when shorter).
fn byte_offset_of_char(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_count_lines_and_characters() {
        let f = SourceFile::new("x.yaml", "a: 1\nbé: 2\n");
        let s = f.span(10, 11);
        assert_eq!((s.line, s.col), (2, 5));
        assert_eq!(f.slice(s), "2");
        let t = f.span_at_line_col(2, 5, 1);
        assert_eq!(t, s);
    }

    /// The O(1) conversions agree with counting characters from the line start, on text with
    /// multi-byte characters on long lines (across many `CHAR_STEP` marks) and on short ones.
    #[test]
    fn conversions_match_counting() {
        let long: String = (0..500)
            .map(|i| if i % 7 == 0 { "é€😀" } else { "ab" })
            .collect();
        let text = format!("x: ä\n{long}\n\nz: {long}\n");
        for t in [text.as_str(), "a: 1\nbb: 22\n"] {
            let f = SourceFile::new("x.yaml", t);
            let lines: Vec<usize> = std::iter::once(0)
                .chain(t.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            for (start, _) in t.char_indices().chain([(t.len(), ' ')]) {
                let line = lines.partition_point(|&l| l <= start);
                let ls = lines[line - 1];
                let col = t[ls..start].chars().count() + 1;
                let s = f.span(start, start);
                assert_eq!((s.line, s.col), (line, col), "{start}");
                for len in [0, 1, 3, 70] {
                    let end = start
                        + t[start..]
                            .char_indices()
                            .nth(len)
                            .map_or(t.len() - start, |(i, _)| i);
                    let got = f.span_at_line_col(line, col, len);
                    assert_eq!((got.start, got.end), (start, end), "{start} {len}");
                }
            }
            // Past the end of a line (parser positions at a line end) and of the text.
            let last = f.span_at_line_col(lines.len() + 5, 1000, 2);
            assert_eq!((last.start, last.end), (t.len(), t.len()));
        }
    }

    #[test]
    fn bom_is_dropped() {
        let f = SourceFile::new("x.yaml", "\u{feff}a: 1");
        assert_eq!(f.text, "a: 1");
    }
}
