//! The rule-level view doctor judges a real token against: per host, every (method, path) of
//! the rendered APIRules in rule order, with what it needs (public, a JWT with issuers and
//! scope/audience alternatives, or external authorizers with optional restrictions), plus the
//! authorizers behind them. `explain` and the access diff answer from the Istio model
//! ([`crate::mesh`]); doctor still judges per APIRule rule (see docs/doctor.md).

use crate::diff::Object;
pub use crate::diff::access::AuthorizerInfo;
use crate::diff::access::strings;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
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

/// The rules and authorizers doctor evaluates.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Entries in host order, then rule order (the order the controller evaluates).
    pub entries: Vec<Entry>,
    /// Authorizers by name.
    pub authorizers: BTreeMap<String, AuthorizerInfo>,
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
        let mut rules: Vec<Entry> = Vec::new();
        for o in objects.iter().filter(|o| o.id.kind == "APIRule") {
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
                            authorizations: alternatives(r.and_then(|r| r.get("authorizations"))),
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
        // Stable order by host; rule order kept within a host.
        rules.sort_by(|a, b| a.host.cmp(&b.host));
        Model {
            entries: rules,
            // The authorizers as deployed, read as the access review reads them.
            authorizers: crate::diff::access::Model::from_objects(objects).authorizers,
        }
    }
}
