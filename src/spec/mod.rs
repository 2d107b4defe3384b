//! The kexpose spec (`apiVersion: kexpose.dev/v1alpha1`, `kind: Exposure`): typed, with the
//! JSON Schema generated from these types (committed as `schemas/kexpose.schema.json`).
//!
//! The types model the shape only; every rule about values (patterns, ranges, references)
//! lives in `check`, where it gets a specific diagnostic code.

pub mod names;
pub mod resolve;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The one API version this kexpose reads.
pub const API_VERSION: &str = "kexpose.dev/v1alpha1";
/// The kind of a spec document.
pub const KIND: &str = "Exposure";
/// The gateway used when neither the workload nor `cluster.gateway` names one.
pub const DEFAULT_GATEWAY: &str = "kyma-system/kyma-gateway";
/// The oauth2-proxy chart version kexpose was tested with.
pub const DEFAULT_CHART_VERSION: &str = "10.7.0";
/// The hardened default authorizer path prefix (see docs/outputs.md).
pub const DEFAULT_PATH_PREFIX: &str = "/verify?original=";
/// The headers the tutorial forwards to the authorizer.
pub const DEFAULT_IN_CHECK_INCLUDE: [&str; 3] = ["x-forwarded-for", "cookie", "authorization"];

/// A kexpose spec: identity providers, authorizers and the workloads they protect.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kexpose spec v1alpha1")]
pub struct Spec {
    /// Always `kexpose.dev/v1alpha1`.
    pub api_version: ApiVersion,
    /// Always `Exposure`.
    pub kind: Kind,
    /// Optional metadata; `name` is used in labels of emitted objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Cluster-wide settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Cluster>,
    /// OIDC issuers that sign the tokens rules accept.
    #[serde(default)]
    pub identity_providers: Vec<IdentityProvider>,
    /// External authorizers registered in the Istio custom resource.
    #[serde(default)]
    pub authorizers: Vec<Authorizer>,
    /// Workloads to expose; each becomes one APIRule.
    #[serde(default)]
    pub workloads: Vec<Workload>,
}

/// `kexpose.dev/v1alpha1`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The only version.
    #[serde(rename = "kexpose.dev/v1alpha1")]
    V1Alpha1,
}

/// `Exposure`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// The only kind.
    Exposure,
}

/// Spec metadata.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// Name of this exposure; emitted objects get the label `app.kubernetes.io/part-of: <name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Cluster-wide settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// The cluster's domain (EXPOSE_DOMAIN); required when any host is short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Default Istio gateway, `namespace/name`. Default `kyma-system/kyma-gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Emit Namespace objects (label `istio-injection: enabled`). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_namespaces: Option<bool>,
    /// (`--target istio`) The SPIFFE principal of the ingress gateway's pods, which every
    /// ALLOW policy admits: `<trust domain>/ns/<namespace>/sa/<service account>`. Default
    /// `cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account` (istioctl's
    /// and Kyma's gateway; an `istio/gateway` Helm release uses its release name, e.g.
    /// `cluster.local/ns/istio-ingress/sa/istio-ingress`). Kyma's controller always uses the
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_gateway_principal: Option<String>,
}

/// An OIDC issuer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityProvider {
    /// Name referenced by authorizers and rules.
    pub name: String,
    /// Issuer URL, exactly as the tokens' `iss` claim says it.
    pub issuer: String,
    /// JSON Web Key Set URL; derived as `<issuer>/oauth2/certs` for SAP Cloud Identity
    /// Services hosts (`*.accounts.ondemand.com`, `*.accounts.cloud.sap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Where tokens are read from, instead of `Authorization: Bearer` (at most one entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_headers: Option<Vec<FromHeader>>,
    /// Query parameter tokens are read from (at most one entry; not with `fromHeaders`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_params: Option<Vec<String>>,
}

/// A header carrying the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FromHeader {
    /// Header name.
    pub name: String,
    /// Prefix before the token (APIRule default `Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// How kexpose treats an authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorizerType {
    /// kexpose configures oauth2-proxy (Helm values) and registers it.
    Oauth2Proxy,
    /// Deployed by someone else; kexpose only registers it.
    External,
}

/// An external authorizer registered in the Istio custom resource.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authorizer {
    /// The name the Istio CR registers and rules reference.
    pub name: String,
    /// `oauth2-proxy` or `external`.
    #[serde(rename = "type")]
    pub kind: AuthorizerType,
    /// (oauth2-proxy) The identity provider whose tokens oauth2-proxy verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    /// (oauth2-proxy) Namespace of the Helm release. Default: the authorizer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// (oauth2-proxy) Chart version. Default: the version kexpose was tested with (10.7.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_version: Option<String>,
    /// (oauth2-proxy) Existing Secret with keys client-id, client-secret, cookie-secret.
    /// Default `<name>-credentials`. Secret values never appear in the spec or any output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
    /// (oauth2-proxy) The OAuth client ID (not secret): enables audience checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// (oauth2-proxy) Extra accepted token audiences (`--oidc-extra-audience`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// (oauth2-proxy) Overrides and additions to oauth2-proxy flags (without `--`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_args: Option<IndexMap<String, ArgValue>>,
    /// (external) Service host of the authorizer, e.g. `ext-authz.ns.svc.cluster.local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// (external) Service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Prefix of the check request path. oauth2-proxy default `/verify?original=`;
    /// `""` reproduces the tutorial (and exposes the proxy's own endpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Check timeout, whole seconds such as `5s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Headers passed to and from the authorizer (as in the Istio CR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<AuthorizerHeaders>,
}

/// An `extraArgs` value: written as a quoted string in the Helm values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ArgValue {
    /// A string.
    Str(String),
    /// A boolean, written as `"true"`/`"false"`.
    Bool(bool),
    /// An integer, written in decimal.
    Int(i64),
}

impl ArgValue {
    /// The flag value oauth2-proxy receives.
    pub fn to_flag_value(&self) -> String {
        match self {
            ArgValue::Str(s) => s.clone(),
            ArgValue::Bool(b) => b.to_string(),
            ArgValue::Int(i) => i.to_string(),
        }
    }
}

/// Authorizer headers, as in the Istio CR.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorizerHeaders {
    /// Headers sent with the check request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_check: Option<InCheck>,
    /// Headers of the check response passed to the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_upstream: Option<ToUpstream>,
    /// Headers of the check response passed back to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_downstream: Option<ToDownstream>,
}

/// Headers sent with the check request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InCheck {
    /// Request headers forwarded to the authorizer. oauth2-proxy default:
    /// `[x-forwarded-for, cookie, authorization]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Headers added to the check request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<IndexMap<String, String>>,
}

/// Headers passed upstream on allow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToUpstream {
    /// Check response headers copied to the request sent to the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_allow: Option<Vec<String>>,
}

/// Headers passed downstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToDownstream {
    /// Check response headers copied to the response on allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_allow: Option<Vec<String>>,
    /// Check response headers copied to the response on deny.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_deny: Option<Vec<String>>,
}

/// A workload to expose; becomes one APIRule `<namespace>/<name>`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// APIRule name.
    pub name: String,
    /// APIRule namespace.
    pub namespace: String,
    /// Short host (`httpbin` → `httpbin.<cluster.domain>`), an FQDN, or `*.FQDN`.
    pub host: String,
    /// Istio gateway `namespace/name`. Default `cluster.gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// ExternalGateway `namespace/name`, instead of `gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_gateway: Option<String>,
    /// Default backend for every rule; optional when every rule names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<WorkloadService>,
    /// Request timeout in seconds, 1..3900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// APIRule `corsPolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// Ordered access rules, most specific first.
    pub rules: Vec<Rule>,
    /// The pod labels the workload's Service selects (its `spec.selector`), copied into
    /// every AuthorizationPolicy and RequestAuthentication. Required by `--target istio` and
    /// by `allowInClusterCallers`: kexpose never guesses it, since a selector that matches no
    /// pod leaves the workload without ALLOW policies, and Istio then allows everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<IndexMap<String, String>>,
    /// Admit callers other than the ingress gateway (other pods, plaintext callers) on every
    /// path of the workload, without token or authorizer: the ALLOW policy the api-gateway
    /// troubleshooting guide documents for blocked in-cluster communication. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_in_cluster_callers: Option<bool>,
}

/// The workload's default service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadService {
    /// Service name. Default: the workload name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Service port.
    pub port: i64,
    /// Service namespace, when not the APIRule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Whether the service is outside the mesh (APIRule `service.external`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
}

/// A rule's own service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleService {
    /// Service name.
    pub name: String,
    /// Service port.
    pub port: i64,
    /// Service namespace, when not the APIRule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Whether the service is outside the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    /// The pod labels this Service selects (`--target istio`, when it is not the
    /// workload's Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<IndexMap<String, String>>,
}

/// APIRule `corsPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cors {
    /// `Access-Control-Allow-Origin` matchers, e.g. `{exact: https://a.com}`, `{regex: ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<IndexMap<String, String>>>,
    /// `Access-Control-Allow-Methods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<Vec<String>>,
    /// `Access-Control-Allow-Headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<Vec<String>>,
    /// `Access-Control-Allow-Credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// `Access-Control-Expose-Headers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<Vec<String>>,
    /// `Access-Control-Max-Age`, seconds (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

/// One access rule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    /// Path: exact, with `{*}` (one segment) / `{**}` (one or more), or `/*`.
    pub path: String,
    /// HTTP methods.
    pub methods: Vec<String>,
    /// Public: no token needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_auth: Option<bool>,
    /// Validate a JWT at the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtAccess>,
    /// Ask external authorizers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_auth: Option<ExtAuthAccess>,
    /// This rule's backend, instead of the workload's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<RuleService>,
    /// Timeout in seconds, 1..3900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Request mutators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestMutators>,
}

/// Token requirements shared by `jwt` and `extAuth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenRequirements {
    /// One identity provider whose tokens are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    /// Several identity providers, any of whose tokens is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<Vec<String>>,
    /// Shorthand for one authorization: all these scopes are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scopes: Option<Vec<String>>,
    /// Shorthand for one authorization: all these audiences are required (each in `aud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// Alternative authorizations, any of which suffices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizations: Option<Vec<Authorization>>,
}

/// `jwt` access: which tokens, and what they must carry.
pub type JwtAccess = TokenRequirements;

/// `extAuth` access: authorizers, plus optional token restrictions (same fields as `jwt`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtAuthAccess {
    /// Authorizers asked, by name.
    pub authorizers: Vec<String>,
    /// Identity provider that authenticates the restrictions (default: the authorizers').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    /// Several identity providers for the restrictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<Vec<String>>,
    /// Shorthand for one authorization: all these scopes are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scopes: Option<Vec<String>>,
    /// Shorthand for one authorization: all these audiences are required (each in `aud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// Alternative authorizations, any of which suffices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizations: Option<Vec<Authorization>>,
}

impl ExtAuthAccess {
    /// The restriction fields, in the shape `jwt` uses.
    pub fn requirements(&self) -> TokenRequirements {
        TokenRequirements {
            identity_provider: self.identity_provider.clone(),
            identity_providers: self.identity_providers.clone(),
            required_scopes: self.required_scopes.clone(),
            audiences: self.audiences.clone(),
            authorizations: self.authorizations.clone(),
        }
    }
}

/// One APIRule authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authorization {
    /// Scopes that must all be in the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_scopes: Option<Vec<String>>,
    /// Audiences that must all be in the token's `aud` (for one of several, list one authorization per audience).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
}

/// APIRule request mutators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestMutators {
    /// Headers set on the request to the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, String>>,
    /// Cookies set on the request to the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<IndexMap<String, String>>,
}

/// The spec's JSON Schema (draft 2020-12), as committed in `schemas/kexpose.schema.json`.
///
/// `Option` fields are optional but not nullable: `cors: ~` is a type error that points at
/// the value, instead of an `anyOf` that hides what is wrong inside it.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Spec);
    let mut value = serde_json::to_value(schema).expect("a schema is JSON");
    strip_null(&mut value);
    value["$id"] = "https://kexpose.dev/schemas/kexpose.schema.json".into();
    value
}

/// Remove the `null` alternative schemars adds for `Option` fields.
pub(crate) fn strip_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    if let Value::Object(obj) = v {
        if let Some(Value::Array(types)) = obj.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                obj.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(alts)) = obj.get("anyOf") {
            let non_null: Vec<Value> = alts
                .iter()
                .filter(|a| a.get("type").is_none_or(|t| t != "null"))
                .cloned()
                .collect();
            if non_null.len() == 1 && alts.len() == 2 {
                obj.remove("anyOf");
                if let Value::Object(inner) = non_null.into_iter().next().expect("one") {
                    for (k, val) in inner {
                        obj.entry(k).or_insert(val);
                    }
                }
            }
        }
        for child in obj.values_mut() {
            strip_null(child);
        }
    } else if let Value::Array(items) = v {
        items.iter_mut().for_each(strip_null);
    }
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a schema is JSON");
    s.push('\n');
    s
}
