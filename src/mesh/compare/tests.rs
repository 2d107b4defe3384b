use super::*;
use crate::mesh::{Settings, translate};
use proptest::prelude::*;
use serde_json::{Value, json};

const HOST: &str = "app.example.com";

#[derive(Debug, Clone, Copy)]
enum S {
    Public,
    Jwt,
    JwtScope,
    Ext,
}

fn rule(path: &str, methods: &[&str], s: S) -> Value {
    let auth =
        json!([{ "issuer": "https://idp.example.com", "jwksUri": "https://idp.example.com/jwks" }]);
    let mut r = json!({ "path": path, "methods": methods });
    match s {
        S::Public => r["noAuth"] = true.into(),
        S::Jwt => r["jwt"] = json!({ "authentications": auth }),
        S::JwtScope => {
            r["jwt"] = json!({ "authentications": auth,
                               "authorizations": [{ "requiredScopes": ["read"] }] })
        }
        S::Ext => r["extAuth"] = json!({ "authorizers": ["oauth2-proxy"] }),
    }
    r
}

fn mesh(rules: Vec<Value>) -> Mesh {
    let apirule = json!({
        "metadata": { "name": "app", "namespace": "ns" },
        "spec": { "gateway": "kyma-system/kyma-gateway", "hosts": [HOST],
                  "service": { "name": "app", "port": 80 }, "rules": rules }
    });
    translate(&[("APIRule", apirule)], &Settings::default())
}

#[test]
fn deleting_a_protected_rule_above_a_public_catch_all_is_weakening() {
    let before = mesh(vec![
        rule("/admin/{**}", &["GET"], S::Jwt),
        rule("/*", &["GET"], S::Public),
    ]);
    let after = mesh(vec![rule("/*", &["GET"], S::Public)]);
    let c = compare(&before, &after);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].kind, ChangeKind::BecamePublic);
    assert!(c[0].weakening);
    assert_eq!(c[0].example.url, "https://app.example.com/admin/x");
    assert_eq!(c[0].region.matches, ["/admin/{**}"]);
    assert_eq!(c[0].before.summary(), "jwt (https://idp.example.com)");
    assert_eq!(c[0].after.summary(), "public");
}

#[test]
fn health_to_one_segment_wildcard_opens_every_one_segment_path() {
    let before = mesh(vec![
        rule("/health", &["GET"], S::Public),
        rule("/*", &["GET"], S::Ext),
    ]);
    let after = mesh(vec![
        rule("/{*}", &["GET"], S::Public),
        rule("/*", &["GET"], S::Ext),
    ]);
    let c = compare(&before, &after);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0].kind, ChangeKind::BecamePublic);
    assert_eq!(c[0].example.url, "https://app.example.com/x");
    assert_eq!(c[0].region.matches, ["/{*}"]);
    assert_eq!(c[0].region.not_matches, ["/health"]);
    assert_eq!(c[0].before.summary(), "extAuth oauth2-proxy");
}

#[test]
fn inserting_a_public_rule_above_a_protected_catch_all_is_weakening() {
    let before = mesh(vec![rule("/*", &["GET"], S::Jwt)]);
    let after = mesh(vec![
        rule("/docs/{**}", &["GET"], S::Public),
        rule("/*", &["GET"], S::Jwt),
    ]);
    let c = compare(&before, &after);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert!(c[0].weakening && c[0].kind == ChangeKind::BecamePublic);
    assert_eq!(c[0].example.url, "https://app.example.com/docs/x");
}

#[test]
fn reordering_is_caught_and_narrowing_is_not_weakening() {
    let a = mesh(vec![
        rule("/a/{*}", &["GET"], S::JwtScope),
        rule("/a/{**}", &["GET"], S::Jwt),
    ]);
    let b = mesh(vec![
        rule("/a/{**}", &["GET"], S::Jwt),
        rule("/a/{*}", &["GET"], S::JwtScope),
    ]);
    let c = compare(&a, &b);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!((c[0].kind, c[0].weakening), (ChangeKind::Weakened, true));
    let back = compare(&b, &a);
    assert_eq!(
        (back[0].kind, back[0].weakening),
        (ChangeKind::Narrowed, false)
    );
}

#[test]
fn method_shadowing_in_the_docs_example() {
    // Adding the POST-only jwt rule above `POST, GET /anything/{**}` closes GET paths too.
    let before = mesh(vec![rule("/anything/{**}", &["POST", "GET"], S::Public)]);
    let after = mesh(vec![
        rule("/anything/{*}/one", &["POST"], S::Jwt),
        rule("/anything/{**}", &["POST", "GET"], S::Public),
    ]);
    let c = compare(&before, &after);
    let get: Vec<&Change> = c.iter().filter(|c| c.method == "GET").collect();
    assert_eq!(get.len(), 1, "{c:#?}");
    assert_eq!(get[0].example.url, "https://app.example.com/anything/x/one");
    assert_eq!(
        (get[0].kind, &get[0].after),
        (ChangeKind::Removed, &Verdict::Forbidden)
    );
}

const PATHS: [&str; 9] = [
    "/a",
    "/a/{*}",
    "/a/{**}",
    "/{*}",
    "/*",
    "/b/{*}/c",
    "/a/{**}/c",
    "/",
    "/b",
];
const METHODS: [&str; 2] = ["GET", "POST"];

fn arb_rules() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec((0..PATHS.len(), 1..4usize, 0..4usize), 1..5).prop_map(|v| {
        v.into_iter()
            .map(|(p, m, s)| {
                let methods: Vec<&str> = METHODS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| m & (1 << i) != 0)
                    .map(|(_, m)| *m)
                    .collect();
                let s = [S::Public, S::Jwt, S::JwtScope, S::Ext][s];
                rule(PATHS[p], &methods, s)
            })
            .collect()
    })
}

fn arb_path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "c", "", "zz", "q1"]),
        1..5,
    )
    .prop_map(|segs| format!("/{}", segs.join("/")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// The diff's verdict equals evaluating the request before and after.
    #[test]
    fn diff_agrees_with_evaluation(b in arb_rules(), a in arb_rules(),
                                   reqs in prop::collection::vec((0..2usize, arb_path()), 1..12)) {
        let (before, after) = (mesh(b), mesh(a));
        let changes = compare(&before, &after);
        for (m, path) in reqs {
            let method = METHODS[m];
            let vb = before.evaluate(HOST, method, &path).verdict;
            let va = after.evaluate(HOST, method, &path).verdict;
            let hit: Vec<&Change> = changes
                .iter()
                .filter(|c| c.caller == "gateway" && c.method == method && c.region.contains(&path))
                .collect();
            if vb == va {
                prop_assert!(hit.is_empty(), "{method} {path}: unchanged but reported {hit:#?}");
            } else {
                prop_assert_eq!(hit.len(), 1, "{} {}: {:?} → {:?} reported {:#?}", method, path, vb, va, hit);
                prop_assert_eq!(&hit[0].before, &vb);
                prop_assert_eq!(&hit[0].after, &va);
                prop_assert_eq!(hit[0].weakening, va.weakens(&vb));
            }
        }
        for c in &changes {
            // Every example lies in its region and shows the reported change.
            let path = c.example.url.split_once(".com").map(|(_, p)| p).unwrap_or("/");
            if c.caller == "gateway" {
                prop_assert!(c.region.contains(path));
                prop_assert_eq!(&before.evaluate(HOST, &c.method, path).verdict, &c.before);
                prop_assert_eq!(&after.evaluate(HOST, &c.method, path).verdict, &c.after);
            }
        }
    }
}

/// APIRules on several hosts; `shared` ones also route `/shared/{**}` to one Service, each
/// with its own kind of access, so their policies land on the same pods (what the skip of
/// unchanged hosts must respect).
fn multi(rules: &[(Vec<Value>, Option<usize>)]) -> Mesh {
    let objects: Vec<(String, Value)> = rules
        .iter()
        .enumerate()
        .map(|(i, (rules, shared))| {
            let mut rules = rules.clone();
            if let Some(k) = *shared {
                let s = [S::Public, S::Jwt, S::JwtScope, S::Ext][k % 4];
                let mut r = rule("/shared/{**}", &["GET"], s);
                r["service"] = json!({ "name": "shared", "namespace": "ns", "port": 80 });
                rules.insert(0, r);
            }
            let apirule = json!({
                "metadata": { "name": format!("app{i}"), "namespace": "ns" },
                "spec": { "gateway": "kyma-system/kyma-gateway",
                          "hosts": [format!("app{i}.example.com")],
                          "service": { "name": format!("app{i}"), "port": 80 }, "rules": rules }
            });
            ("APIRule".to_string(), apirule)
        })
        .collect();
    translate(&objects, &Settings::default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Skipping the hosts and workloads whose focused mesh did not change reports exactly what
    /// judging every one of them does: some APIRules changed (a rule, or joining or leaving
    /// the shared Service), added or removed, the rest unchanged.
    #[test]
    fn skipping_unchanged_hosts_changes_nothing(
        b in prop::collection::vec((arb_rules(), prop::option::of(0..4usize)), 1..5),
        edits in prop::collection::vec((0..5usize, arb_rules(), 0..4u8), 0..3),
    ) {
        let mut a = b.clone();
        for (i, rules, how) in edits {
            match how {
                0 if !a.is_empty() => { let i = i % a.len(); a[i].0 = rules; }
                1 if !a.is_empty() => {
                    let i = i % a.len();
                    a[i].1 = match a[i].1 { None => Some(i), Some(k) if k < 3 => Some(k + 1), _ => None };
                }
                2 if a.len() > 1 => { a.pop(); }
                _ => a.push((rules, (i % 2 == 0).then_some(i))),
            }
        }
        let (before, after) = (multi(&b), multi(&a));
        let skipped = format!("{:#?}", compare(&before, &after));
        let everything = format!("{:#?}", compare_everything(&before, &after));
        prop_assert_eq!(skipped, everything);
    }
}
