//! JWKS parsing and JWT signature verification with `jsonwebtoken` (pure-Rust `rust_crypto`
//! backend). No cryptography is written here: this module only picks the key and reads the
//! claims.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

/// Asymmetric JWS algorithms that oauth2-proxy (go-jose v4), Istio (Envoy `jwt_authn`) and
/// kexpose all verify. HMAC algorithms need a shared secret no JWKS publishes; `none` is
/// never accepted.
pub const VERIFIABLE_ALGS: [&str; 10] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
];

/// A fetched key set.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Where it came from.
    pub url: String,
    /// The keys kexpose can use (entries it cannot read are skipped and counted).
    pub keys: Vec<Jwk>,
    /// Entries that are not usable JWKs.
    pub skipped: usize,
}

impl Keys {
    /// Parse a JWKS document. `Err` when it is not a JSON object with a `keys` array.
    pub fn parse(url: &str, body: &str) -> Result<Keys, String> {
        let doc: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("not a JWK set: no `keys` array")?;
        let mut keys = Vec::new();
        let mut skipped = 0;
        for e in entries {
            // Only signature keys: `use: enc` keys do not verify tokens.
            if e.get("use").and_then(Value::as_str) == Some("enc") {
                skipped += 1;
                continue;
            }
            match serde_json::from_value::<Jwk>(e.clone()) {
                Ok(k) if DecodingKey::from_jwk(&k).is_ok() => keys.push(k),
                _ => skipped += 1,
            }
        }
        Ok(Keys {
            url: url.to_string(),
            keys,
            skipped,
        })
    }

    /// The key IDs, sorted (keys without one are shown as `(no kid)`).
    pub fn kids(&self) -> BTreeSet<String> {
        self.keys
            .iter()
            .map(|k| k.common.key_id.clone().unwrap_or_else(|| "(no kid)".into()))
            .collect()
    }
}

/// A token as received: header and claims (not yet trusted).
#[derive(Clone)]
pub struct Token {
    raw: String,
    /// `alg` of the header.
    pub alg: String,
    /// `kid` of the header.
    pub kid: Option<String>,
    /// The claims (decoded without verification; see [`Token::verify`]).
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The raw token is a credential: never printed, not even in debug output.
        f.debug_struct("Token")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Split a compact JWS and read its header and claims. `Err` when it is not a JWT
    /// (opaque access tokens are not).
    pub fn parse(raw: &str) -> Result<Token, String> {
        let header = jsonwebtoken::decode_header(raw)
            .map_err(|e| format!("the access token is not a JWT ({e})"))?;
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(raw)
            .map_err(|e| format!("the access token's claims are not a JSON object ({e})"))?;
        Ok(Token {
            raw: raw.to_string(),
            alg: format!("{:?}", header.alg),
            kid: header.kid,
            claims,
        })
    }

    /// The raw compact token, for requests only.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// A string claim.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric date claim (`exp`, `nbf`, `iat`), whole seconds.
    pub fn time(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    /// `aud` as a list (a string is a one-element list, as in go-oidc and Envoy).
    pub fn audiences(&self) -> Vec<String> {
        string_list(self.claims.get("aud"))
    }

    /// Verify the signature against a key set: the key with the token's `kid`, or, without
    /// a `kid`, any key of the set (as go-oidc's remote key set does). `Ok(kid)` names the key.
    pub fn verify(&self, keys: &Keys) -> Result<String, String> {
        let alg = Algorithm::from_str(&self.alg)
            .map_err(|_| format!("unsupported signing algorithm {}", self.alg))?;
        if !VERIFIABLE_ALGS.contains(&self.alg.as_str()) {
            return Err(format!(
                "signing algorithm {} is not one oauth2-proxy and Istio verify with a JWKS",
                self.alg
            ));
        }
        let candidates: Vec<&Jwk> = match &self.kid {
            Some(kid) => keys
                .keys
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
                .collect(),
            None => keys.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(format!(
                "no key with kid {:?} in {} (it has {})",
                self.kid.as_deref().unwrap_or(""),
                keys.url,
                join_set(&keys.kids())
            ));
        }
        let mut validation = Validation::new(alg);
        // Claims are judged by each verifier's own rules (see evaluate); here only the
        // signature counts.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let mut last = String::new();
        for k in candidates {
            let Ok(key) = DecodingKey::from_jwk(k) else {
                continue;
            };
            match jsonwebtoken::decode::<Value>(&self.raw, &key, &validation) {
                Ok(_) => {
                    return Ok(k.common.key_id.clone().unwrap_or_else(|| "(no kid)".into()));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!(
            "the signature does not verify with the keys of {} ({last})",
            keys.url
        ))
    }
}

pub use crate::mesh::eval::string_list;

fn join_set(s: &BTreeSet<String>) -> String {
    if s.is_empty() {
        "no keys".into()
    } else {
        s.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}
