//! Resolved domain facts: what a spec value means once defaults are applied (the full host, the
//! JWKS URL, the flags oauth2-proxy runs with, the credentials Secret). `check` reports on them
//! and `plan` emits them; both read them here, so neither depends on the other.

use super::names::is_ias_issuer;
use super::names::is_short_host;
use super::{Authorizer, IdentityProvider, Spec};
use indexmap::IndexMap;

/// The cluster domain (`cluster.domain`) as written; `Some("")` when it is the empty string
/// (which `check` refuses as not a domain name). `plan` completes short hosts with exactly
/// this, so every reader of the domain gets the same answer.
pub fn cluster_domain(spec: &Spec) -> Option<&str> {
    spec.cluster.as_ref().and_then(|c| c.domain.as_deref())
}

/// The oauth2-proxy flags of the Kyma client-credentials tutorial, in its order, with `DOMAIN`
/// and `ISSUER` to be filled in. kexpose's only change is `cookie-secure: "true"`.
pub const TUTORIAL_ARGS: &[(&str, &str)] = &[
    ("provider", "oidc"),
    ("auth-logging", "true"),
    ("cookie-domain", "DOMAIN"),
    ("cookie-samesite", "lax"),
    ("cookie-secure", "false"),
    ("force-json-errors", "true"),
    ("login-url", "static://401"),
    ("oidc-issuer-url", "ISSUER"),
    ("pass-access-token", "true"),
    ("pass-authorization-header", "true"),
    ("pass-host-header", "true"),
    ("pass-user-headers", "true"),
    ("request-logging", "true"),
    ("reverse-proxy", "true"),
    ("scope", "openid email"),
    ("set-authorization-header", "true"),
    ("set-xauthrequest", "true"),
    ("skip-jwt-bearer-tokens", "true"),
    ("skip-oidc-discovery", "false"),
    ("skip-provider-button", "true"),
    ("standard-logging", "true"),
    ("upstream", "static://200"),
    ("whitelist-domain", "*.DOMAIN:*"),
];

/// The flags kexpose gives an oauth2-proxy authorizer: the tutorial's, hardened
/// (`cookie-secure: "true"`), then `oidc-extra-audience` from `audiences`, then the spec's
/// `extraArgs` on top (an `extraArgs` key replaces a default in place; new keys follow).
pub fn oauth2_proxy_args(
    authorizer: &Authorizer,
    issuer: &str,
    domain: Option<&str>,
) -> IndexMap<String, String> {
    let domain = domain.unwrap_or("");
    let mut args: IndexMap<String, String> = TUTORIAL_ARGS
        .iter()
        .map(|(k, v)| {
            let v = match *k {
                "cookie-secure" => "true".to_string(),
                _ => v.replace("DOMAIN", domain).replace("ISSUER", issuer),
            };
            (k.to_string(), v)
        })
        .collect();
    if let Some(aud) = authorizer.audiences.as_ref().filter(|a| !a.is_empty()) {
        args.insert("oidc-extra-audience".into(), aud.join(","));
    }
    if let Some(extra) = &authorizer.extra_args {
        for (k, v) in extra {
            args.insert(k.clone(), v.to_flag_value());
        }
    }
    args
}

/// `<issuer>/oauth2/certs` for SAP Cloud Identity Services hosts, else the given `jwksUri`.
pub fn jwks_uri(idp: &IdentityProvider) -> Option<String> {
    if let Some(uri) = &idp.jwks_uri {
        return Some(uri.clone());
    }
    is_ias_issuer(&idp.issuer).then(|| format!("{}/oauth2/certs", idp.issuer.trim_end_matches('/')))
}

/// A host as the APIRule gets it: a short host completed with the cluster domain.
pub fn fqdn(host: &str, domain: Option<&str>) -> String {
    if is_short_host(host) {
        match domain {
            Some(d) => format!("{host}.{d}"),
            None => host.to_string(),
        }
    } else {
        host.to_string()
    }
}

/// The chart's `oauth2-proxy.fullname`: the release name when it contains `oauth2-proxy`,
/// else `<release>-oauth2-proxy`, cut to 63 characters without a trailing `-`.
pub fn chart_fullname(release: &str) -> String {
    let full = if release.contains("oauth2-proxy") {
        release.to_string()
    } else {
        format!("{release}-oauth2-proxy")
    };
    let cut: String = full.chars().take(63).collect();
    cut.trim_end_matches('-').to_string()
}

/// The namespace of an oauth2-proxy authorizer's release.
pub fn authorizer_namespace(a: &Authorizer) -> &str {
    a.namespace.as_deref().unwrap_or(&a.name)
}

/// The Secret an oauth2-proxy authorizer reads its credentials from.
pub fn credentials_secret(a: &Authorizer) -> String {
    a.credentials_secret
        .clone()
        .unwrap_or_else(|| format!("{}-credentials", a.name))
}

/// Identity providers by name, built once per spec for lookups per rule: a linear search per
/// rule made specs with many providers quadratic (issue 15, `kexpose-gen --idps`). The first
/// provider of a duplicated name wins, as a linear search would find it.
#[derive(Debug)]
pub struct IdpIndex<'s> {
    providers: &'s [IdentityProvider],
    by_name: std::collections::HashMap<&'s str, usize>,
}

impl<'s> IdpIndex<'s> {
    /// Index the spec's identity providers.
    pub fn new(spec: &'s Spec) -> IdpIndex<'s> {
        let mut by_name = std::collections::HashMap::with_capacity(spec.identity_providers.len());
        for (i, p) in spec.identity_providers.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_insert(i);
        }
        IdpIndex {
            providers: &spec.identity_providers,
            by_name,
        }
    }

    /// The provider named `name`, with its index in `identityProviders`.
    pub fn get(&self, name: &str) -> Option<(usize, &'s IdentityProvider)> {
        self.by_name.get(name).map(|&i| (i, &self.providers[i]))
    }
}
