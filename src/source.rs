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
}

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
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
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
        let col = self.text[line_start..start].chars().count() + 1;
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
        let rest = &self.text[line_start..];
        let start = line_start + byte_offset_of_char(rest, col.saturating_sub(1));
        let end = start + byte_offset_of_char(&self.text[start..], len_chars);
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

    #[test]
    fn bom_is_dropped() {
        let f = SourceFile::new("x.yaml", "\u{feff}a: 1");
        assert_eq!(f.text, "a: 1");
    }
}
