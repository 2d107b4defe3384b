//! Read the mesh model back from rendered Istio objects (the `istio` target's output), so
//! `explain` and the access diff work on either target's output: the same model, whichever
//! way it was written down. Objects kexpose did not write are read as Istio would apply
//! them, as far as the model goes (ALLOW/DENY/CUSTOM policies, `principals`,
//! `notPrincipals`, `requestPrincipals`, `hosts`, `methods`, `paths`, `notPaths`, `when`).

use super::path::{REGEX_DOUBLE, REGEX_SINGLE, UriMatch};
use super::render::{SERVICE_ANNOTATION, WORKLOAD_LABEL};
use super::{
    Action, AuthorizationPolicy, Condition, JwtRule, Mesh, Operation, Origin, PolicyRule,
    RequestAuthentication, Route, Source, Translation, VirtualService, WorkloadRef,
};
use indexmap::IndexMap;
use serde_json::Value;

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// The APIRule path a route regex was built from (kexpose's escaping or the controller's).
pub fn path_of(uri: &UriMatch) -> String {
    match uri {
        UriMatch::Prefix(p) if p == "/" => "/*".into(),
        UriMatch::Prefix(p) => p.clone(),
        UriMatch::Regex(r) => {
            let body = r.strip_prefix('^').unwrap_or(r);
            let body = body.strip_suffix('$').unwrap_or(body);
            let body = body
                .replace(REGEX_DOUBLE, "{**}")
                .replace(REGEX_SINGLE, "{*}");
            let mut out = String::new();
            let mut chars = body.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    out.extend(chars.next());
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn workload(obj: &Value) -> WorkloadRef {
    let namespace = str_at(obj, "/metadata/namespace").to_string();
    let service = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(SERVICE_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        });
    WorkloadRef {
        namespace,
        service,
        selector,
    }
}

fn policy(obj: &Value) -> AuthorizationPolicy {
    let spec = &obj["spec"];
    let action = match spec
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("ALLOW")
    {
        "DENY" => Action::Deny,
        "CUSTOM" => Action::Custom,
        _ => Action::Allow,
    };
    let rules = spec
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| PolicyRule {
            from: r
                .get("from")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|f| {
                    let s = &f["source"];
                    Source {
                        principals: strs(s.get("principals")),
                        not_principals: strs(s.get("notPrincipals")),
                        request_principals: strs(s.get("requestPrincipals")),
                    }
                })
                .collect(),
            to: r
                .get("to")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let o = &t["operation"];
                    Operation {
                        hosts: strs(o.get("hosts")),
                        methods: strs(o.get("methods")),
                        paths: strs(o.get("paths")),
                        not_paths: strs(o.get("notPaths")),
                    }
                })
                .collect(),
            when: r
                .get("when")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| Condition {
                    key: str_at(c, "/key").to_string(),
                    values: strs(c.get("values")),
                })
                .collect(),
        })
        .collect();
    let name = str_at(obj, "/metadata/name").to_string();
    AuthorizationPolicy {
        origin: if rules_have_no_to(spec) {
            Origin::InCluster
        } else {
            Origin::Rule(rule_index(&name).unwrap_or(0))
        },
        name,
        namespace: str_at(obj, "/metadata/namespace").to_string(),
        workload: workload(obj),
        action,
        provider: spec
            .pointer("/provider/name")
            .and_then(Value::as_str)
            .map(str::to_string),
        rules,
    }
}

/// The rule index in kexpose's policy names (`<name>-r<i>-allow…`, `<name>-r<i>-custom-…`).
fn rule_index(name: &str) -> Option<usize> {
    ["-allow", "-custom-"].iter().find_map(|kind| {
        let head = &name[..name.rfind(kind)?];
        let (_, digits) = head.rsplit_once("-r")?;
        digits.parse().ok()
    })
}

fn rules_have_no_to(spec: &Value) -> bool {
    spec.get("rules")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().all(|r| r.get("to").is_none()))
}

/// Read VirtualServices, AuthorizationPolicies and RequestAuthentications (and the
/// IstioOperator / istiod values fragment's providers are not needed for evaluation).
/// Policies are attached to the translation whose workload label they carry, or to a
/// translation of their own.
pub fn from_objects<K: AsRef<str>, V: std::borrow::Borrow<Value>>(
    objects: &[(K, V)],
    ingress_principal: &str,
) -> Mesh {
    let mut mesh = Mesh {
        ingress_principal: ingress_principal.to_string(),
        ..Mesh::default()
    };
    let key = |o: &Value| {
        o.pointer("/metadata/labels")
            .and_then(|l| l.get(WORKLOAD_LABEL))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut by_workload: IndexMap<String, Translation> = IndexMap::new();
    fn entry<'a>(
        by_workload: &'a mut IndexMap<String, Translation>,
        k: String,
        ns: &str,
    ) -> &'a mut Translation {
        by_workload.entry(k.clone()).or_insert_with(|| Translation {
            apirule: format!("{ns}/{k}"),
            host: String::new(),
            rules: Vec::new(),
            virtual_service: VirtualService {
                name: k.clone(),
                namespace: ns.to_string(),
                hosts: Vec::new(),
                gateways: Vec::new(),
                http: Vec::new(),
            },
            policies: Vec::new(),
            request_authentications: Vec::new(),
        })
    }
    for (kind, o) in objects {
        let (kind, o) = (kind.as_ref(), o.borrow());
        let name = str_at(o, "/metadata/name").to_string();
        let ns = str_at(o, "/metadata/namespace").to_string();
        let k = key(o).unwrap_or_else(|| format!("{kind}:{ns}/{name}"));
        match kind {
            "VirtualService" => {
                let spec = &o["spec"];
                let t = entry(&mut by_workload, k, &ns);
                t.apirule = format!("{ns}/{name}");
                t.host = strs(spec.get("hosts"))
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                t.virtual_service.name = name;
                t.virtual_service.namespace = ns.clone();
                t.virtual_service.hosts = strs(spec.get("hosts"));
                t.virtual_service.gateways = strs(spec.get("gateways"));
                for (i, r) in spec
                    .get("http")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let m = &r["match"][0];
                    let uri = if let Some(p) = m.pointer("/uri/prefix").and_then(Value::as_str) {
                        UriMatch::Prefix(p.to_string())
                    } else {
                        UriMatch::Regex(str_at(m, "/uri/regex").to_string())
                    };
                    let methods: Vec<String> = str_at(m, "/method/regex")
                        .trim_start_matches("^(")
                        .trim_end_matches(")$")
                        .split('|')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    let dest = str_at(r, "/route/0/destination/host");
                    let mut parts = dest.split('.');
                    let (svc, svc_ns) = (
                        parts.next().unwrap_or_default(),
                        parts.next().unwrap_or_default(),
                    );
                    let path = path_of(&uri);
                    t.rules.push((path.clone(), methods.clone()));
                    t.virtual_service.http.push(Route {
                        rule: i,
                        path,
                        uri,
                        methods,
                        destination_host: dest.to_string(),
                        port: r
                            .pointer("/route/0/destination/port/number")
                            .and_then(Value::as_i64)
                            .unwrap_or_default(),
                        workload: WorkloadRef {
                            namespace: svc_ns.to_string(),
                            service: svc.to_string(),
                            selector: None,
                        },
                        timeout: str_at(r, "/timeout")
                            .trim_end_matches('s')
                            .parse()
                            .unwrap_or_default(),
                        cors: r.get("corsPolicy").cloned(),
                        request_set: r
                            .pointer("/headers/request/set")
                            .and_then(Value::as_object)
                            .map(|m| {
                                m.iter()
                                    .map(|(k, v)| {
                                        (k.clone(), v.as_str().unwrap_or_default().to_string())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        matcher: Default::default(),
                    });
                }
            }
            "AuthorizationPolicy" => entry(&mut by_workload, k, &ns).policies.push(policy(o)),
            "RequestAuthentication" => {
                let ra = RequestAuthentication {
                    name,
                    namespace: ns.clone(),
                    workload: workload(o),
                    jwt_rules: o
                        .pointer("/spec/jwtRules")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|j| JwtRule {
                            issuer: str_at(j, "/issuer").to_string(),
                            jwks_uri: str_at(j, "/jwksUri").to_string(),
                            from_headers: j
                                .get("fromHeaders")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .map(|h| {
                                    (
                                        str_at(h, "/name").to_string(),
                                        h.get("prefix").and_then(Value::as_str).map(str::to_string),
                                    )
                                })
                                .collect(),
                            from_params: strs(j.get("fromParams")),
                        })
                        .collect(),
                };
                entry(&mut by_workload, k, &ns)
                    .request_authentications
                    .push(ra);
            }
            _ => {}
        }
    }
    mesh.translations = by_workload.into_values().collect();
    mesh
}

/// The mesh of a rendered output of either target: APIRules translated as the controller
/// does (its principal, its unescaped regexes), Istio objects read as they are. The ingress
/// principal is the one the policies name (the default when none does).
pub fn from_rendered<K: AsRef<str>, V: std::borrow::Borrow<Value>>(objects: &[(K, V)]) -> Mesh {
    let principal = objects
        .iter()
        .filter(|(k, _)| k.as_ref() == "AuthorizationPolicy")
        .flat_map(|(_, o)| {
            o.borrow()
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|r| {
                    r.get("from")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                })
                .flat_map(|f| {
                    strs(f.pointer("/source/principals"))
                        .into_iter()
                        .chain(strs(f.pointer("/source/notPrincipals")))
                })
                .collect::<Vec<_>>()
        })
        .next()
        .unwrap_or_else(|| super::DEFAULT_INGRESS_PRINCIPAL.to_string());
    let mut mesh = super::translate(objects, &super::Settings::default());
    let istio: Vec<(&str, &Value)> = objects
        .iter()
        .map(|(k, o)| (k.as_ref(), o.borrow()))
        .filter(|(k, _)| {
            matches!(
                *k,
                "VirtualService" | "AuthorizationPolicy" | "RequestAuthentication"
            )
        })
        .collect();
    let parsed = from_objects(&istio, &principal);
    mesh.translations.extend(parsed.translations);
    mesh.ingress_principal = principal;
    mesh
}

#[cfg(test)]
mod tests {
    use super::super::path::route_uri;
    use super::*;

    #[test]
    fn route_regexes_give_back_their_paths() {
        for p in ["/*", "/a/{**}", "/a/{*}/b", "/v1.0/x", "/", "/a+b/{*}"] {
            for escape in [false, true] {
                assert_eq!(path_of(&route_uri(p, escape)), p, "{p} {escape}");
            }
        }
    }

    #[test]
    fn rendered_objects_read_back_to_the_same_verdicts() {
        use super::super::tests::{orders_apirule, orders_settings};
        let mut s = orders_settings();
        s.escape_literals = true;
        s.allow_in_cluster.push("shop/orders".into());
        let mesh = super::super::translate(&[("APIRule", orders_apirule())], &s);
        let objs: Vec<(String, Value)> =
            super::super::render::translation_objects(&mesh.translations[0], &IndexMap::new())
                .into_iter()
                .map(|o| (o["kind"].as_str().unwrap().to_string(), o))
                .collect();
        let back = from_objects(&objs, &s.ingress_principal);
        for m in ["GET", "POST", "DELETE", "OPTIONS"] {
            for p in [
                "/healthz",
                "/api/orders/1",
                "/api/x",
                "/api/",
                "/",
                "/other",
            ] {
                let (a, b) = (
                    mesh.evaluate("orders.example.com", m, p),
                    back.evaluate("orders.example.com", m, p),
                );
                assert_eq!((a.route, a.verdict), (b.route, b.verdict), "{m} {p}");
            }
        }
        let w = &mesh.translations[0].virtual_service.http[0].workload;
        assert_eq!(
            mesh.evaluate_in_cluster(w, "GET", "/").verdict,
            back.evaluate_in_cluster(
                &back.translations[0].virtual_service.http[0].workload,
                "GET",
                "/"
            )
            .verdict
        );
    }
}
