//! Issue 12's examples, end to end through `diff --base` in all three formats: a CI gate on
//! "weakening" catches deleting a protected rule above a public catch-all, widening `/health`
//! to `/{*}`, and inserting a public rule above a protected catch-all. And `explain` on the
//! Kyma docs' rule-order example says what the policies enforce (403).

mod common;
use common::*;
use std::fs;

fn spec(rules: &str) -> String {
    format!(
        "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\ncluster: {{domain: c-1.kyma.ondemand.com}}\n\
         identityProviders:\n  - {{name: ias, issuer: https://t.accounts.ondemand.com}}\n\
         authorizers:\n  - {{name: oauth2-proxy, type: oauth2-proxy, identityProvider: ias}}\n\
         workloads:\n  - name: app\n    namespace: app\n    host: app\n    service: {{port: 8000}}\n    rules:\n{rules}"
    )
}

/// Commit `before`, write `after`, run `diff --base HEAD` in a format.
fn diff(before: &str, after: &str, format: &str) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    fs::write(dir.join("kexpose.yaml"), spec(before)).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    fs::write(dir.join("kexpose.yaml"), spec(after)).unwrap();
    let run = kexpose(
        &[
            "diff",
            "kexpose.yaml",
            "--base",
            "HEAD",
            "--format",
            format,
            "--color",
            "never",
        ],
        dir,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    run
}

const HOST: &str = "app.c-1.kyma.ondemand.com";

/// The JSON report's access changes, with checks every change must pass.
fn changes(before: &str, after: &str) -> Vec<serde_json::Value> {
    let run = diff(before, after, "json");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let list = v["accessChanges"].as_array().unwrap().clone();
    for c in &list {
        assert!(c["weakening"].is_boolean(), "{c}");
        assert!(
            c["example"]["method"].is_string() && c["example"]["url"].is_string(),
            "{c}"
        );
    }
    // Weakening first.
    let flags: Vec<bool> = list.iter().map(|c| c["weakening"] == true).collect();
    assert!(flags.windows(2).all(|w| w[0] >= w[1]), "{list:#?}");
    list
}

fn text_and_markdown(before: &str, after: &str, region: &str, example: &str) {
    let text = diff(before, after, "text").stdout;
    assert!(
        text.contains("BECAME PUBLIC") && text.contains(region) && text.contains(example),
        "{text}"
    );
    let md = diff(before, after, "markdown").stdout;
    assert!(md.starts_with("### kexpose diff: ⚠️"), "{md}");
    assert!(
        md.contains("| **became public** |") && md.contains(example),
        "{md}"
    );
}

#[test]
fn deleting_a_protected_rule_above_a_public_catch_all() {
    let before = "      - {path: \"/admin/{**}\", methods: [GET], jwt: {}}\n      - {path: /*, methods: [GET], noAuth: true}\n";
    let after = "      - {path: /*, methods: [GET], noAuth: true}\n";
    let c = changes(before, after);
    let first = &c[0];
    assert_eq!(first["kind"], "becamePublic", "{c:#?}");
    assert_eq!(first["weakening"], true);
    assert_eq!(first["example"]["url"], format!("https://{HOST}/admin/x"));
    assert_eq!(
        first["region"]["matches"],
        serde_json::json!(["/admin/{**}"])
    );
    assert_eq!(
        first["beforeSummary"],
        "jwt (https://t.accounts.ondemand.com)"
    );
    text_and_markdown(before, after, "/admin/{**}", "/admin/x");
}

#[test]
fn health_widened_to_every_one_segment_path() {
    // The form of this example keeps a protected `/*` below: the controller's segment
    // trie refuses `/{*}` above `/*` (`apirule-path-conflict`), so the protected rule here is
    // `/api/{**}`, which it accepts, and the widened paths were unrouted (404) before.
    let before = "      - {path: /health, methods: [GET], noAuth: true}\n      - {path: \"/api/{**}\", methods: [GET], extAuth: {authorizers: [oauth2-proxy]}}\n";
    let after = "      - {path: \"/{*}\", methods: [GET], noAuth: true}\n      - {path: \"/api/{**}\", methods: [GET], extAuth: {authorizers: [oauth2-proxy]}}\n";
    let c = changes(before, after);
    let weak: Vec<_> = c.iter().filter(|c| c["weakening"] == true).collect();
    assert_eq!(weak.len(), 1, "{c:#?}");
    assert_eq!(weak[0]["kind"], "becamePublic");
    assert_eq!(weak[0]["example"]["url"], format!("https://{HOST}/x"));
    assert_eq!(
        weak[0]["region"]["notMatches"],
        serde_json::json!(["/health"])
    );
    assert_eq!(weak[0]["beforeSummary"], "404 (no route)");
    text_and_markdown(before, after, "/{*} except /health", "/x");
}

#[test]
fn public_rule_inserted_above_a_protected_catch_all() {
    let before = "      - {path: /*, methods: [GET], jwt: {}}\n";
    let after = "      - {path: \"/docs/{**}\", methods: [GET], noAuth: true}\n      - {path: /*, methods: [GET], jwt: {}}\n";
    let c = changes(before, after);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(
        (c[0]["kind"].as_str(), c[0]["weakening"].as_bool()),
        (Some("becamePublic"), Some(true))
    );
    assert_eq!(c[0]["example"]["url"], format!("https://{HOST}/docs/x"));
    text_and_markdown(before, after, "/docs/{**}", "/docs/x");
}

#[test]
fn narrowing_is_reported_but_not_weakening() {
    let before = "      - {path: /*, methods: [GET], noAuth: true}\n";
    let after = "      - {path: /*, methods: [GET], jwt: {}}\n";
    let c = changes(before, after);
    assert!(
        !c.is_empty() && c.iter().all(|c| c["weakening"] == false),
        "{c:#?}"
    );
}

#[test]
fn explain_on_the_docs_rule_order_example_says_403() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = "      - {path: \"/anything/{*}/one\", methods: [POST], jwt: {}}\n      - {path: \"/anything/{**}\", methods: [POST, GET], noAuth: true}\n";
    fs::write(tmp.path().join("kexpose.yaml"), spec(rules)).unwrap();
    for target in ["kyma", "istio"] {
        let mut args = vec!["explain", "kexpose.yaml", "GET"];
        let url = format!("https://{HOST}/anything/more/one");
        args.push(&url);
        args.extend(["--target", target]);
        let run = kexpose(&args, tmp.path());
        if target == "istio" {
            // No selector: the Istio target refuses.
            assert_eq!(run.code, 1, "{}", run.stderr);
            assert!(
                run.stderr.contains("workload-selector-missing"),
                "{}",
                run.stderr
            );
            continue;
        }
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains("→ 403 RBAC: access denied"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr.contains("apirule-method-shadowed"),
            "{}",
            run.stderr
        );
    }
    let run = kexpose(
        &["explain", "kexpose.yaml", "FETCH", "https://x/"],
        tmp.path(),
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH"),
        "{}",
        run.stderr
    );
}
