//! The bad-input suite: small specs, each breaking one rule or carrying one hostile input, run
//! through the built binary as `kexpose render SPEC -o OUT --color never`.
//!
//! Cases live in two directories: `tests/bad/` (one case per check) and `tests/hostile/`
//! (YAML syntax errors, documents, duplicate keys, aliases and tags, huge numbers, wrong types,
//! strings that look like YAML structure). Every case file starts with a comment block that
//! says what the run must report:
//!
//! ```yaml
//! # expect: apirule-path-conflict 23:15     one line per diagnostic, errors and warnings
//! # expect: input-too-large -               a finding about the file as a whole (no line:col)
//! # expect: none                            a valid spec: no diagnostic at all
//! # exit: 0                                 only for warning-only or valid specs (default 1)
//! # args: --target istio                    optional: extra arguments to `render`
//! # expect-stderr: credentialsSecret        optional: text stderr must contain (e.g. a hint)
//! # expect-output: FILE POINTER JSON        optional, for valid specs: the value at a JSON
//! #                                         pointer of OUT/FILE (parsed back) equals JSON
//! # bug: what kexpose does wrong            a known kexpose bug: the case states the intended
//! #                                         behaviour and runs only in `known_bugs_are_fixed`
//! ```
//!
//! For each spec the test asserts that the multiset of `(code, line:col)` on stderr equals the
//! `# expect:` lines, the exit code, that nothing was written when the exit code is not 0 (and
//! that the output exists when it is), that every `# expect-output:` value is in OUT exactly
//! (a string that looks like YAML structure stays one string, at its place), and that the
//! binary never panics. What the binary prints (the full rendered diagnostics: message,
//! excerpt, labels, `help:`, summary) is compared with one insta snapshot per case in
//! `tests/snapshots/diagnostics/` (see `docs/development.md` for how to review and accept a
//! change). Inputs that cannot be committed as text (empty, a byte-order mark,
//! CRLF or CR line breaks, not UTF-8, NUL bytes, 10 000 levels of nesting, 20 MB) are
//! generated into a temporary directory. Every mismatch of every case is collected and
//! reported in one run.
//!
//! Generated families mutate `fixtures/rich/kexpose.yaml` (a valid spec using nearly every
//! field) one value at a time: every scalar replaced by a value of the wrong type, every
//! reference made dangling, every name, host, path, gateway and method replaced by strings
//! carrying a line break, `{{`, `---`, `: `, `#` or quotes. Each must be reported at the
//! replaced value. A last family puts the same strings into the free-text fields (header and
//! cookie values, scopes, audiences, CORS headers), where they are valid, and checks that each
//! comes out as the same single string at the matching place of the rendered output.
//!
//! A second test makes sure every code `kexpose codes` lists (except those no spec can
//! trigger) has at least one case, so a new rule without a bad input fails CI.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::cases::{Case, Match, assert_all_pass, assert_all_pass_with_snapshots, parse_header};

const BIN: &str = env!("CARGO_BIN_EXE_kexpose");

/// Codes that no spec can trigger: they report bugs in templates.
const NOT_FROM_A_SPEC: [&str; 2] = ["template-error", "output-schema"];

/// Directories of committed cases, below `tests/`.
const CASE_DIRS: [&str; 2] = ["bad", "hostile"];

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The committed cases of every case directory, sorted by directory and file name.
fn committed_cases() -> Result<Vec<Case>, Vec<String>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for sub in CASE_DIRS {
        let dir = tests_dir().join(sub);
        let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no cases in {}", dir.display());
        for path in paths {
            let name = format!(
                "{sub}/{}",
                path.file_name().expect("file name").to_string_lossy()
            );
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(format!("{name}: cannot read: {e}"));
                    continue;
                }
            };
            match parse_header(&name, path, &text) {
                Ok(c) => cases.push(c),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn committed_or_panic() -> Vec<Case> {
    committed_cases().unwrap_or_else(|errors| {
        panic!("malformed case files:\n{}", errors.join("\n"));
    })
}

// ------------------------------------------------------------------------------------------
// Generated inputs: bytes that cannot be committed as text.

/// An input that is generated rather than committed: its name, what must be reported, and
/// how to write it.
struct Generated {
    name: &'static str,
    expected: &'static [(&'static str, &'static str)],
    exit: i32,
    bug: Option<&'static str>,
    write: fn(&Path) -> std::io::Result<()>,
}

const HEAD: &str = "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\n";

/// A small valid spec (22 lines).
const VALID: &str = "apiVersion: kexpose.dev/v1alpha1
kind: Exposure
cluster:
  domain: c-1a2b3c.kyma.ondemand.com
identityProviders:
  - name: ias
    issuer: https://my-tenant.accounts.ondemand.com
authorizers:
  - name: oauth2-proxy
    type: oauth2-proxy
    identityProvider: ias
workloads:
  - name: httpbin
    namespace: httpbin-system
    host: httpbin
    service: {name: httpbin, port: 8000}
    rules:
      - path: /anything
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
        request: {headers: {X-A: \"a: b # c {{ d }}\\n--- 'e'\"}}
";

fn with_bom(text: &str) -> Vec<u8> {
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

fn nested(open: &str, middle: &str, close: &str, levels: usize) -> String {
    format!(
        "{HEAD}metadata: {}{middle}{}\n",
        open.repeat(levels),
        close.repeat(levels)
    )
}

const GENERATED: &[Generated] = &[
    Generated {
        name: "generated/empty-file.yaml",
        expected: &[("spec-empty", "1:1")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, b""),
    },
    Generated {
        // A Latin-1 `é` (0xE9) where UTF-8 is required: line 4, column 12.
        name: "generated/not-utf8.yaml",
        expected: &[("input-not-utf8", "4:12")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                b"apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\nmetadata:\n  name: caf\xe9\n",
            )
        },
    },
    Generated {
        // One byte over the limit; sparse, so it costs no disk space.
        name: "generated/too-large.yaml",
        expected: &[("input-too-large", "-")],
        exit: 1,
        bug: None,
        write: |p| {
            let f = fs::File::create(p)?;
            f.set_len(kexpose::yaml::MAX_INPUT_BYTES as u64 + 1)
        },
    },
    Generated {
        // 20 MB of real YAML: a valid spec followed by comment lines.
        name: "generated/too-large-20mb.yaml",
        expected: &[("input-too-large", "-")],
        exit: 1,
        bug: None,
        write: |p| {
            let mut text = String::with_capacity(20_100_000);
            text.push_str(VALID);
            while text.len() < 20_000_000 {
                text.push_str(
                    "# padding padding padding padding padding padding padding padding\n",
                );
            }
            fs::write(p, text)
        },
    },
    Generated {
        // A UTF-8 byte-order mark is accepted (kubectl accepts it too).
        name: "generated/bom.yaml",
        expected: &[],
        exit: 0,
        bug: None,
        write: |p| fs::write(p, with_bom(VALID)),
    },
    Generated {
        // Locations after a byte-order mark are not shifted by it.
        name: "generated/bom-then-error.yaml",
        expected: &[("schema-unknown-field", "3:1")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, with_bom(&format!("{HEAD}foo: 1\n"))),
    },
    Generated {
        // A byte-order mark inside the document is an error at its place.
        name: "generated/bom-inside.yaml",
        expected: &[("yaml-syntax", "3:16")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, format!("{HEAD}metadata: {{name\u{feff}: a}}\n")),
    },
    Generated {
        // CRLF line breaks are accepted (`crlf_renders_the_same_bytes_as_lf` in
        // tests/hostile.rs compares the output with the LF spec's).
        name: "generated/crlf.yaml",
        expected: &[],
        exit: 0,
        bug: None,
        write: |p| fs::write(p, VALID.replace('\n', "\r\n")),
    },
    Generated {
        // Lines and columns are right with CRLF line breaks.
        name: "generated/crlf-then-error.yaml",
        expected: &[("name-invalid", "4:9")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                format!("{HEAD}metadata:\n  name: Bad_Name\n  \n").replace('\n', "\r\n"),
            )
        },
    },
    Generated {
        // A lone CR is a line break in YAML: the error is on line 4.
        name: "generated/cr-only-then-error.yaml",
        expected: &[("name-invalid", "4:9")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                format!("{HEAD}metadata:\n  name: Bad_Name\n").replace('\n', "\r"),
            )
        },
    },
    Generated {
        name: "generated/not-utf8-first-byte.yaml",
        expected: &[("input-not-utf8", "1:1")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, [b"\x80", HEAD.as_bytes()].concat()),
    },
    Generated {
        // A multi-byte sequence cut off by the end of the file.
        name: "generated/not-utf8-truncated.yaml",
        expected: &[("input-not-utf8", "4:11")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                [HEAD.as_bytes(), b"metadata:\n  name: ab\xe2\x82"].concat(),
            )
        },
    },
    Generated {
        // An overlong encoding of `/`.
        name: "generated/not-utf8-overlong.yaml",
        expected: &[("input-not-utf8", "4:10")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                [HEAD.as_bytes(), b"metadata:\n  name: a\xc0\xafb\n"].concat(),
            )
        },
    },
    Generated {
        // A UTF-16 surrogate encoded as UTF-8 (CESU-8).
        name: "generated/not-utf8-surrogate.yaml",
        expected: &[("input-not-utf8", "4:10")],
        exit: 1,
        bug: None,
        write: |p| {
            fs::write(
                p,
                [HEAD.as_bytes(), b"metadata:\n  name: a\xed\xa0\x80b\n"].concat(),
            )
        },
    },
    Generated {
        // A spec saved as UTF-16 (with its byte-order mark).
        name: "generated/utf16.yaml",
        expected: &[("input-not-utf8", "1:1")],
        exit: 1,
        bug: None,
        write: |p| {
            let mut bytes = vec![0xff, 0xfe];
            for unit in HEAD.encode_utf16() {
                bytes.extend_from_slice(&unit.to_le_bytes());
            }
            fs::write(p, bytes)
        },
    },
    Generated {
        // NUL is valid UTF-8 but not a printable YAML character.
        name: "generated/nul-byte.yaml",
        expected: &[("yaml-syntax", "4:10")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, format!("{HEAD}metadata:\n  name: a\u{0}b\n")),
    },
    Generated {
        // 10 000 nested flow sequences: the 64th `[` is where the limit is crossed
        // ("metadata: " is 10 characters, so column 11 + 63).
        name: "generated/deep-flow-sequences-10000.yaml",
        expected: &[("yaml-too-deep", "3:74")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, nested("[", "", "]", 10_000)),
    },
    Generated {
        // The same, never closed.
        name: "generated/deep-flow-sequences-unclosed-10000.yaml",
        expected: &[("yaml-too-deep", "3:74")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, format!("{HEAD}metadata: {}\n", "[".repeat(10_000))),
    },
    Generated {
        // 10 000 nested flow mappings `{a: {a: …}}`: the 64th `{` is at column 11 + 63 × 4.
        name: "generated/deep-flow-mappings-10000.yaml",
        expected: &[("yaml-too-deep", "3:263")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, nested("{a: ", "1", "}", 10_000)),
    },
    Generated {
        // 10 000 nested block sequences on one line (`- - - … x`): the 63rd sequence (the
        // root mapping is the first level) starts at column 3 + 62 × 2.
        name: "generated/deep-block-sequences-10000.yaml",
        expected: &[("yaml-too-deep", "4:129")],
        exit: 1,
        bug: None,
        write: |p| fs::write(p, format!("{HEAD}metadata:\n  {}x\n", "- ".repeat(10_000))),
    },
    Generated {
        // 3 000 nested block mappings, one more space of indentation per level (10 000 levels
        // would take 50 MB of indentation): the mapping at line 4 + 62 is the 64th level.
        name: "generated/deep-block-mappings-3000.yaml",
        expected: &[("yaml-too-deep", "67:65")],
        exit: 1,
        bug: None,
        write: |p| {
            let mut text = format!("{HEAD}metadata:\n");
            for level in 0..3_000 {
                text.push_str(&" ".repeat(level + 1));
                text.push_str("a:\n");
            }
            fs::write(p, text)
        },
    },
];

fn generated_cases(dir: &Path) -> Vec<Case> {
    let dir = dir.join("generated");
    fs::create_dir_all(&dir).expect("temp dir");
    GENERATED
        .iter()
        .map(|g| {
            let path = dir.join(g.name.trim_start_matches("generated/"));
            (g.write)(&path).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            let mut case = Case::new(
                g.name,
                path,
                g.expected
                    .iter()
                    .map(|(c, l)| (c.to_string(), l.to_string()))
                    .collect(),
            );
            case.exit = g.exit;
            case.bug = g.bug.map(str::to_string);
            case
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Mutations of the rich fixture: one value at a time.

const RICH: &str = "fixtures/rich/kexpose.yaml";

/// Strings that look like YAML structure, as YAML double-quoted scalars (JSON literals).
const HOSTILE: [(&str, &str); 7] = [
    ("newline", "a\nb: c"),
    ("template", "{{ .Values.x }}"),
    ("document-marker", "---"),
    ("colon-space", "a: b"),
    ("hash", "a #b"),
    ("quotes", "a'b\"c"),
    ("uppercase", "Bad_Name"),
];

fn rich_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(RICH);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One scalar of the rich fixture: pointer, value, byte range and `line:col` of its text.
struct Leaf {
    pointer: String,
    value: Value,
    range: std::ops::Range<usize>,
    at: String,
}

/// Every scalar of the rich fixture whose text is on one line (block and flow alike).
fn rich_leaves(text: &str) -> Vec<Leaf> {
    let src = kexpose::source::SourceFile::new("kexpose.yaml", text);
    let doc = kexpose::yaml::parse(&src, true).expect("the rich fixture parses");
    let mut leaves = Vec::new();
    let mut stack = vec![(String::new(), &doc.value)];
    while let Some((pointer, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    stack.push((format!("{pointer}/{}", kexpose::yaml::escape_token(k)), v));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    stack.push((format!("{pointer}/{i}"), v));
                }
            }
            _ => {
                let span = doc
                    .pointers
                    .get(&pointer)
                    .unwrap_or_else(|| panic!("no span for {pointer}"))
                    .value;
                let slice = &text[span.range()];
                assert!(
                    !slice.is_empty() && !slice.contains('\n') && slice.trim() == slice,
                    "{pointer}: unexpected span text `{slice}`"
                );
                leaves.push(Leaf {
                    pointer,
                    value: value.clone(),
                    range: span.range(),
                    at: format!("{}:{}", span.line, span.col),
                });
            }
        }
    }
    leaves.sort_by_key(|l| l.range.start);
    leaves
}

/// Does a pointer match a pattern where `*` stands for one token?
fn matches(pattern: &str, pointer: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let q: Vec<&str> = pointer.split('/').collect();
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

/// Write `text` with `leaf` replaced by `replacement` as a case expecting `expected` there.
fn mutation(
    dir: &Path,
    family: &str,
    text: &str,
    leaf: &Leaf,
    replacement: &str,
    code: &str,
    mode: Match,
) -> Case {
    let mut mutated = String::with_capacity(text.len() + replacement.len());
    mutated.push_str(&text[..leaf.range.start]);
    mutated.push_str(replacement);
    mutated.push_str(&text[leaf.range.end..]);
    let file = format!(
        "{family}-{:03}-{}.yaml",
        leaf.range.start,
        replacement
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    );
    let path = dir.join(&file);
    fs::write(&path, mutated).expect("write a mutation");
    let mut case = Case::new(
        format!("generated/{family}: {} = {replacement}", leaf.pointer),
        path,
        vec![(code.to_string(), leaf.at.clone())],
    );
    case.mode = mode;
    case
}

/// Every scalar of the rich fixture replaced by a value of a wrong type: a list where a
/// scalar belongs, a quoted string for a boolean or a number, a number or a boolean for a
/// string. Values of `extraArgs` take strings, booleans and integers, so only the list applies.
fn wrong_type_cases(dir: &Path) -> Vec<Case> {
    let text = rich_text();
    let mut cases = Vec::new();
    for leaf in rich_leaves(&text) {
        let free_type = matches("/authorizers/*/extraArgs/*", &leaf.pointer);
        let mut replacements = vec!["[x]"];
        if !free_type {
            match &leaf.value {
                Value::Bool(_) => replacements.extend(["\"true\"", "yes", "1"]),
                Value::Number(_) => replacements.extend(["\"8\"", "true", "1.5", "1e400"]),
                Value::String(_) => replacements.extend(["42", "false", "{a: b}"]),
                _ => {}
            }
        }
        for r in replacements {
            // An enum field (`apiVersion`, `kind`, `type`) reports any other value, of any
            // type, as `schema-invalid-value` (with the allowed values).
            let enum_field = ["/apiVersion", "/kind"].contains(&leaf.pointer.as_str())
                || matches("/authorizers/*/type", &leaf.pointer);
            let code = if enum_field {
                "schema-invalid-value"
            } else {
                "schema-type"
            };
            cases.push(mutation(
                dir,
                "wrong-type",
                &text,
                &leaf,
                r,
                code,
                Match::Exact,
            ));
        }
    }
    cases
}

/// Every reference of the rich fixture replaced by a name nothing defines.
fn dangling_reference_cases(dir: &Path) -> Vec<Case> {
    let text = rich_text();
    let refs: [(&str, &str); 7] = [
        (
            "/authorizers/*/identityProvider",
            "ref-unknown-identity-provider",
        ),
        (
            "/workloads/*/rules/*/jwt/identityProvider",
            "ref-unknown-identity-provider",
        ),
        (
            "/workloads/*/rules/*/jwt/identityProviders/*",
            "ref-unknown-identity-provider",
        ),
        (
            "/workloads/*/rules/*/extAuth/identityProvider",
            "ref-unknown-identity-provider",
        ),
        (
            "/workloads/*/rules/*/extAuth/identityProviders/*",
            "ref-unknown-identity-provider",
        ),
        (
            "/workloads/*/rules/*/extAuth/authorizers/*",
            "ref-unknown-authorizer",
        ),
        (
            "/workloads/*/rules/*/jwt/authorizers/*",
            "ref-unknown-authorizer",
        ),
    ];
    let mut cases = Vec::new();
    for leaf in rich_leaves(&text) {
        if let Some((_, code)) = refs.iter().find(|(p, _)| matches(p, &leaf.pointer)) {
            cases.push(mutation(
                dir,
                "dangling",
                &text,
                &leaf,
                "nope",
                code,
                Match::Contains,
            ));
        }
    }
    assert!(
        cases.len() >= 10,
        "the rich fixture has fewer references than expected"
    );
    cases
}

/// Every name, host, path, gateway and method of the rich fixture replaced by each hostile
/// string.
fn hostile_identifier_cases(dir: &Path) -> Vec<Case> {
    let text = rich_text();
    let fields: [(&str, &str); 19] = [
        ("/metadata/name", "name-invalid"),
        ("/identityProviders/*/name", "name-invalid"),
        ("/authorizers/*/name", "name-invalid"),
        ("/authorizers/*/namespace", "name-invalid"),
        ("/authorizers/*/credentialsSecret", "name-invalid"),
        ("/workloads/*/name", "name-invalid"),
        ("/workloads/*/namespace", "name-invalid"),
        ("/workloads/*/service/name", "name-invalid"),
        ("/workloads/*/service/namespace", "name-invalid"),
        ("/workloads/*/rules/*/service/name", "name-invalid"),
        ("/workloads/*/rules/*/service/namespace", "name-invalid"),
        ("/cluster/domain", "apirule-host-invalid"),
        ("/workloads/*/host", "apirule-host-invalid"),
        ("/workloads/*/rules/*/path", "apirule-path-invalid"),
        ("/cluster/gateway", "apirule-gateway-invalid"),
        ("/workloads/*/gateway", "apirule-gateway-invalid"),
        ("/workloads/*/externalGateway", "apirule-gateway-invalid"),
        ("/workloads/*/rules/*/methods/*", "apirule-method-invalid"),
        (
            "/identityProviders/*/issuer",
            "identity-provider-issuer-invalid",
        ),
    ];
    let mut cases = Vec::new();
    for leaf in rich_leaves(&text) {
        let Some((_, code)) = fields.iter().find(|(p, _)| matches(p, &leaf.pointer)) else {
            continue;
        };
        let issuer = leaf.pointer.ends_with("/issuer");
        for (tag, s) in HOSTILE {
            // Issuers are URLs: the hostile string becomes the host (`https://` + s). `---` is
            // a syntactically valid URL host (RFC 3986 reg-name), and so is `Bad_Name` (Go's
            // URL parser and resolver accept `_` and uppercase; whether it resolves is not
            // knowable offline), so they are not tried there.
            if issuer && (tag == "document-marker" || tag == "uppercase") {
                continue;
            }
            let value = if issuer {
                format!("https://{s}")
            } else {
                s.to_string()
            };
            // Whitespace makes an issuer no URL at all (`identity-provider-issuer-invalid`);
            // other characters fail the host check of oauth2-proxy, which both identity
            // providers of the fixture serve.
            let code = if issuer && !s.contains(char::is_whitespace) {
                "oauth2-proxy-issuer-invalid"
            } else {
                code
            };
            let literal = serde_json::to_string(&value).expect("a JSON string");
            cases.push(mutation(
                dir,
                "hostile",
                &text,
                &leaf,
                &literal,
                code,
                Match::Contains,
            ));
        }
    }
    cases
}

/// All generated cases.
fn mutation_cases(dir: &Path) -> Vec<Case> {
    let dir = dir.join("mutations");
    fs::create_dir_all(&dir).expect("temp dir");
    let mut cases = wrong_type_cases(&dir);
    cases.extend(dangling_reference_cases(&dir));
    cases.extend(hostile_identifier_cases(&dir));
    cases
}

#[test]
fn every_bad_input_is_reported_at_the_right_place() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let all: Vec<Case> = committed_or_panic()
        .into_iter()
        .chain(generated_cases(tmp.path()))
        .collect();
    let cases: Vec<&Case> = all.iter().filter(|c| c.bug.is_none()).collect();
    assert_all_pass_with_snapshots("bad-input cases", &cases, "snapshots/diagnostics");
}

#[test]
fn every_mutation_of_the_rich_fixture_is_reported_at_the_mutated_value() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let all = mutation_cases(tmp.path());
    let cases: Vec<&Case> = all.iter().filter(|c| c.bug.is_none()).collect();
    assert!(cases.len() > 300, "only {} mutations", cases.len());
    assert_all_pass("mutations of the rich fixture", &cases);
}

/// The cases marked `# bug:`: each states the intended behaviour of something kexpose gets
/// wrong today. Run with `cargo test --test bad_inputs -- --ignored` after a fix; a case that
/// passes then should lose its `# bug:` line.
#[test]
#[ignore = "kexpose bugs: cases marked `# bug:` (see docs/robustness.md)"]
fn known_bugs_are_fixed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let all: Vec<Case> = committed_or_panic()
        .into_iter()
        .chain(generated_cases(tmp.path()))
        .chain(mutation_cases(tmp.path()))
        .collect();
    let cases: Vec<&Case> = all.iter().filter(|c| c.bug.is_some()).collect();
    // No case is marked `# bug:` today; the harness stays for the next one.
    if !cases.is_empty() {
        assert_all_pass("known-bug cases", &cases);
    }
}

/// Free text that looks like YAML structure, in every free-text field of the rich fixture: the
/// spec stays valid, and the rendered output holds exactly that string at the matching place.
/// Compiled in-process (hundreds of cases), each output parsed back with kexpose's loader.
#[test]
fn free_text_stays_one_string_at_its_place() {
    let text = rich_text();
    let src = kexpose::source::SourceFile::new("kexpose.yaml", text.as_str());
    let spec = kexpose::yaml::parse(&src, true).expect("rich parses").value;
    let apirule = |w: &str| {
        let w: usize = w.parse().expect("index");
        let workload = &spec["workloads"][w];
        format!(
            "apirules/{}/{}.yaml",
            workload["namespace"].as_str().expect("namespace"),
            workload["name"].as_str().expect("name")
        )
    };
    // Spec pointer pattern → (output file, output pointer), from the pointer's tokens.
    type Target = fn(&[&str], &dyn Fn(&str) -> String) -> (String, String);
    let fields: [(&str, Target); 11] = [
        ("/workloads/*/rules/*/request/headers/*", |t, a| {
            (
                a(t[2]),
                format!("/spec/rules/{}/request/headers/{}", t[4], t[7]),
            )
        }),
        ("/workloads/*/rules/*/request/cookies/*", |t, a| {
            (
                a(t[2]),
                format!("/spec/rules/{}/request/cookies/{}", t[4], t[7]),
            )
        }),
        ("/workloads/*/rules/*/jwt/requiredScopes/*", |t, a| {
            (
                a(t[2]),
                format!(
                    "/spec/rules/{}/jwt/authorizations/0/requiredScopes/{}",
                    t[4], t[7]
                ),
            )
        }),
        ("/workloads/*/rules/*/jwt/audiences/*", |t, a| {
            (
                a(t[2]),
                format!(
                    "/spec/rules/{}/jwt/authorizations/0/audiences/{}",
                    t[4], t[7]
                ),
            )
        }),
        (
            "/workloads/*/rules/*/jwt/authorizations/*/requiredScopes/*",
            |t, a| {
                (
                    a(t[2]),
                    format!(
                        "/spec/rules/{}/jwt/authorizations/{}/requiredScopes/{}",
                        t[4], t[7], t[9]
                    ),
                )
            },
        ),
        (
            "/workloads/*/rules/*/jwt/authorizations/*/audiences/*",
            |t, a| {
                (
                    a(t[2]),
                    format!(
                        "/spec/rules/{}/jwt/authorizations/{}/audiences/{}",
                        t[4], t[7], t[9]
                    ),
                )
            },
        ),
        ("/workloads/*/rules/*/extAuth/requiredScopes/*", |t, a| {
            (
                a(t[2]),
                format!(
                    "/spec/rules/{}/extAuth/restrictions/authorizations/0/requiredScopes/{}",
                    t[4], t[7]
                ),
            )
        }),
        ("/workloads/*/cors/allowHeaders/*", |t, a| {
            (a(t[2]), format!("/spec/corsPolicy/allowHeaders/{}", t[5]))
        }),
        ("/workloads/*/cors/exposeHeaders/*", |t, a| {
            (a(t[2]), format!("/spec/corsPolicy/exposeHeaders/{}", t[5]))
        }),
        ("/workloads/*/cors/allowOrigins/*/*", |t, a| {
            (
                a(t[2]),
                format!("/spec/corsPolicy/allowOrigins/{}/{}", t[5], t[6]),
            )
        }),
        ("/authorizers/*/headers/inCheck/add/*", |t, _| {
            (
                "istio/authorizers.yaml".to_string(),
                format!(
                    "/spec/config/authorizers/{}/headers/inCheck/add/{}",
                    t[2], t[6]
                ),
            )
        }),
    ];
    // Valid anywhere a free string is: YAML indicators, YAML 1.1 look-alikes, line breaks.
    let strings: Vec<&str> = HOSTILE
        .iter()
        .map(|(_, s)| *s)
        .chain([
            "line1\nline2: x\n- y\n",
            "on",
            "null",
            "~",
            "0755",
            "1e3",
            "[a, {b: c}]",
            "*a &b !c %d @e `f` |g >h",
            " leading and trailing ",
            "é ünï 🚀",
            "a\tb",
            "\\",
        ])
        .collect();
    let templates = kexpose::render::Templates::builtin();
    let policy = kexpose::diag::Policy::default();
    let mut failures = Vec::new();
    let mut count = 0;
    for leaf in rich_leaves(&text) {
        let Some((_, target)) = fields.iter().find(|(p, _)| matches(p, &leaf.pointer)) else {
            continue;
        };
        let tokens: Vec<&str> = leaf.pointer.split('/').collect();
        let (file, pointer) = target(&tokens, &apirule);
        for s in &strings {
            count += 1;
            let literal = serde_json::to_string(s).expect("JSON");
            let mutated = format!(
                "{}{literal}{}",
                &text[..leaf.range.start],
                &text[leaf.range.end..]
            );
            let c = kexpose::compile(
                kexpose::source::SourceFile::new("kexpose.yaml", mutated),
                "kexpose.yaml",
                &templates,
                &policy,
            );
            let what = format!("{} = {literal}", leaf.pointer);
            if !c.diagnostics.is_empty() {
                let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code.as_str()).collect();
                failures.push(format!("{what}: diagnostics {codes:?}"));
                continue;
            }
            let outputs = c.outputs.expect("outputs of a valid spec");
            let Some(out) = outputs.get(&file) else {
                failures.push(format!("{what}: no output {file}"));
                continue;
            };
            let parsed = kexpose::yaml::parse(
                &kexpose::source::SourceFile::new(&file, out.as_str()),
                false,
            )
            .map(|d| d.value);
            match parsed {
                Ok(v) if v.pointer(&pointer) == Some(&Value::String(s.to_string())) => {}
                Ok(v) => failures.push(format!(
                    "{what}: {file} {pointer} is {:?}",
                    v.pointer(&pointer)
                )),
                Err(d) => failures.push(format!("{what}: {file} does not parse back: {d:?}")),
            }
        }
    }
    assert!(count > 200, "only {count} free-text cases");
    assert!(
        failures.is_empty(),
        "{} of {count} free-text cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_diagnostic_code_has_a_bad_input_case() {
    let output = Command::new(BIN)
        .arg("codes")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    assert!(output.status.success(), "`kexpose codes` failed");
    let listed: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(!listed.is_empty(), "`kexpose codes` listed nothing");

    let cases = committed_or_panic();
    let covered: BTreeSet<String> = cases
        .iter()
        .filter(|c| c.bug.is_none())
        .flat_map(|c| c.expected.iter().map(|(code, _)| code.clone()))
        .chain(
            GENERATED
                .iter()
                .filter(|g| g.bug.is_none())
                .flat_map(|g| g.expected.iter().map(|(code, _)| code.to_string())),
        )
        .collect();

    let uncovered: Vec<&String> = listed
        .iter()
        .filter(|c| {
            !covered.contains(*c)
                && !NOT_FROM_A_SPEC.contains(&c.as_str())
                // `kexpose doctor` findings come from a live identity provider, not from a
                // spec alone: tests/doctor.rs triggers each against a provider on loopback.
                && !c.starts_with("doctor-")
                // `kexpose import` findings: tests/import/cases (tests/import.rs); platform
                // and team spec findings: tests/teams/cases (tests/teams.rs).
                && !c.starts_with("import-")
                && !c.starts_with("team-")
        })
        .collect();
    let all_expected: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.expected.iter().map(|(code, _)| code.clone()))
        .collect();
    let unknown: Vec<&String> = all_expected
        .iter()
        .filter(|c| !listed.contains(*c))
        .collect();
    let mut problems = String::new();
    if !uncovered.is_empty() {
        let _ = writeln!(
            problems,
            "codes without a case in tests/bad/ (add one small spec that triggers each): {}",
            uncovered
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !unknown.is_empty() {
        let _ = writeln!(
            problems,
            "`# expect:` codes that `kexpose codes` does not list: {}",
            unknown
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    assert!(problems.is_empty(), "{problems}");
}
