//! Write: the output directory changes all-or-nothing, and only files kexpose generated are
//! ever replaced or removed.
//!
//! Everything is written into a fresh directory beside OUT (the user's own files in OUT are
//! copied over, symlinks as symlinks), then OUT is swapped for it with two renames. A manifest
//! (`OUT/.kexpose-manifest`) records which files kexpose generated, so that a later render
//! removes exactly those when they are no longer produced.

use crate::render::Outputs;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The manifest of generated files inside OUT.
pub const MANIFEST: &str = ".kexpose-manifest";

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// New.
    Created,
    /// Content changed.
    Updated,
    /// Same bytes.
    Unchanged,
    /// Generated before, not any more.
    Removed,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
        })
    }
}

/// The outcome of a write (or of a dry comparison).
#[derive(Debug, Default)]
pub struct Report {
    /// Every generated path (now or before) with its change, sorted by path.
    pub changes: Vec<(String, Change)>,
    /// Files in OUT that kexpose did not generate; left as they are.
    pub kept: Vec<String>,
}

impl Report {
    /// True when OUT already holds exactly the outputs.
    pub fn is_clean(&self) -> bool {
        self.changes.iter().all(|(_, c)| *c == Change::Unchanged)
    }
}

/// The state of an output directory as kexpose sees it.
struct Existing {
    generated: BTreeSet<String>,
    user_files: Vec<String>,
    has_manifest: bool,
}

fn read_existing(out: &Path) -> Result<Option<Existing>, String> {
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", out.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symbolic link; give the real directory",
            out.display()
        ));
    }
    if !meta.is_dir() {
        return Err(format!("{} exists and is not a directory", out.display()));
    }
    let manifest = read_manifest(out)?;
    let has_manifest = manifest.is_some();
    let generated = manifest.unwrap_or_default();
    let mut user_files = Vec::new();
    walk(out, out, &mut |rel, _| {
        if rel != MANIFEST && !generated.contains(rel) {
            user_files.push(rel.to_string());
        }
    })?;
    user_files.sort();
    Ok(Some(Existing {
        generated,
        user_files,
        has_manifest,
    }))
}

/// The files OUT's manifest lists as generated (`None` without a manifest). Every entry must be
/// a plain relative path inside OUT, and the manifest itself a regular file: a tampered
/// manifest never makes kexpose read or replace anything outside OUT.
pub fn read_manifest(out: &Path) -> Result<Option<BTreeSet<String>>, String> {
    let path = out.join(MANIFEST);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        Ok(m) if !m.is_file() => {
            return Err(format!("{} is not a regular file", path.display()));
        }
        Ok(_) => {}
    }
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut set = BTreeSet::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        if !is_safe_relative(line) {
            return Err(format!(
                "{} lists `{line}`, which is not a path inside the directory; fix or delete the manifest",
                path.display()
            ));
        }
        set.insert(line.to_string());
    }
    Ok(Some(set))
}

/// A relative path without `..`, `.` or empty components.
fn is_safe_relative(p: &str) -> bool {
    !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Refuse to write through anything that is not a plain directory or file in OUT: a symbolic
/// link on the way to an output (it could point out of OUT), a directory where a file goes, a
/// file where a directory goes.
fn check_paths(out: &Path, outputs: &Outputs) -> Result<(), String> {
    for path in outputs.keys() {
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..=parts.len() {
            let p = out.join(parts[..i].join("/"));
            let meta = match fs::symlink_metadata(&p) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) => return Err(format!("cannot read {}: {e}", p.display())),
            };
            let last = i == parts.len();
            if meta.file_type().is_symlink() {
                return Err(format!(
                    "{} is a symbolic link where kexpose writes {}; kexpose never writes through links: remove it",
                    p.display(),
                    if last { "a file" } else { "a directory" }
                ));
            }
            if last && meta.is_dir() {
                return Err(format!(
                    "{} is a directory where kexpose writes a file; move it away",
                    p.display()
                ));
            }
            if !last && !meta.is_dir() {
                return Err(format!(
                    "{} is a file where kexpose needs a directory; move it away",
                    p.display()
                ));
            }
        }
    }
    Ok(())
}

/// Visit every non-directory entry below `dir` (symlinks are reported, never followed).
pub(crate) fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(&str, &Path)) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let ft = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if ft.is_dir() {
            walk(root, &path, f)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .replace('\\', "/");
            f(&rel, &path);
        }
    }
    Ok(())
}

/// Compare outputs with what OUT holds, without writing.
pub fn compare(out: &Path, outputs: &Outputs) -> Result<Report, String> {
    let existing = read_existing(out)?;
    if existing.is_some() {
        check_paths(out, outputs)?;
    }
    Ok(plan_changes(out, outputs, existing.as_ref()))
}

fn plan_changes(out: &Path, outputs: &Outputs, existing: Option<&Existing>) -> Report {
    let mut changes = Vec::new();
    for (path, text) in outputs {
        let generated_before = existing.is_some_and(|e| e.generated.contains(path));
        let change = match generated_before.then(|| fs::read(out.join(path))) {
            Some(Ok(old)) => {
                if old == text.as_bytes() {
                    Change::Unchanged
                } else {
                    Change::Updated
                }
            }
            _ => Change::Created,
        };
        changes.push((path.clone(), change));
    }
    if let Some(e) = existing {
        for old in &e.generated {
            if !outputs.contains_key(old) && out.join(old).exists() {
                changes.push((old.clone(), Change::Removed));
            }
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    Report {
        changes,
        kept: existing.map(|e| e.user_files.clone()).unwrap_or_default(),
    }
}

/// Write outputs into OUT, all-or-nothing.
pub fn write(out: &Path, outputs: &Outputs) -> Result<Report, String> {
    let _lock = lock(out)?;
    let existing = read_existing(out)?;
    if existing.is_some() {
        check_paths(out, outputs)?;
    }
    if let Some(e) = &existing {
        let clash: Vec<&String> = e
            .user_files
            .iter()
            .filter(|f| outputs.contains_key(*f))
            .collect();
        if !clash.is_empty() {
            return Err(format!(
                "{} already holds {} that kexpose did not generate (no {MANIFEST} lists {}); move {} away or choose another output directory",
                out.display(),
                clash
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if clash.len() == 1 { "it" } else { "them" },
                if clash.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    let report = plan_changes(out, outputs, existing.as_ref());
    let manifest = manifest_text(outputs);
    let manifest_same = existing.as_ref().is_some_and(|e| e.has_manifest)
        && fs::read_to_string(out.join(MANIFEST)).is_ok_and(|m| m == manifest);
    if report.is_clean() && manifest_same {
        return Ok(report);
    }
    let (parent, base) = beside(out)?;
    let tmp = parent.join(format!(".{base}.kexpose-new-{}", std::process::id()));
    let old = parent.join(format!(".{base}.kexpose-old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let staged = stage(&tmp, out, existing.as_ref(), outputs, &manifest);
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if existing.is_some() {
        if let Err(e) = fs::rename(out, &old) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(format!(
                "cannot replace {}: {e}; it is unchanged",
                out.display()
            ));
        }
        if let Err(e) = fs::rename(&tmp, out) {
            let _ = fs::rename(&old, out);
            let _ = fs::remove_dir_all(&tmp);
            return Err(format!(
                "cannot replace {}: {e}; it is unchanged",
                out.display()
            ));
        }
        let _ = fs::remove_dir_all(&old);
    } else if let Err(e) = fs::rename(&tmp, out) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(format!("cannot create {}: {e}", out.display()));
    }
    Ok(report)
}

/// The directory OUT is in (created if missing) and OUT's own name, for the files kexpose
/// keeps beside OUT (staging directories, the lock).
fn beside(out: &Path) -> Result<(PathBuf, String), String> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    Ok((parent, base))
}

/// Hold an exclusive lock for writing OUT: a lock file beside it (`.<name>.kexpose-lock`,
/// left in place; the lock is released when the process ends, even by a crash).
fn lock(out: &Path) -> Result<fs::File, String> {
    let (parent, base) = beside(out)?;
    let path = parent.join(format!(".{base}.kexpose-lock"));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(format!(
            "another kexpose is writing {} right now (it holds {}); try again when it has finished",
            out.display(),
            path.display()
        )),
        Err(fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

fn manifest_text(outputs: &Outputs) -> String {
    let mut s = String::from(
        "# Files generated by kexpose; a later render replaces or removes exactly these.\n",
    );
    for path in outputs.keys() {
        s.push_str(path);
        s.push('\n');
    }
    s
}

fn stage(
    tmp: &Path,
    out: &Path,
    existing: Option<&Existing>,
    outputs: &Outputs,
    manifest: &str,
) -> Result<(), String> {
    let io = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    fs::create_dir_all(tmp).map_err(|e| io(tmp, e))?;
    if let Some(e) = existing {
        for rel in &e.user_files {
            let from = out.join(rel);
            let to = tmp.join(rel);
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
            let meta = fs::symlink_metadata(&from).map_err(|e| io(&from, e))?;
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&from).map_err(|e| io(&from, e))?;
                #[cfg(unix)]
                std::os::unix::fs::symlink(&target, &to).map_err(|e| io(&to, e))?;
                #[cfg(not(unix))]
                return Err(format!(
                    "cannot keep symbolic link {} on this platform",
                    from.display()
                ));
            } else {
                fs::copy(&from, &to).map_err(|e| io(&to, e))?;
            }
        }
    }
    // Outputs come sorted by path, so files of one directory are consecutive: create each
    // directory once, not once per file.
    let mut made: Option<PathBuf> = None;
    for (rel, text) in outputs {
        let to = tmp.join(rel);
        if let Some(dir) = to.parent()
            && made.as_deref() != Some(dir)
        {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            made = Some(dir.to_path_buf());
        }
        fs::write(&to, text).map_err(|e| io(&to, e))?;
    }
    let m = tmp.join(MANIFEST);
    fs::write(&m, manifest).map_err(|e| io(&m, e))?;
    Ok(())
}
