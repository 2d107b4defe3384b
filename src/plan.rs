//! Plan: everything defaulted and resolved, once, so that templates never compute.
//!
//! The plan is also the model that reviews and `explain` read: per host, which rules, with
//! which access.

pub use crate::spec::names::{is_label_value, is_rfc1123_label};
pub use crate::spec::resolve::{
    TUTORIAL_ARGS, authorizer_namespace, chart_fullname, credentials_secret, fqdn, jwks_uri,
    oauth2_proxy_args,
};
use crate::spec::{
    self, Authorization, Authorizer, AuthorizerHeaders, AuthorizerType, Rule, Spec,
    TokenRequirements, Workload,
};
use indexmap::IndexMap;
use serde::Serialize;

/// The Helm repository of the oauth2-proxy chart.
pub const OAUTH2_PROXY_CHART_REPO: &str = "https://oauth2-proxy.github.io/manifests";
/// The chart's name in that repository.
pub const OAUTH2_PROXY_CHART: &str = "oauth2-proxy";
/// The Argo CD sync options of the partial Istio object: a partial object needs server-side
/// apply and no client-side validation, and pruning or deleting the Istio CR would uninstall
/// Istio.
pub const ARGOCD_ISTIO_SYNC_OPTIONS: &str =
    "ServerSideApply=true,Validate=false,Prune=false,Delete=false";
/// The default namespace of Argo CD Applications.
pub const DEFAULT_ARGOCD_NAMESPACE: &str = "argocd";

/// How each oauth2-proxy Helm release is represented as a Kubernetes object (Helm values
/// alone are not a manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseObjects {
    /// Only the values file (`helm/<name>/values.yaml`); you run `helm` yourself.
    #[default]
    None,
    /// An Argo CD `Application` per release.
    Argocd,
    /// A Flux `HelmRepository` and `HelmRelease` per release.
    Flux,
}

/// Where the output goes and what the GitOps tool applying it needs. The default target is
/// the plain output tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The objects that stand for the Helm releases.
    pub release_objects: ReleaseObjects,
    /// The namespace of Argo CD Applications.
    pub argocd_namespace: String,
    /// The value of the label `app.kubernetes.io/instance` on every emitted object.
    pub instance: Option<String>,
    /// The objects are printed as one stream for Argo CD (the config-management plugin):
    /// the partial Istio object gets Argo CD's sync options whatever `release_objects` is.
    pub stream: bool,
    /// Plain Istio instead of Kyma: VirtualServices, AuthorizationPolicies,
    /// RequestAuthentications and the mesh config fragment instead of APIRules and the
    /// Istio CR (`render --target istio`).
    pub istio: bool,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            release_objects: ReleaseObjects::None,
            argocd_namespace: DEFAULT_ARGOCD_NAMESPACE.to_string(),
            instance: None,
            stream: false,
            istio: false,
        }
    }
}

impl Target {
    /// The target a command line asks for: `stream` for `-o -`; `release_objects` as given
    /// (default: Argo CD Applications for the stream, none for a directory);
    /// `argocd_namespace` (only with Argo CD Applications); `instance` with where it came from
    /// (`--instance`, `ARGOCD_APP_NAME`), named in the error. The error says what is wrong
    /// with which option.
    pub fn new(
        stream: bool,
        release_objects: Option<ReleaseObjects>,
        argocd_namespace: Option<String>,
        instance: Option<(String, &str)>,
    ) -> Result<Target, String> {
        let release_objects = match release_objects {
            Some(r) => r,
            None if stream => ReleaseObjects::Argocd,
            None => ReleaseObjects::None,
        };
        let mut target = Target {
            release_objects,
            stream,
            ..Target::default()
        };
        if let Some(ns) = argocd_namespace {
            if release_objects != ReleaseObjects::Argocd {
                return Err(
                    "--argocd-namespace names the namespace of Argo CD Applications; it needs --helm-release argocd".into(),
                );
            }
            if !is_rfc1123_label(&ns) {
                return Err(format!(
                    "--argocd-namespace {ns:?}: not a namespace name (lowercase letters, digits and `-`, at most 63 characters)"
                ));
            }
            target.argocd_namespace = ns;
        }
        if let Some((name, from)) = &instance
            && !is_label_value(name)
        {
            return Err(format!(
                "{from} {name:?} cannot be the label app.kubernetes.io/instance: a label value has at most 63 characters, letters, digits, `-`, `_` and `.`, and starts and ends with a letter or digit; give one with --instance"
            ));
        }
        target.instance = instance.map(|(name, _)| name);
        Ok(target)
    }
}

/// What the GitOps integrations add, resolved from the [`Target`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitOps {
    /// Which objects stand for the Helm releases.
    #[serde(rename = "releaseObjects")]
    pub release_objects: ReleaseObjects,
    /// Namespace of Argo CD Applications.
    #[serde(rename = "argocdNamespace")]
    pub argocd_namespace: String,
    /// The oauth2-proxy chart repository.
    #[serde(rename = "chartRepo")]
    pub chart_repo: String,
    /// The chart's name.
    pub chart: String,
    /// Labels of the partial Istio object (only the instance label: the Istio CR belongs to
    /// Kyma, not to kexpose).
    #[serde(rename = "istioLabels")]
    pub istio_labels: IndexMap<String, String>,
    /// Annotations of the partial Istio object for the tool that applies it.
    #[serde(rename = "istioAnnotations")]
    pub istio_annotations: IndexMap<String, String>,
}

impl GitOps {
    fn resolve(target: &Target) -> Self {
        let mut istio_labels = IndexMap::new();
        if let Some(instance) = &target.instance {
            istio_labels.insert(INSTANCE_LABEL.to_string(), instance.clone());
        }
        let mut istio_annotations = IndexMap::new();
        if target.stream || target.release_objects == ReleaseObjects::Argocd {
            istio_annotations.insert(
                "argocd.argoproj.io/sync-options".to_string(),
                ARGOCD_ISTIO_SYNC_OPTIONS.to_string(),
            );
        }
        if target.release_objects == ReleaseObjects::Flux {
            // Flux's documented way to patch an object it does not own: never garbage
            // collect it, and apply without removing the fields other managers set.
            istio_annotations.insert(
                "kustomize.toolkit.fluxcd.io/prune".to_string(),
                "Disabled".to_string(),
            );
            istio_annotations.insert(
                "kustomize.toolkit.fluxcd.io/ssa".to_string(),
                "Merge".to_string(),
            );
        }
        GitOps {
            release_objects: target.release_objects,
            argocd_namespace: target.argocd_namespace.clone(),
            chart_repo: OAUTH2_PROXY_CHART_REPO.to_string(),
            chart: OAUTH2_PROXY_CHART.to_string(),
            istio_labels,
            istio_annotations,
        }
    }
}

/// The label that names the GitOps application (Argo CD's tracking label).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Everything to emit, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The spec's file name, for the generated-file headers.
    pub source: String,
    /// Labels every emitted object carries.
    pub labels: IndexMap<String, String>,
    /// Namespaces to emit (sorted, unique); empty when `manageNamespaces: false`.
    pub namespaces: Vec<String>,
    /// Istio CR authorizer entries, in spec order.
    pub authorizers: Vec<IstioAuthorizer>,
    /// oauth2-proxy Helm releases, in spec order.
    pub releases: Vec<HelmRelease>,
    /// APIRules, in spec order.
    pub apirules: Vec<ApiRule>,
    /// What the GitOps target adds.
    pub gitops: GitOps,
    /// The mesh facts (selectors, in-cluster callers, ingress principal).
    #[serde(skip)]
    pub mesh: crate::mesh::Settings,
    /// Render plain Istio objects instead of APIRules and the Istio CR.
    #[serde(skip)]
    pub istio_target: bool,
}

/// One `spec.config.authorizers` entry of the Istio CR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IstioAuthorizer {
    /// Registered name.
    pub name: String,
    /// Service host.
    pub service: String,
    /// Service port.
    pub port: i64,
    /// Check path prefix; `None` when empty.
    #[serde(rename = "pathPrefix")]
    pub path_prefix: Option<String>,
    /// Check timeout.
    pub timeout: Option<String>,
    /// Headers, with empty lists and maps removed; `None` when nothing is left.
    pub headers: Option<serde_json::Value>,
}

/// One oauth2-proxy Helm release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelmRelease {
    /// Release name (= authorizer name).
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Chart version.
    #[serde(rename = "chartVersion")]
    pub chart_version: String,
    /// The chart's fullname (Service name).
    pub fullname: String,
    /// `config.existingSecret`.
    #[serde(rename = "existingSecret")]
    pub existing_secret: String,
    /// `extraArgs`, every value a string.
    #[serde(rename = "extraArgs")]
    pub extra_args: IndexMap<String, String>,
}

/// One APIRule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiRule {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// The FQDN (or wildcard) host.
    pub host: String,
    /// `spec.gateway`, unless an external gateway is used.
    pub gateway: Option<String>,
    /// `spec.externalGateway`.
    #[serde(rename = "externalGateway")]
    pub external_gateway: Option<String>,
    /// `spec.service`; `None` when every rule has its own.
    pub service: Option<serde_json::Value>,
    /// `spec.timeout`.
    pub timeout: Option<i64>,
    /// `spec.corsPolicy`.
    #[serde(rename = "corsPolicy")]
    pub cors_policy: Option<serde_json::Value>,
    /// Rules in spec order.
    pub rules: Vec<ApiRuleRule>,
}

/// One APIRule rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiRuleRule {
    /// Path.
    pub path: String,
    /// Methods.
    pub methods: Vec<String>,
    /// Access.
    pub access: Access,
    /// Rule-level service.
    pub service: Option<serde_json::Value>,
    /// Rule timeout.
    pub timeout: Option<i64>,
    /// Request mutators.
    pub request: Option<serde_json::Value>,
}

/// A rule's access strategy, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Access {
    /// Public.
    NoAuth,
    /// JWT validated at the gateway.
    Jwt {
        /// `jwt.authentications`.
        authentications: Vec<serde_json::Value>,
        /// `jwt.authorizations` (empty: any valid token).
        authorizations: Vec<serde_json::Value>,
    },
    /// External authorizers, optionally with token restrictions.
    ExtAuth {
        /// Authorizer names.
        authorizers: Vec<String>,
        /// `extAuth.restrictions`, when any.
        restrictions: Option<Restrictions>,
    },
}

/// `extAuth.restrictions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restrictions {
    /// Issuers accepted.
    pub authentications: Vec<serde_json::Value>,
    /// Alternatives required (empty: any valid token).
    pub authorizations: Vec<serde_json::Value>,
}

/// Resolve a checked spec (one without errors) into a plan for the plain output tree.
/// `source` names the spec file.
pub fn plan(spec: &Spec, source: &str) -> Plan {
    plan_for(spec, source, &Target::default())
}

/// Resolve a checked spec (one without errors) into a plan for a target.
pub fn plan_for(spec: &Spec, source: &str, target: &Target) -> Plan {
    let cluster = spec.cluster.clone().unwrap_or_default();
    let domain = crate::spec::resolve::cluster_domain(spec);
    let default_gateway = cluster
        .gateway
        .clone()
        .unwrap_or_else(|| spec::DEFAULT_GATEWAY.to_string());
    let mut labels = IndexMap::new();
    labels.insert(
        "app.kubernetes.io/managed-by".to_string(),
        "kexpose".to_string(),
    );
    if let Some(name) = spec.metadata.as_ref().and_then(|m| m.name.clone()) {
        labels.insert("app.kubernetes.io/part-of".to_string(), name);
    }
    if let Some(instance) = &target.instance {
        labels.insert(INSTANCE_LABEL.to_string(), instance.clone());
    }
    let idp = |name: &str| spec.identity_providers.iter().find(|p| p.name == name);

    let mut releases = Vec::new();
    let mut authorizers = Vec::new();
    for a in &spec.authorizers {
        let headers = effective_headers(a);
        match a.kind {
            AuthorizerType::Oauth2Proxy => {
                let namespace = authorizer_namespace(a).to_string();
                let fullname = chart_fullname(&a.name);
                let issuer = a
                    .identity_provider
                    .as_deref()
                    .and_then(idp)
                    .map(|p| p.issuer.clone())
                    .unwrap_or_default();
                releases.push(HelmRelease {
                    name: a.name.clone(),
                    namespace: namespace.clone(),
                    chart_version: a
                        .chart_version
                        .clone()
                        .unwrap_or_else(|| spec::DEFAULT_CHART_VERSION.to_string()),
                    fullname: fullname.clone(),
                    existing_secret: credentials_secret(a),
                    extra_args: oauth2_proxy_args(a, &issuer, domain),
                });
                let path_prefix = a
                    .path_prefix
                    .clone()
                    .unwrap_or_else(|| spec::DEFAULT_PATH_PREFIX.to_string());
                authorizers.push(IstioAuthorizer {
                    name: a.name.clone(),
                    service: format!("{fullname}.{namespace}.svc.cluster.local"),
                    port: 80,
                    path_prefix: Some(path_prefix).filter(|p| !p.is_empty()),
                    timeout: a.timeout.clone(),
                    headers,
                });
            }
            AuthorizerType::External => authorizers.push(IstioAuthorizer {
                name: a.name.clone(),
                service: a.service.clone().unwrap_or_default(),
                port: a.port.unwrap_or_default(),
                path_prefix: a.path_prefix.clone().filter(|p| !p.is_empty()),
                timeout: a.timeout.clone(),
                headers,
            }),
        }
    }

    let apirules: Vec<ApiRule> = spec
        .workloads
        .iter()
        .map(|w| apirule(spec, w, domain, &default_gateway))
        .collect();

    let mut namespaces = Vec::new();
    if cluster.manage_namespaces.unwrap_or(true) {
        namespaces.extend(releases.iter().map(|r| r.namespace.clone()));
        namespaces.extend(spec.workloads.iter().map(|w| w.namespace.clone()));
        namespaces.sort();
        namespaces.dedup();
    }
    Plan {
        source: source.to_string(),
        labels,
        namespaces,
        authorizers,
        releases,
        apirules,
        gitops: GitOps::resolve(target),
        mesh: crate::mesh::settings_from_spec(spec, target.istio),
        istio_target: target.istio,
    }
}

/// Headers as given, the tutorial's `inCheck.include` filled in for oauth2-proxy, empty
/// lists and maps removed.
fn effective_headers(a: &Authorizer) -> Option<serde_json::Value> {
    let mut h: AuthorizerHeaders = a.headers.clone().unwrap_or_default();
    if a.kind == AuthorizerType::Oauth2Proxy {
        let in_check = h.in_check.get_or_insert_with(Default::default);
        if in_check.include.is_none() {
            in_check.include = Some(
                spec::DEFAULT_IN_CHECK_INCLUDE
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            );
        }
    }
    let mut v = serde_json::to_value(&h).expect("headers are JSON");
    prune(&mut v);
    (!v.as_object().is_some_and(|o| o.is_empty())).then_some(v)
}

/// Remove empty lists, empty maps and nulls, bottom-up.
fn prune(v: &mut serde_json::Value) {
    if let serde_json::Value::Object(map) = v {
        for child in map.values_mut() {
            prune(child);
        }
        map.retain(|_, c| match c {
            serde_json::Value::Null => false,
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Object(o) => !o.is_empty(),
            _ => true,
        });
    }
}

/// An APIRule `service`: name, namespace (when given), port, external (when given).
fn service_json(
    name: String,
    namespace: Option<&String>,
    port: i64,
    external: Option<bool>,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), name.into());
    if let Some(ns) = namespace {
        m.insert("namespace".into(), ns.clone().into());
    }
    m.insert("port".into(), port.into());
    if let Some(e) = external {
        m.insert("external".into(), e.into());
    }
    serde_json::Value::Object(m)
}

fn to_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("spec types are JSON")
}

fn apirule(spec: &Spec, w: &Workload, domain: Option<&str>, default_gateway: &str) -> ApiRule {
    let every_rule_has_service = !w.rules.is_empty() && w.rules.iter().all(|r| r.service.is_some());
    let service = w
        .service
        .as_ref()
        .filter(|_| !every_rule_has_service)
        .map(|s| {
            let name = s.name.clone().unwrap_or_else(|| w.name.clone());
            service_json(name, s.namespace.as_ref(), s.port, s.external)
        });
    ApiRule {
        name: w.name.clone(),
        namespace: w.namespace.clone(),
        host: fqdn(&w.host, domain),
        gateway: match (&w.gateway, &w.external_gateway) {
            (_, Some(_)) => None,
            (Some(g), None) => Some(g.clone()),
            (None, None) => Some(default_gateway.to_string()),
        },
        external_gateway: w.external_gateway.clone(),
        service,
        timeout: w.timeout,
        cors_policy: w.cors.as_ref().map(to_json),
        rules: w.rules.iter().map(|r| rule(spec, r)).collect(),
    }
}

fn rule(spec: &Spec, r: &Rule) -> ApiRuleRule {
    let access = if let Some(jwt) = &r.jwt {
        let providers = providers_of(spec, jwt, &[]);
        Access::Jwt {
            authentications: authentications(spec, &providers),
            authorizations: authorizations(jwt),
        }
    } else if let Some(ext) = &r.ext_auth {
        let req = ext.requirements();
        let restricted = req != TokenRequirements::default();
        let restrictions = restricted.then(|| {
            let fallback: Vec<String> = ext
                .authorizers
                .iter()
                .filter_map(|n| spec.authorizers.iter().find(|a| &a.name == n))
                .filter_map(|a| a.identity_provider.clone())
                .collect();
            let providers = providers_of(spec, &req, &fallback);
            Restrictions {
                authentications: authentications(spec, &providers),
                authorizations: authorizations(&req),
            }
        });
        Access::ExtAuth {
            authorizers: ext.authorizers.clone(),
            restrictions,
        }
    } else {
        Access::NoAuth
    };
    ApiRuleRule {
        path: r.path.clone(),
        methods: r.methods.clone(),
        access,
        service: r
            .service
            .as_ref()
            .map(|s| service_json(s.name.clone(), s.namespace.as_ref(), s.port, s.external)),
        timeout: r.timeout,
        request: r.request.as_ref().map(to_json),
    }
}

/// The identity providers that authenticate a rule: named ones, else the fallback (the
/// authorizers' providers), else the spec's only provider. Unique, in order.
fn providers_of(spec: &Spec, req: &TokenRequirements, fallback: &[String]) -> Vec<String> {
    let mut named: Vec<String> = req
        .identity_provider
        .iter()
        .cloned()
        .chain(req.identity_providers.iter().flatten().cloned())
        .collect();
    if named.is_empty() {
        named = fallback.to_vec();
    }
    if named.is_empty() && spec.identity_providers.len() == 1 {
        named.push(spec.identity_providers[0].name.clone());
    }
    let mut seen = std::collections::HashSet::new();
    named.retain(|n| seen.insert(n.clone()));
    named
}

fn authentications(spec: &Spec, providers: &[String]) -> Vec<serde_json::Value> {
    providers
        .iter()
        .filter_map(|n| spec.identity_providers.iter().find(|p| &p.name == n))
        .map(|p| {
            let mut m = serde_json::Map::new();
            m.insert("issuer".into(), p.issuer.clone().into());
            m.insert("jwksUri".into(), jwks_uri(p).unwrap_or_default().into());
            if let Some(h) = p.from_headers.as_ref().filter(|h| !h.is_empty()) {
                m.insert("fromHeaders".into(), to_json(h));
            }
            if let Some(q) = p.from_params.as_ref().filter(|q| !q.is_empty()) {
                m.insert("fromParams".into(), to_json(q));
            }
            serde_json::Value::Object(m)
        })
        .collect()
}

fn authorizations(req: &TokenRequirements) -> Vec<serde_json::Value> {
    if let Some(list) = &req.authorizations {
        return list.iter().map(to_json).collect();
    }
    if req.required_scopes.is_some() || req.audiences.is_some() {
        return vec![to_json(&Authorization {
            required_scopes: req.required_scopes.clone(),
            audiences: req.audiences.clone(),
        })];
    }
    Vec::new()
}
