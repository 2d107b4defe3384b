//! APIRule v2 rules: the CRD schema and CEL rules, and the api-gateway controller's checks.

use super::segment_trie::SegmentTrie;
use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::paths::{PathError, PathPattern, matches_crd_pattern};
use crate::spec::names::{is_dns_label, is_fqdn, is_http_token, is_short_host};
use crate::spec::resolve::{cluster_domain, fqdn};
use crate::spec::{Authorization, TokenRequirements};
use std::collections::HashSet;

/// The methods APIRule v2 accepts.
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

pub(crate) fn check(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let cluster = spec.cluster.as_ref();
    if let Some(domain) = cluster_domain(spec)
        && (!is_fqdn(domain) || domain.len() > 250)
    {
        ctx.report(Code::ApiruleHostInvalid, "/cluster/domain", format!("cluster domain `{domain}` is not a lowercase fully qualified domain name"))
            .with_help("use the cluster's domain without `*.` or a trailing dot, e.g. c-1a2b3c.kyma.ondemand.com");
    }
    if let Some(gw) = cluster.and_then(|c| c.gateway.as_deref()) {
        gateway(ctx, &|| "/cluster/gateway".into(), gw, "gateway");
    }
    for (i, a) in spec.authorizers.iter().enumerate() {
        if let Some(port) = a.port {
            port_check(ctx, &|| format!("/authorizers/{i}/port"), port);
        }
        // Header names the Istio CR passes to and from the authorizer.
        let Some(h) = &a.headers else { continue };
        let lists = [
            (
                "inCheck/include",
                h.in_check.as_ref().and_then(|c| c.include.clone()),
            ),
            (
                "toUpstream/onAllow",
                h.to_upstream.as_ref().and_then(|c| c.on_allow.clone()),
            ),
            (
                "toDownstream/onAllow",
                h.to_downstream.as_ref().and_then(|c| c.on_allow.clone()),
            ),
            (
                "toDownstream/onDeny",
                h.to_downstream.as_ref().and_then(|c| c.on_deny.clone()),
            ),
        ];
        for (field, list) in lists {
            for (k, name) in list.iter().flatten().enumerate() {
                if !is_http_token(name) {
                    ctx.report(
                        Code::SchemaInvalidValue,
                        &format!("/authorizers/{i}/headers/{field}/{k}"),
                        format!("`{}` is not a valid header name", name.escape_debug()),
                    )
                    .with_help("header names are HTTP tokens: letters, digits and !#$%&'*+-.^_`|~");
                }
            }
        }
        for name in h
            .in_check
            .iter()
            .flat_map(|c| c.add.iter().flat_map(|m| m.keys()))
        {
            if !is_http_token(name) {
                ctx.report_key(
                    Code::SchemaInvalidValue,
                    &format!(
                        "/authorizers/{i}/headers/inCheck/add/{}",
                        crate::yaml::escape_token(name)
                    ),
                    format!("`{}` is not a valid header name", name.escape_debug()),
                )
                .with_help("header names are HTTP tokens: letters, digits and !#$%&'*+-.^_`|~");
            }
        }
    }
    let domain = cluster_domain(spec);
    for (w, wl) in spec.workloads.iter().enumerate() {
        // Pointers are formatted only when a finding needs one.
        let base = || format!("/workloads/{w}");
        host(ctx, &|| format!("{}/host", base()), &wl.host, domain);
        if let Some(gw) = &wl.gateway {
            gateway(ctx, &|| format!("{}/gateway", base()), gw, "gateway");
        }
        if let Some(gw) = &wl.external_gateway {
            gateway(
                ctx,
                &|| format!("{}/externalGateway", base()),
                gw,
                "externalGateway",
            );
        }
        if let Some(t) = wl.timeout {
            timeout(ctx, &|| format!("{}/timeout", base()), t);
        }
        if let Some(svc) = &wl.service {
            port_check(ctx, &|| format!("{}/service/port", base()), svc.port);
        }
        if let Some(max_age) = wl.cors.as_ref().and_then(|c| c.max_age)
            && max_age < 1
        {
            ctx.report(
                Code::ApiruleCorsInvalid,
                &format!("{}/cors/maxAge", base()),
                format!("`maxAge: {max_age}`: the CRD requires at least 1"),
            );
        }
        if wl.rules.is_empty() {
            ctx.report(
                Code::ApiruleRulesEmpty,
                &format!("{}/rules", base()),
                format!(
                    "workload `{}` has no rules: an APIRule needs at least one",
                    wl.name
                ),
            )
            .with_help("add a rule, or remove the workload");
        }
        // Per method (index into METHODS): the controller's segment trie of the earlier rules'
        // paths, and those rules (index, parsed path) to name and explain a collision; each
        // rule's valid methods.
        let mut tries: [SegmentTrie; METHODS.len()] = Default::default();
        let mut earlier: [Vec<(usize, PathPattern)>; METHODS.len()] = Default::default();
        for (r, rule) in wl.rules.iter().enumerate() {
            let rbase = || format!("/workloads/{w}/rules/{r}");
            access_strategy(
                ctx,
                &rbase,
                rule.no_auth,
                rule.jwt.is_some(),
                rule.ext_auth.is_some(),
            );
            let methods = methods(ctx, &rbase, &rule.methods);
            let method_ids: Vec<usize> = methods
                .iter()
                .filter_map(|m| METHODS.iter().position(|k| k == m))
                .collect();
            if let Some(t) = rule.timeout {
                timeout(ctx, &|| format!("{}/timeout", rbase()), t);
            }
            if let Some(svc) = &rule.service {
                port_check(ctx, &|| format!("{}/service/port", rbase()), svc.port);
            }
            if let Some(jwt) = &rule.jwt {
                empty_values(ctx, &|| format!("{}/jwt", rbase()), jwt);
            }
            if let Some(req) = &rule.request {
                for (field, map) in [("headers", &req.headers), ("cookies", &req.cookies)] {
                    for name in map.iter().flat_map(|m| m.keys()) {
                        if !is_http_token(name) {
                            let ptr = format!(
                                "{}/request/{field}/{}",
                                rbase(),
                                crate::yaml::escape_token(name)
                            );
                            ctx.report_key(
                                Code::SchemaInvalidValue,
                                &ptr,
                                format!("`{}` is not a valid {} name", name.escape_debug(), &field[..field.len() - 1]),
                            )
                            .with_help("names are HTTP tokens: letters, digits and !#$%&'*+-.^_`|~, no spaces or `:`");
                        }
                    }
                }
            }
            if let Some(ext) = &rule.ext_auth {
                empty_values(ctx, &|| format!("{}/extAuth", rbase()), &ext.requirements());
                if ext.authorizers.is_empty() {
                    ctx.report(
                        Code::ApiruleEmptyValue,
                        &format!("{}/extAuth/authorizers", rbase()),
                        "`extAuth.authorizers` is empty",
                    )
                    .with_help("name at least one authorizer");
                }
            }
            // All routes carry the same corsPolicy, so a preflight works wherever some rule
            // routes OPTIONS: warn only when no OPTIONS rule covers this rule's path.
            let options_elsewhere = || {
                let Ok(mine) = PathPattern::parse(&rule.path) else {
                    return false;
                };
                wl.rules.iter().any(|o| {
                    o.methods.iter().any(|m| m == "OPTIONS")
                        && PathPattern::parse(&o.path).is_ok_and(|p| p.covers(&mine))
                })
            };
            if wl.cors.is_some()
                && !rule.methods.iter().any(|m| m == "OPTIONS")
                && !rule.methods.is_empty()
                && !options_elsewhere()
            {
                ctx.report(Code::ApiruleCorsWithoutOptions, &format!("{}/methods", rbase()), format!("workload `{}` configures CORS but this rule does not allow OPTIONS: browsers' preflight requests to `{}` fail", wl.name, rule.path))
                    .with_help("add OPTIONS to the methods");
            }
            let Some(pattern) = path(ctx, &|| format!("{}/path", rbase()), &rule.path) else {
                continue;
            };
            // Rule order, as the controller decides it (`hasPathByMethodConflict`,
            // internal/validation/v2alpha1/rules.go @ 64d110d6): per method, in rule order, each
            // path goes into a segment trie and is rejected when an earlier path can match it
            // (see `segment_trie`). A method listed twice inserts the path twice (that is
            // `apirule-method-duplicate`). Report the first method that collides, naming the
            // earlier rule that makes it collide, and say whether that rule really matches
            // every request of this one (exact inclusion) or only the trie thinks so.
            let raw = &rule.path;
            let mut reported = false;
            let mut seen_here: Vec<usize> = Vec::new();
            for &m in &method_ids {
                if seen_here.contains(&m) {
                    continue; // duplicate method: reported as apirule-method-duplicate
                }
                seen_here.push(m);
                if !reported && tries[m].collides(raw) {
                    reported = true;
                    // The earlier rule after whose insertion this path collides.
                    let mut probe = SegmentTrie::default();
                    let culprit = earlier[m].iter().find(|(e, _)| {
                        probe.insert(&wl.rules[*e].path);
                        probe.collides(raw)
                    });
                    let method = METHODS[m];
                    let (first, covers) = match culprit {
                        Some((e, p)) => (Some(*e), p.covers(&pattern)),
                        None => (None, false),
                    };
                    let why = match first {
                        Some(e) if covers => format!(
                            "the earlier rule `{method} {}` already matches every request it matches",
                            wl.rules[e].path
                        ),
                        Some(e) => format!(
                            "its segment trie takes the earlier rule `{method} {}` as matching it, although not every request of this rule reaches that one (the trie compares `{{*}}` and `{{**}}` as segments and lets `{{**}}` stand for no segment)",
                            wl.rules[e].path
                        ),
                        None => "an earlier rule with that method matches it".to_string(),
                    };
                    // Would the controller accept the two in the other order?
                    let swapped_ok = first.is_some_and(|e| {
                        let mut t = SegmentTrie::default();
                        t.insert(raw);
                        !t.collides(&wl.rules[e].path)
                    });
                    let help = if swapped_ok {
                        "rules are evaluated in order: move this more specific rule above the earlier one"
                    } else {
                        "the controller accepts these two paths for one method in neither order: merge them into one rule, or give them different methods"
                    };
                    let first_span =
                        first.and_then(|e| ctx.at(&format!("{}/rules/{e}/path", base())));
                    let d = ctx.report(
                        Code::ApirulePathConflict,
                        &format!("{}/path", rbase()),
                        format!("the api-gateway controller rejects the APIRule (path collision for `{method} {raw}`): {why}"),
                    );
                    if let Some(s) = first_span {
                        d.related.push((s, "the earlier rule".into()));
                    }
                    d.with_help(help);
                }
                if !tries[m].collides(raw) {
                    tries[m].insert(raw);
                    earlier[m].push((r, pattern.clone()));
                }
            }
        }
    }
}

/// A JSON pointer to report at, formatted only when a finding needs it.
type Ptr<'a> = &'a dyn Fn() -> String;

fn host(ctx: &mut Ctx, ptr: Ptr, host: &str, domain: Option<&str>) {
    let ok = if let Some(rest) = host.strip_prefix("*.") {
        is_fqdn(rest)
    } else if is_short_host(host) {
        is_dns_label(host)
    } else {
        is_fqdn(host)
    };
    let full = fqdn(host, domain);
    if !ok {
        ctx.report(Code::ApiruleHostInvalid, &ptr(), format!("host `{host}` is not a lowercase RFC 1123 label, a fully qualified domain name, or a `*.` wildcard domain"))
            .with_help("write e.g. `httpbin`, `httpbin.example.com` or `*.example.com` (lowercase, no scheme, port or path)");
    } else if full.len() > 255 {
        ctx.report(
            Code::ApiruleHostInvalid,
            &ptr(),
            format!("host `{full}` is longer than 255 characters"),
        );
    }
}

fn gateway(ctx: &mut Ctx, ptr: Ptr, gw: &str, field: &str) {
    let ok = gw
        .split_once('/')
        .is_some_and(|(ns, name)| is_dns_label(ns) && is_dns_label(name));
    if !ok {
        ctx.report(
            Code::ApiruleGatewayInvalid,
            &ptr(),
            format!("{field} `{gw}` is not in `namespace/name` form"),
        )
        .with_help("write e.g. `kyma-system/kyma-gateway` (both parts lowercase RFC 1123 labels)");
    }
}

fn timeout(ctx: &mut Ctx, ptr: Ptr, t: i64) {
    if !(1..=3900).contains(&t) {
        ctx.report(
            Code::ApiruleTimeoutRange,
            &ptr(),
            format!("timeout {t} is outside 1..3900 seconds"),
        )
        .with_help("APIRule timeouts are whole seconds from 1 to 3900 (65 minutes)");
    }
}

fn port_check(ctx: &mut Ctx, ptr: Ptr, port: i64) {
    if !(1..=65535).contains(&port) {
        ctx.report(
            Code::PortRange,
            &ptr(),
            format!("port {port} is outside 1..65535"),
        );
    }
}

fn access_strategy(ctx: &mut Ctx, rbase: Ptr, no_auth: Option<bool>, jwt: bool, ext: bool) {
    let count = usize::from(no_auth == Some(true)) + usize::from(jwt) + usize::from(ext);
    if count == 1 {
        return;
    }
    let message = if count == 0 {
        if no_auth == Some(false) {
            "`noAuth: false` is not an access strategy: the rule needs `jwt` or `extAuth` (or `noAuth: true`)".to_string()
        } else {
            "the rule has no access strategy".to_string()
        }
    } else {
        "the rule has more than one access strategy".to_string()
    };
    // Point at what is wrong: `noAuth: false`, the second strategy, or the rule itself.
    let at = if count == 0 && no_auth == Some(false) {
        ctx.at(&format!("{}/noAuth", rbase()))
    } else if count > 1 {
        let second = if no_auth == Some(true) && jwt {
            "jwt"
        } else {
            "extAuth"
        };
        ctx.key(&format!("{}/{second}", rbase()))
    } else {
        ctx.key(&format!("{}/path", rbase()))
    };
    ctx.diags.push(
        crate::diag::Diagnostic::new(Code::ApiruleAccessStrategy, at, message)
            .help("give exactly one of `noAuth: true`, `jwt`, `extAuth`"),
    );
}

/// Check methods; returns the valid, distinct ones.
fn methods(ctx: &mut Ctx, rbase: Ptr, methods: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    if methods.is_empty() {
        ctx.report(
            Code::ApiruleMethodsEmpty,
            &format!("{}/methods", rbase()),
            "the rule lists no methods",
        )
        .with_help("list the HTTP methods the rule allows, e.g. `[GET]`");
    }
    for (k, m) in methods.iter().enumerate() {
        let ptr = || format!("{}/methods/{k}", rbase());
        if !METHODS.contains(&m.as_str()) {
            let upper = m.to_ascii_uppercase();
            let help = if METHODS.contains(&upper.as_str()) {
                format!("methods are uppercase: `{upper}`")
            } else {
                format!("use one of {}", METHODS.join(", "))
            };
            ctx.report(
                Code::ApiruleMethodInvalid,
                &ptr(),
                format!("`{m}` is not a method APIRule accepts"),
            )
            .with_help(help);
            continue;
        }
        if !seen.insert(m.as_str()) {
            ctx.report(
                Code::ApiruleMethodDuplicate,
                &ptr(),
                format!("`{m}` is listed twice"),
            )
            .with_help("remove the duplicate");
            continue;
        }
        out.push(m.clone());
    }
    out
}

fn path(ctx: &mut Ctx, ptr: Ptr, path: &str) -> Option<PathPattern> {
    if !matches_crd_pattern(path) {
        let help = star_suggestion(path).unwrap_or_else(|| "a path starts with `/`; segments use letters, digits and -._~!$&'()+,;=:@ or %XX; `{*}` is one segment, `{**}` one or more, `/*` alone matches everything".to_string());
        ctx.report(
            Code::ApirulePathInvalid,
            &ptr(),
            format!("path `{path}` does not match the APIRule path pattern"),
        )
        .with_help(help);
        return None;
    }
    match PathPattern::parse(path) {
        Ok(p) => Some(p),
        Err(PathError::MultipleDoubleStar { offset }) => {
            ctx.report_at_offset(
                Code::ApirulePathWildcard,
                &ptr(),
                (offset, 4),
                format!("path `{path}` has more than one `{{**}}`"),
            )
            .with_help("the controller allows one `{**}` per path");
            None
        }
        Err(PathError::SingleStarAfterDoubleStar { offset }) => {
            ctx.report_at_offset(
                Code::ApirulePathWildcard,
                &ptr(),
                (offset, 3),
                format!("path `{path}` has `{{*}}` after `{{**}}`"),
            )
            .with_help("the controller requires `{**}` to be the last wildcard");
            None
        }
        Err(PathError::Syntax { .. }) => {
            ctx.report(
                Code::ApirulePathInvalid,
                &ptr(),
                format!("path `{path}` does not match the APIRule path pattern"),
            );
            None
        }
    }
}

/// A path with a bare `*` segment (`/api/*`, `/a/*/b`): APIRule v2 knows `*` only as the whole
/// path `/*`; the wildcards are `{*}` (one segment) and `{**}` (one or more, last). Suggest the
/// path with them, when that one is valid, and say what it does not match.
fn star_suggestion(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    if !segments.contains(&"*") || path == "/*" {
        return None;
    }
    let last = segments.len() - 1;
    let fixed: Vec<&str> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| match *s {
            "*" if i == last => "{**}",
            "*" => "{*}",
            other => other,
        })
        .collect();
    let fixed = fixed.join("/");
    if !matches_crd_pattern(&fixed) || PathPattern::parse(&fixed).is_err() {
        return None;
    }
    let mut help = format!(
        "`*` is a wildcard only as the whole path `/*`; write `{fixed}` (`{{*}}` matches one segment, `{{**}}` one or more)"
    );
    if segments[last] == "*" {
        let prefix = &path[..path.len() - 2];
        if !prefix.is_empty() {
            help.push_str(&format!(
                "; `{fixed}` does not match `{prefix}` itself: give `{prefix}` a rule of its own"
            ));
        }
    }
    Some(help)
}

fn empty_values(ctx: &mut Ctx, base: Ptr, req: &TokenRequirements) {
    list_values(
        ctx,
        &|| format!("{}/requiredScopes", base()),
        req.required_scopes.as_deref(),
        "requiredScopes",
    );
    list_values(
        ctx,
        &|| format!("{}/audiences", base()),
        req.audiences.as_deref(),
        "audiences",
    );
    if let Some(auths) = &req.authorizations {
        if auths.is_empty() {
            ctx.report(
                Code::ApiruleEmptyValue,
                &format!("{}/authorizations", base()),
                "`authorizations` is empty",
            )
            .with_help("remove it, or give at least one entry");
        }
        for (
            k,
            Authorization {
                required_scopes,
                audiences,
            },
        ) in auths.iter().enumerate()
        {
            let abase = || format!("{}/authorizations/{k}", base());
            if required_scopes.is_none() && audiences.is_none() {
                ctx.report(Code::ApiruleEmptyValue, &abase(), "an empty authorization: it would allow every valid token")
                    .with_help("give `requiredScopes` or `audiences`, or drop `authorizations` to accept any valid token");
            }
            list_values(
                ctx,
                &|| format!("{}/requiredScopes", abase()),
                required_scopes.as_deref(),
                "requiredScopes",
            );
            list_values(
                ctx,
                &|| format!("{}/audiences", abase()),
                audiences.as_deref(),
                "audiences",
            );
        }
    }
}

fn list_values(ctx: &mut Ctx, ptr: Ptr, list: Option<&[String]>, field: &str) {
    let Some(list) = list else { return };
    if list.is_empty() {
        ctx.report(
            Code::ApiruleEmptyValue,
            &ptr(),
            format!("`{field}` is an empty list: the controller rejects it"),
        )
        .with_help(format!("remove `{field}`, or list at least one value"));
    }
    for (k, v) in list.iter().enumerate() {
        if v.trim().is_empty() {
            ctx.report(
                Code::ApiruleEmptyValue,
                &format!("{}/{k}", ptr()),
                format!("an empty value in `{field}`"),
            );
        }
    }
}

#[cfg(test)]
mod star_tests {
    use super::star_suggestion;

    #[test]
    fn bare_stars_get_the_wildcards() {
        assert_eq!(
            star_suggestion("/api/*").as_deref(),
            Some(
                "`*` is a wildcard only as the whole path `/*`; write `/api/{**}` (`{*}` matches one segment, `{**}` one or more); `/api/{**}` does not match `/api` itself: give `/api` a rule of its own"
            )
        );
        assert!(
            star_suggestion("/a/*/b")
                .unwrap()
                .contains("write `/a/{*}/b`")
        );
        assert_eq!(star_suggestion("/*"), None);
        assert_eq!(star_suggestion("/a b"), None);
    }
}
