//! Judge a real token the way each verifier does: oauth2-proxy 7.15.3 (go-oidc v3.18.0) for
//! authorizers, Istio/Envoy for the APIRule rules (RequestAuthentication + AuthorizationPolicy
//! as the api-gateway controller generates them).
//!
//! The rules are judged on the model `explain` answers from ([`crate::mesh`]): the same
//! `Mesh::evaluate` of the same request, applied to the token's claims ([`request`]).

use super::jwt::{Keys, Token, VERIFIABLE_ALGS, string_list};
pub use crate::diff::access::AuthorizerInfo;
use crate::mesh::eval::{Evaluation, Grant, Unmet, Verdict, claim_values, fold_scope_keys};
use crate::mesh::{Mesh, WorkloadRef};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

/// What doctor judges a token against: the mesh `explain` answers from (the rendered
/// APIRules translated as the api-gateway controller does, [`crate::mesh`]) and the
/// authorizers as deployed.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The Istio objects of the rendered APIRules.
    pub mesh: Mesh,
    /// Authorizers by name (Istio CR entry, oauth2-proxy flags).
    pub authorizers: BTreeMap<String, AuthorizerInfo>,
    /// oauth2-proxy authorizers registered without a path prefix.
    pub open_authorizers: BTreeSet<String>,
}

impl Model {
    /// Read the model from rendered objects, as `explain` reads them.
    pub fn from_objects(objects: &[crate::diff::Object]) -> Model {
        let access = crate::diff::access::Model::from_objects(objects);
        Model {
            mesh: crate::diff::explain::mesh_of(objects),
            open_authorizers: crate::diff::explain::open_authorizers(&access),
            authorizers: access.authorizers,
        }
    }

    /// Every issuer some RequestAuthentication validates.
    pub fn issuers(&self) -> BTreeSet<&str> {
        self.mesh
            .translations
            .iter()
            .flat_map(|t| &t.request_authentications)
            .flat_map(|ra| &ra.jwt_rules)
            .map(|j| j.issuer.as_str())
            .collect()
    }

    /// Every `jwksUri` of the RequestAuthentications.
    pub fn jwks_uris(&self) -> BTreeSet<&str> {
        self.mesh
            .translations
            .iter()
            .flat_map(|t| &t.request_authentications)
            .flat_map(|ra| &ra.jwt_rules)
            .map(|j| j.jwks_uri.as_str())
            .collect()
    }

    /// The RequestAuthentication of the workload that validates `iss`, with its `jwksUri`.
    fn request_authentication(&self, w: &WorkloadRef, iss: &str) -> Option<(&str, &str)> {
        self.mesh
            .translations
            .iter()
            .flat_map(|t| &t.request_authentications)
            .filter(|ra| ra.workload.same_pods(w))
            .find_map(|ra| {
                ra.jwt_rules
                    .iter()
                    .find(|j| j.issuer == iss)
                    .map(|j| (ra.name.as_str(), j.jwks_uri.as_str()))
            })
    }
}

/// The model `explain` uses, from the rendered outputs.
pub fn model(outputs: &crate::render::Outputs) -> Result<Model, String> {
    Ok(Model::from_objects(&crate::diff::objects_from_outputs(
        outputs,
    )?))
}

/// What a verifier decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Passes (for an authorizer: the check answers 200).
    Allowed,
    /// Refused with this status.
    Denied(u16),
    /// kexpose cannot tell (an external authorizer).
    Unknown,
}

/// oauth2-proxy flags with the defaults of 7.15.3 where kexpose relies on one.
pub struct ProxyFlags<'a>(pub &'a IndexMap<String, String>);

impl ProxyFlags<'_> {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    fn is_true(&self, k: &str) -> bool {
        self.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
    fn list(&self, k: &str) -> Vec<String> {
        self.get(k)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
    /// `--oidc-issuer-url`.
    pub fn issuer(&self) -> Option<&str> {
        self.get("oidc-issuer-url")
    }
    /// Discovery is performed (`--skip-oidc-discovery` is not true).
    pub fn discovers(&self) -> bool {
        !self.is_true("skip-oidc-discovery")
    }
    /// `--insecure-oidc-skip-issuer-verification`.
    pub fn skips_issuer_check(&self) -> bool {
        self.is_true("insecure-oidc-skip-issuer-verification")
    }
    /// `--oidc-enabled-signing-alg` (empty: the discovered ones).
    pub fn enabled_algs(&self) -> Vec<String> {
        self.list("oidc-enabled-signing-alg")
    }
}

/// The signing algorithms oauth2-proxy's verifier accepts: `intersectSigningAlgs` of
/// `pkg/providers/oidc/provider_verifier.go` (7.15.3), then go-oidc's RS256 default when
/// both are empty (`verify.go`, v3.18.0). `Err` is oauth2-proxy's start-up error.
pub fn proxy_algs(discovered: &[String], configured: &[String]) -> Result<Vec<String>, String> {
    let algs: Vec<String> = if configured.is_empty() {
        discovered.to_vec()
    } else if discovered.is_empty() {
        configured.to_vec()
    } else {
        let d: BTreeSet<&String> = discovered.iter().collect();
        let i: Vec<String> = configured
            .iter()
            .filter(|a| d.contains(a))
            .cloned()
            .collect();
        if i.is_empty() {
            return Err(format!(
                "no supported signing algorithms in common between provider and configuration: discovered={}, configured={}",
                go_slice(discovered),
                go_slice(configured)
            ));
        }
        i
    };
    Ok(if algs.is_empty() {
        vec!["RS256".into()]
    } else {
        algs
    })
}

/// Everything oauth2-proxy needs to judge a bearer token.
pub struct ProxyContext<'a> {
    /// Its flags.
    pub flags: ProxyFlags<'a>,
    /// The client ID it verifies `aud` against.
    pub client_id: Option<&'a str>,
    /// The keys of the discovered (or configured) `jwks_uri`.
    pub keys: Option<&'a Keys>,
    /// Discovered `id_token_signing_alg_values_supported`.
    pub discovered_algs: &'a [String],
}

/// oauth2-proxy 7.15.3 with `--skip-jwt-bearer-tokens`: `jwtSessionLoader` →
/// `OIDCProvider.CreateSessionFromToken` → `idTokenVerifier.Verify` (go-oidc `Verify`, then
/// `verifyAudience`). The reason is the error oauth2-proxy logs.
pub fn oauth2_proxy(token: &Token, p: &ProxyContext<'_>, now: i64) -> (Decision, String) {
    const DENIED: Decision = Decision::Denied(401);
    if !p.flags.is_true("skip-jwt-bearer-tokens") {
        return (
            DENIED,
            "`skip-jwt-bearer-tokens` is not \"true\": oauth2-proxy ignores bearer tokens and answers 401".into(),
        );
    }
    let issuer = p.flags.issuer().unwrap_or("");
    let iss = token.string("iss").unwrap_or("");
    // `--extra-jwt-issuers issuer=audience`: another verifier, built from that issuer's own
    // discovery (`pkg/validation/options.go`), that kexpose does not reproduce.
    if iss != issuer
        && p.flags
            .list("extra-jwt-issuers")
            .iter()
            .any(|e| e.split('=').next() == Some(iss))
    {
        return (
            Decision::Unknown,
            format!(
                "the token's issuer {} is one of `extra-jwt-issuers`: its own verifier decides (not checked by kexpose)",
                go_quote(iss)
            ),
        );
    }
    let algs = match proxy_algs(p.discovered_algs, &p.flags.enabled_algs()) {
        Ok(a) => a,
        Err(e) => return (DENIED, format!("oauth2-proxy does not start: {e}")),
    };
    let fail = |m: String| (DENIED, format!("failed to verify token: {m}"));
    if !algs.contains(&token.alg) {
        return fail(format!(
            "oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm {}; expected {}",
            go_quote(&token.alg),
            go_quoted_slice(&algs)
        ));
    }
    match p.keys {
        Some(keys) => {
            if let Err(e) = token.verify(keys) {
                return fail(format!("failed to verify signature: {e}"));
            }
        }
        None => return fail("failed to verify signature: the JWKS could not be fetched".into()),
    }
    if !p.flags.skips_issuer_check() && iss != issuer {
        return fail(format!(
            "oidc: id token issued by a different provider, expected {} got {}",
            go_quote(issuer),
            go_quote(iss)
        ));
    }
    // A missing `exp` is the zero time, which is before now.
    let exp = token.time("exp");
    if exp.is_none_or(|e| e < now) {
        return fail(format!(
            "oidc: token is expired (Token Expiry: {})",
            exp.map_or_else(|| "0001-01-01 00:00:00 +0000 UTC".into(), go_time)
        ));
    }
    if let Some(nbf) = token.time("nbf")
        && now + 300 < nbf
    {
        return fail(format!(
            "oidc: current time {} before the nbf (not before) time: {}",
            go_time(now),
            go_time(nbf)
        ));
    }
    // verifyAudience: the first audience claim present decides.
    let mut claims = p.flags.list("oidc-audience-claim");
    if claims.is_empty() {
        claims.push("aud".into());
    }
    let mut allowed: BTreeSet<String> = p.flags.list("oidc-extra-audience").into_iter().collect();
    allowed.insert(p.client_id.unwrap_or("").to_string());
    for claim in &claims {
        if let Some(v) = token.claims.get(claim) {
            let values = string_list(Some(v));
            if values.iter().any(|a| allowed.contains(a)) {
                return (
                    Decision::Allowed,
                    format!(
                        "signature, iss and exp valid; {claim} {} has an allowed audience",
                        go_slice(&values)
                    ),
                );
            }
            return (
                DENIED,
                format!(
                    "audience from claim {claim} with value {} does not match with any of allowed audiences map[{}]",
                    go_slice(&values),
                    allowed
                        .iter()
                        .map(|a| format!("{a}:{{}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            );
        }
    }
    (
        DENIED,
        format!(
            "audience claims {} do not exist in the token's claims",
            go_slice(&claims)
        ),
    )
}

/// The claim keys the api-gateway controller checks scopes in, one AuthorizationPolicy rule
/// each (`defaultScopeKeys`, `authorizationpolicy/creator.go`), as claim names.
pub const SCOPE_KEYS: [&str; 3] = ["scp", "scope", "scopes"];

/// Envoy `jwt_authn` as Istio configures it from the workload's RequestAuthentications:
/// issuer among their issuers, signature against that issuer's `jwksUri`, `exp`/`nbf` with
/// Envoy's default clock skew of 60 s. Failures are 401 on every path of the workload,
/// before any authorization. A token of an issuer no jwtRule names is 401 too, not treated
/// as missing: Istio's `requires_any` with `allow_missing` keeps `JwtUnknownIssuer` since
/// envoyproxy/envoy#15194 (Envoy 1.17.1, istio/envoy#303).
fn authenticate(
    token: &Token,
    model: &Model,
    e: &Evaluation<'_>,
    keys: &dyn Fn(&str) -> Option<Result<Keys, String>>,
    now: i64,
) -> Result<(), String> {
    let iss = token.string("iss").unwrap_or("");
    let ra = e
        .workload
        .as_ref()
        .and_then(|w| model.request_authentication(w, iss));
    let Some((ra, jwks)) = ra else {
        return Err(format!(
            "Jwt issuer is not configured: the token's iss {} is none of the workload's RequestAuthentication issuers {}",
            go_quote(iss),
            go_slice(&e.validated_issuers.iter().cloned().collect::<Vec<_>>())
        ));
    };
    match keys(jwks) {
        Some(Ok(k)) => {
            if let Err(e) = token.verify(&k) {
                return Err(format!(
                    "Jwt verification fails (RequestAuthentication {ra}): {e}"
                ));
            }
        }
        Some(Err(e)) => {
            return Err(format!(
                "Jwks remote fetch is failed (RequestAuthentication {ra}, jwksUri {jwks}): {e}"
            ));
        }
        None => {
            return Err(format!(
                "Jwt verification fails: RequestAuthentication {ra} has no usable jwksUri"
            ));
        }
    }
    if let Some(exp) = token.time("exp")
        && now > exp + 60
    {
        return Err(format!(
            "Jwt is expired (exp {} UTC; RequestAuthentication {ra})",
            go_time_short(exp)
        ));
    }
    if let Some(nbf) = token.time("nbf")
        && nbf > now + 60
    {
        return Err(format!(
            "Jwt not yet valid (nbf {}; RequestAuthentication {ra})",
            go_time_short(nbf)
        ));
    }
    Ok(())
}

/// Why one grant (an ALLOW rule, the three scope-key rules of one authorization folded into
/// one) does not admit the token; `Ok` says what held.
fn grant(
    token: &Token,
    validated: bool,
    g: &Grant,
    scopes: &BTreeSet<String>,
) -> Result<String, String> {
    let iss = token.string("iss").unwrap_or("");
    let claims = &token.claims;
    let mut why = Vec::new();
    for u in g.unmet(validated.then_some((iss, claims))) {
        why.push(match u {
            Unmet::NoToken => "no validated token: the workload has no RequestAuthentication for its issuer, so the request has no request principal".to_string(),
            Unmet::Issuer => format!(
                "the token's iss {} is not among the requestPrincipals {}",
                go_quote(iss),
                go_slice(&g.issuers.iter().map(|i| format!("{i}/*")).collect::<Vec<_>>())
            ),
            Unmet::Claim(c) if c.name() == "aud" => format!(
                "audience {} not in aud {}",
                c.values.iter().cloned().collect::<Vec<_>>().join(" | "),
                go_slice(&c.token_values(claims))
            ),
            Unmet::Claim(c) => format!(
                "claim {} needs one of {} (token has {})",
                c.name(),
                go_slice(&c.values.iter().cloned().collect::<Vec<_>>()),
                go_slice(&c.token_values(claims))
            ),
        });
    }
    let scope_key = SCOPE_KEYS.iter().find(|k| {
        let have = claim_values(claims, k);
        scopes.iter().all(|s| have.contains(s))
    });
    if !scopes.is_empty() && (scope_key.is_none() || !validated) {
        let have: Vec<String> = SCOPE_KEYS
            .iter()
            .filter(|k| claims.contains_key(**k))
            .map(|k| format!("{k}={}", go_slice(&claim_values(claims, k))))
            .collect();
        if validated {
            why.push(format!(
                "scopes {} not all in one of scp, scope, scopes (token has {})",
                scopes.iter().cloned().collect::<Vec<_>>().join(" + "),
                if have.is_empty() {
                    "none of these claims".to_string()
                } else {
                    have.join(", ")
                }
            ));
        }
    }
    if !why.is_empty() {
        return Err(why.join(" and "));
    }
    let mut held = Vec::new();
    if !g.issuers.is_empty() {
        held.push(format!("iss {}", go_quote(iss)));
    }
    if let (false, Some(k)) = (scopes.is_empty(), scope_key) {
        held.push(format!(
            "{k} has {}",
            scopes.iter().cloned().collect::<Vec<_>>().join(" + ")
        ));
    }
    for c in &g.claims {
        held.push(format!(
            "{} has {}",
            c.name(),
            c.values.iter().cloned().collect::<Vec<_>>().join(" | ")
        ));
    }
    Ok(if g.is_public() {
        "no token needed".into()
    } else if held.is_empty() {
        "no conditions".into()
    } else {
        held.join(", ")
    })
}

/// RBAC: the ALLOW policies (a union) on the token's claims; `validated`: a
/// RequestAuthentication validated the token (else it has no request principal).
fn rbac(
    token: &Token,
    validated: bool,
    model: &Model,
    e: &Evaluation<'_>,
    route: usize,
    path: &str,
) -> Result<String, String> {
    match &e.verdict {
        Verdict::NotFound => Err("404 at the gateway".into()),
        Verdict::Forbidden => Err(format!(
            "RBAC: access denied: {}",
            crate::mesh::explain::forbidden_why(&model.mesh, e, route, path)
        )),
        Verdict::Allowed { .. } if !e.has_allow_policies => {
            Ok("the workload has no ALLOW policy".into())
        }
        Verdict::Allowed { .. } => {
            let mut why = Vec::new();
            for (p, grants) in &e.allow {
                for (g, scopes) in fold_scope_keys(grants) {
                    match grant(token, validated, &g, &scopes) {
                        Ok(m) => return Ok(format!("AuthorizationPolicy {} allows: {m}", p.name)),
                        Err(m) => why.push(format!("AuthorizationPolicy {}: {m}", p.name)),
                    }
                }
            }
            Err(format!("RBAC: access denied: {}", why.join("; ")))
        }
    }
}

/// The token on one request, as the workload's sidecar judges it, filter by filter
/// (`jwt_authn`, then `ext_authz` for CUSTOM policies, then RBAC for ALLOW policies): the
/// same [`Evaluation`] `explain` prints, applied to the token's claims. `keys` gives the key
/// set of a `jwksUri`, `proxy` an authorizer's decision by name.
pub fn request(
    token: &Token,
    model: &Model,
    e: &Evaluation<'_>,
    path: &str,
    keys: &dyn Fn(&str) -> Option<Result<Keys, String>>,
    proxy: &dyn Fn(&str) -> Option<(Decision, String)>,
    now: i64,
) -> (Decision, String) {
    let Some(route) = e.route else {
        return (
            Decision::Denied(404),
            "404 at the gateway: no VirtualService route matches".into(),
        );
    };
    // jwt_authn: only when a RequestAuthentication selects the workload.
    let validated = !e.validated_issuers.is_empty();
    if validated && let Err(m) = authenticate(token, model, e, keys, now) {
        return (Decision::Denied(401), m);
    }
    // ext_authz: every matching CUSTOM policy's provider must allow.
    let mut unknown = Vec::new();
    let mut asked = Vec::new();
    for (p, provider) in &e.custom {
        match proxy(provider) {
            Some((Decision::Allowed, _)) => asked.push(provider.as_str()),
            Some((Decision::Denied(s), m)) => {
                return (
                    Decision::Denied(s),
                    format!("authorizer {provider} (CUSTOM policy {}): {m}", p.name),
                );
            }
            _ => unknown.push(provider.as_str()),
        }
    }
    // RBAC: the ALLOW policies (a union).
    let allowed = rbac(token, validated, model, e, route, path);
    match allowed {
        Err(m) => (Decision::Denied(403), m),
        Ok(m) => {
            let mut parts = Vec::new();
            if validated {
                parts.push("jwt: signature, iss and exp valid".to_string());
            }
            if !asked.is_empty() {
                parts.push(format!("authorizer {} allows", asked.join(", ")));
            }
            parts.push(m);
            if unknown.is_empty() {
                (Decision::Allowed, parts.join("; "))
            } else {
                (
                    Decision::Unknown,
                    format!(
                        "external authorizer {} decides (kexpose cannot ask it); {}",
                        unknown.join(", "),
                        parts.join("; ")
                    ),
                )
            }
        }
    }
}

/// Is this algorithm one every verifier handles with a JWKS?
pub fn verifiable(alg: &str) -> bool {
    VERIFIABLE_ALGS.contains(&alg)
}

/// Go's `%q` of a string (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a `[]string`: `[a b]`.
pub fn go_slice(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
fn go_quoted_slice(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| go_quote(s)).collect::<Vec<_>>().join(" ")
    )
}

/// Go's `%v` of a `time.Time` in UTC: `2026-12-02 01:00:00 +0000 UTC`.
pub fn go_time(secs: i64) -> String {
    format!("{} +0000 UTC", go_time_short(secs))
}

/// `2026-12-02 01:00:00`.
pub fn go_time_short(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// A token with these claims (unsigned: only claim logic is tested here; signatures are
    /// tested end to end in tests/doctor.rs).
    fn token(claims: serde_json::Value) -> Token {
        let b = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let raw = format!(
            "{}.{}.c2ln",
            b(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            b(&claims)
        );
        Token::parse(&raw).unwrap()
    }

    /// RBAC on `GET /api/x` of one jwt rule with these `authorizations`.
    fn allow(t: &Token, authorizations: serde_json::Value) -> Result<String, String> {
        let apirule = serde_json::json!({
            "metadata": { "name": "orders", "namespace": "shop" },
            "spec": { "gateway": "kyma-system/kyma-gateway", "hosts": ["orders.example.com"],
              "service": { "name": "orders", "port": 8080 },
              "rules": [{ "path": "/api/{**}", "methods": ["GET"],
                "jwt": { "authentications": [{ "issuer": "https://idp", "jwksUri": "https://idp/jwks" }],
                         "authorizations": authorizations } }] }
        });
        let model = Model {
            mesh: crate::mesh::translate(&[("APIRule", apirule)], &Default::default()),
            ..Model::default()
        };
        let e = model.mesh.evaluate("orders.example.com", "GET", "/api/x");
        rbac(t, true, &model, &e, 0, "/api/x")
    }

    fn authz(scopes: &[&str], auds: &[&str]) -> serde_json::Value {
        serde_json::json!({ "requiredScopes": scopes, "audiences": auds })
    }

    #[test]
    fn scopes_as_istio_matches_them() {
        let one = |s: &[&str]| serde_json::json!([authz(s, &[])]);
        // `scope` is space-delimited by default; `scp` as a string is compared whole.
        let t = token(serde_json::json!({"iss": "https://idp", "scope": "a b"}));
        assert!(allow(&t, one(&["a", "b"])).is_ok());
        let t = token(serde_json::json!({"iss": "https://idp", "scp": "a b"}));
        assert!(allow(&t, one(&["a"])).is_err());
        assert!(allow(&t, one(&["a b"])).is_ok());
        let t = token(serde_json::json!({"iss": "https://idp", "scp": ["a", "b"]}));
        assert!(allow(&t, one(&["a", "b"])).is_ok());
        // All scopes in one claim: the controller writes one policy rule per claim key.
        let t = token(serde_json::json!({"iss": "https://idp", "scp": ["a"], "scopes": ["b"]}));
        let why = allow(&t, one(&["a", "b"])).unwrap_err();
        assert_eq!(
            why,
            "RBAC: access denied: AuthorizationPolicy orders-r0-allow-0: scopes a + b not all in one of scp, scope, scopes (token has scp=[a], scopes=[b])"
        );
        // The right scope from another issuer: the request principal does not match.
        let t = token(serde_json::json!({"iss": "https://other", "scp": ["a"]}));
        let why = allow(&t, one(&["a"])).unwrap_err();
        assert!(
            why.contains("the token's iss \"https://other\" is not among the requestPrincipals [https://idp/*]"),
            "{why}"
        );
    }

    #[test]
    fn every_listed_audience_is_required() {
        // One `when` condition per audience, ANDed (authorizationpolicy/creator.go:249).
        let t = token(serde_json::json!({"iss": "https://idp", "aud": ["x"]}));
        assert!(allow(&t, serde_json::json!([authz(&[], &["x"])])).is_ok());
        let why = allow(&t, serde_json::json!([authz(&[], &["x", "y"])])).unwrap_err();
        assert_eq!(
            why,
            "RBAC: access denied: AuthorizationPolicy orders-r0-allow-0: audience y not in aud [x]"
        );
        let t = token(serde_json::json!({"iss": "https://idp", "aud": "x"}));
        assert!(allow(&t, serde_json::json!([authz(&[], &["x"])])).is_ok());
        // Authorizations are ORed (one ALLOW policy each).
        let ok = allow(
            &t,
            serde_json::json!([authz(&[], &["y"]), authz(&[], &["x"])]),
        )
        .unwrap();
        assert_eq!(
            ok,
            "AuthorizationPolicy orders-r0-allow-1 allows: iss \"https://idp\", aud has x"
        );
        assert!(allow(&t, serde_json::json!([authz(&["s"], &[])])).is_err());
    }

    #[test]
    fn oauth2_proxy_checks_in_its_order() {
        let flags: IndexMap<String, String> = [
            ("skip-jwt-bearer-tokens", "true"),
            ("oidc-issuer-url", "https://idp"),
            ("oidc-extra-audience", "extra"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ctx = ProxyContext {
            flags: ProxyFlags(&flags),
            client_id: Some("client"),
            keys: None,
            discovered_algs: &[],
        };
        // Without keys the signature step fails first, in oauth2-proxy's order.
        let t = token(serde_json::json!({"iss": "https://idp", "aud": "extra", "exp": 10}));
        let (d, why) = oauth2_proxy(&t, &ctx, 5);
        assert_eq!(d, Decision::Denied(401));
        assert!(
            why.starts_with("failed to verify token: failed to verify signature"),
            "{why}"
        );
        // Bearer tokens not accepted at all.
        let none = IndexMap::new();
        let ctx = ProxyContext {
            flags: ProxyFlags(&none),
            ..ctx
        };
        assert!(
            oauth2_proxy(&t, &ctx, 5)
                .1
                .contains("skip-jwt-bearer-tokens")
        );
    }

    #[test]
    fn go_formats() {
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_time(1_796_173_200), "2026-12-02 01:00:00 +0000 UTC");
        assert_eq!(go_time(951_782_400), "2000-02-29 00:00:00 +0000 UTC");
        assert_eq!(go_quote("https://a/\"x\"\n"), "\"https://a/\\\"x\\\"\\n\"");
        assert_eq!(go_slice(&["a".into(), "b".into()]), "[a b]");
    }

    #[test]
    fn signing_algorithms_as_oauth2_proxy_intersects_them() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(proxy_algs(&[], &[]).unwrap(), s(&["RS256"]));
        assert_eq!(proxy_algs(&s(&["ES256"]), &[]).unwrap(), s(&["ES256"]));
        assert_eq!(
            proxy_algs(&s(&["RS256", "ES256"]), &s(&["ES256"])).unwrap(),
            s(&["ES256"])
        );
        assert_eq!(
            proxy_algs(&s(&["RS256"]), &s(&["ES256"])).unwrap_err(),
            "no supported signing algorithms in common between provider and configuration: discovered=[RS256], configured=[ES256]"
        );
    }
}
