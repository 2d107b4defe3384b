//! Reading files as committed at a git revision, through git itself.

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
