//! No credential value in any output: every spec of `tests/secrets/` carries values containing
//! `s3cr3t` in fields and oauth2-proxy flags that hold credentials (some also repeated on
//! another line an excerpt shows). Every output channel — `validate` (plain and coloured),
//! `render -o DIR`, `render -o -`, `render --check`, `diff` in every format, `explain` — is
//! searched for them.
//!
//! Not searched: the generated manifests themselves. A credential flag that oauth2-proxy accepts
//! in `extraArgs` (`redis-password`, …) is passed to the chart, so the values file carries it by
//! design; what is checked here is that no report about it quotes it.

mod common;

use common::{Run, kexpose, root};
use std::path::Path;

const NEEDLE: &str = "s3cr3t";

fn assert_clean(what: &str, run: &Run) {
    for (channel, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.to_lowercase().contains(NEEDLE),
            "{what}: a credential value on {channel}:\n{text}"
        );
    }
}

fn corpus() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/secrets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the corpus is in tests/secrets");
    files
}

/// Every channel that reports on a spec with errors.
#[test]
fn no_channel_prints_a_credential_of_a_broken_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for spec in corpus() {
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(text.contains(NEEDLE), "{} has no secret", spec.display());
        let s = spec.to_str().unwrap();
        let out = tmp.path().join("out");
        let o = out.to_str().unwrap();
        let e = empty.to_str().unwrap();
        let runs: Vec<(&str, Vec<&str>)> = vec![
            ("validate", vec!["validate", s]),
            (
                "validate --color always",
                vec!["validate", "--color", "always", s],
            ),
            ("validate --strict", vec!["validate", "--strict", s]),
            ("render -o DIR", vec!["render", s, "-o", o]),
            ("render -o -", vec!["render", s, "-o", "-"]),
            ("render --check", vec!["render", s, "-o", e, "--check"]),
            ("diff text", vec!["diff", s, "-o", e]),
            (
                "diff markdown",
                vec!["diff", s, "-o", e, "--format", "markdown"],
            ),
            ("diff json", vec!["diff", s, "-o", e, "--format", "json"]),
            ("explain", vec!["explain", s]),
            (
                "explain request",
                vec![
                    "explain",
                    s,
                    "GET",
                    "https://httpbin.c-1a2b3c.example.com/api/x",
                ],
            ),
        ];
        for (what, args) in runs {
            let run = kexpose(&args, root().as_path());
            assert_ne!(run.code, 0, "{}: {what} should fail", spec.display());
            assert_clean(&format!("{} {what}", spec.display()), &run);
        }
    }
}

/// A valid spec with credential flags oauth2-proxy accepts: the reports about its output —
/// `render`'s file list, `render --check` and `diff` after a credential changed, `explain` —
/// never show the values (the values file itself carries them: the chart needs them).
#[test]
fn reports_about_valid_output_mask_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let broken =
        std::fs::read_to_string(root().join("tests/secrets/accepted-credential-flags.yaml"))
            .unwrap();
    let valid = broken.replace("/api/*", "/api/{**}");
    let spec = tmp.path().join("kexpose.yaml");
    std::fs::write(&spec, &valid).unwrap();
    let out = tmp.path().join("out");
    let (s, o) = (spec.to_str().unwrap(), out.to_str().unwrap());
    let dir = Path::new(tmp.path());
    let first = kexpose(&["render", s, "-o", o], dir);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_clean("render -o DIR", &first);
    let values = std::fs::read_to_string(out.join("helm/oauth2-proxy/values.yaml")).unwrap();
    assert!(
        values.contains("s3cr3t-redis-7"),
        "the chart gets the flag:\n{values}"
    );
    let stream = kexpose(&["render", s, "-o", "-"], dir);
    assert_eq!(stream.code, 0, "{}", stream.stderr);
    assert_clean("render -o - (default)", &stream);

    // A changed credential: what would change is reported without either value.
    std::fs::write(
        &spec,
        valid.replace("s3cr3t-redis-7", "s3cr3t-redis-7-rotated"),
    )
    .unwrap();
    for (what, args) in [
        ("render --check", vec!["render", s, "-o", o, "--check"]),
        ("diff text", vec!["diff", s, "-o", o]),
        (
            "diff markdown",
            vec!["diff", s, "-o", o, "--format", "markdown"],
        ),
        ("diff json", vec!["diff", s, "-o", o, "--format", "json"]),
        ("explain", vec!["explain", s]),
        (
            "explain request",
            vec![
                "explain",
                s,
                "GET",
                "https://httpbin.c-1a2b3c.example.com/api/x",
            ],
        ),
    ] {
        let run = kexpose(&args, dir);
        assert_clean(what, &run);
        if what.starts_with("diff") || what.starts_with("render") {
            assert_eq!(
                run.code, 1,
                "{what} sees the change: {}{}",
                run.stdout, run.stderr
            );
        }
    }
}
