//! The pointer table: JSON pointer → spans of the key and the value, so that any finding maps
//! back to `file:line:col`.
//!
//! Recorded by the loader in its one pass over the parser's events, as a compact tree: one
//! fixed-size node per located YAML node (its spans packed in `u32`s, its key's text in one
//! shared string), each collection's children in one shared index list. A lookup walks the
//! pointer's tokens from the root: a list index is O(1), a mapping key is a scan of the
//! mapping's keys (a binary search above `SORTED_FROM` keys). Nothing is parsed twice and
//! no string is allocated per node, so a spec with findings costs about what a clean one
//! does.

use crate::source::Span;

/// Spans of one node: its key (for mapping values) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    /// The key's span, when the node is a mapping value.
    pub key: Option<Span>,
    /// The value's span.
    pub value: Span,
}

/// A [`Span`] in 16 bytes (the input limit is far below 4 GiB); line 0 means "none".
#[derive(Debug, Clone, Copy, Default)]
struct Packed {
    start: u32,
    end: u32,
    line: u32,
    col: u32,
}

impl Packed {
    fn new(s: Span) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Packed {
            start: n(s.start),
            end: n(s.end),
            line: n(s.line),
            col: n(s.col),
        }
    }

    fn span(self) -> Span {
        Span {
            start: self.start as usize,
            end: self.end as usize,
            line: self.line as usize,
            col: self.col as usize,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Seq,
    Map,
}

/// One located node.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// The key's span (`line == 0` when the node is not a mapping value).
    key: Packed,
    value: Packed,
    /// The key's text: `names[name..name + name_len]`.
    name: u32,
    name_len: u32,
    /// The children: `kids[kids..kids + kids_len]` (a mapping's sorted by key text when it
    /// has [`SORTED_FROM`] or more).
    kids: u32,
    kids_len: u32,
    kind: Kind,
}

/// Mappings with at least this many keys are searched by binary search.
const SORTED_FROM: usize = 16;

/// JSON pointer (RFC 6901) → spans, recorded in the loader's pass.
#[derive(Clone, Default)]
pub struct PointerTable {
    nodes: Vec<Node>,
    kids: Vec<u32>,
    names: String,
    root: Option<u32>,
    /// Children recorded but not yet attached to their (still open) collection.
    open: Vec<u32>,
}

impl std::fmt::Debug for PointerTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointerTable")
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

/// What the loader knows of a finished node when it attaches it.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    /// A scalar or alias, with its span.
    Leaf(Span),
    /// A collection: its whole span, whether it is a mapping, and its children
    /// (from [`PointerTable::close`]).
    Collection {
        whole: Span,
        map: bool,
        kids: (u32, u32),
    },
}

impl PointerTable {
    /// An empty table sized for a text of `len` bytes: YAML written by people holds about one
    /// node per 8 to 16 bytes, so the vectors rarely grow (growing copies them whole, and the
    /// copies were a tenth of loading a large spec). Untouched capacity costs no memory.
    pub(super) fn for_text(len: usize) -> PointerTable {
        // Capped: a huge or hostile text grows the vectors as before past a million nodes.
        let nodes = (len / 12).min(1 << 20);
        PointerTable {
            nodes: Vec::with_capacity(nodes),
            kids: Vec::with_capacity(nodes),
            names: String::with_capacity(nodes * 3),
            root: None,
            open: Vec::new(),
        }
    }

    /// Where the children of a collection that starts now begin on the open stack.
    pub(super) fn mark(&self) -> usize {
        self.open.len()
    }

    /// Close a collection whose children were recorded since `mark`: returns their range
    /// in the shared index list.
    pub(super) fn close(&mut self, mark: usize, map: bool) -> (u32, u32) {
        let start = self.kids.len();
        self.kids.extend(self.open.drain(mark..));
        let kids = &mut self.kids[start..];
        if map && kids.len() >= SORTED_FROM {
            let (nodes, names) = (&self.nodes, &self.names);
            // Stable: the first of equal keys stays first (duplicates are never attached,
            // but this keeps lookups first-wins regardless).
            kids.sort_by(|a, b| name_of(nodes, names, *a).cmp(name_of(nodes, names, *b)));
        }
        (to_u32(start), to_u32(kids.len()))
    }

    /// Record a node attached under the open collection (or as the root when `root`).
    pub(super) fn attach(&mut self, key: Option<(&str, Span)>, shape: Shape, root: bool) {
        let (name, name_len, key_span) = match key {
            Some((text, span)) => {
                let at = self.names.len();
                self.names.push_str(text);
                (to_u32(at), to_u32(text.len()), Packed::new(span))
            }
            None => (0, 0, Packed::default()),
        };
        let (value, kind, (kids, kids_len)) = match shape {
            Shape::Leaf(span) => (span, Kind::Scalar, (0, 0)),
            Shape::Collection { whole, map, kids } => {
                (whole, if map { Kind::Map } else { Kind::Seq }, kids)
            }
        };
        let id = to_u32(self.nodes.len());
        self.nodes.push(Node {
            key: key_span,
            value: Packed::new(value),
            name,
            name_len,
            kids,
            kids_len,
            kind,
        });
        if root {
            self.root = Some(id);
        } else {
            self.open.push(id);
        }
    }

    /// The key span of the child named `key` recorded since `mark` (the first occurrence of
    /// a duplicate key).
    pub(super) fn open_key(&self, mark: usize, key: &str) -> Option<Span> {
        self.open[mark.min(self.open.len())..]
            .iter()
            .find(|id| name_of(&self.nodes, &self.names, **id) == key)
            .and_then(|id| self.loc(*id).key)
    }

    /// Drop what only building needed.
    pub(super) fn finish(&mut self) {
        self.open = Vec::new();
        self.nodes.shrink_to_fit();
        self.kids.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    fn loc(&self, id: u32) -> Loc {
        let n = &self.nodes[id as usize];
        Loc {
            key: (n.key.line != 0).then(|| n.key.span()),
            value: n.value.span(),
        }
    }

    fn child(&self, id: u32, token: &str) -> Option<u32> {
        let n = &self.nodes[id as usize];
        let kids = &self.kids[n.kids as usize..(n.kids + n.kids_len) as usize];
        match n.kind {
            Kind::Scalar => None,
            Kind::Seq => {
                // Only the canonical decimal form names an item (`01` and `+1` do not).
                let canonical = !token.is_empty()
                    && token.bytes().all(|b| b.is_ascii_digit())
                    && (token.len() == 1 || !token.starts_with('0'));
                let i: usize = token.parse().ok().filter(|_| canonical)?;
                kids.get(i).copied()
            }
            Kind::Map => {
                let key = unescape_token(token)?;
                let name = |k: &u32| name_of(&self.nodes, &self.names, *k);
                if kids.len() >= SORTED_FROM {
                    let i = kids.partition_point(|k| name(k) < key.as_ref());
                    kids.get(i).filter(|k| name(k) == key.as_ref()).copied()
                } else {
                    kids.iter().find(|k| name(k) == key.as_ref()).copied()
                }
            }
        }
    }

    /// The deepest located node on the way to `pointer`, and whether it is the pointer's own.
    fn walk(&self, pointer: &str) -> Option<(u32, bool)> {
        let root = self.root?;
        if pointer.is_empty() {
            return Some((root, true));
        }
        let rest = pointer.strip_prefix('/')?;
        let mut at = root;
        for token in rest.split('/') {
            match self.child(at, token) {
                Some(c) => at = c,
                None => return Some((at, false)),
            }
        }
        Some((at, true))
    }

    /// The spans of exactly this pointer.
    pub fn get(&self, pointer: &str) -> Option<Loc> {
        match self.walk(pointer)? {
            (id, true) => Some(self.loc(id)),
            _ => None,
        }
    }

    /// The spans of this pointer, or of its nearest ancestor that has spans
    /// (nodes expanded from an alias point at the alias).
    pub fn nearest(&self, pointer: &str) -> Option<Loc> {
        self.walk(pointer).map(|(id, _)| self.loc(id))
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
        self.nodes.len()
    }

    /// True when nothing is located.
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).expect("inputs are limited far below 4 GiB")
}

fn name_of<'a>(nodes: &[Node], names: &'a str, id: u32) -> &'a str {
    let n = &nodes[id as usize];
    &names[n.name as usize..(n.name + n.name_len) as usize]
}

/// Escape one JSON-pointer token.
pub fn escape_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// The key a JSON-pointer token names; `None` for a token [`escape_token`] never produces
/// (a `~` not followed by `0` or `1`).
fn unescape_token(token: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !token.contains('~') {
        return Some(token.into());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out.into())
}
