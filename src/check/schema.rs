//! Spec shape: the generated JSON Schema, with every error mapped back to the offending
//! key or value (for an unknown field, the unexpected key itself, not its parent).

use super::edit_distance;
use crate::diag::{Code, Diagnostic};
use crate::source::SourceFile;
use crate::yaml::{Document, escape_token};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;
use std::sync::OnceLock;

struct Compiled {
    schema: Value,
    validator: jsonschema::Validator,
}

/// The committed spec schema. Reading it is cheaper than generating it from the types at
/// every start; a test keeps it equal to the generated one.
const COMMITTED: &str = include_str!("../../schemas/kexpose.schema.json");

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let schema: Value = serde_json::from_str(COMMITTED).expect("the committed schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("the generated schema compiles");
        Compiled { schema, validator }
    })
}

/// Validate the document against the spec schema.
pub fn check(src: &SourceFile, doc: &Document) -> Vec<Diagnostic> {
    let c = compiled();
    let mut out = Vec::new();
    // The common case, without collecting error details.
    if c.validator.is_valid(&doc.value) {
        return out;
    }
    for err in c.validator.iter_errors(&doc.value) {
        let ptr = err.instance_path().as_str().to_string();
        let instance = err.instance();
        // Values under `extraArgs` may be secrets: never echo them.
        let secret_ish = ptr.contains("/extraArgs/");
        // The value as written, in backticks; `nothing` for an empty value (`key:` is null),
        // never empty backticks.
        let shown = || {
            if secret_ish {
                return "`…`".to_string();
            }
            let text = doc
                .pointers
                .value_span(&ptr)
                .map(|s| truncate(src.slice(s)))
                .unwrap_or_else(|| truncate(&instance.to_string()));
            if text.is_empty() {
                "nothing".to_string()
            } else {
                format!("`{text}`")
            }
        };
        let d = match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = known_fields(&c.schema, err.schema_path().as_str());
                for key in unexpected {
                    let at = format!("{ptr}/{}", escape_token(key));
                    let mut d = Diagnostic::new(
                        Code::SchemaUnknownField,
                        doc.pointers.key_span(&at),
                        format!("unknown field `{key}`{}", where_(&ptr)),
                    )
                    .label("not a field here");
                    d.help = unknown_field_help(key, &known);
                    out.push(d);
                }
                continue;
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                Diagnostic::new(
                    Code::SchemaMissingField,
                    doc.pointers.key_span(&ptr),
                    format!("missing required field `{name}`{}", where_(&ptr)),
                )
                .help(format!("add `{name}:`{}", required_hint(name)))
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = json_type(instance);
                let mut d = Diagnostic::new(
                    Code::SchemaType,
                    doc.pointers.value_span(&ptr),
                    if instance.is_null() && shown() == "nothing" {
                        format!("expected {expected}, found nothing{}", where_(&ptr))
                    } else {
                        format!("expected {expected}, found {found} {}", shown())
                    },
                );
                if expected.contains("boolean") {
                    if let Value::String(s) = instance.as_ref() {
                        let lower = s.to_ascii_lowercase();
                        if ["yes", "no", "on", "off", "y", "n"].contains(&lower.as_str()) {
                            d = d.help(format!(
                                "YAML 1.2 reads `{s}` as a string; write `true` or `false`"
                            ));
                        }
                    }
                } else if expected.contains("string") && found != "null" {
                    d = d.help("quote the value to make it a string");
                } else if found == "null" {
                    d = d.help("give a value, or remove the key");
                }
                d
            }
            ValidationErrorKind::Enum { options } => {
                let opts = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| code(o.as_str().unwrap_or_default()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                Diagnostic::new(
                    Code::SchemaInvalidValue,
                    doc.pointers.value_span(&ptr),
                    format!("{} is not allowed here{}", shown(), where_(&ptr)),
                )
                .help(format!("use one of {opts}"))
            }
            ValidationErrorKind::Constant { expected_value } => Diagnostic::new(
                Code::SchemaInvalidValue,
                doc.pointers.value_span(&ptr),
                format!("{} is not allowed here{}", shown(), where_(&ptr)),
            )
            .help(format!("use `{expected_value}`")),
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                // An enum whose variants carry descriptions: every branch is a `const`.
                let consts: Vec<String> = context
                    .iter()
                    .filter_map(|branch| {
                        branch.iter().find_map(|e| match e.kind() {
                            ValidationErrorKind::Constant { expected_value } => {
                                Some(code(expected_value.as_str().unwrap_or_default()))
                            }
                            _ => None,
                        })
                    })
                    .collect();
                if !consts.is_empty() && consts.len() == context.len() {
                    Diagnostic::new(
                        Code::SchemaInvalidValue,
                        doc.pointers.value_span(&ptr),
                        format!("{} is not allowed here{}", shown(), where_(&ptr)),
                    )
                    .help(format!(
                        "use {}{}",
                        if consts.len() > 1 { "one of " } else { "" },
                        consts.join(", ")
                    ))
                } else {
                    Diagnostic::new(
                        Code::SchemaType,
                        doc.pointers.value_span(&ptr),
                        format!(
                            "{} is not a valid value{}: expected a string, boolean or integer",
                            shown(),
                            where_(&ptr)
                        ),
                    )
                    .help("write the value as a quoted string")
                }
            }
            _ => Diagnostic::new(
                Code::SchemaInvalidValue,
                doc.pointers.value_span(&ptr),
                format!("invalid value{}: {err}", where_(&ptr)),
            ),
        };
        out.push(d);
    }
    out
}

/// A value in backticks; the empty string as `""` (empty backticks read as nothing).
fn code(s: &str) -> String {
    if s.is_empty() {
        "`\"\"`".to_string()
    } else {
        format!("`{s}`")
    }
}

/// ` in /workloads/0/rules/1` style suffix naming the place in spec terms.
fn where_(ptr: &str) -> String {
    if ptr.is_empty() {
        " at the top level".to_string()
    } else {
        format!(" in `{}`", crate::check::dotted(ptr))
    }
}

fn required_hint(name: &str) -> &'static str {
    match name {
        "apiVersion" => " kexpose.dev/v1alpha1",
        "kind" => " Exposure",
        _ => "",
    }
}

fn truncate(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s.to_string()
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// The fields allowed where an `additionalProperties` error was raised: walk the schema
/// path (resolving `$ref`) to the object schema and list its properties.
fn known_fields(schema: &Value, schema_path: &str) -> Vec<String> {
    let mut node = schema;
    let segments: Vec<&str> = schema_path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for seg in &segments[..last] {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            if let Some(target) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| schema.pointer(p))
            {
                node = target;
            }
            continue;
        }
        let next = match node {
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => node.get(&seg),
        };
        match next {
            Some(n) => node = n,
            None => return Vec::new(),
        }
    }
    node.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn unknown_field_help(key: &str, known: &[String]) -> Option<String> {
    let lower = key.to_ascii_lowercase().replace(['-', '_'], "");
    if lower.contains("secret") && lower != "credentialssecret" {
        return Some(
            "secrets never go in the spec: create a Secret with keys client-id, client-secret and \
             cookie-secret and name it with `credentialsSecret`"
                .into(),
        );
    }
    let best = known
        .iter()
        .map(|k| {
            (
                edit_distance(&key.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                k,
            )
        })
        .min();
    match best {
        Some((d, k)) if d <= 2 || k.to_ascii_lowercase() == lower => {
            Some(format!("did you mean `{k}`?"))
        }
        _ if !known.is_empty() => Some(format!(
            "the fields here are: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let committed: serde_json::Value = serde_json::from_str(super::COMMITTED).unwrap();
        assert_eq!(
            serde_json::to_string(&committed).unwrap(),
            serde_json::to_string(&crate::spec::json_schema()).unwrap(),
            "schemas/kexpose.schema.json is stale: run `cargo run -- schema > schemas/kexpose.schema.json`"
        );
    }
}

#[cfg(test)]
mod empty_value_tests {
    use crate::source::SourceFile;

    /// Every field of the rich fixture emptied (`key:`, a null) and set to `""`, one at a time:
    /// no message, label or help has empty backticks, and an empty value is called `nothing`.
    #[test]
    fn no_message_has_empty_backticks() {
        let rich = include_str!("../../fixtures/rich/kexpose.yaml");
        let lines: Vec<&str> = rich.lines().collect();
        let mut checked = 0;
        for (n, line) in lines.iter().enumerate() {
            let Some(colon) = line.find(": ") else {
                continue;
            };
            if line.trim_start().starts_with('#') {
                continue;
            }
            for empty in ["", " \"\""] {
                let mut edited = lines.clone();
                let replaced = format!("{}:{empty}", &line[..colon]);
                edited[n] = &replaced;
                let text = edited.join("\n");
                let src = SourceFile::new("kexpose.yaml", text);
                for d in crate::check::check(&src).diagnostics {
                    for t in [Some(&d.message), d.label.as_ref(), d.help.as_ref()]
                        .into_iter()
                        .flatten()
                    {
                        assert!(!t.contains("``"), "line {}: {t}", n + 1);
                    }
                    if d.message.contains("found null") {
                        panic!("line {}: {}", n + 1, d.message);
                    }
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
