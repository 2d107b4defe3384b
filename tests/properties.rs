//! Property tests over generated valid specs (proptest).
//!
//! The generator builds specs that must be valid with no finding at all: identity providers
//! (SAP Cloud Identity Services issuers with a derived jwksUri, other issuers with an explicit
//! one, optional `fromHeaders`/`fromParams`), oauth2-proxy and external authorizers,
//! workloads with short, FQDN and wildcard hosts, and rules with `noAuth`, `jwt` (one or
//! several providers, shorthand or alternative authorizations) and `extAuth` (with and without
//! restrictions). Rule paths start with distinct literal segments, so no rule can conflict with
//! another; an optional last rule `/*` catches the rest. Free text — header and cookie values,
//! token prefixes, scopes, audiences, authorizer check headers — comes from a strategy full of
//! YAML syntax: `: `, `#`, `{{`, `---`, quotes, line breaks, indicators, YAML 1.1 booleans.
//! Half of the specs are written as block YAML, half as JSON (a YAML flow document).
//!
//! For every spec:
//! - it compiles with no diagnostic, and render succeeds — which means every emitted object
//!   passed its output schema (render parses each file back and validates it before anything
//!   is written);
//! - every output file parses again with `kexpose::yaml::parse`, one document at a time;
//! - render is deterministic: a second compile gives the same bytes;
//! - render is idempotent: after `write::write`, `write::compare` reports OUT clean (what
//!   `render --check` checks), and a second `write` changes nothing;
//! - every workload has exactly one APIRule, at `apirules/<namespace>/<name>.yaml`, holding its
//!   rules in spec order (count, paths, methods, access kind);
//! - no spec string escapes its scalar: every free-text string appears as one whole scalar
//!   exactly where it belongs (header value, cookie value, scope, audience, prefix, check
//!   header), and none appears as a mapping key anywhere. That the outputs have no keys beyond
//!   their schema's is covered by the schemas themselves: every object of the output schemas
//!   in `schemas/` has `additionalProperties: false` (except user-keyed maps: labels, request
//!   headers and cookies, check headers, extraArgs), and render validates every file.
//!
//! Cases: `PROPTEST_CASES` (default 64 here, to suit a shared 2-core CI machine).

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

const DOMAIN: &str = "c-1a2b3c.kyma.ondemand.com";

/// Free text as a user might write it, and as an attacker might: YAML syntax everywhere.
fn free_text() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "a: b",
        "# not a comment",
        "{{ .Values.secret }}",
        "{{",
        "---",
        "...",
        "--- |\n  x",
        "it's \"quoted\"",
        "'single'",
        "\"double\"",
        "line1\nline2",
        "line\r\nbreak",
        "trailing newline\n",
        "on",
        "yes",
        "no",
        "true",
        "null",
        "~",
        "0755",
        "1e3",
        "0x1F",
        "[a, {b: c}]",
        "{a: b}",
        "*alias",
        "&anchor",
        "!tag",
        "%directive",
        "@at",
        "`tick`",
        "|",
        ">-",
        "- item",
        "? key",
        "key:",
        " leading space",
        "trailing space ",
        "tab\tinside",
        "back\\slash",
        "é ünïcödé ✓",
        "\u{feff}bom",
        "<<",
    ]);
    prop_oneof![
        3 => fixed.prop_map(str::to_string),
        2 => "[ -~]{1,24}",
        1 => "[a-z:#{}'\" \n-]{1,16}",
    ]
    // The checks reject empty and whitespace-only scopes and audiences.
    .prop_filter("not blank", |s| !s.trim().is_empty())
}

/// Free text accepted where oauth2-proxy reads it: no `{{`, no line break (the checks refuse
/// them), no comma or quote (oauth2-proxy splits list flags as CSV).
fn audience_text() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.:/_-]{0,15}"
}

/// A rule as its APIRule must show it: path, methods, access kind.
type ExpectedRule = (String, Vec<String>, &'static str);

/// What the test needs to know about a generated spec besides the spec itself.
#[derive(Debug, Clone, Default)]
struct Expect {
    /// (file, JSON pointer, the string that must be there).
    strings: Vec<(String, String, String)>,
    /// Every free-text string generated.
    free: BTreeSet<String>,
    /// Workload → (file, [(path, methods, access kind)]).
    apirules: Vec<(String, Vec<ExpectedRule>)>,
}

#[derive(Debug, Clone)]
struct Idp {
    ias: bool,
    prefix: Option<String>,
    param: bool,
}

#[derive(Debug, Clone)]
struct Authz {
    oauth2: bool,
    /// oauth2-proxy: index of its identity provider.
    idp: usize,
    audiences: Vec<String>,
    add: Vec<String>,
}

#[derive(Debug, Clone)]
enum Access {
    NoAuth,
    /// identity providers, shorthand (scopes, audiences) or alternatives.
    Jwt {
        idps: Vec<usize>,
        list: bool,
        authorizations: Vec<(Vec<String>, Vec<String>)>,
        shorthand: bool,
    },
    /// authorizers, extra identity providers, required scopes.
    ExtAuth {
        authorizers: Vec<usize>,
        idps: Vec<usize>,
        scopes: Vec<String>,
    },
}

#[derive(Debug, Clone)]
struct RuleGen {
    suffix: &'static str,
    methods: Vec<&'static str>,
    access: Access,
    headers: Vec<String>,
    cookies: Vec<String>,
    service: Option<u16>,
    timeout: Option<u16>,
}

#[derive(Debug, Clone)]
struct WorkloadGen {
    namespace: usize,
    host: usize,
    timeout: Option<u16>,
    cors: bool,
    rules: Vec<RuleGen>,
    catch_all: Option<Access>,
}

#[derive(Debug, Clone)]
struct SpecGen {
    idps: Vec<Idp>,
    authorizers: Vec<Authz>,
    workloads: Vec<WorkloadGen>,
    manage_namespaces: Option<bool>,
    metadata_name: bool,
    json: bool,
}

fn idp() -> impl Strategy<Value = Idp> {
    (any::<bool>(), prop::option::of(free_text()), any::<bool>()).prop_map(
        |(ias, prefix, param)| Idp {
            ias,
            param: param && prefix.is_none(),
            prefix,
        },
    )
}

fn authorizer(n_idps: usize) -> impl Strategy<Value = Authz> {
    (
        any::<bool>(),
        0..n_idps,
        prop::collection::vec(audience_text(), 0..3),
        prop::collection::vec(free_text(), 0..3),
    )
        .prop_map(|(oauth2, idp, audiences, add)| Authz {
            oauth2,
            idp,
            audiences: if oauth2 { audiences } else { Vec::new() },
            add,
        })
}

fn subset(n: usize, min: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::sample::subsequence((0..n).collect::<Vec<_>>(), min.min(n)..=n)
}

fn access(n_idps: usize, n_auth: usize) -> BoxedStrategy<Access> {
    let jwt = (
        subset(n_idps, 1),
        any::<bool>(),
        prop::collection::vec(
            (
                prop::collection::vec(free_text(), 0..3),
                prop::collection::vec(free_text(), 0..3),
            ),
            1..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(idps, list, authorizations, shorthand)| Access::Jwt {
            list: list || idps.len() > 1,
            idps,
            // The shorthand is one authorization; an empty one (no scope, no audience) means
            // no `authorizations` at all.
            authorizations: if shorthand {
                authorizations.into_iter().take(1).collect()
            } else {
                authorizations
                    .into_iter()
                    .filter(|(s, a)| !s.is_empty() || !a.is_empty())
                    .collect()
            },
            shorthand,
        });
    let mut options: Vec<(u32, BoxedStrategy<Access>)> =
        vec![(1, Just(Access::NoAuth).boxed()), (2, jwt.boxed())];
    if n_auth > 0 {
        let ext = (
            subset(n_auth, 1),
            subset(n_idps, 0),
            prop::collection::vec(free_text(), 0..3),
        )
            .prop_map(|(authorizers, idps, scopes)| Access::ExtAuth {
                authorizers,
                idps,
                scopes,
            });
        options.push((2, ext.boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

const SUFFIXES: [&str; 6] = ["", "/{**}", "/x/{*}", "/{*}/y", "/a-b.c~d", "/{*}/{**}"];
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

fn rule(n_idps: usize, n_auth: usize) -> impl Strategy<Value = RuleGen> {
    (
        prop::sample::select(SUFFIXES.to_vec()),
        prop::sample::subsequence(METHODS.to_vec(), 1..=3),
        access(n_idps, n_auth),
        prop::collection::vec(free_text(), 0..3),
        prop::collection::vec(free_text(), 0..2),
        prop::option::of(1u16..=65535),
        prop::option::of(1u16..=3900),
    )
        .prop_map(
            |(suffix, methods, access, headers, cookies, service, timeout)| RuleGen {
                suffix,
                methods,
                access,
                headers,
                cookies,
                service,
                timeout,
            },
        )
}

fn workload(n_idps: usize, n_auth: usize) -> impl Strategy<Value = WorkloadGen> {
    (
        0usize..3,
        0usize..3,
        prop::option::of(1u16..=3900),
        any::<bool>(),
        prop::collection::vec(rule(n_idps, n_auth), 1..5),
        prop::option::of(access(n_idps, n_auth)),
    )
        .prop_map(
            |(namespace, host, timeout, cors, rules, catch_all)| WorkloadGen {
                namespace,
                host,
                timeout,
                cors,
                rules,
                // A public catch-all earns the `noauth-catch-all` warning: keep it protected.
                catch_all: catch_all.filter(|a| !matches!(a, Access::NoAuth)),
            },
        )
}

fn spec_gen() -> impl Strategy<Value = SpecGen> {
    prop::collection::vec(idp(), 1..4)
        // One rule's providers must not read tokens from headers and from parameters at
        // once: the controller rejects the mixture (`identity-provider-token-location`).
        .prop_map(|mut idps| {
            if idps.iter().any(|p| p.prefix.is_some()) {
                idps.iter_mut().for_each(|p| p.param = false);
            }
            idps
        })
        .prop_flat_map(|idps| {
            let n_idps = idps.len();
            (Just(idps), prop::collection::vec(authorizer(n_idps), 0..4))
        })
        .prop_flat_map(|(idps, authorizers)| {
            let (n_idps, n_auth) = (idps.len(), authorizers.len());
            (
                Just(idps),
                Just(authorizers),
                prop::collection::vec(workload(n_idps, n_auth), 1..5),
                prop::option::of(any::<bool>()),
                any::<bool>(),
                any::<bool>(),
            )
        })
        .prop_map(
            |(idps, authorizers, workloads, manage_namespaces, metadata_name, json)| SpecGen {
                idps,
                authorizers,
                workloads,
                manage_namespaces,
                metadata_name,
                json,
            },
        )
}

fn idp_name(i: usize) -> String {
    format!("idp{i}")
}

fn authorizer_name(i: usize, a: &Authz) -> String {
    if a.oauth2 && i == 0 {
        "oauth2-proxy".into()
    } else if a.oauth2 {
        format!("auth{i}")
    } else {
        format!("ext{i}")
    }
}

fn issuer(i: usize, p: &Idp) -> String {
    if p.ias {
        format!("https://tenant{i}.accounts.ondemand.com")
    } else {
        format!("https://login{i}.example.org")
    }
}

/// Build the spec as JSON, and what the output must hold.
fn build(g: &SpecGen) -> (Value, Expect) {
    let mut ex = Expect::default();
    let idps: Vec<Value> = g
        .idps
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut o = Map::new();
            o.insert("name".into(), json!(idp_name(i)));
            o.insert("issuer".into(), json!(issuer(i, p)));
            if !p.ias {
                o.insert(
                    "jwksUri".into(),
                    json!(format!("https://login{i}.example.org/keys")),
                );
            }
            if let Some(prefix) = &p.prefix {
                ex.free.insert(prefix.clone());
                o.insert(
                    "fromHeaders".into(),
                    json!([{"name": format!("X-Token-{i}"), "prefix": prefix}]),
                );
            } else if p.param {
                o.insert("fromParams".into(), json!([format!("token{i}")]));
            }
            Value::Object(o)
        })
        .collect();
    let authorizers: Vec<Value> = g
        .authorizers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut o = Map::new();
            o.insert("name".into(), json!(authorizer_name(i, a)));
            if a.oauth2 {
                o.insert("type".into(), json!("oauth2-proxy"));
                o.insert("identityProvider".into(), json!(idp_name(a.idp)));
                if !a.audiences.is_empty() {
                    o.insert("audiences".into(), json!(a.audiences));
                }
            } else {
                o.insert("type".into(), json!("external"));
                o.insert(
                    "service".into(),
                    json!(format!("ext{i}.ext.svc.cluster.local")),
                );
                o.insert("port".into(), json!(8000 + i));
                o.insert("timeout".into(), json!(format!("{}s", i + 1)));
            }
            if !a.add.is_empty() {
                let add: Map<String, Value> = a
                    .add
                    .iter()
                    .enumerate()
                    .map(|(k, v)| (format!("x-add-{k}"), json!(v)))
                    .collect();
                for (k, v) in a.add.iter().enumerate() {
                    ex.free.insert(v.clone());
                    ex.strings.push((
                        "istio/authorizers.yaml".into(),
                        format!("/spec/config/authorizers/{i}/headers/inCheck/add/x-add-{k}"),
                        v.clone(),
                    ));
                }
                o.insert(
                    "headers".into(),
                    json!({"inCheck": {"include": ["authorization", "cookie"], "add": add}}),
                );
            }
            Value::Object(o)
        })
        .collect();

    let mut hosts_used = BTreeSet::new();
    let workloads: Vec<Value> = g
        .workloads
        .iter()
        .enumerate()
        .map(|(w, wl)| {
            let name = format!("w{w}");
            let namespace = format!("ns{}", wl.namespace);
            // Hosts: short, FQDN and wildcard; unique per workload.
            let host = match wl.host {
                0 => format!("h{w}"),
                1 => format!("h{w}.example.com"),
                _ => format!("*.h{w}.example.com"),
            };
            assert!(hosts_used.insert(host.clone()));
            let file = format!("apirules/{namespace}/{name}.yaml");
            let mut rules = Vec::new();
            let mut expected_rules = Vec::new();
            let all: Vec<(String, &RuleGen)> = wl
                .rules
                .iter()
                .enumerate()
                .map(|(r, rule)| (format!("/r{r}{}", rule.suffix), rule))
                .collect();
            let mut push = |r: usize,
                            path: String,
                            methods: Vec<&str>,
                            access: &Access,
                            rule: Option<&RuleGen>,
                            ex: &mut Expect| {
                let mut methods: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
                if wl.cors {
                    methods.push("OPTIONS".into());
                }
                let mut o = Map::new();
                o.insert("path".into(), json!(path));
                o.insert("methods".into(), json!(methods));
                let kind = add_access(&mut o, access, g, &file, r, ex);
                if let Some(rule) = rule {
                    let mut request = Map::new();
                    if !rule.headers.is_empty() {
                        let h: Map<String, Value> = rule
                            .headers
                            .iter()
                            .enumerate()
                            .map(|(k, v)| (format!("X-H{k}"), json!(v)))
                            .collect();
                        for (k, v) in rule.headers.iter().enumerate() {
                            ex.free.insert(v.clone());
                            ex.strings.push((
                                file.clone(),
                                format!("/spec/rules/{r}/request/headers/X-H{k}"),
                                v.clone(),
                            ));
                        }
                        request.insert("headers".into(), Value::Object(h));
                    }
                    if !rule.cookies.is_empty() {
                        let c: Map<String, Value> = rule
                            .cookies
                            .iter()
                            .enumerate()
                            .map(|(k, v)| (format!("c{k}"), json!(v)))
                            .collect();
                        for (k, v) in rule.cookies.iter().enumerate() {
                            ex.free.insert(v.clone());
                            ex.strings.push((
                                file.clone(),
                                format!("/spec/rules/{r}/request/cookies/c{k}"),
                                v.clone(),
                            ));
                        }
                        request.insert("cookies".into(), Value::Object(c));
                    }
                    if !request.is_empty() {
                        o.insert("request".into(), Value::Object(request));
                    }
                    if let Some(port) = rule.service {
                        o.insert(
                            "service".into(),
                            json!({"name": format!("backend{r}"), "namespace": "backends", "port": port}),
                        );
                    }
                    if let Some(t) = rule.timeout {
                        o.insert("timeout".into(), json!(t));
                    }
                }
                expected_rules.push((path, methods, kind));
                rules.push(Value::Object(o));
            };
            for (r, (path, rule)) in all.iter().enumerate() {
                push(r, path.clone(), rule.methods.clone(), &rule.access, Some(rule), &mut ex);
            }
            if let Some(access) = &wl.catch_all {
                push(all.len(), "/*".into(), vec!["GET"], access, None, &mut ex);
            }
            ex.apirules.push((file, expected_rules));
            let mut o = Map::new();
            o.insert("name".into(), json!(name));
            o.insert("namespace".into(), json!(namespace));
            o.insert("host".into(), json!(host));
            o.insert("service".into(), json!({"port": 8080}));
            if let Some(t) = wl.timeout {
                o.insert("timeout".into(), json!(t));
            }
            if wl.cors {
                o.insert(
                    "cors".into(),
                    json!({"allowOrigins": [{"exact": "https://app.example.com"}], "allowMethods": ["GET", "OPTIONS"], "maxAge": 60}),
                );
            }
            o.insert("rules".into(), Value::Array(rules));
            Value::Object(o)
        })
        .collect();

    let mut spec = Map::new();
    spec.insert("apiVersion".into(), json!("kexpose.dev/v1alpha1"));
    spec.insert("kind".into(), json!("Exposure"));
    if g.metadata_name {
        spec.insert("metadata".into(), json!({"name": "prop"}));
    }
    let mut cluster = Map::new();
    cluster.insert("domain".into(), json!(DOMAIN));
    if let Some(m) = g.manage_namespaces {
        cluster.insert("manageNamespaces".into(), json!(m));
    }
    spec.insert("cluster".into(), Value::Object(cluster));
    spec.insert("identityProviders".into(), Value::Array(idps));
    if !authorizers.is_empty() {
        spec.insert("authorizers".into(), Value::Array(authorizers));
    }
    spec.insert("workloads".into(), Value::Array(workloads));
    (Value::Object(spec), ex)
}

/// Write one rule's access into `o`; record the strings it places in the APIRule.
fn add_access(
    o: &mut Map<String, Value>,
    access: &Access,
    g: &SpecGen,
    file: &str,
    r: usize,
    ex: &mut Expect,
) -> &'static str {
    let auths_out = |base: &str, list: &[(Vec<String>, Vec<String>)], ex: &mut Expect| {
        for (n, (scopes, auds)) in list.iter().enumerate() {
            for (k, s) in scopes.iter().enumerate() {
                ex.free.insert(s.clone());
                ex.strings.push((
                    file.to_string(),
                    format!("{base}/authorizations/{n}/requiredScopes/{k}"),
                    s.clone(),
                ));
            }
            for (k, a) in auds.iter().enumerate() {
                ex.free.insert(a.clone());
                ex.strings.push((
                    file.to_string(),
                    format!("{base}/authorizations/{n}/audiences/{k}"),
                    a.clone(),
                ));
            }
        }
    };
    let prefixes = |base: &str, idps: &[usize], ex: &mut Expect| {
        for (k, i) in idps.iter().enumerate() {
            if let Some(prefix) = &g.idps[*i].prefix {
                ex.strings.push((
                    file.to_string(),
                    format!("{base}/authentications/{k}/fromHeaders/0/prefix"),
                    prefix.clone(),
                ));
            }
        }
    };
    match access {
        Access::NoAuth => {
            o.insert("noAuth".into(), json!(true));
            "noAuth"
        }
        Access::Jwt {
            idps,
            list,
            authorizations,
            shorthand,
        } => {
            let mut j = Map::new();
            if *list {
                j.insert(
                    "identityProviders".into(),
                    json!(idps.iter().map(|i| idp_name(*i)).collect::<Vec<_>>()),
                );
            } else {
                j.insert("identityProvider".into(), json!(idp_name(idps[0])));
            }
            if *shorthand {
                if let Some((scopes, auds)) = authorizations.first() {
                    if !scopes.is_empty() {
                        j.insert("requiredScopes".into(), json!(scopes));
                    }
                    if !auds.is_empty() {
                        j.insert("audiences".into(), json!(auds));
                    }
                }
                let real: Vec<_> = authorizations
                    .iter()
                    .filter(|(s, a)| !s.is_empty() || !a.is_empty())
                    .cloned()
                    .collect();
                auths_out(&format!("/spec/rules/{r}/jwt"), &real, ex);
            } else if !authorizations.is_empty() {
                let list: Vec<Value> = authorizations
                    .iter()
                    .map(|(s, a)| {
                        let mut m = Map::new();
                        if !s.is_empty() {
                            m.insert("requiredScopes".into(), json!(s));
                        }
                        if !a.is_empty() {
                            m.insert("audiences".into(), json!(a));
                        }
                        Value::Object(m)
                    })
                    .collect();
                j.insert("authorizations".into(), Value::Array(list));
                auths_out(&format!("/spec/rules/{r}/jwt"), authorizations, ex);
            }
            prefixes(&format!("/spec/rules/{r}/jwt"), idps, ex);
            o.insert("jwt".into(), Value::Object(j));
            "jwt"
        }
        Access::ExtAuth {
            authorizers,
            idps,
            scopes,
        } => {
            let mut e = Map::new();
            e.insert(
                "authorizers".into(),
                json!(
                    authorizers
                        .iter()
                        .map(|i| authorizer_name(*i, &g.authorizers[*i]))
                        .collect::<Vec<_>>()
                ),
            );
            // Restrictions need an identity provider: the listed oauth2-proxy authorizers'
            // ones, or those named here.
            let via_authorizers = authorizers.iter().any(|i| g.authorizers[*i].oauth2);
            let restricted = !scopes.is_empty() && (via_authorizers || !idps.is_empty());
            if restricted {
                if !idps.is_empty() {
                    e.insert(
                        "identityProviders".into(),
                        json!(idps.iter().map(|i| idp_name(*i)).collect::<Vec<_>>()),
                    );
                }
                e.insert("requiredScopes".into(), json!(scopes));
                auths_out(
                    &format!("/spec/rules/{r}/extAuth/restrictions"),
                    &[(scopes.clone(), Vec::new())],
                    ex,
                );
            }
            o.insert("extAuth".into(), Value::Object(e));
            "extAuth"
        }
    }
}

/// Every output file, parsed back one document at a time.
fn parse_outputs(
    outputs: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<Value>>, String> {
    let mut parsed = BTreeMap::new();
    for (path, text) in outputs {
        let mut docs = Vec::new();
        for doc in kexpose::yaml::split_documents(text) {
            let src = kexpose::source::SourceFile::new(path.as_str(), doc);
            let d = kexpose::yaml::parse(&src, false)
                .map_err(|d| format!("{path} does not parse back: {d:?}"))?;
            docs.push(d.value);
        }
        if docs.is_empty() {
            return Err(format!("{path} holds no document"));
        }
        parsed.insert(path.clone(), docs);
    }
    Ok(parsed)
}

/// Every mapping key in a value (with the pointer of its map).
fn keys(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push((at.to_string(), k.clone()));
                keys(x, &format!("{at}/{}", kexpose::yaml::escape_token(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                keys(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn check(g: &SpecGen) -> Result<(), TestCaseError> {
    let (spec, ex) = build(g);
    let text = if g.json {
        serde_json::to_string(&spec).expect("JSON")
    } else {
        kexpose::yaml::emit(&spec, false).expect("YAML")
    };
    let compile = || {
        kexpose::compile(
            kexpose::source::SourceFile::new("kexpose.yaml", text.as_str()),
            "kexpose.yaml",
            &kexpose::render::Templates::builtin(),
            &kexpose::diag::Policy::default(),
        )
    };
    let c = compile();
    // Random rule lists legitimately shadow methods (a warning about what the controller's
    // policies deny); every other finding means the generator left the valid space.
    let codes: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.code != kexpose::diag::Code::ApiruleMethodShadowed)
        .map(|d| {
            format!(
                "{} {}: {}",
                d.code.as_str(),
                d.span.map(|s| s.to_string()).unwrap_or_default(),
                d.message
            )
        })
        .collect();
    prop_assert!(codes.is_empty(), "diagnostics {codes:#?}\nspec:\n{text}");
    let outputs = c.outputs.clone().expect("outputs");

    // The built-in writer gives the bytes of the template path (the built-in templates given
    // as overrides: template engine, re-read, output schema, canonical re-emit), for every
    // target that changes what is written. The template path checks the output schemas, so
    // this also validates the built-in output against them.
    let through_templates = kexpose::render::Templates::from_texts(
        kexpose::render::OUTPUTS
            .iter()
            .map(|o| (o.template.to_string(), o.text.to_string()))
            .collect(),
    );
    use kexpose::plan::{ReleaseObjects, Target};
    let targets = [
        Target::default(),
        Target::new(
            false,
            Some(ReleaseObjects::Argocd),
            Some("gitops".into()),
            Some(("shop".into(), "--instance")),
        )
        .expect("target"),
        Target::new(false, Some(ReleaseObjects::Flux), None, None).expect("target"),
        Target::new(true, None, None, Some(("a.b".into(), "--instance"))).expect("target"),
    ];
    for target in &targets {
        let run = |templates: &kexpose::render::Templates| {
            kexpose::compile_for(
                kexpose::source::SourceFile::new("kexpose.yaml", text.as_str()),
                "kexpose.yaml",
                templates,
                &kexpose::diag::Policy::default(),
                target,
            )
        };
        let (built, templated) = (
            run(&kexpose::render::Templates::builtin()),
            run(&through_templates),
        );
        prop_assert!(
            templated.outputs.is_some(),
            "template path: {:?}",
            templated
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        );
        prop_assert_eq!(&built.outputs, &templated.outputs, "{:?}", target);
        prop_assert_eq!(&built.objects, &templated.objects, "{:?}", target);
    }

    // Parses back.
    let parsed = parse_outputs(&outputs).map_err(TestCaseError::fail)?;

    // Deterministic.
    let again = compile().outputs.expect("outputs");
    prop_assert!(again == outputs, "a second render differs");

    // Idempotent: write, then compare is clean; a second write changes nothing.
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    kexpose::write::write(&out, &outputs).map_err(TestCaseError::fail)?;
    let report = kexpose::write::compare(&out, &outputs).map_err(TestCaseError::fail)?;
    prop_assert!(
        report.is_clean(),
        "compare after write: {:?}",
        report.changes
    );
    let second = kexpose::write::write(&out, &outputs).map_err(TestCaseError::fail)?;
    prop_assert!(second.is_clean(), "second write: {:?}", second.changes);

    // One APIRule per workload, rules in spec order.
    let apirules: Vec<&String> = outputs
        .keys()
        .filter(|p| p.starts_with("apirules/"))
        .collect();
    prop_assert_eq!(
        apirules.len(),
        ex.apirules.len(),
        "APIRule files: {:?}",
        apirules
    );
    for (file, rules) in &ex.apirules {
        let docs = parsed
            .get(file)
            .ok_or_else(|| TestCaseError::fail(format!("no {file}")))?;
        prop_assert_eq!(docs.len(), 1);
        let got = docs[0]["spec"]["rules"].as_array().expect("rules");
        prop_assert_eq!(got.len(), rules.len(), "{} rules", file);
        for (i, (path, methods, kind)) in rules.iter().enumerate() {
            prop_assert_eq!(&got[i]["path"], &json!(path), "{} rule {}", file, i);
            prop_assert_eq!(&got[i]["methods"], &json!(methods), "{} rule {}", file, i);
            prop_assert!(got[i].get(*kind).is_some(), "{file} rule {i}: no {kind}");
        }
    }

    // Free text stays one string, at its place.
    for (file, pointer, want) in &ex.strings {
        let docs = parsed
            .get(file)
            .ok_or_else(|| TestCaseError::fail(format!("no {file}")))?;
        prop_assert_eq!(
            docs[0].pointer(pointer),
            Some(&Value::String(want.clone())),
            "{} {}",
            file,
            pointer
        );
    }
    // … and never becomes a key.
    for (file, docs) in &parsed {
        for doc in docs {
            let mut all = Vec::new();
            keys(doc, "", &mut all);
            for (at, k) in all {
                // The keys the generator itself writes (header, cookie and check-header names)
                // may coincide with a random free text.
                let own = ["X-H", "c", "x-add-"].iter().any(|p| {
                    k.strip_prefix(p)
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                });
                prop_assert!(
                    own || !ex.free.contains(&k),
                    "{file}: free text `{k}` is a key at {at}"
                );
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn generated_valid_specs_render_validated_deterministic_idempotent_and_string_safe() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 1024,
        ..Config::default()
    });
    let result = runner.run(&spec_gen(), |g| check(&g));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The generator itself: the strategies produce every access kind, host kind and both
/// identity-provider kinds (a generator that silently stopped producing one would make the
/// property test above vacuous).
#[test]
fn the_generator_covers_every_kind() {
    let mut runner = TestRunner::deterministic();
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let g = spec_gen().new_tree(&mut runner).expect("a tree").current();
        for p in &g.idps {
            seen.insert(if p.ias { "ias" } else { "other-idp" });
        }
        for a in &g.authorizers {
            seen.insert(if a.oauth2 { "oauth2-proxy" } else { "external" });
        }
        for w in &g.workloads {
            seen.insert(["short", "fqdn", "wildcard"][w.host]);
            for r in &w.rules {
                seen.insert(match r.access {
                    Access::NoAuth => "noAuth",
                    Access::Jwt { .. } => "jwt",
                    Access::ExtAuth { .. } => "extAuth",
                });
            }
        }
        seen.insert(if g.json { "json" } else { "yaml" });
    }
    for kind in [
        "ias",
        "other-idp",
        "oauth2-proxy",
        "external",
        "short",
        "fqdn",
        "wildcard",
        "noAuth",
        "jwt",
        "extAuth",
        "json",
        "yaml",
    ] {
        assert!(seen.contains(kind), "the generator never produced {kind}");
    }
}

// ------------------------------------------------------------------------------------------
// Path conflicts: the indexed check against its definition.

/// A path pattern as segments: literals (including the empty one), `{*}` and `{**}`.
fn pattern_segments() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(
        prop::sample::select(vec!["", "a", "b", "ab", "{*}", "{**}"]),
        1..7,
    )
}

fn pattern_text(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{s}")).collect()
}

/// A request path the pattern matches: `{*}` becomes one non-empty segment, `{**}` one to
/// three segments.
fn instantiate(segments: &[&str], choices: &[u8]) -> String {
    let mut out = String::new();
    let mut c = choices.iter().cycle().map(|b| usize::from(*b));
    let words = ["x", "y", "a", "ab"];
    for s in segments {
        match *s {
            "{*}" => out.push_str(&format!("/{}", words[c.next().unwrap_or(0) % 4])),
            "{**}" => {
                let n = 1 + c.next().unwrap_or(0) % 3;
                for _ in 0..n {
                    out.push_str(&format!("/{}", words[c.next().unwrap_or(0) % 4]));
                }
            }
            lit => out.push_str(&format!("/{lit}")),
        }
    }
    out
}

/// The conflict check indexes the rules of a workload (`CoverIndex`) instead of comparing
/// every pair. For random sequences of patterns (up to six segments, `/*` included) it must
/// name the same earliest covering rule as comparing with every earlier one; and `covers`
/// itself must be sound: a request that the covered pattern matches, the covering one matches.
#[test]
fn the_indexed_conflict_check_agrees_with_pairwise_covers() {
    use kexpose::paths::{CoverIndex, PathPattern};
    let sequence = prop::collection::vec(
        prop_oneof![
            9 => pattern_segments().prop_map(|s| pattern_text(&s)),
            1 => Just("/*".to_string()),
        ],
        1..30,
    );
    let mut runner = TestRunner::new(Config {
        cases: cases() * 4,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(
        &(sequence, prop::collection::vec(any::<u8>(), 1..16)),
        |(paths, choices)| {
            let patterns: Vec<(String, PathPattern)> = paths
                .iter()
                .filter_map(|p| PathPattern::parse(p).ok().map(|x| (p.clone(), x)))
                .collect();
            let mut index = CoverIndex::default();
            for (i, (text, b)) in patterns.iter().enumerate() {
                let naive = patterns[..i].iter().position(|(_, a)| a.covers(b));
                prop_assert_eq!(
                    index.earliest_covering(b),
                    naive,
                    "{} after {:?}",
                    text,
                    patterns[..i].iter().map(|(t, _)| t).collect::<Vec<_>>()
                );
                index.insert(b, i);
                // Soundness of `covers` on concrete requests.
                let segments: Vec<&str> = if text == "/*" {
                    vec!["{**}"]
                } else {
                    text.split('/').skip(1).collect()
                };
                let request = instantiate(&segments, &choices);
                prop_assert!(
                    b.matches(&request),
                    "{} does not match its own {}",
                    text,
                    request
                );
                for (a_text, a) in &patterns[..i] {
                    if a.covers(b) {
                        prop_assert!(
                            a.matches(&request),
                            "{} covers {} but does not match {}",
                            a_text,
                            text,
                            request
                        );
                    }
                }
            }
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
