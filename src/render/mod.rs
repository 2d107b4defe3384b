//! Render: the plan into output files.
//!
//! Built-in outputs are written directly from the plan by typed writers (`builtin`) with the
//! canonical YAML writer (`crate::yaml::canon`), without a template engine, a re-read or an
//! output schema: every constraint of the output schemas is enforced by a check of the spec or
//! by the writer (`schema_proof.rs`), and the bytes equal those of the template path (tested on
//! random specs in `tests/properties.rs`).
//!
//! A template overridden with `--templates` goes through minijinja (strict undefined, no
//! auto-escaping, scalars only through the `yaml` filter, which writes JSON — a valid YAML flow
//! scalar or collection — so a spec string can never inject structure), is parsed back,
//! validated against its output schema in `schemas/`, and written by the canonical YAML
//! emitter.

mod builtin;
#[cfg(test)]
mod schema_proof;
pub(crate) mod schemas;

pub use schemas::Kind;
#[doc(hidden)]
pub use schemas::compiled_count as output_schemas_compiled;

use crate::diag::{Code, Diagnostic};
use crate::plan::{Plan, ReleaseObjects};
use crate::source::SourceFile;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value as J, context};
use std::collections::BTreeMap;
use std::path::Path;

/// One kind of output: the built-in template that renders it and the output schema its
/// objects are checked against.
#[derive(Debug)]
pub struct Output {
    /// Which output.
    pub kind: Kind,
    /// The template's file name (what `--templates` overrides).
    pub template: &'static str,
    /// The built-in template's text.
    pub text: &'static str,
    /// The output schema (JSON Schema, from `schemas/`).
    pub schema: &'static str,
}

/// Every output, once: the one table of (kind, template, output schema). Its order is the order
/// in which `--templates` errors list the template names.
pub const OUTPUTS: [Output; 8] = [
    Output {
        kind: Kind::ApiRule,
        template: "apirule.yaml.j2",
        text: include_str!("../../templates/apirule.yaml.j2"),
        schema: include_str!("../../schemas/apirule-v2.schema.json"),
    },
    Output {
        kind: Kind::Istio,
        template: "istio-authorizers.yaml.j2",
        text: include_str!("../../templates/istio-authorizers.yaml.j2"),
        schema: include_str!("../../schemas/istio-authorizers.schema.json"),
    },
    Output {
        kind: Kind::HelmValues,
        template: "helm-values.yaml.j2",
        text: include_str!("../../templates/helm-values.yaml.j2"),
        schema: include_str!("../../schemas/oauth2-proxy-values.schema.json"),
    },
    Output {
        kind: Kind::Namespace,
        template: "namespaces.yaml.j2",
        text: include_str!("../../templates/namespaces.yaml.j2"),
        schema: include_str!("../../schemas/namespace.schema.json"),
    },
    Output {
        kind: Kind::Kustomization,
        template: "kustomization.yaml.j2",
        text: include_str!("../../templates/kustomization.yaml.j2"),
        schema: include_str!("../../schemas/kustomization.schema.json"),
    },
    Output {
        kind: Kind::ArgoApplication,
        template: "argocd-application.yaml.j2",
        text: include_str!("../../templates/argocd-application.yaml.j2"),
        schema: include_str!("../../schemas/argocd-application.schema.json"),
    },
    Output {
        kind: Kind::FluxHelmRepository,
        template: "flux-helmrepository.yaml.j2",
        text: include_str!("../../templates/flux-helmrepository.yaml.j2"),
        schema: include_str!("../../schemas/flux-helmrepository.schema.json"),
    },
    Output {
        kind: Kind::FluxHelmRelease,
        template: "flux-helmrelease.yaml.j2",
        text: include_str!("../../templates/flux-helmrelease.yaml.j2"),
        schema: include_str!("../../schemas/flux-helmrelease.schema.json"),
    },
];

impl Kind {
    /// This kind's row of [`OUTPUTS`].
    pub fn output(self) -> &'static Output {
        OUTPUTS
            .iter()
            .find(|o| o.kind == self)
            .expect("every kind has a row in OUTPUTS")
    }
}

/// Rendered files: path relative to OUT → content.
pub type Outputs = BTreeMap<String, String>;

/// Templates, built in or overridden from a directory.
pub struct Templates {
    /// The template engine, with every template: only when some template is overridden
    /// (built-in outputs are written directly, see [`builtin`]).
    env: Option<Environment<'static>>,
    /// The names of the overridden templates.
    overridden: Vec<String>,
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
            if !OUTPUTS.iter().any(|o| o.template == name) {
                let known: Vec<&str> = OUTPUTS.iter().map(|o| o.template).collect();
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
        if overrides.is_empty() {
            return Templates {
                env: None,
                overridden: Vec::new(),
            };
        }
        let overridden = overrides.iter().map(|(n, _, _)| n.clone()).collect();
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_filter("yaml", yaml_filter);
        for Output {
            template: name,
            text,
            ..
        } in &OUTPUTS
        {
            let text = overrides
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or_else(|| text.to_string(), |(_, t, _)| t.clone());
            // A syntax error surfaces when the template is used, with its name and line.
            let _ = env.add_template_owned(name.to_string(), text);
        }
        Templates {
            env: Some(env),
            overridden,
        }
    }

    /// Whether any template is overridden (then output schemas are needed at run time).
    pub fn any_overridden(&self) -> bool {
        !self.overridden.is_empty()
    }

    /// Whether this kind's output is written by the built-in writer (its template is not
    /// overridden).
    fn is_builtin(&self, kind: Kind) -> bool {
        let name = kind.output().template;
        !self.overridden.iter().any(|n| n == name)
    }

    fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, Box<Diagnostic>> {
        let env = self
            .env
            .as_ref()
            .expect("templates are rendered only when overridden");
        let result = env.get_template(name).and_then(|t| t.render(ctx));
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
    // The file name is the user's: escaped, so no character of it can end the comment.
    let source = source.escape_debug();
    format!(
        "# Generated by kexpose from {source}. Do not edit: change the spec and run `kexpose render`."
    )
}

/// Everything rendered from one plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The files of the output directory.
    pub files: Outputs,
    /// Every Kubernetes object as canonical YAML without the file header, in apply order:
    /// Namespaces, the objects that stand for the Helm releases, the Istio registration,
    /// APIRules. Not the Helm values (not an object) nor the Kustomization (a kustomize file).
    pub objects: Vec<String>,
}

/// Objects as one YAML stream: documents separated by `---` lines, each starting with
/// `apiVersion`. Empty when there is no object.
pub fn stream(objects: &[String]) -> String {
    objects.join("---\n")
}

/// Render every output file of a plan.
pub fn render(plan: &Plan, templates: &Templates) -> Result<Outputs, Vec<Diagnostic>> {
    render_all(plan, templates).map(|r| r.files)
}

/// Render every output of a plan: the files and the stream of objects.
pub fn render_all(plan: &Plan, templates: &Templates) -> Result<Rendered, Vec<Diagnostic>> {
    let head = header(&plan.source);
    let mut r = Renderer {
        templates,
        header: J::from(head.as_str()),
        files: Outputs::new(),
        docs: BTreeMap::new(),
        errors: Vec::new(),
    };
    let builtin = |kind: Kind| templates.is_builtin(kind);
    // The first lines of a built-in output: the file header and the template's comments.
    let head_with = |extra: &str| format!("{head}\n{extra}");
    let labels = || J::from(Serde(&plan.labels));
    let gitops = || J::from(Serde(&plan.gitops));
    // Objects by apply order: namespaces, release objects, Istio, APIRules.
    let mut release_objects = Vec::new();
    for release in &plan.releases {
        let release_ctx = || J::from(Serde(release));
        let path = format!("helm/{}/values.yaml", release.name);
        let values = if builtin(Kind::HelmValues) {
            let v = builtin::helm_values_value(release);
            let c = Canonical {
                header: head_with(&builtin::helm_values_header(release)),
                docs: vec![builtin::helm_values(&v)],
                values: vec![v],
            };
            r.built(path, Kind::HelmValues, c)
        } else {
            r.emit(
                path,
                Kind::HelmValues,
                context! { release => release_ctx() },
                true,
            )
        };
        // The objects embed the values: without them (an error is already reported) they
        // are not rendered.
        let Some(values) = values.and_then(|v| v.into_iter().next()) else {
            continue;
        };
        let ctx = || {
            context! {
                release => release_ctx(),
                values => J::from(Serde(&values)),
                labels => labels(),
                gitops => gitops(),
            }
        };
        let parts: &[(&str, Kind)] = match plan.gitops.release_objects {
            ReleaseObjects::None => &[],
            ReleaseObjects::Argocd => &[("application.yaml", Kind::ArgoApplication)],
            ReleaseObjects::Flux => &[
                ("helmrepository.yaml", Kind::FluxHelmRepository),
                ("helmrelease.yaml", Kind::FluxHelmRelease),
            ],
        };
        for (file, kind) in parts {
            let path = format!("helm/{}/{file}", release.name);
            let done = if builtin(*kind) {
                let (extra, doc) = match kind {
                    Kind::ArgoApplication => (
                        builtin::argocd_header(release),
                        builtin::argocd(release, &values, &plan.labels, &plan.gitops),
                    ),
                    Kind::FluxHelmRepository => (
                        builtin::flux_repository_header(release),
                        builtin::flux_repository(release, &plan.labels, &plan.gitops),
                    ),
                    _ => (
                        builtin::flux_release_header(release),
                        builtin::flux_release(release, &values, &plan.labels, &plan.gitops),
                    ),
                };
                let c = Canonical {
                    header: head_with(&extra),
                    docs: vec![doc],
                    values: Vec::new(),
                };
                r.built(path.clone(), *kind, c)
            } else {
                r.emit(path.clone(), *kind, ctx(), false)
            };
            if done.is_some() {
                release_objects.push(path);
            }
        }
    }
    let mut istio = Vec::new();
    if !plan.authorizers.is_empty() && !plan.istio_target {
        let path = "istio/authorizers.yaml".to_string();
        let done = if builtin(Kind::Istio) {
            let c = Canonical {
                header: head_with(builtin::ISTIO_HEADER),
                docs: vec![builtin::istio(&plan.authorizers, &plan.gitops)],
                values: Vec::new(),
            };
            r.built(path.clone(), Kind::Istio, c)
        } else {
            let ctx = context! {
                authorizers => J::from(Serde(&plan.authorizers)),
                labels => J::from(Serde(&plan.gitops.istio_labels)),
                annotations => J::from(Serde(&plan.gitops.istio_annotations)),
            };
            r.emit(path.clone(), Kind::Istio, ctx, false)
        };
        if done.is_some() {
            istio.push(path);
        }
    }
    // APIRules are independent of each other and the bulk of the work: render them in
    // parallel, then record the results in spec order.
    let mut apirules = Vec::new();
    // The mesh model reads the APIRules as the controller does: from the objects.
    let mesh_wanted = plan.istio_target || !plan.mesh.allow_in_cluster.is_empty();
    let apirule_builtin = builtin(Kind::ApiRule);
    let produced = crate::par::map(&plan.apirules, |rule| {
        let path = format!("apirules/{}/{}.yaml", rule.namespace, rule.name);
        let result = if apirule_builtin {
            let docs = if plan.istio_target {
                Vec::new()
            } else {
                vec![builtin::apirule(rule, &plan.labels)]
            };
            let values = if mesh_wanted {
                vec![builtin::apirule_value(rule, &plan.labels)]
            } else {
                Vec::new()
            };
            let c = Canonical {
                header: head.clone() + "\n",
                docs,
                values,
            };
            Ok(c)
        } else {
            let ctx = context! { rule => J::from(Serde(rule)), labels => labels() };
            r.produce(&path, Kind::ApiRule, ctx, false)
        };
        (path, result)
    });
    let mut mesh_input: Vec<(String, serde_json::Value)> = Vec::new();
    for (path, result) in produced {
        if plan.istio_target {
            match result {
                Ok(c) => mesh_input.extend(c.values.into_iter().map(|v| ("APIRule".into(), v))),
                Err(d) => r.errors.push(*d),
            }
        } else if let Some(values) = r.record(path.clone(), Kind::ApiRule, result) {
            mesh_input.extend(values.into_iter().map(|v| ("APIRule".into(), v)));
            apirules.push(path);
        }
    }
    let mut mesh_files = Vec::new();
    if plan.istio_target || !plan.mesh.allow_in_cluster.is_empty() {
        let mut authorizers = Vec::new();
        for a in &plan.authorizers {
            authorizers.push(serde_json::to_value(a).expect("authorizers are JSON"));
        }
        mesh_input.push((
            "Istio".into(),
            serde_json::json!({ "spec": { "config": { "authorizers": authorizers } } }),
        ));
        let mesh = crate::mesh::translate(&mesh_input, &plan.mesh);
        for t in &mesh.translations {
            let (ns, name) = t.apirule.split_once('/').unwrap_or(("", &t.apirule));
            let (path, objs) = if plan.istio_target {
                (
                    format!("istio/{ns}/{name}.yaml"),
                    crate::mesh::render::translation_objects(t, &plan.labels),
                )
            } else {
                (
                    format!("policies/{ns}/{name}.yaml"),
                    crate::mesh::render::policy_objects(t, &plan.labels, true),
                )
            };
            if r.emit_values(&head, path.clone(), &objs, true) {
                mesh_files.push(path);
            }
        }
        if plan.istio_target && !mesh.providers.is_empty() {
            // Not objects to apply: istiod's Helm values and an istioctl overlay (docs/istio-target.md).
            r.emit_values(
                &format!("{head}\n# Helm values for istiod: helm upgrade istiod istio/istiod -n istio-system --reuse-values -f THIS_FILE"),
                "istio/mesh-config/istiod-values.yaml".into(),
                &[crate::mesh::render::istiod_values(&mesh)],
                false,
            );
            r.emit_values(
                &format!("{head}\n# An overlay for istioctl install -f YOUR_OVERLAY -f THIS_FILE (merge by hand if yours sets extensionProviders: the list is replaced as a whole)"),
                "istio/mesh-config/istio-operator.yaml".into(),
                &[crate::mesh::render::istio_operator(&mesh)],
                false,
            );
        }
    }
    let mut namespaces = Vec::new();
    if !plan.namespaces.is_empty() {
        let mut namespace_labels = plan.labels.clone();
        namespace_labels.insert("istio-injection".into(), "enabled".into());
        let path = "namespaces.yaml".to_string();
        let done = if builtin(Kind::Namespace) {
            let c = Canonical {
                header: head.clone() + "\n",
                docs: plan
                    .namespaces
                    .iter()
                    .map(|ns| builtin::namespace(ns, &namespace_labels))
                    .collect(),
                values: Vec::new(),
            };
            r.built(path.clone(), Kind::Namespace, c)
        } else {
            let ctx = context! {
                namespaces => J::from(Serde(&plan.namespaces)),
                namespace_labels => J::from(Serde(&namespace_labels)),
            };
            r.emit(path.clone(), Kind::Namespace, ctx, false)
        };
        if done.is_some() {
            namespaces.push(path);
        }
    }
    let mut resources: Vec<String> = namespaces
        .iter()
        .chain(&release_objects)
        .chain(&istio)
        .chain(&apirules)
        .chain(&mesh_files)
        .cloned()
        .collect();
    let object_files = resources.clone();
    resources.sort();
    if !resources.is_empty() {
        let path = "kustomization.yaml".to_string();
        if builtin(Kind::Kustomization) {
            let c = Canonical {
                header: head_with(builtin::kustomization_header(&plan.gitops)),
                docs: vec![builtin::kustomization(&resources)],
                values: Vec::new(),
            };
            r.built(path, Kind::Kustomization, c);
        } else {
            r.emit(
                path,
                Kind::Kustomization,
                context! { resources, gitops => gitops() },
                false,
            );
        }
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let mut objects = Vec::new();
    for path in &object_files {
        objects.extend(r.docs.remove(path).unwrap_or_default());
    }
    Ok(Rendered {
        files: r.files,
        objects,
    })
}

/// Renders templates into files, collecting errors.
struct Renderer<'a> {
    templates: &'a Templates,
    header: J,
    files: Outputs,
    docs: BTreeMap<String, Vec<String>>,
    errors: Vec<Diagnostic>,
}

impl Renderer<'_> {
    /// Record a file of objects built in code (the mesh model): each validated against its
    /// output schema, emitted as canonical YAML. `objects` says whether they are Kubernetes
    /// objects (kept for the stream) or a values fragment. Returns whether it was recorded.
    fn emit_values(
        &mut self,
        header: &str,
        path: String,
        values: &[serde_json::Value],
        objects: bool,
    ) -> bool {
        let mut docs = Vec::new();
        for v in values {
            let kind = match v.get("kind").and_then(serde_json::Value::as_str) {
                Some("VirtualService") => schemas::Kind::VirtualService,
                Some("AuthorizationPolicy") => schemas::Kind::AuthorizationPolicy,
                Some("RequestAuthentication") => schemas::Kind::RequestAuthentication,
                _ => schemas::Kind::MeshConfig,
            };
            let emitted = schemas::validate(kind, v).and_then(|()| crate::yaml::emit(v, false));
            match emitted {
                Ok(text) => docs.push(text),
                Err(e) => {
                    self.errors.push(Diagnostic::new(
                        Code::OutputSchema,
                        None,
                        format!("{path}: {e}"),
                    ));
                    return false;
                }
            }
        }
        let mut text = format!("{header}\n");
        for d in &docs {
            if docs.len() > 1 {
                text.push_str("---\n");
            }
            text.push_str(d);
        }
        self.files.insert(path.clone(), text);
        if objects {
            self.docs.insert(path, docs);
        }
        true
    }

    /// Render one file; on success return its parsed documents (an error is recorded
    /// otherwise). `ctx` gets `header` added.
    fn emit(
        &mut self,
        path: String,
        schema: schemas::Kind,
        ctx: J,
        quote: bool,
    ) -> Option<Vec<serde_json::Value>> {
        let result = self.produce(&path, schema, ctx, quote);
        self.record(path, schema, result)
    }

    /// Render one file without recording it (safe to run on several threads).
    fn produce(
        &self,
        path: &str,
        schema: schemas::Kind,
        ctx: J,
        quote: bool,
    ) -> Result<Canonical, Box<Diagnostic>> {
        let template = schema.output().template;
        let ctx = context! { header => self.header.clone(), ..ctx };
        self.templates
            .render(template, ctx)
            .and_then(|text| canonical(path, template, &text, schema, quote))
    }

    /// Record a file written by the built-in writer. Its output schema is not checked: every
    /// constraint of it is enforced by a check of the spec or by the writer (`schema_proof.rs`).
    fn built(
        &mut self,
        path: String,
        schema: Kind,
        c: Canonical,
    ) -> Option<Vec<serde_json::Value>> {
        self.record(path, schema, Ok(c))
    }

    /// Record a produced file, or its error.
    fn record(
        &mut self,
        path: String,
        schema: schemas::Kind,
        result: Result<Canonical, Box<Diagnostic>>,
    ) -> Option<Vec<serde_json::Value>> {
        match result {
            Ok(c) => {
                self.files.insert(path.clone(), c.file_text(schema));
                self.docs.insert(path, c.docs);
                Some(c.values)
            }
            Err(d) => {
                self.errors.push(*d);
                None
            }
        }
    }
}

/// One rendered file, parsed back, validated and re-emitted.
struct Canonical {
    /// The leading comment lines of the template (the file header), each with `\n`.
    header: String,
    /// Each document as canonical YAML.
    docs: Vec<String>,
    /// Each document as data.
    values: Vec<serde_json::Value>,
}

impl Canonical {
    fn file_text(&self, schema: schemas::Kind) -> String {
        let mut out = self.header.clone();
        let separate = self.docs.len() > 1 || matches!(schema, schemas::Kind::Namespace);
        for doc in &self.docs {
            if separate {
                out.push_str("---\n");
            }
            out.push_str(doc);
        }
        out
    }
}

/// Parse rendered text back, validate each document, and re-emit it canonically. Leading
/// comment lines of the rendered text are kept as the file's header; comment lines right
/// above a top-level key of a document are kept above that key.
fn canonical(
    path: &str,
    template: &str,
    text: &str,
    schema: schemas::Kind,
    quote: bool,
) -> Result<Canonical, Box<Diagnostic>> {
    let fail = |msg: String| {
        Box::new(
            Diagnostic::new(Code::OutputSchema, None, format!("{path} (from template `{template}`): {msg}"))
                .help("a template override produced output that is not what this file must hold; compare it with the built-in template"),
        )
    };
    let mut header = String::new();
    let mut body_start = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            header.push_str(line.trim_end());
            header.push('\n');
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
    let mut out = Canonical {
        header,
        docs: Vec::new(),
        values: Vec::new(),
    };
    for doc in docs {
        // The templates' shape is read directly; anything else by the full YAML loader.
        let value = match crate::yaml::reread::parse(doc) {
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
        let mut yaml = crate::yaml::emit(&value, quote)
            .map_err(|e| fail(format!("cannot write YAML: {e}")))?;
        if !yaml.ends_with('\n') {
            yaml.push('\n');
        }
        out.docs.push(with_key_comments(&yaml, &key_comments(doc)));
        out.values.push(value);
    }
    Ok(out)
}

/// The comment lines (at column 0) directly above each top-level key of a document.
fn key_comments(doc: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = String::new();
    for line in doc.lines() {
        if line.starts_with('#') {
            pending.push_str(line.trim_end());
            pending.push('\n');
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if !pending.is_empty()
            && !line.starts_with([' ', '\t', '-'])
            && let Some((key, _)) = line.split_once(':')
        {
            found.push((key.trim().to_string(), std::mem::take(&mut pending)));
        }
        pending.clear();
    }
    found
}

/// Insert comments above the top-level keys they belong to.
fn with_key_comments(yaml: &str, comments: &[(String, String)]) -> String {
    if comments.is_empty() {
        return yaml.to_string();
    }
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.split_inclusive('\n') {
        if !line.starts_with([' ', '\t', '-', '#'])
            && let Some((key, _)) = line.split_once(':')
            && let Some((_, c)) = comments.iter().find(|(k, _)| k == key)
        {
            out.push_str(c);
        }
        out.push_str(line);
    }
    out
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

    /// The built-in templates' output (rendered through the template path, as an override
    /// that copies them would be) always stays in the subset the fast reader reads, for
    /// every fixture (so a template change cannot silently make rendering slow again); in
    /// unit tests `canonical` also checks each fast read against the full loader.
    #[test]
    fn builtin_templates_stay_in_the_fast_subset() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        // The built-in templates through the template path (as overrides), as a user's
        // copy of them would render.
        let templates = Templates::from_texts(
            OUTPUTS
                .iter()
                .map(|o| (o.template.to_string(), o.text.to_string()))
                .collect(),
        );
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
