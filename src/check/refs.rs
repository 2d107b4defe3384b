//! Names, references and cross-object rules: what the spec means, before any cluster sees it.

use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::names::{
    is_dns_label, is_dns_subdomain, is_http_url, is_ias_issuer, is_semver, is_short_host,
};
use crate::spec::resolve::{cluster_domain, fqdn};
use crate::spec::{AuthorizerType, TokenRequirements};
use std::collections::HashMap;

/// Kyma's built-in extension providers: an authorizer must not take their names.
const RESERVED_AUTHORIZER_NAMES: [&str; 4] = ["kyma-traces", "envoy", "stdout-json", "kyma-logs"];

pub(crate) fn check(ctx: &mut Ctx) {
    names(ctx);
    authorizers(ctx);
    identity_providers(ctx);
    workloads(ctx);
}

/// A JSON pointer to report at, formatted only when a finding needs it.
type Ptr<'a> = &'a dyn Fn() -> String;

fn label_check(ctx: &mut Ctx, ptr: Ptr, value: &str, what: &str) {
    if !is_dns_label(value) {
        ctx.report(Code::NameInvalid, &ptr(), format!("{what} `{value}` is not a lowercase RFC 1123 label"))
            .with_help("use at most 63 characters: lowercase letters, digits and `-`, starting and ending with a letter or digit");
    }
}

fn names(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let lists: [(&str, Vec<&str>, &str); 2] = [
        (
            "identityProviders",
            spec.identity_providers
                .iter()
                .map(|p| p.name.as_str())
                .collect(),
            "identity provider",
        ),
        (
            "authorizers",
            spec.authorizers.iter().map(|a| a.name.as_str()).collect(),
            "authorizer",
        ),
    ];
    for (list, names, what) in lists {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let ptr = format!("/{list}/{i}/name");
            label_check(ctx, &|| ptr.clone(), name, &format!("{what} name"));
            if let Some(first) = seen.insert(name, i) {
                seen.insert(name, first);
                let first_span = ctx.at(&format!("/{list}/{first}/name"));
                let d = ctx.report(
                    Code::NameDuplicate,
                    &ptr,
                    format!("{what} `{name}` is defined twice"),
                );
                if let Some(s) = first_span {
                    d.related.push((s, "first defined here".into()));
                }
                d.with_help("names are unique within their list; rename or remove one");
            }
        }
    }
    if let Some(name) = spec.metadata.as_ref().and_then(|m| m.name.as_deref()) {
        label_check(ctx, &|| "/metadata/name".into(), name, "metadata name");
    }
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, w) in spec.workloads.iter().enumerate() {
        label_check(
            ctx,
            &|| format!("/workloads/{i}/name"),
            &w.name,
            "workload name",
        );
        label_check(
            ctx,
            &|| format!("/workloads/{i}/namespace"),
            &w.namespace,
            "namespace",
        );
        if let Some(first) = seen.get(&(w.namespace.as_str(), w.name.as_str())).copied() {
            let first_span = ctx.at(&format!("/workloads/{first}/name"));
            let d = ctx.report(
                Code::WorkloadDuplicate,
                &format!("/workloads/{i}/name"),
                format!(
                    "workload `{}/{}` is defined twice: both would be the same APIRule",
                    w.namespace, w.name
                ),
            );
            if let Some(s) = first_span {
                d.related.push((s, "first defined here".into()));
            }
            d.with_help("give one of them another name, or merge their rules");
        } else {
            seen.insert((w.namespace.as_str(), w.name.as_str()), i);
        }
        if let Some(svc) = &w.service {
            if let Some(name) = &svc.name {
                label_check(
                    ctx,
                    &|| format!("/workloads/{i}/service/name"),
                    name,
                    "service name",
                );
            }
            if let Some(ns) = &svc.namespace {
                label_check(
                    ctx,
                    &|| format!("/workloads/{i}/service/namespace"),
                    ns,
                    "service namespace",
                );
            }
        }
        for (r, rule) in w.rules.iter().enumerate() {
            if let Some(svc) = &rule.service {
                label_check(
                    ctx,
                    &|| format!("/workloads/{i}/rules/{r}/service/name"),
                    &svc.name,
                    "service name",
                );
                if let Some(ns) = &svc.namespace {
                    label_check(
                        ctx,
                        &|| format!("/workloads/{i}/rules/{r}/service/namespace"),
                        ns,
                        "service namespace",
                    );
                }
            }
        }
    }
}

fn authorizers(ctx: &mut Ctx) {
    let spec = ctx.spec;
    for (i, a) in spec.authorizers.iter().enumerate() {
        let base = format!("/authorizers/{i}");
        if RESERVED_AUTHORIZER_NAMES.contains(&a.name.as_str()) {
            ctx.report(
                Code::AuthorizerReservedName,
                &format!("{base}/name"),
                format!("`{}` is one of Kyma's built-in extension providers", a.name),
            )
            .with_help("choose another name; the Istio module would reject or shadow this one");
        }
        match a.kind {
            AuthorizerType::Oauth2Proxy => {
                if a.name.len() > 53 {
                    ctx.report(Code::NameInvalid, &format!("{base}/name"), format!("authorizer name `{}` is longer than 53 characters, the Helm release name limit", a.name));
                }
                if let Some(ns) = &a.namespace {
                    label_check(ctx, &|| format!("{base}/namespace"), ns, "namespace");
                }
                if let Some(v) = &a.chart_version
                    && !is_semver(v)
                {
                    ctx.report(
                        Code::SchemaInvalidValue,
                        &format!("{base}/chartVersion"),
                        format!(
                            "chart version `{}` is not a SemVer version",
                            v.escape_debug()
                        ),
                    )
                    .with_help("write the chart's version, e.g. 10.7.0");
                }
                if let Some(secret) = &a.credentials_secret
                    && !is_dns_subdomain(secret)
                {
                    ctx.report(
                        Code::NameInvalid,
                        &format!("{base}/credentialsSecret"),
                        format!("Secret name `{secret}` is not a valid Kubernetes object name"),
                    )
                    .with_help(
                        "use lowercase letters, digits, `-` and `.`, at most 253 characters",
                    );
                }
                for field in ["service", "port"] {
                    let present = if field == "service" {
                        a.service.is_some()
                    } else {
                        a.port.is_some()
                    };
                    if present {
                        ctx.report_key(Code::AuthorizerTypeField, &format!("{base}/{field}"), format!("`{field}` is for `type: external`; kexpose derives an oauth2-proxy authorizer's service and port from its Helm release"))
                            .with_help(format!("remove `{field}`"));
                    }
                }
                match &a.identity_provider {
                    None => {
                        ctx.report_key(Code::AuthorizerTypeField, &format!("{base}/name"), format!("oauth2-proxy authorizer `{}` needs `identityProvider`: the issuer whose tokens it verifies", a.name))
                            .with_help("add `identityProvider: <name of an entry in identityProviders>`");
                    }
                    Some(idp) => {
                        if ctx.idp(idp).is_none() {
                            unknown_idp(ctx, &format!("{base}/identityProvider"), idp);
                        }
                    }
                }
            }
            AuthorizerType::External => {
                let oauth2_only: [(&str, bool); 6] = [
                    ("identityProvider", a.identity_provider.is_some()),
                    ("namespace", a.namespace.is_some()),
                    ("chartVersion", a.chart_version.is_some()),
                    ("credentialsSecret", a.credentials_secret.is_some()),
                    ("clientId", a.client_id.is_some()),
                    ("extraArgs", a.extra_args.is_some()),
                ];
                for (field, present) in oauth2_only
                    .into_iter()
                    .chain([("audiences", a.audiences.is_some())])
                {
                    if present {
                        ctx.report_key(Code::AuthorizerTypeField, &format!("{base}/{field}"), format!("`{field}` only applies to `type: oauth2-proxy`; kexpose only registers an external authorizer"))
                            .with_help(format!("remove `{field}`"));
                    }
                }
                if a.service.is_none() || a.port.is_none() {
                    let missing = if a.service.is_none() {
                        "service"
                    } else {
                        "port"
                    };
                    ctx.report_key(Code::AuthorizerTypeField, &format!("{base}/name"), format!("external authorizer `{}` needs `{missing}`", a.name))
                        .with_help("give `service: <name>.<namespace>.svc.cluster.local` and `port:` of the ext_authz service");
                }
            }
        }
    }
}

fn unknown_idp(ctx: &mut Ctx, ptr: &str, name: &str) {
    let known: Vec<String> = ctx
        .spec
        .identity_providers
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect();
    let help = if known.is_empty() {
        "define it under `identityProviders:`".to_string()
    } else {
        format!("defined identity providers: {}", known.join(", "))
    };
    ctx.report(
        Code::RefUnknownIdentityProvider,
        ptr,
        format!("no identity provider named `{name}`"),
    )
    .with_help(help);
}

fn identity_providers(ctx: &mut Ctx) {
    let spec = ctx.spec;
    for (i, p) in spec.identity_providers.iter().enumerate() {
        let base = format!("/identityProviders/{i}");
        if !is_http_url(&p.issuer) {
            ctx.report(Code::IdentityProviderIssuerInvalid, &format!("{base}/issuer"), format!("issuer `{}` is not an absolute http(s) URL", p.issuer))
                .with_help("write the issuer exactly as the tokens' `iss` claim has it, e.g. https://my-tenant.accounts.ondemand.com");
        }
        if let Some(uri) = &p.jwks_uri
            && !is_http_url(uri)
        {
            ctx.report(
                Code::IdentityProviderIssuerInvalid,
                &format!("{base}/jwksUri"),
                format!("jwksUri `{uri}` is not an absolute http(s) URL"),
            );
        }
        let headers = p.from_headers.as_ref().map_or(0, Vec::len);
        let params = p.from_params.as_ref().map_or(0, Vec::len);
        if headers > 1 {
            ctx.report(
                Code::IdentityProviderTokenLocation,
                &format!("{base}/fromHeaders/1"),
                "more than one `fromHeaders` entry: Istio reads a token from one place per issuer",
            )
            .with_help("keep one header");
        }
        if params > 1 {
            ctx.report(
                Code::IdentityProviderTokenLocation,
                &format!("{base}/fromParams/1"),
                "more than one `fromParams` entry: Istio reads a token from one place per issuer",
            )
            .with_help("keep one parameter");
        }
        if headers > 0 && params > 0 {
            ctx.report_key(Code::IdentityProviderTokenLocation, &format!("{base}/fromParams"), "both `fromHeaders` and `fromParams`: the api-gateway controller accepts one or the other")
                .with_help("keep one of the two");
        }
    }
}

fn workloads(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let domain = cluster_domain(spec);
    let mut hosts: HashMap<String, usize> = HashMap::new();
    for (w, wl) in spec.workloads.iter().enumerate() {
        // Pointers are formatted only when a finding needs one.
        let base = || format!("/workloads/{w}");
        if is_short_host(&wl.host) && domain.is_none() && !wl.host.is_empty() {
            ctx.report(Code::HostShortWithoutDomain, &format!("{}/host", base()), format!("short host `{}` but no `cluster.domain` to complete it", wl.host))
                .with_help("set `cluster.domain` (the cluster's EXPOSE_DOMAIN, e.g. c-1a2b3c.kyma.ondemand.com) or write the full host");
        }
        let fqdn = fqdn(&wl.host, domain);
        if let Some(first) = hosts.get(&fqdn).copied() {
            let first_span = ctx.at(&format!("/workloads/{first}/host"));
            let d = ctx.report(Code::HostOccupied, &format!("{}/host", base()), format!("host `{fqdn}` is already exposed by workload `{}`: the controller rejects this APIRule as occupied", spec.workloads[first].name));
            if let Some(s) = first_span {
                d.related.push((s, "first exposed here".into()));
            }
            d.with_help("one host belongs to one APIRule: merge the rules into one workload, or use another host");
        } else {
            hosts.insert(fqdn, w);
        }
        if wl.gateway.is_some() && wl.external_gateway.is_some() {
            ctx.report_key(
                Code::GatewayConflict,
                &format!("{}/externalGateway", base()),
                "both `gateway` and `externalGateway` are set",
            )
            .with_help("an APIRule uses one or the other: remove one");
        }
        for (r, rule) in wl.rules.iter().enumerate() {
            let rbase = || format!("/workloads/{w}/rules/{r}");
            if rule.service.is_none() && wl.service.is_none() {
                ctx.report_key(
                    Code::RuleMissingService,
                    &format!("{}/path", rbase()),
                    format!(
                        "rule `{}` has no service, and workload `{}` has none to default to",
                        rule.path, wl.name
                    ),
                )
                .with_help("add `service: {name: ..., port: ...}` to the workload or to this rule");
            }
            if let Some(jwt) = &rule.jwt {
                requirements(ctx, &|| format!("{}/jwt", rbase()), jwt, true, &[]);
            }
            if let Some(ext) = &rule.ext_auth {
                let mut authorizer_idps = Vec::new();
                for (k, name) in ext.authorizers.iter().enumerate() {
                    match spec.authorizers.iter().find(|a| &a.name == name) {
                        None => {
                            let known: Vec<String> = spec
                                .authorizers
                                .iter()
                                .map(|a| format!("`{}`", a.name))
                                .collect();
                            let help = if known.is_empty() {
                                "define it under `authorizers:`".to_string()
                            } else {
                                format!("defined authorizers: {}", known.join(", "))
                            };
                            ctx.report(
                                Code::RefUnknownAuthorizer,
                                &format!("{}/extAuth/authorizers/{k}", rbase()),
                                format!("no authorizer named `{name}`"),
                            )
                            .with_help(help);
                        }
                        Some(a) => {
                            if let Some(idp) = &a.identity_provider {
                                authorizer_idps.push(idp.clone());
                            }
                        }
                    }
                }
                requirements(
                    ctx,
                    &|| format!("{}/extAuth", rbase()),
                    &ext.requirements(),
                    false,
                    &authorizer_idps,
                );
            }
        }
    }
}

/// Rules shared by `jwt` and `extAuth` restrictions: identity provider references, the
/// shorthand/list exclusivity, a provider to authenticate restrictions with, jwksUri, and the
/// controller's rule that one rule's issuers read tokens from one kind of place.
fn requirements(
    ctx: &mut Ctx,
    base: Ptr,
    req: &TokenRequirements,
    is_jwt: bool,
    fallback: &[String],
) {
    if req.identity_provider.is_some() && req.identity_providers.is_some() {
        ctx.report_key(
            Code::RefAmbiguousIdentityProvider,
            &format!("{}/identityProviders", base()),
            "both `identityProvider` and `identityProviders`",
        )
        .with_help("use `identityProviders: [a, b]` alone");
    }
    let shorthand = req.required_scopes.is_some() || req.audiences.is_some();
    if shorthand && req.authorizations.is_some() {
        let field = if req.required_scopes.is_some() {
            "requiredScopes"
        } else {
            "audiences"
        };
        ctx.report_key(
            Code::JwtShorthandWithAuthorizations,
            &format!("{}/{field}", base()),
            format!("`{field}` shorthand together with an `authorizations` list"),
        )
        .with_help(
            "move the shorthand into one entry of `authorizations` (each entry is an alternative)",
        );
    }
    // Which providers authenticate the token, with where each reference is (None:
    // `identityProvider`, Some(k): `identityProviders[k]`).
    let mut named: Vec<(String, Option<usize>)> = Vec::new();
    if let Some(p) = &req.identity_provider {
        named.push((p.clone(), None));
    }
    for (k, p) in req.identity_providers.iter().flatten().enumerate() {
        named.push((p.clone(), Some(k)));
    }
    for (name, at) in &named {
        if ctx.idp(name).is_none() {
            let ptr = match at {
                None => format!("{}/identityProvider", base()),
                Some(k) => format!("{}/identityProviders/{k}", base()),
            };
            unknown_idp(ctx, &ptr, name);
        }
    }
    let restricted = !named.is_empty() || shorthand || req.authorizations.is_some();
    let providers: Vec<String> = if !named.is_empty() {
        named.iter().map(|(n, _)| n.clone()).collect()
    } else if is_jwt {
        if ctx.spec.identity_providers.len() == 1 {
            vec![ctx.spec.identity_providers[0].name.clone()]
        } else {
            let n = ctx.spec.identity_providers.len();
            ctx.report_key(Code::RefAmbiguousIdentityProvider, &base(), if n == 0 { "a jwt rule but no identity providers are defined".to_string() } else { format!("a jwt rule without `identityProvider`, and the spec defines {n} identity providers") })
                .with_help("add `identityProvider: <name>` (or `identityProviders: [...]`) to the jwt rule");
            return;
        }
    } else if restricted {
        let mut f = fallback.to_vec();
        f.dedup();
        if f.is_empty() {
            ctx.report_key(Code::RestrictionsWithoutIdentityProvider, &base(), "extAuth restrictions, but no identity provider to authenticate the token: none is named here and the listed authorizers have none")
                .with_help("add `identityProviders: [<name>]` to this extAuth");
            return;
        }
        f
    } else {
        return;
    };
    // jwksUri must be known for each provider used at the gateway.
    let mut kinds = (false, false);
    for name in &providers {
        let Some((i, idp)) = ctx.idps.get(name) else {
            continue;
        };
        if idp.jwks_uri.is_none() && !is_ias_issuer(&idp.issuer) {
            let already = ctx.diags.iter().any(|d| {
                d.code == Code::IdentityProviderJwksRequired
                    && d.span == ctx.at(&format!("/identityProviders/{i}/issuer"))
            });
            if !already {
                ctx.report(Code::IdentityProviderJwksRequired, &format!("/identityProviders/{i}/issuer"), format!("identity provider `{}` has no `jwksUri`, and kexpose derives one only for SAP Cloud Identity Services issuers", idp.name))
                    .with_help("add `jwksUri:` (the `jwks_uri` of the issuer's /.well-known/openid-configuration)");
            }
        }
        kinds.0 |= idp.from_headers.as_ref().is_some_and(|h| !h.is_empty());
        kinds.1 |= idp.from_params.as_ref().is_some_and(|p| !p.is_empty());
    }
    if kinds.0 && kinds.1 {
        ctx.report_key(Code::IdentityProviderTokenLocation, &base(), "this rule's identity providers read tokens from headers and from parameters: the api-gateway controller rejects such a mixture")
            .with_help("use identity providers that read tokens the same way in one rule");
    }
}
