//! kexpose: compile one spec into validated Kyma manifests.
//!
//! The pipeline, one module per stage: [`yaml`] (load with spans) → [`check`] (schema and
//! rules, [`diag`]nostics) → [`plan`] (resolve) → [`render`] (templates, output schemas,
//! canonical YAML) → [`write`](mod@write) (all-or-nothing). Data flows one way: what both `check` and
//! `plan` need lives below them, in [`spec::names`] (name and format predicates),
//! [`spec::resolve`] (resolved domain facts) and [`paths`] (the APIRule path-pattern model).
//! [`mesh`] (the Istio objects the api-gateway controller builds from APIRules, and their
//! evaluation as Envoy does it) also sits below `check`, `plan`, `render` and `diff`.
//! The library never prints (the print lints in `Cargo.toml`); the `kexpose` binary does.

pub mod check;
pub mod diag;
pub mod diff;
pub mod doctor;
pub mod import;
pub mod mesh;
mod par;
pub mod paths;
pub mod plan;
pub mod render;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod teams;
pub mod write;
pub mod yaml;

use diag::{Diagnostic, Policy};
pub use plan::{ReleaseObjects, Target};
use render::{Outputs, Templates};
use source::SourceFile;
use std::path::Path;

/// The starter spec `kexpose init` writes.
pub const STARTER_SPEC: &str = include_str!("../templates/starter.kexpose.yaml");

/// The result of compiling one spec.
#[derive(Debug)]
pub struct Compilation {
    /// The spec source (diagnostics point into it).
    pub source: SourceFile,
    /// Every finding, after the warning policy.
    pub diagnostics: Vec<Diagnostic>,
    /// The resolved plan, when the spec has no errors.
    pub plan: Option<plan::Plan>,
    /// The rendered files, when the spec has no errors.
    pub outputs: Option<Outputs>,
    /// Every rendered Kubernetes object in apply order (see [`render::Rendered`]), when the
    /// spec has no errors.
    pub objects: Option<Vec<String>>,
}

impl Compilation {
    /// Did anything fail?
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Why a spec could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read (exit 2).
    Io(String),
    /// The bytes are not an acceptable spec source (exit 1).
    Invalid(SourceFile, Box<Diagnostic>),
}

/// Read a spec file (UTF-8, size limit).
pub fn read_spec(path: &Path) -> Result<SourceFile, ReadError> {
    let name = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| ReadError::Io(format!("cannot read {name}: {e}")))?;
    if meta.is_dir() {
        return Err(ReadError::Io(format!(
            "{name} is a directory, not a spec file"
        )));
    }
    if meta.len() > yaml::MAX_INPUT_BYTES as u64 {
        let d = yaml::too_large(&name, meta.len());
        return Err(ReadError::Invalid(SourceFile::new(&name, ""), d));
    }
    let bytes =
        std::fs::read(path).map_err(|e| ReadError::Io(format!("cannot read {name}: {e}")))?;
    yaml::source_from_bytes(&name, bytes).map_err(|(src, d)| ReadError::Invalid(src, d))
}

/// Check, plan and render one spec for the plain output tree. `source_label` names the spec
/// in generated headers (kexpose uses the file name, so output does not depend on the working
/// directory).
pub fn compile(
    source: SourceFile,
    source_label: &str,
    templates: &Templates,
    policy: &Policy,
) -> Compilation {
    compile_for(source, source_label, templates, policy, &Target::default())
}

/// Check, plan and render one spec for a target (the objects that stand for Helm releases,
/// the instance label, the annotations the applying GitOps tool needs).
pub fn compile_for(
    source: SourceFile,
    source_label: &str,
    templates: &Templates,
    policy: &Policy,
    target: &Target,
) -> Compilation {
    if templates.any_overridden() || target.istio {
        render::schemas::prepare_in_background();
    }
    match teams::kind_of(&source).as_deref() {
        Some(teams::TEAM_KIND) => {
            return compile_team(source, source_label, templates, policy, target);
        }
        Some(teams::PLATFORM_KIND) => {
            return compile_platform(source, source_label, templates, policy, target);
        }
        _ => {}
    }
    let mut checked = check::check(&source);
    if target.istio
        && let Some(spec) = &checked.spec
    {
        let extra = check::mesh::istio_target(spec, &source, &checked.pointers);
        checked.diagnostics.extend(extra);
        checked
            .diagnostics
            .sort_by_key(|d| (d.span.map_or(0, |s| s.start), d.code));
    }
    finish(
        source,
        checked.diagnostics,
        checked.spec,
        source_label,
        templates,
        policy,
        target,
        |_, _| {},
    )
}

/// A team spec (`kind: Team`): checked against its platform spec and grant; renders its
/// APIRules and Namespaces only.
fn compile_team(
    source: SourceFile,
    source_label: &str,
    templates: &Templates,
    policy: &Policy,
    target: &Target,
) -> Compilation {
    let ready = match teams::prepare_team(&source) {
        teams::Prepared::Failed(d) => {
            return finish(
                source,
                d,
                None,
                source_label,
                templates,
                policy,
                target,
                |_, _| {},
            );
        }
        teams::Prepared::Ready(r) => r,
    };
    let checked = check::check(&ready.rewritten.source);
    let mut diagnostics = teams::own_findings(checked.diagnostics, ready.rewritten.own_len);
    diagnostics.extend(ready.diagnostics);
    if let (Some(spec), Some((grant, platform))) = (&checked.spec, &ready.team) {
        // A value already rejected (an invalid host or namespace) is not reported twice.
        let rejected: Vec<usize> = diagnostics
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.span.map(|s| s.start))
            .collect();
        diagnostics.extend(
            teams::grant::enforce(spec, &checked.pointers, grant, platform)
                .into_iter()
                .filter(|d| d.span.is_none_or(|s| !rejected.contains(&s.start))),
        );
    }
    diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
    finish(
        source,
        diagnostics,
        checked.spec,
        source_label,
        templates,
        policy,
        target,
        teams::strip_for_team,
    )
}

/// A platform spec (`kind: Platform`): renders the Istio registration and Helm values.
fn compile_platform(
    source: SourceFile,
    source_label: &str,
    templates: &Templates,
    policy: &Policy,
    target: &Target,
) -> Compilation {
    let (rewritten, _grants, grant_diags) = match teams::prepare_platform(&source) {
        Ok(p) => p,
        Err(d) => {
            return finish(
                source,
                d,
                None,
                source_label,
                templates,
                policy,
                target,
                |_, _| {},
            );
        }
    };
    let checked = check::check(&rewritten.source);
    let mut diagnostics = teams::own_findings(checked.diagnostics, rewritten.own_len);
    diagnostics.extend(grant_diags);
    diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
    finish(
        source,
        diagnostics,
        checked.spec,
        source_label,
        templates,
        policy,
        target,
        |_, _| {},
    )
}

/// Plan and render a checked spec; `adjust` trims the plan (a team renders no authorizers).
#[allow(clippy::too_many_arguments)]
fn finish(
    source: SourceFile,
    diagnostics: Vec<Diagnostic>,
    spec: Option<spec::Spec>,
    source_label: &str,
    templates: &Templates,
    policy: &Policy,
    target: &Target,
    adjust: impl FnOnce(&mut plan::Plan, &spec::Spec),
) -> Compilation {
    let mut diagnostics = policy.apply(diagnostics);
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    let (plan, rendered) = match spec {
        Some(spec) if !failed => {
            let mut plan = plan::plan_for(&spec, source_label, target);
            adjust(&mut plan, &spec);
            match render::render_all(&plan, templates) {
                Ok(rendered) => (Some(plan), Some(rendered)),
                Err(errors) => {
                    diagnostics.extend(errors);
                    (Some(plan), None)
                }
            }
        }
        _ => (None, None),
    };
    let (outputs, objects) = match rendered {
        Some(r) => (Some(r.files), Some(r.objects)),
        None => (None, None),
    };
    Compilation {
        source,
        diagnostics,
        plan,
        outputs,
        objects,
    }
}
