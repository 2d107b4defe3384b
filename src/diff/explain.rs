//! `explain`: the access table per host, or which rule a request meets and what it needs.

use super::access::{Access, Model};
use crate::paths::PathPattern;
use std::fmt::Write as _;

/// Paths oauth2-proxy answers itself (with 200) when checks reach it without a path prefix.
pub const PROXY_ENDPOINTS: [&str; 3] = ["/ping", "/ready", "/robots.txt"];

fn is_proxy_endpoint(path: &str) -> bool {
    PROXY_ENDPOINTS.contains(&path) || path.starts_with("/oauth2/static/")
}

/// The access table: per host, every rule in the order the controller evaluates them.
pub fn table(model: &Model) -> String {
    let mut out = String::new();
    let mut host = "";
    let mut i = 0;
    while i < model.entries.len() {
        let e = &model.entries[i];
        if e.host != host {
            host = &e.host;
            let _ = writeln!(
                out,
                "{}{host}  (APIRule {})",
                if out.is_empty() { "" } else { "\n" },
                e.apirule
            );
        }
        // One line per rule: the methods of consecutive entries with the same path and access.
        let mut methods = vec![e.method.as_str()];
        let mut j = i + 1;
        while let Some(n) = model.entries.get(j).filter(|n| {
            n.host == e.host && n.path == e.path && n.access == e.access && n.apirule == e.apirule
        }) {
            methods.push(n.method.as_str());
            j += 1;
        }
        let _ = writeln!(
            out,
            "  {:<20} {:<28} {}",
            methods.join(","),
            e.path,
            e.access
        );
        i = j;
    }
    if out.is_empty() {
        out.push_str("No rules: the spec exposes no host.\n");
    }
    out
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|h| h.strip_suffix('.'))
            .is_some_and(|l| !l.is_empty()),
        None => pattern == host,
    }
}

/// Which rule a request meets and what it needs to pass.
pub fn request(model: &Model, method: &str, url: &str) -> Result<String, String> {
    let method = method.to_ascii_uppercase();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("`{url}` is not an http(s) URL, e.g. https://httpbin.example.com/status/200")
        })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let mut out = String::new();
    let _ = writeln!(out, "{method} {url}");
    // An exact host wins over a wildcard one.
    let exact: Vec<_> = model.entries.iter().filter(|e| e.host == host).collect();
    let entries: Vec<_> = if exact.is_empty() {
        model
            .entries
            .iter()
            .filter(|e| host_matches(&e.host, &host))
            .collect()
    } else {
        exact
    };
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "  no APIRule exposes host `{host}`: 404 at the gateway"
        );
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "  host:   {} (APIRule {})",
        entries[0].host, entries[0].apirule
    );
    let for_method: Vec<_> = entries.iter().filter(|e| e.method == method).collect();
    let matched = for_method
        .iter()
        .enumerate()
        .find(|(_, e)| PathPattern::parse(&e.path).is_ok_and(|p| p.matches(path)));
    let Some((i, e)) = matched else {
        let _ = writeln!(out, "  no rule matches {method} {path}: 404 at the gateway");
        return Ok(out);
    };
    let _ = writeln!(
        out,
        "  rule:   {method} {} (rule {} of {} for {method})",
        e.path,
        i + 1,
        for_method.len()
    );
    let _ = writeln!(out, "  access: {}", e.access);
    match &e.access {
        Access::Public => {
            let _ = writeln!(out, "  → public: passes without a token");
        }
        Access::Jwt {
            issuers,
            authorizations,
        } => {
            let _ = writeln!(out, "  → needs a JWT signed by {}", issuers.join(" or "));
            if !authorizations.is_empty() {
                let _ = writeln!(out, "    carrying one of: {}", alternatives(authorizations));
            }
        }
        Access::ExtAuth {
            authorizers,
            issuers,
            authorizations,
        } => {
            let open: Vec<&String> = authorizers
                .iter()
                .filter(|a| {
                    model.authorizers.get(*a).is_some_and(|info| {
                        info.flags.is_some()
                            && info
                                .registration
                                .as_ref()
                                .and_then(|r| r.get("pathPrefix"))
                                .and_then(|p| p.as_str())
                                .is_none_or(str::is_empty)
                    })
                })
                .collect();
            if issuers.is_empty() && !open.is_empty() && is_proxy_endpoint(path) {
                let _ = writeln!(
                    out,
                    "  → PASSES WITHOUT A TOKEN: authorizer {} has no pathPrefix, so oauth2-proxy answers {path} itself with 200",
                    open.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(
                    out,
                    "    fix: remove `pathPrefix: \"\"` from the authorizer (default /verify?original=)"
                );
            } else {
                let _ = writeln!(
                    out,
                    "  → needs a token that {} accept{}",
                    authorizers.join(" and "),
                    if authorizers.len() == 1 { "s" } else { "" }
                );
                if !issuers.is_empty() {
                    let _ = writeln!(out, "    and a JWT signed by {}", issuers.join(" or "));
                }
                if !authorizations.is_empty() {
                    let _ = writeln!(out, "    carrying one of: {}", alternatives(authorizations));
                }
            }
        }
    }
    Ok(out)
}

fn alternatives(a: &[super::access::Alternative]) -> String {
    a.iter()
        .map(|x| {
            let mut parts = Vec::new();
            if !x.required_scopes.is_empty() {
                parts.push(format!("scopes {}", x.required_scopes.join(" + ")));
            }
            if !x.audiences.is_empty() {
                parts.push(format!("an audience of {}", x.audiences.join(", ")));
            }
            format!("[{}]", parts.join(" and "))
        })
        .collect::<Vec<_>>()
        .join(" or ")
}
