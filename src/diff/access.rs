//! The authorizers behind the access (Istio registration, oauth2-proxy flags) and how they
//! changed. Who may call what is the mesh model's ([`crate::mesh::compare`]).

use super::Object;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An authorizer as deployed: its Istio registration and, for oauth2-proxy, its flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizerInfo {
    /// The Istio CR entry.
    pub registration: Option<Value>,
    /// oauth2-proxy `extraArgs`.
    pub flags: Option<IndexMap<String, String>>,
}

/// The authorizers of a render, for the authorizer review (who may call what comes from
/// [`crate::mesh`]).
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Authorizers by name.
    pub authorizers: BTreeMap<String, AuthorizerInfo>,
}

impl Model {
    /// Read the model from rendered objects.
    pub fn from_objects(objects: &[Object]) -> Model {
        let mut model = Model::default();
        for o in objects {
            match o.id.kind.as_str() {
                "Istio" => {
                    for a in o
                        .value
                        .pointer("/spec/config/authorizers")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(name) = a.get("name").and_then(Value::as_str) {
                            model
                                .authorizers
                                .entry(name.to_string())
                                .or_default()
                                .registration = Some(a.clone());
                        }
                    }
                }
                "HelmValues" => {
                    let flags: IndexMap<String, String> = o
                        .value
                        .get("extraArgs")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| {
                                    (
                                        k.clone(),
                                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    model
                        .authorizers
                        .entry(o.id.name.clone())
                        .or_default()
                        .flags = Some(flags);
                }
                _ => {}
            }
        }
        model
    }
}

/// A change to an authorizer's registration or flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizerChange {
    /// Authorizer name.
    pub name: String,
    /// `added`, `removed` or `changed`.
    #[serde(rename = "changeType")]
    pub change_type: String,
    /// Whether the change weakens verification.
    pub weakens: bool,
    /// One line per change.
    pub details: Vec<String>,
}

/// oauth2-proxy flags where a change to this value weakens verification.
const WEAK_FLAG_VALUES: [(&str, &str); 5] = [
    ("insecure-oidc-skip-issuer-verification", "true"),
    ("insecure-oidc-allow-unverified-email", "true"),
    ("ssl-insecure-skip-verify", "true"),
    ("cookie-secure", "false"),
    ("skip-oidc-discovery", "true"),
];

/// Compare authorizers: registration (service, port, pathPrefix, headers) and flags.
pub fn compare_authorizers(before: &Model, after: &Model) -> Vec<AuthorizerChange> {
    let names: BTreeSet<&String> = before
        .authorizers
        .keys()
        .chain(after.authorizers.keys())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let (b, a) = (before.authorizers.get(name), after.authorizers.get(name));
        match (b, a) {
            (None, Some(_)) => out.push(AuthorizerChange {
                name: name.clone(),
                change_type: "added".into(),
                weakens: false,
                details: vec!["registered".into()],
            }),
            (Some(_), None) => out.push(AuthorizerChange {
                name: name.clone(),
                change_type: "removed".into(),
                weakens: false,
                details: vec!["no longer registered: rules naming it fail".into()],
            }),
            (Some(b), Some(a)) if b != a => {
                let mut details = Vec::new();
                let mut weakens = false;
                let reg = |x: &AuthorizerInfo, f: &str| {
                    x.registration.as_ref().and_then(|r| r.get(f)).cloned()
                };
                for field in ["service", "port", "pathPrefix", "timeout", "headers"] {
                    let (o, n) = (reg(b, field), reg(a, field));
                    if o != n {
                        details.push(format!(
                            "{field}: {} → {}",
                            show(o.as_ref()),
                            show(n.as_ref())
                        ));
                        if field == "pathPrefix"
                            && n.as_ref().and_then(Value::as_str).is_none_or(str::is_empty)
                            && b.flags.is_some()
                        {
                            weakens = true;
                            details.push("  oauth2-proxy now answers /ping, /ready, /robots.txt and its embedded /oauth2/static/ files of every protected workload without a token".into());
                        }
                    }
                }
                let empty = IndexMap::new();
                let (bf, af) = (
                    b.flags.as_ref().unwrap_or(&empty),
                    a.flags.as_ref().unwrap_or(&empty),
                );
                let keys: BTreeSet<&String> = bf.keys().chain(af.keys()).collect();
                for k in keys {
                    let (o, n) = (bf.get(k), af.get(k));
                    if o == n {
                        continue;
                    }
                    // A credential flag's value is never shown (crate::secrets).
                    fn shown<'v>(k: &str, v: Option<&'v String>, side: &'static str) -> &'v str {
                        match v {
                            None => "(unset)",
                            Some(_) if crate::secrets::is_credential_key(k) => side,
                            Some(v) => v.as_str(),
                        }
                    }
                    details.push(format!(
                        "--{k}: {} → {}",
                        shown(k, o, "*** (before)"),
                        shown(k, n, "*** (after)")
                    ));
                    if WEAK_FLAG_VALUES
                        .iter()
                        .any(|(f, v)| f == k && n.is_some_and(|n| n == v))
                        || k == "skip-jwt-bearer-tokens"
                    {
                        weakens = true;
                    }
                    if k == "oidc-extra-audience" {
                        let split = |s: Option<&String>| {
                            s.map(|s| s.split(',').map(str::to_string).collect::<BTreeSet<_>>())
                                .unwrap_or_default()
                        };
                        if !split(n).is_subset(&split(o)) {
                            weakens = true;
                        }
                    }
                    if k == "email-domain" && n.is_some_and(|n| n.split(',').any(|d| d == "*")) {
                        weakens = true;
                    }
                    if k.starts_with("allowed-") && n.is_none() {
                        weakens = true;
                    }
                    if k.starts_with("skip-auth") {
                        weakens = true;
                    }
                }
                out.push(AuthorizerChange {
                    name: name.clone(),
                    change_type: "changed".into(),
                    weakens,
                    details,
                });
            }
            _ => {}
        }
    }
    out.sort_by(|x, y| (!x.weakens, &x.name).cmp(&(!y.weakens, &y.name)));
    out
}

fn show(v: Option<&Value>) -> String {
    match v {
        None => "(unset)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}
