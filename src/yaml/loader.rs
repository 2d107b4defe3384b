//! The loader: one pass over `saphyr-parser` events into a JSON value and, in the same pass,
//! the pointer table, with duplicate keys, merge keys, custom tags, deep nesting and alias
//! expansion beyond a budget rejected here.

use super::pointers::Shape;
use super::scalar::resolve_scalar;
use super::{Document, MAX_ALIAS_NODES, MAX_DEPTH, PointerTable};
use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Value};
use std::collections::HashMap;

enum Frame {
    Seq {
        items: Vec<Value>,
        start: Span,
        anchor: usize,
        /// Where this collection's children start on the pointer table's open stack.
        mark: usize,
        nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        start: Span,
        anchor: usize,
        mark: usize,
        nodes: usize,
        /// The key waiting for its value.
        pending: Option<(String, Span)>,
    },
}

struct Loader<'a> {
    src: &'a SourceFile,
    track: bool,
    pointers: PointerTable,
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

/// Parse one YAML document. With `track`, the document comes with its pointer table,
/// recorded in the same pass; without, its table is empty (for re-parsing rendered output,
/// where nothing needs locating).
pub fn parse(src: &SourceFile, track: bool) -> Result<Document, Vec<Diagnostic>> {
    let mut loader = Loader::new(src, track);
    let root = loader.run();
    match root {
        Some(value) if loader.diags.is_empty() => {
            loader.pointers.finish();
            Ok(Document {
                value,
                pointers: loader.pointers,
            })
        }
        _ => Err(loader.diags),
    }
}

impl<'a> Loader<'a> {
    fn new(src: &'a SourceFile, track: bool) -> Self {
        Loader {
            src,
            track,
            pointers: if track {
                PointerTable::for_text(src.text.len())
            } else {
                PointerTable::default()
            },
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
                    let mark = self.pointers.mark();
                    let is_map = matches!(event, Event::MappingStart(..));
                    stack.push(if is_map {
                        Frame::Map {
                            map: Map::new(),
                            start: span,
                            anchor,
                            mark,
                            nodes: 1,
                            pending: None,
                        }
                    } else {
                        Frame::Seq {
                            items: Vec::new(),
                            start: span,
                            anchor,
                            mark,
                            nodes: 1,
                        }
                    });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = stack.pop() else { continue };
                    let (value, nodes, start, anchor, mark, map) = match frame {
                        Frame::Seq {
                            items,
                            start,
                            anchor,
                            mark,
                            nodes,
                        } => (Value::Array(items), nodes, start, anchor, mark, false),
                        Frame::Map {
                            map,
                            start,
                            anchor,
                            mark,
                            nodes,
                            ..
                        } => (Value::Object(map), nodes, start, anchor, mark, true),
                    };
                    let shape = if self.track {
                        let end = span.end.max(start.end);
                        Some(Shape::Collection {
                            whole: self.src.span(start.start, end),
                            map,
                            kids: self.pointers.close(mark, map),
                        })
                    } else {
                        None
                    };
                    if anchor != 0 {
                        self.anchors.insert(anchor, (value.clone(), nodes));
                    }
                    if !self.attach(&mut stack, &mut root, value, nodes, shape) {
                        return None;
                    }
                    continue;
                }
            };
            if done.anchor != 0 {
                self.anchors
                    .insert(done.anchor, (done.value.clone(), done.nodes));
            }
            let shape = self.track.then_some(Shape::Leaf(done.span));
            if !self.attach(&mut stack, &mut root, done.value, done.nodes, shape) {
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

    /// Attach a finished node to the top frame (or make it the root), recording its spans
    /// (`shape`, when tracking). Returns false after a fatal error.
    fn attach(
        &mut self,
        stack: &mut [Frame],
        root: &mut Option<Value>,
        value: Value,
        nodes: usize,
        shape: Option<Shape>,
    ) -> bool {
        match stack.last_mut() {
            None => {
                if let Some(shape) = shape {
                    self.pointers.attach(None, shape, true);
                }
                *root = Some(value);
            }
            Some(Frame::Seq {
                items, nodes: n, ..
            }) => {
                if let Some(shape) = shape {
                    self.pointers.attach(None, shape, false);
                }
                items.push(value);
                *n += nodes;
            }
            Some(Frame::Map {
                map,
                pending,
                nodes: n,
                mark,
                ..
            }) => {
                let (key, kspan) = pending.take().expect("value position");
                if key == "\u{0}complex" {
                    return true;
                }
                *n += nodes;
                if map.contains_key(&key) {
                    let first = self.pointers.open_key(*mark, &key);
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
                    // Keep the first value and its location; the second one is dropped.
                    return true;
                }
                if let Some(shape) = shape {
                    self.pointers.attach(Some((&key, kspan)), shape, false);
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
    // The parser reports a tab that starts the next line at the end of this one (after a
    // plain scalar it scans on for a continuation): point at the tab itself.
    let tab = tab.map(|i| line_start + i).or_else(|| {
        if !info.contains("tab") {
            return None;
        }
        let from = span.start.min(src.text.len());
        let rest = &src.text[from..];
        let next_end = rest.find('\n').map_or(rest.len(), |i| {
            rest[i + 1..].find('\n').map_or(rest.len(), |j| i + 1 + j)
        });
        rest[..next_end].find('\t').map(|i| from + i)
    });
    if let Some(at) = tab {
        let at = src.span(at, at + 1);
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
