//! Conformance against the real components (docs/conformance.md): the Go programs under
//! `conformance/` run what the kexpose binary emits through the real oauth2-proxy (built from its
//! Go module at the version `conformance/oauth2-proxy/go.mod` pins), a real OIDC provider on
//! loopback, the check request Envoy sends, kube-apiserver's own CRD validation code, and
//! istiod's own validation of the plain-Istio target (`conformance/istio`).
//!
//! Go is needed. Without it the tests are skipped with a printed reason, except under `CI=true`,
//! where a missing Go fails them. The Go programs are built once per run, with Go's default build
//! and module caches; every process started is stopped (the runner's oauth2-proxy children die
//! with it, and the runner is killed when its guard drops).
#![allow(clippy::print_stdout, clippy::print_stderr)] // it reports what it ran, or why it skipped

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

struct Bins {
    runner: PathBuf,
    apivalidate: PathBuf,
    oauth2_proxy: PathBuf,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The pinned oauth2-proxy version: the one place it is recorded.
fn oauth2_proxy_version() -> String {
    let gomod = std::fs::read_to_string(root().join("conformance/oauth2-proxy/go.mod"))
        .expect("conformance/oauth2-proxy/go.mod");
    gomod
        .lines()
        .filter_map(|l| {
            let mut f = l.trim().trim_start_matches("require ").split_whitespace();
            (f.next() == Some("github.com/oauth2-proxy/oauth2-proxy/v7")).then(|| f.next())?
        })
        .next()
        .expect("go.mod requires github.com/oauth2-proxy/oauth2-proxy/v7")
        .to_string()
}

fn go_build(dir: &Path, args: &[&str]) {
    let out = Command::new("go")
        // no VCS stamping: the binaries are test tools, and a checkout without git must build
        .args(["build", "-buildvcs=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build {args:?} in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the Go programs once per test run; `None` when Go is missing outside CI.
fn bins() -> Option<&'static Bins> {
    static BINS: OnceLock<Option<Bins>> = OnceLock::new();
    BINS.get_or_init(|| {
        if !go_available() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but `go` is not on PATH: the conformance suite needs Go (see docs/conformance.md)"
            );
            eprintln!(
                "SKIPPED: the conformance suite needs Go on PATH (go.dev/dl); it is skipped outside CI"
            );
            return None;
        }
        let bin = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("conformance-bin");
        std::fs::create_dir_all(&bin).expect("create bin dir");
        let started = std::time::Instant::now();
        let conf = root().join("conformance");
        go_build(
            &conf,
            &["-o", &format!("{}/", bin.display()), "./runner", "./apivalidate"],
        );
        let version = oauth2_proxy_version();
        go_build(
            &conf.join("oauth2-proxy"),
            &[
                &format!(
                    "-ldflags=-X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION={version}"
                ),
                "-o",
                &bin.join("oauth2-proxy").to_string_lossy(),
                "github.com/oauth2-proxy/oauth2-proxy/v7",
            ],
        );
        eprintln!("built the conformance programs in {:.1?}", started.elapsed());
        Some(Bins {
            runner: bin.join("runner"),
            apivalidate: bin.join("apivalidate"),
            oauth2_proxy: bin.join("oauth2-proxy"),
        })
    })
    .as_ref()
}

/// Kills the child when dropped (a failing assertion or a panic must not leave it running).
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn wait(mut self) -> Output {
        self.0
            .take()
            .expect("child")
            .wait_with_output()
            .expect("wait")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(program: &Path, args: &[&str]) -> Output {
    let child = Command::new(program)
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    KillOnDrop(Some(child)).wait()
}

fn report(what: &str, out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{stderr}",
        out.status,
        stdout
            .lines()
            .filter(|l| !l.starts_with("ok "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every spec kexpose accepts starts the real oauth2-proxy; valid client-credentials tokens pass
/// the Envoy check request and every other token is denied, as `kexpose explain` predicts; the
/// pathPrefix probes; and every case of `conformance/cases.yaml`.
#[test]
fn real_oauth2_proxy_behind_envoy_check_requests() {
    let Some(b) = bins() else { return };
    // the runner's own unit tests: the chart's rendering and the check request
    let unit = Command::new("go")
        .args(["test", "./runner"])
        .current_dir(root().join("conformance"))
        .output()
        .expect("go test");
    assert!(
        unit.status.success(),
        "go test ./runner:\n{}{}",
        String::from_utf8_lossy(&unit.stdout),
        String::from_utf8_lossy(&unit.stderr)
    );
    let out = run(
        &b.runner,
        &[
            "-kexpose",
            env!("CARGO_BIN_EXE_kexpose"),
            "-oauth2-proxy",
            &b.oauth2_proxy.to_string_lossy(),
            "-repo",
            &root().to_string_lossy(),
        ],
    );
    report("the oauth2-proxy conformance run", &out);
}

/// Every emitted APIRule and Istio CR (fixtures, golden trees, round-trip specs) passes
/// kube-apiserver's validation of the real CRDs; each case of `conformance/apirule-cases.yaml` is
/// rejected (or accepted) as recorded; the stored CRDs match their recorded sha256.
/// With `-istio-crds`, the plain-Istio golden trees against Istio's own CRDs too (structural
/// schemas and CEL rules of VirtualService, AuthorizationPolicy, RequestAuthentication), read from
/// the istio.io/istio module `conformance/istio/go.mod` pins (go.sum verifies its content).
#[test]
fn api_server_validation_of_emitted_objects() {
    let Some(b) = bins() else { return };
    // `go list -m` names the module's directory only once it is in the module cache: on a
    // fresh machine nothing has downloaded it yet (istiovalidate builds in another test).
    let download = Command::new("go")
        .args(["mod", "download", "istio.io/istio"])
        .current_dir(root().join("conformance/istio"))
        .output()
        .expect("go mod download istio.io/istio");
    assert!(
        download.status.success(),
        "go mod download istio.io/istio: {}",
        String::from_utf8_lossy(&download.stderr)
    );
    let istio_dir = Command::new("go")
        .args(["list", "-m", "-f", "{{.Dir}}", "istio.io/istio"])
        .current_dir(root().join("conformance/istio"))
        .output()
        .expect("go list -m istio.io/istio");
    assert!(
        istio_dir.status.success(),
        "go list -m istio.io/istio: {}",
        String::from_utf8_lossy(&istio_dir.stderr)
    );
    let istio_dir = String::from_utf8_lossy(&istio_dir.stdout)
        .trim()
        .to_string();
    assert!(
        !istio_dir.is_empty(),
        "go list -m istio.io/istio named no directory after go mod download"
    );
    let istio_crds = PathBuf::from(istio_dir).join("manifests/charts/base/files/crd-all.gen.yaml");
    let out = run(
        &b.apivalidate,
        &[
            "-crds",
            "conformance/crds",
            "-istio-crds",
            &istio_crds.to_string_lossy(),
            "-repo",
            &root().to_string_lossy(),
            "-kexpose",
            env!("CARGO_BIN_EXE_kexpose"),
        ],
    );
    report("the API server validation", &out);
}

/// Istio's validation program (`conformance/istio`, its own module: istio.io/istio is large and
/// its dependency versions must not move the other programs'). Built once per run, by the one
/// test that needs it, so the other suites do not wait for it; `None` when Go is missing outside
/// CI (`bins()` decides and reports).
fn istio_bin() -> Option<&'static PathBuf> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        bins()?;
        let bin = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("conformance-bin")
            .join("istiovalidate");
        let started = std::time::Instant::now();
        go_build(
            &root().join("conformance/istio"),
            &["-o", &bin.to_string_lossy(), "."],
        );
        eprintln!("built istiovalidate in {:.1?}", started.elapsed());
        Some(bin)
    })
    .as_ref()
}

/// Every VirtualService, AuthorizationPolicy and RequestAuthentication `kexpose render --target
/// istio` writes (golden trees and a fresh render of every fixture and round-trip spec) passes
/// istiod's own validating webhook, and every mesh config file istiod's mesh config validation;
/// each case of `conformance/istio-cases.yaml` is rejected with its recorded message.
#[test]
fn istio_validation_of_the_plain_istio_target() {
    let Some(bin) = istio_bin() else { return };
    let out = run(
        bin,
        &[
            "-repo",
            &root().to_string_lossy(),
            "-kexpose",
            env!("CARGO_BIN_EXE_kexpose"),
        ],
    );
    report("the Istio validation", &out);
}

/// docs/conformance.md has a row for every oauth2-proxy, authorizer and APIRule code, and every
/// code the case tables name exists (a renamed code must not leave a stale case behind).
#[test]
fn conformance_table_covers_every_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_kexpose"))
        .arg("codes")
        .output()
        .expect("kexpose codes");
    let codes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(codes.len() > 20, "kexpose codes printed {codes:?}");
    let doc = std::fs::read_to_string(root().join("docs/conformance.md")).expect("docs");
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with('|')).collect();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| {
            c.starts_with("oauth2-proxy-")
                || c.starts_with("authorizer-")
                || c.starts_with("apirule-")
                || *c == "port-range"
        })
        .filter(|c| !rows.iter().any(|r| r.contains(&format!("`{c}`"))))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/conformance.md has no table row for {missing:?}"
    );
    for table in ["conformance/cases.yaml", "conformance/apirule-cases.yaml"] {
        let text = std::fs::read_to_string(root().join(table)).expect(table);
        for code in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("code: "))
            .filter(|c| *c != "none")
        {
            assert!(
                codes.iter().any(|c| c == code),
                "{table} names code `{code}`, which `kexpose codes` does not list"
            );
        }
    }
}
