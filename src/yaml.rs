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

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Largest accepted input, in bytes.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest accepted nesting of mappings and lists.
pub const MAX_DEPTH: usize = 64;
/// Most nodes that alias expansion may add in one document.
pub const MAX_ALIAS_NODES: usize = 10_000;

/// Spans of one node: its key (for mapping values) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    /// The key's span, when the node is a mapping value.
    pub key: Option<Span>,
    /// The value's span.
    pub value: Span,
}

/// JSON pointer (RFC 6901) → spans.
///
/// Built on first use: only diagnostics look locations up, so a spec without findings never
/// pays for a table entry (a `String` key) per node. The first lookup parses the source once
/// more, recording every node's spans.
#[derive(Clone, Default)]
pub struct PointerTable {
    map: OnceLock<HashMap<String, Loc>>,
    /// The source to build the map from (name, text); `None` when the map is given.
    source: Option<(String, String)>,
}

impl std::fmt::Debug for PointerTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointerTable")
            .field("built", &self.map.get().map(HashMap::len))
            .finish_non_exhaustive()
    }
}

impl PointerTable {
    /// A table built from `src` when first used.
    fn deferred(src: &SourceFile) -> Self {
        PointerTable {
            map: OnceLock::new(),
            source: Some((src.name.clone(), src.text.clone())),
        }
    }

    fn map(&self) -> &HashMap<String, Loc> {
        self.map.get_or_init(|| {
            let Some((name, text)) = &self.source else {
                return HashMap::new();
            };
            let src = SourceFile::new(name.as_str(), text.as_str());
            let mut loader = Loader::new(&src, true);
            // The source parsed once already, so this parse succeeds the same way.
            let _ = loader.run();
            loader.pointers
        })
    }

    /// The spans of exactly this pointer.
    pub fn get(&self, pointer: &str) -> Option<Loc> {
        self.map().get(pointer).copied()
    }

    /// The spans of this pointer, or of its nearest ancestor that has spans
    /// (nodes expanded from an alias point at the alias).
    pub fn nearest(&self, pointer: &str) -> Option<Loc> {
        let map = self.map();
        let mut p = pointer;
        loop {
            if let Some(loc) = map.get(p) {
                return Some(*loc);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// The span of the value at (or nearest above) a pointer.
    pub fn value_span(&self, pointer: &str) -> Option<Span> {
        self.nearest(pointer).map(|l| l.value)
    }

    /// The span of the key at a pointer, else of its value, else of the nearest ancestor.
    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.nearest(pointer).map(|l| l.key.unwrap_or(l.value))
    }

    /// Number of located nodes.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// True when nothing is located.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }
}

/// Escape one JSON-pointer token.
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

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

enum Frame {
    Seq {
        items: Vec<Value>,
        start: Span,
        anchor: usize,
        pointer: String,
        key: Option<Span>,
        nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        start: Span,
        anchor: usize,
        pointer: String,
        key: Option<Span>,
        nodes: usize,
        /// The key waiting for its value.
        pending: Option<(String, Span)>,
    },
}

struct Loader<'a> {
    src: &'a SourceFile,
    track: bool,
    pointers: HashMap<String, Loc>,
    anchors: HashMap<usize, (Value, usize)>,
    alias_nodes: usize,
    diags: Vec<Diagnostic>,
}

/// What a completed node is, before it is attached to its parent.
struct Done {
    value: Value,
    nodes: usize,
    span: Span,
    anchor: usize,
}

/// Parse one YAML document. With `track`, the document comes with its pointer table (built
/// when first used); without, its table is empty (for re-parsing rendered output, where
/// nothing needs locating).
pub fn parse(src: &SourceFile, track: bool) -> Result<Document, Vec<Diagnostic>> {
    let mut loader = Loader::new(src, false);
    let root = loader.run();
    match root {
        Some(value) if loader.diags.is_empty() => Ok(Document {
            value,
            pointers: if track {
                PointerTable::deferred(src)
            } else {
                PointerTable::default()
            },
        }),
        _ if track
            && loader
                .diags
                .iter()
                .any(|d| d.code == Code::YamlDuplicateKey) =>
        {
            // A duplicate key names the first occurrence too, which needs the table: parse
            // once more, recording it.
            let mut loader = Loader::new(src, true);
            let _ = loader.run();
            Err(loader.diags)
        }
        _ => Err(loader.diags),
    }
}

impl<'a> Loader<'a> {
    fn new(src: &'a SourceFile, track: bool) -> Self {
        Loader {
            src,
            track,
            pointers: HashMap::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            diags: Vec::new(),
        }
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        let len = s.end.index().saturating_sub(s.start.index());
        self.src
            .span_at_line_col(s.start.line(), s.start.col() + 1, len)
    }

    fn fatal(&mut self, code: Code, span: Span, message: String) -> Option<Value> {
        self.diags.push(Diagnostic::new(code, Some(span), message));
        None
    }

    fn run(&mut self) -> Option<Value> {
        let mut parser = Parser::new_from_str(&self.src.text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Value> = None;
        let mut documents = 0usize;
        // Depth of a complex key being skipped (its content is not kept).
        let mut skipping = 0usize;
        loop {
            let (event, raw_span) = match parser.next() {
                None => break,
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    let m = e.marker();
                    let span = self.src.span_at_line_col(m.line(), m.col() + 1, 1);
                    let info = e.info().to_string();
                    if info.contains("recursion limit") {
                        // The parser's scanner looks far ahead in flow collections and gives up
                        // at its own limit (256) before kexpose sees level 64: point where
                        // kexpose's limit is crossed.
                        let at =
                            too_deep_flow(&self.src.text).map_or(span, |i| self.src.span(i, i + 1));
                        self.diags.push(
                            Diagnostic::new(
                                Code::YamlTooDeep,
                                Some(at),
                                format!("nesting deeper than {MAX_DEPTH} levels"),
                            )
                            .help("a kexpose spec never needs more than a few levels"),
                        );
                        return None;
                    }
                    self.diags.push(syntax_error(self.src, span, &info));
                    return None;
                }
            };
            let span = self.span(raw_span);
            if skipping > 0 {
                match event {
                    Event::MappingStart(..) | Event::SequenceStart(..) => skipping += 1,
                    Event::MappingEnd | Event::SequenceEnd => {
                        skipping -= 1;
                        if skipping == 0 {
                            // The skipped key still needs a value: mark the key as pending so
                            // the value is consumed and dropped.
                            if let Some(Frame::Map { pending, .. }) = stack.last_mut() {
                                *pending = Some((String::from("\u{0}complex"), span));
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let done = match event {
                Event::StreamStart | Event::Nothing => continue,
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return self.fatal(
                            Code::YamlMultiDocument,
                            span,
                            "a second YAML document: a kexpose spec is one document".into(),
                        );
                    }
                    continue;
                }
                Event::DocumentEnd => continue,
                Event::Alias(id) => {
                    if let Some(Frame::Map { pending: None, .. }) = stack.last() {
                        self.diags.push(
                            Diagnostic::new(
                                Code::YamlComplexKey,
                                Some(span),
                                "an alias as a mapping key is not supported",
                            )
                            .help("write the key out"),
                        );
                        return None;
                    }
                    let Some((value, nodes)) = self.anchors.get(&id).cloned() else {
                        return self.fatal(Code::YamlSyntax, span, "unknown alias".into());
                    };
                    self.alias_nodes += nodes;
                    if self.alias_nodes > MAX_ALIAS_NODES {
                        self.diags.push(
                            Diagnostic::new(
                                Code::YamlAliasBudget,
                                Some(span),
                                format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                            )
                            .help("write the values out instead of nesting aliases"),
                        );
                        return None;
                    }
                    Done {
                        value,
                        nodes,
                        span,
                        anchor: 0,
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    // A scalar in key position.
                    if let Some(Frame::Map {
                        pending: pending @ None,
                        ..
                    }) = stack.last_mut()
                    {
                        if style == ScalarStyle::Plain && text == "<<" && tag.is_none() {
                            return self.fatal(
                                Code::YamlMergeKey,
                                span,
                                "merge keys (`<<`) are not supported: write the fields out".into(),
                            );
                        }
                        *pending = Some((text.into_owned(), span));
                        continue;
                    }
                    let value = match resolve_scalar(&text, style, tag.as_deref()) {
                        Ok(v) => v,
                        Err(msg) => return self.fatal(Code::YamlUnsupportedTag, span, msg),
                    };
                    Done {
                        value,
                        nodes: 1,
                        span,
                        anchor,
                    }
                }
                Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                    if let Some(Frame::Map { pending: None, .. }) = stack.last() {
                        self.diags.push(Diagnostic::new(
                            Code::YamlComplexKey,
                            Some(span),
                            "a mapping key must be a plain value, not a mapping or list",
                        ));
                        skipping = 1;
                        continue;
                    }
                    if let Some(tag) = tag.as_deref()
                        && !(tag.is_yaml_core_schema()
                            && matches!(tag.suffix.as_str(), "map" | "seq"))
                    {
                        return self.fatal(
                            Code::YamlUnsupportedTag,
                            span,
                            format!("tag `{tag}` is not supported"),
                        );
                    }
                    if stack.len() >= MAX_DEPTH {
                        self.diags.push(
                            Diagnostic::new(
                                Code::YamlTooDeep,
                                Some(span),
                                format!("nesting deeper than {MAX_DEPTH} levels"),
                            )
                            .help("a kexpose spec never needs more than a few levels"),
                        );
                        return None;
                    }
                    let (pointer, key) = self.child_pointer(&mut stack);
                    let is_map = matches!(event, Event::MappingStart(..));
                    stack.push(if is_map {
                        Frame::Map {
                            map: Map::new(),
                            start: span,
                            anchor,
                            pointer,
                            key,
                            nodes: 1,
                            pending: None,
                        }
                    } else {
                        Frame::Seq {
                            items: Vec::new(),
                            start: span,
                            anchor,
                            pointer,
                            key,
                            nodes: 1,
                        }
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = stack.pop() else { continue };
                    let (value, nodes, start, anchor, pointer, key) = match frame {
                        Frame::Seq {
                            items,
                            start,
                            anchor,
                            pointer,
                            key,
                            nodes,
                        } => (Value::Array(items), nodes, start, anchor, pointer, key),
                        Frame::Map {
                            map,
                            start,
                            anchor,
                            pointer,
                            key,
                            nodes,
                            ..
                        } => (Value::Object(map), nodes, start, anchor, pointer, key),
                    };
                    if self.track {
                        let end = span.end.max(start.end);
                        let whole = self.src.span(start.start, end);
                        // First wins: a duplicate key's value is dropped, so is its location.
                        self.pointers
                            .entry(pointer)
                            .or_insert(Loc { key, value: whole });
                    }
                    if anchor != 0 {
                        self.anchors.insert(anchor, (value.clone(), nodes));
                    }
                    // Attach to the parent (pointer already recorded).
                    if !self.attach(&mut stack, &mut root, value, nodes, None) {
                        return None;
                    }
                    continue;
                }
            };
            if done.anchor != 0 {
                self.anchors
                    .insert(done.anchor, (done.value.clone(), done.nodes));
            }
            let span = done.span;
            if !self.attach(&mut stack, &mut root, done.value, done.nodes, Some(span)) {
                return None;
            }
        }
        if documents == 0 || matches!(root, None | Some(Value::Null)) {
            let span = self.src.span(0, 0);
            self.diags.push(
                Diagnostic::new(Code::SpecEmpty, Some(span), "the spec is empty".to_string())
                    .help("run `kexpose init` for a commented starter spec"),
            );
            return None;
        }
        root
    }

    /// The pointer and key span of the node about to start under the top frame.
    fn child_pointer(&self, stack: &mut [Frame]) -> (String, Option<Span>) {
        match stack.last() {
            None => (String::new(), None),
            Some(Frame::Seq { items, pointer, .. }) => (
                if self.track {
                    format!("{pointer}/{}", items.len())
                } else {
                    String::new()
                },
                None,
            ),
            Some(Frame::Map {
                pending, pointer, ..
            }) => {
                let (k, kspan) = pending.as_ref().expect("value position");
                (
                    if self.track {
                        format!("{pointer}/{}", escape_token(k))
                    } else {
                        String::new()
                    },
                    Some(*kspan),
                )
            }
        }
    }

    /// Attach a finished node to the top frame (or make it the root). A scalar or alias
    /// (`span` given) records its pointer here. Returns false after a fatal error.
    fn attach(
        &mut self,
        stack: &mut [Frame],
        root: &mut Option<Value>,
        value: Value,
        nodes: usize,
        span: Option<Span>,
    ) -> bool {
        if let Some(span) = span {
            let (pointer, key) = self.child_pointer(stack);
            if self.track {
                self.pointers
                    .entry(pointer)
                    .or_insert(Loc { key, value: span });
            }
        }
        match stack.last_mut() {
            None => *root = Some(value),
            Some(Frame::Seq {
                items, nodes: n, ..
            }) => {
                items.push(value);
                *n += nodes;
            }
            Some(Frame::Map {
                map,
                pending,
                nodes: n,
                pointer,
                ..
            }) => {
                let (key, kspan) = pending.take().expect("value position");
                if key == "\u{0}complex" {
                    return true;
                }
                *n += nodes;
                if map.contains_key(&key) {
                    let first = self
                        .pointers
                        .get(&format!("{pointer}/{}", escape_token(&key)))
                        .and_then(|l| l.key);
                    let mut d = Diagnostic::new(
                        Code::YamlDuplicateKey,
                        Some(kspan),
                        format!("duplicate key `{key}`"),
                    )
                    .label("second occurrence")
                    .help("remove one of the two; YAML readers disagree on which one wins");
                    if let Some(first) = first {
                        d = d.related(first, "first occurrence");
                    }
                    self.diags.push(d);
                    // Keep the first value's location; the second one is dropped.
                    return true;
                }
                map.insert(key, value);
            }
        }
        true
    }
}

/// A syntax error, pointed at what most likely causes it: the tab itself for tab errors, the
/// opening bracket of an unclosed flow collection (the parser only notices lines later).
fn syntax_error(src: &SourceFile, span: Span, info: &str) -> Diagnostic {
    let line_start = src.text[..span.start.min(src.text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &src.text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    // A tab the parser complains about, or one just before where it gave up.
    let tab_before = line[..(span.start - line_start).min(line.len())]
        .rfind('\t')
        .filter(|i| !line[..*i].contains(['"', '\'']));
    let tab = if info.contains("tab") {
        tab_before.or_else(|| line.find('\t'))
    } else {
        tab_before
    };
    if let Some(i) = tab {
        let at = src.span(line_start + i, line_start + i + 1);
        return Diagnostic::new(
            Code::YamlSyntax,
            Some(at),
            "a tab character where YAML needs spaces",
        )
        .label("tab")
        .help(syntax_help(info));
    }
    if let Some(open) = unclosed_bracket(&src.text[..span.start.min(src.text.len())]) {
        let at = src.span(open, open + 1);
        if at.line < span.line {
            let bracket = &src.text[open..open + 1];
            let close = if bracket == "[" { "]" } else { "}" };
            return Diagnostic::new(
                Code::YamlSyntax,
                Some(at),
                format!("`{bracket}` is never closed"),
            )
            .label(format!("opened here; the parser noticed at {span}: {info}"))
            .help(format!("add the closing `{close}`"));
        }
    }
    Diagnostic::new(Code::YamlSyntax, Some(span), format!("YAML syntax: {info}"))
        .help(syntax_help(info))
}

/// Byte offset of the flow bracket at which block levels (estimated from indentation) plus
/// flow levels first exceed [`MAX_DEPTH`].
fn too_deep_flow(text: &str) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut block = 1usize;
    let mut in_quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        if line_start && depth == 0 {
            let rest = &text[i..];
            let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
            let indent = line.len() - line.trim_start_matches(' ').len();
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                while indents.last().is_some_and(|t| *t >= indent) {
                    indents.pop();
                }
                block = indents.len() + 1;
                indents.push(indent);
            }
        }
        line_start = c == '\n';
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                if block + depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Byte offset of the innermost flow bracket still open at the end of `text` (quotes and
/// comments skipped).
fn unclosed_bracket(text: &str) -> Option<usize> {
    let mut stack = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut prev = '\n';
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if prev.is_whitespace() => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                prev = '\n';
                continue;
            }
            '"' | '\'' if !prev.is_alphanumeric() => {
                let quote = c;
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    if quote == '"' && c == '\\' && !escaped {
                        escaped = true;
                        continue;
                    }
                    if c == quote && !escaped {
                        break;
                    }
                    escaped = false;
                }
            }
            '[' | '{' => stack.push(i),
            ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
        prev = c;
    }
    stack.pop()
}

fn syntax_help(info: &str) -> String {
    if info.contains("tab") {
        "YAML indents with spaces only; replace the tab characters".into()
    } else if info.contains("quote") || info.contains("quoted") {
        "close the quoted string on the same line, or use a block scalar (`|`)".into()
    } else if info.contains("flow") || info.contains(']') || info.contains('}') {
        "check the brackets: every `[` and `{` needs its closing `]` or `}`".into()
    } else {
        "check the indentation and the `key: value` syntax around this position".into()
    }
}

/// Resolve a scalar by the YAML 1.2 core schema.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(format!("tag `{tag}` is not supported"));
        }
        return match tag.suffix.as_str() {
            "str" => Ok(Value::String(text.to_string())),
            "null" | "bool" | "int" | "float" => {
                let v = resolve_plain(text);
                let ok = match tag.suffix.as_str() {
                    "null" => v.is_null(),
                    "bool" => v.is_boolean(),
                    "int" => v.is_i64() || v.is_u64(),
                    _ => v.is_number(),
                };
                if ok {
                    Ok(v)
                } else {
                    Err(format!("`{text}` is not a valid !!{}", tag.suffix))
                }
            }
            other => Err(format!("tag `!!{other}` is not supported")),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(resolve_plain(text))
}

/// Resolve a plain scalar by the YAML 1.2 core schema (null, bool, int, float, else string).
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let bytes = text.as_bytes();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        // Too large for a 64-bit integer: saturate, so that range checks report it where it
        // is written (no kexpose field takes numbers anywhere near this size).
        let negative = text.starts_with('-');
        return Value::Number(if negative { i64::MIN } else { i64::MAX }.into());
    }
    if let Some(hex) = text.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(i.into());
    }
    if let Some(oct) = text.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Number(i.into());
    }
    if is_core_float(unsigned)
        && !bytes.is_empty()
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    // .inf and .nan have no JSON form: kept as strings, which the schema then rejects where a
    // number belongs.
    Value::String(text.to_string())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (sign already stripped).
fn is_core_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() && !frac.is_empty() || !int.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exp_ok
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

/// Write a value as canonical YAML: block style, 2-space indent, YAML-1.1-safe quoting,
/// one line per scalar. With `quote_strings`, every string is quoted (Helm values).
pub fn emit(value: &Value, quote_strings: bool) -> Result<String, String> {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    options.quote_all = quote_strings;
    serde_saphyr::to_string_with_options(value, options).map_err(|e| e.to_string())
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
