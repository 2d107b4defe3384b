//! APIRule paths as the two Istio objects see them: the VirtualService route regex the
//! controller writes, and the AuthorizationPolicy path template Envoy matches.
//!
//! Sources:
//! - route regex: kyma-project/api-gateway `internal/processing/processors/v2alpha1/virtualservice/virtual_service_processor.go`
//!   lines 22–27 and 197–203 (commit 64d110d6, as recorded in the project's reference notes):
//!   `/*` becomes `prefix: /`; any other path `^<path>$` with `{**}` and `{*}` replaced by the
//!   character classes below, literal characters **not** escaped.
//! - policy template: `withTo` in `…/authorizationpolicy/creator.go` (`/*` → `/{**}`, other
//!   paths verbatim); Istio `pilot/pkg/security/authz/matcher/path_template.go` turns `{*}`
//!   into `*` and `{**}` into `**` for Envoy's `uri_template` matcher, whose regex is built in
//!   envoyproxy/envoy `source/extensions/path/uri_template_lib/uri_template_internal.cc`
//!   (`toRegexPattern`): `*` → `[kLiteral]+`, `**` → `[kLiteral/]*`, literals escaped, with
//!   `kLiteral = a-zA-Z0-9-._~%!$&'()+,;:@=`. A path without `{` is an exact match (Istio
//!   `authz/model` `pathMatcher`).

/// `{**}` in the controller's route regex.
pub const REGEX_DOUBLE: &str = "([A-Za-z0-9-._~!$&'()*+,;=:@/]|%[0-9a-fA-F]{2})*";
/// `{*}` in the controller's route regex.
pub const REGEX_SINGLE: &str = "([A-Za-z0-9-._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+";

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// An exact segment (may be empty).
    Lit(String),
    /// `{*}`: a non-empty run of template characters, no `/`.
    One,
    /// `{**}`: a possibly empty run of template characters and `/`.
    Many,
}

/// An APIRule path as a template: its segments (`/*` is `/{**}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Template {
    /// Segments, split at `/` after the leading one.
    pub segs: Vec<Seg>,
}

impl Template {
    /// Parse an APIRule path (already valid: checked before planning). `/*` is `/{**}`.
    pub fn parse(path: &str) -> Template {
        let path = if path == "/*" { "/{**}" } else { path };
        let body = path.strip_prefix('/').unwrap_or(path);
        let segs = body
            .split('/')
            .map(|s| match s {
                "{*}" => Seg::One,
                "{**}" => Seg::Many,
                other => Seg::Lit(other.to_string()),
            })
            .collect();
        Template { segs }
    }

    /// Does the template contain an operator (is it matched as a template, not exactly)?
    pub fn is_template(&self) -> bool {
        self.segs.iter().any(|s| !matches!(s, Seg::Lit(_)))
    }

    /// Envoy's match of this template (or exact path) against a request path (no query).
    pub fn matches(&self, path: &str) -> bool {
        let Some(body) = path.strip_prefix('/') else {
            return false;
        };
        if !self.is_template() {
            let lits: Vec<&str> = self
                .segs
                .iter()
                .map(|s| match s {
                    Seg::Lit(l) => l.as_str(),
                    _ => "",
                })
                .collect();
            return body == lits.join("/");
        }
        let parts: Vec<&str> = body.split('/').collect();
        match_segs(&self.segs, &parts)
    }
}

/// Envoy `kLiteral` (uri_template_internal.cc): the characters `*` and `**` accept.
pub fn is_template_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~%!$&'()+,;:@=".contains(c)
}

fn match_segs(segs: &[Seg], parts: &[&str]) -> bool {
    match segs.iter().position(|s| *s == Seg::Many) {
        None => segs.len() == parts.len() && segs.iter().zip(parts).all(|(s, p)| one_seg(s, p)),
        Some(m) => {
            let (pre, post) = (&segs[..m], &segs[m + 1..]);
            if parts.len() < pre.len() + post.len() + 1 {
                return false;
            }
            let mid = &parts[pre.len()..parts.len() - post.len()];
            pre.iter().zip(parts).all(|(s, p)| one_seg(s, p))
                && post
                    .iter()
                    .zip(&parts[parts.len() - post.len()..])
                    .all(|(s, p)| one_seg(s, p))
                && mid.iter().all(|p| p.chars().all(is_template_char))
        }
    }
}

fn one_seg(s: &Seg, p: &str) -> bool {
    match s {
        Seg::Lit(l) => l == p,
        Seg::One => !p.is_empty() && p.chars().all(is_template_char),
        Seg::Many => true,
    }
}

/// Escape the regex metacharacters the APIRule path syntax admits in literals
/// (`. $ ( ) +`; the CRD allows no other), for the plain-Istio target.
pub fn escape_literal(lit: &str) -> String {
    let mut out = String::with_capacity(lit.len());
    for c in lit.chars() {
        if ".$()+".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The route's `uri` match: `prefix: /` for `/*`, else a regex. `escape` escapes literal
/// characters (kexpose's Istio target); the controller does not (`.` matches any character).
pub fn route_uri(path: &str, escape: bool) -> UriMatch {
    if path == "/*" {
        return UriMatch::Prefix("/".into());
    }
    let mut re = String::from("^");
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{**}") {
            re.push_str(REGEX_DOUBLE);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("{*}") {
            re.push_str(REGEX_SINGLE);
            rest = r;
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            let lit = &rest[..end];
            if escape {
                re.push_str(&escape_literal(lit));
            } else {
                re.push_str(lit);
            }
            rest = &rest[end..];
        }
    }
    re.push('$');
    UriMatch::Regex(re)
}

/// A VirtualService `StringMatch` for the URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriMatch {
    /// `prefix`.
    Prefix(String),
    /// `regex` (RE2 syntax, full match).
    Regex(String),
}

impl UriMatch {
    /// The Istio `StringMatch` object.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            UriMatch::Prefix(p) => serde_json::json!({ "prefix": p }),
            UriMatch::Regex(r) => serde_json::json!({ "regex": r }),
        }
    }
}

/// Compile a route regex once per process: many routes share one (every workload's
/// `^/health$`), and the diff evaluates each side's routes per host.
fn compiled(re: &str) -> Option<regex::Regex> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(re).cloned()) {
        return hit;
    }
    let built = regex::Regex::new(re).ok();
    if let Ok(mut c) = cache.lock() {
        c.insert(re.to_string(), built.clone());
    }
    built
}

/// A compiled route matcher (Envoy: `safe_regex` full match on the path without query).
#[derive(Debug, Clone)]
pub enum RouteMatcher {
    /// `prefix`.
    Prefix(String),
    /// The compiled regex; `None` when RE2 would reject it (the route never matches — the
    /// controller's unescaped `(` can do that).
    Regex(Option<regex::Regex>),
}

impl RouteMatcher {
    /// Compile a `UriMatch`.
    pub fn new(m: &UriMatch) -> RouteMatcher {
        match m {
            UriMatch::Prefix(p) => RouteMatcher::Prefix(p.clone()),
            UriMatch::Regex(r) => RouteMatcher::Regex(compiled(r)),
        }
    }

    /// Does the path match?
    pub fn matches(&self, path: &str) -> bool {
        match self {
            RouteMatcher::Prefix(p) => path.starts_with(p.as_str()),
            RouteMatcher::Regex(Some(re)) => re.is_match(path),
            RouteMatcher::Regex(None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_regex_is_the_controllers() {
        // The worked example's rule 1 (reference §3.2).
        assert_eq!(
            route_uri("/api/orders/{*}", false),
            UriMatch::Regex("^/api/orders/([A-Za-z0-9-._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$".into())
        );
        assert_eq!(route_uri("/*", false), UriMatch::Prefix("/".into()));
        assert_eq!(
            route_uri("/v1.0/x", true),
            UriMatch::Regex("^/v1\\.0/x$".into())
        );
    }

    #[test]
    fn unescaped_dot_matches_any_character_in_the_route() {
        let loose = RouteMatcher::new(&route_uri("/a.b", false));
        let strict = RouteMatcher::new(&route_uri("/a.b", true));
        assert!(loose.matches("/aXb") && loose.matches("/a.b"));
        assert!(!strict.matches("/aXb") && strict.matches("/a.b"));
        // `+` is a quantifier when unescaped: the literal path itself no longer routes.
        let plus = RouteMatcher::new(&route_uri("/a+b", false));
        assert!(!plus.matches("/a+b") && plus.matches("/aab"));
    }

    #[test]
    fn templates_match_as_envoy() {
        let t = Template::parse("/a/{**}/b");
        assert!(t.matches("/a//b") && t.matches("/a/x/y/b") && !t.matches("/a/b"));
        let t = Template::parse("/x/{**}");
        assert!(t.matches("/x/") && t.matches("/x/y/z") && !t.matches("/x"));
        let t = Template::parse("/x/{*}");
        assert!(t.matches("/x/y") && !t.matches("/x/") && !t.matches("/x/y/z"));
        assert!(!t.matches("/x/a*b"), "`*` is not a template character");
        assert!(Template::parse("/*").matches("/"));
        assert!(Template::parse("/").matches("/") && !Template::parse("/").matches("/a"));
        assert!(Template::parse("/healthz").matches("/healthz"));
    }

    #[test]
    fn route_and_template_agree_on_ordinary_paths() {
        for p in ["/a/{**}/b", "/x/{*}", "/x/{**}", "/api/{*}/items", "/h"] {
            let (r, t) = (RouteMatcher::new(&route_uri(p, true)), Template::parse(p));
            for req in [
                "/a//b",
                "/a/x/b",
                "/x/",
                "/x/y",
                "/x/y/z",
                "/api/1/items",
                "/h",
                "/",
            ] {
                assert_eq!(r.matches(req), t.matches(req), "{p} {req}");
            }
        }
    }
}
