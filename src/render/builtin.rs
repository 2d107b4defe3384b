//! The built-in outputs written directly from the plan: the bytes the built-in templates give
//! after the re-read and the canonical re-emit (`templates/*.j2` → `super::canonical`), without
//! the template engine, the re-read or a value tree. Each function mirrors its template
//! line by line (keys in template order; an `{% if x is not none %}` is a `None` or JSON null
//! here; an `{% if list %}` an empty list), and writes with the canonical writer
//! ([`crate::yaml::canon`]). `tests/properties.rs` renders random specs both ways and compares
//! the bytes; the golden trees pin the fixtures.
//!
//! A template overridden with `--templates` still goes through the template engine, the
//! re-read and the output schema.

use crate::plan::{Access, ApiRule, GitOps, HelmRelease, IstioAuthorizer, ReleaseObjects};
use crate::yaml::canon::{
    entry, entry_int, entry_seq, entry_str, entry_str_map, entry_str_seq, write_str,
};
use indexmap::IndexMap;
use serde_json::{Value, json};

type Labels = IndexMap<String, String>;

/// `Some` unless absent or JSON null (what a template's `is not none` tests).
fn present(v: &Option<Value>) -> Option<&Value> {
    v.as_ref().filter(|v| !v.is_null())
}

fn metadata(out: &mut String, name: &str, namespace: &str, labels: &Labels) {
    out.push_str("metadata:\n");
    entry_str(out, 2, "name", name, false);
    entry_str(out, 2, "namespace", namespace, false);
    entry_str_map(out, 2, "labels", labels.iter(), false);
}

/// One APIRule (`apirule.yaml.j2`).
pub fn apirule(rule: &ApiRule, labels: &Labels) -> String {
    let mut out = String::with_capacity(512 + 256 * rule.rules.len());
    let o = &mut out;
    o.push_str("apiVersion: gateway.kyma-project.io/v2\nkind: APIRule\n");
    metadata(o, &rule.name, &rule.namespace, labels);
    o.push_str("spec:\n");
    if let Some(g) = &rule.gateway {
        entry_str(o, 2, "gateway", g, false);
    }
    if let Some(g) = &rule.external_gateway {
        entry_str(o, 2, "externalGateway", g, false);
    }
    o.push_str("  hosts:\n  - ");
    write_str(o, &rule.host, false);
    o.push('\n');
    if let Some(s) = present(&rule.service) {
        entry(o, 2, "service", s, false);
    }
    if let Some(t) = rule.timeout {
        entry_int(o, 2, "timeout", t);
    }
    if let Some(c) = present(&rule.cors_policy) {
        entry(o, 2, "corsPolicy", c, false);
    }
    if rule.rules.is_empty() {
        o.push_str("  rules: []\n");
    } else {
        o.push_str("  rules:\n");
    }
    for r in &rule.rules {
        o.push_str("  - path: ");
        write_str(o, &r.path, false);
        o.push('\n');
        entry_str_seq(o, 4, "methods", r.methods.iter(), false);
        if let Some(s) = present(&r.service) {
            entry(o, 4, "service", s, false);
        }
        match &r.access {
            Access::NoAuth => o.push_str("    noAuth: true\n"),
            Access::Jwt {
                authentications,
                authorizations,
            } => {
                o.push_str("    jwt:\n");
                entry_seq(o, 6, "authentications", authentications, false);
                if !authorizations.is_empty() {
                    entry_seq(o, 6, "authorizations", authorizations, false);
                }
            }
            Access::ExtAuth {
                authorizers,
                restrictions,
            } => {
                o.push_str("    extAuth:\n");
                entry_str_seq(o, 6, "authorizers", authorizers.iter(), false);
                if let Some(r) = restrictions {
                    o.push_str("      restrictions:\n");
                    entry_seq(o, 8, "authentications", &r.authentications, false);
                    if !r.authorizations.is_empty() {
                        entry_seq(o, 8, "authorizations", &r.authorizations, false);
                    }
                }
            }
        }
        if let Some(t) = r.timeout {
            entry_int(o, 4, "timeout", t);
        }
        if let Some(q) = present(&r.request) {
            entry(o, 4, "request", q, false);
        }
    }
    out
}

/// One APIRule as data: what reading [`apirule`]'s output back gives (the mesh model reads
/// the APIRules as the controller does, from the objects).
pub fn apirule_value(rule: &ApiRule, labels: &Labels) -> Value {
    let mut spec = serde_json::Map::new();
    if let Some(g) = &rule.gateway {
        spec.insert("gateway".into(), json!(g));
    }
    if let Some(g) = &rule.external_gateway {
        spec.insert("externalGateway".into(), json!(g));
    }
    spec.insert("hosts".into(), json!([rule.host]));
    if let Some(s) = present(&rule.service) {
        spec.insert("service".into(), s.clone());
    }
    if let Some(t) = rule.timeout {
        spec.insert("timeout".into(), json!(t));
    }
    if let Some(c) = present(&rule.cors_policy) {
        spec.insert("corsPolicy".into(), c.clone());
    }
    let rules: Vec<Value> = rule
        .rules
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            m.insert("path".into(), json!(r.path));
            m.insert("methods".into(), json!(r.methods));
            if let Some(s) = present(&r.service) {
                m.insert("service".into(), s.clone());
            }
            match &r.access {
                Access::NoAuth => {
                    m.insert("noAuth".into(), json!(true));
                }
                Access::Jwt {
                    authentications,
                    authorizations,
                } => {
                    let mut jwt = serde_json::Map::new();
                    jwt.insert("authentications".into(), json!(authentications));
                    if !authorizations.is_empty() {
                        jwt.insert("authorizations".into(), json!(authorizations));
                    }
                    m.insert("jwt".into(), Value::Object(jwt));
                }
                Access::ExtAuth {
                    authorizers,
                    restrictions,
                } => {
                    let mut ext = serde_json::Map::new();
                    ext.insert("authorizers".into(), json!(authorizers));
                    if let Some(r) = restrictions {
                        let mut rs = serde_json::Map::new();
                        rs.insert("authentications".into(), json!(r.authentications));
                        if !r.authorizations.is_empty() {
                            rs.insert("authorizations".into(), json!(r.authorizations));
                        }
                        ext.insert("restrictions".into(), Value::Object(rs));
                    }
                    m.insert("extAuth".into(), Value::Object(ext));
                }
            }
            if let Some(t) = r.timeout {
                m.insert("timeout".into(), json!(t));
            }
            if let Some(q) = present(&r.request) {
                m.insert("request".into(), q.clone());
            }
            Value::Object(m)
        })
        .collect();
    spec.insert("rules".into(), Value::Array(rules));
    json!({
        "apiVersion": "gateway.kyma-project.io/v2",
        "kind": "APIRule",
        "metadata": { "name": rule.name, "namespace": rule.namespace, "labels": labels },
        "spec": spec,
    })
}

/// The oauth2-proxy chart values of a release (`helm-values.yaml.j2`), as data.
pub fn helm_values_value(release: &HelmRelease) -> Value {
    json!({
        "config": { "existingSecret": release.existing_secret, "cookieName": "" },
        // An empty `extraArgs:` in the template reads back as null.
        "extraArgs": if release.extra_args.is_empty() { Value::Null } else { json!(release.extra_args) },
    })
}

/// The comment lines of `helm-values.yaml.j2` after the file header.
pub fn helm_values_header(r: &HelmRelease) -> String {
    let (v, name, ns) = (&r.chart_version, &r.name, &r.namespace);
    format!(
        "# Values for the oauth2-proxy Helm chart {v}, release {name} in namespace {ns}:\n\
         #   helm upgrade --install {name} oauth2-proxy/oauth2-proxy --namespace {ns} \\\n\
         #     --version {v} -f helm/{name}/values.yaml\n\
         # Credentials come from the existing Secret {secret} in namespace {ns}, with the\n\
         # keys client-id, client-secret and cookie-secret. kexpose never writes secret values.\n",
        secret = r.existing_secret
    )
}

/// The Helm values document (every string quoted, for Helm's YAML 1.1 reader).
pub fn helm_values(values: &Value) -> String {
    crate::yaml::canon::to_string(values, true)
}

/// The partial Istio CR (`istio-authorizers.yaml.j2`), with its key comment.
pub fn istio(authorizers: &[IstioAuthorizer], gitops: &GitOps) -> String {
    let mut out = String::with_capacity(256 + 192 * authorizers.len());
    let o = &mut out;
    o.push_str("apiVersion: operator.kyma-project.io/v1alpha2\nkind: Istio\nmetadata:\n  name: default\n  namespace: kyma-system\n");
    if !gitops.istio_labels.is_empty() {
        entry_str_map(o, 2, "labels", gitops.istio_labels.iter(), false);
    }
    if !gitops.istio_annotations.is_empty() {
        entry_str_map(o, 2, "annotations", gitops.istio_annotations.iter(), false);
        o.push_str(ISTIO_SPEC_COMMENT);
    }
    o.push_str("spec:\n  config:\n    authorizers:\n");
    for a in authorizers {
        o.push_str("    - name: ");
        write_str(o, &a.name, false);
        o.push('\n');
        entry_str(o, 6, "service", &a.service, false);
        entry_int(o, 6, "port", a.port);
        if let Some(p) = &a.path_prefix {
            entry_str(o, 6, "pathPrefix", p, false);
        }
        if let Some(t) = &a.timeout {
            entry_str(o, 6, "timeout", t, false);
        }
        if let Some(h) = present(&a.headers) {
            entry(o, 6, "headers", h, false);
        }
    }
    out
}

/// The comment of `istio-authorizers.yaml.j2` above `spec` when annotations are written.
const ISTIO_SPEC_COMMENT: &str = "# spec.config.authorizers is owned as a whole: it lists every authorizer of the spec, and\n# applying this object (server-side apply, or a merge patch) replaces the whole list on the\n# cluster. Register authorizers deployed by others in the spec as `type: external`.\n";

/// The comment lines of `istio-authorizers.yaml.j2` after the file header.
pub const ISTIO_HEADER: &str = "# A partial Istio custom resource: the body of a JSON merge patch that registers the\n# authorizers of this spec, in spec order. Apply it with\n#   kubectl patch istio default -n kyma-system --type merge --patch-file istio/authorizers.yaml\n# A merge patch REPLACES the whole spec.config.authorizers list on the cluster: every authorizer\n# the cluster needs must be in the spec (register others as `type: external`).\n";

/// One Namespace (`namespaces.yaml.j2`).
pub fn namespace(name: &str, labels: &Labels) -> String {
    let mut out = String::with_capacity(192);
    out.push_str("apiVersion: v1\nkind: Namespace\nmetadata:\n");
    entry_str(&mut out, 2, "name", name, false);
    entry_str_map(&mut out, 2, "labels", labels.iter(), false);
    out
}

/// The comment line of `kustomization.yaml.j2` after the file header.
pub fn kustomization_header(gitops: &GitOps) -> &'static str {
    if gitops.release_objects == ReleaseObjects::None {
        "# Every Kubernetes manifest kexpose generated (the Helm values are applied with helm).\n"
    } else {
        "# Every Kubernetes manifest kexpose generated (the Helm release objects embed the values files).\n"
    }
}

/// The Kustomization (`kustomization.yaml.j2`).
pub fn kustomization(resources: &[String]) -> String {
    let mut out = String::with_capacity(96 + 48 * resources.len());
    out.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
    entry_str_seq(&mut out, 0, "resources", resources.iter(), false);
    out
}

/// The comment lines of `argocd-application.yaml.j2` after the file header.
pub fn argocd_header(r: &HelmRelease) -> String {
    let (v, name, ns) = (&r.chart_version, &r.name, &r.namespace);
    format!(
        "# Argo CD Application for the oauth2-proxy Helm release {name} (chart {v})\n\
         # in namespace {ns}, with the values of helm/{name}/values.yaml. It has no\n\
         # automated sync policy: sync it, or add one by overriding argocd-application.yaml.j2.\n"
    )
}

/// The Argo CD Application of a release (`argocd-application.yaml.j2`).
pub fn argocd(r: &HelmRelease, values: &Value, labels: &Labels, gitops: &GitOps) -> String {
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    o.push_str("apiVersion: argoproj.io/v1alpha1\nkind: Application\n");
    metadata(o, &r.name, &gitops.argocd_namespace, labels);
    o.push_str("spec:\n  project: default\n  source:\n");
    entry_str(o, 4, "repoURL", &gitops.chart_repo, false);
    entry_str(o, 4, "chart", &gitops.chart, false);
    entry_str(o, 4, "targetRevision", &r.chart_version, false);
    o.push_str("    helm:\n");
    entry_str(o, 6, "releaseName", &r.name, false);
    entry(o, 6, "valuesObject", values, false);
    o.push_str("  destination:\n    server: https://kubernetes.default.svc\n");
    entry_str(o, 4, "namespace", &r.namespace, false);
    o.push_str("  syncPolicy:\n    syncOptions:\n    - CreateNamespace=false\n");
    out
}

/// The comment line of `flux-helmrepository.yaml.j2` after the file header.
pub fn flux_repository_header(r: &HelmRelease) -> String {
    format!(
        "# Flux HelmRepository of the oauth2-proxy chart, for the HelmRelease {} beside it.\n",
        r.name
    )
}

/// The Flux HelmRepository of a release (`flux-helmrepository.yaml.j2`).
pub fn flux_repository(r: &HelmRelease, labels: &Labels, gitops: &GitOps) -> String {
    let mut out = String::with_capacity(384);
    let o = &mut out;
    o.push_str("apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n");
    metadata(o, &r.name, &r.namespace, labels);
    o.push_str("spec:\n  interval: 1h\n");
    entry_str(o, 2, "url", &gitops.chart_repo, false);
    out
}

/// The comment lines of `flux-helmrelease.yaml.j2` after the file header.
pub fn flux_release_header(r: &HelmRelease) -> String {
    let (v, name, ns) = (&r.chart_version, &r.name, &r.namespace);
    format!(
        "# Flux HelmRelease for the oauth2-proxy Helm release {name} (chart {v}) in\n\
         # namespace {ns}, with the values of helm/{name}/values.yaml.\n"
    )
}

/// The Flux HelmRelease of a release (`flux-helmrelease.yaml.j2`).
pub fn flux_release(r: &HelmRelease, values: &Value, labels: &Labels, gitops: &GitOps) -> String {
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    o.push_str("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n");
    metadata(o, &r.name, &r.namespace, labels);
    o.push_str("spec:\n  interval: 10m\n");
    entry_str(o, 2, "releaseName", &r.name, false);
    o.push_str("  chart:\n    spec:\n");
    entry_str(o, 6, "chart", &gitops.chart, false);
    entry_str(o, 6, "version", &r.chart_version, false);
    o.push_str("      sourceRef:\n        kind: HelmRepository\n");
    entry_str(o, 8, "name", &r.name, false);
    entry_str(o, 8, "namespace", &r.namespace, false);
    entry(o, 2, "values", values, false);
    out
}
