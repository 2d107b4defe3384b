//! The case format shared by `tests/bad_inputs.rs` and `tests/real.rs`: a spec whose leading
//! comment block says what `kexpose render` must report (`# expect:`, `# exit:`, ...; see
//! `tests/bad_inputs.rs`), and the runner that checks it against the built binary.

use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kexpose");

/// Where a diagnostic points: `line:col`, or `-` for the file as a whole.
pub type Finding = (String, String);

/// How the reported findings are compared with the expected ones.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The multisets are equal.
    Exact,
    /// Every expected finding is reported (others may be too: a renamed identity provider
    /// also leaves its references dangling).
    Contains,
}

/// One bad input and what the binary must say about it.
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub expected: Vec<Finding>,
    pub mode: Match,
    pub exit: i32,
    pub stderr_contains: Vec<String>,
    /// (file in OUT, JSON pointer, value).
    pub outputs: Vec<(String, String, Value)>,
    /// A known kexpose bug: what goes wrong today.
    pub bug: Option<String>,
    /// Extra `render` arguments (`# args: --target istio`).
    pub args: Vec<String>,
}

impl Case {
    pub fn new(name: impl Into<String>, path: PathBuf, expected: Vec<Finding>) -> Self {
        Case {
            name: name.into(),
            path,
            expected,
            mode: Match::Exact,
            exit: 1,
            stderr_contains: Vec::new(),
            outputs: Vec::new(),
            bug: None,
            args: Vec::new(),
        }
    }
}

pub const DIRECTIVES: [&str; 6] = [
    "# args:",
    "# expect:",
    "# exit:",
    "# expect-stderr:",
    "# expect-output:",
    "# bug:",
];

/// Read the expectations from the leading comment block of a case file.
pub fn parse_header(name: &str, path: PathBuf, text: &str) -> Result<Case, String> {
    let mut case = Case::new(name, path, Vec::new());
    let mut saw_expect = false;
    let mut in_header = true;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if !line.starts_with('#') {
            in_header = false;
        }
        if !DIRECTIVES.iter().any(|d| line.starts_with(d)) {
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
        } else if let Some(rest) = line.strip_prefix("# expect-output:") {
            let malformed = || {
                format!("{name}:{n}: expected `# expect-output: FILE POINTER JSON`, found `{line}`")
            };
            let (file, rest) = rest.trim().split_once(' ').ok_or_else(malformed)?;
            // A pointer with spaces is written as a JSON string.
            let (pointer, json) = if rest.starts_with('"') {
                let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
                let pointer = stream.next().and_then(Result::ok).ok_or_else(malformed)?;
                (pointer, rest[stream.byte_offset()..].trim())
            } else {
                let (p, j) = rest.split_once(' ').ok_or_else(malformed)?;
                (p.to_string(), j)
            };
            let value: Value = serde_json::from_str(json)
                .map_err(|e| format!("{name}:{n}: `{json}` is not JSON: {e}"))?;
            case.outputs.push((file.to_string(), pointer, value));
        } else if let Some(rest) = line.strip_prefix("# bug:") {
            case.bug = Some(rest.trim().to_string());
        } else if let Some(rest) = line.strip_prefix("# args:") {
            case.args
                .extend(rest.split_whitespace().map(str::to_string));
        }
    }
    if !saw_expect {
        return Err(format!(
            "{name}: no `# expect:` line (write `# expect: none` for a spec that must pass cleanly)"
        ));
    }
    if !case.outputs.is_empty() && case.exit != 0 {
        return Err(format!(
            "{name}: `# expect-output:` needs `# exit: 0` (nothing is written otherwise)"
        ));
    }
    Ok(case)
}

pub fn is_location(s: &str) -> bool {
    s == "-"
        || s.split_once(':').is_some_and(|(l, c)| {
            [l, c]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

// ------------------------------------------------------------------------------------------
// Running a case.

/// `error[code]: …` or `warning[code]: …` → the code.
pub fn header_code(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("error[")
        .or_else(|| line.strip_prefix("warning["))?;
    rest.split_once("]:").map(|(code, _)| code)
}

/// ` --> path:line:col` → `line:col`; ` --> path` → `-`.
pub fn location(origin: &str) -> String {
    let mut parts = origin.rsplitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(col), Some(line), Some(_)) if is_location(&format!("{line}:{col}")) => {
            format!("{line}:{col}")
        }
        _ => "-".to_string(),
    }
}

/// Every diagnostic on stderr, with the location of its first ` --> ` line.
pub fn reported(stderr: &str) -> Vec<Finding> {
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
pub fn missing_from(a: &[Finding], b: &[Finding]) -> Vec<String> {
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

/// The value at `pointer` of a rendered file, parsed back with kexpose's own loader.
pub fn output_value(out: &Path, file: &str, pointer: &str) -> Result<Value, String> {
    let text = fs::read_to_string(out.join(file)).map_err(|e| format!("OUT/{file}: {e}"))?;
    let docs = kexpose::yaml::split_documents(&text);
    let [doc] = docs.as_slice() else {
        return Err(format!(
            "OUT/{file} holds {} documents, expected 1",
            docs.len()
        ));
    };
    let src = kexpose::source::SourceFile::new(file, *doc);
    let parsed = kexpose::yaml::parse(&src, false)
        .map_err(|d| format!("OUT/{file} does not parse back: {d:?}"))?;
    parsed
        .value
        .pointer(pointer)
        .cloned()
        .ok_or_else(|| format!("OUT/{file} has nothing at {pointer}"))
}

/// Run one case; `None` when it behaves as expected, else what went wrong.
pub fn run_case(case: &Case) -> Option<String> {
    run_case_and_stderr(case).0
}

/// Run one case: what went wrong (`None` when nothing did), and the diagnostics it printed
/// (stderr, with the case's path written as its name and the output directory as `OUT`, so
/// the text is the same on every machine).
pub fn run_case_and_stderr(case: &Case) -> (Option<String>, String) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let output = Command::new(BIN)
        .arg("render")
        .arg(&case.path)
        .arg("-o")
        .arg(&out)
        .args(["--color", "never"])
        .args(&case.args)
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
    let missing = missing_from(&expected, &got);
    let unexpected = missing_from(&got, &expected);
    if !missing.is_empty() {
        problems.push(format!("expected but not reported: {}", missing.join(", ")));
    }
    if case.mode == Match::Exact && !unexpected.is_empty() {
        problems.push(format!(
            "reported but not expected: {}",
            unexpected.join(", ")
        ));
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
    if output.status.success() {
        for (file, pointer, want) in &case.outputs {
            match output_value(&out, file, pointer) {
                Ok(got) if got == *want => {}
                Ok(got) => problems.push(format!("OUT/{file} {pointer} is {got}, expected {want}")),
                Err(e) => problems.push(e),
            }
        }
    }
    let printed = stderr
        .replace(&out.display().to_string(), "OUT")
        .replace(&case.path.display().to_string(), &case.name);
    if problems.is_empty() {
        return (None, printed);
    }
    let mut report = format!("{}:\n", case.name);
    if let Some(bug) = &case.bug {
        let _ = writeln!(report, "  (known bug: {bug})");
    }
    for p in &problems {
        let _ = writeln!(report, "  - {p}");
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let _ = writeln!(report, "  stderr:");
    for line in lines.iter().take(40) {
        let _ = writeln!(report, "  | {line}");
    }
    if lines.len() > 40 {
        let _ = writeln!(report, "  | … ({} more lines)", lines.len() - 40);
    }
    (Some(report), printed)
}

pub fn run_all(cases: &[&Case]) -> Vec<String> {
    cases.iter().filter_map(|c| run_case(c)).collect()
}

pub fn assert_all_pass(what: &str, cases: &[&Case]) {
    let failures = run_all(cases);
    assert!(
        failures.is_empty(),
        "{} of {} {what} failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The snapshot name of a case: `bad/foo.yaml` → `bad__foo`.
pub fn snapshot_name(case: &Case) -> String {
    case.name.trim_end_matches(".yaml").replace('/', "__")
}

/// Run every case as [`assert_all_pass`] does, and compare what each prints with its insta
/// snapshot `<dir>/<snapshot_name>.snap` (`dir` relative to `tests/`): the full rendered
/// diagnostics (message, excerpt, labels, `help:`, summary). The snapshot's description is the
/// case's `# expect:` header, the statement of intent it is reviewed against.
///
/// Every mismatch of every case is collected and reported in one run; insta writes a
/// `.snap.new` beside each changed snapshot (accept with `cargo insta review`, or
/// `INSTA_UPDATE=always`, then read `git diff`). A snapshot whose case is gone fails too.
pub fn assert_all_pass_with_snapshots(what: &str, cases: &[&Case], dir: &str) {
    let mut failures = Vec::new();
    let mut changed = Vec::new();
    let snap_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&snap_dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for case in cases {
        let (problem, printed) = run_case_and_stderr(case);
        failures.extend(problem);
        let name = snapshot_name(case);
        let mut intent: Vec<String> = case
            .expected
            .iter()
            .map(|(code, at)| format!("# expect: {code} {at}"))
            .collect();
        if intent.is_empty() {
            intent.push("# expect: none".to_string());
        }
        if case.exit != 1 {
            intent.push(format!("# exit: {}", case.exit));
        }
        settings.set_description(intent.join("\n"));
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.as_str(), printed));
        }));
        if compared.is_err() {
            changed.push(case.name.clone());
        }
    }
    // Snapshots of cases that no longer exist.
    let snap_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let known: std::collections::BTreeSet<String> =
        cases.iter().map(|c| snapshot_name(c)).collect();
    let mut orphans: Vec<String> = fs::read_dir(&snap_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|f| f.strip_suffix(".snap").map(str::to_string))
                .filter(|stem| !known.contains(stem))
                .collect()
        })
        .unwrap_or_default();
    orphans.sort();
    assert!(
        failures.is_empty() && changed.is_empty() && orphans.is_empty(),
        "{} of {} {what} failed, {} printed other diagnostics than their snapshot, {} snapshots have no case:\n\n{}\n{}\n{}\n\n\
         Read each change (`cargo insta review`, or the `.snap.new` files beside the snapshots); \
         accept with `cargo insta accept` or `INSTA_UPDATE=always cargo test --test bad_inputs`, \
         and delete the snapshots of removed cases.",
        failures.len(),
        cases.len(),
        changed.len(),
        orphans.len(),
        failures.join("\n"),
        changed
            .iter()
            .map(|c| format!("changed: {c}"))
            .collect::<Vec<_>>()
            .join("\n"),
        orphans
            .iter()
            .map(|o| format!("no case: {dir}/{o}.snap"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
