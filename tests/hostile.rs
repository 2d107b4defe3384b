//! Hostile input beyond one diagnostic per file: line endings and byte-order marks that must
//! not change a byte of the output, and resource bounds — inputs built to make kexpose spend
//! time or memory (alias bombs, deep nesting, huge files, long lines, many findings, many
//! rules) must be answered within a bound.
//!
//! Bounds are generous for CI on a shared 2-core machine and a debug build; the real numbers
//! (release build) are in docs/robustness.md. Every run goes through the built binary with a
//! deadline: a run past its bound is killed, so a regression fails instead of hanging CI.
//! Tests marked `#[ignore = "kexpose bug: …"]` state a bound kexpose misses today; run them with
//! `cargo test --test hostile -- --ignored`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // it reports what it ran

mod common;
use common::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kexpose");
const HEAD: &str = "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\n";

/// A spec with every kind of multi-line scalar, for line-break tests.
const MULTILINE: &str = "apiVersion: kexpose.dev/v1alpha1
kind: Exposure
cluster:
  domain: c-1a2b3c.kyma.ondemand.com
workloads:
  - name: httpbin
    namespace: httpbin-system
    host: httpbin
    service: {name: httpbin, port: 8000}
    rules:
      - path: /anything
        methods: [GET]
        noAuth: true
        request:
          headers:
            X-Literal: |
              line one
              line two
            X-Folded: >-
              folded
              text
            X-Double: \"double
              quoted\"
            X-Single: 'single

              quoted'
            X-Plain: plain
              multi line
";

/// What one bounded run of the binary did.
struct Bounded {
    /// Exit code; `None` when killed at the deadline.
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory in KiB, when `/usr/bin/time -v` is there to measure it.
    max_rss_kib: Option<u64>,
}

/// Run `kexpose ARGS` in `cwd`, killed after `deadline`; measured by `/usr/bin/time -v` when
/// it exists.
fn run_bounded(args: &[&str], cwd: &Path, deadline: Duration) -> Bounded {
    let time = Path::new("/usr/bin/time");
    let measured = time.exists();
    let mut cmd = if measured {
        let mut c = Command::new(time);
        c.arg("-v").arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    let stderr_path = cwd.join(".stderr");
    let stderr_file = fs::File::create(&stderr_path).expect("stderr file");
    let start = Instant::now();
    // Its own process group, so that the deadline kills `time` and kexpose together.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .expect("the binary runs");
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > deadline {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok());
    Bounded {
        code,
        stderr,
        elapsed,
        max_rss_kib,
    }
}

/// Assert a run finished within its deadline with exit code `code` and the diagnostic `diag`.
fn assert_rejected(run: &Bounded, what: &str, code: i32, diag: &str) {
    assert!(
        run.code.is_some(),
        "{what}: still running after {:?}: killed",
        run.elapsed
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: panicked\n{}",
        run.stderr
    );
    assert_eq!(run.code, Some(code), "{what}: exit code\n{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("[{diag}]")),
        "{what}: no {diag}\n{}",
        run.stderr
    );
}

fn report(what: &str, run: &Bounded) {
    eprintln!(
        "{what}: {:?}, peak RSS {}",
        run.elapsed,
        run.max_rss_kib
            .map_or("not measured".to_string(), |k| format!("{} MiB", k / 1024))
    );
}

// ------------------------------------------------------------------------------------------
// Line breaks and byte-order marks.

/// Render `text` (as `kexpose.yaml`, so headers match) and return OUT's files.
fn render_text(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let tmp = tempfile::tempdir().expect("temp dir");
    fs::write(tmp.path().join("kexpose.yaml"), bytes).expect("write spec");
    let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "render failed:\n{}", run.stderr);
    read_tree(&tmp.path().join("out"))
}

#[test]
fn crlf_and_a_byte_order_mark_render_the_same_bytes_as_lf() {
    let rich = fs::read_to_string(root().join("fixtures/rich/kexpose.yaml")).expect("rich");
    for (name, lf) in [("rich", rich.as_str()), ("multi-line scalars", MULTILINE)] {
        let expected = render_text(lf.as_bytes());
        let crlf = lf.replace('\n', "\r\n");
        let mut bom_crlf = b"\xef\xbb\xbf".to_vec();
        bom_crlf.extend_from_slice(crlf.as_bytes());
        let mut bom_lf = b"\xef\xbb\xbf".to_vec();
        bom_lf.extend_from_slice(lf.as_bytes());
        for (variant, bytes) in [
            ("CRLF", crlf.as_bytes().to_vec()),
            ("BOM + LF", bom_lf),
            ("BOM + CRLF", bom_crlf),
        ] {
            let got = render_text(&bytes);
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{name} with {variant}: other files"
            );
            for (path, bytes) in &expected {
                assert!(
                    got[path] == *bytes,
                    "{name} with {variant}: {path} differs:\n{}\n---- LF:\n{}",
                    String::from_utf8_lossy(&got[path]),
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
    // And the multi-line scalars are what YAML says they are, with either line break.
    let out = render_text(MULTILINE.replace('\n', "\r\n").as_bytes());
    let apirule =
        yaml(std::str::from_utf8(&out["apirules/httpbin-system/httpbin.yaml"]).expect("UTF-8"));
    let headers = &apirule["spec"]["rules"][0]["request"]["headers"];
    assert_eq!(headers["X-Literal"], "line one\nline two\n");
    assert_eq!(headers["X-Folded"], "folded text");
    assert_eq!(headers["X-Double"], "double quoted");
    assert_eq!(headers["X-Single"], "single\nquoted");
    assert_eq!(headers["X-Plain"], "plain multi line");
}

// ------------------------------------------------------------------------------------------
// Resource bounds that hold.

/// Nine levels of ten aliases: 10^9 nodes if expanded. The target is under 100 ms
/// and under 50 MB; CI asserts 2 s (a debug build on a shared machine) and 50 MB.
#[test]
fn an_alias_bomb_is_rejected_quickly_and_in_little_memory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut text = format!("{HEAD}metadata:\n  name: &a \"lol\"\n");
    let mut prev = 'a';
    for c in 'b'..='j' {
        let aliases = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("  {c}: &{c} [{aliases}]\n"));
        prev = c;
    }
    fs::write(tmp.path().join("bomb.yaml"), &text).expect("write");
    let run = run_bounded(
        &["validate", "bomb.yaml"],
        tmp.path(),
        Duration::from_secs(10),
    );
    report("alias bomb", &run);
    assert_rejected(&run, "alias bomb", 1, "yaml-alias-budget");
    assert!(
        run.elapsed < Duration::from_secs(2),
        "alias bomb took {:?}",
        run.elapsed
    );
    if let Some(kib) = run.max_rss_kib {
        assert!(kib < 50 * 1024, "alias bomb peak RSS {kib} KiB");
    }

    // In-process, the loader alone.
    let src = kexpose::source::SourceFile::new("bomb.yaml", text);
    let start = Instant::now();
    let result = kexpose::yaml::parse(&src, true);
    let elapsed = start.elapsed();
    eprintln!("alias bomb, loader only: {elapsed:?}");
    assert!(result.is_err());
    assert!(elapsed < Duration::from_secs(2), "loader took {elapsed:?}");
}

/// One anchor of 9 000 nodes referenced again and again: each alias is counted at its full
/// size, so the second reference crosses the budget.
#[test]
fn a_wide_alias_is_counted_at_its_full_size() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let big = "    - x\n".repeat(9_000);
    let refs: String = (0..5_000).map(|i| format!("  r{i}: *a\n")).collect();
    fs::write(
        tmp.path().join("wide.yaml"),
        format!("{HEAD}metadata:\n  a: &a\n{big}{refs}"),
    )
    .expect("write");
    let run = run_bounded(
        &["validate", "wide.yaml"],
        tmp.path(),
        Duration::from_secs(20),
    );
    report("wide alias", &run);
    assert_rejected(&run, "wide alias", 1, "yaml-alias-budget");
    // `r0` (line 9 005) adds 9 001 nodes, `r1` (line 9 006) crosses the budget.
    assert!(run.stderr.contains("wide.yaml:9006:7"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
}

/// Nesting 10 000 levels deep, in flow and block style: rejected at once, no stack overflow.
#[test]
fn deep_nesting_is_rejected_quickly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let inputs = [
        (
            "flow-seq",
            format!(
                "{HEAD}metadata: {}{}\n",
                "[".repeat(10_000),
                "]".repeat(10_000)
            ),
        ),
        (
            "flow-map",
            format!(
                "{HEAD}metadata: {}1{}\n",
                "{a: ".repeat(10_000),
                "}".repeat(10_000)
            ),
        ),
        (
            "block-seq",
            format!("{HEAD}metadata:\n  {}x\n", "- ".repeat(10_000)),
        ),
        (
            "unclosed",
            format!("{HEAD}metadata: {}\n", "[{a: ".repeat(5_000)),
        ),
    ];
    for (name, text) in inputs {
        let file = format!("{name}.yaml");
        fs::write(tmp.path().join(&file), text).expect("write");
        let run = run_bounded(&["validate", &file], tmp.path(), Duration::from_secs(10));
        report(&format!("10 000 levels, {name}"), &run);
        assert_rejected(&run, name, 1, "yaml-too-deep");
        assert!(
            run.elapsed < Duration::from_secs(2),
            "{name} took {:?}",
            run.elapsed
        );
    }
}

/// A 20 MB spec is refused by its size, before it is read.
#[test]
fn a_twenty_megabyte_spec_is_refused_by_its_size() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let line = "# padding padding padding padding padding padding padding padding padding\n";
    let text = format!("{HEAD}{}", line.repeat(20_000_000 / line.len() + 1));
    assert!(text.len() > 20_000_000);
    fs::write(tmp.path().join("big.yaml"), text).expect("write");
    let run = run_bounded(
        &["validate", "big.yaml"],
        tmp.path(),
        Duration::from_secs(10),
    );
    report("20 MB", &run);
    assert_rejected(&run, "20 MB", 1, "input-too-large");
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
    if let Some(kib) = run.max_rss_kib {
        assert!(kib < 50 * 1024, "peak RSS {kib} KiB: the file was read");
    }
}

// ------------------------------------------------------------------------------------------
// Resource bounds that kexpose misses today (each a bug with its reproducer).

/// `n` flow items on one line: `metadata: {a: [x, x, …]}`.
fn long_line(n: usize) -> String {
    format!("{HEAD}metadata: {{a: [{}]}}\n", vec!["x"; n].join(", "))
}

/// A 300 KB spec whose scalars are all on one line must be checked in well under 10 s.
/// Today the loader computes each scalar's column by counting characters from the start of
/// its line (`SourceFile::span_at_line_col`), which is quadratic in the line's length: 100 000
/// items take 11 s in a release build, and a 16 MiB line would take hours. The same happens
/// to the long lines templates write and kexpose parses back: the kustomization's `resources`
/// list of 20 000 workloads takes 5 s.
#[test]
fn a_long_line_is_loaded_in_linear_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    fs::write(tmp.path().join("long.yaml"), long_line(100_000)).expect("write");
    let run = run_bounded(
        &["validate", "long.yaml"],
        tmp.path(),
        Duration::from_secs(10),
    );
    report("100 000 items on one line", &run);
    assert_rejected(&run, "long line", 1, "schema-unknown-field");
}

/// 10 000 duplicate keys (240 KB) must be reported in well under 10 s. Rendering a
/// diagnostic used to hand annotate-snippets the whole source; it now hands it only the lines
/// around each annotation (a far-away "first occurrence" gets a snippet of its own). Before the fix 20 000 findings in a 240 KB file took 9.7 s in
/// a release build, and a 12 MB file of 1 million duplicate keys did not finish in 2 minutes.
#[test]
fn many_findings_are_reported_in_linear_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dups = "  domain: a.example.com\n".repeat(10_000);
    fs::write(
        tmp.path().join("dups.yaml"),
        format!("{HEAD}cluster:\n{dups}"),
    )
    .expect("write");
    let run = run_bounded(
        &["validate", "dups.yaml"],
        tmp.path(),
        Duration::from_secs(10),
    );
    report("10 000 duplicate keys", &run);
    assert_rejected(&run, "duplicate keys", 1, "yaml-duplicate-key");
}

/// 20 000 rules of one workload (1 MB) must be checked in well under 8 s (debug build). Today the path
/// conflict check compares every rule with every earlier one (`check::apirule` →
/// `PathPattern::covers`): 20 000 rules take 3.6 s in a release build, 100 000 rules (5 MB)
/// over two minutes.
#[test]
fn many_rules_are_checked_in_reasonable_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rules: String = (0..20_000)
        .map(|i| format!("      - {{path: /p{i}, methods: [GET], noAuth: true}}\n"))
        .collect();
    fs::write(
        tmp.path().join("rules.yaml"),
        format!(
            "{HEAD}cluster: {{domain: a.example.com}}\nworkloads:\n  - name: w\n    namespace: n\n    host: h\n    service: {{port: 80}}\n    rules:\n{rules}"
        ),
    )
    .expect("write");
    let run = run_bounded(
        &["validate", "rules.yaml"],
        tmp.path(),
        Duration::from_secs(8),
    );
    report("20 000 rules", &run);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

/// The spec's file name goes into the header comment of every output. A file name with a
/// line break (legal on Linux; anyone with write access to a repository can commit one) must
/// stay inside the comment: `render::header` escapes it (`x\n---…` on the one comment line).
#[cfg(unix)]
#[test]
fn a_file_name_with_a_line_break_stays_in_the_header_comment() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let name = "x\n---\nkind: Evil\n#.yaml";
    let spec = fs::read_to_string(root().join("fixtures/rich/kexpose.yaml")).expect("rich");
    fs::write(tmp.path().join(name), spec).expect("write");
    let run = kexpose(&["render", name, "-o", "out"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (path, bytes) in read_tree(&tmp.path().join("out")) {
        let text = String::from_utf8(bytes).expect("UTF-8");
        for line in text.lines().filter(|l| l.contains("kind: Evil")) {
            assert!(
                line.starts_with("# Generated by kexpose from x\\n"),
                "{path}:\n{text}"
            );
        }
    }
}

/// Found by fuzzing (`compile_bytes`: 19 crashes in 18 minutes, all this one; fixed meanwhile
/// by the rewrite of `syntax_error` in 9197897): a syntax error whose message
/// contains "tab" ("found unprintable character" does) on a line with multi-byte characters
/// before the error made `yaml::syntax_error` compute the line start as byte offset minus
/// column (a character count) and slice inside a character: panic.
#[test]
fn an_unprintable_character_after_non_ascii_text_is_a_syntax_error() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, line, at) in [
        ("nul.yaml", "ééé: x\u{0}\n", "nul.yaml:3:7"),
        ("fuzz.yaml", "\u{fffd}t\u{0}\u{0}\u{0}", "fuzz.yaml:3:3"),
    ] {
        fs::write(
            tmp.path().join(name),
            format!("apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\n{line}"),
        )
        .expect("write");
        let run = kexpose(&["validate", name], tmp.path());
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("error[yaml-syntax]"),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(at),
            "{name}: not at {at}: {}",
            run.stderr
        );
    }
}
