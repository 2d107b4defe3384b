//! The output schemas in `schemas/` (listed in [`super::OUTPUTS`]), compiled once per process.

use serde_json::Value;
use std::sync::OnceLock;

/// Which schema an output is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// APIRule gateway.kyma-project.io/v2.
    ApiRule,
    /// Partial Istio CR with authorizers.
    Istio,
    /// v1 Namespace.
    Namespace,
    /// Kustomization.
    Kustomization,
    /// oauth2-proxy chart values.
    HelmValues,
    /// Argo CD Application argoproj.io/v1alpha1 of the oauth2-proxy chart.
    ArgoApplication,
    /// Flux HelmRepository source.toolkit.fluxcd.io/v1.
    FluxHelmRepository,
    /// Flux HelmRelease helm.toolkit.fluxcd.io/v2 of the oauth2-proxy chart.
    FluxHelmRelease,
    /// VirtualService networking.istio.io/v1 (`--target istio`).
    VirtualService,
    /// AuthorizationPolicy security.istio.io/v1.
    AuthorizationPolicy,
    /// RequestAuthentication security.istio.io/v1 (`--target istio`).
    RequestAuthentication,
    /// Mesh config extension providers: istiod values or IstioOperator (`--target istio`).
    MeshConfig,
}

/// The schemas of the objects the mesh model builds in code (no template).
pub const MESH_SCHEMAS: [(Kind, &str); 4] = [
    (
        Kind::VirtualService,
        include_str!("../../schemas/istio-virtualservice.schema.json"),
    ),
    (
        Kind::AuthorizationPolicy,
        include_str!("../../schemas/istio-authorizationpolicy.schema.json"),
    ),
    (
        Kind::RequestAuthentication,
        include_str!("../../schemas/istio-requestauthentication.schema.json"),
    ),
    (
        Kind::MeshConfig,
        include_str!("../../schemas/istio-meshconfig-providers.schema.json"),
    ),
];

impl Kind {
    /// Where an object of this kind embeds oauth2-proxy chart values, checked against the
    /// values schema too.
    fn embedded_values(self) -> Option<&'static str> {
        match self {
            Kind::ArgoApplication => Some("/spec/source/helm/valuesObject"),
            Kind::FluxHelmRelease => Some("/spec/values"),
            _ => None,
        }
    }
}

fn validators() -> &'static Vec<(Kind, jsonschema::Validator)> {
    static V: OnceLock<Vec<(Kind, jsonschema::Validator)>> = OnceLock::new();
    V.get_or_init(|| {
        super::OUTPUTS
            .iter()
            .map(|o| (o.kind, o.schema))
            .chain(MESH_SCHEMAS)
            .map(|(kind, text)| {
                let schema: Value =
                    serde_json::from_str(text).expect("committed output schemas are JSON");
                (
                    kind,
                    jsonschema::validator_for(&schema).expect("committed output schemas compile"),
                )
            })
            .collect()
    })
}

/// Compile the output schemas on another thread (once per process), so that the work
/// overlaps with loading and checking the spec instead of delaying the first render. A
/// render that needs them before they are ready waits for that thread.
pub fn prepare_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    if crate::par::threads() > 1 {
        STARTED.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("kexpose-schemas".into())
                .spawn(|| {
                    validators();
                });
        });
    }
}

/// Validate one object; the error lists every violation with its JSON pointer.
pub fn validate(kind: Kind, value: &Value) -> Result<(), String> {
    let mut errors = violations(kind, value, "");
    if let Some(pointer) = kind.embedded_values()
        && let Some(values) = value.pointer(pointer)
    {
        errors.extend(violations(Kind::HelmValues, values, pointer));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn violations(kind: Kind, value: &Value, prefix: &str) -> Vec<String> {
    let (_, v) = validators()
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("every kind has a schema");
    // The common case, valid, without collecting errors.
    if v.is_valid(value) {
        return Vec::new();
    }
    v.iter_errors(value)
        .map(|e| {
            let at = format!("{prefix}{}", e.instance_path().as_str());
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect()
}
