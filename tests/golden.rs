//! Golden trees: every `fixtures/<case>/kexpose.yaml` renders, through the built binary, to
//! exactly `fixtures/<case>/expected/` (byte for byte, no file more or less), and with
//! `--target istio` to `fixtures/<case>/expected-istio/`.
//!
//! After an intended change, accept with `INSTA_UPDATE=always cargo test --test golden` (the
//! one accept flow for all expected output, see `docs/development.md`) and read every changed
//! file in `git diff` before committing it.

mod common;
use common::*;

#[test]
fn fixtures_render_to_their_golden_trees() {
    let bless = accepting();
    let mut failures = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let case = entry.unwrap().path();
        if !case.join("kexpose.yaml").exists() {
            continue;
        }
        cases += 1;
        // Each fixture twice: the Kyma target (expected/) and plain Istio (expected-istio/).
        for (target, expected) in [("kyma", "expected"), ("istio", "expected-istio")] {
            let name = format!(
                "{} --target {target}",
                case.file_name().unwrap().to_string_lossy()
            );
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            let run = kexpose(
                &[
                    "render",
                    "kexpose.yaml",
                    "-o",
                    out.to_str().unwrap(),
                    "--target",
                    target,
                ],
                &case,
            );
            assert_eq!(run.code, 0, "{name}: render failed:\n{}", run.stderr);
            assert!(!run.stderr.contains("error["), "{name}: {}", run.stderr);
            let mut got = read_tree(&out);
            got.remove(".kexpose-manifest");
            let expected_dir = case.join(expected);
            if bless {
                let _ = std::fs::remove_dir_all(&expected_dir);
                for (path, bytes) in &got {
                    let p = expected_dir.join(path);
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(p, bytes).unwrap();
                }
                continue;
            }
            let want = if expected_dir.exists() {
                read_tree(&expected_dir)
            } else {
                Default::default()
            };
            for (path, bytes) in &want {
                match got.get(path) {
                    None => failures.push(format!("{name}: missing {path}")),
                    Some(g) if g != bytes => failures.push(format!(
                        "{name}: {path} differs:\n{}",
                        similar::TextDiff::from_lines(
                            String::from_utf8_lossy(bytes),
                            String::from_utf8_lossy(g)
                        )
                        .unified_diff()
                        .header("expected", "rendered")
                    )),
                    _ => {}
                }
            }
            for path in got.keys().filter(|p| !want.contains_key(*p)) {
                failures.push(format!("{name}: unexpected {path}"));
            }
        }
    }
    assert!(cases >= 3, "expected at least three fixtures");
    assert!(
        failures.is_empty(),
        "{}\n(after reading the diff, accept with `INSTA_UPDATE=always cargo test --test golden`)",
        failures.join("\n")
    );
}

#[test]
fn render_is_byte_identical_across_runs_and_directories() {
    let spec = root().join("fixtures/rich/kexpose.yaml");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let run1 = kexpose(&["render", spec.to_str().unwrap(), "-o", "out"], a.path());
    // Same spec copied elsewhere, rendered from another working directory.
    std::fs::copy(&spec, b.path().join("kexpose.yaml")).unwrap();
    let run2 = kexpose(&["render", "kexpose.yaml", "-o", "x/out"], b.path());
    assert_eq!(
        (run1.code, run2.code),
        (0, 0),
        "{}{}",
        run1.stderr,
        run2.stderr
    );
    assert_eq!(
        read_tree(&a.path().join("out")),
        read_tree(&b.path().join("x/out"))
    );
}

/// Built-in outputs skip their output schemas (each constraint is enforced by a check or by
/// the writer, see `src/render/schema_proof.rs`), so rendering every fixture for the Kyma
/// target with the built-in templates compiles no output schema. (In process: no other test
/// of this file uses the library.)
#[test]
fn builtin_renders_compile_no_output_schema() {
    for case in ["seed-client-credentials", "rich", "hardened"] {
        let spec = root().join("fixtures").join(case).join("kexpose.yaml");
        let src = kexpose::read_spec(&spec).unwrap();
        let c = kexpose::compile(
            src,
            "kexpose.yaml",
            &kexpose::render::Templates::builtin(),
            &kexpose::diag::Policy::default(),
        );
        assert!(c.outputs.is_some(), "{case}");
    }
    assert_eq!(kexpose::render::output_schemas_compiled(), 0);
}
