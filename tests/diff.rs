//! Reviews: `render --check`, `diff -o OUT`, `diff --base REV` and `explain`, through the binary.

mod common;
use common::*;
use std::fs;
use std::path::Path;

const RICH: &str = "fixtures/rich/kexpose.yaml";

fn rich() -> String {
    fs::read_to_string(root().join(RICH)).unwrap()
}

/// A temp dir with the rich spec rendered into `out`, and the spec then rewritten by `edit`.
fn rendered_then_edited(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("kexpose.yaml"), rich()).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    fs::write(tmp.path().join("kexpose.yaml"), edit(rich())).unwrap();
    tmp
}

fn diff(dir: &Path, format: &str) -> Run {
    kexpose(
        &[
            "diff",
            "kexpose.yaml",
            "-o",
            "out",
            "--format",
            format,
            "--color",
            "never",
        ],
        dir,
    )
}

const PUBLIC_EDIT: (&str, &str) = (
    "      - path: /*\n        methods: [GET, OPTIONS]\n        extAuth:\n          authorizers: [oauth2-proxy]\n",
    "      - path: /*\n        methods: [GET, OPTIONS]\n        noAuth: true\n",
);

#[test]
fn unchanged_render_is_no_difference() {
    let tmp = rendered_then_edited(|s| s);
    let run = diff(tmp.path(), "text");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "No differences.\n");
    let check = kexpose(
        &["render", "kexpose.yaml", "-o", "out", "--check"],
        tmp.path(),
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
    let json = diff(tmp.path(), "json");
    assert_eq!(json.code, 0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["objects"], serde_json::json!([]));
}

#[test]
fn became_public_is_reported_first_in_every_format() {
    let tmp = rendered_then_edited(|s| {
        assert!(s.contains(PUBLIC_EDIT.0));
        s.replace(PUBLIC_EDIT.0, PUBLIC_EDIT.1).replace(
            "requiredScopes: [webhooks.send]",
            "requiredScopes: [webhooks.send, extra]",
        )
    });
    let text = diff(tmp.path(), "text");
    assert_eq!(text.code, 1);
    let first = text
        .stdout
        .lines()
        .find(|l| l.starts_with("  ") && !l.trim().is_empty())
        .unwrap();
    assert!(
        first.contains("BECAME PUBLIC") && first.contains("shop.c-1a2b3c.kyma.ondemand.com /*"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("narrowed"), "{}", text.stdout);

    let md = diff(tmp.path(), "markdown");
    assert_eq!(md.code, 1);
    assert!(
        md.stdout
            .starts_with("### kexpose diff: ⚠️ 1 request region became public (GET, OPTIONS)"),
        "{}",
        md.stdout
    );
    let first_row = md
        .stdout
        .lines()
        .find(|l| l.starts_with("| **") || l.starts_with("| narrowed"))
        .unwrap();
    assert!(
        first_row.starts_with("| **became public** |"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("<details><summary><code>~ APIRule shop/shop-api</code>")
    );

    let json = diff(tmp.path(), "json");
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let first = &v["accessChanges"][0];
    assert_eq!(first["kind"], "becamePublic");
    assert_eq!(first["weakening"], true);
    assert_eq!(first["afterSummary"], "public");
    assert_eq!(first["beforeSummary"], "extAuth oauth2-proxy");
    assert_eq!(first["after"]["status"], "allowed");
    assert_eq!(first["example"]["method"], first["method"]);
    assert!(
        first["example"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.c-1a2b3c.kyma.ondemand.com/"),
        "{first}"
    );
    let obj = &v["objects"][0];
    assert_eq!(obj["changeType"], "changed");
    assert_eq!(obj["kind"], "APIRule");
    assert!(
        obj["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "spec.rules[4].noAuth" && f["new"] == true)
    );

    let zero = kexpose(
        &["diff", "kexpose.yaml", "-o", "out", "--exit-zero"],
        tmp.path(),
    );
    assert_eq!(zero.code, 0);
}

#[test]
fn removed_scope_is_weakened_and_method_change_adds_and_removes() {
    let tmp = rendered_then_edited(|s| {
        s.replace("requiredScopes: [orders.read]\n", "audiences: [shop-api]\n")
            .replace(
                "      - path: /static/{**}\n        methods: [GET, HEAD]",
                "      - path: /static/{**}\n        methods: [GET, PUT]",
            )
    });
    let v: serde_json::Value = serde_json::from_str(&diff(tmp.path(), "json").stdout).unwrap();
    let kinds: Vec<(String, String, String)> = v["accessChanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().into(),
                c["method"].as_str().unwrap().into(),
                c["region"]["matches"][0].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("weakened".into(), "GET".into(), "/api/orders/{*}".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("becamePublic".into(), "PUT".into(), "/static/{**}".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("removed".into(), "HEAD".into(), "/static/{**}".into())),
        "{kinds:?}"
    );
    // Weakening first: the new public PUT, then the lost scope.
    assert_eq!(kinds[0].0, "becamePublic");
    assert!(
        kinds.iter().position(|k| k.0 == "weakened") < kinds.iter().position(|k| k.0 == "removed")
    );
}

#[test]
fn added_and_removed_workloads() {
    let cut = |s: String| s[..s.find("  # 3. A status page").unwrap()].to_string();
    let tmp = rendered_then_edited(cut);
    let v: serde_json::Value = serde_json::from_str(&diff(tmp.path(), "json").stdout).unwrap();
    let obj = &v["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "APIRule")
        .unwrap()
        .clone();
    assert_eq!(
        (obj["changeType"].as_str(), obj["name"].as_str()),
        (Some("removed"), Some("status-page"))
    );
    // Through the gateway every region closes; in-cluster callers of the workload, whose
    // pods no longer have any ALLOW policy, are let in by Istio (no ALLOW policy = allow).
    let changes = v["accessChanges"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .filter(|c| c["caller"] == "gateway")
            .all(|c| c["kind"] == "removed" && c["weakening"] == false),
        "{changes:#?}"
    );
    assert!(
        changes.iter().any(|c| c["caller"] == "in-cluster"
            && c["host"] == "status.status.svc.cluster.local"
            && c["kind"] == "becamePublic"),
        "{changes:#?}"
    );

    // And the other way round: render the smaller spec, then add the workload back.
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("kexpose.yaml"), cut(rich())).unwrap();
    assert_eq!(
        kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path()).code,
        0
    );
    fs::write(tmp.path().join("kexpose.yaml"), rich()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&diff(tmp.path(), "json").stdout).unwrap();
    assert!(
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["changeType"] == "added" && o["name"] == "status-page")
    );
    assert!(
        v["accessChanges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["caller"] == "gateway")
            .all(
                |c| c["weakening"] == true && (c["kind"] == "added" || c["kind"] == "becamePublic")
            )
    );
}

#[test]
fn check_reports_stale_output_and_writes_nothing() {
    let tmp = rendered_then_edited(|s| s.replace(PUBLIC_EDIT.0, PUBLIC_EDIT.1));
    let before = read_tree(&tmp.path().join("out"));
    let run = kexpose(
        &[
            "render",
            "kexpose.yaml",
            "-o",
            "out",
            "--check",
            "--color",
            "never",
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("would update out/apirules/shop/shop-api.yaml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+    noAuth: true"), "{}", run.stdout);
    assert_eq!(read_tree(&tmp.path().join("out")), before);
}

#[test]
fn a_corrupt_output_directory_is_an_error() {
    let tmp = rendered_then_edited(|s| s);
    fs::write(
        tmp.path().join("out/apirules/shop/shop-api.yaml"),
        "spec: [unclosed\n",
    )
    .unwrap();
    let run = diff(tmp.path(), "text");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("shop-api.yaml") && run.stderr.contains("does not parse"),
        "{}",
        run.stderr
    );
}

#[test]
fn secrets_in_out_are_masked_in_every_format() {
    let tmp = rendered_then_edited(|s| s);
    // A Secret someone put into OUT (without a manifest, every YAML file is compared).
    fs::remove_file(tmp.path().join("out/.kexpose-manifest")).unwrap();
    fs::write(
        tmp.path().join("out/secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: oauth2-proxy}\nstringData:\n  client-secret: hunter2-SECRET\n  cookie-secret: cookie-SECRET\n",
    )
    .unwrap();
    for format in ["text", "markdown", "json"] {
        let run = diff(tmp.path(), format);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(
            !run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"),
            "{format} leaks a secret:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("***"), "{format}: {}", run.stdout);
    }
}

#[test]
fn base_revision_in_a_git_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    fs::create_dir(dir.join("deploy")).unwrap();
    fs::write(dir.join("README"), "x").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "no spec yet"]);
    fs::write(dir.join("deploy/kexpose.yaml"), rich()).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "spec"]);

    // Absent at the first commit: everything added.
    let run = kexpose(
        &[
            "diff",
            "deploy/kexpose.yaml",
            "--base",
            "HEAD~1",
            "--format",
            "json",
        ],
        dir,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["changeType"] == "added")
    );
    assert!(!v["objects"].as_array().unwrap().is_empty());

    // Unchanged against HEAD.
    let run = kexpose(&["diff", "deploy/kexpose.yaml", "--base", "HEAD"], dir);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "No differences.\n"),
        "{}",
        run.stderr
    );

    // A working-tree change against HEAD, run from the spec's own directory.
    fs::write(
        dir.join("deploy/kexpose.yaml"),
        rich().replace(PUBLIC_EDIT.0, PUBLIC_EDIT.1),
    )
    .unwrap();
    let run = kexpose(
        &["diff", "kexpose.yaml", "--base", "main", "--color", "never"],
        &dir.join("deploy"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("BECAME PUBLIC"), "{}", run.stdout);

    // Errors: unknown revision, not a repository.
    let run = kexpose(
        &["diff", "deploy/kexpose.yaml", "--base", "no-such-rev"],
        dir,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown revision"), "{}", run.stderr);
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("kexpose.yaml"), rich()).unwrap();
    let run = kexpose(&["diff", "kexpose.yaml", "--base", "HEAD"], outside.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
}

/// A spec with `n` workloads, each with a GET and a POST rule.
fn many(n: usize, public: bool) -> String {
    let mut s = String::from(
        "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\ncluster: {domain: c-1.kyma.ondemand.com}\nidentityProviders:\n  - {name: ias, issuer: https://t.accounts.ondemand.com}\nauthorizers:\n  - {name: oauth2-proxy, type: oauth2-proxy, identityProvider: ias}\nworkloads:\n",
    );
    for i in 0..n {
        let access = if public {
            "noAuth: true"
        } else {
            "extAuth: {authorizers: [oauth2-proxy], requiredScopes: [admin]}"
        };
        s.push_str(&format!(
            "  - name: w{i}\n    namespace: ns{}\n    host: w{i}\n    service: {{port: 8000}}\n    rules:\n      - {{path: \"/admin/{{**}}\", methods: [GET, POST], {access}}}\n      - {{path: /health, methods: [GET], noAuth: true}}\n",
            i % 50
        ));
    }
    s
}

#[test]
fn markdown_stays_under_the_comment_limit_for_2000_workloads() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("kexpose.yaml"), many(2000, false)).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    fs::write(tmp.path().join("kexpose.yaml"), many(2000, true)).unwrap();
    let run = diff(tmp.path(), "markdown");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.chars().count() < 60_000,
        "{} characters",
        run.stdout.chars().count()
    );
    assert!(
        run.stdout
            .starts_with("### kexpose diff: ⚠️ 2000 request regions became public"),
        "{}",
        &run.stdout[..200]
    );
    assert!(
        run.stdout
            .contains("not shown: the comment is cut to stay under 60000 characters")
    );
}

#[test]
fn explain_answers_requests() {
    let dir = root();
    let ask = |method: &str, url: &str| {
        let run = kexpose(&["explain", RICH, method, url], &dir);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let exact = ask("GET", "https://shop.c-1a2b3c.kyma.ondemand.com/healthz");
    assert!(
        exact.contains("route:    rule 1 of 5: /healthz [GET, OPTIONS]")
            && exact.contains("→ public"),
        "{exact}"
    );
    let one = ask(
        "GET",
        "https://shop.c-1a2b3c.kyma.ondemand.com/api/orders/42?x=1",
    );
    assert!(
        one.contains("route:    rule 2 of 5: /api/orders/{*}")
            && one.contains("scopes orders.read"),
        "{one}"
    );
    let many = ask("POST", "https://shop.c-1a2b3c.kyma.ondemand.com/api/a/b/c");
    assert!(
        many.contains("route:    rule 4 of 5: /api/{**} [POST]"),
        "{many}"
    );
    let star = ask("GET", "https://shop.c-1a2b3c.kyma.ondemand.com/index.html");
    assert!(
        star.contains("route:    rule 5 of 5: /* [GET, OPTIONS]")
            && star.contains("oauth2-proxy must allow it"),
        "{star}"
    );
    let none = ask("DELETE", "https://shop.c-1a2b3c.kyma.ondemand.com/api/x");
    assert!(
        none.contains("none of the 5 routes matches DELETE /api/x: 404 at the gateway"),
        "{none}"
    );
    let wildcard = ask("GET", "https://anything.apps.example.com/status");
    assert!(wildcard.contains("*.apps.example.com"), "{wildcard}");
    let nohost = ask("GET", "https://elsewhere.example.com/");
    assert!(nohost.contains("no VirtualService serves host"), "{nohost}");
    // The hardened default protects oauth2-proxy's own endpoints; the tutorial's "" does not.
    let hardened = kexpose(
        &[
            "explain",
            "fixtures/hardened/kexpose.yaml",
            "GET",
            "https://httpbin.c-1a2b3c.kyma.ondemand.com/ping",
        ],
        &dir,
    );
    assert!(
        !hardened.stdout.contains("WITHOUT A TOKEN"),
        "{}",
        hardened.stdout
    );
    let seed_explain = |path: &str| {
        kexpose(
            &[
                "explain",
                "fixtures/seed-client-credentials/kexpose.yaml",
                "GET",
                &format!("https://httpbin.c-1a2b3c.kyma.ondemand.com{path}"),
            ],
            &dir,
        )
        .stdout
    };
    // oauth2-proxy 7.15.3 serves only its embedded static files with 200 (conformance probes)
    let embedded = seed_explain("/oauth2/static/css/bulma.min.css?v=1");
    assert!(embedded.contains("PASSES WITHOUT A TOKEN"), "{embedded}");
    let other = seed_explain("/oauth2/static/x.css");
    assert!(!other.contains("PASSES WITHOUT A TOKEN"), "{other}");
    assert!(other.contains("DENIED, WITH OR WITHOUT A TOKEN"), "{other}");
    let table = kexpose(&["explain", RICH], &dir);
    assert!(
        table.stdout.contains(
            "shop.c-1a2b3c.kyma.ondemand.com  (VirtualService shop/shop-api, from shop/shop-api)"
        ),
        "{}",
        table.stdout
    );
}

/// One inserted rule (three methods, a scope with Markdown in it): the object part lists the
/// rule's fields one per line, not the whole `spec.rules` list; the summary counts one rule and
/// names its methods per region; Markdown and HTML in user strings are escaped.
#[test]
fn inserted_rule_reads_as_one_rule_with_its_fields() {
    const ANCHOR: &str = "      - path: /api/orders/{*}\n";
    let inserted = "      - path: /api/admin/{**}\n        methods: [GET, POST, PUT]\n        extAuth:\n          authorizers: [oauth2-proxy]\n          requiredScopes: [\"*admin*\", \"<b>x</b>\"]\n";
    let tmp = rendered_then_edited(|s| {
        assert!(s.contains(ANCHOR));
        s.replacen(ANCHOR, &format!("{inserted}{ANCHOR}"), 1)
    });
    let text = diff(tmp.path(), "text");
    assert_eq!(text.code, 1, "{}", text.stderr);
    let summary = text.stdout.lines().next().unwrap();
    assert!(
        // Effective access, per region of request paths: PUT was unrouted, GET and POST met
        // a later rule, and OPTIONS is now excluded by the inserted rule's path (403).
        summary.contains("1 request region opened (PUT)")
            && summary.contains("1 request region weakened (GET, POST)"),
        "{summary}"
    );
    let fields: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("      spec."))
        .collect();
    assert!(
        !fields
            .iter()
            .any(|l| l.trim_start().starts_with("spec.rules:")),
        "the whole list on one line:\n{}",
        text.stdout
    );
    assert!(
        fields
            .iter()
            .any(|l| l.trim() == "spec.rules[1].path: (absent) → /api/admin/{**}"),
        "{}",
        text.stdout
    );
    assert!(
        fields.len() < 20,
        "one line per changed field:\n{}",
        text.stdout
    );
    let md = diff(tmp.path(), "markdown").stdout;
    assert!(md.contains("\\*admin\\*"), "{md}");
    // Outside code blocks (the unified diff is fenced and renders literally).
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") || l.starts_with("- "))
    {
        assert!(
            !line.contains("<b>") && !line.contains(" *admin*"),
            "{line}"
        );
        assert!(!line.contains("[\"*admin*"), "{line}");
    }
    assert!(md.contains("1 request region opened (PUT)"), "{md}");
}
