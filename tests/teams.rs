//! Platform and team specs (`docs/teams.md`).
//!
//! - Cases: `tests/teams/cases/*.yaml` (team and platform specs against
//!   `tests/teams/platform/kexpose-platform.yaml`), with the `tests/bad_inputs.rs` header, run as
//!   `kexpose render`: every way out of a grant (namespace, host, gateway, authorizer, identity
//!   provider) is an error at the team spec's own location.
//! - A team renders APIRules and Namespaces only; the platform the Istio registration and Helm
//!   values only.
//! - A vendored, digest-pinned platform copy in another directory (another repository).
//! - `kexpose teams`: all team specs together (hosts and APIRules unique across teams, one
//!   platform).
//! - Every `team-*` code has a case.

mod common;
use common::cases::{Case, assert_all_pass, parse_header};
use common::*;
use std::fs;
use std::path::PathBuf;

fn case_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(root().join("tests/teams/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn cases() -> Vec<Case> {
    case_paths()
        .into_iter()
        .map(|p| {
            let name = format!("teams/{}", p.file_name().unwrap().to_string_lossy());
            let text = fs::read_to_string(&p).unwrap();
            parse_header(&name, p, &text).unwrap()
        })
        .collect()
}

#[test]
fn team_and_platform_cases() {
    let cases = cases();
    assert!(cases.len() >= 12);
    let refs: Vec<&Case> = cases.iter().collect();
    assert_all_pass("team cases", &refs);
}

#[test]
fn every_team_code_has_a_case() {
    let covered: std::collections::BTreeSet<String> = cases()
        .into_iter()
        .flat_map(|c| c.expected.into_iter().map(|e| e.0))
        .collect();
    let missing: Vec<&str> = kexpose::diag::Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| {
            c.starts_with("team-") && !covered.contains(*c) && *c != "team-platform-mismatch"
        })
        .collect();
    assert!(missing.is_empty(), "team codes without a case: {missing:?}");
}

#[test]
fn a_team_renders_apirules_and_namespaces_the_platform_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let team = root().join("tests/teams/cases/valid-shop.yaml");
    let run = kexpose(
        &["render", team.to_str().unwrap(), "-o", "team"],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files: Vec<String> = read_tree(&tmp.path().join("team"))
        .into_keys()
        .filter(|f| f != ".kexpose-manifest")
        .collect();
    assert_eq!(
        files,
        [
            "apirules/shop/shop.yaml",
            "apirules/shop/storefront.yaml",
            "kustomization.yaml",
            "namespaces.yaml"
        ]
    );
    let platform = root().join("tests/teams/platform/kexpose-platform.yaml");
    let run = kexpose(
        &["render", platform.to_str().unwrap(), "-o", "platform"],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let files: Vec<String> = read_tree(&tmp.path().join("platform"))
        .into_keys()
        .filter(|f| f != ".kexpose-manifest")
        .collect();
    assert_eq!(
        files,
        [
            "helm/oauth2-proxy/values.yaml",
            "istio/authorizers.yaml",
            "kustomization.yaml",
            "namespaces.yaml"
        ]
    );
    let istio = yaml_file(&tmp.path().join("platform/istio/authorizers.yaml"));
    let names: Vec<&str> = istio["spec"]["config"]["authorizers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["oauth2-proxy", "admin-authz"]);
}

/// The team repository vendors a copy of the platform spec and pins its digest.
#[test]
fn a_vendored_pinned_platform_copy_in_another_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("team-shop");
    fs::create_dir_all(repo.join("vendor")).unwrap();
    let platform = fs::read(root().join("tests/teams/platform/kexpose-platform.yaml")).unwrap();
    fs::write(repo.join("vendor/kexpose-platform.yaml"), &platform).unwrap();
    let digest = kexpose::teams::digest(&platform);
    let team = fs::read_to_string(root().join("tests/teams/cases/valid-shop.yaml"))
        .unwrap()
        .replace(
            "  path: ../platform/kexpose-platform.yaml\n",
            &format!("  path: vendor/kexpose-platform.yaml\n  digest: {digest}\n"),
        );
    fs::write(repo.join("kexpose.yaml"), &team).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], &repo);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The vendored copy drifts: the pin stops the render, nothing is written.
    let mut drifted = platform.clone();
    drifted.extend_from_slice(b"# edited\n");
    fs::write(repo.join("vendor/kexpose-platform.yaml"), &drifted).unwrap();
    let run = kexpose(
        &["render", "kexpose.yaml", "-o", "out2", "--color", "never"],
        &repo,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("team-platform-digest"),
        "{}",
        run.stderr
    );
    assert!(!repo.join("out2").exists());
}

#[test]
fn the_platform_validates_all_teams_together() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("platform")).unwrap();
    fs::create_dir_all(dir.join("teams")).unwrap();
    fs::copy(
        root().join("tests/teams/platform/kexpose-platform.yaml"),
        dir.join("platform/kexpose-platform.yaml"),
    )
    .unwrap();
    for t in ["valid-shop.yaml", "valid-billing.yaml"] {
        fs::copy(
            root().join("tests/teams/cases").join(t),
            dir.join("teams").join(t),
        )
        .unwrap();
    }
    let ok = kexpose(
        &[
            "teams",
            "platform/kexpose-platform.yaml",
            "teams/valid-shop.yaml",
            "teams/valid-billing.yaml",
            "--color",
            "never",
        ],
        dir,
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    // A second shop team spec (another repository of the same team) reusing a host and an
    // APIRule, and one that points at a different platform copy.
    let shop = fs::read_to_string(dir.join("teams/valid-shop.yaml")).unwrap();
    let shop2: String = shop
        .lines()
        .filter(|l| !l.starts_with("# "))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(dir.join("teams/shop2.yaml"), shop2 + "\n").unwrap();
    fs::write(
        dir.join("platform/other.yaml"),
        fs::read(dir.join("platform/kexpose-platform.yaml"))
            .unwrap()
            .into_iter()
            .chain(b"# other\n".iter().copied())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let billing = fs::read_to_string(dir.join("teams/valid-billing.yaml"))
        .unwrap()
        .replace("kexpose-platform.yaml", "other.yaml");
    fs::write(dir.join("teams/valid-billing.yaml"), billing).unwrap();
    let bad = kexpose(
        &[
            "teams",
            "platform/kexpose-platform.yaml",
            "teams/valid-shop.yaml",
            "teams/shop2.yaml",
            "teams/valid-billing.yaml",
            "--color",
            "never",
        ],
        dir,
    );
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    let found = common::cases::reported(&bad.stderr);
    let mut codes: Vec<(String, String)> = found;
    codes.sort();
    assert_eq!(
        codes,
        [
            // shop2.yaml: both hosts and both APIRules are valid-shop.yaml's.
            ("host-occupied".to_string(), "10:11".to_string()),
            ("host-occupied".to_string(), "26:11".to_string()),
            // valid-billing.yaml: platform.path names other.yaml.
            ("team-platform-mismatch".to_string(), "11:9".to_string()),
            ("workload-duplicate".to_string(), "24:11".to_string()),
            ("workload-duplicate".to_string(), "8:11".to_string()),
        ],
        "{}",
        bad.stderr
    );
}

#[test]
fn the_committed_teams_schema_is_the_generated_one() {
    let committed =
        fs::read_to_string(root().join("schemas/kexpose-teams.schema.json")).unwrap_or_default();
    let generated = kexpose::teams::json_schema_text();
    if accepting() {
        fs::write(root().join("schemas/kexpose-teams.schema.json"), &generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "schemas/kexpose-teams.schema.json is stale: run `INSTA_UPDATE=always cargo test --test teams` and read the diff"
    );
}

/// Every platform and team spec of the tests that kexpose accepts is valid under the
/// committed schema (editors see what kexpose sees).
#[test]
fn valid_specs_match_the_teams_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root().join("schemas/kexpose-teams.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    for p in [
        "tests/teams/platform/kexpose-platform.yaml",
        "tests/teams/cases/valid-shop.yaml",
        "tests/teams/cases/valid-billing.yaml",
    ] {
        let doc = yaml_file(&root().join(p));
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{p}: {errors:?}");
    }
    let bad = yaml_file(&root().join("tests/teams/cases/team-own-authorizer.yaml"));
    assert!(!v.is_valid(&bad));
}

/// `diff --base`, `explain` and the stream for Argo CD work on a team spec in its own
/// repository (a vendored platform copy).
#[test]
fn diff_explain_and_stream_on_a_team_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    fs::create_dir_all(repo.join("vendor")).unwrap();
    fs::copy(
        root().join("tests/teams/platform/kexpose-platform.yaml"),
        repo.join("vendor/kexpose-platform.yaml"),
    )
    .unwrap();
    let team = fs::read_to_string(root().join("tests/teams/cases/valid-shop.yaml"))
        .unwrap()
        .replace("../platform/", "vendor/");
    fs::write(repo.join("kexpose.yaml"), &team).unwrap();
    let git = |args: &[&str]| common::git(repo, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "init"]);
    let changed = team.replace(
        "      - path: /orders\n        methods: [GET]\n        jwt: {identityProvider: ias}\n",
        "      - path: /orders\n        methods: [GET]\n        noAuth: true\n",
    );
    assert_ne!(changed, team);
    fs::write(repo.join("kexpose.yaml"), &changed).unwrap();
    let diff = kexpose(
        &["diff", "kexpose.yaml", "--base", "main", "--color", "never"],
        repo,
    );
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(
        diff.stdout.contains("www.shop.example.com/orders"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("public"), "{}", diff.stdout);
    let explain = kexpose(
        &[
            "explain",
            "kexpose.yaml",
            "GET",
            "https://www.shop.example.com/orders",
            "--color",
            "never",
        ],
        repo,
    );
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(explain.stdout.contains("public"), "{}", explain.stdout);
    let stream = kexpose(&["render", "kexpose.yaml", "-o", "-"], repo);
    assert_eq!(stream.code, 0, "{}", stream.stderr);
    assert!(stream.stdout.contains("kind: APIRule"));
    assert!(!stream.stdout.contains("kind: Istio"), "{}", stream.stdout);
    assert!(
        !stream.stdout.contains("kind: Application"),
        "{}",
        stream.stdout
    );
}

/// `kexpose teams` refuses an Exposure spec in place of a team spec: it has no grant.
#[test]
fn an_exposure_spec_is_not_a_team_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let exposure = root().join("tests/roundtrip/wildcard-host/kexpose.yaml");
    let platform = root().join("tests/teams/platform/kexpose-platform.yaml");
    let run = kexpose(
        &[
            "teams",
            platform.to_str().unwrap(),
            exposure.to_str().unwrap(),
            "--color",
            "never",
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = common::cases::reported(&run.stderr);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    assert_eq!(found[0].0, "team-field", "{}", run.stderr);
}
