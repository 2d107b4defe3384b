//! `explain` answered from the mesh model: which route a request takes, which policies
//! match, and what it needs — what Envoy enforces, not what the rules' prose says.

use super::eval::{Evaluation, Verdict, fold_scope_keys, grants_text};
use super::{Action, Mesh, Origin};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The methods an APIRule accepts (CRD `spec.rules[].methods` enum, api-gateway
/// `config/crd/bases/gateway.kyma-project.io_apirules.yaml`, v2).
pub const APIRULE_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Split an http(s) URL into (host, path without query).
pub fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("`{url}` is not an http(s) URL, e.g. https://httpbin.example.com/status/200")
        })?;
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], &rest[i..]),
        Some(i) => (&rest[..i], "/"),
        None => (rest, "/"),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Ok((host, path.to_string()))
}

/// Check a method against the list APIRule knows (upper-cased).
pub fn method(m: &str) -> Result<String, String> {
    let up = m.to_ascii_uppercase();
    if APIRULE_METHODS.contains(&up.as_str()) {
        Ok(up)
    } else {
        Err(format!(
            "`{m}` is not a method an APIRule can name; use one of {}",
            APIRULE_METHODS.join(", ")
        ))
    }
}

/// What a request meets and needs. `open_authorizers` are oauth2-proxy authorizers
/// registered without a path prefix: oauth2-proxy answers its own endpoints for them.
pub fn request(
    mesh: &Mesh,
    open_authorizers: &BTreeSet<String>,
    m: &str,
    url: &str,
) -> Result<String, String> {
    let method = method(m)?;
    let (host, path) = split_url(url)?;
    let e = mesh.evaluate(&host, &method, &path);
    let mut out = String::new();
    let _ = writeln!(out, "{method} {url}");
    let Some(t) = e.translation else {
        let _ = writeln!(
            out,
            "  no VirtualService serves host `{host}`: 404 at the gateway"
        );
        return Ok(out);
    };
    let _ = writeln!(
        out,
        "  host:     {} (VirtualService {}/{}, from {})",
        t.host, t.virtual_service.namespace, t.virtual_service.name, t.apirule
    );
    let Some(ri) = e.route else {
        let _ = writeln!(
            out,
            "  route:    none of the {} routes matches {method} {path}: 404 at the gateway",
            t.virtual_service.http.len()
        );
        return Ok(out);
    };
    let route = &t.virtual_service.http[ri];
    let _ = writeln!(
        out,
        "  route:    rule {} of {}: {} [{}] → {}:{}",
        ri + 1,
        t.virtual_service.http.len(),
        route.path,
        route.methods.join(", "),
        route.destination_host,
        route.port
    );
    policies(&mut out, &e);
    let _ = writeln!(out, "  → {}", prediction(mesh, open_authorizers, &e, &path));
    if passes_via_proxy(open_authorizers, &e, &path)
        || static_denied_via_proxy(open_authorizers, &e, &path)
    {
        let _ = writeln!(
            out,
            "    fix: remove `pathPrefix: \"\"` from the authorizer (default /verify?original=)"
        );
    }
    if !e.validated_issuers.is_empty() {
        let _ = writeln!(
            out,
            "  tokens:   an invalid token (expired, bad signature) is rejected with 401 on every path of this workload, public ones too: RequestAuthentication for {}",
            e.validated_issuers
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(w) = &e.workload {
        let inside = mesh.evaluate_in_cluster(w, &method, &path);
        let by: Vec<&str> = inside.allow.iter().map(|(p, _)| p.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  in-cluster callers (http://{}.{}.svc.cluster.local{path}): {}",
            w.service,
            w.namespace,
            match &inside.verdict {
                Verdict::Forbidden => "403: every ALLOW policy needs the ingress gateway's principal and the external host".to_string(),
                v if v.is_public() => format!("allowed without token or authorizer ({})", by.join(", ")),
                v => v.summary(),
            }
        );
    }
    Ok(out)
}

/// Does the request pass without a token because oauth2-proxy, asked without a path
/// prefix, answers one of its own endpoints with 200?
pub fn passes_via_proxy(
    open_authorizers: &BTreeSet<String>,
    e: &Evaluation<'_>,
    path: &str,
) -> bool {
    match &e.verdict {
        Verdict::Allowed {
            authorizers,
            grants,
        } => {
            !authorizers.is_empty()
                && authorizers.iter().all(|a| open_authorizers.contains(a))
                && grants.iter().any(super::eval::Grant::is_public)
                && is_proxy_endpoint(path)
        }
        _ => false,
    }
}

/// Is the request denied with or without a token because oauth2-proxy, asked without a
/// path prefix, answers a `/oauth2/static/` path itself and not with 200? oauth2-proxy 7.15.3
/// `buildProxySubrouter` hands every `/oauth2/static/` path to its file server before any
/// session is loaded; only its embedded files give 200 (see [`PROXY_STATIC_200`]), the rest
/// 404 (or 301 for a directory without its `/`), and Envoy allows only 200.
pub fn static_denied_via_proxy(
    open_authorizers: &BTreeSet<String>,
    e: &Evaluation<'_>,
    path: &str,
) -> bool {
    let via_open_proxy = match &e.verdict {
        Verdict::Allowed { authorizers, .. } => {
            authorizers.iter().any(|a| open_authorizers.contains(a))
        }
        _ => false,
    };
    via_open_proxy
        && !passes_via_proxy(open_authorizers, e, path)
        && path.starts_with("/oauth2/static/")
        && !is_proxy_endpoint(path)
}

/// The prediction `explain` prints for a request (the text after `→`).
pub fn prediction(
    mesh: &Mesh,
    open_authorizers: &BTreeSet<String>,
    e: &Evaluation<'_>,
    path: &str,
) -> String {
    if passes_via_proxy(open_authorizers, e, path) {
        format!(
            "PASSES WITHOUT A TOKEN: the authorizer has no pathPrefix, so oauth2-proxy answers {path} itself with 200"
        )
    } else if static_denied_via_proxy(open_authorizers, e, path) {
        format!(
            "DENIED, WITH OR WITHOUT A TOKEN: the authorizer has no pathPrefix, so oauth2-proxy answers {path} itself, and not with 200 (only its embedded static files give 200; this gives 404, or 301 for a directory without its `/`); Envoy allows only 200"
        )
    } else if e.verdict == Verdict::Forbidden {
        match e.route {
            Some(ri) => format!(
                "403 RBAC: access denied: {}",
                forbidden_why(mesh, e, ri, path)
            ),
            None => verdict_text(&e.verdict),
        }
    } else {
        verdict_text(&e.verdict)
    }
}

/// Why the route's own rule admits nobody here: an earlier rule's path in its `notPaths`
/// (for all of its methods), or its policy template not matching what the route regex did.
pub fn forbidden_why(mesh: &Mesh, e: &Evaluation<'_>, route: usize, path: &str) -> String {
    let Some(w) = &e.workload else {
        return "no ALLOW rule matches".into();
    };
    let rule = e
        .translation
        .map_or(route, |t| t.virtual_service.http[route].rule);
    let excluded: Vec<String> = mesh
        .policies_for(w)
        .filter(|p| p.action == Action::Allow && p.origin == Origin::Rule(rule))
        .flat_map(|p| p.rules.iter().flat_map(|r| r.to.iter()))
        .flat_map(|o| o.not_paths.iter())
        .filter(|np| super::path::Template::parse(np).matches(path))
        .cloned()
        .collect();
    match excluded.first() {
        Some(np) => format!(
            "the route leads to rule {}, but the controller excludes the earlier rule's path `{np}` from that rule's policies for all of its methods (split the methods into separate rules)",
            rule + 1
        ),
        None => format!(
            "the route leads to rule {}, but its policies' path template does not match this path (route regexes and Envoy's templates differ here)",
            rule + 1
        ),
    }
}

fn policies(out: &mut String, e: &Evaluation<'_>) {
    for (p, provider) in &e.custom {
        let _ = writeln!(
            out,
            "  custom:   {} asks `{provider}` first (CUSTOM)",
            p.name
        );
    }
    if !e.has_allow_policies {
        let _ = writeln!(
            out,
            "  allow:    the workload has no ALLOW policy: Istio allows every request"
        );
        return;
    }
    if e.allow.is_empty() {
        let _ = writeln!(out, "  allow:    no ALLOW rule matches this request");
    }
    for (p, grants) in &e.allow {
        let origin = match p.origin {
            Origin::Rule(i) => format!("rule {}", i + 1),
            Origin::InCluster => "allowInClusterCallers".into(),
        };
        let _ = writeln!(
            out,
            "  allow:    {} ({origin}): {}",
            p.name,
            grants_text(grants)
        );
        debug_assert_eq!(p.action, Action::Allow);
    }
}

/// The verdict as a sentence.
pub fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::NotFound => "404 at the gateway".into(),
        Verdict::Forbidden => "403 RBAC: access denied: no ALLOW rule matches".into(),
        Verdict::Allowed {
            authorizers,
            grants,
        } => {
            let mut parts = Vec::new();
            if !authorizers.is_empty() {
                parts.push(format!(
                    "{} must allow it (ext_authz from the workload's sidecar)",
                    authorizers
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" and ")
                ));
            }
            let folded = fold_scope_keys(grants);
            if grants.iter().any(super::eval::Grant::is_public) {
                if authorizers.is_empty() {
                    parts.push("public: passes without a token".into());
                }
            } else {
                parts.push(format!("needs {}", grants_text(grants)));
                let _ = folded;
            }
            parts.join("; then ")
        }
    }
}

/// Paths oauth2-proxy answers itself (with 200) when checks reach it without a path prefix.
pub const PROXY_ENDPOINTS: [&str; 3] = ["/ping", "/ready", "/robots.txt"];

/// The paths under `/oauth2/static/` oauth2-proxy 7.15.3 answers with 200: its router
/// (`oauthproxy.go` `buildProxySubrouter`) hands `/oauth2/static/` to `http.FileServer` over the
/// files it embeds (`//go:embed static/*`: `static/css/all.min.css`, `static/css/bulma.min.css`,
/// `static/webfonts/fa-solid-900.woff2`). A file or a directory with its trailing `/` (a
/// listing) is 200; a directory without the `/` is a 301 redirect, anything else a 404 — Envoy
/// allows only 200, so those are denied. The query string does not matter (the file server reads
/// the path only). `conformance/cases.yaml` probes each kind against the real process.
pub const PROXY_STATIC_200: [&str; 6] = [
    "/oauth2/static/",
    "/oauth2/static/css/",
    "/oauth2/static/css/all.min.css",
    "/oauth2/static/css/bulma.min.css",
    "/oauth2/static/webfonts/",
    "/oauth2/static/webfonts/fa-solid-900.woff2",
];

/// Does oauth2-proxy answer `path` (no query) itself with 200, without a token?
fn is_proxy_endpoint(path: &str) -> bool {
    PROXY_ENDPOINTS.contains(&path) || PROXY_STATIC_200.contains(&path)
}

/// The requests `explain` samples for one route and method: one concrete path per verdict
/// the route gives that method, in the order the regions of request paths were found.
#[derive(Debug, Clone)]
pub struct RouteSamples {
    /// Index of the translation (APIRule) in [`Mesh::translations`].
    pub translation: usize,
    /// The Host requests are sent with (`*.` replaced by `x.`).
    pub host: String,
    /// Index of the route (the APIRule rule) in the VirtualService.
    pub route: usize,
    /// The method.
    pub method: String,
    /// (verdict, a path with that verdict); empty: earlier routes take every request.
    pub samples: Vec<(Verdict, String)>,
}

/// The sample requests of every route and method: per host (sorted), every route in order,
/// every region of request paths the route serves for the method, one witness per verdict.
/// The access table and `doctor` read the same samples, so they cannot drift apart.
pub fn samples(mesh: &Mesh) -> Vec<RouteSamples> {
    let mut out = Vec::new();
    let mut ts: Vec<(usize, &super::Translation)> = mesh
        .translations
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.host.is_empty())
        .collect();
    ts.sort_by(|a, b| a.1.host.cmp(&b.1.host));
    for (ti, t) in ts {
        let host = t.host.replace("*.", "x.");
        let templates: Vec<super::path::Template> = t
            .rules
            .iter()
            .map(|(p, _)| super::path::Template::parse(p))
            .collect();
        let cells = super::regions::cells(&templates);
        for (i, route) in t.virtual_service.http.iter().enumerate() {
            for m in &route.methods {
                // Every region this route serves for the method, by verdict.
                let mut seen: Vec<(Verdict, String)> = Vec::new();
                for c in cells.iter().filter(|c| c.members.get(i) == Some(&true)) {
                    let e = mesh.evaluate(&host, m, &c.witness);
                    if e.route != Some(i) {
                        continue;
                    }
                    if !seen.iter().any(|(v, _)| *v == e.verdict) {
                        seen.push((e.verdict, c.witness.clone()));
                    }
                }
                out.push(RouteSamples {
                    translation: ti,
                    host: host.clone(),
                    route: i,
                    method: m.clone(),
                    samples: seen,
                });
            }
        }
    }
    out
}

/// The access table: per host, every route in order with what it needs (from the policies
/// of the route's own workload, on a representative path of the rule).
pub fn table(mesh: &Mesh) -> String {
    let mut out = String::new();
    let mut last: Option<usize> = None;
    for rs in samples(mesh) {
        let t = &mesh.translations[rs.translation];
        if last != Some(rs.translation) {
            last = Some(rs.translation);
            let _ = writeln!(
                out,
                "{}{}  (VirtualService {}/{}, from {})",
                if out.is_empty() { "" } else { "\n" },
                t.host,
                t.virtual_service.namespace,
                t.virtual_service.name,
                t.apirule
            );
        }
        let route = &t.virtual_service.http[rs.route];
        let m = &rs.method;
        if rs.samples.is_empty() {
            let _ = writeln!(
                out,
                "  {m:<8} {:<28} never reached (earlier routes take every request)",
                route.path
            );
        }
        let several = rs.samples.len() > 1;
        for (v, example) in rs.samples {
            let note = if several {
                format!("  (e.g. {example})")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {m:<8} {:<28} {}{note}", route.path, v.summary());
        }
    }
    if out.is_empty() {
        out.push_str("No rules: the spec exposes no host.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_example_explained_as_enforced() {
        let apirule = serde_json::json!({
            "metadata": { "name": "httpbin", "namespace": "test" },
            "spec": { "gateway": "kyma-system/kyma-gateway", "hosts": ["httpbin.example.com"],
              "service": { "name": "httpbin", "port": 8000 },
              "rules": [
                { "path": "/anything/{*}/one", "methods": ["POST"],
                  "jwt": { "authentications": [{ "issuer": "https://idp.example.com", "jwksUri": "https://idp.example.com/jwks" }] } },
                { "path": "/anything/{**}", "methods": ["POST", "GET"], "noAuth": true }
              ] }
        });
        let mesh = super::super::translate(&[("APIRule", apirule)], &Default::default());
        let text = request(
            &mesh,
            &BTreeSet::new(),
            "get",
            "https://httpbin.example.com/anything/more/one?x=1",
        )
        .unwrap();
        assert!(
            text.contains("route:    rule 2 of 2: /anything/{**} [POST, GET]"),
            "{text}"
        );
        assert!(text.contains("→ 403 RBAC: access denied: the route leads to rule 2, but the controller excludes the earlier rule's path `/anything/{*}/one`"), "{text}");
        assert!(text.contains("tokens:   an invalid token"), "{text}");
        let err = request(
            &mesh,
            &BTreeSet::new(),
            "FETCH",
            "https://httpbin.example.com/",
        )
        .unwrap_err();
        assert!(
            err.contains("GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH"),
            "{err}"
        );
        let table = table(&mesh);
        assert!(
            table.contains("GET      /anything/{**}               public  (e.g. /anything/x)"),
            "{table}"
        );
        assert!(table.contains("GET      /anything/{**}               403 (no ALLOW rule matches)  (e.g. /anything/x/one)"), "{table}");
    }
}
