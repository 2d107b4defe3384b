//! APIRule v2 (`gateway.kyma-project.io/v2`) path patterns: syntax check,
//! request matching and pattern inclusion, with no dependencies beyond `std`. The model is
//! shared: `check` reports path conflicts with it, `diff::explain` matches requests with it.
//!
//! # Syntax
//!
//! The CRD admits a `spec.rules[].path` matching
//! `^((\/([A-Za-z0-9-._~!$&'()+,;=:@]|%[0-9a-fA-F]{2})*)|(\/\{\*{1,2}\}))+$|^\/\*$`:
//! either `/*` on its own, or one or more segments, each of which is `/literal`
//! (the literal may be empty, so `/` and `//` are valid), `/{*}` or `/{**}`.
//! [`matches_crd_pattern`] checks exactly this. [`PathPattern::parse`] also
//! applies the two extra rules of the api-gateway controller: at most one `{**}`,
//! and no `{*}` after a `{**}`.
//!
//! A syntax error's offset is the length of the longest prefix of the input that
//! some valid path still starts with. That is the byte offset of the first
//! character that cannot be part of a valid path, or the input's length when the
//! input ends too early (`""`, `/%2`, `/{*`).
//!
//! # Semantics
//!
//! A request path `/s1/s2/…/sn` is the sequence of its `n >= 1` segments. It is
//! split at every `/` after the leading one, and segments may be empty: `/` is
//! `[""]`, `/a/` is `["a", ""]`, `/a//b` is `["a", "", "b"]`. Paths are compared
//! byte for byte: no percent-decoding, no merging of slashes, and no query
//! string (the caller removes it).
//!
//! * A literal segment matches exactly that segment.
//! * `{*}` matches exactly one **non-empty** segment.
//! * `{**}` matches **one or more** segments, any of which may be empty. Put
//!   another way, it matches any run of characters, `/` included, possibly empty,
//!   between its two slashes. So `/abc/{**}` matches `/abc/` and `/abc/x/y` but
//!   not `/abc`, and `/a/{**}/b` matches `/a//b` and `/a/x/y/b` but not `/a/b`.
//! * `/*` matches every path; it parses to the same pattern as `/{**}`.
//!
//! These are the semantics of the regex the controller writes into the
//! VirtualService (`{*}` becomes `(pchar|%XX)+`, `{**}` becomes
//! `(pchar|/|%XX)*`), except that wildcards here accept any character. The
//! controller's regex also rejects characters outside the URI `pchar` set.
//!
//! # Conflicts
//!
//! `a.covers(b)` decides language inclusion: every request path that `b`
//! matches is also matched by `a`. For rules that share a method, taken in rule
//! order, a later rule conflicts when an earlier rule's path covers it (the
//! later rule could never be reached). Examples: `/*` covers `/anything` (but
//! not the other way round); `/a/{**}` covers `/a/{*}/b`; `/a/{*}` does not
//! cover `/a/{**}`; `/a/{**}/c` covers `/a/{**}/b/c` (but not the other way
//! round).
//!
//! The decision is exact and takes one pass over both patterns, so
//! `O(len(a) + len(b))` segment comparisons, with no backtracking:
//!
//! * A pattern with at most one `{**}` lines up with a path of a given length
//!   in exactly one way: the segments before the `{**}` take the first
//!   positions, those after it the last ones, and the `{**}` takes the rest
//!   (at least one position). So a set of equal-length paths is included in
//!   `a` exactly when `a`'s segment at each position accepts everything the
//!   set allows there.
//! * Without a `{**}`, `b` is such a set. With one, `b` is the union over
//!   `k >= 1` of `b_k`, where `b`'s `{**}` is replaced by `k` "any segment,
//!   possibly empty" slots. Only `a`'s `{**}` accepts such a slot. So if `a`
//!   covers `b_1`, then the single slot of `b_1` falls inside `a`'s `{**}`,
//!   which means `a`'s prefix fits in `b`'s prefix and `a`'s suffix fits in
//!   `b`'s suffix. Then the same position checks pass for every `k`. That makes
//!   `a.covers(b)` equal to "`a` has a `{**}` (or `b` has none), and `a`
//!   covers `b_1`".

use std::fmt;

/// One segment of an APIRule v2 path pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An exact segment (possibly empty; never contains `/`).
    Literal(String),
    /// `{*}`: exactly one non-empty segment.
    One,
    /// `{**}` (or the whole-path `/*`): one or more segments, each possibly empty.
    Many,
}

/// A parsed APIRule v2 path pattern.
///
/// Patterns built by hand (the field is public) must keep the invariant that
/// [`PathPattern::parse`] guarantees: at most one [`Segment::Many`]. Otherwise
/// the results are unspecified (though nothing panics). A pattern with no
/// segments matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// does not match the CRD pattern; `offset` = byte offset of the first offending character
    Syntax { offset: usize },
    /// more than one `{**}`; offset of the second one
    MultipleDoubleStar { offset: usize },
    /// `{*}` after `{**}`; offset of that `{*}`
    SingleStarAfterDoubleStar { offset: usize },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Syntax { offset } => write!(
                f,
                "invalid path at byte {offset}: expected `/*`, or segments `/literal`, `/{{*}}` or `/{{**}}` \
                 (literal characters: A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = : @ and %XX)"
            ),
            PathError::MultipleDoubleStar { offset } => write!(
                f,
                "second `{{**}}` at byte {offset}: only one {{**}} operator is allowed in the path"
            ),
            PathError::SingleStarAfterDoubleStar { offset } => write!(
                f,
                "`{{*}}` at byte {offset} follows `{{**}}`: the {{**}} operator must be the last operator in the path"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// CRD regex check only (no controller rules).
#[must_use]
pub fn matches_crd_pattern(path: &str) -> bool {
    lex(path).is_ok()
}

/// Characters allowed unescaped in a literal segment (the CRD's class; note it
/// has no `*`, `{`, `}` or `/`).
fn is_literal_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()+,;=:@".contains(&b)
}

/// Splits `path` into segments, each with the byte offset of its first
/// character (just past its `/`), checking the CRD syntax on the way.
fn lex(path: &str) -> Result<Vec<(Segment, usize)>, PathError> {
    let bytes = path.as_bytes();
    let syntax = |offset: usize| Err(PathError::Syntax { offset });
    if bytes == b"/*" {
        return Ok(vec![(Segment::Many, 1)]);
    }
    let mut segments = Vec::new();
    let mut i = 0;
    loop {
        // Every segment starts with `/`; this also rejects "" (offset 0).
        if bytes.get(i) != Some(&b'/') {
            return syntax(i);
        }
        i += 1;
        let start = i;
        match bytes.get(i) {
            Some(b'{') => {
                i += 1;
                if bytes.get(i) != Some(&b'*') {
                    return syntax(i);
                }
                i += 1;
                let segment = if bytes.get(i) == Some(&b'*') {
                    i += 1;
                    Segment::Many
                } else {
                    Segment::One
                };
                if bytes.get(i) != Some(&b'}') {
                    return syntax(i);
                }
                i += 1;
                segments.push((segment, start));
            }
            // `/*` is only valid as the whole path (handled above), so the
            // longest valid prefix of `/*…` is `/*` itself.
            Some(b'*') if start == 1 => return syntax(2),
            _ => {
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'/' => break,
                        b'%' => {
                            for k in 1..=2 {
                                if !bytes.get(i + k).is_some_and(u8::is_ascii_hexdigit) {
                                    return syntax(i + k);
                                }
                            }
                            i += 3;
                        }
                        _ if is_literal_char(b) => i += 1,
                        _ => return syntax(i),
                    }
                }
                // Only ASCII was consumed, so `start..i` lies on char boundaries.
                segments.push((Segment::Literal(path[start..i].to_owned()), start));
            }
        }
        if i == bytes.len() {
            return Ok(segments);
        }
    }
}

/// What one position of the pattern being tested for inclusion admits.
#[derive(Debug, Clone, Copy)]
enum Slot<'a> {
    /// exactly this segment
    Lit(&'a str),
    /// any non-empty segment (`{*}`)
    One,
    /// any segment, possibly empty (one of the segments a `{**}` stands for)
    Any,
}

/// Does pattern segment `a` accept every segment value that `slot` admits?
fn segment_covers(a: &Segment, slot: Slot<'_>) -> bool {
    match (a, slot) {
        (Segment::Many, _) => true,
        (Segment::One, Slot::Lit(s)) => !s.is_empty(),
        (Segment::One, Slot::One) => true,
        (Segment::One, Slot::Any) => false,
        (Segment::Literal(t), Slot::Lit(s)) => t == s,
        (Segment::Literal(_), Slot::One | Slot::Any) => false,
    }
}

/// Does pattern segment `a` (placed on a single request segment) accept `s`?
fn segment_matches(a: &Segment, s: &str) -> bool {
    match a {
        Segment::Literal(t) => t == s,
        Segment::One => !s.is_empty(),
        Segment::Many => true,
    }
}

/// The set one segment of `b` admits, with `b`'s `{**}` (if any) standing
/// for a single "any segment" slot (the `b_1` of the module docs).
fn slot(segment: &Segment) -> Slot<'_> {
    match segment {
        Segment::Literal(s) => Slot::Lit(s),
        Segment::One => Slot::One,
        Segment::Many => Slot::Any,
    }
}

impl PathPattern {
    /// Parses `path`, checking the CRD syntax and then the controller's
    /// `{**}` rules (`/*` becomes `[Many]`, like `/{**}`).
    ///
    /// # Errors
    ///
    /// [`PathError::Syntax`] when `path` does not match the CRD pattern, else
    /// [`PathError::MultipleDoubleStar`] or
    /// [`PathError::SingleStarAfterDoubleStar`] for the controller's rules.
    pub fn parse(path: &str) -> Result<PathPattern, PathError> {
        let lexed = lex(path)?;
        let mut double_stars = lexed.iter().filter(|(s, _)| *s == Segment::Many);
        let first_double = double_stars.next().map(|&(_, offset)| offset);
        // The controller reports "only one {**}" before "{**} must be last".
        if let Some(&(_, offset)) = double_stars.next() {
            return Err(PathError::MultipleDoubleStar { offset });
        }
        if let Some(first) = first_double
            && let Some(&(_, offset)) = lexed
                .iter()
                .find(|(s, offset)| *s == Segment::One && *offset > first)
        {
            return Err(PathError::SingleStarAfterDoubleStar { offset });
        }
        Ok(PathPattern {
            segments: lexed.into_iter().map(|(s, _)| s).collect(),
        })
    }

    /// true when every request path this pattern matches is also matched by `self`
    #[must_use]
    pub fn covers(&self, other: &PathPattern) -> bool {
        if other.segments.is_empty() {
            return true; // `other` matches nothing
        }
        // Treat `other`'s `{**}` as a single any-segment slot; covering that is
        // enough for every expansion (see the module docs). Only a `{**}` accepts
        // such a slot, so a `self` without one never covers an `other` with one,
        // which is right because `other` then matches paths of any length.
        let others = &other.segments;
        self.align(others.len(), |a, j| segment_covers(a, slot(&others[j])))
    }

    /// does a concrete request path (no query string) match? `/abc/{**}` does not match `/abc`.
    #[must_use]
    pub fn matches(&self, request_path: &str) -> bool {
        let Some(rest) = request_path.strip_prefix('/') else {
            return false;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        self.align(segments.len(), |a, j| segment_matches(a, segments[j]))
    }

    fn many_index(&self) -> Option<usize> {
        self.segments.iter().position(|s| *s == Segment::Many)
    }

    /// Lines `self` up with a target of `len` positions (the only way it can
    /// be lined up) and calls `accepts(segment, position)` for every segment other
    /// than the `{**}`. The one or more positions the `{**}` swallows need
    /// no check: it accepts anything there.
    fn align(&self, len: usize, mut accepts: impl FnMut(&Segment, usize) -> bool) -> bool {
        let n = self.segments.len();
        match self.many_index() {
            None => len == n && self.segments.iter().enumerate().all(|(j, a)| accepts(a, j)),
            Some(m) => {
                let suffix = &self.segments[m + 1..];
                len >= n
                    && self.segments[..m]
                        .iter()
                        .enumerate()
                        .all(|(j, a)| accepts(a, j))
                    && suffix
                        .iter()
                        .enumerate()
                        .all(|(i, a)| accepts(a, len - suffix.len() + i))
            }
        }
    }
}

/// The earlier patterns of one method, indexed so that "which is the earliest earlier pattern
/// that covers this one?" does not compare against every earlier pattern (which made the
/// conflict check quadratic in the rules of a workload).
///
/// Patterns sit in a trie over their segments up to their `{**}`; a pattern with a `{**}`
/// continues in a second trie over its remaining segments, read from the end. A query walks
/// the trie along the new pattern's segments, taking at each position only the edges whose
/// segment accepts it (the literal itself and, for a non-empty literal or `{*}`, the `{*}`
/// edge), and at each `{**}` walks the suffix trie from the new pattern's end, keeping at
/// least one position for the `{**}` — exactly the alignment [`PathPattern::covers`] checks.
/// Every trie node is visited at most once per query, so a query costs at most the size of
/// the trie, and usually the length of the pattern.
#[derive(Debug, Default)]
pub struct CoverIndex {
    nodes: Vec<TrieNode>,
    /// The first id inserted (an empty pattern is covered by every pattern).
    first: Option<usize>,
}

#[derive(Debug, Default)]
struct TrieNode {
    literals: std::collections::HashMap<String, usize>,
    one: Option<usize>,
    /// The earliest pattern that ends here (in a suffix trie: whose suffix ends here).
    ends: Option<usize>,
    /// The suffix trie of the patterns whose `{**}` follows this prefix.
    many: Option<usize>,
}

impl CoverIndex {
    fn node(&mut self) -> usize {
        self.nodes.push(TrieNode::default());
        self.nodes.len() - 1
    }

    fn child(&mut self, at: usize, segment: &Segment) -> usize {
        let existing = match segment {
            Segment::Literal(s) => self.nodes[at].literals.get(s).copied(),
            Segment::One => self.nodes[at].one,
            Segment::Many => self.nodes[at].many,
        };
        if let Some(c) = existing {
            return c;
        }
        let c = self.node();
        match segment {
            Segment::Literal(s) => {
                self.nodes[at].literals.insert(s.clone(), c);
            }
            Segment::One => self.nodes[at].one = Some(c),
            Segment::Many => self.nodes[at].many = Some(c),
        }
        c
    }

    /// Add a pattern under `id`. Ids must grow: the earliest wins.
    pub fn insert(&mut self, pattern: &PathPattern, id: usize) {
        self.first.get_or_insert(id);
        if self.nodes.is_empty() {
            self.node();
        }
        let segments = &pattern.segments;
        let many = segments.iter().position(|s| *s == Segment::Many);
        let mut at = 0;
        for segment in &segments[..many.unwrap_or(segments.len())] {
            at = self.child(at, segment);
        }
        if let Some(m) = many {
            at = self.child(at, &Segment::Many);
            for segment in segments[m + 1..].iter().rev() {
                at = self.child(at, segment);
            }
        }
        self.nodes[at].ends.get_or_insert(id);
    }

    /// The children of `at` whose segment accepts every value of `slot`.
    fn accepting(&self, at: usize, slot: Slot<'_>) -> [Option<usize>; 2] {
        let node = &self.nodes[at];
        match slot {
            Slot::Lit(s) => [
                node.literals.get(s).copied(),
                node.one.filter(|_| !s.is_empty()),
            ],
            Slot::One => [node.one, None],
            Slot::Any => [None, None],
        }
    }

    /// The smallest id of an inserted pattern that covers `pattern`
    /// (the same answer as checking [`PathPattern::covers`] against each).
    #[must_use]
    pub fn earliest_covering(&self, pattern: &PathPattern) -> Option<usize> {
        if pattern.segments.is_empty() {
            return self.first;
        }
        if self.nodes.is_empty() {
            return None;
        }
        let slots: Vec<Slot<'_>> = pattern.segments.iter().map(slot).collect();
        let n = slots.len();
        let mut best: Option<usize> = None;
        let mut found = |id: Option<usize>| {
            if let Some(id) = id {
                best = Some(best.map_or(id, |b: usize| b.min(id)));
            }
        };
        // (node, position) in the prefix trie; (node, slots taken from the end, limit) in
        // a suffix trie.
        let mut prefix = vec![(0usize, 0usize)];
        let mut suffix: Vec<(usize, usize, usize)> = Vec::new();
        while let Some((at, j)) = prefix.pop() {
            let node = &self.nodes[at];
            if j == n {
                found(node.ends);
                continue;
            }
            if let Some(root) = node.many {
                // The `{**}` takes at least one position: at most n - j - 1 for the suffix.
                suffix.push((root, 0, n - j - 1));
                while let Some((s_at, k, limit)) = suffix.pop() {
                    found(self.nodes[s_at].ends);
                    if k < limit {
                        for c in self.accepting(s_at, slots[n - 1 - k]).into_iter().flatten() {
                            suffix.push((c, k + 1, limit));
                        }
                    }
                }
            }
            for c in self.accepting(at, slots[j]).into_iter().flatten() {
                prefix.push((c, j + 1));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> PathPattern {
        PathPattern::parse(path).unwrap_or_else(|e| panic!("{path:?}: {e:?}"))
    }

    fn lit(s: &str) -> Segment {
        Segment::Literal(s.to_owned())
    }

    fn syntax_offset(path: &str) -> usize {
        match PathPattern::parse(path) {
            Err(PathError::Syntax { offset }) => {
                assert!(!matches_crd_pattern(path), "{path:?}");
                offset
            }
            other => panic!("{path:?}: expected a syntax error, got {other:?}"),
        }
    }

    /// Later rules (same method) conflicting with an earlier one, in order.
    fn conflicts(paths: &[&str]) -> Vec<usize> {
        let parsed: Vec<PathPattern> = paths.iter().map(|s| p(s)).collect();
        (0..parsed.len())
            .filter(|&j| parsed[..j].iter().any(|earlier| earlier.covers(&parsed[j])))
            .collect()
    }

    // ----- parsing -------------------------------------------------------

    #[test]
    fn parses_segments() {
        assert_eq!(p("/").segments, vec![lit("")]);
        assert_eq!(p("//").segments, vec![lit(""), lit("")]);
        assert_eq!(p("/a/").segments, vec![lit("a"), lit("")]);
        assert_eq!(
            p("/a/{*}/b%2F/{**}").segments,
            vec![lit("a"), Segment::One, lit("b%2F"), Segment::Many]
        );
        assert_eq!(p("/*").segments, vec![Segment::Many]);
        assert_eq!(p("/*"), p("/{**}"));
        assert_eq!(p("/{**}/x").segments, vec![Segment::Many, lit("x")]);
        assert_eq!(
            p("/-._~!$&'()+,;=:@AZaz09").segments,
            vec![lit("-._~!$&'()+,;=:@AZaz09")]
        );
        assert!(matches_crd_pattern("//"));
        assert!(matches_crd_pattern("/*"));
    }

    #[test]
    fn syntax_errors_with_offsets() {
        assert_eq!(syntax_offset("/a b"), 2);
        assert_eq!(syntax_offset("api"), 0);
        assert_eq!(syntax_offset("/a/*"), 3);
        assert_eq!(syntax_offset("/{***}"), 4);
        assert_eq!(syntax_offset("/%zz"), 2);
        assert_eq!(syntax_offset("/%az"), 3);
        assert_eq!(syntax_offset(""), 0);
        assert_eq!(syntax_offset("/%2"), 3); // ends mid-escape
        assert_eq!(syntax_offset("/%"), 2);
        assert_eq!(syntax_offset("/*x"), 2); // `/*` must stand alone
        assert_eq!(syntax_offset("/*/a"), 2);
        assert_eq!(syntax_offset("/**"), 2);
        assert_eq!(syntax_offset("/{*}x"), 4);
        assert_eq!(syntax_offset("/{*}{*}"), 4);
        assert_eq!(syntax_offset("/a{*}"), 2);
        assert_eq!(syntax_offset("/{}"), 2);
        assert_eq!(syntax_offset("/{*"), 3);
        assert_eq!(syntax_offset("/{x}"), 2);
        assert_eq!(syntax_offset("/a/é"), 3);
        assert_eq!(syntax_offset("/a?b=1"), 2);
        assert_eq!(syntax_offset("/a\n"), 2);
        assert_eq!(syntax_offset("./*"), 0);
        assert_eq!(syntax_offset("*"), 0);
    }

    #[test]
    fn controller_rules() {
        // offsets point at the `{` of the offending operator
        assert_eq!(
            PathPattern::parse("/{**}/{**}"),
            Err(PathError::MultipleDoubleStar { offset: 6 })
        );
        assert_eq!(
            PathPattern::parse("/{**}/{*}"),
            Err(PathError::SingleStarAfterDoubleStar { offset: 6 })
        );
        assert_eq!(
            PathPattern::parse("/a/{**}/b/{*}"),
            Err(PathError::SingleStarAfterDoubleStar { offset: 10 })
        );
        // "only one {**}" wins, as in the controller
        assert_eq!(
            PathPattern::parse("/{**}/{*}/{**}"),
            Err(PathError::MultipleDoubleStar { offset: 10 })
        );
        // the CRD regex alone accepts them
        assert!(matches_crd_pattern("/{**}/{**}"));
        assert!(matches_crd_pattern("/{**}/{*}"));
        // valid combinations
        p("/{*}/{**}");
        p("/{*}/{*}/{**}/a/b");
        p("/{**}/a/b");
    }

    // ----- matching ------------------------------------------------------

    #[test]
    fn matches_exact() {
        let abc = p("/abc");
        assert!(abc.matches("/abc"));
        for no in ["/abc/", "/ab", "/abcd", "abc", "", "/", "//abc", "/abc/d"] {
            assert!(!abc.matches(no), "{no:?}");
        }
        let root = p("/");
        assert!(root.matches("/"));
        assert!(!root.matches("//") && !root.matches("/a") && !root.matches(""));
        assert!(p("//").matches("//"));
        assert!(p("/a%2Fb").matches("/a%2Fb"));
        assert!(!p("/a%2Fb").matches("/a/b")); // no decoding
    }

    #[test]
    fn matches_single_star() {
        let pat = p("/a/{*}");
        assert!(pat.matches("/a/x"));
        assert!(pat.matches("/a/anything"));
        for no in ["/a/", "/a", "/a/x/y", "/a/x/", "/b/x"] {
            assert!(!pat.matches(no), "{no:?}");
        }
        let mid = p("/a/{*}/c");
        assert!(mid.matches("/a/b/c"));
        assert!(!mid.matches("/a//c") && !mid.matches("/a/b/b/c") && !mid.matches("/a/c"));
        assert!(!p("/{*}").matches("/"));
    }

    #[test]
    fn matches_double_star() {
        let pat = p("/abc/{**}");
        for yes in ["/abc/", "/abc/x", "/abc/x/y", "/abc//", "/abc/x/"] {
            assert!(pat.matches(yes), "{yes:?}");
        }
        for no in ["/abc", "/abcd", "/ab/c", "/"] {
            assert!(!pat.matches(no), "{no:?}");
        }
        let mid = p("/a/{**}/b");
        for yes in ["/a//b", "/a/x/b", "/a/x/y/b", "/a/b/b"] {
            assert!(mid.matches(yes), "{yes:?}");
        }
        for no in ["/a/b", "/a/x/b/", "/a/x/c"] {
            assert!(!mid.matches(no), "{no:?}");
        }
        assert!(p("/{**}").matches("/"));
    }

    #[test]
    fn matches_wildcard_path() {
        let all = p("/*");
        for yes in ["/", "//", "/x", "/x/y/z", "/x/"] {
            assert!(all.matches(yes), "{yes:?}");
        }
        assert!(!all.matches("") && !all.matches("x"));
    }

    // ----- covers / conflicts ---------------------------------------------

    #[test]
    fn required_examples() {
        let none = Vec::<usize>::new();
        assert_eq!(conflicts(&["/*", "/anything"]), vec![1]);
        assert_eq!(conflicts(&["/anything", "/*"]), none);
        assert_eq!(conflicts(&["/a/{**}", "/a/{*}/b"]), vec![1]);
        assert_eq!(conflicts(&["/a/{*}", "/a/{**}"]), none);
        assert_eq!(conflicts(&["/a/{**}", "/a/{*}"]), vec![1]);
        assert_eq!(conflicts(&["/a/{*}/c", "/a/b/c"]), vec![1]);
        assert_eq!(conflicts(&["/a/b/c", "/a/{*}/c"]), none);
        assert_eq!(conflicts(&["/{**}", "/x/{*}"]), vec![1]);
        assert_eq!(conflicts(&["/*", "/{**}"]), vec![1]);

        // `/a/{**}/b/c` needs >= 4 segments ending in `b/c`, all of which
        // `/a/{**}/c` matches; `/a/x/c` is matched only by the latter.
        assert!(p("/a/{**}/c").covers(&p("/a/{**}/b/c")));
        assert!(!p("/a/{**}/b/c").covers(&p("/a/{**}/c")));
        assert!(p("/a/{**}/c").matches("/a/x/c"));
        assert!(!p("/a/{**}/b/c").matches("/a/x/c"));
        assert_eq!(conflicts(&["/a/{**}/c", "/a/{**}/b/c"]), vec![1]);
        assert_eq!(conflicts(&["/a/{**}/b/c", "/a/{**}/c"]), none);
    }

    /// Cases where the controller's segment trie (api-gateway
    /// `internal/path/segment_trie`) reports a conflict but inclusion does
    /// not: it lets a stored `{*}` stand for a `{**}` or an empty segment,
    /// lets `{**}` match zero segments, and strips all leading slashes.
    #[test]
    fn deliberate_differences_from_controller() {
        let none = Vec::<usize>::new();
        // `/a/x/y` is matched by the second rule only.
        assert_eq!(conflicts(&["/a/{*}", "/a/{**}"]), none);
        assert_eq!(conflicts(&["/a/{*}/c", "/a/{**}/c"]), none);
        // `/a/b` is not matched by `/a/{**}/b` (the VirtualService regex needs `/a/` + … + `/b`).
        assert_eq!(conflicts(&["/a/{**}/b", "/a/b"]), none);
        // `{*}` needs a non-empty segment.
        assert_eq!(conflicts(&["/a/{*}", "/a/"]), none);
        assert_eq!(conflicts(&["/{*}", "/"]), none);
        // `//a` is a different path from `/a`.
        assert_eq!(conflicts(&["/a", "//a"]), none);
    }

    #[test]
    fn identical_paths_cover_each_other() {
        for s in [
            "/",
            "//",
            "/a",
            "/a/",
            "/a/b",
            "/{*}",
            "/{**}",
            "/*",
            "/a/{*}/b",
            "/a/{**}",
            "/a/{**}/b",
            "/{*}/{**}/x/y",
        ] {
            assert!(p(s).covers(&p(s)), "{s}");
            assert_eq!(conflicts(&[s, s]), vec![1], "{s}");
        }
    }

    #[test]
    fn empty_segments() {
        assert!(!p("/{*}").covers(&p("/")));
        assert!(p("/{**}").covers(&p("/")));
        assert!(p("/*").covers(&p("//")));
        assert!(!p("/a/{*}").covers(&p("/a/")));
        assert!(p("/a/{**}").covers(&p("/a/")));
        assert!(!p("/a/{**}").covers(&p("/a")));
        assert!(!p("/a/{**}/b").covers(&p("/a/b")));
        assert!(p("/a/{**}/b").covers(&p("/a//b")));
        assert!(!p("/a/{*}/b").covers(&p("/a/{**}/b")));
        assert!(p("/a/{**}/b").covers(&p("/a/{*}/{**}/b")));
    }

    /// The controller's own segment-trie test table (all agree with inclusion).
    #[test]
    fn controller_trie_table() {
        let none = Vec::<usize>::new();
        assert_eq!(conflicts(&["/abc", "/abc/{**}"]), none);
        assert_eq!(conflicts(&["/abc", "/abc/{*}"]), none);
        assert_eq!(conflicts(&["/abc/", "/abc/{*}"]), none);
        assert_eq!(conflicts(&["/abc/def/ghi", "/abc/{*}/ghi"]), none);
        assert_eq!(
            conflicts(&["/abc/def", "/abc/def/ghi", "/abc/def/ghi", "/abc/def"]),
            vec![2, 3]
        );
        assert_eq!(
            conflicts(&[
                "/abc/def",
                "/abc/def/ghi",
                "/abc/{**}/ghi",
                "/abc/{**}",
                "/{**}/ghi",
                "/{**}",
                "/{**}/def/ghi",
            ]),
            vec![6]
        );
        assert_eq!(conflicts(&["/abc/{**}/ghi", "/{*}/{*}/ghi"]), none);
        assert_eq!(conflicts(&["/abc/{**}/ghi", "/abc/{*}/ghi"]), vec![1]);
        assert_eq!(
            conflicts(&["/abc/{**}/def/ghi", "/abc/{**}/ghi", "/abc/{**}"]),
            none
        );
        assert_eq!(
            conflicts(&["/abc/{**}", "/abc/{**}/ghi", "/abc/{**}/def/ghi"]),
            vec![1, 2]
        );
        assert_eq!(
            conflicts(&[
                "/abc/{*}/def",
                "/abc/{*}/ghi",
                "/abc/{*}/foo/bar",
                "/abc/{*}"
            ]),
            none
        );
        assert_eq!(conflicts(&["/abc/{*}", "/abc/def"]), vec![1]);
        assert_eq!(conflicts(&["/abc/{**}", "/abc/def"]), vec![1]);
        assert_eq!(conflicts(&["/abc/def", "/abc/{*}"]), none);
        assert_eq!(conflicts(&["/abc/{**}", "/bca/{**}/abc"]), none);
        assert_eq!(conflicts(&["/abc/{**}/def", "/abc/def/{**}/def"]), vec![1]);
        assert_eq!(conflicts(&["/a/{**}/abc", "/a/b/{**}/abc/abcd"]), none);
    }

    #[test]
    fn empty_pattern_matches_nothing() {
        let empty = PathPattern { segments: vec![] };
        assert!(!empty.matches("/"));
        assert!(p("/a").covers(&empty));
        assert!(!empty.covers(&p("/a")));
        assert!(empty.covers(&empty));
    }

    #[test]
    fn long_patterns_are_cheap() {
        let body = "/x".repeat(3000);
        let a = p(&format!("{body}/{{**}}{body}"));
        let b = p(&format!("{body}/y/{{**}}/z{body}"));
        assert!(a.covers(&b));
        assert!(!b.covers(&a));
        let c = p(&format!("{body}/{{*}}{body}"));
        assert!(a.covers(&c) && !c.covers(&a));
        assert!(a.covers(&a));
    }

    // ----- brute-force cross-checks ----------------------------------------

    /// Test-only rendering of a pattern (`Many` as `{**}`).
    fn render(pattern: &PathPattern) -> String {
        let mut out = String::new();
        for segment in &pattern.segments {
            out.push('/');
            match segment {
                Segment::Literal(s) => out.push_str(s),
                Segment::One => out.push_str("{*}"),
                Segment::Many => out.push_str("{**}"),
            }
        }
        out
    }

    /// Character-level model of the controller's VirtualService regex:
    /// `{*}` = `[^/]+`, `{**}` = `.*` (slashes included, possibly empty).
    #[derive(Clone, Copy)]
    enum Glob {
        Byte(u8),
        One,
        Many,
    }

    fn glob_of(pattern: &PathPattern) -> Vec<Glob> {
        let mut out = Vec::new();
        for segment in &pattern.segments {
            out.push(Glob::Byte(b'/'));
            match segment {
                Segment::Literal(s) => out.extend(s.bytes().map(Glob::Byte)),
                Segment::One => out.push(Glob::One),
                Segment::Many => out.push(Glob::Many),
            }
        }
        out
    }

    fn glob_matches(pattern: &[Glob], s: &[u8]) -> bool {
        match pattern.split_first() {
            None => s.is_empty(),
            Some((Glob::Byte(c), rest)) => s.first() == Some(c) && glob_matches(rest, &s[1..]),
            Some((Glob::One, rest)) => (1..=s.len())
                .take_while(|&n| s[n - 1] != b'/')
                .any(|n| glob_matches(rest, &s[n..])),
            Some((Glob::Many, rest)) => (0..=s.len()).any(|n| glob_matches(rest, &s[n..])),
        }
    }

    fn sequences<T: Clone>(alphabet: &[T], max_len: usize) -> Vec<Vec<T>> {
        let mut all = Vec::new();
        let mut layer: Vec<Vec<T>> = vec![Vec::new()];
        for _ in 0..max_len {
            layer = layer
                .iter()
                .flat_map(|prefix| {
                    alphabet.iter().map(move |x| {
                        let mut next = prefix.clone();
                        next.push(x.clone());
                        next
                    })
                })
                .collect();
            all.extend(layer.iter().cloned());
        }
        all
    }

    /// Patterns of up to 3 segments over literals {"", a, b}, `{*}`, `{**}`,
    /// against every request path of 1..=4 segments over {"", a, b, c}.
    /// For patterns this short a non-inclusion always has a witness of at most
    /// 4 segments (the fresh value `c` or `""` defeats a literal, `""` defeats
    /// `{*}`), so `covers` must agree exactly with the enumeration.
    #[test]
    fn brute_force_covers_and_matches() {
        let atoms = [lit(""), lit("a"), lit("b"), Segment::One, Segment::Many];
        let mut patterns = Vec::new();
        for segments in sequences(&atoms, 3) {
            let pattern = PathPattern { segments };
            let text = render(&pattern);
            match PathPattern::parse(&text) {
                Ok(parsed) => {
                    assert_eq!(parsed, pattern, "{text}");
                    patterns.push(pattern);
                }
                Err(PathError::MultipleDoubleStar { .. })
                | Err(PathError::SingleStarAfterDoubleStar { .. }) => {}
                Err(e) => panic!("{text}: {e:?}"),
            }
        }
        patterns.push(p("/*"));
        assert!(patterns.len() > 100, "{}", patterns.len());

        let requests: Vec<String> = sequences(&["", "a", "b", "c"], 4)
            .iter()
            .map(|segs| format!("/{}", segs.join("/")))
            .collect();
        assert_eq!(requests.len(), 4 + 16 + 64 + 256);

        let matched: Vec<Vec<bool>> = patterns
            .iter()
            .map(|pattern| {
                let glob = glob_of(pattern);
                requests
                    .iter()
                    .map(|r| {
                        let got = pattern.matches(r);
                        assert_eq!(
                            got,
                            glob_matches(&glob, r.as_bytes()),
                            "{} vs {r}",
                            render(pattern)
                        );
                        got
                    })
                    .collect()
            })
            .collect();

        let mut covering_pairs = 0;
        for (a, a_set) in patterns.iter().zip(&matched) {
            for (b, b_set) in patterns.iter().zip(&matched) {
                let expected = a_set.iter().zip(b_set).all(|(&in_a, &in_b)| in_a || !in_b);
                assert_eq!(a.covers(b), expected, "{} covers {}", render(a), render(b));
                covering_pairs += usize::from(expected);
            }
        }
        // sanity: the relation is neither empty nor total
        assert!(covering_pairs > patterns.len());
        assert!(covering_pairs < patterns.len() * patterns.len());
    }

    /// The index answers exactly like comparing with every earlier pattern, over sequences
    /// drawn from all short patterns (deterministic pseudo-random order).
    #[test]
    fn cover_index_agrees_with_pairwise_covers() {
        let atoms = [lit(""), lit("a"), lit("b"), Segment::One, Segment::Many];
        let mut patterns: Vec<PathPattern> = sequences(&atoms, 4)
            .into_iter()
            .map(|segments| PathPattern { segments })
            .filter(|p| PathPattern::parse(&render(p)).is_ok())
            .collect();
        patterns.push(p("/*"));
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for _ in 0..300 {
            let len = 1 + (next() % 40) as usize;
            let seq: Vec<&PathPattern> = (0..len)
                .map(|_| &patterns[(next() % patterns.len() as u64) as usize])
                .collect();
            let mut index = CoverIndex::default();
            for (i, b) in seq.iter().enumerate() {
                let naive = seq[..i].iter().position(|a| a.covers(b));
                assert_eq!(
                    index.earliest_covering(b),
                    naive,
                    "{} after {:?}",
                    render(b),
                    seq[..i].iter().map(|a| render(a)).collect::<Vec<_>>()
                );
                index.insert(b, i);
                checked += 1;
            }
        }
        assert!(checked > 1000);
        // Every pattern against every pattern, one at a time.
        for a in &patterns {
            let mut index = CoverIndex::default();
            index.insert(a, 7);
            for b in &patterns {
                assert_eq!(index.earliest_covering(b), a.covers(b).then_some(7));
            }
        }
        let empty = PathPattern { segments: vec![] };
        let mut index = CoverIndex::default();
        assert_eq!(index.earliest_covering(&empty), None);
        index.insert(&p("/a"), 3);
        assert_eq!(index.earliest_covering(&empty), Some(3));
    }

    #[test]
    fn cover_index_is_cheap_for_many_rules() {
        let mut index = CoverIndex::default();
        for i in 0..20_000 {
            let pattern = p(&format!("/r{i}/{{*}}/x"));
            assert_eq!(index.earliest_covering(&pattern), None);
            index.insert(&pattern, i);
        }
        assert_eq!(index.earliest_covering(&p("/r5/abc/x")), Some(5));
        index.insert(&p("/{**}/x"), 20_000);
        assert_eq!(index.earliest_covering(&p("/q/x")), Some(20_000));
    }

    /// Independent model of the CRD regex, used to check `matches_crd_pattern`
    /// and that syntax offsets are "longest prefix that a valid path starts with".
    fn crd_oracle(path: &str) -> bool {
        fn literal_ok(s: &str) -> bool {
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    match b.get(i + 1..i + 3) {
                        Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => i += 3,
                        _ => return false,
                    }
                } else if is_literal_char(b[i]) {
                    i += 1;
                } else {
                    return false;
                }
            }
            true
        }
        path == "/*"
            || path.strip_prefix('/').is_some_and(|rest| {
                rest.split('/')
                    .all(|seg| seg == "{*}" || seg == "{**}" || literal_ok(seg))
            })
    }

    fn viable_prefix(prefix: &str) -> bool {
        ["", "/", "0", "00", "}", "*}"]
            .iter()
            .any(|completion| crd_oracle(&format!("{prefix}{completion}")))
    }

    #[test]
    fn exhaustive_syntax_offsets() {
        let alphabet: Vec<char> = "/{}*a%0z ".chars().collect();
        let mut checked = 0;
        for chars in sequences(&alphabet, 5) {
            let s: String = chars.into_iter().collect();
            let valid = crd_oracle(&s);
            assert_eq!(matches_crd_pattern(&s), valid, "{s:?}");
            if valid {
                continue;
            }
            let offset = syntax_offset(&s);
            assert!(offset <= s.len(), "{s:?}");
            assert!(
                viable_prefix(&s[..offset]),
                "{s:?}: prefix up to {offset} is not viable"
            );
            if offset < s.len() {
                assert!(
                    !viable_prefix(&s[..=offset]),
                    "{s:?}: offset {offset} too small"
                );
            }
            checked += 1;
        }
        assert!(checked > 10_000);
    }
}
