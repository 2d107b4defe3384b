//! The access model: per host, every (method, path) with its access, read from rendered
//! APIRules, and the authorizers behind them (Istio registration, oauth2-proxy flags).

use super::Object;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One authorization alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alternative {
    /// All required.
    pub required_scopes: Vec<String>,
    /// One required (empty: any).
    pub audiences: Vec<String>,
}

/// What a request needs to pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Access {
    /// No token.
    Public,
    /// A JWT validated at the gateway.
    Jwt {
        /// Accepted issuers.
        issuers: Vec<String>,
        /// Alternatives (empty: any valid token).
        authorizations: Vec<Alternative>,
    },
    /// External authorizers (and optional token restrictions).
    ExtAuth {
        /// Authorizers asked.
        authorizers: Vec<String>,
        /// Issuers of the restrictions (empty: none).
        issuers: Vec<String>,
        /// Alternatives of the restrictions.
        authorizations: Vec<Alternative>,
    },
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn alts(a: &[Alternative]) -> String {
            a.iter()
                .map(|x| {
                    let mut parts = Vec::new();
                    if !x.required_scopes.is_empty() {
                        parts.push(format!("scopes {}", x.required_scopes.join("+")));
                    }
                    if !x.audiences.is_empty() {
                        parts.push(format!("aud {}", x.audiences.join("|")));
                    }
                    parts.join(" ")
                })
                .collect::<Vec<_>>()
                .join(" OR ")
        }
        match self {
            Access::Public => f.write_str("public"),
            Access::Jwt {
                issuers,
                authorizations,
            } => {
                write!(f, "jwt ({})", issuers.join(", "))?;
                if !authorizations.is_empty() {
                    write!(f, " requires {}", alts(authorizations))?;
                }
                Ok(())
            }
            Access::ExtAuth {
                authorizers,
                issuers,
                authorizations,
            } => {
                write!(f, "extAuth {}", authorizers.join("+"))?;
                if !issuers.is_empty() {
                    write!(f, " + jwt ({})", issuers.join(", "))?;
                }
                if !authorizations.is_empty() {
                    write!(f, " requires {}", alts(authorizations))?;
                }
                Ok(())
            }
        }
    }
}

/// One (host, method, path) rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Host.
    pub host: String,
    /// Method.
    pub method: String,
    /// Path pattern.
    pub path: String,
    /// `namespace/name` of the APIRule.
    pub apirule: String,
    /// Access.
    pub access: Access,
}

/// An authorizer as deployed: its Istio registration and, for oauth2-proxy, its flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizerInfo {
    /// The Istio CR entry.
    pub registration: Option<Value>,
    /// oauth2-proxy `extraArgs`.
    pub flags: Option<IndexMap<String, String>>,
}

/// Everything the access review needs.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Entries in host order, then rule order (the order the controller evaluates).
    pub entries: Vec<Entry>,
    /// Authorizers by name.
    pub authorizers: BTreeMap<String, AuthorizerInfo>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn alternatives(v: Option<&Value>) -> Vec<Alternative> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| Alternative {
                    required_scopes: strings(x.get("requiredScopes")),
                    audiences: strings(x.get("audiences")),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn issuers(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("issuer").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Model {
    /// Read the model from rendered objects.
    pub fn from_objects(objects: &[Object]) -> Model {
        let mut model = Model::default();
        let mut rules: Vec<Entry> = Vec::new();
        for o in objects {
            match o.id.kind.as_str() {
                "APIRule" => {
                    let spec = &o.value["spec"];
                    let apirule = format!("{}/{}", o.id.namespace, o.id.name);
                    for host in strings(spec.get("hosts")) {
                        for rule in spec
                            .get("rules")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let path = rule
                                .get("path")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string();
                            let access = if let Some(j) = rule.get("jwt") {
                                Access::Jwt {
                                    issuers: issuers(j.get("authentications")),
                                    authorizations: alternatives(j.get("authorizations")),
                                }
                            } else if let Some(e) = rule.get("extAuth") {
                                let r = e.get("restrictions");
                                Access::ExtAuth {
                                    authorizers: strings(e.get("authorizers")),
                                    issuers: issuers(r.and_then(|r| r.get("authentications"))),
                                    authorizations: alternatives(
                                        r.and_then(|r| r.get("authorizations")),
                                    ),
                                }
                            } else {
                                Access::Public
                            };
                            for method in strings(rule.get("methods")) {
                                rules.push(Entry {
                                    host: host.clone(),
                                    method,
                                    path: path.clone(),
                                    apirule: apirule.clone(),
                                    access: access.clone(),
                                });
                            }
                        }
                    }
                }
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
        // Stable order by host; rule order kept within a host.
        rules.sort_by(|a, b| a.host.cmp(&b.host));
        model.entries = rules;
        model
    }
}

/// How a (host, method, path) changed, loudest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessChangeKind {
    /// Needed a token before, needs none now.
    BecamePublic,
    /// Accepts more than before: lost an authorizer, scope, audience or restriction, or gained an issuer.
    Weakened,
    /// Switched between jwt and extAuth.
    Changed,
    /// A new (host, method, path).
    Added,
    /// Gone (requests now get 404).
    Removed,
    /// Accepts less than before.
    Narrowed,
}

impl fmt::Display for AccessChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessChangeKind::BecamePublic => "became public",
            AccessChangeKind::Weakened => "weakened",
            AccessChangeKind::Changed => "changed",
            AccessChangeKind::Added => "added",
            AccessChangeKind::Removed => "removed",
            AccessChangeKind::Narrowed => "narrowed",
        })
    }
}

/// One access change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// Kind, loudest first.
    pub kind: AccessChangeKind,
    /// Host.
    pub host: String,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Before (absent when added).
    pub before: Option<Access>,
    /// After (absent when removed).
    pub after: Option<Access>,
}

/// Compare two models' entries, loudest first.
pub fn compare(before: &Model, after: &Model) -> Vec<AccessChange> {
    let key = |e: &Entry| (e.host.clone(), e.method.clone(), e.path.clone());
    let index = |m: &Model| {
        let mut map: IndexMap<(String, String, String), Access> = IndexMap::new();
        for e in &m.entries {
            map.entry(key(e)).or_insert_with(|| e.access.clone());
        }
        map
    };
    let (b, a) = (index(before), index(after));
    let mut out = Vec::new();
    for (k, old) in &b {
        match a.get(k) {
            None => out.push(change(AccessChangeKind::Removed, k, Some(old), None)),
            Some(new) if new == old => {}
            Some(new) => out.push(change(classify(old, new), k, Some(old), Some(new))),
        }
    }
    for (k, new) in &a {
        if !b.contains_key(k) {
            out.push(change(AccessChangeKind::Added, k, None, Some(new)));
        }
    }
    out.sort_by(|x, y| {
        (x.kind, &x.host, &x.path, &x.method).cmp(&(y.kind, &y.host, &y.path, &y.method))
    });
    out
}

fn change(
    kind: AccessChangeKind,
    k: &(String, String, String),
    before: Option<&Access>,
    after: Option<&Access>,
) -> AccessChange {
    AccessChange {
        kind,
        host: k.0.clone(),
        method: k.1.clone(),
        path: k.2.clone(),
        before: before.cloned(),
        after: after.cloned(),
    }
}

fn set(v: &[String]) -> BTreeSet<&String> {
    v.iter().collect()
}

/// Is `new` at least as strict as `old` (one alternative)?
fn alt_as_strict(new: &Alternative, old: &Alternative) -> bool {
    set(&new.required_scopes).is_superset(&set(&old.required_scopes))
        && (old.audiences.is_empty()
            || (!new.audiences.is_empty() && set(&new.audiences).is_subset(&set(&old.audiences))))
}

/// Does `after` accept a token `before` refused (alternatives only)?
fn alts_weaker(before: &[Alternative], after: &[Alternative]) -> bool {
    if before.is_empty() {
        return false;
    }
    after.is_empty()
        || after
            .iter()
            .any(|n| !before.iter().any(|o| alt_as_strict(n, o)))
}

fn classify(old: &Access, new: &Access) -> AccessChangeKind {
    use Access::*;
    match (old, new) {
        (Public, _) => AccessChangeKind::Narrowed,
        (_, Public) => AccessChangeKind::BecamePublic,
        (
            Jwt {
                issuers: oi,
                authorizations: oa,
            },
            Jwt {
                issuers: ni,
                authorizations: na,
            },
        ) => {
            if !set(ni).is_subset(&set(oi)) || alts_weaker(oa, na) {
                AccessChangeKind::Weakened
            } else {
                AccessChangeKind::Narrowed
            }
        }
        (
            ExtAuth {
                authorizers: oz,
                issuers: oi,
                authorizations: oa,
            },
            ExtAuth {
                authorizers: nz,
                issuers: ni,
                authorizations: na,
            },
        ) => {
            let lost_authorizer = !set(nz).is_superset(&set(oz));
            let lost_restriction = !oi.is_empty() && ni.is_empty();
            let more_issuers = !oi.is_empty() && !set(ni).is_subset(&set(oi));
            if lost_authorizer || lost_restriction || more_issuers || alts_weaker(oa, na) {
                AccessChangeKind::Weakened
            } else {
                AccessChangeKind::Narrowed
            }
        }
        _ => AccessChangeKind::Changed,
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
                            details.push("  oauth2-proxy now answers /ping, /ready, /robots.txt and /oauth2/static/* of every protected workload without a token".into());
                        }
                        if field == "headers" {
                            let has_auth = |v: &Option<Value>| {
                                strings(v.as_ref().and_then(|h| h.pointer("/inCheck/include")))
                                    .iter()
                                    .any(|h| h.eq_ignore_ascii_case("authorization"))
                            };
                            if has_auth(&o) && !has_auth(&n) {
                                weakens = true;
                            }
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
