//! What both fuzz targets share: the oracles run on every input, the structure-aware mutator,
//! and the screen for inputs that hit a bug already reported (so that a long run keeps
//! looking for new ones; `KEXPOSE_FUZZ_ALL=1` turns the screen off).

use arbitrary::{Result, Unstructured};
use kexpose::diag::{Code, Policy};
use kexpose::render::Templates;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// Compile `bytes` as a spec and check the oracles: no panic (libFuzzer catches those), no
/// `template-error` or `output-schema` (a spec string must never break a template or its
/// output), and every diagnostic renders.
pub fn compile_and_check(bytes: &[u8]) {
    if screen_known_bugs() && hits_known_bug(bytes) {
        return;
    }
    let source = match kexpose::yaml::source_from_bytes("fuzz.yaml", bytes.to_vec()) {
        Ok(s) => s,
        Err((src, d)) => {
            let _ = kexpose::diag::render(&[*d], &src, false);
            return;
        }
    };
    let c = kexpose::compile(source, "fuzz.yaml", templates(), &Policy::default());
    let _ = kexpose::diag::render(&c.diagnostics, &c.source, false);
    for d in &c.diagnostics {
        if matches!(d.code, Code::TemplateError | Code::OutputSchema) {
            if screen_known_bugs() && known_output_bug(&c.source.text, &d.message) {
                return;
            }
            panic!(
                "a spec broke the built-in templates: {}: {}\n--- spec:\n{}",
                d.code.as_str(),
                d.message,
                c.source.text
            );
        }
    }
    if !c.has_errors() {
        let outputs = c.outputs.as_ref().expect("a valid spec has outputs");
        for (path, text) in outputs {
            for doc in kexpose::yaml::split_documents(text) {
                let src = kexpose::source::SourceFile::new(path.as_str(), doc);
                if let Err(d) = kexpose::yaml::parse(&src, false) {
                    panic!("{path} does not parse back: {d:?}");
                }
            }
        }
    }
}

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(Templates::builtin)
}

fn screen_known_bugs() -> bool {
    static S: OnceLock<bool> = OnceLock::new();
    *S.get_or_init(|| std::env::var_os("KEXPOSE_FUZZ_ALL").is_none())
}

/// Bugs reported but not fixed yet, recognised from the input, so that a long run keeps
/// looking for new ones. Empty now: the three screened during the first runs (an alias in key
/// position, a line break in `chartVersion`, multi-byte text before an unprintable character)
/// were fixed in 9197897. Add a reported bug here as `|| recognise(bytes)`.
fn hits_known_bug(_bytes: &[u8]) -> bool {
    false
}

/// The same for inputs recognised by the diagnostic they produce.
fn known_output_bug(_spec_text: &str, _message: &str) -> bool {
    false
}

// ------------------------------------------------------------------------------------------
// The structure-aware mutator.

const BASES: [&str; 3] = [
    include_str!("../../fixtures/rich/kexpose.yaml"),
    include_str!("../../fixtures/hardened/kexpose.yaml"),
    include_str!("../../fixtures/seed-client-credentials/kexpose.yaml"),
];

/// Every property name of the spec's JSON Schema, for added and renamed keys.
fn field_names() -> &'static [String] {
    static F: OnceLock<Vec<String>> = OnceLock::new();
    F.get_or_init(|| {
        let schema = kexpose::spec::json_schema();
        let mut names = Vec::new();
        collect_properties(&schema, &mut names);
        names.sort();
        names.dedup();
        names
    })
}

fn collect_properties(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            m.values().for_each(|x| collect_properties(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_properties(x, out)),
        _ => {}
    }
}

/// Values that sit on the edges of what the checks accept.
fn interesting() -> Vec<Value> {
    vec![
        json!(""),
        json!(" "),
        json!(0),
        json!(-1),
        json!(1),
        json!(65535),
        json!(65536),
        json!(3900),
        json!(3901),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e20),
        json!(0.5),
        json!(true),
        json!(false),
        Value::Null,
        json!([]),
        json!({}),
        json!("yes"),
        json!("on"),
        json!("true"),
        json!("false"),
        json!("0755"),
        json!("{{ .Values.x }}"),
        json!("a\nb: c"),
        json!("---"),
        json!("a: b #c"),
        json!("'\""),
        json!("/*"),
        json!("/{**}"),
        json!("/{*}"),
        json!("/a/{**}/{*}"),
        json!("/a/{*}/b"),
        json!("/{**}/{**}"),
        json!("GET"),
        json!("OPTIONS"),
        json!("oauth2-proxy"),
        json!("external"),
        json!("ias"),
        json!("envoy"),
        json!("https://x.accounts.ondemand.com"),
        json!("https://x.accounts.ondemand.com/"),
        json!("http://a.example.com"),
        json!("https://[::1]:8443"),
        json!("kyma-system/kyma-gateway"),
        json!("a/b/c"),
        json!("*.a.example.com"),
        json!("a.example.com"),
        json!("short"),
        json!("5s"),
        json!("500ms"),
        json!("1h"),
        json!("cookie-secure"),
        json!("skip-oidc-discovery"),
        json!("static://200"),
        json!("*.x.com:*"),
        json!("lax"),
        json!("none"),
        json!("Bearer "),
        json!("\u{0}"),
        json!("\u{feff}"),
        json!("é"),
        json!("a".repeat(300)),
    ]
}

/// A fixture, mutated 1 to 8 times, written as YAML or JSON.
pub fn mutated_spec(u: &mut Unstructured) -> Result<String> {
    let base = *u.choose(&BASES)?;
    let src = kexpose::source::SourceFile::new("base.yaml", base);
    let mut v = kexpose::yaml::parse(&src, false)
        .expect("fixtures parse")
        .value;
    let n = u.int_in_range(1..=8)?;
    for _ in 0..n {
        mutate_once(&mut v, u)?;
    }
    Ok(match u.int_in_range(0..=2)? {
        0 => kexpose::yaml::emit(&v, false).unwrap_or_default(),
        1 => serde_json::to_string(&v).unwrap_or_default(),
        _ => serde_json::to_string_pretty(&v).unwrap_or_default(),
    })
}

fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{at}/{}", kexpose::yaml::escape_token(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn split(pointer: &str) -> Option<(&str, String)> {
    let i = pointer.rfind('/')?;
    let token = pointer[i + 1..].replace("~1", "/").replace("~0", "~");
    Some((&pointer[..i], token))
}

fn a_value(u: &mut Unstructured, tree: &Value) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => u.choose(&interesting())?.clone(),
        2 => {
            // A copy of another node of the spec.
            let mut all = Vec::new();
            pointers(tree, String::new(), &mut all);
            let p = u.choose(&all)?;
            tree.pointer(p).cloned().unwrap_or(Value::Null)
        }
        _ => Value::String(u.arbitrary::<String>()?),
    })
}

fn mutate_once(v: &mut Value, u: &mut Unstructured) -> Result<()> {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    let target = u.choose(&all)?.clone();
    let op = u.int_in_range(0..=7)?;
    let new_value = a_value(u, v)?;
    match op {
        // Drop a field or a list entry.
        0 => {
            if let Some((parent, token)) = split(&target) {
                match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.shift_remove(&token);
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(i) = token.parse::<usize>()
                            && i < a.len()
                        {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        // Duplicate a list entry (or the list's first entry).
        1 => {
            if let Some(Value::Array(a)) = v.pointer_mut(&target) {
                if let Some(first) = a.first().cloned() {
                    let at = u.int_in_range(0..=a.len())?;
                    a.insert(at, first);
                }
            } else if let Some((parent, token)) = split(&target)
                && let Some(Value::Array(a)) = v.pointer_mut(parent)
                && let Ok(i) = token.parse::<usize>()
                && let Some(item) = a.get(i).cloned()
            {
                a.insert(i, item);
            }
        }
        // Replace a value.
        2 | 3 => {
            if let Some(slot) = v.pointer_mut(&target) {
                *slot = new_value;
            }
        }
        // Swap the scalar type: string ↔ number/bool, a collection for its first entry.
        4 => {
            if let Some(slot) = v.pointer_mut(&target) {
                *slot = match slot.take() {
                    Value::String(s) => s
                        .parse::<i64>()
                        .map(Value::from)
                        .or_else(|_| s.parse::<bool>().map(Value::from))
                        .unwrap_or_else(|_| json!([s])),
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(b.to_string()),
                    Value::Array(a) => a.into_iter().next().unwrap_or(Value::Null),
                    Value::Object(m) => Value::Array(vec![Value::Object(m)]),
                    Value::Null => json!(""),
                };
            }
        }
        // Add a known field with some value.
        5 => {
            let key = u.choose(field_names())?.clone();
            if let Some(Value::Object(m)) = v.pointer_mut(&target) {
                m.insert(key, new_value);
            }
        }
        // Rename a field to another known one.
        6 => {
            let key = u.choose(field_names())?.clone();
            if let Some((parent, token)) = split(&target)
                && let Some(Value::Object(m)) = v.pointer_mut(parent)
                && let Some(value) = m.shift_remove(&token)
            {
                m.insert(key, value);
            }
        }
        // Append a list entry copied from elsewhere, or wrap a value in a mapping.
        _ => match v.pointer_mut(&target) {
            Some(Value::Array(a)) => a.push(new_value),
            Some(slot) => {
                let key = u.choose(field_names())?.clone();
                let mut m = Map::new();
                m.insert(key, slot.take());
                *slot = Value::Object(m);
            }
            None => {}
        },
    }
    Ok(())
}
