//! Evaluate the mesh as Envoy does, for one request through the ingress gateway (or from
//! inside the cluster):
//!
//! 1. The gateway picks the VirtualService of the Host and its **first** route whose method
//!    and URI match (Envoy route order); none → **404** at the gateway.
//! 2. On the workload's sidecar, the RequestAuthentications that select it validate a token
//!    if one is present: an invalid one is **401 on every path of the workload**, public ones
//!    included; a missing one passes on (Istio `security/v1beta1/request_authentication.proto`,
//!    lines 20–25).
//! 3. AuthorizationPolicies (`security/v1beta1/authorization_policy.proto`, lines 25–35):
//!    CUSTOM first (every matching CUSTOM policy's provider must allow), then DENY, then
//!    ALLOW: if the workload has ALLOW policies the request needs one matching rule (the
//!    policies are a union), else it is allowed.
//!
//! What a request needs is a property of its credentials, so the result is not a status but
//! a [`Verdict`]: 404, 403, or "allowed for these credentials" as minimal alternatives.
//! Hosts match case-insensitively and `*.` as a suffix (Istio `hosts`); a Host with a port
//! matches no policy host (api-gateway issue #2562), and kexpose's requests carry none.

use super::path::Template;
use super::{Action, AuthorizationPolicy, Mesh, Source, Translation, WorkloadRef};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// Who sends the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The ingress gateway (mTLS principal = the ingress principal).
    Gateway,
    /// Another workload in the mesh, or a plaintext caller: anything but the gateway.
    InCluster,
}

/// A claim condition: the claim holds one of the values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Claim {
    /// The condition key, e.g. `request.auth.claims[aud]`.
    pub key: String,
    /// Any of these.
    pub values: BTreeSet<String>,
}

/// Istio's default `spaceDelimitedClaims` (`security/v1beta1/request_authentication.proto`):
/// a string value of these claims is split at spaces; any other claim is compared whole.
pub const SPACE_DELIMITED_CLAIMS: [&str; 2] = ["scope", "permission"];

impl Claim {
    /// The claim's name: `aud` for `request.auth.claims[aud]`.
    pub fn name(&self) -> &str {
        self.key
            .strip_prefix("request.auth.claims[")
            .and_then(|k| k.strip_suffix(']'))
            .unwrap_or(&self.key)
    }

    /// The values Istio compares for this claim of a validated token: a list's strings, a
    /// string as one value (split at spaces for [`SPACE_DELIMITED_CLAIMS`]).
    pub fn token_values(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        claim_values(claims, self.name())
    }

    /// Does a validated token with these claims hold the condition (one of the values)?
    pub fn holds(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.token_values(claims)
            .iter()
            .any(|v| self.values.contains(v))
    }
}

/// The values Istio compares for `request.auth.claims[name]` of a validated token.
pub fn claim_values(
    claims: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Vec<String> {
    match claims.get(name) {
        Some(serde_json::Value::String(s)) if SPACE_DELIMITED_CLAIMS.contains(&name) => {
            s.split_whitespace().map(str::to_string).collect()
        }
        v => string_list(v),
    }
}

/// A claim as a list of strings: an array's strings, or a string as one element.
pub fn string_list(v: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Why a grant does not admit a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet<'g> {
    /// No validated token (none sent, or no RequestAuthentication validated it): no request
    /// principal and no `request.auth.claims`.
    NoToken,
    /// The token's issuer is not one of `requestPrincipals`.
    Issuer,
    /// This `when` condition does not hold.
    Claim(&'g Claim),
}

/// One way to pass the ALLOW policies: a token from one of `issuers` (none: no token
/// needed) carrying every claim condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Grant {
    /// Accepted token issuers; empty: no token needed.
    pub issuers: BTreeSet<String>,
    /// Claim conditions, all required.
    pub claims: BTreeSet<Claim>,
}

impl Grant {
    /// No credentials at all.
    pub fn is_public(&self) -> bool {
        self.issuers.is_empty() && self.claims.is_empty()
    }

    /// The conditions a token fails: `token` is the issuer and claims of a token the
    /// workload's RequestAuthentications validated, `None` when there is none. Empty: the
    /// grant admits it (the source's request principal and every `when` condition, ANDed as
    /// Istio matches one rule).
    pub fn unmet(
        &self,
        token: Option<(&str, &serde_json::Map<String, serde_json::Value>)>,
    ) -> Vec<Unmet<'_>> {
        if self.is_public() {
            return Vec::new();
        }
        let Some((iss, claims)) = token else {
            return vec![Unmet::NoToken];
        };
        let mut out = Vec::new();
        if !self.issuers.is_empty() && !self.issuers.contains(iss) {
            out.push(Unmet::Issuer);
        }
        out.extend(
            self.claims
                .iter()
                .filter(|c| !c.holds(claims))
                .map(Unmet::Claim),
        );
        out
    }

    /// Does every credential set that passes `self` also pass `other`?
    pub fn implies(&self, other: &Grant) -> bool {
        let issuers_ok = other.issuers.is_empty()
            || (!self.issuers.is_empty() && self.issuers.is_subset(&other.issuers));
        issuers_ok
            && other.claims.iter().all(|c| {
                self.claims
                    .iter()
                    .any(|d| d.key == c.key && d.values.is_subset(&c.values))
            })
    }
}

/// What happens to a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Verdict {
    /// No VirtualService route: 404 at the gateway.
    NotFound,
    /// No ALLOW rule can match: 403 `RBAC: access denied` from the sidecar.
    Forbidden,
    /// Allowed for the credentials of any grant, after every authorizer allowed.
    Allowed {
        /// CUSTOM providers asked first (all must allow).
        authorizers: BTreeSet<String>,
        /// Minimal alternatives (never empty).
        grants: BTreeSet<Grant>,
    },
}

impl Verdict {
    /// Passes with no credentials and no authorizer.
    pub fn is_public(&self) -> bool {
        matches!(self, Verdict::Allowed { authorizers, grants } if authorizers.is_empty() && grants.iter().any(Grant::is_public))
    }

    /// Does `self` admit some request (credentials, authorizer answers) that `before` refused?
    pub fn weakens(&self, before: &Verdict) -> bool {
        match (before, self) {
            (_, Verdict::NotFound | Verdict::Forbidden) => false,
            (Verdict::NotFound | Verdict::Forbidden, Verdict::Allowed { .. }) => true,
            (
                Verdict::Allowed {
                    authorizers: ba,
                    grants: bg,
                },
                Verdict::Allowed {
                    authorizers: aa,
                    grants: ag,
                },
            ) => !aa.is_superset(ba) || ag.iter().any(|g| !bg.iter().any(|b| g.implies(b))),
        }
    }

    /// One line: `404`, `403`, `public`, `jwt (issuer) [claims]`, `extAuth a + …`.
    pub fn summary(&self) -> String {
        match self {
            Verdict::NotFound => "404 (no route)".into(),
            Verdict::Forbidden => "403 (no ALLOW rule matches)".into(),
            Verdict::Allowed {
                authorizers,
                grants,
            } => {
                let mut parts = Vec::new();
                if !authorizers.is_empty() {
                    parts.push(format!(
                        "extAuth {}",
                        authorizers.iter().cloned().collect::<Vec<_>>().join("+")
                    ));
                }
                let g = grants_text(grants);
                if g != "public" || parts.is_empty() {
                    parts.push(g);
                }
                parts.join(" + ")
            }
        }
    }
}

/// Grants as text, the controller's three scope-key rules folded into one.
pub fn grants_text(grants: &BTreeSet<Grant>) -> String {
    let folded = fold_scope_keys(grants);
    if folded.iter().any(|(g, _)| g.is_public()) {
        return "public".into();
    }
    folded
        .iter()
        .map(|(g, scopes)| {
            let mut s = format!(
                "jwt ({})",
                g.issuers.iter().cloned().collect::<Vec<_>>().join(" | ")
            );
            if !scopes.is_empty() {
                s.push_str(&format!(
                    " scopes {} (in scp, scope or scopes)",
                    scopes.iter().cloned().collect::<Vec<_>>().join("+")
                ));
            }
            for c in &g.claims {
                let short = c
                    .key
                    .strip_prefix("request.auth.claims[")
                    .and_then(|k| k.strip_suffix(']'))
                    .unwrap_or(&c.key);
                s.push_str(&format!(
                    " {short}={}",
                    c.values.iter().cloned().collect::<Vec<_>>().join("|")
                ));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Group grants that differ only in which of `scp`/`scope`/`scopes` holds the same scopes
/// (the controller writes one ALLOW rule per key): (the rest, the scopes).
pub fn fold_scope_keys(grants: &BTreeSet<Grant>) -> Vec<(Grant, BTreeSet<String>)> {
    let split = |g: &Grant, k: &str| -> Option<(Grant, BTreeSet<String>)> {
        let mut rest = g.clone();
        let mut scopes = BTreeSet::new();
        for c in &g.claims {
            if c.key == k && c.values.len() == 1 {
                scopes.extend(c.values.iter().cloned());
                rest.claims.remove(c);
            }
        }
        (!scopes.is_empty()).then_some((rest, scopes))
    };
    let mut folded: Vec<(Grant, BTreeSet<String>)> = Vec::new();
    let mut used = BTreeSet::new();
    for g in grants {
        let Some((rest, scopes)) = split(g, super::SCOPE_KEYS[0]) else {
            continue;
        };
        let siblings: Vec<&Grant> = super::SCOPE_KEYS[1..]
            .iter()
            .filter_map(|k| {
                grants
                    .iter()
                    .find(|h| split(h, k).is_some_and(|(r, s)| r == rest && s == scopes))
            })
            .collect();
        if siblings.len() == 2 {
            used.extend(siblings.into_iter().cloned());
            used.insert(g.clone());
            folded.push((rest, scopes));
        }
    }
    let mut out: Vec<(Grant, BTreeSet<String>)> = grants
        .iter()
        .filter(|g| !used.contains(*g))
        .map(|g| (g.clone(), BTreeSet::new()))
        .collect();
    out.extend(folded);
    out
}

/// The full answer for one request.
#[derive(Debug, Clone)]
pub struct Evaluation<'m> {
    /// The APIRule translation whose VirtualService serves the host.
    pub translation: Option<&'m Translation>,
    /// The route taken (index into the VirtualService's routes).
    pub route: Option<usize>,
    /// The workload the route leads to.
    pub workload: Option<WorkloadRef>,
    /// Issuers whose tokens the workload's RequestAuthentications validate (an invalid token
    /// of any kind → 401, on every path).
    pub validated_issuers: BTreeSet<String>,
    /// CUSTOM policies that match, with their providers.
    pub custom: Vec<(&'m AuthorizationPolicy, String)>,
    /// ALLOW policies that match, each with the grants its matching rules give.
    pub allow: Vec<(&'m AuthorizationPolicy, BTreeSet<Grant>)>,
    /// Whether the workload has any ALLOW policy.
    pub has_allow_policies: bool,
    /// The verdict.
    pub verdict: Verdict,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern == host,
    }
}

impl Mesh {
    /// The translation whose VirtualService serves `host` (an exact host wins over `*.`).
    pub fn translation_for(&self, host: &str) -> Option<&Translation> {
        self.translations
            .iter()
            .find(|t| t.host.eq_ignore_ascii_case(host))
            .or_else(|| {
                self.translations
                    .iter()
                    .filter(|t| t.host.starts_with("*."))
                    .find(|t| host_matches(&t.host, host))
            })
    }

    /// Every policy selecting the workload, across all APIRules.
    pub fn policies_for<'m>(
        &'m self,
        w: &WorkloadRef,
    ) -> impl Iterator<Item = &'m AuthorizationPolicy> + 'm {
        let w = w.clone();
        self.translations
            .iter()
            .flat_map(|t| &t.policies)
            .filter(move |p| p.workload.same_pods(&w))
    }

    /// A request through the ingress gateway.
    pub fn evaluate(&self, host: &str, method: &str, path: &str) -> Evaluation<'_> {
        let mut e = Evaluation {
            translation: None,
            route: None,
            workload: None,
            validated_issuers: BTreeSet::new(),
            custom: Vec::new(),
            allow: Vec::new(),
            has_allow_policies: false,
            verdict: Verdict::NotFound,
        };
        let Some(t) = self.translation_for(host) else {
            return e;
        };
        e.translation = Some(t);
        let Some((i, route)) = t
            .virtual_service
            .http
            .iter()
            .enumerate()
            .find(|(_, r)| r.methods.iter().any(|m| m == method) && r.uri_matches(path))
        else {
            return e;
        };
        e.route = Some(i);
        let w = route.workload.clone();
        self.authorize(&mut e, &w, Caller::Gateway, host, method, path);
        e.workload = Some(w);
        e
    }

    /// A request from inside the cluster straight to the workload's Service (no
    /// VirtualService: the controller writes none for the `mesh` gateway).
    pub fn evaluate_in_cluster<'m>(
        &'m self,
        w: &WorkloadRef,
        method: &str,
        path: &str,
    ) -> Evaluation<'m> {
        let host = format!("{}.{}.svc.cluster.local", w.service, w.namespace);
        let mut e = Evaluation {
            translation: None,
            route: None,
            workload: Some(w.clone()),
            validated_issuers: BTreeSet::new(),
            custom: Vec::new(),
            allow: Vec::new(),
            has_allow_policies: false,
            verdict: Verdict::NotFound,
        };
        self.authorize(&mut e, w, Caller::InCluster, &host, method, path);
        e
    }

    fn authorize<'m>(
        &'m self,
        e: &mut Evaluation<'m>,
        w: &WorkloadRef,
        caller: Caller,
        host: &str,
        method: &str,
        path: &str,
    ) {
        e.validated_issuers = self
            .translations
            .iter()
            .flat_map(|t| &t.request_authentications)
            .filter(|ra| ra.workload.same_pods(w))
            .flat_map(|ra| ra.jwt_rules.iter().map(|j| j.issuer.clone()))
            .collect();
        let mut grants = BTreeSet::new();
        let mut forbidden_by_deny = false;
        for p in self.policies_for(w) {
            let matching: Vec<BTreeSet<Grant>> = p
                .rules
                .iter()
                .filter(|r| {
                    r.to.is_empty()
                        || r.to
                            .iter()
                            .any(|o| operation_matches(o, host, method, path))
                })
                .filter_map(|r| rule_grants(r, caller, &self.ingress_principal))
                .collect();
            match p.action {
                Action::Allow => {
                    e.has_allow_policies = true;
                    if !matching.is_empty() {
                        let g: BTreeSet<Grant> = matching.into_iter().flatten().collect();
                        grants.extend(g.iter().cloned());
                        e.allow.push((p, g));
                    }
                }
                Action::Custom => {
                    if !matching.is_empty() {
                        e.custom.push((p, p.provider.clone().unwrap_or_default()));
                    }
                }
                Action::Deny => {
                    // kexpose writes no DENY policy; a matching one denies whatever the
                    // credentials (a conservative reading of credential-dependent rules).
                    forbidden_by_deny |= !matching.is_empty();
                }
            }
        }
        if !e.has_allow_policies {
            grants.insert(Grant {
                issuers: BTreeSet::new(),
                claims: BTreeSet::new(),
            });
        }
        e.verdict = if forbidden_by_deny || grants.is_empty() {
            Verdict::Forbidden
        } else {
            Verdict::Allowed {
                authorizers: e.custom.iter().map(|(_, n)| n.clone()).collect(),
                grants: minimal(grants),
            }
        };
    }
}

/// Drop every grant that a weaker one already admits.
fn minimal(grants: BTreeSet<Grant>) -> BTreeSet<Grant> {
    grants
        .iter()
        .filter(|g| {
            !grants
                .iter()
                .any(|h| h != *g && g.implies(h) && !h.implies(g))
        })
        .cloned()
        .collect()
}

fn operation_matches(o: &super::Operation, host: &str, method: &str, path: &str) -> bool {
    (o.hosts.is_empty() || o.hosts.iter().any(|h| host_matches(h, host)))
        && (o.methods.is_empty() || o.methods.iter().any(|m| m == method))
        && (o.paths.is_empty() || o.paths.iter().any(|p| Template::parse(p).matches(path)))
        && !o.not_paths.iter().any(|p| Template::parse(p).matches(path))
}

/// The grants a rule gives a caller, `None` when its sources can never match that caller.
fn rule_grants(r: &super::PolicyRule, caller: Caller, ingress: &str) -> Option<BTreeSet<Grant>> {
    let claims: BTreeSet<Claim> = r
        .when
        .iter()
        .map(|c| Claim {
            key: c.key.clone(),
            values: c.values.iter().cloned().collect(),
        })
        .collect();
    if r.from.is_empty() {
        return Some(BTreeSet::from([Grant {
            issuers: BTreeSet::new(),
            claims,
        }]));
    }
    let out: BTreeSet<Grant> = r
        .from
        .iter()
        .filter(|s| source_admits(s, caller, ingress))
        .map(|s| Grant {
            issuers: s
                .request_principals
                .iter()
                .map(|p| p.strip_suffix("/*").unwrap_or(p).to_string())
                .collect(),
            claims: claims.clone(),
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

fn source_admits(s: &Source, caller: Caller, ingress: &str) -> bool {
    let is_ingress = caller == Caller::Gateway;
    let principal_ok =
        s.principals.is_empty() || (is_ingress && s.principals.iter().any(|p| p == ingress));
    let not_ok = !(is_ingress && s.not_principals.iter().any(|p| p == ingress));
    principal_ok && not_ok
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{orders_apirule, orders_settings};
    use super::*;

    fn orders() -> Mesh {
        let mut s = orders_settings();
        s.escape_literals = false;
        super::super::translate(&[("APIRule", orders_apirule())], &s)
    }

    #[test]
    fn worked_example_behaviour() {
        // Reference §3.3, row by row.
        let m = orders();
        let v = |method: &str, path: &str| m.evaluate("orders.example.com", method, path).verdict;
        assert!(v("GET", "/healthz").is_public());
        let e = m.evaluate("orders.example.com", "GET", "/healthz");
        assert!(
            e.validated_issuers.contains("https://idp.example.com"),
            "401 on an invalid token, public path too"
        );
        // GET /api/orders/42: rule 1, CUSTOM skipped by notPaths, jwt with scopes + aud.
        let e = m.evaluate("orders.example.com", "GET", "/api/orders/42");
        assert_eq!(e.route, Some(1));
        assert!(e.custom.is_empty());
        let Verdict::Allowed {
            authorizers,
            grants,
        } = &e.verdict
        else {
            panic!()
        };
        assert!(authorizers.is_empty());
        assert_eq!(grants.len(), 3);
        assert_eq!(
            grants_text(grants),
            "jwt (https://idp.example.com) scopes orders.read (in scp, scope or scopes) aud=orders-api"
        );
        // POST /api/orders/42: routed to rule 2, excluded from both of its policies → 403.
        let e = m.evaluate("orders.example.com", "POST", "/api/orders/42");
        assert_eq!((e.route, &e.verdict), (Some(2), &Verdict::Forbidden));
        // GET /api/items: CUSTOM then ALLOW with restrictions.
        let Verdict::Allowed {
            authorizers,
            grants,
        } = v("GET", "/api/items")
        else {
            panic!()
        };
        assert_eq!(authorizers.iter().collect::<Vec<_>>(), ["oauth2-proxy"]);
        assert_eq!(
            grants_text(&grants),
            "jwt (https://idp.example.com) aud=orders-api"
        );
        assert_eq!(v("DELETE", "/api/items"), Verdict::NotFound);
        assert_eq!(v("OPTIONS", "/api/items"), Verdict::NotFound);
        assert_eq!(
            m.evaluate("other.example.com", "GET", "/healthz").verdict,
            Verdict::NotFound
        );
        // In-cluster callers: every ALLOW needs the ingress principal → 403.
        let w = e
            .workload
            .clone()
            .unwrap_or_else(|| m.translations[0].virtual_service.http[0].workload.clone());
        assert_eq!(
            m.evaluate_in_cluster(&w, "GET", "/healthz").verdict,
            Verdict::Forbidden
        );
    }

    #[test]
    fn in_cluster_policy_opens_every_path_without_token_or_authorizer() {
        let mut s = orders_settings();
        s.allow_in_cluster.push("shop/orders".into());
        let m = super::super::translate(&[("APIRule", orders_apirule())], &s);
        let w = m.translations[0].virtual_service.http[0].workload.clone();
        for (method, path) in [
            ("GET", "/api/items"),
            ("DELETE", "/anything"),
            ("GET", "/api/orders/1"),
        ] {
            assert!(
                m.evaluate_in_cluster(&w, method, path).verdict.is_public(),
                "{method} {path}"
            );
        }
        // Through the gateway nothing changes.
        assert!(
            !m.evaluate("orders.example.com", "GET", "/api/orders/1")
                .verdict
                .is_public()
        );
    }

    #[test]
    fn docs_rule_order_example_denies_get_under_the_first_path() {
        // api-gateway docs/user/expose-workloads/significance-of-rule-path-and-method-order.md
        let apirule = json_rule_order();
        let m = super::super::translate(&[("APIRule", apirule)], &Default::default());
        let e = m.evaluate("httpbin.example.com", "GET", "/anything/more/one");
        assert_eq!((e.route, &e.verdict), (Some(1), &Verdict::Forbidden));
        assert!(
            m.evaluate("httpbin.example.com", "GET", "/anything/more/two")
                .verdict
                .is_public()
        );
        assert!(
            !m.evaluate("httpbin.example.com", "POST", "/anything/more/one")
                .verdict
                .is_public()
        );
    }

    pub(crate) fn json_rule_order() -> serde_json::Value {
        serde_json::json!({
            "metadata": { "name": "httpbin", "namespace": "test" },
            "spec": { "gateway": "kyma-system/kyma-gateway", "hosts": ["httpbin.example.com"],
              "service": { "name": "httpbin", "port": 8000 },
              "rules": [
                { "path": "/anything/{*}/one", "methods": ["POST"],
                  "jwt": { "authentications": [{ "issuer": "https://idp.example.com", "jwksUri": "https://idp.example.com/jwks" }] } },
                { "path": "/anything/{**}", "methods": ["POST", "GET"], "noAuth": true }
              ] }
        })
    }

    #[test]
    fn every_listed_audience_is_required_in_explain_review_and_doctor() {
        // creator.go:249 writes one `when` condition per audience; Istio ANDs conditions
        // (values within one condition are ORed).
        let rule = |auds: &[&str]| {
            let apirule = serde_json::json!({
                "metadata": { "name": "a", "namespace": "n" },
                "spec": { "gateway": "g/g", "hosts": ["a.example.com"],
                  "service": { "name": "a", "port": 80 },
                  "rules": [{ "path": "/{**}", "methods": ["GET"],
                    "jwt": { "authentications": [{ "issuer": "https://i", "jwksUri": "https://i/k" }],
                             "authorizations": [{ "audiences": auds }] } }] }
            });
            let m = super::super::translate(&[("APIRule", apirule)], &Default::default());
            m.evaluate("a.example.com", "GET", "/x").verdict
        };
        let both = rule(&["x", "y"]);
        let one = rule(&["x"]);
        // explain prints two conditions.
        assert_eq!(both.summary(), "jwt (https://i) aud=x aud=y");
        // The access review: dropping an audience weakens, adding one does not.
        assert!(one.weakens(&both) && !both.weakens(&one));
        // doctor: a token with aud [x] misses y.
        let Verdict::Allowed { grants, .. } = &both else {
            panic!("{both:?}")
        };
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({ "aud": ["x"] })).unwrap();
        let g = grants.iter().next().unwrap();
        let unmet = g.unmet(Some(("https://i", &claims)));
        assert_eq!(unmet.len(), 1, "{unmet:?}");
        assert!(matches!(unmet[0], Unmet::Claim(c) if c.values.contains("y")));
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({ "aud": ["y", "x"] })).unwrap();
        assert!(g.unmet(Some(("https://i", &claims))).is_empty());
        assert_eq!(g.unmet(None), vec![Unmet::NoToken]);
    }

    #[test]
    fn weakening_is_credential_inclusion() {
        let g = |iss: &[&str], claims: &[(&str, &str)]| Grant {
            issuers: iss.iter().map(|s| s.to_string()).collect(),
            claims: claims
                .iter()
                .map(|(k, v)| Claim {
                    key: k.to_string(),
                    values: BTreeSet::from([v.to_string()]),
                })
                .collect(),
        };
        let allowed = |a: &[&str], gs: Vec<Grant>| Verdict::Allowed {
            authorizers: a.iter().map(|s| s.to_string()).collect(),
            grants: gs.into_iter().collect(),
        };
        let public = allowed(&[], vec![g(&[], &[])]);
        let jwt = allowed(&[], vec![g(&["i"], &[])]);
        let jwt_aud = allowed(&[], vec![g(&["i"], &[("aud", "a")])]);
        let ext = allowed(&["p"], vec![g(&[], &[])]);
        assert!(public.weakens(&jwt) && !jwt.weakens(&public));
        assert!(jwt.weakens(&jwt_aud) && !jwt_aud.weakens(&jwt));
        assert!(public.weakens(&ext) && !ext.weakens(&public));
        assert!(jwt.weakens(&Verdict::NotFound) && !Verdict::Forbidden.weakens(&jwt));
        assert!(allowed(&[], vec![g(&["i", "j"], &[])]).weakens(&jwt));
    }
}
