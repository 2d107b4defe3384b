//! APIRule v2 rules: the CRD schema and CEL rules, and the api-gateway controller's checks.

use super::paths::{PathError, PathPattern, matches_crd_pattern};
use super::{Ctx, HelpExt, is_dns_label};
use crate::diag::Code;
use crate::plan;
use crate::spec::{Authorization, TokenRequirements};
use std::collections::HashSet;

/// The methods APIRule v2 accepts.
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

pub(crate) fn check(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let cluster = spec.cluster.as_ref();
    if let Some(domain) = cluster.and_then(|c| c.domain.as_deref())
        && (!is_fqdn(domain) || domain.len() > 250)
    {
        ctx.report(Code::ApiruleHostInvalid, "/cluster/domain", format!("cluster domain `{domain}` is not a lowercase fully qualified domain name"))
            .with_help("use the cluster's domain without `*.` or a trailing dot, e.g. c-1a2b3c.kyma.ondemand.com");
    }
    if let Some(gw) = cluster.and_then(|c| c.gateway.as_deref()) {
        gateway(ctx, "/cluster/gateway", gw, "gateway");
    }
    for (i, a) in spec.authorizers.iter().enumerate() {
        if let Some(port) = a.port {
            port_check(ctx, &format!("/authorizers/{i}/port"), port);
        }
    }
    let domain = cluster.and_then(|c| c.domain.as_deref());
    for (w, wl) in spec.workloads.iter().enumerate() {
        let base = format!("/workloads/{w}");
        host(ctx, &format!("{base}/host"), &wl.host, domain);
        if let Some(gw) = &wl.gateway {
            gateway(ctx, &format!("{base}/gateway"), gw, "gateway");
        }
        if let Some(gw) = &wl.external_gateway {
            gateway(
                ctx,
                &format!("{base}/externalGateway"),
                gw,
                "externalGateway",
            );
        }
        if let Some(t) = wl.timeout {
            timeout(ctx, &format!("{base}/timeout"), t);
        }
        if let Some(svc) = &wl.service {
            port_check(ctx, &format!("{base}/service/port"), svc.port);
        }
        if let Some(max_age) = wl.cors.as_ref().and_then(|c| c.max_age)
            && max_age < 1
        {
            ctx.report(
                Code::ApiruleCorsInvalid,
                &format!("{base}/cors/maxAge"),
                format!("`maxAge: {max_age}`: the CRD requires at least 1"),
            );
        }
        if wl.rules.is_empty() {
            ctx.report(
                Code::ApiruleRulesEmpty,
                &format!("{base}/rules"),
                format!(
                    "workload `{}` has no rules: an APIRule needs at least one",
                    wl.name
                ),
            )
            .with_help("add a rule, or remove the workload");
        }
        // Per method, the parsed paths of earlier rules (for conflicts).
        let mut earlier: Vec<(usize, PathPattern, Vec<String>)> = Vec::new();
        for (r, rule) in wl.rules.iter().enumerate() {
            let rbase = format!("{base}/rules/{r}");
            access_strategy(
                ctx,
                &rbase,
                rule.no_auth,
                rule.jwt.is_some(),
                rule.ext_auth.is_some(),
            );
            let methods = methods(ctx, &rbase, &rule.methods);
            if let Some(t) = rule.timeout {
                timeout(ctx, &format!("{rbase}/timeout"), t);
            }
            if let Some(svc) = &rule.service {
                port_check(ctx, &format!("{rbase}/service/port"), svc.port);
            }
            if let Some(jwt) = &rule.jwt {
                empty_values(ctx, &format!("{rbase}/jwt"), jwt);
            }
            if let Some(ext) = &rule.ext_auth {
                empty_values(ctx, &format!("{rbase}/extAuth"), &ext.requirements());
                if ext.authorizers.is_empty() {
                    ctx.report(
                        Code::ApiruleEmptyValue,
                        &format!("{rbase}/extAuth/authorizers"),
                        "`extAuth.authorizers` is empty",
                    )
                    .with_help("name at least one authorizer");
                }
            }
            if wl.cors.is_some()
                && !rule.methods.iter().any(|m| m == "OPTIONS")
                && !rule.methods.is_empty()
            {
                ctx.report(Code::ApiruleCorsWithoutOptions, &format!("{rbase}/methods"), format!("workload `{}` configures CORS but this rule does not allow OPTIONS: browsers' preflight requests to `{}` fail", wl.name, rule.path))
                    .with_help("add OPTIONS to the methods");
            }
            let Some(pattern) = path(ctx, &format!("{rbase}/path"), &rule.path) else {
                continue;
            };
            // Conflicts: an earlier rule sharing a method whose path covers this one.
            if let Some((first, method)) = earlier.iter().find_map(|(e, p, ms)| {
                let shared = methods.iter().find(|m| ms.contains(m))?;
                p.covers(&pattern).then(|| (*e, shared.clone()))
            }) {
                let first_span = ctx.at(&format!("{base}/rules/{first}/path"));
                let earlier_path = &wl.rules[first].path;
                let d = ctx.report(Code::ApirulePathConflict, &format!("{rbase}/path"), format!("`{method} {}` can never match: the earlier rule `{method} {earlier_path}` already matches every request it matches", rule.path));
                if let Some(s) = first_span {
                    d.related.push((s, "the earlier rule".into()));
                }
                d.with_help("rules are evaluated in order: move this more specific rule above the earlier one");
            }
            earlier.push((r, pattern, methods));
        }
    }
}

fn is_fqdn(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| is_dns_label(l))
        && labels.last().is_some_and(|l| {
            l.len() >= 2
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn host(ctx: &mut Ctx, ptr: &str, host: &str, domain: Option<&str>) {
    let ok = if let Some(rest) = host.strip_prefix("*.") {
        is_fqdn(rest)
    } else if plan::is_short_host(host) {
        is_dns_label(host)
    } else {
        is_fqdn(host)
    };
    let full = plan::fqdn(host, domain);
    if !ok {
        ctx.report(Code::ApiruleHostInvalid, ptr, format!("host `{host}` is not a lowercase RFC 1123 label, a fully qualified domain name, or a `*.` wildcard domain"))
            .with_help("write e.g. `httpbin`, `httpbin.example.com` or `*.example.com` (lowercase, no scheme, port or path)");
    } else if full.len() > 255 {
        ctx.report(
            Code::ApiruleHostInvalid,
            ptr,
            format!("host `{full}` is longer than 255 characters"),
        );
    }
}

fn gateway(ctx: &mut Ctx, ptr: &str, gw: &str, field: &str) {
    let ok = gw
        .split_once('/')
        .is_some_and(|(ns, name)| is_dns_label(ns) && is_dns_label(name));
    if !ok {
        ctx.report(
            Code::ApiruleGatewayInvalid,
            ptr,
            format!("{field} `{gw}` is not in `namespace/name` form"),
        )
        .with_help("write e.g. `kyma-system/kyma-gateway` (both parts lowercase RFC 1123 labels)");
    }
}

fn timeout(ctx: &mut Ctx, ptr: &str, t: i64) {
    if !(1..=3900).contains(&t) {
        ctx.report(
            Code::ApiruleTimeoutRange,
            ptr,
            format!("timeout {t} is outside 1..3900 seconds"),
        )
        .with_help("APIRule timeouts are whole seconds from 1 to 3900 (65 minutes)");
    }
}

fn port_check(ctx: &mut Ctx, ptr: &str, port: i64) {
    if !(1..=65535).contains(&port) {
        ctx.report(
            Code::PortRange,
            ptr,
            format!("port {port} is outside 1..65535"),
        );
    }
}

fn access_strategy(ctx: &mut Ctx, rbase: &str, no_auth: Option<bool>, jwt: bool, ext: bool) {
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
        ctx.at(&format!("{rbase}/noAuth"))
    } else if count > 1 {
        let second = if no_auth == Some(true) && jwt {
            "jwt"
        } else {
            "extAuth"
        };
        ctx.key(&format!("{rbase}/{second}"))
    } else {
        ctx.key(&format!("{rbase}/path"))
    };
    ctx.diags.push(
        crate::diag::Diagnostic::new(Code::ApiruleAccessStrategy, at, message)
            .help("give exactly one of `noAuth: true`, `jwt`, `extAuth`"),
    );
}

/// Check methods; returns the valid, distinct ones.
fn methods(ctx: &mut Ctx, rbase: &str, methods: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    if methods.is_empty() {
        ctx.report(
            Code::ApiruleMethodsEmpty,
            &format!("{rbase}/methods"),
            "the rule lists no methods",
        )
        .with_help("list the HTTP methods the rule allows, e.g. `[GET]`");
    }
    for (k, m) in methods.iter().enumerate() {
        let ptr = format!("{rbase}/methods/{k}");
        if !METHODS.contains(&m.as_str()) {
            let upper = m.to_ascii_uppercase();
            let help = if METHODS.contains(&upper.as_str()) {
                format!("methods are uppercase: `{upper}`")
            } else {
                format!("use one of {}", METHODS.join(", "))
            };
            ctx.report(
                Code::ApiruleMethodInvalid,
                &ptr,
                format!("`{m}` is not a method APIRule accepts"),
            )
            .with_help(help);
            continue;
        }
        if !seen.insert(m.as_str()) {
            ctx.report(
                Code::ApiruleMethodDuplicate,
                &ptr,
                format!("`{m}` is listed twice"),
            )
            .with_help("remove the duplicate");
            continue;
        }
        out.push(m.clone());
    }
    out
}

fn path(ctx: &mut Ctx, ptr: &str, path: &str) -> Option<PathPattern> {
    if !matches_crd_pattern(path) {
        ctx.report(Code::ApirulePathInvalid, ptr, format!("path `{path}` does not match the APIRule path pattern"))
            .with_help("a path starts with `/`; segments use letters, digits and -._~!$&'()+,;=:@ or %XX; `{*}` is one segment, `{**}` one or more, `/*` alone matches everything");
        return None;
    }
    match PathPattern::parse(path) {
        Ok(p) => Some(p),
        Err(PathError::MultipleDoubleStar { offset }) => {
            ctx.report_at_offset(
                Code::ApirulePathWildcard,
                ptr,
                (offset, 4),
                format!("path `{path}` has more than one `{{**}}`"),
            )
            .with_help("the controller allows one `{**}` per path");
            None
        }
        Err(PathError::SingleStarAfterDoubleStar { offset }) => {
            ctx.report_at_offset(
                Code::ApirulePathWildcard,
                ptr,
                (offset, 3),
                format!("path `{path}` has `{{*}}` after `{{**}}`"),
            )
            .with_help("the controller requires `{**}` to be the last wildcard");
            None
        }
        Err(PathError::Syntax { .. }) => {
            ctx.report(
                Code::ApirulePathInvalid,
                ptr,
                format!("path `{path}` does not match the APIRule path pattern"),
            );
            None
        }
    }
}

fn empty_values(ctx: &mut Ctx, base: &str, req: &TokenRequirements) {
    list_values(
        ctx,
        &format!("{base}/requiredScopes"),
        req.required_scopes.as_deref(),
        "requiredScopes",
    );
    list_values(
        ctx,
        &format!("{base}/audiences"),
        req.audiences.as_deref(),
        "audiences",
    );
    if let Some(auths) = &req.authorizations {
        if auths.is_empty() {
            ctx.report(
                Code::ApiruleEmptyValue,
                &format!("{base}/authorizations"),
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
            let abase = format!("{base}/authorizations/{k}");
            if required_scopes.is_none() && audiences.is_none() {
                ctx.report(Code::ApiruleEmptyValue, &abase, "an empty authorization: it would allow every valid token")
                    .with_help("give `requiredScopes` or `audiences`, or drop `authorizations` to accept any valid token");
            }
            list_values(
                ctx,
                &format!("{abase}/requiredScopes"),
                required_scopes.as_deref(),
                "requiredScopes",
            );
            list_values(
                ctx,
                &format!("{abase}/audiences"),
                audiences.as_deref(),
                "audiences",
            );
        }
    }
}

fn list_values(ctx: &mut Ctx, ptr: &str, list: Option<&[String]>, field: &str) {
    let Some(list) = list else { return };
    if list.is_empty() {
        ctx.report(
            Code::ApiruleEmptyValue,
            ptr,
            format!("`{field}` is an empty list: the controller rejects it"),
        )
        .with_help(format!("remove `{field}`, or list at least one value"));
    }
    for (k, v) in list.iter().enumerate() {
        if v.trim().is_empty() {
            ctx.report(
                Code::ApiruleEmptyValue,
                &format!("{ptr}/{k}"),
                format!("an empty value in `{field}`"),
            );
        }
    }
}
