//! Reading rendered output back, fast, for the shape kexpose's templates produce: block
//! mappings and sequences whose leaves are JSON (the `yaml` filter's output) or simple plain
//! words (`kind: APIRule`, `noAuth: true`).
//!
//! Parsing every rendered object with the full YAML parser was the largest single cost of a
//! render. [`parse`] reads a strict subset of YAML itself and answers `None` for anything
//! outside it — comments in the body, tabs, non-ASCII text, anchors, tags, multi-line or
//! quoted plain scalars, unusual indentation, duplicate keys, deep nesting, `\u` escapes,
//! `-0` — and the caller then uses the full loader (`crate::yaml::parse`), which also reports
//! the errors. Inside the subset the result is the value the full loader builds (same scalars
//! by the same YAML 1.2 core resolution, same key order); the tests check this against the
//! full loader on the built-in templates' output and on randomly generated and mutated
//! documents.

use serde::de::{self, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting (block and JSON levels together) read here; deeper goes to the full loader,
/// which has the real limit.
const MAX_DEPTH: usize = 48;
/// Longest key read here (YAML limits implicit keys to 1024 characters).
const MAX_KEY: usize = 1000;

/// The value of one rendered document, when it lies in the subset.
pub fn parse(text: &str) -> Option<Value> {
    // Printable ASCII and line feeds only: no tabs, carriage returns, control or non-ASCII
    // characters (whose treatment inside scalars differs between YAML and JSON).
    if !text
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let line = raw.trim_end_matches(' ');
        let content = line.trim_start_matches(' ');
        if content.is_empty() {
            continue;
        }
        if content.starts_with('#') {
            return None;
        }
        lines.push(Line {
            indent: line.len() - content.len(),
            text: content,
        });
    }
    let first = lines.first()?.indent;
    let mut reader = Reader {
        lines,
        at: 0,
        depth: 0,
    };
    let value = reader.block(first).ok()?;
    (reader.at == reader.lines.len()).then_some(value)
}

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// Outside the subset (the full loader decides).
struct Bail;

type Read<T> = Result<T, Bail>;

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    at: usize,
    depth: usize,
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A plain word: the scalars and keys the templates write unquoted, and numbers. It contains
/// no spaces, `:` or `#`, and starts with a letter, digit, `_` or `-` and a digit, so it
/// means the same in any block position.
fn is_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphanumeric()
            || b[0] == b'_'
            || (b[0] == b'-' && b.get(1).is_some_and(u8::is_ascii_digit)))
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-'))
        && b.len() <= MAX_KEY
}

impl Reader<'_> {
    /// The block node starting at the current line, which has exactly `indent`.
    fn block(&mut self, indent: usize) -> Read<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        let value = if is_item(self.lines[self.at].text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        value
    }

    /// Whatever follows the current line ends the block at `indent`: a less indented line, or
    /// the end. A more indented line is outside the subset (a continuation, or an error).
    fn end_of_block(&self, indent: usize) -> Read<()> {
        match self.lines.get(self.at) {
            Some(next) if next.indent > indent => Err(Bail),
            _ => Ok(()),
        }
    }

    fn sequence(&mut self, indent: usize) -> Read<Value> {
        let mut items = Vec::new();
        while let Some(&line) = self.lines.get(self.at) {
            if line.indent != indent || !is_item(line.text) {
                break;
            }
            if line.text == "-" {
                self.at += 1;
                items.push(self.nested(indent, false)?);
                continue;
            }
            let rest = &line.text[2..];
            if rest.starts_with(' ') {
                return Err(Bail);
            }
            if split_entry(rest)?.is_some() {
                // `- key: value`: a mapping whose keys line up with this first one.
                self.lines[self.at] = Line {
                    indent: indent + 2,
                    text: rest,
                };
                self.depth += 1;
                let map = self.mapping(indent + 2);
                self.depth -= 1;
                items.push(map?);
            } else {
                self.at += 1;
                items.push(self.scalar(rest)?);
            }
        }
        self.end_of_block(indent)?;
        Ok(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Read<Value> {
        let mut map = Map::new();
        while let Some(&line) = self.lines.get(self.at) {
            if line.indent != indent {
                break;
            }
            let Some((key, value)) = split_entry(line.text)? else {
                return Err(Bail);
            };
            if map.contains_key(&key) {
                return Err(Bail);
            }
            self.at += 1;
            let value = match value {
                Some(v) => self.scalar(v)?,
                None => self.nested(indent, true)?,
            };
            map.insert(key, value);
        }
        self.end_of_block(indent)?;
        Ok(Value::Object(map))
    }

    /// The value of a `key:` or `-` with nothing after it: the following more indented block,
    /// or (after a key) a sequence at the key's own indentation; else null.
    fn nested(&mut self, indent: usize, after_key: bool) -> Read<Value> {
        match self.lines.get(self.at) {
            Some(next) if next.indent > indent => self.block(next.indent),
            Some(next) if after_key && next.indent == indent && is_item(next.text) => {
                self.depth += 1;
                let seq = self.sequence(indent);
                self.depth -= 1;
                seq
            }
            _ => Ok(Value::Null),
        }
    }

    fn scalar(&self, text: &str) -> Read<Value> {
        if text.starts_with(['"', '[', '{']) {
            json(text, self.depth)
        } else if is_word(text) {
            Ok(crate::yaml::resolve_plain(text))
        } else {
            Err(Bail)
        }
    }
}

/// `key: value` → (key, Some(value)); `key:` → (key, None); not a mapping entry → None.
/// The key is a plain word or a JSON string; `:` must be followed by a space or the end.
fn split_entry(text: &str) -> Read<Option<(String, Option<&str>)>> {
    if text.starts_with(['[', '{']) {
        return Ok(None);
    }
    let (key, rest) = if text.starts_with('"') {
        let end = json_string_end(text).ok_or(Bail)?;
        let (quoted, rest) = text.split_at(end);
        if !rest.starts_with(':') {
            return Ok(None);
        }
        if quoted.len() > MAX_KEY || quoted.contains("\\u") {
            return Err(Bail);
        }
        let key: String = serde_json::from_str(quoted).map_err(|_| Bail)?;
        (key, &rest[1..])
    } else {
        let Some(colon) = text.find(':') else {
            return Ok(None);
        };
        let key = &text[..colon];
        if !is_word(key) {
            return Err(Bail);
        }
        (key.to_string(), &text[colon + 1..])
    };
    if rest.is_empty() {
        return Ok(Some((key, None)));
    }
    let Some(value) = rest.strip_prefix(' ') else {
        return Err(Bail);
    };
    let value = value.trim_start_matches(' ');
    Ok(Some((key, (!value.is_empty()).then_some(value))))
}

/// Byte offset just past the JSON string that `text` starts with.
fn json_string_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A JSON value (the `yaml` filter's output) as the YAML loader reads it.
fn json(text: &str, depth: usize) -> Read<Value> {
    if text.contains("\\u") || has_long_number(text) {
        return Err(Bail);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = de.deserialize_any(Strict { depth }).map_err(|_| Bail)?;
    de.end().map_err(|_| Bail)?;
    Ok(value)
}

/// 19 or more digits in a row: a number past `i64`, which the loader and serde_json read
/// differently (the loader saturates it, serde_json keeps a `u64` or makes it a float).
fn has_long_number(text: &str) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 19
    })
}

/// Builds a `Value` from JSON, refusing what the YAML loader reads differently or rejects:
/// duplicate keys, `-0` (YAML: the integer 0), overlong keys, deep nesting.
#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if v == 0.0 && v.is_sign_negative() {
            return Err(E::custom("-0"));
        }
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if key.len() > MAX_KEY || map.contains_key(&key) {
                return Err(de::Error::custom("key"));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

impl Strict {
    fn deeper<E: de::Error>(self) -> Result<Strict, E> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(E::custom("deep"));
        }
        Ok(Strict {
            depth: self.depth + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// The full loader's reading, as JSON text (which keeps key order), or None on error.
    fn full(text: &str) -> Option<String> {
        crate::yaml::parse(&SourceFile::new("t.yaml", text), false)
            .ok()
            .map(|d| serde_json::to_string(&d.value).unwrap())
    }

    fn fast(text: &str) -> Option<String> {
        parse(text).map(|v| serde_json::to_string(&v).unwrap())
    }

    /// Wherever the subset reader answers, the full loader agrees.
    fn agrees(text: &str) -> bool {
        match fast(text) {
            None => true,
            Some(v) => full(text).as_deref() == Some(v.as_str()),
        }
    }

    #[test]
    fn reads_the_template_shapes() {
        for doc in [
            "apiVersion: gateway.kyma-project.io/v2\nkind: APIRule\nmetadata:\n  name: \"a\"\n  labels: {\"x\":\"y\",\"n\":1}\nspec:\n  hosts:\n    - \"h.example.com\"\n  rules:\n    - path: \"/*\"\n      methods: [\"GET\",\"POST\"]\n      noAuth: true\n    - path: \"/b\"\n      methods: [\"GET\"]\n      jwt:\n        authentications: [{\"issuer\":\"https://x\",\"jwksUri\":\"https://x/k\"}]\n      timeout: 30\n",
            "config:\n  existingSecret: \"s\"\n  cookieName: \"\"\nextraArgs:\n  \"provider\": \"oidc\"\n  \"cookie-secure\": \"true\"\n",
            "spec:\n  config:\n    authorizers:\n      - name: \"a\"\n        port: 80\n        pathPrefix: \"/verify?original=\"\n        headers: {\"inCheck\":{\"include\":[\"a\",\"b\"]}}\n",
            "resources: [\"a.yaml\",\"b/c.yaml\"]\n",
            "a:\n- x\n- y\nb: null\nc:\nd: -0\n",
            "- a: 1\n  b:\n    - [1, 2.5, -3, 1e3, true, null]\n-\n  c: \"q\\\"uote\\\\ \\n\\t\"\n- word\n- 0x1F\n- 0o17\n- 12345678901234567890123\n",
            "  indented: root\n  second: \"x\"\n",
        ] {
            let got = fast(doc);
            assert!(got.is_some(), "not read: {doc}");
            assert_eq!(got, full(doc), "{doc}");
        }
    }

    #[test]
    fn leaves_the_rest_to_the_full_loader() {
        for doc in [
            "a: 1 # comment\n",
            "# comment\na: 1\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 'single'\n",
            "a: two words\n",
            "a: b: c\n",
            "a:\tb\n",
            "a: é\n",
            "a: \"\\u00e9\"\n",
            "a: [-0]\n",
            "a: [9223372036854775808]\n",
            "a: {\"n\": 18446744073709551615}\n",
            "a: ~\n",
            "a: 1\na: 2\n",
            "a: {\"k\":1,\"k\":2}\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: 1\n  b: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "- - a\n",
            "-  a\n",
            "a:b\n",
            "\"a\":b\n",
            "? a\n: b\n",
            "a: [1, 2\n",
            "a: {b: 1}\n",
            "a: [x]\n",
            "<<: {\"a\": 1}\n",
            "a: .inf\n",
            "a: \"x\" trailing\n",
            "a: plain\n  continued\n",
            "- a\nb: 1\n",
            "a: 1\r\nb: 2\r\n",
            "",
            "%YAML 1.2\n",
            "...\n",
        ] {
            assert!(fast(doc).is_none(), "should not be read: {doc:?}");
            assert!(agrees(doc), "{doc:?}");
        }
        let deep = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        assert!(fast(&deep).is_none());
        let long_key = format!("\"{}\": 1\n", "k".repeat(1100));
        assert!(fast(&long_key).is_none());
    }

    /// Random documents in the template shape (nested mappings and sequences, JSON and word
    /// leaves, tricky strings), each also mutated at random: wherever the subset reader answers
    /// it matches the full loader, and it answers for every unmutated document.
    #[test]
    fn agrees_with_the_full_loader_on_random_documents() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        const WORDS: [&str; 14] = [
            "on", "yes", "y", "no", "null", "true", "False", "0755", "1.5", "0x1F", "x-y.z/w",
            "_a", "12e3", "1_000",
        ];
        const STRINGS: [&str; 12] = [
            "",
            "a: b",
            "# not a comment",
            "- item",
            "quote\"s",
            "back\\slash",
            "{[,]}",
            "line\nbreak",
            "tab\tx",
            "  spaced  ",
            "*alias",
            "&anchor",
        ];
        fn leaf(next: &mut impl FnMut(usize) -> usize) -> String {
            match next(6) {
                0 => WORDS[next(WORDS.len())].to_string(),
                1 => serde_json::to_string(STRINGS[next(STRINGS.len())]).unwrap(),
                2 => format!("{}", next(100_000) as i64 - 50_000),
                3 => format!("{}.{}", next(100), next(100)),
                4 => serde_json::to_string(&serde_json::json!({
                    "k": [STRINGS[next(STRINGS.len())], next(10), {"n": null, "b": false}]
                }))
                .unwrap(),
                _ => serde_json::to_string(&vec![WORDS[next(WORDS.len())]; next(3)]).unwrap(),
            }
        }
        fn key(next: &mut impl FnMut(usize) -> usize) -> String {
            if next(3) == 0 {
                serde_json::to_string(STRINGS[next(STRINGS.len())]).unwrap()
            } else {
                format!("{}{}", WORDS[next(WORDS.len())], next(4))
            }
        }
        fn node(
            out: &mut String,
            indent: usize,
            depth: usize,
            next: &mut impl FnMut(usize) -> usize,
        ) {
            let pad = " ".repeat(indent);
            if depth > 3 || next(4) == 0 {
                // A sequence.
                for _ in 0..1 + next(3) {
                    if next(3) == 0 && depth <= 3 {
                        let first = key(next);
                        let mut second = key(next);
                        while second == first {
                            second = key(next);
                        }
                        out.push_str(&format!("{pad}- {first}: {}\n", leaf(next)));
                        out.push_str(&format!("{pad}  {second}: {}\n", leaf(next)));
                    } else {
                        out.push_str(&format!("{pad}- {}\n", leaf(next)));
                    }
                }
                return;
            }
            let mut used = std::collections::HashSet::new();
            for _ in 0..1 + next(4) {
                let k = key(next);
                if !used.insert(k.clone()) {
                    continue;
                }
                match next(4) {
                    0 => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        node(out, indent + 2, depth + 1, next);
                    }
                    1 if depth < 3 => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        for _ in 0..1 + next(2) {
                            out.push_str(&format!("{pad}- {}\n", leaf(next)));
                        }
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", leaf(next))),
                }
            }
        }
        let mut read = 0;
        let mut mutated_read = 0;
        for round in 0..3000 {
            let mut doc = String::new();
            node(&mut doc, 0, 0, &mut next);
            if round % 2 == 0 {
                let got = fast(&doc);
                assert!(got.is_some(), "not read:\n{doc}");
                assert_eq!(got, full(&doc), "\n{doc}");
                read += 1;
            } else {
                // Mutate: drop, duplicate or insert a character, or re-indent a line.
                let mut bytes = doc.into_bytes();
                for _ in 0..1 + next(3) {
                    let at = next(bytes.len());
                    match next(4) {
                        0 => {
                            bytes.remove(at);
                        }
                        1 => bytes.insert(at, bytes[at]),
                        2 => bytes.insert(at, b" :-#\"[{\n'&"[next(10)]),
                        _ => bytes.insert(at, b' '),
                    }
                    if bytes.is_empty() {
                        bytes.push(b'x');
                    }
                }
                let doc = String::from_utf8(bytes).unwrap();
                assert!(agrees(&doc), "disagree on:\n{doc}");
                mutated_read += usize::from(fast(&doc).is_some());
            }
        }
        assert_eq!(read, 1500);
        // Many mutations stay inside the subset, so the comparison above is not vacuous.
        assert!(mutated_read > 300, "{mutated_read}");
    }
}
