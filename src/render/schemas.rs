//! The output schemas in `schemas/`, compiled once per process.

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
}

const SOURCES: [(Kind, &str); 5] = [
    (
        Kind::ApiRule,
        include_str!("../../schemas/apirule-v2.schema.json"),
    ),
    (
        Kind::Istio,
        include_str!("../../schemas/istio-authorizers.schema.json"),
    ),
    (
        Kind::Namespace,
        include_str!("../../schemas/namespace.schema.json"),
    ),
    (
        Kind::Kustomization,
        include_str!("../../schemas/kustomization.schema.json"),
    ),
    (
        Kind::HelmValues,
        include_str!("../../schemas/oauth2-proxy-values.schema.json"),
    ),
];

fn validators() -> &'static Vec<(Kind, jsonschema::Validator)> {
    static V: OnceLock<Vec<(Kind, jsonschema::Validator)>> = OnceLock::new();
    V.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(k, text)| {
                let schema: Value =
                    serde_json::from_str(text).expect("committed output schemas are JSON");
                (
                    *k,
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
    let (_, v) = validators()
        .iter()
        .find(|(k, _)| *k == kind)
        .expect("every kind has a schema");
    if v.is_valid(value) {
        return Ok(());
    }
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().as_str().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
