//! The Istio model: the objects Kyma's api-gateway controller creates for each APIRule
//! (VirtualService, AuthorizationPolicies, RequestAuthentications) and the mesh extension
//! providers the Istio module registers for the authorizers. A pure-data stage after `plan`:
//! it reads the rendered APIRule objects (the controller's own input), so the same translation
//! serves `explain`, the access diff (which compares renders) and `render --target istio`.
//!
//! Sources (kyma-project/api-gateway at 64d110d6, "3.8.0-64", after tag 3.10.0, unless
//! noted; the facts are summarised with line references in the project's reference notes):
//! - VirtualService: `internal/processing/processors/v2alpha1/virtualservice/virtual_service_processor.go`
//!   (`Create` lines 105–194, timeout default 180 s line 20, CORS line 276, CORS response
//!   header removal line 402) and `internal/builders/virtual_service.go` (`SetHostHeader`
//!   line 360, `SetRequestCookies` line 372).
//! - AuthorizationPolicies: `internal/processing/processors/v2alpha1/authorizationpolicy/creator.go`
//!   (`generateAuthorizationPolicies` line 64, `withFrom` line 332, `generateNotPaths`
//!   line 394, `withTo`; scope keys `scp`, `scope`, `scopes`; audience key `aud`) and
//!   `internal/builders/istio.go` (ingress principal line 16).
//! - RequestAuthentications: `…/requestauthentication/creator.go`, `internal/builders/istio.go`
//!   `FromV2Alpha1` line 385, dedup key `GetRequestAuthenticationKey`
//!   (`internal/processing/processors/request_authentication_processor.go` line 104).
//! - Extension providers: kyma-project/istio a6a4fb3b `api/v1alpha2/istio_merge.go`
//!   (`BuildExternalAuthorizerConfiguration` line 177).

pub mod compare;
pub mod eval;
pub mod explain;
pub mod parse;
pub mod path;
pub mod regions;
pub mod render;

use indexmap::IndexMap;
use path::UriMatch;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The principal the controller admits: istioctl's and Kyma's ingress gateway service account
/// (`internal/builders/istio.go:16`). A Helm `istio/gateway` release uses its own.
pub const DEFAULT_INGRESS_PRINCIPAL: &str =
    "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
/// The route timeout without `timeout` (`defaultHttpTimeout`, virtual_service_processor.go:20).
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 180;
/// The claim keys a required scope is looked up in, one ALLOW rule each (creator.go `defaultScopeKeys`).
pub const SCOPE_KEYS: [&str; 3] = [
    "request.auth.claims[scp]",
    "request.auth.claims[scope]",
    "request.auth.claims[scopes]",
];
/// The claim key of an audience condition (creator.go `audienceKey`).
pub const AUDIENCE_KEY: &str = "request.auth.claims[aud]";
/// The upstream CORS headers every route removes from responses, in the controller's order
/// (virtual_service_processor.go:402).
pub const CORS_RESPONSE_REMOVE: [&str; 6] = [
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Max-Age",
];
/// The paths `generateNotPaths` never excludes (creator.go:394).
pub const CATCH_ALL_PATHS: [&str; 3] = ["/*", "/{**}", "/"];

/// What the translation needs beyond the APIRules: the cluster's facts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The ingress gateway's SPIFFE principal.
    pub ingress_principal: String,
    /// Escape literal regex characters in route regexes (kexpose's Istio target); the
    /// controller does not.
    pub escape_literals: bool,
    /// Pod selectors by service (`namespace`, `name`), when known.
    pub selectors: BTreeMap<(String, String), IndexMap<String, String>>,
    /// APIRules (`namespace/name`) whose workloads admit in-cluster callers.
    pub allow_in_cluster: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ingress_principal: DEFAULT_INGRESS_PRINCIPAL.to_string(),
            escape_literals: false,
            selectors: BTreeMap::new(),
            allow_in_cluster: Vec::new(),
        }
    }
}

/// The pods a policy selects: a Service's selector. When it is not known (kexpose never
/// guesses it) the Service stands for it: the controller copies that Service's selector.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadRef {
    /// Namespace of the policies (the service namespace).
    pub namespace: String,
    /// The Service whose selector the controller copies.
    pub service: String,
    /// The selector, when known.
    pub selector: Option<Vec<(String, String)>>,
}

impl WorkloadRef {
    /// Do two refs select the same pods (as far as an offline model can tell)?
    pub fn same_pods(&self, other: &WorkloadRef) -> bool {
        self.namespace == other.namespace
            && match (&self.selector, &other.selector) {
                (Some(a), Some(b)) => a == b,
                _ => self.service == other.service,
            }
    }
}

/// One VirtualService HTTP route (one per rule, in rule order).
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Index of the APIRule rule.
    pub rule: usize,
    /// The rule's raw path.
    pub path: String,
    /// `match[0].uri`.
    pub uri: UriMatch,
    /// The methods, in rule order (`match[0].method.regex` is `^(M1|M2)$`).
    pub methods: Vec<String>,
    /// `<name>.<ns>.svc.cluster.local`.
    pub destination_host: String,
    /// Destination port.
    pub port: i64,
    /// The workload behind the destination.
    pub workload: WorkloadRef,
    /// Seconds.
    pub timeout: i64,
    /// The Istio `corsPolicy`, when any.
    pub cors: Option<Value>,
    /// `headers.request.set`, in order.
    pub request_set: IndexMap<String, String>,
    /// The compiled matcher, built on first use.
    pub matcher: RouteCache,
}

/// A lazily compiled [`path::RouteMatcher`] (ignored by equality).
#[derive(Debug, Clone, Default)]
pub struct RouteCache(std::sync::OnceLock<path::RouteMatcher>);

impl PartialEq for RouteCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Route {
    /// Does the route's URI match match the path?
    pub fn uri_matches(&self, path: &str) -> bool {
        self.matcher
            .0
            .get_or_init(|| path::RouteMatcher::new(&self.uri))
            .matches(path)
    }
}

/// A VirtualService.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualService {
    /// Name (kexpose: the APIRule name).
    pub name: String,
    /// The APIRule namespace.
    pub namespace: String,
    /// `[host]`.
    pub hosts: Vec<String>,
    /// `[ns/gateway]`.
    pub gateways: Vec<String>,
    /// Routes in rule order.
    pub http: Vec<Route>,
}

/// AuthorizationPolicy action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// ALLOW.
    Allow,
    /// DENY.
    Deny,
    /// CUSTOM (an extension provider decides).
    Custom,
}

/// `rules[].from[].source`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// `principals`.
    pub principals: Vec<String>,
    /// `notPrincipals`.
    pub not_principals: Vec<String>,
    /// `requestPrincipals` (`<issuer>/*`).
    pub request_principals: Vec<String>,
}

/// `rules[].to[].operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operation {
    /// `hosts`.
    pub hosts: Vec<String>,
    /// `methods`.
    pub methods: Vec<String>,
    /// `paths`.
    pub paths: Vec<String>,
    /// `notPaths`.
    pub not_paths: Vec<String>,
}

/// `rules[].when[]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Condition {
    /// e.g. `request.auth.claims[aud]`.
    pub key: String,
    /// Any of these.
    pub values: Vec<String>,
}

/// One policy rule: all of from, to and when must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// Sources (any); empty: any source.
    pub from: Vec<Source>,
    /// Operations (any); empty: any operation.
    pub to: Vec<Operation>,
    /// Conditions (all).
    pub when: Vec<Condition>,
}

/// Why a policy exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// From rule `rule` of the APIRule.
    Rule(usize),
    /// `allowInClusterCallers`.
    InCluster,
}

/// An AuthorizationPolicy.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationPolicy {
    /// Deterministic name.
    pub name: String,
    /// Service namespace.
    pub namespace: String,
    /// Selected pods.
    pub workload: WorkloadRef,
    /// Action.
    pub action: Action,
    /// CUSTOM provider name.
    pub provider: Option<String>,
    /// Rules (any).
    pub rules: Vec<PolicyRule>,
    /// Why it exists.
    pub origin: Origin,
}

/// One `jwtRules` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRule {
    /// `issuer`.
    pub issuer: String,
    /// `jwksUri`.
    pub jwks_uri: String,
    /// `fromHeaders` (name, prefix), verbatim.
    pub from_headers: Vec<(String, Option<String>)>,
    /// `fromParams`.
    pub from_params: Vec<String>,
}

/// A RequestAuthentication (`forwardOriginalToken: true` always).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestAuthentication {
    /// Deterministic name.
    pub name: String,
    /// Service namespace.
    pub namespace: String,
    /// Selected pods.
    pub workload: WorkloadRef,
    /// `jwtRules`.
    pub jwt_rules: Vec<JwtRule>,
}

/// Everything one APIRule becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// `namespace/name` of the APIRule.
    pub apirule: String,
    /// The resolved host.
    pub host: String,
    /// The APIRule's rules (path, methods), for naming findings.
    pub rules: Vec<(String, Vec<String>)>,
    /// The VirtualService.
    pub virtual_service: VirtualService,
    /// Policies in creation order: per rule its CUSTOM then ALLOW policies; then the
    /// in-cluster policy.
    pub policies: Vec<AuthorizationPolicy>,
    /// RequestAuthentications, deduplicated like the controller.
    pub request_authentications: Vec<RequestAuthentication>,
}

/// A mesh extension provider (`meshConfig.extensionProviders[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionProvider {
    /// Name.
    pub name: String,
    /// `envoyExtAuthzHttp`.
    pub envoy_ext_authz_http: Value,
}

/// The whole mesh: every APIRule's objects and the extension providers.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// Per APIRule, in input order.
    pub translations: Vec<Translation>,
    /// Per authorizer, in the Istio CR's order.
    pub providers: Vec<ExtensionProvider>,
    /// The ingress principal used.
    pub ingress_principal: String,
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A rule's access strategy as the controller reads it.
struct Strategy<'a> {
    authorizers: Vec<String>,
    /// `jwt` or `extAuth.restrictions`: (authentications, authorizations).
    token: Option<(&'a [Value], &'a [Value])>,
}

fn arr(v: Option<&Value>) -> &[Value] {
    match v.and_then(Value::as_array) {
        Some(a) => a.as_slice(),
        None => &[],
    }
}

fn strategy(rule: &Value) -> Strategy<'_> {
    if let Some(j) = rule.get("jwt") {
        return Strategy {
            authorizers: Vec::new(),
            token: Some((arr(j.get("authentications")), arr(j.get("authorizations")))),
        };
    }
    if let Some(e) = rule.get("extAuth") {
        return Strategy {
            authorizers: strs(e.get("authorizers")),
            token: e
                .get("restrictions")
                .map(|r| (arr(r.get("authentications")), arr(r.get("authorizations")))),
        };
    }
    Strategy {
        authorizers: Vec::new(),
        token: None,
    }
}

/// `generateNotPaths` (creator.go:394, PR #1860, api-gateway 3.1.0): for rule `current`, walk
/// all rules in order; skip catch-all paths (`/*`, `/{**}`, `/`) — checked first, so a
/// catch-all current rule never stops; stop at the first rule with the current rule's path;
/// otherwise add the other rule's path when the methods intersect. The exclusion then applies
/// to **all** methods of the current rule.
pub fn not_paths(rules: &[(String, Vec<String>)], current: usize) -> Vec<String> {
    let (cur_path, cur_methods) = &rules[current];
    let mut out = Vec::new();
    for (path, methods) in rules {
        if CATCH_ALL_PATHS.contains(&path.as_str()) {
            continue;
        }
        if path == cur_path {
            break;
        }
        if methods.iter().any(|m| cur_methods.contains(m)) && !out.contains(path) {
            out.push(path.clone());
        }
    }
    out
}

/// Translate the rendered objects: every APIRule, and the Istio CR's authorizers.
pub fn translate<K: AsRef<str>, V: std::borrow::Borrow<Value>>(
    objects: &[(K, V)],
    settings: &Settings,
) -> Mesh {
    let mut mesh = Mesh {
        ingress_principal: settings.ingress_principal.clone(),
        ..Mesh::default()
    };
    for (kind, value) in objects {
        let value = value.borrow();
        match kind.as_ref() {
            "APIRule" => mesh.translations.push(translate_apirule(value, settings)),
            "Istio" => {
                for a in value
                    .pointer("/spec/config/authorizers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    mesh.providers.push(extension_provider(a));
                }
            }
            _ => {}
        }
    }
    mesh
}

/// One Istio CR `authorizers` entry as a mesh extension provider (istio_merge.go
/// `BuildExternalAuthorizerConfiguration`): headers flattened into the
/// `EnvoyExternalAuthorizationHttpProvider` fields; `timeout` in whole seconds.
pub fn extension_provider(a: &Value) -> ExtensionProvider {
    let mut http = serde_json::Map::new();
    for k in ["service", "port", "timeout", "pathPrefix"] {
        if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
            http.insert(k.into(), v.clone());
        }
    }
    let h = a.get("headers");
    let mut put = |field: &str, ptr: &str| {
        if let Some(v) = h.and_then(|h| h.pointer(ptr)).filter(|v| !v.is_null()) {
            http.insert(field.into(), v.clone());
        }
    };
    put("includeRequestHeadersInCheck", "/inCheck/include");
    put("includeAdditionalHeadersInCheck", "/inCheck/add");
    put("headersToUpstreamOnAllow", "/toUpstream/onAllow");
    put("headersToDownstreamOnAllow", "/toDownstream/onAllow");
    put("headersToDownstreamOnDeny", "/toDownstream/onDeny");
    ExtensionProvider {
        name: s(a, "name").unwrap_or_default().to_string(),
        envoy_ext_authz_http: Value::Object(http),
    }
}

/// Translate one APIRule object (`gateway.kyma-project.io/v2`).
pub fn translate_apirule(apirule: &Value, settings: &Settings) -> Translation {
    let meta = &apirule["metadata"];
    let name = s(meta, "name").unwrap_or_default().to_string();
    let namespace = s(meta, "namespace").unwrap_or_default().to_string();
    let spec = &apirule["spec"];
    let host = strs(spec.get("hosts"))
        .into_iter()
        .next()
        .unwrap_or_default();
    let gateway = match (s(spec, "gateway"), s(spec, "externalGateway")) {
        (Some(g), _) => g.to_string(),
        // apirule_controller.go discoverGateway: the ExternalGateway's Gateway `<ns>/<name>-gw`.
        (None, Some(e)) => format!("{e}-gw"),
        (None, None) => String::new(),
    };
    let empty = Vec::new();
    let rules_json = spec
        .get("rules")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let rules: Vec<(String, Vec<String>)> = rules_json
        .iter()
        .map(|r| {
            (
                s(r, "path").unwrap_or_default().to_string(),
                strs(r.get("methods")),
            )
        })
        .collect();
    let cors = spec.get("corsPolicy").and_then(cors_policy);
    let spec_service = spec.get("service");
    let apirule_ref = format!("{namespace}/{name}");

    let mut http = Vec::new();
    let mut policies = Vec::new();
    let mut ras: Vec<(String, RequestAuthentication)> = Vec::new();
    for (i, r) in rules_json.iter().enumerate() {
        let (path, methods) = &rules[i];
        // service.go FindServiceNamespace: rule → spec → APIRule namespace.
        let svc = r
            .get("service")
            .or(spec_service)
            .cloned()
            .unwrap_or(Value::Null);
        let svc_name = s(&svc, "name").unwrap_or_default().to_string();
        let svc_ns = s(&svc, "namespace")
            .or_else(|| spec_service.and_then(|sv| s(sv, "namespace")))
            .unwrap_or(&namespace)
            .to_string();
        let port = svc.get("port").and_then(Value::as_i64).unwrap_or_default();
        let workload = WorkloadRef {
            namespace: svc_ns.clone(),
            service: svc_name.clone(),
            selector: settings
                .selectors
                .get(&(svc_ns.clone(), svc_name.clone()))
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        };
        let mut request_set = IndexMap::new();
        request_set.insert(
            "x-forwarded-host".to_string(),
            if host.starts_with("*.") {
                "%REQ(:AUTHORITY)%".to_string()
            } else {
                host.clone()
            },
        );
        if let Some(h) = r.pointer("/request/headers").and_then(Value::as_object) {
            for (k, v) in h {
                request_set.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
        if let Some(c) = r.pointer("/request/cookies").and_then(Value::as_object) {
            // The controller joins in Go map order (nondeterministic); kexpose keeps spec order.
            let joined: Vec<String> = c
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            request_set.insert("Cookie".to_string(), joined.join("; "));
        }
        http.push(Route {
            rule: i,
            path: path.clone(),
            uri: path::route_uri(path, settings.escape_literals),
            methods: methods.clone(),
            destination_host: format!("{svc_name}.{svc_ns}.svc.cluster.local"),
            port,
            workload: workload.clone(),
            timeout: r
                .get("timeout")
                .or(spec.get("timeout"))
                .and_then(Value::as_i64)
                .unwrap_or(DEFAULT_TIMEOUT_SECONDS),
            cors: cors.clone(),
            request_set,
            matcher: RouteCache::default(),
        });

        let op = Operation {
            hosts: vec![host.clone()],
            methods: methods.clone(),
            paths: vec![if path == "/*" {
                "/{**}".to_string()
            } else {
                path.clone()
            }],
            not_paths: not_paths(&rules, i),
        };
        let strat = strategy(r);
        let base =
            |suffix: String, action: Action, provider: Option<String>, rs: Vec<PolicyRule>| {
                AuthorizationPolicy {
                    name: format!("{name}-r{i}-{suffix}"),
                    namespace: svc_ns.clone(),
                    workload: workload.clone(),
                    action,
                    provider,
                    rules: rs,
                    origin: Origin::Rule(i),
                }
            };
        for a in &strat.authorizers {
            policies.push(base(
                format!("custom-{a}"),
                Action::Custom,
                Some(a.clone()),
                vec![PolicyRule {
                    from: Vec::new(),
                    to: vec![op.clone()],
                    when: Vec::new(),
                }],
            ));
        }
        match strat.token {
            None => policies.push(base(
                "allow".into(),
                Action::Allow,
                None,
                vec![PolicyRule {
                    from: vec![Source {
                        principals: vec![settings.ingress_principal.clone()],
                        ..Source::default()
                    }],
                    to: vec![op.clone()],
                    when: Vec::new(),
                }],
            )),
            Some((authentications, authorizations)) => {
                let from = vec![Source {
                    request_principals: authentications
                        .iter()
                        .filter_map(|a| s(a, "issuer"))
                        .map(|iss| format!("{iss}/*"))
                        .collect(),
                    principals: vec![settings.ingress_principal.clone()],
                    not_principals: Vec::new(),
                }];
                let rule_with = |when: Vec<Condition>| PolicyRule {
                    from: from.clone(),
                    to: vec![op.clone()],
                    when,
                };
                if authorizations.is_empty() {
                    policies.push(base(
                        "allow".into(),
                        Action::Allow,
                        None,
                        vec![rule_with(Vec::new())],
                    ));
                }
                for (j, authz) in authorizations.iter().enumerate() {
                    let scopes = strs(authz.get("requiredScopes"));
                    let auds: Vec<Condition> = strs(authz.get("audiences"))
                        .into_iter()
                        .map(|a| Condition {
                            key: AUDIENCE_KEY.into(),
                            values: vec![a],
                        })
                        .collect();
                    let rs = if scopes.is_empty() {
                        vec![rule_with(auds)]
                    } else {
                        SCOPE_KEYS
                            .iter()
                            .map(|k| {
                                let mut when: Vec<Condition> = scopes
                                    .iter()
                                    .map(|sc| Condition {
                                        key: (*k).into(),
                                        values: vec![sc.clone()],
                                    })
                                    .collect();
                                when.extend(auds.iter().cloned());
                                rule_with(when)
                            })
                            .collect()
                    };
                    policies.push(base(format!("allow-{j}"), Action::Allow, None, rs));
                }
                // requestauthentication/creator.go: one object per (selector, issuers, ns);
                // a later rule with the same key overwrites the earlier one's entry.
                let jwt_rules: Vec<JwtRule> = authentications.iter().map(jwt_rule).collect();
                let key = format!(
                    "{:?}:{}:{svc_ns}",
                    workload_key(&workload),
                    jwt_rules
                        .iter()
                        .map(|j| format!("{}:{}", j.issuer, j.jwks_uri))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let ra = RequestAuthentication {
                    name: String::new(),
                    namespace: svc_ns.clone(),
                    workload: workload.clone(),
                    jwt_rules,
                };
                match ras.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, existing)) => *existing = ra,
                    None => ras.push((key, ra)),
                }
            }
        }
    }
    if settings.allow_in_cluster.contains(&apirule_ref) {
        // The documented workaround (api-gateway docs/user/troubleshooting-guides/
        // 03-80-blocked-in-cluster-communication.md): ALLOW from anyone but the ingress
        // gateway, on each workload the APIRule targets.
        let mut seen: Vec<WorkloadRef> = Vec::new();
        for route in &http {
            if seen.iter().any(|w| w.same_pods(&route.workload)) {
                continue;
            }
            seen.push(route.workload.clone());
            let suffix = if seen.len() == 1 {
                String::new()
            } else {
                format!("-{}", seen.len() - 1)
            };
            policies.push(AuthorizationPolicy {
                name: format!("{name}-allow-in-cluster{suffix}"),
                namespace: route.workload.namespace.clone(),
                workload: route.workload.clone(),
                action: Action::Allow,
                provider: None,
                rules: vec![PolicyRule {
                    from: vec![Source {
                        not_principals: vec![settings.ingress_principal.clone()],
                        ..Source::default()
                    }],
                    to: Vec::new(),
                    when: Vec::new(),
                }],
                origin: Origin::InCluster,
            });
        }
    }
    let request_authentications = ras
        .into_iter()
        .enumerate()
        .map(|(k, (_, mut ra))| {
            ra.name = format!("{name}-jwt-{k}");
            ra
        })
        .collect();
    Translation {
        apirule: apirule_ref,
        host: host.clone(),
        rules,
        virtual_service: VirtualService {
            name: name.clone(),
            namespace,
            hosts: vec![host],
            gateways: vec![gateway],
            http,
        },
        policies,
        request_authentications,
    }
}

fn workload_key(w: &WorkloadRef) -> String {
    match &w.selector {
        Some(sel) => sel
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        None => format!("service:{}", w.service),
    }
}

fn jwt_rule(a: &Value) -> JwtRule {
    JwtRule {
        issuer: s(a, "issuer").unwrap_or_default().to_string(),
        jwks_uri: s(a, "jwksUri").unwrap_or_default().to_string(),
        from_headers: a
            .get("fromHeaders")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|h| {
                (
                    s(h, "name").unwrap_or_default().to_string(),
                    s(h, "prefix").map(str::to_string),
                )
            })
            .collect(),
        from_params: strs(a.get("fromParams")),
    }
}

/// APIRule `corsPolicy` → Istio `corsPolicy` (`FromV2Alpha1ApiRuleCorsPolicy`, line 276):
/// only with a non-empty `allowOrigins`; origin keys `exact`/`regex` kept, others `prefix`;
/// `maxAge` in seconds as a duration string.
fn cors_policy(c: &Value) -> Option<Value> {
    let origins: Vec<Value> = c
        .get("allowOrigins")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| {
            m.iter().map(|(k, v)| {
                let key = if k == "exact" || k == "regex" {
                    k.as_str()
                } else {
                    "prefix"
                };
                json!({ key: v })
            })
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    let mut out = serde_json::Map::new();
    out.insert("allowOrigins".into(), Value::Array(origins));
    for k in ["allowMethods", "allowHeaders", "exposeHeaders"] {
        if let Some(v) = c.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(n) = c.get("maxAge").and_then(Value::as_i64) {
        out.insert("maxAge".into(), format!("{n}s").into());
    }
    if let Some(b) = c.get("allowCredentials") {
        out.insert("allowCredentials".into(), b.clone());
    }
    Some(Value::Object(out))
}

impl Route {
    /// The Istio `HTTPRoute`.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert(
            "match".into(),
            json!([{
                "uri": self.uri.to_json(),
                "method": { "regex": format!("^({})$", self.methods.join("|")) },
            }]),
        );
        m.insert(
            "route".into(),
            json!([{
                "destination": { "host": self.destination_host, "port": { "number": self.port } },
                "weight": 100,
            }]),
        );
        m.insert("timeout".into(), format!("{}s", self.timeout).into());
        if let Some(c) = &self.cors {
            m.insert("corsPolicy".into(), c.clone());
        }
        m.insert(
            "headers".into(),
            json!({
                "request": { "set": self.request_set },
                "response": { "remove": CORS_RESPONSE_REMOVE },
            }),
        );
        Value::Object(m)
    }
}

impl VirtualService {
    /// The `spec`.
    pub fn spec_json(&self) -> Value {
        json!({
            "hosts": self.hosts,
            "gateways": self.gateways,
            "http": self.http.iter().map(Route::to_json).collect::<Vec<_>>(),
        })
    }
}

fn non_empty(m: &mut serde_json::Map<String, Value>, key: &str, v: &[String]) {
    if !v.is_empty() {
        m.insert(key.into(), json!(v));
    }
}

impl PolicyRule {
    /// The Istio `Rule`.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        if !self.from.is_empty() {
            let from: Vec<Value> = self
                .from
                .iter()
                .map(|s| {
                    let mut src = serde_json::Map::new();
                    non_empty(&mut src, "principals", &s.principals);
                    non_empty(&mut src, "notPrincipals", &s.not_principals);
                    non_empty(&mut src, "requestPrincipals", &s.request_principals);
                    json!({ "source": src })
                })
                .collect();
            m.insert("from".into(), Value::Array(from));
        }
        if !self.to.is_empty() {
            let to: Vec<Value> = self
                .to
                .iter()
                .map(|o| {
                    let mut op = serde_json::Map::new();
                    non_empty(&mut op, "hosts", &o.hosts);
                    non_empty(&mut op, "methods", &o.methods);
                    non_empty(&mut op, "paths", &o.paths);
                    non_empty(&mut op, "notPaths", &o.not_paths);
                    json!({ "operation": op })
                })
                .collect();
            m.insert("to".into(), Value::Array(to));
        }
        if !self.when.is_empty() {
            m.insert(
                "when".into(),
                self.when
                    .iter()
                    .map(|c| json!({ "key": c.key, "values": c.values }))
                    .collect(),
            );
        }
        Value::Object(m)
    }
}

fn selector_json(w: &WorkloadRef) -> Value {
    match &w.selector {
        Some(sel) => {
            let m: serde_json::Map<String, Value> = sel
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            json!({ "matchLabels": m })
        }
        None => Value::Null,
    }
}

impl AuthorizationPolicy {
    /// The `spec` (selector `null` when not known: the Istio target refuses to render then).
    pub fn spec_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("selector".into(), selector_json(&self.workload));
        m.insert(
            "action".into(),
            match self.action {
                Action::Allow => "ALLOW",
                Action::Deny => "DENY",
                Action::Custom => "CUSTOM",
            }
            .into(),
        );
        if let Some(p) = &self.provider {
            m.insert("provider".into(), json!({ "name": p }));
        }
        m.insert(
            "rules".into(),
            self.rules.iter().map(PolicyRule::to_json).collect(),
        );
        Value::Object(m)
    }
}

impl RequestAuthentication {
    /// The `spec`.
    pub fn spec_json(&self) -> Value {
        let rules: Vec<Value> = self
            .jwt_rules
            .iter()
            .map(|j| {
                let mut m = serde_json::Map::new();
                m.insert("issuer".into(), j.issuer.clone().into());
                m.insert("jwksUri".into(), j.jwks_uri.clone().into());
                m.insert("forwardOriginalToken".into(), true.into());
                if !j.from_headers.is_empty() {
                    let hs: Vec<Value> = j
                        .from_headers
                        .iter()
                        .map(|(n, p)| match p {
                            Some(p) => json!({ "name": n, "prefix": p }),
                            None => json!({ "name": n }),
                        })
                        .collect();
                    m.insert("fromHeaders".into(), Value::Array(hs));
                }
                non_empty(&mut m, "fromParams", &j.from_params);
                Value::Object(m)
            })
            .collect();
        json!({ "selector": selector_json(&self.workload), "jwtRules": rules })
    }
}

#[cfg(test)]
mod tests;

/// The mesh facts a spec gives: selectors by Service, the workloads that admit in-cluster
/// callers, and (for the Istio target) the ingress gateway principal. `istio` picks the
/// target: the Kyma controller always uses [`DEFAULT_INGRESS_PRINCIPAL`] and unescaped
/// route regexes.
pub fn settings_from_spec(spec: &crate::spec::Spec, istio: bool) -> Settings {
    let mut s = Settings {
        escape_literals: istio,
        ..Settings::default()
    };
    if istio
        && let Some(p) = spec
            .cluster
            .as_ref()
            .and_then(|c| c.ingress_gateway_principal.clone())
    {
        s.ingress_principal = p;
    }
    for w in &spec.workloads {
        let ws_ns = w
            .service
            .as_ref()
            .and_then(|ws| ws.namespace.clone())
            .unwrap_or_else(|| w.namespace.clone());
        if let Some(sel) = &w.selector {
            let name = w
                .service
                .as_ref()
                .and_then(|ws| ws.name.clone())
                .unwrap_or_else(|| w.name.clone());
            s.selectors.insert((ws_ns.clone(), name), sel.clone());
        }
        for r in &w.rules {
            if let Some(rs) = &r.service
                && let Some(sel) = &rs.selector
            {
                let ns = rs.namespace.clone().unwrap_or_else(|| ws_ns.clone());
                s.selectors.insert((ns, rs.name.clone()), sel.clone());
            }
        }
        if w.allow_in_cluster_callers == Some(true) {
            s.allow_in_cluster
                .push(format!("{}/{}", w.namespace, w.name));
        }
    }
    s
}
