//! Render: the plan through minijinja templates (strict undefined, no auto-escaping, scalars
//! only through the `yaml` filter, which writes JSON — a valid YAML flow scalar or collection —
//! so a spec string can never inject structure), then parsed back, validated against the
//! output schemas in `schemas/`, and written by the canonical YAML emitter.

mod schemas;

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

    /// Built-in templates with overrides given as (file name, text), e.g. read from a git
    /// revision. Unknown names are ignored by the caller's choice of names.
    pub fn from_texts(overrides: Vec<(String, String)>) -> Self {
        Self::with_overrides(
            overrides
                .into_iter()
                .map(|(n, t)| (n.clone(), t, n))
                .collect(),
        )
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
    let mut emit = |path: String,
                    schema: schemas::Kind,
                    template: &str,
                    ctx: minijinja::Value,
                    quote: bool,
                    out: &mut Outputs| {
        match templates
            .render(template, ctx)
            .and_then(|text| canonical(&path, template, &text, schema, quote))
        {
            Ok(text) => {
                out.insert(path, text);
            }
            Err(d) => errors.push(*d),
        }
    };
    for release in &plan.releases {
        let path = format!("helm/{}/values.yaml", release.name);
        emit(
            path,
            schemas::Kind::HelmValues,
            "helm-values.yaml.j2",
            context! { header => header.clone(), release => J::from(Serde(release)) },
            true,
            &mut out,
        );
    }
    if !plan.authorizers.is_empty() {
        emit(
            "istio/authorizers.yaml".into(),
            schemas::Kind::Istio,
            "istio-authorizers.yaml.j2",
            context! { header => header.clone(), authorizers => J::from(Serde(&plan.authorizers)) },
            false,
            &mut out,
        );
    }
    for rule in &plan.apirules {
        let path = format!("apirules/{}/{}.yaml", rule.namespace, rule.name);
        emit(
            path,
            schemas::Kind::ApiRule,
            "apirule.yaml.j2",
            context! { header => header.clone(), rule => J::from(Serde(rule)), labels => J::from(Serde(&plan.labels)) },
            false,
            &mut out,
        );
    }
    if !plan.namespaces.is_empty() {
        let mut namespace_labels = plan.labels.clone();
        namespace_labels.insert("istio-injection".into(), "enabled".into());
        emit(
            "namespaces.yaml".into(),
            schemas::Kind::Namespace,
            "namespaces.yaml.j2",
            context! { header => header.clone(), namespaces => J::from(Serde(&plan.namespaces)), namespace_labels => J::from(Serde(&namespace_labels)) },
            false,
            &mut out,
        );
    }
    let resources: Vec<&String> = out.keys().filter(|p| !p.starts_with("helm/")).collect();
    if !resources.is_empty() {
        let resources: Vec<String> = resources.into_iter().cloned().collect();
        emit(
            "kustomization.yaml".into(),
            schemas::Kind::Kustomization,
            "kustomization.yaml.j2",
            context! { header => header.clone(), resources },
            false,
            &mut out,
        );
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
    let docs = crate::yaml::split_documents(body);
    if docs.is_empty() {
        return Err(fail("the template produced no YAML document".into()));
    }
    for (i, doc) in docs.iter().enumerate() {
        let src = SourceFile::new(path, *doc);
        let parsed = crate::yaml::parse(&src, false).map_err(|d| {
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
            fail(format!("the rendered text is not valid YAML: {first}"))
        })?;
        schemas::validate(schema, &parsed.value).map_err(fail)?;
        if docs.len() > 1 || matches!(schema, schemas::Kind::Namespace) {
            out.push_str("---\n");
        }
        let yaml = crate::yaml::emit(&parsed.value, quote)
            .map_err(|e| fail(format!("cannot write YAML: {e}")))?;
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
        let _ = i;
    }
    Ok(out)
}
