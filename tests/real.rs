//! The corpus of real configurations: `tests/real/<case>/kexpose.yaml`, each a real oauth2-proxy
//! configuration or APIRule from a public repository, issue thread or document, restated as a
//! kexpose spec, with `SOURCE.md` beside it (where it came from, what it said, and the verdict
//! of the real component).
//!
//! Every case uses the directive format of `tests/bad_inputs.rs` (`# expect: <code> <line>:<col>`
//! one line per diagnostic, `# expect: none`, `# exit: 0` when nothing is an error) plus three
//! lines of its own in the same header block:
//!
//! ```yaml
//! # kind: oauth2-proxy | apirule      what the source configured
//! # provider: keycloak                the identity provider (or `none`, `other`)
//! # verdict: ...                      the real component's verdict, in words
//! ```
//!
//! The expectations are the real components' verdicts (oauth2-proxy v7.15.3 as shipped by chart
//! 10.7.0, the api-gateway controller, the API server), not kexpose's: a case fails when kexpose
//! rejects a configuration they accept, accepts one they refuse, or reports it elsewhere.

mod common;

use common::cases::{Case, assert_all_pass, parse_header};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// A corpus case with its kind and provider.
struct RealCase {
    case: Case,
    kind: String,
    provider: String,
}

fn corpus() -> Vec<RealCase> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real");
    let mut dirs: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for d in dirs {
        let name = format!(
            "real/{}",
            d.file_name().expect("file name").to_string_lossy()
        );
        let spec = d.join("kexpose.yaml");
        let text = match fs::read_to_string(&spec) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{name}: cannot read kexpose.yaml: {e}"));
                continue;
            }
        };
        match fs::read_to_string(d.join("SOURCE.md")) {
            Ok(s) if s.contains("- Source: ") => {}
            Ok(_) => errors.push(format!("{name}: SOURCE.md has no `- Source: ` line")),
            Err(e) => errors.push(format!("{name}: cannot read SOURCE.md: {e}")),
        }
        let header = |key: &str| {
            text.lines()
                .take_while(|l| l.starts_with('#'))
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        };
        let (Some(kind), Some(provider), Some(_)) = (
            header("# kind:"),
            header("# provider:"),
            header("# verdict:"),
        ) else {
            errors.push(format!(
                "{name}: the header needs `# kind:`, `# provider:` and `# verdict:` lines"
            ));
            continue;
        };
        if kind != "oauth2-proxy" && kind != "apirule" {
            errors.push(format!(
                "{name}: `# kind: {kind}` is neither oauth2-proxy nor apirule"
            ));
        }
        match parse_header(&name, spec, &text) {
            Ok(case) => cases.push(RealCase {
                case,
                kind,
                provider,
            }),
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "malformed corpus cases:\n{}",
        errors.join("\n")
    );
    cases
}

#[test]
fn every_real_configuration_gets_the_real_components_verdict() {
    let all = corpus();
    let cases: Vec<&Case> = all.iter().map(|c| &c.case).collect();
    assert_all_pass("real configurations", &cases);
}

/// The corpus keeps its size and breadth: at least 30 oauth2-proxy configurations across the
/// identity providers users run, and 15 APIRules.
#[test]
fn the_corpus_is_broad() {
    let all = corpus();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut providers: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &all {
        *by_kind.entry(c.kind.as_str()).or_default() += 1;
        if c.kind == "oauth2-proxy" {
            *providers.entry(c.provider.as_str()).or_default() += 1;
        }
    }
    assert!(
        by_kind.get("oauth2-proxy").copied().unwrap_or(0) >= 30,
        "{by_kind:?}"
    );
    assert!(
        by_kind.get("apirule").copied().unwrap_or(0) >= 15,
        "{by_kind:?}"
    );
    for p in [
        "sap-ias", "keycloak", "entra-id", "okta", "auth0", "dex", "google", "gitlab", "cognito",
    ] {
        assert!(
            providers.contains_key(p),
            "no oauth2-proxy case for {p}: {providers:?}"
        );
    }
    // Both verdicts are represented: real configurations that run, and ones that are refused.
    assert!(all.iter().any(|c| c.case.exit == 0));
    assert!(all.iter().any(|c| c.case.exit != 0));
}
