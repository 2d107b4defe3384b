//! APIRule findings that need the whole rule list: what the api-gateway controller refuses across
//! rules, and what it accepts but enforces differently from the rule order.
//!
//! Source: kyma-project/api-gateway @ 64d110d6 (after 3.10.0).

use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::plan::jwks_uri;
use crate::spec::resolve::IdpIndex;
use crate::spec::{IdentityProvider, Spec, TokenRequirements};

pub(crate) fn check(ctx: &mut Ctx) {
    jwt_configs_differ(ctx);
    root_rule_bypass(ctx);
    scopes_in_scp(ctx);
}

/// The identity providers a jwt rule is authenticated by (as `plan` renders them): the named
/// ones, else the spec's only one.
fn jwt_providers<'s>(
    spec: &'s Spec,
    idps: &IdpIndex<'s>,
    req: &TokenRequirements,
) -> Vec<(usize, &'s IdentityProvider)> {
    let named: Vec<&String> = req
        .identity_provider
        .iter()
        .chain(req.identity_providers.iter().flatten())
        .collect();
    if named.is_empty() {
        return if spec.identity_providers.len() == 1 {
            vec![(0, &spec.identity_providers[0])]
        } else {
            Vec::new()
        };
    }
    named.iter().filter_map(|n| idps.get(n)).collect()
}

/// Where a rule names identity provider `name` (or the rule's `jwt` when it names none).
fn provider_ptr(base: &str, req: &TokenRequirements, name: &str) -> String {
    if req.identity_provider.as_deref() == Some(name) {
        return format!("{base}/identityProvider");
    }
    if let Some(k) = req
        .identity_providers
        .iter()
        .flatten()
        .position(|n| n == name)
    {
        return format!("{base}/identityProviders/{k}");
    }
    base.to_string()
}

/// `validateJwtAuthenticationEquality` (`internal/validation/v2alpha1/jwt.go`): within one
/// APIRule, jwt authentications with the same issuer and JWKS URI must have the same
/// `fromHeaders` and `fromParams`, else "multiple jwt configurations that differ for the same
/// issuer" and `status: Error`. (extAuth restrictions are not compared.)
fn jwt_configs_differ(ctx: &mut Ctx) {
    let (spec, idps) = (ctx.spec, ctx.idps);
    for (w, wl) in spec.workloads.iter().enumerate() {
        // issuer + jwksUri → the first provider seen with it.
        let mut seen: Vec<(String, &IdentityProvider)> = Vec::new();
        for (r, rule) in wl.rules.iter().enumerate() {
            let Some(jwt) = &rule.jwt else { continue };
            for (_, p) in jwt_providers(spec, idps, jwt) {
                let key = format!("{}{}", p.issuer, jwks_uri(p).unwrap_or_default());
                match seen.iter().find(|(k, _)| *k == key) {
                    None => seen.push((key, p)),
                    Some((_, first))
                        if first.from_headers.as_ref().filter(|h| !h.is_empty())
                            != p.from_headers.as_ref().filter(|h| !h.is_empty())
                            || first.from_params.as_ref().filter(|q| !q.is_empty())
                                != p.from_params.as_ref().filter(|q| !q.is_empty()) =>
                    {
                        let first_name = first.name.clone();
                        let ptr =
                            provider_ptr(&format!("/workloads/{w}/rules/{r}/jwt"), jwt, &p.name);
                        ctx.report(
                            Code::ApiruleJwtConfigDiffers,
                            &ptr,
                            format!(
                                "identity providers `{first_name}` and `{}` have the same issuer and jwksUri but read tokens from different places: the api-gateway controller refuses the APIRule of workload `{}` (\"multiple jwt configurations that differ for the same issuer\")",
                                p.name, wl.name
                            ),
                        )
                        .with_help(format!(
                            "use one identity provider for this issuer in the jwt rules of `{}`, or give both the same `fromHeaders`/`fromParams`",
                            wl.name
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// `generateNotPaths` (`internal/processing/processors/v2alpha1/authorizationpolicy/creator.go`)
/// never excludes an earlier rule whose path is `/` from a later rule's ALLOW policy, and a
/// later `/{**}` (or `/*`) matches `/` too: `GET /` then passes the later rule's `noAuth` ALLOW
/// although the VirtualService routes it to the earlier, protected rule (ALLOW policies are
/// ORed).
fn root_rule_bypass(ctx: &mut Ctx) {
    let spec = ctx.spec;
    for (w, wl) in spec.workloads.iter().enumerate() {
        for (r, rule) in wl.rules.iter().enumerate() {
            if rule.no_auth != Some(true) || !matches!(rule.path.as_str(), "/*" | "/{**}") {
                continue;
            }
            let Some((e, method)) = wl.rules[..r].iter().enumerate().find_map(|(e, earlier)| {
                if earlier.path != "/" || earlier.no_auth == Some(true) {
                    return None;
                }
                let m = rule.methods.iter().find(|m| earlier.methods.contains(m))?;
                Some((e, m.clone()))
            }) else {
                continue;
            };
            let strategy = if wl.rules[e].jwt.is_some() {
                "jwt"
            } else {
                "extAuth"
            };
            let span = ctx.at(&format!("/workloads/{w}/rules/{e}/path"));
            let d = ctx.report(
                Code::ApiruleRootRuleBypass,
                &format!("/workloads/{w}/rules/{r}/path"),
                format!(
                    "`{method} /` is routed to the earlier `{strategy}` rule, but the controller does not exclude `/` from this `noAuth` rule's ALLOW policy, so `{method} /` passes without a token"
                ),
            );
            if let Some(s) = span {
                d.related.push((s, "the protected rule on `/`".into()));
            }
            d.with_help("make the `/` rule noAuth too, or narrow this rule's path (e.g. `/{*}/{**}` or explicit prefixes)");
        }
    }
}

/// Is this the issuer of Microsoft Entra ID (v1 `sts.windows.net`, v2 `login.microsoftonline.com`),
/// whose access tokens carry delegated scopes in `scp` as one space-delimited string?
fn is_entra_issuer(issuer: &str) -> bool {
    let host = issuer.split_once("://").map_or("", |(_, r)| {
        r.split(['/', ':', '?', '#']).next().unwrap_or("")
    });
    host.eq_ignore_ascii_case("login.microsoftonline.com")
        || host.eq_ignore_ascii_case("sts.windows.net")
}

/// The controller checks `requiredScopes` with one rule per claim `scp`, `scope`, `scopes`
/// (`authorizationpolicy/creator.go`); Istio splits only `scope` and `permission` at spaces
/// (`istio/api` `request_authentication.proto`, `spaceDelimitedClaims`). Entra ID puts
/// `scp: "a b"`, so `requiredScopes: [a]` never matches a token with two scopes.
fn scopes_in_scp(ctx: &mut Ctx) {
    let (spec, idps) = (ctx.spec, ctx.idps);
    for (w, wl) in spec.workloads.iter().enumerate() {
        for (r, rule) in wl.rules.iter().enumerate() {
            // jwt rules, and extAuth restrictions (same ALLOW policies, authenticated by the
            // named providers or else the authorizers' ones).
            let (req, base, providers) = if let Some(jwt) = &rule.jwt {
                (
                    jwt.clone(),
                    format!("/workloads/{w}/rules/{r}/jwt"),
                    jwt_providers(spec, idps, jwt),
                )
            } else if let Some(ext) = &rule.ext_auth {
                let req = ext.requirements();
                let mut providers = jwt_providers(spec, idps, &req);
                if req.identity_provider.is_none() && req.identity_providers.is_none() {
                    providers = ext
                        .authorizers
                        .iter()
                        .filter_map(|n| spec.authorizers.iter().find(|a| &a.name == n))
                        .filter_map(|a| a.identity_provider.as_deref())
                        .filter_map(|n| idps.get(n))
                        .collect();
                }
                (req, format!("/workloads/{w}/rules/{r}/extAuth"), providers)
            } else {
                continue;
            };
            let jwt = &req;
            let entra: Vec<String> = providers
                .into_iter()
                .filter(|(_, p)| is_entra_issuer(&p.issuer))
                .map(|(_, p)| p.name.clone())
                .collect();
            if entra.is_empty() {
                continue;
            }
            let mut ptrs = Vec::new();
            if jwt.required_scopes.as_ref().is_some_and(|s| !s.is_empty()) {
                ptrs.push(format!("{base}/requiredScopes"));
            }
            for (n, a) in jwt.authorizations.iter().flatten().enumerate() {
                if a.required_scopes.as_ref().is_some_and(|s| !s.is_empty()) {
                    ptrs.push(format!("{base}/authorizations/{n}/requiredScopes"));
                }
            }
            for ptr in ptrs {
                ctx.report(
                    Code::JwtScopesScpClaim,
                    &ptr,
                    format!(
                        "identity provider `{}` (Microsoft Entra ID) puts scopes in `scp` as one space-separated string, which Istio does not split: a token with more than one scope fails this check",
                        entra.join("`, `")
                    ),
                )
                .with_help("require scopes only where the tokens carry exactly that one scope, or restrict by `audiences` instead (Entra ID sets `aud` to the API's application ID URI)");
            }
        }
    }
}
