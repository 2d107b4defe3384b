//! Hand-written APIRules as Kyma users write them (`tests/roundtrip/<case>/apirule.yaml`) can
//! be expressed as kexpose specs (`kexpose.yaml` beside them) that render that same APIRule.

mod common;
use common::*;

#[test]
fn specs_render_the_hand_written_apirules() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(root().join("tests/roundtrip")).unwrap() {
        let case = entry.unwrap().path();
        if !case.join("kexpose.yaml").exists() {
            continue;
        }
        cases += 1;
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let want = yaml_file(&case.join("apirule.yaml"));
        let tmp = tempfile::tempdir().unwrap();
        let run = kexpose(
            &[
                "render",
                case.join("kexpose.yaml").to_str().unwrap(),
                "-o",
                "out",
            ],
            tmp.path(),
        );
        if run.code != 0 {
            failures.push(format!("{name}: render failed:\n{}", run.stderr));
            continue;
        }
        let ns = want["metadata"]["namespace"].as_str().unwrap();
        let n = want["metadata"]["name"].as_str().unwrap();
        let got = yaml_file(&tmp.path().join(format!("out/apirules/{ns}/{n}.yaml")));
        if got["spec"] != want["spec"] {
            failures.push(format!(
                "{name}: spec differs\n want: {}\n  got: {}",
                want["spec"], got["spec"]
            ));
        }
    }
    assert!(
        cases >= 10,
        "expected at least ten round-trip cases, found {cases}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
