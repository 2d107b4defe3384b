//! `kexpose import`.
//!
//! - Round trip: every hand-written APIRule v2 of `tests/roundtrip/*/apirule.yaml` (restated
//!   real APIRules, sources in each file) plus `tests/import/roundtrip/*.yaml`, imported together
//!   with the Istio CR `tests/import/istio.yaml`, renders back to the same APIRules (normalised:
//!   the default gateway written out, a workload service no rule uses dropped) and the same
//!   Istio authorizer list.
//! - Cases: `tests/import/cases/*.yaml`, with the header of `tests/bad_inputs.rs` (`# expect:
//!   CODE LINE:COL`, `# exit:`), plus `# expect-output: POINTER JSON` on the written spec and
//!   `# forbid-text: TEXT` (a secret that must not appear on stdout or stderr).
//! - Every `import-*` code has a case.

mod common;
use common::cases::{missing_from, reported};
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn spec_of(run_stdout: &str) -> Value {
    yaml(run_stdout)
}

/// An APIRule as render writes it, for comparison: spec, name, namespace.
fn normalised(rule: &Value) -> Value {
    let mut spec = rule["spec"].clone();
    if spec.get("gateway").is_none() && spec.get("externalGateway").is_none() {
        spec["gateway"] = "kyma-system/kyma-gateway".into();
    }
    let rules = spec["rules"].as_array().cloned().unwrap_or_default();
    if !rules.is_empty() && rules.iter().all(|r| r.get("service").is_some()) {
        spec.as_object_mut().unwrap().remove("service");
    }
    serde_json::json!({
        "name": rule["metadata"]["name"],
        "namespace": rule["metadata"]["namespace"],
        "spec": spec,
    })
}

fn inputs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/roundtrip"))
        .unwrap()
        .map(|e| e.unwrap().path().join("apirule.yaml"))
        .filter(|p| p.exists())
        .collect();
    if let Ok(dir) = std::fs::read_dir(root().join("tests/import/roundtrip")) {
        files.extend(dir.map(|e| e.unwrap().path()));
    }
    files.sort();
    files
}

#[test]
fn imported_v2_apirules_render_back_unchanged() {
    let files = inputs();
    assert!(
        files.len() >= 20,
        "expected the round-trip corpus, found {}",
        files.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.push(root().join("tests/import/istio.yaml").display().to_string());
    args.extend([
        "-o".into(),
        "kexpose.yaml".into(),
        "--color".into(),
        "never".into(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = kexpose(&argv, tmp.path());
    assert_eq!(run.code, 0, "import failed:\n{}", run.stderr);
    // The only finding: the oauth2-proxy registration imported as external.
    let found = reported(&run.stderr);
    assert!(
        found.iter().all(|(c, _)| c == "import-authorizer-type"),
        "{}",
        run.stderr
    );
    let render = kexpose(
        &["render", "kexpose.yaml", "-o", "out", "--color", "never"],
        tmp.path(),
    );
    assert_eq!(
        render.code, 0,
        "render of the imported spec failed:\n{}",
        render.stderr
    );
    let mut failures = Vec::new();
    let mut count = 0;
    for f in &files {
        let doc = yaml_file(f);
        {
            count += 1;
            let ns = doc["metadata"]["namespace"].as_str().unwrap();
            let n = doc["metadata"]["name"].as_str().unwrap();
            let got = yaml_file(&tmp.path().join(format!("out/apirules/{ns}/{n}.yaml")));
            if normalised(&got) != normalised(&doc) {
                failures.push(format!(
                    "{}:\n want {}\n  got {}",
                    f.display(),
                    normalised(&doc),
                    normalised(&got)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(count >= 20);
    // The Istio registration comes back too.
    let istio_in = yaml_file(&root().join("tests/import/istio.yaml"));
    let istio_out = yaml_file(&tmp.path().join("out/istio/authorizers.yaml"));
    assert_eq!(
        istio_out["spec"]["config"]["authorizers"],
        istio_in["spec"]["config"]["authorizers"]
    );
    // Deterministic: the same inputs give the same bytes.
    let again = kexpose(
        &[&argv[..argv.len() - 4], &["-o", "-"]].concat(),
        tmp.path(),
    );
    assert_eq!(
        again.stdout,
        std::fs::read_to_string(tmp.path().join("kexpose.yaml")).unwrap()
    );
}

struct Case {
    path: PathBuf,
    expected: Vec<(String, String)>,
    exit: i32,
    outputs: Vec<(String, Value)>,
    forbid: Vec<String>,
}

fn parse(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let mut case = Case {
        path: path.to_path_buf(),
        expected: Vec::new(),
        exit: 0,
        outputs: Vec::new(),
        forbid: Vec::new(),
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let (c, l) = rest.split_once(' ').expect("CODE LINE:COL");
            case.expected.push((c.to_string(), l.to_string()));
        } else if let Some(rest) = line.strip_prefix("# exit: ") {
            case.exit = rest.trim().parse().unwrap();
        } else if let Some(rest) = line.strip_prefix("# expect-output: ") {
            let (p, v) = rest.split_once(' ').expect("POINTER JSON");
            case.outputs
                .push((p.to_string(), serde_json::from_str(v).expect("JSON value")));
        } else if let Some(rest) = line.strip_prefix("# forbid-text: ") {
            case.forbid.push(rest.trim().to_string());
        }
    }
    case
}

fn cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/import/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths.iter().map(|p| parse(p)).collect()
}

#[test]
fn import_cases() {
    let mut failures = Vec::new();
    for case in cases() {
        let tmp = tempfile::tempdir().unwrap();
        let run = kexpose(
            &[
                "import",
                case.path.to_str().unwrap(),
                "-o",
                "spec.yaml",
                "--color",
                "never",
            ],
            tmp.path(),
        );
        let name = case.path.display().to_string();
        let mut problems = Vec::new();
        let mut got = reported(&run.stderr);
        let mut want = case.expected.clone();
        got.sort();
        want.sort();
        let missing = missing_from(&want, &got);
        let extra = missing_from(&got, &want);
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!("missing {missing:?}, unexpected {extra:?}"));
        }
        if run.code != case.exit {
            problems.push(format!("exit {} (expected {})", run.code, case.exit));
        }
        if run.stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        let written = tmp.path().join("spec.yaml");
        if case.exit != 0 && written.exists() {
            problems.push("failed but wrote the spec".into());
        }
        if case.exit == 0 {
            let text = std::fs::read_to_string(&written).unwrap_or_default();
            let spec = spec_of(&text);
            for (p, want) in &case.outputs {
                let got = spec.pointer(p).cloned().unwrap_or(Value::Null);
                if &got != want {
                    problems.push(format!("{p} is {got}, expected {want}"));
                }
            }
            for secret in &case.forbid {
                if text.contains(secret)
                    || run.stderr.contains(secret)
                    || run.stdout.contains(secret)
                {
                    problems.push(format!("`{secret}` leaked into the output"));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}\n{}", problems.join("; "), run.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every v1beta1 case that migrates without a kept regex or odd gateway renders: the
/// migrated spec is valid (warnings allowed).
#[test]
fn migrated_v1beta1_specs_validate() {
    for case in cases() {
        let name = case
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("v1beta1-") || name == "v1beta1-regex-gateway.yaml" {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let run = kexpose(
            &[
                "import",
                case.path.to_str().unwrap(),
                "-o",
                "spec.yaml",
                "--color",
                "never",
            ],
            tmp.path(),
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let v = kexpose(&["validate", "spec.yaml", "--color", "never"], tmp.path());
        // What the import findings told the user to decide, validate asks for too: a created
        // oauth2-proxy authorizer needs `cluster.domain`; an issuer paired with no JWKS URL
        // needs one.
        let decide: &[&str] = match name.as_str() {
            "v1beta1-oauth2-introspection.yaml" | "v1beta1-cookie-session.yaml" => {
                &["oauth2-proxy-whitelist-domain"]
            }
            "v1beta1-jwt-oathkeeper.yaml" => &["identity-provider-jwks-required"],
            // A short host: the cluster domain is in no manifest.
            "v1beta1-noop.yaml" => &["host-short-without-domain"],
            _ => &[],
        };
        if !decide.is_empty() {
            let codes: Vec<String> = reported(&v.stderr).into_iter().map(|f| f.0).collect();
            assert_eq!(codes, decide, "{name}: {}", v.stderr);
            continue;
        }
        assert_eq!(
            v.code, 0,
            "{name}: the migrated spec does not validate:\n{}",
            v.stderr
        );
    }
    // The kept regex path is rejected by validate, as the finding says.
    let tmp = tempfile::tempdir().unwrap();
    let case = root().join("tests/import/cases/v1beta1-regex-gateway.yaml");
    kexpose(
        &["import", case.to_str().unwrap(), "-o", "spec.yaml"],
        tmp.path(),
    );
    let v = kexpose(&["validate", "spec.yaml", "--color", "never"], tmp.path());
    assert_eq!(v.code, 1, "{}", v.stderr);
    assert!(v.stderr.contains("apirule-path-invalid"), "{}", v.stderr);
}

#[test]
fn every_import_code_has_a_case() {
    let covered: std::collections::BTreeSet<String> = cases()
        .into_iter()
        .flat_map(|c| c.expected.into_iter().map(|e| e.0))
        .collect();
    let missing: Vec<&str> = kexpose::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| c.starts_with("import-") && !covered.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "import codes without a case: {missing:?}"
    );
}

#[test]
fn never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("kexpose.yaml"), "keep").unwrap();
    let case = root().join("tests/import/cases/v1beta1-allow.yaml");
    let run = kexpose(
        &["import", case.to_str().unwrap(), "-o", "kexpose.yaml"],
        tmp.path(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("kexpose.yaml")).unwrap(),
        "keep"
    );
}
