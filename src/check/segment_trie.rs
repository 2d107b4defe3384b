//! The api-gateway controller's rule-order check, reproduced exactly.
//!
//! Source: kyma-project/api-gateway @ 64d110d6 (after 3.10.0):
//! `internal/validation/v2alpha1/rules.go` `hasPathByMethodConflict`,
//! `internal/path/segment_trie/segment_trie.go` and `internal/path/token/token.go`.
//!
//! For each method, the controller inserts the rules' paths in rule order into a trie of path
//! segments (`/*` is first rewritten to `/{**}`; a method listed twice inserts the path twice).
//! An insertion fails ("path collision detected"), and the APIRule gets `status: Error`, when a
//! path already in the trie can match the new token sequence under these rules:
//! a literal token matches the same literal (`{*}` and `{**}` tokens of the new path included),
//! a stored `{*}` matches any one token, and a stored `{**}` matches when one of the suffixes
//! stored after it equals a tail of the new path, or when it ends the stored path.
//!
//! This is more than language inclusion: `/api/{*}` then `/api/{**}`, `/a/{**}/b` then `/a/b`
//! and `/{*}` then `/` collide although the earlier path does not match every request of the
//! later one. The quirks are kept too: a node keeps the end marker of its first insertion, so
//! `/a/b`, `/a`, `/a` is accepted.

use std::collections::HashMap;

/// A path token (`token.Token`): its literal (`""` for an empty segment) and whether it is the
/// `{**}` operator.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    literal: String,
}

impl Token {
    fn is_double(&self) -> bool {
        self.literal == "{**}"
    }
}

/// `token.TokenizePath`: leading slashes trimmed, then split at every `/`.
fn tokenize(path: &str) -> Vec<Token> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| Token {
            literal: s.to_string(),
        })
        .collect()
}

/// `token.List.String`: `/` before every literal.
fn join(tokens: &[Token]) -> String {
    let mut s = String::new();
    for t in tokens {
        s.push('/');
        s.push_str(&t.literal);
    }
    s
}

#[derive(Debug, Default)]
struct Node {
    end: bool,
    children: HashMap<String, Node>,
    suffixes: Vec<String>,
}

/// `segment_trie.SegmentTrie` for one method.
#[derive(Debug, Default)]
pub(crate) struct SegmentTrie {
    root: Node,
}

impl SegmentTrie {
    /// `InsertAndCheckCollisions` for an APIRule path (with the `/*` → `/{**}` rewrite of
    /// `hasPathByMethodConflict`): `false` when the controller reports a collision (the path is
    /// then not inserted).
    pub(crate) fn insert(&mut self, path: &str) -> bool {
        let path = if path == "/*" { "/{**}" } else { path };
        let tokens = tokenize(path);
        if tokens.is_empty() {
            return true;
        }
        if !self.root.children.is_empty() && find_existing_path(&self.root, &tokens, 0) {
            return false;
        }
        let last = tokens.len() - 1;
        let mut node = &mut self.root;
        for (i, tok) in tokens.iter().enumerate() {
            if tok.is_double() {
                let suffix = join(&tokens[i + 1..]);
                match node.children.get_mut("{**}") {
                    Some(n) => n.suffixes.push(suffix),
                    None => {
                        node.children.insert(
                            "{**}".into(),
                            Node {
                                end: i == last,
                                children: HashMap::new(),
                                suffixes: vec![suffix],
                            },
                        );
                    }
                }
            } else if !node.children.contains_key(&tok.literal) {
                node.children.insert(
                    tok.literal.clone(),
                    Node {
                        end: i == last,
                        ..Node::default()
                    },
                );
            }
            node = node
                .children
                .get_mut(&tok.literal)
                .expect("inserted above");
        }
        true
    }

    /// Would inserting `path` collide (without inserting it)?
    pub(crate) fn collides(&self, path: &str) -> bool {
        let path = if path == "/*" { "/{**}" } else { path };
        let tokens = tokenize(path);
        !tokens.is_empty()
            && !self.root.children.is_empty()
            && find_existing_path(&self.root, &tokens, 0)
    }
}

/// `findExistingPath`.
fn find_existing_path(node: &Node, tokens: &[Token], cur: usize) -> bool {
    if cur >= tokens.len() {
        return node.end;
    }
    let tok = &tokens[cur];
    if let Some(next) = node.children.get(&tok.literal)
        && find_existing_path(next, tokens, cur + 1)
    {
        return true;
    }
    if let Some(next) = node.children.get("{*}")
        && find_existing_path(next, tokens, cur + 1)
    {
        return true;
    }
    if let Some(next) = node.children.get("{**}") {
        for i in cur..=tokens.len() {
            let suffix = join(&tokens[i..]);
            if next.suffixes.iter().any(|s| *s == suffix || s.is_empty()) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths in order; the index of the first one that collides, if any.
    fn first_collision(paths: &[&str]) -> Option<usize> {
        let mut t = SegmentTrie::default();
        paths.iter().position(|p| !t.insert(p))
    }

    #[test]
    fn collisions_beyond_inclusion() {
        assert_eq!(first_collision(&["/api/{*}", "/api/{**}"]), Some(1));
        assert_eq!(first_collision(&["/a/{**}/b", "/a/b"]), Some(1));
        assert_eq!(first_collision(&["/{*}", "/"]), Some(1));
        assert_eq!(first_collision(&["/*", "/anything"]), Some(1));
        assert_eq!(first_collision(&["/a/{**}", "/a/x/y"]), Some(1));
        assert_eq!(first_collision(&["/a/{**}", "/a/"]), Some(1));
        assert_eq!(first_collision(&["/x", "/x"]), Some(1));
        assert_eq!(first_collision(&["/a/{**}", "/a/{**}"]), Some(1));
    }

    #[test]
    fn accepted_orders() {
        assert_eq!(first_collision(&["/a/{**}", "/a"]), None);
        assert_eq!(first_collision(&["/a/b", "/a/{*}"]), None);
        assert_eq!(first_collision(&["/", "/{**}"]), None);
        assert_eq!(first_collision(&["/api/*", "/health/*", "/*"]), None);
        assert_eq!(first_collision(&["/api/{**}", "/health/{**}", "/*"]), None);
        // The controller's own e2e test (tests/e2e/tests/asterisk/asterisk_paths.yaml), GET.
        assert_eq!(
            first_collision(&[
                "/anything/one",
                "/anything/one/two",
                "/anything/{*}/one",
                "/anything/{*}/{*}/two",
                "/anything/",
            ]),
            None
        );
        // Quirk: a node keeps the end marker of its first insertion.
        assert_eq!(first_collision(&["/a/b", "/a", "/a"]), None);
    }
}

#[cfg(test)]
mod controller_cases {
    use super::SegmentTrie;

    /// Verdicts of the controller's own Go code on 405 random rule orders
    /// (`segment_trie_cases.txt`): the reproduction agrees on every one.
    #[test]
    fn agrees_with_the_controller_on_random_orders() {
        let data = include_str!("segment_trie_cases.txt");
        let mut n = 0;
        for line in data.lines().filter(|l| !l.starts_with('#')) {
            let (want, paths) = line.split_once('|').expect("result|paths");
            let want: i64 = want.parse().expect("index");
            let mut t = SegmentTrie::default();
            let got = paths
                .split(' ')
                .position(|p| !t.insert(p))
                .map_or(-1, |i| i as i64);
            assert_eq!(got, want, "{paths}");
            n += 1;
        }
        assert!(n > 400, "only {n} cases");
    }
}
