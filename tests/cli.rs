//! The command line as a user meets it: exit codes, nothing written on errors, the write
//! report, user files kept, stale generated files removed, init, schema, --strict/--allow.

mod common;
use common::*;
use std::fs;

const HARDENED: &str = "fixtures/hardened/kexpose.yaml";
const SEED: &str = "fixtures/seed-client-credentials/kexpose.yaml";

fn spec(path: &str) -> String {
    root().join(path).to_string_lossy().into_owned()
}

#[test]
fn committed_json_schema_is_current() {
    let committed =
        fs::read_to_string(root().join("schemas/kexpose.schema.json")).unwrap_or_default();
    let generated = kexpose::spec::json_schema_text();
    if accepting() {
        fs::write(root().join("schemas/kexpose.schema.json"), &generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "schemas/kexpose.schema.json is stale: run `cargo run -- schema > schemas/kexpose.schema.json` (or `INSTA_UPDATE=always cargo test --test cli`)"
    );
    let run = kexpose(&["schema"], &root());
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, generated);
}

#[test]
fn validate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(kexpose(&["validate", &spec(HARDENED)], tmp.path()).code, 0);
    let bad = tmp.path().join("bad.yaml");
    fs::write(
        &bad,
        "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\nworkloads: 3\n",
    )
    .unwrap();
    let run = kexpose(&["validate", "bad.yaml"], tmp.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[schema-type]: expected array, found integer `3`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> bad.yaml:3:12"), "{}", run.stderr);
    assert_eq!(kexpose(&["validate", "missing.yaml"], tmp.path()).code, 2);
    assert_eq!(kexpose(&["validate"], tmp.path()).code, 2);
    assert_eq!(kexpose(&["frobnicate"], tmp.path()).code, 2);
}

#[test]
fn warnings_strict_and_allow() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kexpose(&["validate", &spec(SEED)], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning[authorizer-exposes-proxy-endpoints]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("warning[oauth2-proxy-cookie-insecure]"),
        "{}",
        run.stderr
    );
    let strict = kexpose(&["validate", "--strict", &spec(SEED)], tmp.path());
    assert_eq!(strict.code, 1);
    assert!(
        strict
            .stderr
            .contains("error[authorizer-exposes-proxy-endpoints]")
    );
    let allowed = kexpose(
        &[
            "validate",
            "--strict",
            "--allow",
            "authorizer-exposes-proxy-endpoints",
            "--allow",
            "oauth2-proxy-cookie-insecure",
            &spec(SEED),
        ],
        tmp.path(),
    );
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(!allowed.stderr.contains("warning["));
    assert_eq!(
        kexpose(
            &["validate", "--allow", "no-such-code", &spec(SEED)],
            tmp.path()
        )
        .code,
        2
    );
    assert_eq!(
        kexpose(
            &["validate", "--allow", "apirule-path-conflict", &spec(SEED)],
            tmp.path()
        )
        .code,
        2
    );
    // A retired code (docs/diagnostics.md) is still accepted: scripts that silenced it keep working.
    let retired = kexpose(
        &[
            "validate",
            "--allow",
            "authorizer-include-authorization",
            &spec(SEED),
        ],
        tmp.path(),
    );
    assert_eq!(retired.code, 0, "{}", retired.stderr);
}

#[test]
fn render_reports_each_file_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let first = kexpose(&["render", &spec(HARDENED), "-o", "out"], tmp.path());
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("created "))
            .count(),
        5,
        "{}",
        first.stdout
    );
    let second = kexpose(&["render", &spec(HARDENED), "-o", "out"], tmp.path());
    assert_eq!(second.code, 0);
    assert_eq!(
        second
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("unchanged "))
            .count(),
        5,
        "{}",
        second.stdout
    );
    assert!(tmp.path().join("out/.kexpose-manifest").exists());
}

#[test]
fn errors_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join(HARDENED))
        .unwrap()
        .replace("methods: [GET]", "methods: [FETCH]");
    fs::write(tmp.path().join("kexpose.yaml"), text).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[apirule-method-invalid]"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out").exists());
    // An existing OUT is left exactly as it was.
    fs::create_dir(tmp.path().join("out")).unwrap();
    fs::write(tmp.path().join("out/keep.txt"), "mine").unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 1);
    assert_eq!(read_tree(&tmp.path().join("out")).len(), 1);
}

#[test]
fn user_files_survive_and_stale_generated_files_go() {
    let tmp = tempfile::tempdir().unwrap();
    let rich = fs::read_to_string(root().join("fixtures/rich/kexpose.yaml")).unwrap();
    fs::write(tmp.path().join("kexpose.yaml"), &rich).unwrap();
    assert_eq!(
        kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path()).code,
        0
    );
    fs::write(tmp.path().join("out/apirules/NOTES.md"), "my notes").unwrap();
    // Drop the status-page workload (the last one).
    let cut = rich.find("  # 3. A status page").expect("fixture layout");
    fs::write(tmp.path().join("kexpose.yaml"), &rich[..cut]).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("removed out/apirules/status/status-page.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("updated out/namespaces.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("kept out/apirules/NOTES.md"),
        "{}",
        run.stderr
    );
    assert!(
        !tmp.path()
            .join("out/apirules/status/status-page.yaml")
            .exists()
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/apirules/NOTES.md")).unwrap(),
        "my notes"
    );
}

#[test]
fn a_user_file_in_the_way_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("out")).unwrap();
    fs::write(tmp.path().join("out/namespaces.yaml"), "# hand-written\n").unwrap();
    let run = kexpose(&["render", &spec(HARDENED), "-o", "out"], tmp.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("namespaces.yaml that kexpose did not generate"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(tmp.path().join("out/namespaces.yaml")).unwrap(),
        "# hand-written\n"
    );
}

#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(kexpose(&["init"], tmp.path()).code, 0);
    // Valid, but the CHANGE ME values warn until they are replaced.
    let run = kexpose(&["validate", "kexpose.yaml"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("warning[starter-placeholder]").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(kexpose(&["validate", "--strict", "kexpose.yaml"], tmp.path()).code == 1);
    let edited = fs::read_to_string(tmp.path().join("kexpose.yaml"))
        .unwrap()
        .replace("your-cluster.kyma", "c-4f8a2b1.kyma")
        .replace("your-tenant.accounts", "abc123.accounts");
    fs::write(tmp.path().join("kexpose.yaml"), edited).unwrap();
    let run = kexpose(&["validate", "kexpose.yaml"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning["), "{}", run.stderr);
    fs::write(tmp.path().join("kexpose.yaml"), "mine").unwrap();
    let again = kexpose(&["init"], tmp.path());
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("never overwrites"));
    assert_eq!(
        fs::read_to_string(tmp.path().join("kexpose.yaml")).unwrap(),
        "mine"
    );
}

#[test]
fn template_overrides_are_used_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tpl");
    fs::create_dir(&dir).unwrap();
    let builtin = fs::read_to_string(root().join("templates/kustomization.yaml.j2")).unwrap();
    fs::write(
        dir.join("kustomization.yaml.j2"),
        builtin.replace("# Every Kubernetes", "# Ours: every Kubernetes"),
    )
    .unwrap();
    let run = kexpose(
        &["render", &spec(HARDENED), "-o", "out", "--templates", "tpl"],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        fs::read_to_string(tmp.path().join("out/kustomization.yaml"))
            .unwrap()
            .contains("# Ours: every")
    );

    // A template that breaks the output schema is refused, and nothing is written.
    fs::write(
        dir.join("kustomization.yaml.j2"),
        "apiVersion: v1\nkind: Kustomization\nresources: {{ resources | yaml }}\n",
    )
    .unwrap();
    let run = kexpose(
        &[
            "render",
            &spec(HARDENED),
            "-o",
            "out2",
            "--templates",
            "tpl",
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[output-schema]"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out2").exists());

    // A template error names the template and line.
    fs::write(
        dir.join("kustomization.yaml.j2"),
        "a: 1\nb: {{ no_such_variable }}\n",
    )
    .unwrap();
    let run = kexpose(
        &[
            "render",
            &spec(HARDENED),
            "-o",
            "out3",
            "--templates",
            "tpl",
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("error[template-error]: template `kustomization.yaml.j2` line 2"),
        "{}",
        run.stderr
    );

    // A misspelt override is an error, not silently ignored.
    fs::remove_file(dir.join("kustomization.yaml.j2")).unwrap();
    fs::write(dir.join("kustomisation.yaml.j2"), "x").unwrap();
    assert_eq!(
        kexpose(
            &[
                "render",
                &spec(HARDENED),
                "-o",
                "out4",
                "--templates",
                "tpl"
            ],
            tmp.path()
        )
        .code,
        2
    );
}

#[test]
fn spec_strings_cannot_inject_structure() {
    let tmp = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join("fixtures/rich/kexpose.yaml"))
        .unwrap()
        .replace(
            "X-Shop-Region: emea",
            "X-Shop-Region: \"emea\\n  injected: true\\n---\\nkind: Secret\"",
        );
    fs::write(tmp.path().join("kexpose.yaml"), text).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apirule = yaml_file(&tmp.path().join("out/apirules/shop/shop-api.yaml"));
    assert_eq!(
        apirule["spec"]["rules"][1]["request"]["headers"]["X-Shop-Region"],
        serde_json::json!("emea\n  injected: true\n---\nkind: Secret")
    );
}

/// `docs/diagnostics.md` carries the code table generated from `src/diag.rs` between two
/// markers, like `schemas/kexpose.schema.json` carries the generated schema.
#[test]
fn committed_diagnostics_reference_is_current() {
    const BEGIN: &str = "<!-- BEGIN kexpose codes --markdown -->\n";
    const END: &str = "<!-- END kexpose codes --markdown -->\n";
    let path = root().join("docs/diagnostics.md");
    let committed = fs::read_to_string(&path).unwrap_or_default();
    let generated = kexpose::diag::reference_markdown();
    let (Some(start), Some(end)) = (committed.find(BEGIN), committed.find(END)) else {
        panic!("docs/diagnostics.md lacks the markers {BEGIN:?} and {END:?}");
    };
    let start = start + BEGIN.len();
    if accepting() {
        let text = format!("{}{generated}{}", &committed[..start], &committed[end..]);
        fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        committed[start..end] == generated,
        "docs/diagnostics.md is stale: regenerate it with \
         `INSTA_UPDATE=always cargo test --test cli committed_diagnostics_reference_is_current` \
         (it replaces the part between the markers with `kexpose codes --markdown`)"
    );
    let run = kexpose(&["codes", "--markdown"], &root());
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, generated);
}

#[test]
fn color_choice_applies_to_a_spec_that_cannot_be_read() {
    // A spec rejected before parsing (not UTF-8) is reported with the same --color as any other.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("kexpose.yaml");
    fs::write(&bad, b"a: \xff\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let always = kexpose(&["validate", &bad, "--color", "always"], tmp.path());
    assert_eq!(always.code, 1);
    assert!(
        always.stderr.contains("input-not-utf8"),
        "{}",
        always.stderr
    );
    assert!(always.stderr.contains('\u{1b}'), "{}", always.stderr);
    let never = kexpose(&["validate", &bad, "--color", "never"], tmp.path());
    assert_eq!(never.code, 1);
    assert!(!never.stderr.contains('\u{1b}'), "{}", never.stderr);
}
