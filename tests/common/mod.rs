//! Helpers shared by the end-to-end tests: run the built binary, read trees, parse YAML.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether this run accepts new expected output instead of comparing with it.
///
/// One way for all expected output: insta's. `INSTA_UPDATE=always cargo test` rewrites insta
/// snapshots, and the same variable makes the tests that guard plain files (the golden trees
/// under `fixtures/*/expected/`, `schemas/kexpose.schema.json`, `docs/diagnostics.md`) rewrite
/// them. Read `git diff` before committing.
pub fn accepting() -> bool {
    std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Output of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `kexpose` with arguments, in `cwd`.
pub fn kexpose(args: &[&str], cwd: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kexpose"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file below `dir` (relative path → bytes), skipping nothing.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("readable dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("readable file"));
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Parse YAML text (one document) with kexpose's own loader.
pub fn yaml(text: &str) -> serde_json::Value {
    let src = kexpose::source::SourceFile::new("t.yaml", text);
    kexpose::yaml::parse(&src, false)
        .unwrap_or_else(|d| panic!("YAML does not parse: {d:?}\n{text}"))
        .value
}

/// Parse a YAML file.
pub fn yaml_file(path: &Path) -> serde_json::Value {
    yaml(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
pub mod cases;

/// Run git in `dir` with a fixed test identity and no signing; fail the test when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
