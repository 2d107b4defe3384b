//! Judge a real token the way each verifier does: oauth2-proxy 7.15.3 (go-oidc v3.18.0) for
//! authorizers, Istio/Envoy for the APIRule rules (RequestAuthentication + AuthorizationPolicy
//! as the api-gateway controller generates them).
//!
//! The access model is read through [`model`] only, so that a richer Istio/Envoy model can
//! replace `diff::access` in one place.

use super::jwt::{Keys, Token, VERIFIABLE_ALGS, string_list};
use super::rules::{Access, Alternative, Model};
use indexmap::IndexMap;
use std::collections::BTreeSet;

/// The access model `explain` uses, from the rendered objects. The one seam to switch models.
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

/// Istio's default space-delimited claims (`request_authentication.proto`,
/// `spaceDelimitedClaims`): `scope` and `permission`; `scp` and `scopes` are matched whole.
const SPACE_DELIMITED: [&str; 2] = ["scope", "permission"];

/// The claim keys the api-gateway controller checks scopes in, one AuthorizationPolicy rule
/// each (`defaultScopeKeys`, `authorizationpolicy/creator.go`).
pub const SCOPE_KEYS: [&str; 3] = ["scp", "scope", "scopes"];

/// The values Istio compares for `request.auth.claims[name]`.
fn claim_values(token: &Token, name: &str) -> Vec<String> {
    match token.claims.get(name) {
        Some(serde_json::Value::String(s)) if SPACE_DELIMITED.contains(&name) => {
            s.split_whitespace().map(str::to_string).collect()
        }
        v => string_list(v),
    }
}

/// Does one authorization alternative hold? The controller writes one `when` condition per
/// required scope (all in the same claim key, one rule per key) and one per audience: every
/// listed audience is required, not one of them (`generateAuthorizationPolicySpec`).
fn alternative(token: &Token, alt: &Alternative) -> Result<String, String> {
    let aud = claim_values(token, "aud");
    let missing_aud: Vec<&String> = alt.audiences.iter().filter(|a| !aud.contains(a)).collect();
    let scope_key = SCOPE_KEYS.iter().find(|k| {
        let have = claim_values(token, k);
        alt.required_scopes.iter().all(|s| have.contains(s))
    });
    let scopes_ok = alt.required_scopes.is_empty() || scope_key.is_some();
    let mut why = Vec::new();
    if !scopes_ok {
        let have: Vec<String> = SCOPE_KEYS
            .iter()
            .filter(|k| token.claims.contains_key(**k))
            .map(|k| format!("{k}={}", go_slice(&claim_values(token, k))))
            .collect();
        why.push(format!(
            "scopes {} not all in one of scp, scope, scopes (token has {})",
            alt.required_scopes.join(" + "),
            if have.is_empty() {
                "none of these claims".to_string()
            } else {
                have.join(", ")
            }
        ));
    }
    if !missing_aud.is_empty() {
        why.push(format!(
            "audience {} not in aud {}",
            missing_aud
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            go_slice(&aud)
        ));
    }
    if !why.is_empty() {
        return Err(why.join(" and "));
    }
    let mut held = Vec::new();
    if let (false, Some(k)) = (alt.required_scopes.is_empty(), scope_key) {
        held.push(format!("{k} has {}", alt.required_scopes.join(" + ")));
    }
    if !alt.audiences.is_empty() {
        held.push(format!("aud has {}", alt.audiences.join(" + ")));
    }
    Ok(held.join(", "))
}

/// Envoy `jwt_authn` as Istio configures it: issuer among the workload's RequestAuthentication
/// issuers, signature against the spec's `jwksUri`, `exp`/`nbf` with Envoy's default clock
/// skew of 60 s. Failures are 401 before any authorization.
fn authenticate(
    token: &Token,
    rule_issuers: &[String],
    workload_issuers: &BTreeSet<String>,
    keys: &dyn Fn(&str) -> Option<Result<Keys, String>>,
    now: i64,
) -> Result<(), (u16, String)> {
    let iss = token.string("iss").unwrap_or("");
    if !workload_issuers.contains(iss) {
        return Err((
            401,
            format!(
                "Jwt issuer is not configured: the token's iss {} is none of the workload's issuers {}",
                go_quote(iss),
                go_slice(&workload_issuers.iter().cloned().collect::<Vec<_>>())
            ),
        ));
    }
    match keys(iss) {
        Some(Ok(k)) => {
            if let Err(e) = token.verify(&k) {
                return Err((401, format!("Jwt verification fails: {e}")));
            }
        }
        Some(Err(e)) => return Err((401, format!("Jwks remote fetch is failed: {e}"))),
        None => {
            return Err((
                401,
                "Jwt verification fails: no jwksUri for this issuer".into(),
            ));
        }
    }
    if let Some(exp) = token.time("exp")
        && now > exp + 60
    {
        return Err((
            401,
            format!("Jwt is expired (exp {} UTC)", go_time_short(exp)),
        ));
    }
    if let Some(nbf) = token.time("nbf")
        && nbf > now + 60
    {
        return Err((
            401,
            format!("Jwt not yet valid (nbf {})", go_time_short(nbf)),
        ));
    }
    if !rule_issuers.iter().any(|i| i == iss) {
        return Err((
            403,
            format!(
                "RBAC: access denied: the token's iss {} is not among this rule's issuers {}",
                go_quote(iss),
                go_slice(rule_issuers)
            ),
        ));
    }
    Ok(())
}

fn authorize(token: &Token, alts: &[Alternative]) -> Result<String, (u16, String)> {
    if alts.is_empty() {
        return Ok("any valid token".into());
    }
    let mut why = Vec::new();
    for (i, a) in alts.iter().enumerate() {
        match alternative(token, a) {
            Ok(m) if alts.len() == 1 => return Ok(m),
            Ok(m) => return Ok(format!("authorization {} holds: {m}", i + 1)),
            Err(e) => why.push(if alts.len() == 1 {
                e
            } else {
                format!("authorization {}: {e}", i + 1)
            }),
        }
    }
    Err((403, format!("RBAC: access denied: {}", why.join("; "))))
}

/// A rule's decision on the token. `proxy` gives an authorizer's decision by name.
pub fn rule(
    token: &Token,
    access: &Access,
    workload_issuers: &BTreeSet<String>,
    keys: &dyn Fn(&str) -> Option<Result<Keys, String>>,
    proxy: &dyn Fn(&str) -> Option<(Decision, String)>,
    now: i64,
) -> (Decision, String) {
    match access {
        Access::Public => (Decision::Allowed, "public: no token needed".into()),
        Access::Jwt {
            issuers,
            authorizations,
        } => {
            if let Err((s, m)) = authenticate(token, issuers, workload_issuers, keys, now) {
                return (Decision::Denied(s), m);
            }
            match authorize(token, authorizations) {
                Ok(m) => (
                    Decision::Allowed,
                    format!("jwt: signature, iss and exp valid; {m}"),
                ),
                Err((s, m)) => (Decision::Denied(s), m),
            }
        }
        Access::ExtAuth {
            authorizers,
            issuers,
            authorizations,
        } => {
            // Filter order in the sidecar: jwt_authn, then ext_authz (CUSTOM), then RBAC.
            if !issuers.is_empty()
                && let Err((s, m)) = authenticate(token, issuers, workload_issuers, keys, now)
            {
                return (Decision::Denied(s), m);
            }
            let mut unknown = Vec::new();
            for a in authorizers {
                match proxy(a) {
                    Some((Decision::Allowed, _)) => {}
                    Some((Decision::Denied(s), m)) => {
                        return (Decision::Denied(s), format!("authorizer {a}: {m}"));
                    }
                    _ => unknown.push(a.as_str()),
                }
            }
            let restrictions = if issuers.is_empty() {
                Ok("no restrictions".to_string())
            } else {
                authorize(token, authorizations)
            };
            match restrictions {
                Err((s, m)) => (Decision::Denied(s), m),
                Ok(m) if unknown.is_empty() => (
                    Decision::Allowed,
                    format!("authorizer {} allows; {m}", authorizers.join(", ")),
                ),
                Ok(m) => (
                    Decision::Unknown,
                    format!(
                        "external authorizer {} decides (kexpose cannot ask it); {m}",
                        unknown.join(", ")
                    ),
                ),
            }
        }
    }
}

/// Issuers of every jwt rule and restriction of one APIRule (one workload's
/// RequestAuthentications).
pub fn workload_issuers(model: &Model, apirule: &str) -> BTreeSet<String> {
    model
        .entries
        .iter()
        .filter(|e| e.apirule == apirule)
        .flat_map(|e| match &e.access {
            Access::Jwt { issuers, .. } | Access::ExtAuth { issuers, .. } => issuers.clone(),
            Access::Public => Vec::new(),
        })
        .collect()
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

    fn alt(scopes: &[&str], auds: &[&str]) -> Alternative {
        Alternative {
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audiences: auds.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scopes_as_istio_matches_them() {
        // `scope` is space-delimited by default; `scp` as a string is compared whole.
        let t = token(serde_json::json!({"scope": "a b"}));
        assert!(alternative(&t, &alt(&["a", "b"], &[])).is_ok());
        let t = token(serde_json::json!({"scp": "a b"}));
        assert!(alternative(&t, &alt(&["a"], &[])).is_err());
        assert!(alternative(&t, &alt(&["a b"], &[])).is_ok());
        let t = token(serde_json::json!({"scp": ["a", "b"]}));
        assert!(alternative(&t, &alt(&["a", "b"], &[])).is_ok());
        // All scopes in one claim: the controller writes one policy rule per claim key.
        let t = token(serde_json::json!({"scp": ["a"], "scopes": ["b"]}));
        assert!(alternative(&t, &alt(&["a", "b"], &[])).is_err());
    }

    #[test]
    fn every_listed_audience_is_required() {
        // One `when` condition per audience, ANDed (authorizationpolicy/creator.go).
        let t = token(serde_json::json!({"aud": ["x"]}));
        assert!(alternative(&t, &alt(&[], &["x"])).is_ok());
        assert!(alternative(&t, &alt(&[], &["x", "y"])).is_err());
        let t = token(serde_json::json!({"aud": "x"}));
        assert!(alternative(&t, &alt(&[], &["x"])).is_ok());
        // Alternatives are ORed (one ALLOW policy each).
        assert!(authorize(&t, &[alt(&[], &["y"]), alt(&[], &["x"])]).is_ok());
        assert_eq!(authorize(&t, &[alt(&["s"], &[])]).unwrap_err().0, 403);
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
