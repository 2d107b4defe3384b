//! `kexpose import`: read the files, print the findings, write the spec to a new file.

use crate::args::{DiagArgs, policy};
use crate::report::{color_stderr, write_stdout};
use kexpose::diag;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(files: &[PathBuf], out: &Path, args: &DiagArgs) -> Result<ExitCode, String> {
    let policy = policy(args)?;
    let stdout = out.as_os_str() == "-";
    if !stdout && out.exists() {
        return Err(format!(
            "{} already exists; kexpose import never overwrites a file",
            out.display()
        ));
    }
    let mut sources = Vec::new();
    for f in files {
        match kexpose::read_spec(f) {
            Ok(src) => sources.push(src),
            Err(kexpose::ReadError::Io(e)) => return Err(e),
            Err(kexpose::ReadError::Invalid(src, d)) => {
                eprint!("{}", diag::render(&[*d], &src, color_stderr(args.color)));
                return Ok(ExitCode::from(1));
            }
        }
    }
    let mut imported = kexpose::import::import(sources);
    let color = color_stderr(args.color);
    let mut all = Vec::new();
    for f in &mut imported.findings {
        f.diagnostics = policy.apply(std::mem::take(&mut f.diagnostics));
        if !f.diagnostics.is_empty() {
            eprint!("{}", diag::render(&f.diagnostics, &f.source, color));
        }
        all.extend(f.diagnostics.iter().cloned());
    }
    let failed = all.iter().any(diag::Diagnostic::is_error);
    let Some(text) = imported.text.as_ref().filter(|_| !failed) else {
        eprintln!("import: {}; nothing written", diag::summary(&all));
        return Ok(ExitCode::from(1));
    };
    if stdout {
        write_stdout(text.as_bytes())?;
    } else {
        write_new(out, text)?;
    }
    let counts: Vec<String> = imported
        .counts
        .iter()
        .map(|(v, n)| format!("{n} APIRule {v}"))
        .collect();
    let spec = imported.spec.as_ref().expect("a text has a spec");
    eprintln!(
        "imported {} workloads{}, {} identity providers, {} authorizers into {} ({})",
        spec.workloads.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        spec.identity_providers.len(),
        spec.authorizers.len(),
        if stdout {
            "stdout".to_string()
        } else {
            out.display().to_string()
        },
        diag::summary(&all)
    );
    Ok(ExitCode::SUCCESS)
}

/// Write a new file; fails if it exists (checked again at creation: no race).
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `kexpose teams PLATFORM TEAM...`.
pub fn teams(platform: &Path, teams: &[PathBuf], args: &DiagArgs) -> Result<ExitCode, String> {
    let policy = policy(args)?;
    let color = color_stderr(args.color);
    // The platform on its own first.
    let platform_src = match kexpose::read_spec(platform) {
        Ok(s) => s,
        Err(kexpose::ReadError::Io(e)) => return Err(e),
        Err(kexpose::ReadError::Invalid(src, d)) => {
            eprint!("{}", diag::render(&[*d], &src, color));
            return Ok(ExitCode::from(1));
        }
    };
    let c = kexpose::compile(
        platform_src,
        "platform",
        &kexpose::render::Templates::builtin(),
        &policy,
    );
    let mut failed = c.has_errors();
    if !c.diagnostics.is_empty() {
        eprint!("{}", diag::render(&c.diagnostics, &c.source, color));
    }
    let mut sources = Vec::new();
    for t in teams {
        match kexpose::read_spec(t) {
            Ok(s) => sources.push(s),
            Err(kexpose::ReadError::Io(e)) => return Err(e),
            Err(kexpose::ReadError::Invalid(src, d)) => {
                eprint!("{}", diag::render(&[*d], &src, color));
                failed = true;
            }
        }
    }
    let mut all = c.diagnostics.clone();
    for r in kexpose::teams::validate_all(platform, sources, &policy) {
        if !r.diagnostics.is_empty() {
            eprint!("{}", diag::render(&r.diagnostics, &r.source, color));
        }
        all.extend(r.diagnostics);
    }
    failed |= all.iter().any(diag::Diagnostic::is_error);
    eprintln!(
        "{} and {} team specs: {} ({})",
        platform.display(),
        teams.len(),
        if failed { "invalid" } else { "valid" },
        diag::summary(&all)
    );
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
