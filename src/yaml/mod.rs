//! YAML in and out.
//!
//! Reading: one pass over `saphyr-parser` events builds a JSON value and, beside it, a table
//! from JSON pointer to the spans of the key and the value, so that any later finding maps back
//! to `file:line:col`. Duplicate keys, merge keys, custom tags, deep nesting and alias expansion
//! beyond a budget are rejected here. Scalars resolve by the YAML 1.2 core schema (`yes` and
//! `on` are strings).
//!
//! Writing: `serde-saphyr` with its YAML-1.1-safe quoting, so that Helm (a YAML 1.1 reader)
//! reads back exactly the strings written (`"on"`, `"yes"`, `"0755"` stay strings).
//!
//! Files: [`pointers`] (the pointer table), `loader` (events → value), `scalar` (core-schema
//! resolution), `reread` (the fast reader of rendered output, which must agree with the
//! loader), `emit` (the canonical writer, through `serde-saphyr`), `canon` (the same bytes,
//! written directly: built-in outputs).

pub mod canon;
mod emit;
mod loader;
pub mod pointers;
pub(crate) mod reread;
mod scalar;

pub use emit::emit;
pub use loader::parse;
pub use pointers::{Loc, PointerTable, escape_token};
pub(crate) use scalar::resolve_plain;

use crate::diag::{Code, Diagnostic};
use crate::source::SourceFile;
use serde_json::Value;

/// Largest accepted input, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest accepted nesting of mappings and lists.
pub const MAX_DEPTH: usize = 64;
/// Most nodes that alias expansion may add in one document.
pub const MAX_ALIAS_NODES: usize = 10_000;

/// A parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The value; `Value::Null` for an empty document.
    pub value: Value,
    /// Where each node came from.
    pub pointers: PointerTable,
}

/// Read raw bytes as a spec source: UTF-8 and the size limit are checked here. A rejected
/// input comes back with a source the diagnostic can point into.
pub fn source_from_bytes(
    name: &str,
    bytes: Vec<u8>,
) -> Result<SourceFile, (SourceFile, Box<Diagnostic>)> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err((
            SourceFile::new(name, ""),
            too_large(name, bytes.len() as u64),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            // Show the text up to the end of the line with the bad byte, lossily decoded.
            let line_end = bytes[valid..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |i| valid + i);
            let text = String::from_utf8_lossy(&bytes[..line_end]).into_owned();
            let src = SourceFile::new(name, text);
            let prefix_len = String::from_utf8_lossy(&bytes[..valid]).len();
            let span = src.span(prefix_len, prefix_len + '\u{fffd}'.len_utf8());
            let d = Diagnostic::new(
                Code::InputNotUtf8,
                Some(span),
                format!("invalid UTF-8 at byte {valid}"),
            )
            .help("save the file as UTF-8");
            Err((src, Box::new(d)))
        }
    }
}

/// The diagnostic for an input over [`MAX_INPUT_BYTES`].
pub fn too_large(name: &str, size: u64) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::new(
            Code::InputTooLarge,
            None,
            format!("`{name}` is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes"),
        )
        .help("split the spec into several files, one per team or cluster"),
    )
}

/// Split a multi-document text (as kexpose writes it) at `---` lines; documents with nothing
/// but comments and blank lines are dropped.
pub fn split_documents(text: &str) -> Vec<&str> {
    let mut docs: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Document, Vec<Diagnostic>> {
        parse(&SourceFile::new("t.yaml", text), true)
    }

    fn codes(text: &str) -> Vec<(Code, usize, usize)> {
        load(text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                let s = d.span.unwrap_or_default();
                (d.code, s.line, s.col)
            })
            .collect()
    }

    #[test]
    fn values_and_pointers() {
        let doc = load("a: 1\nb:\n  - x\n  - {c: yes, d: on, e: 0755, f: 1.5, g: ~}\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": 1, "b": ["x", {"c": "yes", "d": "on", "e": 755, "f": 1.5, "g": null}]})
        );
        let loc = doc.pointers.get("/b/1/d").unwrap();
        assert_eq!((loc.value.line, loc.value.col), (4, 17));
        assert_eq!((loc.key.unwrap().line, loc.key.unwrap().col), (4, 14));
        let b = doc.pointers.get("/b").unwrap();
        assert_eq!((b.key.unwrap().line, b.key.unwrap().col), (2, 1));
        assert_eq!(doc.pointers.value_span("/b/0").unwrap().line, 3);
    }

    /// Every node of a document is found by its pointer, in small and large (sorted)
    /// mappings, with escaped keys; tokens the loader never writes find nothing.
    #[test]
    fn every_pointer_is_located() {
        let mut text = String::from("big:\n");
        for i in (0..40).rev() {
            text.push_str(&format!("  k{i}: {{v: {i}}}\n"));
        }
        text.push_str("  \"a/b~c\": 1\nlist: [x, y, [z]]\n'q k': ''\n");
        let doc = load(&text).unwrap();
        fn all(v: &Value, at: String, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => m
                    .iter()
                    .for_each(|(k, v)| all(v, format!("{at}/{}", escape_token(k)), out)),
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| all(v, format!("{at}/{i}"), out)),
                _ => {}
            }
            out.push(at);
        }
        let mut pointers = Vec::new();
        all(&doc.value, String::new(), &mut pointers);
        assert_eq!(pointers.len(), doc.pointers.len());
        for p in &pointers {
            let loc = doc.pointers.get(p).unwrap_or_else(|| panic!("{p}"));
            let last = p.rsplit('/').next().unwrap_or_default();
            if let Some(key) = loc.key {
                let written = &text[key.range()];
                assert!(
                    written.trim_matches(['"', '\'']) == last.replace("~1", "/").replace("~0", "~"),
                    "{p}: {written}"
                );
            }
        }
        let k7 = doc.pointers.get("/big/k7/v").unwrap();
        assert_eq!(&text[k7.value.range()], "7");
        assert_eq!(doc.pointers.get("/big/a~1b~0c").unwrap().value.line, 42);
        for missing in [
            "/big/a/b~c",
            "/big/a~2b",
            "/list/01",
            "/list/+1",
            "/list/3",
            "big",
            "/nope",
        ] {
            assert!(doc.pointers.get(missing).is_none(), "{missing}");
        }
        assert_eq!(doc.pointers.value_span("/list/2/0/deeper").unwrap().col, 15);
        assert_eq!(doc.pointers.value_span("/nope/x").unwrap().line, 1);
        assert_eq!(doc.pointers.key_span("/q k").unwrap().line, 44);
    }

    #[test]
    fn duplicate_keys_name_the_first_occurrence() {
        let errs = load("x:\n  a: 1\n  b: {c: 2}\n  b: 3\n").unwrap_err();
        let first = errs[0].related.first().map(|r| (r.0.line, r.0.col));
        assert_eq!(first, Some((3, 3)), "{errs:?}");
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let doc = load("a: \"1\"\nb: 'true'\nc: !!str 5\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": "1", "b": "true", "c": "5"})
        );
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second() {
        assert_eq!(
            codes("a: 1\nb: 2\na: 3\n"),
            vec![(Code::YamlDuplicateKey, 3, 1)]
        );
        assert_eq!(
            codes("x:\n  a: 1\n  a: 2\ny:\n  b: 1\n  b: 1\n"),
            vec![
                (Code::YamlDuplicateKey, 3, 3),
                (Code::YamlDuplicateKey, 6, 3)
            ]
        );
    }

    #[test]
    fn limits() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
        assert_eq!(codes(bomb)[0].0, Code::YamlAliasBudget);
        let deep = "a: ".to_string() + &"[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(codes(&deep)[0].0, Code::YamlTooDeep);
        assert_eq!(codes("a: 1\n---\nb: 2\n")[0].0, Code::YamlMultiDocument);
        assert_eq!(codes("")[0].0, Code::SpecEmpty);
        assert_eq!(codes("# only a comment\n")[0].0, Code::SpecEmpty);
        assert_eq!(
            codes("a: &x {b: 1}\nc:\n  <<: *x\n")[0].0,
            Code::YamlMergeKey
        );
        assert_eq!(codes("a: !custom 1\n")[0].0, Code::YamlUnsupportedTag);
        assert_eq!(codes("? [a]\n: 1\n")[0].0, Code::YamlComplexKey);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let c = codes("a: \"open\nb: 1\n");
        assert_eq!(c[0].0, Code::YamlSyntax);
        let c = codes("a:\n\tb: 1\n");
        assert_eq!(c[0].0, Code::YamlSyntax);
        assert_eq!(c[0].1, 2);
    }

    #[test]
    fn aliases_expand_within_budget() {
        let doc = load("a: &x {b: 1}\nc: *x\n").unwrap();
        assert_eq!(doc.value["c"]["b"], 1);
        assert_eq!(doc.pointers.value_span("/c/b").unwrap().line, 2);
    }

    #[test]
    fn emit_quotes_yaml11_lookalikes() {
        let v = serde_json::json!({"a": "on", "b": "yes", "c": "y", "d": "0755", "e": "plain", "f": true, "g": 3});
        let out = emit(&v, false).unwrap();
        for bad in ["a: on\n", "b: yes\n", "c: y\n", "d: 0755\n"] {
            assert!(!out.contains(bad), "{out}");
        }
        assert!(
            out.contains("e: plain\n") && out.contains("f: true\n") && out.contains("g: 3\n"),
            "{out}"
        );
        let back = load(&out).unwrap().value;
        assert_eq!(back, v);
    }
}
