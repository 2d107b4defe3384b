//! The pointer table: JSON pointer → spans of the key and the value, so that any finding maps
//! back to `file:line:col`. Built lazily, from the loader's second pass, only when a finding
//! needs it.

use super::loader::Loader;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::sync::OnceLock;

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
    pub(super) fn deferred(src: &SourceFile) -> Self {
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
