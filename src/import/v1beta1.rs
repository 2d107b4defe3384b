//! APIRule `v1beta1` → the spec, by Kyma's migration rules.
//!
//! Sources (kyma-project/api-gateway@64d110d6038f8de27fa912b2e91b9f5f00b3faf0):
//! - `docs/user/apirule-migration/01-82-migrate-allow-noop-no_auth-v1beta1-to-v2.md`: `noop`,
//!   `allow` and `no_auth` become `noAuth`.
//! - `docs/user/apirule-migration/01-83-migrate-jwt-v1beta1-to-v2.md` and
//!   `apis/gateway/v1beta1/jwt_conversion.go`: Istio-style `jwt` config converts as is; the
//!   Oathkeeper-style config converts when it has exactly one `trusted_issuers` and one
//!   `jwks_urls` entry (`required_scope` → `requiredScopes`, `target_audience` → `audiences`).
//! - `docs/user/apirule-migration/01-84-migrate-oauth2-v1beta1-to-v2.md`: `oauth2_introspection`
//!   becomes `extAuth` through an oauth2-proxy deployed as external authorizer.
//! - `apis/gateway/v1beta1/apirule_conversion.go`: `header` and `cookie` mutators become
//!   `request.headers` / `request.cookies`; the host becomes `hosts: [host]`.
//! - `internal/gatewaytranslator/gatewaytranslator.go`: `name.namespace.svc.cluster.local`
//!   (and the `.svc.cluster`, `.svc`, `name.namespace`, `name` forms) → `namespace/name`.
//! - `apis/gateway/v1beta1/path_conversion.go`: the paths that convert unchanged.
//! - `docs/user/custom-resources/apirule/04-70-changes-in-apirule-v2.md`: v2 blocks in-cluster
//!   traffic and applies no default CORS policy; regex paths, Oathkeeper OAuth2 handlers,
//!   token mutators and opaque tokens are gone.

use super::{Doc, Importer, empty_rule, ext_auth, names, rule_service};
use crate::diag::Code;
use crate::spec::{self, AuthorizerType, Cors, RequestMutators, Rule, TokenRequirements, Workload};
use indexmap::IndexMap;
use serde_json::Value;

/// The name of the oauth2-proxy authorizer created for Oathkeeper OAuth2 handlers.
const MIGRATION_AUTHORIZER: &str = "oauth2-proxy";

pub(super) fn apirule(im: &mut Importer, doc: &mut Doc, index: usize, p: &str, obj: &Value) {
    let Some((name, namespace)) = im.identity(doc, p, obj) else {
        return;
    };
    let s = &obj["spec"];
    let sp = format!("{p}/spec");
    let Some(host) = s["host"].as_str() else {
        doc.invalid(&sp, "an APIRule v1beta1 without `host`".into());
        return;
    };
    // Findings about every v1beta1 APIRule (04-70).
    doc.push(
        Code::ImportV1beta1InternalTraffic,
        &format!("{p}/apiVersion"),
        format!(
            "`{namespace}/{name}` is v1beta1: in-cluster callers could reach the workload; with APIRule v2 they are blocked"
        ),
        "if in-cluster callers need it, apply an AuthorizationPolicy that allows them (Kyma's migration guides, step \"preserve the internal traffic policy\")",
    );
    if s.get("corsPolicy").is_none() {
        doc.push(
            Code::ImportV1beta1CorsDefault,
            &sp,
            format!(
                "`{namespace}/{name}` relied on v1beta1's default CORS policy (allowOrigins *, methods GET POST PUT DELETE PATCH, headers Authorization Content-Type *); v2 applies none, and the import sets none"
            ),
            "if browsers call this API from other origins, add `cors:` to the workload and allow OPTIONS in its rules",
        );
    }
    let gateway = s["gateway"].as_str().and_then(|g| {
        translate_gateway(g, &namespace).or_else(|| {
            doc.push(
                Code::ImportV1beta1Gateway,
                &format!("{sp}/gateway"),
                format!("gateway `{g}` is in neither the `namespace/name` nor the old `name.namespace.svc.cluster.local` form"),
                "set `gateway: namespace/name` on the workload",
            );
            Some(g.to_string())
        })
    });
    let mut rules = Vec::new();
    let list = s["rules"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        doc.invalid(&sp, "an APIRule without `rules`".into());
        return;
    }
    for (i, r) in list.iter().enumerate() {
        rules.extend(rule(im, doc, index, &format!("{sp}/rules/{i}"), r));
    }
    if rules.is_empty() {
        return;
    }
    let every_rule_has_service = rules.iter().all(|r| r.service.is_some());
    let service = s
        .get("service")
        .filter(|_| !every_rule_has_service)
        .and_then(|v| super::workload_service(doc, &format!("{sp}/service"), v, &name));
    let cors = s
        .get("corsPolicy")
        .and_then(|c| cors(doc, &format!("{sp}/corsPolicy"), c));
    let w = Workload {
        name,
        namespace,
        host: host.to_string(),
        gateway: gateway.filter(|g| g != spec::DEFAULT_GATEWAY),
        external_gateway: None,
        service,
        timeout: s["timeout"].as_i64(),
        cors,
        rules,
        selector: None,
        allow_in_cluster_callers: None,
    };
    im.add_workload(doc, p, w);
}

/// `name.namespace.svc.cluster.local` and the shorter old forms → `namespace/name`; a name in
/// the new form unchanged; `None` when neither (gatewaytranslator.go).
pub fn translate_gateway(g: &str, namespace: &str) -> Option<String> {
    if is_new_gateway_form(g) {
        return Some(g.to_string());
    }
    let old = !g.is_empty()
        && g.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        });
    if !old {
        return None;
    }
    let parts: Vec<&str> = g.split('.').collect();
    let parts: &[&str] = match parts.len() {
        5 if g.ends_with(".svc.cluster.local") => &parts[..2],
        4 if g.ends_with(".svc.cluster") => &parts[..2],
        3 if g.ends_with(".svc") => &parts[..2],
        2 => &parts[..2],
        1 => return Some(format!("{namespace}/{g}")).filter(|n| is_new_gateway_form(n)),
        _ => return None,
    };
    Some(format!("{}/{}", parts[1], parts[0])).filter(|n| is_new_gateway_form(n))
}

fn is_new_gateway_form(g: &str) -> bool {
    let label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    matches!(g.split_once('/'), Some((a, b)) if label(a) && label(b))
}

/// One v1beta1 rule: zero rules (dropped), one, or two (a `/foo.*` path).
fn rule(im: &mut Importer, doc: &mut Doc, index: usize, rp: &str, r: &Value) -> Vec<Rule> {
    let raw_path = r["path"].as_str().unwrap_or_default();
    let methods: Vec<String> = r["methods"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let paths = path(doc, &format!("{rp}/path"), raw_path);
    let strategies = r["accessStrategies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if strategies.is_empty() {
        doc.invalid(rp, "a rule without `accessStrategies`".into());
        return Vec::new();
    }
    if strategies.len() > 1 {
        let handlers: Vec<&str> = strategies
            .iter()
            .map(|s| s["handler"].as_str().unwrap_or("?"))
            .collect();
        doc.push(
            Code::ImportV1beta1Handler,
            &format!("{rp}/accessStrategies/1"),
            format!(
                "this rule has {} access strategies ({}), any of which let a request pass; an APIRule v2 rule has exactly one, so only the first is imported",
                handlers.len(),
                handlers.join(", ")
            ),
            "decide which one the rule needs; for several kinds of callers, write one rule per method set or path",
        );
    }
    let sp = format!("{rp}/accessStrategies/0");
    let strategy = &strategies[0];
    let handler = strategy["handler"].as_str().unwrap_or_default();
    let config = strategy.get("config").filter(|c| !c.is_null());
    let mut access = empty_rule(String::new(), methods.clone());
    match handler {
        // 01-82: these three become noAuth, exactly.
        "allow" | "noop" | "no_auth" => access.no_auth = Some(true),
        "anonymous" => {
            doc.push(
                Code::ImportV1beta1Handler,
                &format!("{sp}/handler"),
                "`anonymous` (Oathkeeper: any request passes, the subject is `anonymous`) has no v2 equivalent; imported as `noAuth: true`, which is public too but sets no subject".into(),
                "check that the workload does not read the subject Oathkeeper set",
            );
            access.no_auth = Some(true);
        }
        "unauthorized" => {
            doc.push(
                Code::ImportV1beta1Handler,
                &format!("{sp}/handler"),
                "`unauthorized` rejects every request; APIRule v2 has no deny rule, so this rule is not imported (an unexposed path is not routed at all)".into(),
                "nothing to do unless a later, broader rule now matches these requests: check the paths that follow",
            );
            return Vec::new();
        }
        "jwt" => {
            let req = jwt(im, doc, &sp, config);
            access.jwt = Some(req);
        }
        "oauth2_introspection" | "oauth2_client_credentials" | "cookie_session" => {
            let authorizer = im.migration_authorizer(doc, &sp, handler, config);
            let mut req = TokenRequirements::default();
            if handler == "oauth2_introspection" {
                let scopes = strings(config.and_then(|c| c.get("required_scope")));
                if !scopes.is_empty() {
                    req.required_scopes = Some(scopes);
                    req.identity_provider = im.authorizer_provider(&authorizer);
                }
            }
            let span = doc.span(&format!("{sp}/handler"));
            im.authorizer_refs.push((index, authorizer.clone(), span));
            access.ext_auth = Some(ext_auth(vec![authorizer], req));
        }
        other => {
            doc.push(
                Code::ImportV1beta1Handler,
                &format!("{sp}/handler"),
                format!("handler `{other}` is not a v1beta1 access strategy kexpose knows; the rule is not imported"),
                "write the rule by hand with `noAuth`, `jwt` or `extAuth`",
            );
            return Vec::new();
        }
    }
    access.service = r
        .get("service")
        .and_then(|v| rule_service(doc, &format!("{rp}/service"), v));
    access.timeout = r["timeout"].as_i64();
    access.request = mutators(doc, rp, r.get("mutators"));
    paths
        .into_iter()
        .map(|p| Rule {
            path: p,
            ..access.clone()
        })
        .collect()
}

/// The v2 paths for a v1beta1 path (04-70 "Path Specification Must Not Contain Regexp").
fn path(doc: &mut Doc, pp: &str, raw: &str) -> Vec<String> {
    if raw == "/.*" || raw == "/*" {
        return vec!["/*".into()];
    }
    if is_convertible_path(raw) {
        return vec![raw.to_string()];
    }
    if let Some(prefix) = raw.strip_suffix("/.*").filter(|p| is_convertible_path(p)) {
        doc.push(
            Code::ImportV1beta1Path,
            pp,
            format!("regex path `{raw}` becomes `{prefix}/{{**}}`"),
            "check the requests it must match: v2 paths are exact or use `{*}` / `{**}`",
        );
        return vec![format!("{prefix}/{{**}}")];
    }
    if let Some(prefix) = raw.strip_suffix(".*").filter(|p| is_convertible_path(p)) {
        doc.push(
            Code::ImportV1beta1Path,
            pp,
            format!("regex path `{raw}` becomes two rules, `{prefix}` and `{prefix}/{{**}}` (Kyma's migration guide for `/foo(.*)`); `{prefix}x` no longer matches"),
            "check the requests it must match: v2 paths are exact or use `{*}` / `{**}`",
        );
        return vec![prefix.to_string(), format!("{prefix}/{{**}}")];
    }
    doc.push(
        Code::ImportV1beta1Path,
        pp,
        format!("regex path `{raw}` has no v2 form kexpose can derive; it is imported unchanged, and the spec will not validate until you replace it"),
        "replace it with exact paths or `{*}` / `{**}` operators",
    );
    vec![raw.to_string()]
}

/// `path_conversion.go`: `^((\/([A-Za-z0-9-._~!$&'()+,;=:@]|%[0-9a-fA-F]{2})*)|(\/\{\*{1,2}\}))+$|^\/\*$`.
fn is_convertible_path(p: &str) -> bool {
    if p == "/*" {
        return true;
    }
    if !p.starts_with('/') {
        return false;
    }
    p[1..].split('/').all(|seg| {
        if seg == "{*}" || seg == "{**}" {
            return true;
        }
        let b = seg.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_alphanumeric() || b"-._~!$&'()+,;=:@".contains(&c) {
                i += 1;
            } else if c == b'%'
                && i + 2 < b.len() + 1
                && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                i += 3;
            } else {
                return false;
            }
        }
        true
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A `jwt` handler's config, Istio style or Oathkeeper style.
fn jwt(im: &mut Importer, doc: &mut Doc, sp: &str, config: Option<&Value>) -> TokenRequirements {
    let cp = format!("{sp}/config");
    let Some(c) = config else {
        doc.push(
            Code::ImportV1beta1Jwt,
            sp,
            "a `jwt` handler without config: APIRule v2 needs the issuer and JWKS URI".into(),
            "set `identityProvider` on the rule and define the provider (issuer exactly as in the tokens' `iss`)",
        );
        return TokenRequirements::default();
    };
    if c.get("authentications").is_some() || c.get("authorizations").is_some() {
        return im.requirements(doc, &cp, c);
    }
    let issuers = strings(c.get("trusted_issuers"));
    let jwks = strings(c.get("jwks_urls"));
    let mut req = TokenRequirements::default();
    let scopes = strings(c.get("required_scope"));
    let audiences = strings(c.get("target_audience"));
    if !scopes.is_empty() {
        req.required_scopes = Some(scopes);
    }
    if !audiences.is_empty() {
        req.audiences = Some(audiences);
    }
    if let Some(issuer) = ias_issuer_of(&issuers, &jwks) {
        // 01-83: Kyma's own example migrates `jwks_urls: [https://T.accounts.ondemand.com/oauth2/certs]`
        // to `issuer: https://T.accounts.ondemand.com`.
        doc.push(
                Code::ImportV1beta1Jwt,
                &cp,
                format!("no `trusted_issuers`: APIRule v2 requires the issuer (04-70); `{issuer}` is assumed from the SAP Cloud Identity Services JWKS URL, as in Kyma's jwt migration guide"),
                "check that the tokens' `iss` claim is exactly this issuer",
            );
        req.identity_provider = Some(im.provider_for(issuer, Some(jwks[0].clone()), None, None));
        return req;
    }
    if issuers.is_empty() {
        doc.push(
            Code::ImportV1beta1Jwt,
            &cp,
            "no `trusted_issuers`: APIRule v2 requires the issuer explicitly (04-70), and kexpose cannot know it".into(),
            "define an identity provider with the issuer of the tokens (the `issuer` of its discovery document) and reference it with `identityProvider`",
        );
        return req;
    }
    if issuers.len() != 1 || jwks.len() != 1 {
        doc.push(
            Code::ImportV1beta1Jwt,
            &cp,
            format!(
                "{} trusted issuers and {} JWKS URLs: Kyma converts only one of each; kexpose pairs them by position{}",
                issuers.len(),
                jwks.len(),
                if jwks.len() < issuers.len() {
                    ", and issuers without a JWKS URL get none (SAP Cloud Identity Services issuers get theirs derived)"
                } else {
                    ""
                }
            ),
            "check that each issuer got its own key set",
        );
    }
    let mut providers = Vec::new();
    for (i, issuer) in issuers.iter().enumerate() {
        providers.push(im.provider_for(issuer.clone(), jwks.get(i).cloned(), None, None));
    }
    providers.dedup();
    if providers.len() == 1 {
        req.identity_provider = providers.pop();
    } else {
        req.identity_providers = Some(providers);
    }
    req
}

/// `header` and `cookie` mutators → request headers and cookies; the rest reported.
fn mutators(doc: &mut Doc, rp: &str, v: Option<&Value>) -> Option<RequestMutators> {
    let list = v.and_then(Value::as_array)?;
    let mut headers: IndexMap<String, String> = IndexMap::new();
    let mut cookies: IndexMap<String, String> = IndexMap::new();
    for (i, m) in list.iter().enumerate() {
        let mp = format!("{rp}/mutators/{i}");
        let handler = m["handler"].as_str().unwrap_or_default();
        let (key, target) = match handler {
            "header" => ("headers", &mut headers),
            "cookie" => ("cookies", &mut cookies),
            other => {
                doc.push(
                    Code::ImportV1beta1Mutator,
                    &format!("{mp}/handler"),
                    format!("mutator `{other}` has no APIRule v2 equivalent (token mutators are gone, 04-70); it is not imported"),
                    "if the workload needs the token or claims it added, let an external authorizer add them (`extAuth` with the authorizer's `headers.toUpstream`)",
                );
                continue;
            }
        };
        if let Some(map) = m["config"][key].as_object() {
            for (k, val) in map {
                match val.as_str() {
                    Some(s) => {
                        target.insert(k.clone(), s.to_string());
                    }
                    None => doc.invalid(
                        &format!("{mp}/config/{key}"),
                        format!("`{k}` is not a string"),
                    ),
                }
            }
        }
    }
    if headers.is_empty() && cookies.is_empty() {
        return None;
    }
    Some(RequestMutators {
        headers: Some(headers).filter(|h| !h.is_empty()),
        cookies: Some(cookies).filter(|c| !c.is_empty()),
    })
}

/// A v1beta1 CORS policy (its `maxAge` is a duration string).
fn cors(doc: &mut Doc, cp: &str, c: &Value) -> Option<Cors> {
    let mut c = c.clone();
    if let Some(age) = c.get("maxAge").and_then(Value::as_str) {
        match duration_seconds(age) {
            Some(secs) => c["maxAge"] = secs.into(),
            None => {
                doc.invalid(
                    &format!("{cp}/maxAge"),
                    format!("`{age}` is not a duration"),
                );
                return None;
            }
        }
    }
    serde_json::from_value(c)
        .map_err(|e| doc.invalid(cp, e.to_string()))
        .ok()
}

/// `300s`, `5m`, `1h`, `1h30m` → whole seconds (metav1.Duration; fractions cut as Kyma's
/// `uint64(MaxAge.Seconds())` does).
fn duration_seconds(s: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut any = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        any = true;
    }
    (any && num.is_empty()).then_some(total as i64)
}

impl Importer {
    /// The authorizer that an Oathkeeper OAuth2 handler migrates to: an imported one that
    /// looks like oauth2-proxy, else an oauth2-proxy authorizer created here.
    fn migration_authorizer(
        &mut self,
        doc: &mut Doc,
        sp: &str,
        handler: &str,
        config: Option<&Value>,
    ) -> String {
        let existing = self
            .authorizers
            .iter()
            .find(|k| {
                names::looks_like_oauth2_proxy(
                    &k.authorizer.name,
                    k.authorizer.service.as_deref().unwrap_or_default(),
                )
            })
            .map(|k| k.authorizer.name.clone());
        let introspection = config
            .and_then(|c| c["introspection_url"].as_str())
            .map(str::to_string);
        let name = match existing {
            Some(n) => n,
            None => {
                let name = MIGRATION_AUTHORIZER.to_string();
                if self.migration_authorizer.is_none() {
                    // The issuer oauth2-proxy will verify: the introspection endpoint's origin
                    // (what SAP Cloud Identity Services and most OIDC servers use), assumed.
                    let issuer = introspection
                        .as_deref()
                        .and_then(origin)
                        .unwrap_or_else(|| "https://issuer.invalid".to_string());
                    let provider = self.provider_for(issuer, None, None, None);
                    self.authorizers.push(super::KnownAuthorizer {
                        authorizer: spec::Authorizer {
                            name: name.clone(),
                            kind: AuthorizerType::Oauth2Proxy,
                            identity_provider: Some(provider),
                            namespace: None,
                            chart_version: None,
                            credentials_secret: None,
                            client_id: None,
                            audiences: None,
                            extra_args: None,
                            service: None,
                            port: None,
                            path_prefix: None,
                            timeout: None,
                            headers: None,
                        },
                    });
                    self.migration_authorizer = Some(name.clone());
                }
                name
            }
        };
        let what = match handler {
            "oauth2_introspection" => {
                "opaque-token introspection is gone in v2 (04-70); oauth2-proxy verifies JWTs from an OIDC issuer instead"
            }
            "oauth2_client_credentials" => {
                "Oathkeeper exchanged client credentials for a token itself; oauth2-proxy instead expects the caller to bring a JWT"
            }
            _ => {
                "Oathkeeper checked a session cookie with a session store; oauth2-proxy keeps its own cookie session"
            }
        };
        doc.push(
            Code::ImportV1beta1Oauth2,
            &format!("{sp}/handler"),
            format!(
                "`{handler}` becomes `extAuth` through authorizer `{name}` (Kyma's migration guide 01-84): {what}"
            ),
            &format!(
                "check authorizer `{name}` in the spec: its identity provider{} and credentials Secret must be real, and `cluster.domain` set (oauth2-proxy's cookie and redirect domains), before rendering",
                if introspection.is_some() {
                    " (assumed from the introspection URL's origin)"
                } else {
                    " (a placeholder issuer)"
                }
            ),
        );
        name
    }

    /// The identity provider of an authorizer, when the spec knows it.
    fn authorizer_provider(&self, name: &str) -> Option<String> {
        self.authorizers
            .iter()
            .find(|k| k.authorizer.name == name)
            .and_then(|k| k.authorizer.identity_provider.clone())
    }
}

/// The issuer of an SAP Cloud Identity Services JWKS URL (`https://T.accounts.ondemand.com/oauth2/certs`).
fn ias_issuer_of(issuers: &[String], jwks: &[String]) -> Option<String> {
    match (issuers, jwks) {
        ([], [one]) => ias_issuer(one),
        _ => None,
    }
}

/// The issuer of one SAP Cloud Identity Services JWKS URL.
fn ias_issuer(jwks: &str) -> Option<String> {
    let issuer = jwks.trim().strip_suffix("/oauth2/certs")?;
    let host = issuer.strip_prefix("https://")?;
    let ias = (host.ends_with(".accounts.ondemand.com") || host.ends_with(".accounts.cloud.sap"))
        && !host.contains('/');
    ias.then(|| issuer.to_string())
}

/// `https://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_names() {
        let t = |g| translate_gateway(g, "app");
        assert_eq!(
            t("kyma-gateway.kyma-system.svc.cluster.local").as_deref(),
            Some("kyma-system/kyma-gateway")
        );
        assert_eq!(
            t("kyma-gateway.kyma-system").as_deref(),
            Some("kyma-system/kyma-gateway")
        );
        assert_eq!(t("gw.ns.svc").as_deref(), Some("ns/gw"));
        assert_eq!(t("gw").as_deref(), Some("app/gw"));
        assert_eq!(
            t("kyma-system/kyma-gateway").as_deref(),
            Some("kyma-system/kyma-gateway")
        );
        assert_eq!(t("a.b.c.d.e.f"), None);
        assert_eq!(t("Bad/Name"), None);
    }

    #[test]
    fn paths_and_durations() {
        assert!(is_convertible_path("/headers"));
        assert!(is_convertible_path("/a/{**}"));
        assert!(is_convertible_path("/%2F"));
        assert!(!is_convertible_path("/a.*"));
        assert!(!is_convertible_path("/a/%2"));
        assert_eq!(duration_seconds("300s"), Some(300));
        assert_eq!(duration_seconds("1h30m"), Some(5400));
        assert_eq!(duration_seconds("1.5s"), Some(1));
        assert_eq!(duration_seconds("5"), None);
    }
}
