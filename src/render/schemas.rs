//! The output schemas in `schemas/` (listed in [`super::OUTPUTS`]), compiled once per process.

use serde_json::Value;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Every kind with a schema, in the order of [`VALIDATORS`].
const KINDS: [Kind; 12] = [
    Kind::ApiRule,
    Kind::Istio,
    Kind::Namespace,
    Kind::Kustomization,
    Kind::HelmValues,
    Kind::ArgoApplication,
    Kind::FluxHelmRepository,
    Kind::FluxHelmRelease,
    Kind::VirtualService,
    Kind::AuthorizationPolicy,
    Kind::RequestAuthentication,
    Kind::MeshConfig,
];

/// Each kind's compiled schema, compiled the first time an object of that kind is validated:
/// built-in outputs are not validated (see `schema_proof.rs`), so a render that uses only
/// built-in templates and the Kyma target compiles none.
static VALIDATORS: [OnceLock<jsonschema::Validator>; 12] = [const { OnceLock::new() }; 12];

/// How many output schemas this process compiled.
static COMPILED: AtomicUsize = AtomicUsize::new(0);

fn validator(kind: Kind) -> &'static jsonschema::Validator {
    let i = KINDS
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is in KINDS");
    VALIDATORS[i].get_or_init(|| {
        let text = super::OUTPUTS
            .iter()
            .map(|o| (o.kind, o.schema))
            .chain(MESH_SCHEMAS)
            .find(|(k, _)| *k == kind)
            .map(|(_, t)| t)
            .expect("every kind has a schema");
        let schema: Value = serde_json::from_str(text).expect("committed output schemas are JSON");
        COMPILED.fetch_add(1, Ordering::Relaxed);
        jsonschema::validator_for(&schema).expect("committed output schemas compile")
    })
}

/// How many output schemas this process has compiled (for the test that the happy path
/// compiles none).
#[doc(hidden)]
pub fn compiled_count() -> usize {
    COMPILED.load(Ordering::Relaxed)
}

/// Compile the output schemas on another thread (once per process), so that the work
/// overlaps with loading and checking the spec instead of delaying the first render. Only
/// worth it when templates are overridden (their output is validated) or for `--target
/// istio` (the mesh objects are). A render that needs a schema before it is ready waits.
pub fn prepare_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    if crate::par::threads() > 1 {
        STARTED.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("kexpose-schemas".into())
                .spawn(|| {
                    for kind in KINDS {
                        validator(kind);
                    }
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
    let v = validator(kind);
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
