//! Render: the plan through minijinja templates (strict undefined, no auto-escaping, scalars
//! only through the `yaml` filter, which writes JSON — a valid YAML flow scalar or collection —
//! so a spec string can never inject structure), then parsed back, validated against the
//! output schemas in `schemas/`, and written by the canonical YAML emitter.

mod reread;
pub(crate) mod schemas;

use crate::diag::{Code, Diagnostic};
use crate::plan::Plan;
use crate::source::SourceFile;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value as J, context};
use std::collections::BTreeMap;
use std::path::Path;

/// The built-in templates: (file name, text).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "apirule.yaml.j2",
        include_str!("../../templates/apirule.yaml.j2"),
    ),
    (
        "istio-authorizers.yaml.j2",
        include_str!("../../templates/istio-authorizers.yaml.j2"),
    ),
    (
        "helm-values.yaml.j2",
        include_str!("../../templates/helm-values.yaml.j2"),
    ),
    (
        "namespaces.yaml.j2",
        include_str!("../../templates/namespaces.yaml.j2"),
    ),
    (
        "kustomization.yaml.j2",
        include_str!("../../templates/kustomization.yaml.j2"),
    ),
];

/// Rendered files: path relative to OUT → content.
pub type Outputs = BTreeMap<String, String>;

/// Templates, built in or overridden from a directory.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Self {
        Self::with_overrides(Vec::new())
    }

    /// Built-in templates, with any file of the same name in `dir` taking precedence.
    /// A `.j2` file in `dir` that matches no template is an error (a typo would otherwise be
    /// silently ignored).
    pub fn from_dir(dir: &Path) -> Result<Self, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read template directory {}: {e}", dir.display()))?;
        let mut overrides = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|e| format!("cannot read template directory {}: {e}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".j2") {
                continue;
            }
            if !TEMPLATES.iter().any(|(n, _)| *n == name) {
                let known: Vec<&str> = TEMPLATES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "{}: no built-in template is named `{name}` (templates: {})",
                    dir.display(),
                    known.join(", ")
                ));
            }
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
            overrides.push((name, text, entry.path().display().to_string()));
        }
        Ok(Self::with_overrides(overrides))
    }

    fn with_overrides(overrides: Vec<(String, String, String)>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_filter("yaml", yaml_filter);
        for (name, text) in TEMPLATES {
            let text = overrides
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or_else(|| text.to_string(), |(_, t, _)| t.clone());
            // A syntax error surfaces when the template is used, with its name and line.
            let _ = env.add_template_owned(name.to_string(), text);
        }
        Templates { env }
    }

    fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, Box<Diagnostic>> {
        let result = self.env.get_template(name).and_then(|t| t.render(ctx));
        result.map_err(|e| {
            let line = e.line().map(|l| format!(" line {l}")).unwrap_or_default();
            let mut detail = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                detail.push_str(&format!(": {s}"));
                src = s.source();
            }
            Box::new(
                Diagnostic::new(Code::TemplateError, None, format!("template `{name}`{line}: {detail}"))
                    .help("fix the template (or remove the override from --templates to use the built-in one)"),
            )
        })
    }
}

/// `{{ value | yaml }}`: the value as JSON, which YAML reads as the same scalar or flow
/// collection. Strings come out double-quoted and escaped.
fn yaml_filter(value: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(&value)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// The first line of every generated file.
pub fn header(source: &str) -> String {
    format!(
        "# Generated by kexpose from {source}. Do not edit: change the spec and run `kexpose render`."
    )
}

/// Render every output of a plan.
pub fn render(plan: &Plan, templates: &Templates) -> Result<Outputs, Vec<Diagnostic>> {
    let mut out = Outputs::new();
    let mut errors = Vec::new();
    let header = J::from(header(&plan.source));
    let one = |path: &str, schema: schemas::Kind, template: &str, ctx: J, quote: bool| {
        templates
            .render(template, ctx)
            .and_then(|text| canonical(path, template, &text, schema, quote))
    };
    let mut keep =
        |path: String, result: Result<String, Box<Diagnostic>>, out: &mut Outputs| match result {
            Ok(text) => {
                out.insert(path, text);
            }
            Err(d) => errors.push(*d),
        };
    for release in &plan.releases {
        let path = format!("helm/{}/values.yaml", release.name);
        let result = one(
            &path,
            schemas::Kind::HelmValues,
            "helm-values.yaml.j2",
            context! { header => header.clone(), release => J::from(Serde(release)) },
            true,
        );
        keep(path, result, &mut out);
    }
    if !plan.authorizers.is_empty() {
        let path = "istio/authorizers.yaml".to_string();
        let result = one(
            &path,
            schemas::Kind::Istio,
            "istio-authorizers.yaml.j2",
            context! { header => header.clone(), authorizers => J::from(Serde(&plan.authorizers)) },
            false,
        );
        keep(path, result, &mut out);
    }
    // APIRules are independent of each other and the bulk of the work: render them in
    // parallel, then take the results in spec order.
    let labels = J::from(Serde(&plan.labels));
    let apirules = crate::par::map(&plan.apirules, |rule| {
        let path = format!("apirules/{}/{}.yaml", rule.namespace, rule.name);
        let result = one(
            &path,
            schemas::Kind::ApiRule,
            "apirule.yaml.j2",
            context! { header => header.clone(), rule => J::from(Serde(rule)), labels => labels.clone() },
            false,
        );
        (path, result)
    });
    for (path, result) in apirules {
        keep(path, result, &mut out);
    }
    if !plan.namespaces.is_empty() {
        let mut namespace_labels = plan.labels.clone();
        namespace_labels.insert("istio-injection".into(), "enabled".into());
        let path = "namespaces.yaml".to_string();
        let result = one(
            &path,
            schemas::Kind::Namespace,
            "namespaces.yaml.j2",
            context! { header => header.clone(), namespaces => J::from(Serde(&plan.namespaces)), namespace_labels => J::from(Serde(&namespace_labels)) },
            false,
        );
        keep(path, result, &mut out);
    }
    let resources: Vec<String> = out
        .keys()
        .filter(|p| !p.starts_with("helm/"))
        .cloned()
        .collect();
    if !resources.is_empty() {
        let path = "kustomization.yaml".to_string();
        let result = one(
            &path,
            schemas::Kind::Kustomization,
            "kustomization.yaml.j2",
            context! { header => header.clone(), resources },
            false,
        );
        keep(path, result, &mut out);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parse rendered text back, validate each document, and re-emit it canonically. Leading
/// comment lines of the rendered text are kept as the file's header.
fn canonical(
    path: &str,
    template: &str,
    text: &str,
    schema: schemas::Kind,
    quote: bool,
) -> Result<String, Box<Diagnostic>> {
    let fail = |msg: String| {
        Box::new(
            Diagnostic::new(Code::OutputSchema, None, format!("{path} (from template `{template}`): {msg}"))
                .help("a template override produced output that is not what this file must hold; compare it with the built-in template"),
        )
    };
    let mut out = String::new();
    let mut body_start = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            out.push_str(line.trim_end());
            out.push('\n');
            body_start += line.len() + 1;
        } else if line.trim().is_empty() {
            body_start += line.len() + 1;
        } else {
            break;
        }
    }
    let body = text.get(body_start.min(text.len())..).unwrap_or("");
    // Documents are separated by `---` lines (namespaces.yaml holds several).
    let mut docs: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(&body[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&body[start..]);
    let docs: Vec<&str> = docs
        .into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect();
    if docs.is_empty() {
        return Err(fail("the template produced no YAML document".into()));
    }
    for doc in &docs {
        // The templates' shape is read directly; anything else by the full YAML loader.
        let value = match reread::parse(doc) {
            Some(value) => {
                // In unit tests, every fast read is checked against the full loader.
                #[cfg(test)]
                assert_eq!(
                    serde_json::to_string(&value).unwrap(),
                    serde_json::to_string(&full_parse(path, doc).unwrap()).unwrap(),
                    "{path}: the fast reader disagrees with the full loader on\n{doc}"
                );
                value
            }
            None => {
                #[cfg(test)]
                tests::FULL_PARSES.with(|n| n.set(n.get() + 1));
                full_parse(path, doc).map_err(fail)?
            }
        };
        schemas::validate(schema, &value).map_err(fail)?;
        if docs.len() > 1 || matches!(schema, schemas::Kind::Namespace) {
            out.push_str("---\n");
        }
        let yaml = crate::yaml::emit(&value, quote)
            .map_err(|e| fail(format!("cannot write YAML: {e}")))?;
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Parse one rendered document with the full YAML loader.
fn full_parse(path: &str, doc: &str) -> Result<serde_json::Value, String> {
    let src = SourceFile::new(path, doc);
    crate::yaml::parse(&src, false)
        .map(|d| d.value)
        .map_err(|d| {
            let first = d
                .into_iter()
                .next()
                .map(|d| {
                    format!(
                        "{} at {}",
                        d.message,
                        d.span.map(|s| s.to_string()).unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            format!("the rendered text is not valid YAML: {first}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Rendered documents that needed the full YAML loader, on this thread.
        pub(super) static FULL_PARSES: Cell<usize> = const { Cell::new(0) };
    }

    /// The built-in templates' output always stays in the subset the fast reader reads, for
    /// every fixture (so a template change cannot silently make rendering slow again); in
    /// unit tests `canonical` also checks each fast read against the full loader.
    #[test]
    fn builtin_templates_stay_in_the_fast_subset() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let templates = Templates::builtin();
        let mut cases = 0;
        for entry in std::fs::read_dir(fixtures).unwrap() {
            let spec = entry.unwrap().path().join("kexpose.yaml");
            if !spec.exists() {
                continue;
            }
            let src = crate::read_spec(&spec).unwrap();
            let checked = crate::check::check(&src);
            let plan = crate::plan::plan(&checked.spec.unwrap(), "kexpose.yaml");
            FULL_PARSES.with(|n| n.set(0));
            let outputs = render(&plan, &templates).unwrap();
            assert!(outputs.len() >= 4);
            assert_eq!(FULL_PARSES.with(Cell::get), 0, "{}", spec.display());
            cases += 1;
        }
        assert!(cases >= 3);
    }
}
