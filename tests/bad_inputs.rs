//! The bad-input suite: one small spec per check, each breaking one rule, run through the
//! built binary as `kexpose render SPEC -o OUT --color never`.
//!
//! Every `tests/bad/*.yaml` starts with a comment block that says what the run must report:
//!
//! ```yaml
//! # expect: apirule-path-conflict 23:15     one line per diagnostic, errors and warnings
//! # expect: input-too-large -               a finding about the file as a whole (no line:col)
//! # expect: none                            a valid spec: no diagnostic at all
//! # exit: 0                                 only for warning-only or valid specs (default 1)
//! # expect-stderr: credentialsSecret        optional: text stderr must contain (e.g. a hint)
//! ```
//!
//! For each spec the test asserts that the multiset of `(code, line:col)` on stderr equals the
//! `# expect:` lines, the exit code, that nothing was written when the exit code is not 0 (and
//! that the output exists when it is), and that the binary never panics. Inputs that cannot be
//! committed as text (empty, not UTF-8, too large) are generated into a temporary directory.
//! Every mismatch of every case is collected and reported in one run.
//!
//! A second test makes sure every code `kexpose codes` lists (except those no spec can
//! trigger) has at least one case, so a new rule without a bad input fails CI.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kexpose");

/// Codes that no spec can trigger: they report bugs in templates.
const NOT_FROM_A_SPEC: [&str; 2] = ["template-error", "output-schema"];

/// Where a diagnostic points: `line:col`, or `-` for the file as a whole.
type Finding = (String, String);

/// One bad input and what the binary must say about it.
struct Case {
    name: String,
    path: PathBuf,
    expected: Vec<Finding>,
    exit: i32,
    stderr_contains: Vec<String>,
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bad")
}

/// Read the expectations from the leading comment block of a case file.
fn parse_header(name: &str, path: PathBuf, text: &str) -> Result<Case, String> {
    let mut case = Case {
        name: name.to_string(),
        path,
        expected: Vec::new(),
        exit: 1,
        stderr_contains: Vec::new(),
    };
    let mut saw_expect = false;
    let mut in_header = true;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if !line.starts_with('#') {
            in_header = false;
        }
        let directive = ["# expect:", "# exit:", "# expect-stderr:"]
            .iter()
            .any(|d| line.starts_with(d));
        if !directive {
            continue;
        }
        if !in_header {
            return Err(format!(
                "{name}:{n}: `{line}` must be in the comment block at the top of the file"
            ));
        }
        if let Some(rest) = line.strip_prefix("# expect:") {
            saw_expect = true;
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                ["none"] => {}
                [code, loc] if is_location(loc) => {
                    case.expected.push((code.to_string(), loc.to_string()));
                }
                _ => {
                    return Err(format!(
                        "{name}:{n}: expected `# expect: <code> <line>:<col>`, `# expect: <code> -` \
                         or `# expect: none`, found `{line}`"
                    ));
                }
            }
        } else if let Some(rest) = line.strip_prefix("# exit:") {
            case.exit = rest
                .trim()
                .parse()
                .map_err(|_| format!("{name}:{n}: `{line}` is not `# exit: <number>`"))?;
        } else if let Some(rest) = line.strip_prefix("# expect-stderr:") {
            case.stderr_contains.push(rest.trim().to_string());
        }
    }
    if !saw_expect {
        return Err(format!(
            "{name}: no `# expect:` line (write `# expect: none` for a spec that must pass cleanly)"
        ));
    }
    Ok(case)
}

fn is_location(s: &str) -> bool {
    s == "-"
        || s.split_once(':').is_some_and(|(l, c)| {
            [l, c]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The committed cases, sorted by file name.
fn committed_cases() -> Result<Vec<Case>, Vec<String>> {
    let dir = bad_dir();
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", dir.display());
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
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
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// Inputs that are generated rather than committed: their name, what must be reported, and
/// how to write them.
struct Generated {
    name: &'static str,
    expected: &'static [(&'static str, &'static str)],
    write: fn(&Path) -> std::io::Result<()>,
}

const GENERATED: [Generated; 3] = [
    Generated {
        name: "generated/empty-file.yaml",
        expected: &[("spec-empty", "1:1")],
        write: |p| fs::write(p, b""),
    },
    Generated {
        // A Latin-1 `é` (0xE9) where UTF-8 is required: line 4, column 12.
        name: "generated/not-utf8.yaml",
        expected: &[("input-not-utf8", "4:12")],
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
        write: |p| {
            let f = fs::File::create(p)?;
            f.set_len(kexpose::yaml::MAX_INPUT_BYTES as u64 + 1)
        },
    },
];

fn generated_cases(dir: &Path) -> Vec<Case> {
    GENERATED
        .iter()
        .map(|g| {
            let path = dir.join(g.name.trim_start_matches("generated/"));
            (g.write)(&path).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            Case {
                name: g.name.to_string(),
                path,
                expected: g
                    .expected
                    .iter()
                    .map(|(c, l)| (c.to_string(), l.to_string()))
                    .collect(),
                exit: 1,
                stderr_contains: Vec::new(),
            }
        })
        .collect()
}

/// `error[code]: …` or `warning[code]: …` → the code.
fn header_code(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("error[")
        .or_else(|| line.strip_prefix("warning["))?;
    rest.split_once("]:").map(|(code, _)| code)
}

/// ` --> path:line:col` → `line:col`; ` --> path` → `-`.
fn location(origin: &str) -> String {
    let mut parts = origin.rsplitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(col), Some(line), Some(_)) if is_location(&format!("{line}:{col}")) => {
            format!("{line}:{col}")
        }
        _ => "-".to_string(),
    }
}

/// Every diagnostic on stderr, with the location of its first ` --> ` line.
fn reported(stderr: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut pending: Option<String> = None;
    for line in stderr.lines() {
        if let Some(code) = header_code(line) {
            if let Some(code) = pending.replace(code.to_string()) {
                found.push((code, "-".to_string()));
            }
        } else if let Some(origin) = line.trim_start().strip_prefix("--> ")
            && let Some(code) = pending.take()
        {
            found.push((code, location(origin.trim())));
        }
    }
    if let Some(code) = pending {
        found.push((code, "-".to_string()));
    }
    found
}

/// Items of `a` not matched by an item of `b` (multiset difference).
fn missing_from(a: &[Finding], b: &[Finding]) -> Vec<String> {
    let mut rest: Vec<&Finding> = b.iter().collect();
    let mut out = Vec::new();
    for item in a {
        match rest.iter().position(|r| *r == item) {
            Some(i) => {
                rest.swap_remove(i);
            }
            None => out.push(format!("{} {}", item.0, item.1)),
        }
    }
    out
}

/// Run one case; `None` when it behaves as expected, else what went wrong.
fn run_case(case: &Case) -> Option<String> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let output = Command::new(BIN)
        .arg("render")
        .arg(&case.path)
        .arg("-o")
        .arg(&out)
        .args(["--color", "never"])
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();

    if stderr.contains("panicked") {
        problems.push("the binary panicked".to_string());
    }
    let mut expected = case.expected.clone();
    let mut got = reported(&stderr);
    expected.sort();
    got.sort();
    if expected != got {
        let missing = missing_from(&expected, &got);
        let unexpected = missing_from(&got, &expected);
        if !missing.is_empty() {
            problems.push(format!("expected but not reported: {}", missing.join(", ")));
        }
        if !unexpected.is_empty() {
            problems.push(format!(
                "reported but not expected: {}",
                unexpected.join(", ")
            ));
        }
    }
    match output.status.code() {
        Some(code) if code == case.exit => {}
        Some(code) => problems.push(format!("exit code {code}, expected {}", case.exit)),
        None => problems.push(format!(
            "killed by a signal ({}), expected exit code {}",
            output.status, case.exit
        )),
    }
    if case.exit != 0 && out.exists() {
        problems.push(format!(
            "exit code {} but the output directory was written",
            case.exit
        ));
    }
    if case.exit == 0 && output.status.success() && !out.exists() {
        problems.push("exit code 0 but no output directory was written".to_string());
    }
    for text in &case.stderr_contains {
        if !stderr.contains(text.as_str()) {
            problems.push(format!("stderr does not contain `{text}`"));
        }
    }
    if problems.is_empty() {
        return None;
    }
    let mut report = format!("{}:\n", case.name);
    for p in &problems {
        let _ = writeln!(report, "  - {p}");
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let _ = writeln!(report, "  stderr:");
    for line in lines.iter().take(60) {
        let _ = writeln!(report, "  | {line}");
    }
    if lines.len() > 60 {
        let _ = writeln!(report, "  | … ({} more lines)", lines.len() - 60);
    }
    Some(report)
}

#[test]
fn every_bad_input_is_reported_at_the_right_place() {
    let cases = committed_cases().unwrap_or_else(|errors| {
        panic!("malformed case files:\n{}", errors.join("\n"));
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let all: Vec<Case> = cases
        .into_iter()
        .chain(generated_cases(tmp.path()))
        .collect();
    let failures: Vec<String> = all.iter().filter_map(run_case).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n\n{}",
        failures.len(),
        all.len(),
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

    let cases = committed_cases().unwrap_or_else(|errors| {
        panic!("malformed case files:\n{}", errors.join("\n"));
    });
    let covered: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.expected.iter().map(|(code, _)| code.clone()))
        .chain(
            GENERATED
                .iter()
                .flat_map(|g| g.expected.iter().map(|(code, _)| code.to_string())),
        )
        .collect();

    let uncovered: Vec<&String> = listed
        .iter()
        .filter(|c| !covered.contains(*c) && !NOT_FROM_A_SPEC.contains(&c.as_str()))
        .collect();
    let unknown: Vec<&String> = covered.iter().filter(|c| !listed.contains(*c)).collect();
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
