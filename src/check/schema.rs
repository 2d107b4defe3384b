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

/// Does the value hold a `null` anywhere? The schema allows it nowhere (see
/// [`crate::spec::json_schema`]), but serde reads it as an absent optional field.
pub fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
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
    use super::*;
    use crate::spec::Spec;

    /// The typed path (no `null`, then serde) accepts a value.
    fn typed_accepts(v: &Value) -> bool {
        !has_null(v) && serde_json::from_value::<Spec>(v.clone()).is_ok()
    }

    /// The schema is checked only when the typed path fails (`check::check`). That is sound
    /// only while every constraint of the schema is one the types enforce: every keyword of
    /// every node of the committed schema is listed here with the reason serde enforces it.
    /// A new kind of constraint (`pattern`, `minimum`, `minItems`, a nullable type, …) fails
    /// this test until it is enforced on the typed path and listed, or `check::check` runs the
    /// schema again.
    #[test]
    fn every_schema_constraint_is_enforced_by_the_types() {
        fn walk(node: &Value, at: &str, seen: &mut usize) {
            let Value::Object(obj) = node else { return };
            for (key, v) in obj {
                *seen += 1;
                let here = format!("{at}/{key}");
                match key.as_str() {
                    // Annotations.
                    "description" | "title" | "default" | "$schema" | "$id" => {}
                    // Containers of schemas, walked below.
                    "$defs" | "properties" => {
                        for (name, sub) in v.as_object().expect("an object of schemas") {
                            walk(sub, &format!("{here}/{name}"), seen);
                        }
                    }
                    // A field's or item's schema: serde deserialises it as that type.
                    "items" | "additionalProperties" if v.is_object() => walk(v, &here, seen),
                    // `deny_unknown_fields`, from which schemars writes it.
                    "additionalProperties" => assert_eq!(v, &Value::Bool(false), "{here}"),
                    "$ref" => assert!(v.as_str().is_some_and(|r| r.starts_with("#/$defs/"))),
                    // Fields without `default` or `Option`: serde requires them too.
                    "required" => assert!(v.is_array(), "{here}"),
                    // serde reads exactly these JSON types; `null` is read by serde as an
                    // absent `Option`, which is why `check` runs the schema on any `null`.
                    "type" => {
                        let types: Vec<&str> = match v {
                            Value::String(t) => vec![t.as_str()],
                            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                            _ => panic!("{here}: {v}"),
                        };
                        for t in types {
                            assert!(
                                ["object", "array", "string", "integer", "number", "boolean"]
                                    .contains(&t),
                                "{here}: type {t} (a nullable type breaks `has_null`)"
                            );
                        }
                    }
                    // Integer formats are annotations in draft 2020-12 (not asserted by the
                    // validator); serde's integer types are at least as strict.
                    "format" => assert!(
                        v.as_str()
                            .is_some_and(|f| f.starts_with("int") || f.starts_with("uint")),
                        "{here}: {v}"
                    ),
                    // A unit enum variant: serde accepts exactly its name.
                    "const" => assert!(v.is_string(), "{here}"),
                    // An enum with documented variants: every branch is one `const`.
                    "oneOf" => {
                        for branch in v.as_array().expect("branches") {
                            assert!(branch.get("const").is_some(), "{here}: {branch}");
                            walk(branch, &here, seen);
                        }
                    }
                    // An untagged enum (`ArgValue`): serde tries each branch's type.
                    "anyOf" => {
                        for branch in v.as_array().expect("branches") {
                            let keys: Vec<&String> = branch.as_object().unwrap().keys().collect();
                            assert!(
                                keys.iter().all(
                                    |k| ["type", "format", "description"].contains(&k.as_str())
                                ),
                                "{here}: {branch}"
                            );
                            walk(branch, &here, seen);
                        }
                    }
                    _ => panic!(
                        "{here}: the schema keyword `{key}` is not enforced by the typed \
                         deserialisation; enforce it there and list it here, or make \
                         `check::check` run the schema on every spec"
                    ),
                }
            }
        }
        let schema: Value = serde_json::from_str(super::COMMITTED).unwrap();
        let mut seen = 0;
        walk(&schema, "", &mut seen);
        assert!(seen > 300, "{seen}");
    }

    /// The same, shown on values: every spec of the test corpus, and the fixtures with each
    /// value in turn replaced by values of every JSON type (boundaries included), is either
    /// refused by the typed path or valid under the schema.
    #[test]
    fn what_the_types_accept_the_schema_accepts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts: Vec<(String, String)> = Vec::new();
        for dir in ["tests/bad", "tests/hostile"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "yaml") {
                    texts.push((
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    ));
                }
            }
        }
        for e in std::fs::read_dir(root.join("tests/real")).unwrap() {
            let p = e.unwrap().path().join("kexpose.yaml");
            if let Ok(t) = std::fs::read_to_string(&p) {
                texts.push((p.display().to_string(), t));
            }
        }
        let bases = [
            include_str!("../../fixtures/rich/kexpose.yaml"),
            include_str!("../../fixtures/hardened/kexpose.yaml"),
            include_str!("../../templates/starter.kexpose.yaml"),
        ];
        let replacements = [
            "~",
            "\"\"",
            "0",
            "-1",
            "65536",
            "1.5",
            "8000.0",
            "99999999999999999999",
            "true",
            "yes",
            "x",
            "[]",
            "{}",
            "[x]",
            "{a: b}",
            "[~]",
            "{a: ~}",
            "{a: 1}",
            "Exposure",
        ];
        for base in bases {
            texts.push(("base".into(), base.to_string()));
            let lines: Vec<&str> = base.lines().collect();
            for (n, line) in lines.iter().enumerate() {
                let Some(colon) = line
                    .find(": ")
                    .or_else(|| line.ends_with(':').then(|| line.len() - 1))
                else {
                    continue;
                };
                if line.trim_start().starts_with('#') {
                    continue;
                }
                for r in replacements {
                    let mut edited = lines.clone();
                    let replaced = format!("{}: {r}", &line[..colon]);
                    edited[n] = &replaced;
                    texts.push((format!("line {}: {replaced}", n + 1), edited.join("\n")));
                }
            }
        }
        let validator = &compiled().validator;
        let (mut accepted, mut refused) = (0, 0);
        for (name, text) in &texts {
            let Ok(doc) = crate::yaml::parse(&SourceFile::new("t.yaml", text.as_str()), false)
            else {
                continue;
            };
            if typed_accepts(&doc.value) {
                accepted += 1;
                assert!(
                    validator.is_valid(&doc.value),
                    "{name}: the types accept what the schema refuses"
                );
            } else {
                refused += 1;
            }
        }
        assert!(
            accepted > 500 && refused > 1000,
            "{accepted} accepted, {refused} refused"
        );
    }

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
