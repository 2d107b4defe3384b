//! The plain-Istio objects of the mesh model, for clusters with Istio and oauth2-proxy but
//! no Kyma: VirtualServices, AuthorizationPolicies and RequestAuthentications
//! (`networking.istio.io/v1`, `security.istio.io/v1`, Istio ≥ 1.22 as the path templates
//! need), and the mesh config fragment that registers the authorizers.
//!
//! Differences from what the api-gateway controller writes, on purpose:
//! - deterministic names (`<apirule>`, `<apirule>-r<i>-allow[-<j>]`, `<apirule>-r<i>-custom-<authorizer>`,
//!   `<apirule>-jwt-<k>`, `<apirule>-allow-in-cluster`) instead of `generateName`;
//! - kexpose's own labels, never the controller's `apirule.gateway.kyma-project.io/*`
//!   ownership labels (its occupied-host validation and finalizer cleanup act on those);
//! - `action: ALLOW` written out (the controller leaves the proto default);
//! - route regexes with literal characters escaped (the controller writes `.` unescaped, so
//!   `/v1.0` also routes `/v1x0`), when built with `Settings::escape_literals`.

use super::{Mesh, Translation};
use indexmap::IndexMap;
use serde_json::{Value, json};

/// The label naming the APIRule-equivalent an object belongs to (`<apirule name>`; the
/// namespace is the object's or, for policies in a service namespace, the annotation).
pub const WORKLOAD_LABEL: &str = "kexpose.dev/workload";
/// The annotation naming the Service whose pods a policy selects (`<name>`).
pub const SERVICE_ANNOTATION: &str = "kexpose.dev/service";

/// One rendered file: its path below OUT and its objects.
pub type File = (String, Vec<Value>);

fn metadata(
    name: &str,
    namespace: &str,
    labels: &IndexMap<String, String>,
    workload: &str,
    service: Option<&str>,
) -> Value {
    let mut l = labels.clone();
    l.insert(WORKLOAD_LABEL.to_string(), workload.to_string());
    let mut m = json!({ "name": name, "namespace": namespace, "labels": l });
    if let Some(s) = service {
        m["annotations"] = json!({ SERVICE_ANNOTATION: s });
    }
    m
}

fn workload_name(t: &Translation) -> &str {
    t.apirule
        .split_once('/')
        .map_or(t.apirule.as_str(), |(_, n)| n)
}

/// The AuthorizationPolicies of one translation as objects (the in-cluster policy of the
/// Kyma target is one of them).
pub fn policy_objects(
    t: &Translation,
    labels: &IndexMap<String, String>,
    only_in_cluster: bool,
) -> Vec<Value> {
    t.policies
        .iter()
        .filter(|p| !only_in_cluster || p.origin == super::Origin::InCluster)
        .map(|p| {
            json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": metadata(&p.name, &p.namespace, labels, workload_name(t), Some(&p.workload.service)),
                "spec": p.spec_json(),
            })
        })
        .collect()
}

/// Every object of one translation, in apply order: RequestAuthentications, policies
/// (CUSTOM and ALLOW), then the VirtualService (routes last, so no request is routed before
/// its policies exist).
pub fn translation_objects(t: &Translation, labels: &IndexMap<String, String>) -> Vec<Value> {
    let name = workload_name(t);
    let mut out: Vec<Value> = t
        .request_authentications
        .iter()
        .map(|ra| {
            json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "RequestAuthentication",
                "metadata": metadata(&ra.name, &ra.namespace, labels, name, Some(&ra.workload.service)),
                "spec": ra.spec_json(),
            })
        })
        .collect();
    out.extend(policy_objects(t, labels, false));
    let vs = &t.virtual_service;
    out.push(json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": metadata(&vs.name, &vs.namespace, labels, name, None),
        "spec": vs.spec_json(),
    }));
    out
}

/// `meshConfig.extensionProviders` for the authorizers.
pub fn extension_providers(mesh: &Mesh) -> Value {
    Value::Array(
        mesh.providers
            .iter()
            .map(|p| json!({ "name": p.name, "envoyExtAuthzHttp": p.envoy_ext_authz_http }))
            .collect(),
    )
}

/// istiod Helm chart values (`helm upgrade istiod istio/istiod -n istio-system -f …`).
pub fn istiod_values(mesh: &Mesh) -> Value {
    json!({ "meshConfig": { "extensionProviders": extension_providers(mesh) } })
}

/// An IstioOperator overlay (`istioctl install -f …`, together with your own overlay).
pub fn istio_operator(mesh: &Mesh) -> Value {
    json!({
        "apiVersion": "install.istio.io/v1alpha1",
        "kind": "IstioOperator",
        "spec": { "meshConfig": { "extensionProviders": extension_providers(mesh) } },
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{orders_apirule, orders_settings};
    use super::*;

    #[test]
    fn objects_are_v1_with_kexpose_labels_only() {
        let t = super::super::translate_apirule(&orders_apirule(), &orders_settings());
        let mut labels = IndexMap::new();
        labels.insert(
            "app.kubernetes.io/managed-by".to_string(),
            "kexpose".to_string(),
        );
        let objs = translation_objects(&t, &labels);
        let kinds: Vec<(&str, &str)> = objs
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("RequestAuthentication", "orders-jwt-0"),
                ("AuthorizationPolicy", "orders-r0-allow"),
                ("AuthorizationPolicy", "orders-r1-allow-0"),
                ("AuthorizationPolicy", "orders-r2-custom-oauth2-proxy"),
                ("AuthorizationPolicy", "orders-r2-allow-0"),
                ("VirtualService", "orders"),
            ]
        );
        for o in &objs {
            let labels = o["metadata"]["labels"].as_object().unwrap();
            assert!(labels.keys().all(|k| !k.contains("kyma-project.io")), "{o}");
            assert!(o["apiVersion"].as_str().unwrap().ends_with("/v1"));
        }
    }
}
