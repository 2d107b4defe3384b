//! The canonical YAML writer: the bytes `serde-saphyr` 2.2 writes with kexpose's options
//! ([`super::emit`]: block style, 2-space indent, sequences not indented under their key,
//! `{}`/`[]` for empty collections, no block scalars, optionally every string quoted), written
//! straight into a `String` without a serializer state machine.
//!
//! Quoting. A YAML 1.1 reader (Helm) and a YAML 1.2 reader must both read every string back
//! as that string. The common strings of kexpose's output (names, hosts, paths, URLs, flag
//! values) are decided here by a rule that is certain for them; every other string is written
//! by `serde-saphyr` itself, one scalar at a time, so the output is always the bytes the
//! serializer writes for the same value (the tests compare the two on random values, and check
//! every string written plain against the YAML 1.1 and 1.2 implicit types).
//!
//! Plain, for sure (value position): printable ASCII; the first character a letter or `/`
//! (so no indicator, sign, digit, dot or document marker starts it: no number, timestamp or
//! base-60 form of YAML 1.1 can match); no trailing space; no ` #` (a comment) and no `: `
//! (a key) inside and no `:` at the end; and not one of the words a YAML 1.1 or 1.2 reader
//! resolves to null, a bool or a float (`null`, `true`, `false`, `yes`, `no`, `on`, `off`,
//! `y`, `n`, `nan`, `inf`, any case).
//! Double-quoted, for sure: printable ASCII that fails the rule above for a reason other than
//! its first character (the serializer quotes exactly those too); only `\` and `"` escape.
//! Keys: plain when made of letters, digits, `.`, `_`, `/` and `-` only, starting with a
//! letter, and not one of the words above; else the serializer decides.

use serde_json::Value;

/// Where a node is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// The document's root.
    Root,
    /// After `key:` (the key at the given column).
    Key,
    /// After `- ` (its content at the given column).
    Dash,
}

/// Write a value as a whole document (what [`super::emit`] writes).
pub fn to_string(value: &Value, quote_all: bool) -> String {
    let mut out = String::with_capacity(256);
    node(&mut out, value, 0, Pos::Root, quote_all);
    out
}

/// Append `n` spaces.
#[inline]
pub fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// `key:` at column `col` (no space and no line end after the colon).
#[inline]
pub fn key(out: &mut String, col: usize, k: &str) {
    pad(out, col);
    write_key(out, k);
    out.push(':');
}

/// `key: <string>` and a line end, at column `col`.
#[inline]
pub fn entry_str(out: &mut String, col: usize, k: &str, v: &str, quote_all: bool) {
    key(out, col, k);
    out.push(' ');
    write_str(out, v, quote_all);
    out.push('\n');
}

/// `key: <integer>` and a line end, at column `col`.
#[inline]
pub fn entry_int(out: &mut String, col: usize, k: &str, v: i64) {
    key(out, col, k);
    out.push(' ');
    push_int(out, v);
    out.push('\n');
}

/// `key:` and its value (any node), the key at column `col`.
#[inline]
pub fn entry(out: &mut String, col: usize, k: &str, v: &Value, quote_all: bool) {
    key(out, col, k);
    node(out, v, col, Pos::Key, quote_all);
}

/// `key:` and a map of strings, the key at column `col`.
pub fn entry_str_map<'a>(
    out: &mut String,
    col: usize,
    k: &str,
    map: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    quote_all: bool,
) {
    key(out, col, k);
    if map.len() == 0 {
        out.push_str(" {}\n");
        return;
    }
    out.push('\n');
    for (k, v) in map {
        entry_str(out, col + 2, k, v, quote_all);
    }
}

/// `key:` and a list of strings, the key at column `col` (the items at the same column).
pub fn entry_str_seq<'a>(
    out: &mut String,
    col: usize,
    k: &str,
    items: impl ExactSizeIterator<Item = &'a String>,
    quote_all: bool,
) {
    key(out, col, k);
    if items.len() == 0 {
        out.push_str(" []\n");
        return;
    }
    out.push('\n');
    for item in items {
        pad(out, col);
        out.push_str("- ");
        write_str(out, item, quote_all);
        out.push('\n');
    }
}

/// `key:` and a list of values, the key at column `col`.
pub fn entry_seq(out: &mut String, col: usize, k: &str, items: &[Value], quote_all: bool) {
    key(out, col, k);
    seq(
        out,
        items.iter(),
        items.is_empty(),
        col,
        Pos::Key,
        quote_all,
    );
}

fn node(out: &mut String, v: &Value, col: usize, pos: Pos, q: bool) {
    match v {
        Value::Object(m) => {
            if m.is_empty() {
                out.push_str(if pos == Pos::Key { " {}\n" } else { "{}\n" });
                return;
            }
            let (col, mut inline) = match pos {
                Pos::Root => (0, false),
                Pos::Key => {
                    out.push('\n');
                    (col + 2, false)
                }
                Pos::Dash => (col, true),
            };
            for (k, x) in m {
                if inline {
                    inline = false;
                } else {
                    pad(out, col);
                }
                write_key(out, k);
                out.push(':');
                node(out, x, col, Pos::Key, q);
            }
        }
        Value::Array(a) => seq(out, a.iter(), a.is_empty(), col, pos, q),
        scalar => {
            if pos == Pos::Key {
                out.push(' ');
            }
            match scalar {
                Value::Null => out.push_str("null"),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        push_int(out, i);
                    } else if let Some(u) = n.as_u64() {
                        out.push_str(&u.to_string());
                    } else {
                        by_serializer(out, scalar, false);
                    }
                }
                Value::String(s) => write_str(out, s, q),
                _ => unreachable!("collections are handled above"),
            }
            out.push('\n');
        }
    }
}

fn seq<'a>(
    out: &mut String,
    items: impl Iterator<Item = &'a Value>,
    empty: bool,
    col: usize,
    pos: Pos,
    q: bool,
) {
    if empty {
        out.push_str(if pos == Pos::Key { " []\n" } else { "[]\n" });
        return;
    }
    // Items of a list under a key sit at the key's column.
    let (col, mut inline) = match pos {
        Pos::Root => (0, false),
        Pos::Key => {
            out.push('\n');
            (col, false)
        }
        Pos::Dash => (col, true),
    };
    for x in items {
        if inline {
            inline = false;
        } else {
            pad(out, col);
        }
        out.push_str("- ");
        node(out, x, col + 2, Pos::Dash, q);
    }
}

#[inline]
fn push_int(out: &mut String, i: i64) {
    use std::fmt::Write as _;
    let _ = write!(out, "{i}");
}

/// Words that YAML 1.1 or 1.2 readers resolve to null, a bool or a float when plain.
fn is_special_word(s: &str) -> bool {
    s.len() <= 5
        && [
            "null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf",
        ]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

/// How a string in value position is written, when that is certain here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Double,
    /// Left to the serializer.
    Unknown,
}

pub(crate) fn value_style(s: &str) -> Style {
    let b = s.as_bytes();
    if !b.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Style::Unknown;
    }
    let Some(&first) = b.first() else {
        return Style::Double;
    };
    if !(first.is_ascii_alphabetic() || first == b'/') {
        return Style::Unknown;
    }
    if b[b.len() - 1] == b' '
        || b[b.len() - 1] == b':'
        || s.contains(": ")
        || s.contains(" #")
        || is_special_word(s)
    {
        return Style::Double;
    }
    Style::Plain
}

/// A string in value position.
pub fn write_str(out: &mut String, s: &str, quote_all: bool) {
    if quote_all {
        if s.bytes()
            .all(|c| (0x20..0x7f).contains(&c) && c != b'\'' && c != b'\\')
        {
            out.push('\'');
            out.push_str(s);
            out.push('\'');
        } else {
            by_serializer(out, &s, true);
        }
        return;
    }
    match value_style(s) {
        Style::Plain => out.push_str(s),
        Style::Double => {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        Style::Unknown => by_serializer(out, &s, false),
    }
}

pub(crate) fn key_is_plain(k: &str) -> bool {
    let b = k.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'))
        && !is_special_word(k)
}

fn write_key(out: &mut String, k: &str) {
    if key_is_plain(k) {
        out.push_str(k);
        return;
    }
    // The serializer's key, from a one-entry map: `KEY: null\n`.
    let mut one = serde_json::Map::new();
    one.insert(k.to_string(), Value::Null);
    let text = super::emit(&Value::Object(one), false).expect("a string key is written");
    out.push_str(
        text.strip_suffix(": null\n")
            .expect("the serializer writes `key: null`"),
    );
}

/// One scalar as the serializer writes it in value position (a document of one scalar is
/// written exactly so: no block scalars with kexpose's options).
fn by_serializer<T: serde::Serialize>(out: &mut String, v: &T, quote_all: bool) {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    options.quote_all = quote_all;
    let text = serde_saphyr::to_string_with_options(v, options).expect("a scalar is written");
    out.push_str(text.strip_suffix('\n').unwrap_or(&text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Strings that YAML readers treat specially, and random text around them.
    fn text() -> impl Strategy<Value = String> {
        let fixed = prop::sample::select(vec![
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "true",
            "False",
            "yes",
            "Yes",
            "YES",
            "no",
            "NO",
            "on",
            "On",
            "off",
            "OFF",
            "y",
            "Y",
            "n",
            "N",
            "nan",
            "NaN",
            ".nan",
            "inf",
            ".inf",
            "-.inf",
            "+inf",
            "0755",
            "0o17",
            "0x1F",
            "0b101",
            "1e3",
            "1E+3",
            "1_000",
            "1:30",
            "190:20:30",
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "1.5",
            ".5",
            "+.5",
            "-1",
            "<<",
            "=",
            "---",
            "...",
            "--- x",
            "- x",
            "-",
            "?",
            "? x",
            ".",
            "#",
            "a #b",
            "a#b",
            "a: b",
            "a:b",
            "a:",
            "key:",
            "https://x.example/a?b=c#d",
            "/api/{**}",
            "/*",
            "Bearer ",
            " x",
            "x ",
            "x\ty",
            "it's",
            "back\\slash",
            "q\"uote",
            "line\nbreak",
            "a\r\nb",
            "\u{feff}bom",
            "é",
            "ü x",
            "\u{2028}",
            "\u{85}",
            "\u{7f}",
            "\0",
            "*alias",
            "&anchor",
            "!tag",
            "%dir",
            "@at",
            "`t",
            "|",
            ">-",
            "[a]",
            "{a: b}",
            "a,b",
            "a[0]",
            "x{y}",
            "CreateNamespace=false",
            "static://401",
            "openid email",
            "*.c-1a2b3c.kyma.ondemand.com:*",
            "Y2K",
            "onion",
            "nope",
            "nullable",
            "trueish",
        ]);
        prop_oneof![
            3 => fixed.clone().prop_map(str::to_string),
            3 => "[ -~]{0,12}",
            2 => "[a-zA-Z/][a-zA-Z0-9 ./:#_*{}-]{0,12}",
            1 => "[0-9+.:eE_xob-]{1,8}",
            1 => "[ -~\t\n\r\u{80}-\u{a0}é\u{2028}\u{feff}]{0,6}",
            1 => (fixed.clone(), fixed.clone()).prop_map(|(a, b)| format!("{a}{b}")),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => any::<i64>().prop_map(Value::from),
            1 => prop_oneof![
                (-1e6f64..1e6).boxed(),
                Just(0.0).boxed(),
                Just(1e300).boxed(),
                Just(1e-9).boxed(),
                Just(-2.5).boxed(),
            ]
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            4 => text().prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn load(text: &str) -> Value {
        crate::yaml::parse(&crate::source::SourceFile::new("t.yaml", text), false)
            .map(|d| d.value)
            .unwrap_or_else(|e| panic!("{:?}\n{text}", e.first().map(|d| &d.message)))
    }

    /// The YAML 1.1 implicit types (yaml.org/type: bool, null, int, float, timestamp, merge,
    /// value) and the YAML 1.2 core schema (YAML 1.2.2 §10.3.2), written from those texts:
    /// a plain scalar matching any of them is not read as a string by some reader.
    fn implicit_non_string(s: &str) -> bool {
        use std::sync::OnceLock;
        static RES: OnceLock<Vec<regex::Regex>> = OnceLock::new();
        let res = RES.get_or_init(|| {
            [
                // YAML 1.1
                r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
                r"~|null|Null|NULL|",
                r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+",
                r"[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
                r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?",
                r"<<",
                r"=",
                // YAML 1.2 core
                r"true|True|TRUE|false|False|FALSE",
                r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
                r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
            ]
            .iter()
            .map(|r| regex::Regex::new(&format!("^(?:{r})$")).unwrap())
            .collect()
        });
        res.iter().any(|r| r.is_match(s))
    }

    #[test]
    fn known_shapes() {
        let v = json!({
            "a": {}, "b": [], "c": [[1, [2, 3]], [], {}, {"d": [{"e": null}], "f": {"g": [true]}}],
            "h": "on", "i": "", "j": "/api/{**}", "k": "Bearer ", "l": 1.5, "m": "0755",
            "yes": "x", "x y": "z", "-": ".", "é": "ü"
        });
        for q in [false, true] {
            assert_eq!(to_string(&v, q), super::super::emit(&v, q).unwrap());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The same bytes as `serde-saphyr` for the same value, both quoting modes.
        #[test]
        fn writes_what_serde_saphyr_writes(v in value()) {
            for q in [false, true] {
                let want = super::super::emit(&v, q).unwrap();
                prop_assert_eq!(to_string(&v, q), want);
            }
        }

        /// A string written plain matches no implicit type of YAML 1.1 or 1.2, so both read it
        /// as a string; whatever the style, kexpose's (YAML 1.2) loader reads back the value.
        #[test]
        fn strings_stay_strings(s in text()) {
            if value_style(&s) == Style::Plain {
                prop_assert!(!implicit_non_string(&s), "{s:?}");
            }
            if key_is_plain(&s) {
                prop_assert!(!implicit_non_string(&s), "key {s:?}");
            }
            for q in [false, true] {
                let doc = to_string(&json!({ "k": s, s.clone(): 1 }), q);
                prop_assert_eq!(load(&doc), json!({ "k": s, s.clone(): 1 }), "{}", doc);
            }
        }
    }

    /// The certain styles agree with the serializer on every string of the fixed list, so the
    /// serializer is asked only about the rest.
    #[test]
    fn styles_are_certain() {
        for s in [
            "/api/{**}",
            "https://x",
            "a: b",
            "Bearer ",
            "on",
            "",
            "x #y",
            "a:",
        ] {
            let mine = match value_style(s) {
                Style::Plain => s.to_string(),
                Style::Double => format!("{s:?}"),
                Style::Unknown => continue,
            };
            assert_eq!(super::super::emit(&json!(s), false).unwrap(), mine + "\n");
        }
    }
}
