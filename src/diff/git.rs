//! Reading files as committed at a git revision, through git itself, and rendering the spec
//! as committed there (`kexpose diff --base REV`).

use crate::diag::{Diagnostic, Policy};
use crate::render::{OUTPUTS, Outputs, Templates};
use crate::source::SourceFile;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))
}

/// Check that `dir` is in a git work tree and `rev` names a commit.
pub fn check_revision(dir: &Path, rev: &str) -> Result<(), String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(format!(
            "{} is not inside a git repository; --base needs one",
            dir.display()
        ));
    }
    if rev.starts_with('-') {
        return Err(format!("--base {rev}: not a revision"));
    }
    let verify = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    if !verify.status.success() {
        return Err(format!(
            "--base {rev}: unknown revision (try `git log` or `git fetch` first)"
        ));
    }
    Ok(())
}

/// The content of `file` (a path relative to `dir`) at `rev`; `None` when the file did not
/// exist there.
pub fn show(dir: &Path, rev: &str, file: &str) -> Result<Option<Vec<u8>>, String> {
    // Does the path exist at that revision? (`ls-tree` is quiet about missing paths.)
    let listed = git(dir, &["ls-tree", "--name-only", rev, "--", file])?;
    if !listed.status.success() {
        return Err(format!(
            "git ls-tree {rev} {file} failed: {}",
            String::from_utf8_lossy(&listed.stderr).trim()
        ));
    }
    if listed.stdout.is_empty() {
        return Ok(None);
    }
    let out = git(dir, &["show", &format!("{rev}:./{file}")])?;
    if !out.status.success() {
        return Err(format!(
            "git show {rev}:{file} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Some(out.stdout))
}

/// Why the spec at a revision gave no objects to compare with.
#[derive(Debug)]
pub enum BaseError {
    /// git failed, or the revision or directory is not usable (the message says which).
    Git(String),
    /// The spec at the revision cannot be read or has errors: its findings (to print,
    /// uncoloured) and the message.
    Invalid {
        source: Box<SourceFile>,
        diagnostics: Vec<Diagnostic>,
        message: String,
    },
}

impl From<String> for BaseError {
    fn from(message: String) -> Self {
        BaseError::Git(message)
    }
}

/// Render the spec as committed at `rev` (with template overrides from `templates` as
/// committed there) into the objects a diff compares. A spec absent at `rev` gives no object.
pub fn base_objects(
    spec: &Path,
    templates: Option<&Path>,
    rev: &str,
    policy: &Policy,
    target: &crate::Target,
) -> Result<Vec<super::Object>, BaseError> {
    let outputs = base_outputs(spec, templates, rev, policy, target)?;
    Ok(super::objects_from_outputs(&outputs)?)
}

/// Render the spec as committed at `rev` (with template overrides from `templates` as
/// committed there) into its files, unparsed ([`super::objects_bytes_first`] parses only
/// those that differ). A spec absent at `rev` gives no file.
pub fn base_outputs(
    spec: &Path,
    templates: Option<&Path>,
    rev: &str,
    policy: &Policy,
    target: &crate::Target,
) -> Result<Outputs, BaseError> {
    let dir = spec
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = spec
        .file_name()
        .ok_or_else(|| format!("{} is not a file", spec.display()))?
        .to_string_lossy()
        .into_owned();
    check_revision(dir, rev)?;
    let Some(bytes) = show(dir, rev, &file)? else {
        return Ok(Outputs::new());
    };
    let mut overrides = Vec::new();
    if let Some(tdir) = templates {
        for name in OUTPUTS.iter().map(|o| o.template) {
            let tparent = tdir.to_string_lossy().into_owned();
            if let Some(text) = show(Path::new("."), rev, &format!("{tparent}/{name}"))? {
                overrides.push((
                    name.to_string(),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
        }
    }
    let label = format!("{rev}:{file}");
    let source = match crate::yaml::source_from_bytes(&label, bytes) {
        Ok(s) => s,
        Err((source, d)) => {
            return Err(BaseError::Invalid {
                source: Box::new(source),
                diagnostics: vec![*d],
                message: format!("the spec at {rev} cannot be read"),
            });
        }
    };
    let c = crate::compile_for(
        source,
        &file,
        &Templates::from_texts(overrides),
        policy,
        target,
    );
    let errors = c.has_errors();
    match c.outputs.filter(|_| !errors) {
        Some(outputs) => Ok(outputs),
        None => Err(BaseError::Invalid {
            source: Box::new(c.source),
            diagnostics: c.diagnostics,
            message: format!("the spec at {rev} has errors; cannot compare with it"),
        }),
    }
}
