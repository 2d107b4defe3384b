//! The grant: what a team may expose and use, enforced at the team spec's own locations.
//!
//! Deny by default: a namespace is granted by its exact name; a host by an exact FQDN grant or
//! by a `*.SUFFIX` grant when the host ends with `.SUFFIX` after at least one more label (so
//! `evil-shop.example.com` is not below `*.shop.example.com`, and `shop.example.com` itself is
//! not either). Hosts are compared as written, after completing short hosts with
//! `cluster.domain`: an uppercase letter or a trailing dot is never granted (the APIRule CRD
//! rejects both anyway, `apirule-host-invalid`).

use super::Grant;
use crate::diag::{Code, Diagnostic};
use crate::spec::resolve::fqdn;
use crate::spec::{self, Spec};
use crate::yaml::{Document, PointerTable};

/// A host grant pattern matches a host.
pub fn host_granted(pattern: &str, host: &str) -> bool {
    if host.bytes().any(|b| b.is_ascii_uppercase()) || host.ends_with('.') {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|head| !head.is_empty()),
        None => pattern == host,
    }
}

/// Check the platform's grants: names unique, references known, hosts in a valid form.
pub fn check_grants(doc: &Document, grants: &[Grant]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let p = &doc.pointers;
    let names = |key: &str| -> Vec<String> {
        doc.value[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let idps = names("identityProviders");
    let authorizers = names("authorizers");
    for (i, g) in grants.iter().enumerate() {
        if grants[..i].iter().any(|o| o.name == g.name) {
            out.push(Diagnostic::new(
                Code::NameDuplicate,
                p.value_span(&format!("/teams/{i}/name")),
                format!("team `{}` is granted twice", g.name),
            ));
        }
        for (j, a) in g.authorizers.iter().enumerate() {
            if !authorizers.contains(a) {
                out.push(Diagnostic::new(
                    Code::RefUnknownAuthorizer,
                    p.value_span(&format!("/teams/{i}/authorizers/{j}")),
                    format!(
                        "team `{}` is granted authorizer `{a}`, which the platform does not define",
                        g.name
                    ),
                ));
            }
        }
        for (j, a) in g.identity_providers.iter().enumerate() {
            if !idps.contains(a) {
                out.push(Diagnostic::new(
                    Code::RefUnknownIdentityProvider,
                    p.value_span(&format!("/teams/{i}/identityProviders/{j}")),
                    format!("team `{}` is granted identity provider `{a}`, which the platform does not define", g.name),
                ));
            }
        }
        for (j, h) in g.hosts.iter().enumerate() {
            let bare = h.strip_prefix("*.").unwrap_or(h);
            if bare.is_empty()
                || bare.contains('*')
                || bare.ends_with('.')
                || bare.bytes().any(|b| b.is_ascii_uppercase())
            {
                out.push(
                    Diagnostic::new(
                        Code::ApiruleHostInvalid,
                        p.value_span(&format!("/teams/{i}/hosts/{j}")),
                        format!(
                            "host grant `{h}` is not an FQDN, `*.FQDN` or short host in lowercase"
                        ),
                    )
                    .help("e.g. `shop.example.com` or `*.shop.example.com`"),
                );
            }
        }
    }
    out
}

/// Every way a team's workloads leave its grant, at the team spec's locations.
pub fn enforce(
    spec: &Spec,
    pointers: &PointerTable,
    grant: &Grant,
    platform: &Spec,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let domain = crate::spec::resolve::cluster_domain(platform);
    let default_gateway = platform
        .cluster
        .as_ref()
        .and_then(|c| c.gateway.clone())
        .unwrap_or_else(|| spec::DEFAULT_GATEWAY.to_string());
    let gateways = grant
        .gateways
        .clone()
        .unwrap_or_else(|| vec![default_gateway.clone()]);
    let host_grants: Vec<String> = grant
        .hosts
        .iter()
        .map(|h| match h.strip_prefix("*.") {
            Some(s) => format!("*.{}", fqdn(s, domain)),
            None => fqdn(h, domain),
        })
        .collect();
    let team = &grant.name;
    let mut push = |code: Code, ptr: &str, msg: String, help: String| {
        out.push(Diagnostic::new(code, pointers.value_span(ptr), msg).help(help));
    };
    let namespace_ok = |ns: &str| grant.namespaces.iter().any(|g| g == ns);
    let ns_help = format!(
        "team `{team}` may use the namespaces: {}",
        list(&grant.namespaces)
    );
    for (i, w) in spec.workloads.iter().enumerate() {
        let wp = format!("/workloads/{i}");
        if !namespace_ok(&w.namespace) {
            push(
                Code::TeamNamespaceNotGranted,
                &format!("{wp}/namespace"),
                format!(
                    "namespace `{}` is not granted to team `{team}`",
                    w.namespace
                ),
                ns_help.clone(),
            );
        }
        if let Some(ns) = w.service.as_ref().and_then(|s| s.namespace.as_deref())
            && !namespace_ok(ns)
        {
            push(
                Code::TeamNamespaceNotGranted,
                &format!("{wp}/service/namespace"),
                format!("service namespace `{ns}` is not granted to team `{team}`"),
                ns_help.clone(),
            );
        }
        let host = fqdn(&w.host, domain);
        if !host_grants.iter().any(|g| host_granted(g, &host)) {
            push(
                Code::TeamHostNotGranted,
                &format!("{wp}/host"),
                format!("host `{host}` is not granted to team `{team}`"),
                format!("team `{team}` may expose: {}", list(&host_grants)),
            );
        }
        let (gw, gw_ptr) = match (&w.gateway, &w.external_gateway) {
            (_, Some(e)) => (e.clone(), format!("{wp}/externalGateway")),
            (Some(g), None) => (g.clone(), format!("{wp}/gateway")),
            (None, None) => (default_gateway.clone(), format!("{wp}/host")),
        };
        if !gateways.contains(&gw) {
            push(
                Code::TeamGatewayNotGranted,
                &gw_ptr,
                format!("gateway `{gw}` is not granted to team `{team}`"),
                format!("team `{team}` may use the gateways: {}", list(&gateways)),
            );
        }
        for (j, r) in w.rules.iter().enumerate() {
            let rp = format!("{wp}/rules/{j}");
            if let Some(ns) = r.service.as_ref().and_then(|s| s.namespace.as_deref())
                && !namespace_ok(ns)
            {
                push(
                    Code::TeamNamespaceNotGranted,
                    &format!("{rp}/service/namespace"),
                    format!("service namespace `{ns}` is not granted to team `{team}`"),
                    ns_help.clone(),
                );
            }
            let idp_help = format!(
                "team `{team}` may use the identity providers: {}",
                list(&grant.identity_providers)
            );
            let mut check_idps = |req: &spec::TokenRequirements, base: &str, fallback: bool| {
                let mut named: Vec<(String, String)> = Vec::new();
                if let Some(n) = &req.identity_provider {
                    named.push((n.clone(), format!("{base}/identityProvider")));
                }
                for (k, n) in req.identity_providers.iter().flatten().enumerate() {
                    named.push((n.clone(), format!("{base}/identityProviders/{k}")));
                }
                // A jwt rule naming none uses the platform's only provider.
                if named.is_empty() && fallback && platform.identity_providers.len() == 1 {
                    named.push((
                        platform.identity_providers[0].name.clone(),
                        base.to_string(),
                    ));
                }
                for (n, ptr) in named {
                    let exists = platform.identity_providers.iter().any(|p| p.name == n);
                    if exists && !grant.identity_providers.contains(&n) {
                        push(
                            Code::TeamIdentityProviderNotGranted,
                            &ptr,
                            format!("identity provider `{n}` is not granted to team `{team}`"),
                            idp_help.clone(),
                        );
                    }
                }
            };
            if let Some(jwt) = &r.jwt {
                check_idps(jwt, &format!("{rp}/jwt"), true);
            }
            if let Some(ext) = &r.ext_auth {
                check_idps(&ext.requirements(), &format!("{rp}/extAuth"), false);
                for (k, a) in ext.authorizers.iter().enumerate() {
                    let exists = platform.authorizers.iter().any(|p| &p.name == a);
                    if exists && !grant.authorizers.contains(a) {
                        push(
                            Code::TeamAuthorizerNotGranted,
                            &format!("{rp}/extAuth/authorizers/{k}"),
                            format!("authorizer `{a}` is not granted to team `{team}`"),
                            format!(
                                "team `{team}` may use the authorizers: {}",
                                list(&grant.authorizers)
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::host_granted;

    #[test]
    fn host_patterns() {
        let g = "*.shop.example.com";
        assert!(host_granted(g, "a.shop.example.com"));
        assert!(host_granted(g, "a.b.shop.example.com"));
        assert!(host_granted(g, "*.shop.example.com"));
        assert!(!host_granted(g, "shop.example.com"));
        assert!(!host_granted(g, "evil-shop.example.com"));
        assert!(!host_granted(g, ".shop.example.com"));
        assert!(!host_granted(g, "a.shop.example.com."));
        assert!(!host_granted(g, "A.shop.example.com"));
        assert!(!host_granted(g, "a.shop.example.com.evil.com"));
        assert!(!host_granted(g, "*.example.com"));
        assert!(host_granted("shop.example.com", "shop.example.com"));
        assert!(!host_granted("shop.example.com", "x.shop.example.com"));
        assert!(!host_granted("shop.example.com", "*.shop.example.com"));
    }
}
