//! Diff: what changes between two renders — first who can call what (the effective access of
//! the Istio model, [`crate::mesh`]), then
//! the objects (identity apiVersion/kind/namespace/name; Helm values by path) with changed field
//! paths and a unified diff.
//!
//! Both sides are sets of rendered files: the render of the working-tree spec, and either OUT on
//! disk or the render of the spec at a git revision.

pub mod access;
pub mod explain;
pub mod git;
pub mod report;
mod stale;

pub use stale::stale_report;

use crate::render::Outputs;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The identity of one object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectId {
    /// apiVersion (`helm/values` for Helm values files).
    pub api_version: String,
    /// kind (`HelmValues` for Helm values files).
    pub kind: String,
    /// Namespace, `""` when cluster-scoped.
    pub namespace: String,
    /// Name (for Helm values: the release name).
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One parsed object and the file it came from.
#[derive(Debug, Clone)]
pub struct Object {
    /// Identity.
    pub id: ObjectId,
    /// The file (relative to OUT).
    pub path: String,
    /// Content (shared: a file with the same bytes on both sides of a diff is parsed once and
    /// its objects go to both sides).
    pub value: std::sync::Arc<Value>,
}

/// Parse rendered files into objects.
pub fn objects_from_outputs(outputs: &Outputs) -> Result<Vec<Object>, String> {
    let mut objects = Vec::new();
    for (path, text) in outputs {
        objects.extend(parse_file(path, text)?);
    }
    Ok(objects)
}

/// Parse the generated files of an output directory (those its manifest lists; every
/// `.yaml` file when it has none). A file that does not parse is an error.
pub fn objects_from_dir(out: &Path) -> Result<Vec<Object>, String> {
    let files = files_from_dir(out)?;
    let mut objects = Vec::new();
    for (path, text) in &files {
        objects.extend(
            parse_file(path, text).map_err(|e| format!("{}: {e}", out.join(path).display()))?,
        );
    }
    Ok(objects)
}

/// The generated files of an output directory as text, unparsed (those its manifest lists;
/// every `.yaml` file when it has none), by path relative to OUT.
pub fn files_from_dir(out: &Path) -> Result<Outputs, String> {
    let meta = std::fs::metadata(out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", out.display()));
    }
    let manifest = std::fs::read_to_string(out.join(crate::write::MANIFEST)).ok();
    let paths: Vec<String> = match manifest {
        Some(m) => m
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        None => {
            let mut found = Vec::new();
            crate::write::walk(out, out, &mut |rel, path| {
                let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file());
                if regular && (rel.ends_with(".yaml") || rel.ends_with(".yml")) {
                    found.push(rel.to_string());
                }
            })?;
            found
        }
    };
    let mut files = Outputs::new();
    for path in paths {
        let full = out.join(&path);
        if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "{} is a symbolic link; kexpose does not follow links in an output directory",
                full.display()
            ));
        }
        let text = match std::fs::read(&full) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| format!("{}: not UTF-8 text", full.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", full.display())),
        };
        files.insert(path, text);
    }
    Ok(files)
}

/// The objects of a comparison: before, after.
pub type Sides = (Vec<Object>, Vec<Object>);

/// The objects of both sides of a comparison, bytes first (issue 15): `None` when both sides
/// hold the same files with the same bytes — then nothing differs and nothing is parsed. Else
/// a file with the same bytes on both sides is parsed once and its objects go to both sides;
/// only files that differ are parsed twice. The result is what parsing every file of each side
/// gives (same objects, same order). `label` names a file of `before` in a parse error (e.g.
/// its path in OUT).
pub fn objects_bytes_first(
    before: &Outputs,
    after: &Outputs,
    label: &dyn Fn(&str) -> String,
) -> Result<Option<Sides>, String> {
    if before == after {
        return Ok(None);
    }
    let (mut b, mut a) = (Vec::new(), Vec::new());
    // Files in path order on each side, as objects_from_dir and objects_from_outputs read them.
    for (path, text) in before {
        if after.get(path) == Some(text) {
            continue; // parsed with the after side below
        }
        b.extend(parse_file(path, text).map_err(|e| format!("{}: {e}", label(path)))?);
    }
    let mut shared: BTreeMap<&str, Vec<Object>> = BTreeMap::new();
    for (path, text) in after {
        let objects = parse_file(path, text)?;
        if before.get(path) == Some(text) {
            shared.insert(path, objects.clone());
        }
        a.extend(objects);
    }
    if !shared.is_empty() {
        // Put the shared files' objects back in path order among the before side's own.
        let mut merged = Vec::with_capacity(b.len() + shared.values().map(Vec::len).sum::<usize>());
        let mut own = b.into_iter().peekable();
        for (path, objects) in shared {
            while own.peek().is_some_and(|o| o.path.as_str() < path) {
                merged.extend(own.next());
            }
            merged.extend(objects);
        }
        merged.extend(own);
        b = merged;
    }
    Ok(Some((b, a)))
}

fn parse_file(path: &str, text: &str) -> Result<Vec<Object>, String> {
    let mut objects = Vec::new();
    for doc in crate::yaml::split_documents(text) {
        let src = crate::source::SourceFile::new(path, doc);
        let value = crate::yaml::parse(&src, false)
            .map_err(|d| {
                let first = d.into_iter().next();
                first.map_or_else(
                    || "does not parse as YAML".to_string(),
                    |d| {
                        format!(
                            "does not parse as YAML: {} at {}",
                            d.message,
                            d.span.map(|s| s.to_string()).unwrap_or_default()
                        )
                    },
                )
            })?
            .value;
        let id = if path.starts_with("helm/") && path.ends_with("/values.yaml") {
            let name = path
                .trim_start_matches("helm/")
                .trim_end_matches("/values.yaml")
                .to_string();
            ObjectId {
                api_version: "helm/values".into(),
                kind: "HelmValues".into(),
                namespace: String::new(),
                name,
            }
        } else {
            let s = |p: &str| {
                value
                    .pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            if s("/kind").is_empty() {
                return Err("a document without `kind`".into());
            }
            ObjectId {
                api_version: s("/apiVersion"),
                kind: s("/kind"),
                namespace: s("/metadata/namespace"),
                name: s("/metadata/name"),
            }
        };
        objects.push(Object {
            id,
            path: path.to_string(),
            value: value.into(),
        });
    }
    Ok(objects)
}

/// How an object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeType {
    /// Only after.
    Added,
    /// Only before.
    Removed,
    /// On both sides, different.
    Changed,
}

/// One changed field (values masked where secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path, e.g. `spec.rules[1].methods`.
    pub path: String,
    /// Before (`None`: absent).
    pub old: Option<Value>,
    /// After (`None`: absent).
    pub new: Option<Value>,
}

/// One object's change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    /// Added, removed or changed.
    pub change_type: ChangeType,
    /// Identity.
    #[serde(flatten)]
    pub id: ObjectId,
    /// File (after, else before).
    pub path: String,
    /// Changed fields (for `changed`).
    pub fields: Vec<FieldChange>,
    /// Unified diff of the object's YAML (masked).
    pub diff: String,
}

/// Compare two sets of objects.
pub fn compare_objects(before: &[Object], after: &[Object]) -> Vec<ObjectChange> {
    fn index(objs: &[Object]) -> BTreeMap<&ObjectId, &Object> {
        objs.iter().map(|o| (&o.id, o)).collect()
    }
    let (b, a) = (index(before), index(after));
    let mut out = Vec::new();
    let ids: std::collections::BTreeSet<&ObjectId> = b.keys().chain(a.keys()).copied().collect();
    for id in ids {
        let change = match (b.get(id), a.get(id)) {
            (Some(old), Some(new)) if old.value == new.value => continue,
            (Some(old), Some(new)) => {
                let (mo, mn) = mask_pair(&id.kind, &old.value, &new.value);
                let mut fields = Vec::new();
                field_changes("", Some(&mo), Some(&mn), &mut fields);
                ObjectChange {
                    change_type: ChangeType::Changed,
                    id: id.clone(),
                    path: new.path.clone(),
                    fields,
                    diff: unified(&yaml_text(&mo), &yaml_text(&mn)),
                }
            }
            (None, Some(new)) => {
                let m = mask_one(&id.kind, &new.value);
                ObjectChange {
                    change_type: ChangeType::Added,
                    id: id.clone(),
                    path: new.path.clone(),
                    fields: Vec::new(),
                    diff: unified("", &yaml_text(&m)),
                }
            }
            (Some(old), None) => {
                let m = mask_one(&id.kind, &old.value);
                ObjectChange {
                    change_type: ChangeType::Removed,
                    id: id.clone(),
                    path: old.path.clone(),
                    fields: Vec::new(),
                    diff: unified(&yaml_text(&m), ""),
                }
            }
            (None, None) => unreachable!("id from one side"),
        };
        out.push(change);
    }
    out
}

fn yaml_text(v: &Value) -> String {
    crate::yaml::emit(v, false).unwrap_or_else(|e| format!("# cannot show: {e}\n"))
}

fn unified(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("before", "after")
        .to_string()
}

/// Field names whose values are never shown: every key that carries a credential
/// ([`crate::secrets::is_credential_key`]: `clientSecret`, `client-secret`, `redis-password`, …).
fn is_secret_key(key: &str) -> bool {
    crate::secrets::is_credential_key(key)
}

/// Mask secrets in one object: values of a Secret's `data`/`stringData`, and fields named like
/// secrets anywhere.
pub fn mask_one(kind: &str, v: &Value) -> Value {
    let mut v = v.clone();
    mask_walk(kind == "Secret", "", &mut v, &mut |_| {
        Value::String("***".into())
    });
    v
}

fn mask_walk(secret_kind: bool, parent: &str, v: &mut Value, f: &mut dyn FnMut(&str) -> Value) {
    if let Value::Object(map) = v {
        for (k, child) in map.iter_mut() {
            let path = if parent.is_empty() {
                k.clone()
            } else {
                format!("{parent}.{k}")
            };
            let secret = is_secret_key(k)
                || (secret_kind && parent.is_empty() && (k == "data" || k == "stringData"));
            if secret {
                if let Value::Object(inner) = child
                    && secret_kind
                    && parent.is_empty()
                {
                    for (ik, iv) in inner.iter_mut() {
                        *iv = f(&format!("{path}.{ik}"));
                    }
                } else {
                    *child = f(&path);
                }
            } else {
                mask_walk(secret_kind, &path, child, f);
            }
        }
    } else if let Value::Array(items) = v {
        for (i, child) in items.iter_mut().enumerate() {
            mask_walk(secret_kind, &format!("{parent}[{i}]"), child, f);
        }
    }
}

/// Mask secrets on both sides: `***` where equal, `*** (before)` / `*** (after)` where they differ.
pub fn mask_pair(kind: &str, old: &Value, new: &Value) -> (Value, Value) {
    let secret_kind = kind == "Secret";
    let mut old_secrets = BTreeMap::new();
    let mut probe = old.clone();
    mask_walk(secret_kind, "", &mut probe, &mut |p| {
        old_secrets.insert(p.to_string(), ());
        Value::Null
    });
    let lookup = |v: &Value, p: &str| -> Option<Value> { lookup_dotted(v, p) };
    let mut mo = old.clone();
    mask_walk(secret_kind, "", &mut mo, &mut |p| {
        if lookup(old, p) == lookup(new, p) {
            "***".into()
        } else {
            "*** (before)".into()
        }
    });
    let mut mn = new.clone();
    mask_walk(secret_kind, "", &mut mn, &mut |p| {
        if lookup(old, p) == lookup(new, p) {
            "***".into()
        } else {
            "*** (after)".into()
        }
    });
    (mo, mn)
}

fn lookup_dotted(v: &Value, path: &str) -> Option<Value> {
    // Paths are built from keys and `[i]`; keys containing dots are rare in secrets.
    let mut cur = v;
    for part in path.split('.') {
        let (key, idx) = match part.find('[') {
            Some(i) => (&part[..i], Some(&part[i..])),
            None => (part, None),
        };
        cur = cur.get(key)?;
        if let Some(idx) = idx {
            for n in idx.split(['[', ']']).filter(|s| !s.is_empty()) {
                cur = cur.get(n.parse::<usize>().ok()?)?;
            }
        }
    }
    Some(cur.clone())
}

fn field_changes(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(o), Some(n)) if o == n => {}
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            // Keep the document's key order where possible: old keys first, then new ones.
            let mut ordered: Vec<&String> = o.keys().collect();
            ordered.extend(n.keys().filter(|k| !o.contains_key(*k)));
            debug_assert_eq!(ordered.len(), keys.len());
            for k in ordered {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                field_changes(&p, o.get(k), n.get(k), out);
            }
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) if o.len() == n.len() && !all_scalars(o) => {
            for (i, (a, b)) in o.iter().zip(n).enumerate() {
                field_changes(&format!("{path}[{i}]"), Some(a), Some(b), out);
            }
        }
        // A list of objects that grew or shrank (a rule inserted or removed): align the items
        // (longest common subsequence), then one line per field of each inserted or removed
        // item and per changed field of each edited one — never the whole list on one line.
        (Some(Value::Array(o)), Some(Value::Array(n))) if !all_scalars(o) || !all_scalars(n) => {
            let key = |v: &Value| v.to_string();
            let (ok, nk): (Vec<String>, Vec<String>) =
                (o.iter().map(key).collect(), n.iter().map(key).collect());
            for op in similar::capture_diff_slices(similar::Algorithm::Myers, &ok, &nk) {
                use similar::DiffOp;
                match op {
                    DiffOp::Equal { .. } => {}
                    DiffOp::Delete {
                        old_index, old_len, ..
                    } => {
                        for (i, item) in o.iter().enumerate().skip(old_index).take(old_len) {
                            leaves(&format!("{path}[{i}]"), item, true, out);
                        }
                    }
                    DiffOp::Insert {
                        new_index, new_len, ..
                    } => {
                        for (j, item) in n.iter().enumerate().skip(new_index).take(new_len) {
                            leaves(&format!("{path}[{j}]"), item, false, out);
                        }
                    }
                    DiffOp::Replace {
                        old_index,
                        old_len,
                        new_index,
                        new_len,
                    } => {
                        let paired = old_len.min(new_len);
                        for k in 0..paired {
                            // Same position in the new list: name the item by its new index.
                            field_changes(
                                &format!("{path}[{}]", new_index + k),
                                Some(&o[old_index + k]),
                                Some(&n[new_index + k]),
                                out,
                            );
                        }
                        let rest = |list: &[Value], at: usize, len: usize| {
                            list.iter()
                                .enumerate()
                                .skip(at + paired)
                                .take(len - paired)
                                .map(|(i, v)| (i, v.clone()))
                                .collect::<Vec<_>>()
                        };
                        for (i, item) in rest(o, old_index, old_len) {
                            leaves(&format!("{path}[{i}]"), &item, true, out);
                        }
                        for (j, item) in rest(n, new_index, new_len) {
                            leaves(&format!("{path}[{j}]"), &item, false, out);
                        }
                    }
                }
            }
        }
        _ => out.push(FieldChange {
            path: path.to_string(),
            old: old.cloned(),
            new: new.cloned(),
        }),
    }
}

/// Every leaf field of a value that appeared (`removed == false`) or disappeared, one
/// [`FieldChange`] each; lists of scalars count as one leaf.
fn leaves(path: &str, v: &Value, removed: bool, out: &mut Vec<FieldChange>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                leaves(&format!("{path}.{k}"), child, removed, out);
            }
        }
        Value::Array(items) if !items.is_empty() && !all_scalars(items) => {
            for (i, child) in items.iter().enumerate() {
                leaves(&format!("{path}[{i}]"), child, removed, out);
            }
        }
        _ => out.push(FieldChange {
            path: path.to_string(),
            old: removed.then(|| v.clone()),
            new: (!removed).then(|| v.clone()),
        }),
    }
}

fn all_scalars(items: &[Value]) -> bool {
    items.iter().all(|v| !v.is_object() && !v.is_array())
}

/// A whole diff: access changes first, then objects.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// Who can call what, before → after: every region of request paths whose verdict
    /// changed, weakening changes first.
    pub access_changes: Vec<crate::mesh::compare::Change>,
    /// Authorizer registration and oauth2-proxy flag changes.
    pub authorizer_changes: Vec<access::AuthorizerChange>,
    /// Object changes.
    pub objects: Vec<ObjectChange>,
}

impl Diff {
    /// Compute a diff between two sides.
    pub fn between(before: &[Object], after: &[Object]) -> Diff {
        let (mb, ma) = (
            access::Model::from_objects(before),
            access::Model::from_objects(after),
        );
        Diff {
            access_changes: crate::mesh::compare::compare(
                &explain::mesh_of(before),
                &explain::mesh_of(after),
            ),
            authorizer_changes: access::compare_authorizers(&mb, &ma),
            objects: compare_objects(before, after),
        }
    }

    /// No differences at all.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
            && self.access_changes.is_empty()
            && self.authorizer_changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(objects: &[Object]) -> Vec<(ObjectId, String, Value)> {
        objects
            .iter()
            .map(|o| (o.id.clone(), o.path.clone(), (*o.value).clone()))
            .collect()
    }

    fn rule(name: &str, timeout: u32) -> String {
        format!(
            "apiVersion: gateway.kyma-project.io/v2\nkind: APIRule\nmetadata:\n  name: {name}\n  namespace: a\nspec:\n  hosts:\n  - {name}.example.com\n  timeout: {timeout}\n"
        )
    }

    fn files(entries: &[(&str, String)]) -> Outputs {
        entries
            .iter()
            .map(|(p, t)| (p.to_string(), t.clone()))
            .collect()
    }

    /// Bytes first gives what parsing both sides in full gives — same objects, same order —
    /// whichever files differ, are added or removed; and nothing at all for equal sides.
    #[test]
    fn bytes_first_parses_the_same_objects() {
        let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n".to_string();
        let before = files(&[
            ("apirules/a/one.yaml", rule("one", 1)),
            ("apirules/a/three.yaml", rule("three", 3)),
            ("apirules/a/two.yaml", rule("two", 2)),
            ("namespaces.yaml", ns.clone()),
            ("zz-gone.yaml", rule("gone", 9)),
        ]);
        let after = files(&[
            ("apirules/a/new.yaml", rule("new", 5)),
            ("apirules/a/one.yaml", rule("one", 1)),
            ("apirules/a/three.yaml", rule("three", 30)),
            ("apirules/a/two.yaml", rule("two", 2)),
            ("namespaces.yaml", ns),
        ]);
        let label = |p: &str| format!("OUT/{p}");
        let (b, a) = objects_bytes_first(&before, &after, &label)
            .unwrap()
            .expect("the sides differ");
        assert_eq!(flat(&b), flat(&objects_from_outputs(&before).unwrap()));
        assert_eq!(flat(&a), flat(&objects_from_outputs(&after).unwrap()));
        assert_eq!(b.len(), 6);

        assert!(
            objects_bytes_first(&after, &after, &label)
                .unwrap()
                .is_none()
        );
        // The shortcut is sound: equal sides make an empty diff when parsed too.
        let objects = objects_from_outputs(&after).unwrap();
        assert!(Diff::between(&objects, &objects).is_empty());

        // A file of the before side that does not parse is named by the label.
        let mut broken = before.clone();
        broken.insert("apirules/a/two.yaml".into(), "a: [".into());
        let err = objects_bytes_first(&broken, &after, &label).unwrap_err();
        assert!(err.starts_with("OUT/apirules/a/two.yaml: "), "{err}");
    }
}
