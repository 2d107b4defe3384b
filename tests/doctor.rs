//! `kexpose doctor` against a real OpenID provider on loopback (tests/doctor/provider.rs):
//! each finding, its location, the exit code, and that the client secret never appears.

mod common;
#[path = "doctor/provider.rs"]
mod provider;

use provider::{Behaviour, CLIENT_ID, CLIENT_SECRET, Provider};
use serde_json::json;
use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

const SPEC: &str = r#"apiVersion: kexpose.dev/v1alpha1
kind: Exposure
cluster:
  domain: example.com
identityProviders:
  - name: idp
    issuer: ISSUER
    jwksUri: JWKS
authorizers:
  - name: oauth2-proxy
    type: oauth2-proxy
    identityProvider: idp
    clientId: kexpose-test-client
workloads:
  - name: orders
    namespace: shop
    host: orders
    service:
      port: 8080
    rules:
      - path: /public
        methods: [GET]
        noAuth: true
      - path: /api/{**}
        methods: [GET]
        jwt:
          requiredScopes: [orders.read]
      - path: /admin/{*}
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
"#;

/// Write the spec (issuer = the provider, jwksUri = `jwks_path` on it) and the CA file.
fn setup(p: &Provider, jwks_path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = SPEC
        .replace("ISSUER", &p.base())
        .replace("JWKS", &format!("{}{jwks_path}", p.base()));
    std::fs::write(dir.path().join("kexpose.yaml"), spec).unwrap();
    std::fs::write(dir.path().join("ca.pem"), &p.ca_pem).unwrap();
    dir
}

fn doctor(dir: &Path, args: &[&str], credentials: bool) -> Run {
    doctor_env(dir, args, credentials, &[])
}

fn doctor_env(dir: &Path, args: &[&str], credentials: bool, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kexpose"));
    cmd.arg("doctor")
        .arg("kexpose.yaml")
        .args(["--ca-file", "ca.pem"])
        .args(if args.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "5"][..]
        })
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    // Loopback must not go through a proxy of the machine running the tests.
    for v in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if credentials {
        cmd.env("KEXPOSE_CLIENT_ID", CLIENT_ID)
            .env("KEXPOSE_CLIENT_SECRET", CLIENT_SECRET);
    } else {
        cmd.env_remove("KEXPOSE_CLIENT_ID")
            .env_remove("KEXPOSE_CLIENT_SECRET");
    }
    let out = cmd.output().expect("the binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(CLIENT_SECRET) && !run.stderr.contains(CLIENT_SECRET),
        "the client secret leaked:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Run in every format; the secret is checked in each (by `doctor`). Returns the JSON.
fn all_formats(
    dir: &Path,
    args: &[&str],
    credentials: bool,
    code: i32,
) -> (Run, serde_json::Value) {
    let text = doctor(dir, args, credentials);
    assert_eq!(text.code, code, "text:\n{}\n{}", text.stdout, text.stderr);
    let md = doctor(
        dir,
        &[args, &["--format", "markdown"]].concat(),
        credentials,
    );
    assert_eq!(md.code, code, "markdown:\n{}", md.stdout);
    let js = doctor(dir, &[args, &["--format", "json"]].concat(), credentials);
    assert_eq!(js.code, code, "json:\n{}", js.stdout);
    let v: serde_json::Value = serde_json::from_str(&js.stdout).expect("JSON report");
    (text, v)
}

/// `(code, line)` of each finding in the JSON report.
fn findings(v: &serde_json::Value) -> Vec<(String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn matching_setup_passes() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], true, 0);
    assert_eq!(findings(&v), vec![], "{}", text.stdout);
    assert!(text.stdout.contains("ALLOWED"), "{}", text.stdout);
    assert!(
        text.stdout.contains("signature verified with"),
        "{}",
        text.stdout
    );
    let access = v["access"].as_array().unwrap();
    assert_eq!(access.len(), 4, "{access:#?}");
    assert!(
        access.iter().all(|j| j["decision"] == "allowed"),
        "{access:#?}"
    );
    assert_eq!(v["token"]["aud"], json!([CLIENT_ID, "orders-api"]));
    // Without credentials: only the provider checks, still clean.
    let (_, v) = all_formats(dir.path(), &[], false, 0);
    assert_eq!(v["token"], serde_json::Value::Null);
}

#[test]
fn issuer_with_a_trailing_slash_in_discovery_is_the_crashloop() {
    let p = Provider::start(Behaviour::default());
    let issuer = format!("{}/", p.base());
    p.behaviour.lock().unwrap().discovery_issuer = Some(issuer.clone());
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], false, 1);
    assert!(
        findings(&v).contains(&("doctor-issuer-mismatch".into(), 7)),
        "{}",
        text.stdout
    );
    // The exact message oauth2-proxy 7.15.3 exits with.
    let expected = format!(
        "ERROR: Failed to initialise OAuth2 Proxy: error initialising provider: could not create provider data: error building OIDC ProviderVerifier: could not get verifier builder: error while discovery OIDC configuration: oidc: issuer did not match the issuer returned by provider, expected \"{}\" got \"{issuer}\"",
        p.base()
    );
    assert!(text.stdout.contains(&expected), "{}", text.stdout);
    assert!(text.stdout.contains("kexpose.yaml:7:13"), "{}", text.stdout);
}

/// The other direction (conformance disagreement 1): the spec's issuer has a trailing `/`, the
/// provider publishes none. `kexpose validate` cannot know which form a non-IAS provider
/// publishes; doctor fetches the discovery document (one `/` trimmed, as oauth2-proxy does) and
/// reports the byte mismatch the real oauth2-proxy exits with (conformance case
/// `issuer-trailing-slash`).
#[test]
fn spec_issuer_with_a_trailing_slash_the_provider_does_not_publish() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let path = dir.path().join("kexpose.yaml");
    let spec = std::fs::read_to_string(&path).unwrap().replace(
        &format!("issuer: {}\n", p.base()),
        &format!("issuer: {}/\n", p.base()),
    );
    assert!(spec.contains(&format!("issuer: {}/\n", p.base())));
    std::fs::write(&path, spec).unwrap();
    let (text, v) = all_formats(dir.path(), &[], false, 1);
    assert!(
        findings(&v).contains(&("doctor-issuer-mismatch".into(), 7)),
        "{}",
        text.stdout
    );
    let expected = format!(
        "oidc: issuer did not match the issuer returned by provider, expected \"{}/\" got \"{}\"",
        p.base(),
        p.base()
    );
    assert!(text.stdout.contains(&expected), "{}", text.stdout);
}

#[test]
fn jwks_at_a_different_url() {
    let p = Provider::start(Behaviour {
        other_jwks_differs: true,
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks-other");
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    let f = findings(&v);
    assert!(
        f.contains(&("doctor-jwks-uri-mismatch".into(), 8)),
        "{}",
        text.stdout
    );
    // The key sets differ: an error, and Istio's verification of the token fails.
    assert!(
        text.stdout.contains("error[doctor-jwks-uri-mismatch]"),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-token-signature".into(), 8)),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-token-denied".into(), 24)),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("Jwt verification fails"),
        "{}",
        text.stdout
    );

    // The same keys at another URL: a warning only.
    p.behaviour.lock().unwrap().other_jwks_differs = false;
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    assert_eq!(
        findings(&v),
        vec![("doctor-jwks-uri-mismatch".into(), 8)],
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("warning[doctor-jwks-uri-mismatch]"),
        "{}",
        text.stdout
    );
}

#[test]
fn token_for_another_audience() {
    let p = Provider::start(Behaviour {
        aud: json!("someone-else"),
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    let f = findings(&v);
    // oauth2-proxy refuses it (at the authorizer's clientId), so does the extAuth rule.
    assert!(
        f.contains(&("doctor-token-denied".into(), 13)),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-token-denied".into(), 28)),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "audience from claim aud with value [someone-else] does not match with any of allowed audiences map[kexpose-test-client:{}]"
        ),
        "{}",
        text.stdout
    );
    // The jwt rule does not check audiences: still allowed.
    let api = v["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["subject"] == "GET /api/{**}")
        .unwrap();
    assert_eq!(api["decision"], "allowed");
}

#[test]
fn token_without_the_required_scope() {
    let p = Provider::start(Behaviour {
        scope: Some("orders.write".into()),
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    assert_eq!(
        findings(&v),
        vec![("doctor-token-denied".into(), 24)],
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("RBAC: access denied: scopes orders.read not all in one of scp, scope, scopes (token has scope=[orders.write])"),
        "{}",
        text.stdout
    );
}

#[test]
fn expired_token() {
    let p = Provider::start(Behaviour {
        lifetime: -600,
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    let f = findings(&v);
    assert!(
        f.contains(&("doctor-token-denied".into(), 12)),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-token-denied".into(), 24)),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("oidc: token is expired (Token Expiry: "),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Jwt is expired"), "{}", text.stdout);
}

#[test]
fn unreachable_issuer_is_exit_2() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let spec = std::fs::read_to_string(dir.path().join("kexpose.yaml"))
        .unwrap()
        .replace(&p.base(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(dir.path().join("kexpose.yaml"), spec).unwrap();
    let (text, v) = all_formats(dir.path(), &[], true, 2);
    assert!(
        findings(&v).contains(&("doctor-unreachable".into(), 7)),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("kexpose.yaml:7:13"), "{}", text.stdout);
}

#[test]
fn no_client_credentials_grant_and_no_common_algorithm() {
    let p = Provider::start(Behaviour {
        grant_types: vec!["authorization_code".into()],
        algs: vec!["HS256".into()],
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], false, 1);
    let f = findings(&v);
    assert!(
        f.contains(&("doctor-grant-type-missing".into(), 7)),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-no-common-algorithm".into(), 7)),
        "{}",
        text.stdout
    );
}

#[test]
fn probe_agrees_with_a_mesh_that_enforces_the_spec_and_names_a_mismatch() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let connect = p.addr.to_string();
    let args = ["--probe", "--connect-to", connect.as_str()];
    let (text, v) = all_formats(dir.path(), &args, true, 0);
    // Shown with `-- --nocapture`: the report a user reads.
    #[allow(clippy::print_stdout)]
    {
        println!("{}", text.stdout);
    }
    let probes = v["probes"].as_array().unwrap();
    // Three GET rules, each without and with the token.
    assert_eq!(probes.len(), 6, "{}", text.stdout);
    assert!(
        probes.iter().all(|p| p["agrees"] == true),
        "{}",
        text.stdout
    );
    let api_no_token = probes
        .iter()
        .find(|p| {
            p["url"] == "https://orders.example.com/api/kexpose-probe" && p["withToken"] == false
        })
        .unwrap();
    assert_eq!(api_no_token["status"], 403);

    // A cluster where /api is open: the probe without a token disagrees.
    p.behaviour.lock().unwrap().open_api = true;
    let (text, v) = all_formats(dir.path(), &args, true, 1);
    assert_eq!(
        findings(&v),
        vec![("doctor-probe-mismatch".into(), 24)],
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("GET https://orders.example.com/api/kexpose-probe without a token: the model predicts denied with 403"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("the live answer is 200"),
        "{}",
        text.stdout
    );
}

#[test]
fn credentials_come_only_from_the_environment() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let run = doctor(
        dir.path(),
        &["--token-param", &format!("client_secret={CLIENT_SECRET}")],
        true,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    // A wrong secret: the token endpoint refuses, the secret is not shown.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kexpose"));
    let out = cmd
        .args(["doctor", "kexpose.yaml", "--ca-file", "ca.pem"])
        .current_dir(dir.path())
        .env("KEXPOSE_CLIENT_ID", CLIENT_ID)
        .env("KEXPOSE_CLIENT_SECRET", "wrong-secret-value")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("doctor-token-request"), "{stdout}");
    assert!(stdout.contains("invalid_client"), "{stdout}");
    assert!(!stdout.contains("wrong-secret-value"), "{stdout}");
    let _ = common::root();
}

#[test]
fn https_proxy_and_no_proxy_are_honoured() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = format!("http://127.0.0.1:{closed}");
    // Through a proxy that does not answer: no answer, exit 2.
    let run = doctor_env(dir.path(), &[], true, &[("HTTPS_PROXY", &proxy)]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("error[doctor-unreachable]"),
        "{}",
        run.stdout
    );
    // NO_PROXY exempts the provider.
    let run = doctor_env(
        dir.path(),
        &[],
        true,
        &[("HTTPS_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_provider_that_never_answers_times_out() {
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let conns: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(4));
        drop(conns);
    });
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let spec = std::fs::read_to_string(dir.path().join("kexpose.yaml"))
        .unwrap()
        .replace(&p.base(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(dir.path().join("kexpose.yaml"), spec).unwrap();
    let run = doctor(dir.path(), &["--timeout", "1"], false);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("timed out"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    held.join().unwrap();
}

#[test]
fn several_providers_need_identity_provider_for_the_token() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let spec = std::fs::read_to_string(dir.path().join("kexpose.yaml"))
        .unwrap()
        .replace(
            "authorizers:\n",
            &format!(
                "  - name: other\n    issuer: {0}/other\n    jwksUri: {0}/jwks\nauthorizers:\n",
                p.base()
            ),
        )
        .replace(
            "      - path: /public\n",
            "      - path: /other\n        methods: [GET]\n        jwt:\n          identityProvider: other\n      - path: /public\n",
        )
        .replace(
            "        jwt:\n          requiredScopes",
            "        jwt:\n          identityProvider: idp\n          requiredScopes",
        );
    std::fs::write(dir.path().join("kexpose.yaml"), spec).unwrap();
    let run = doctor(dir.path(), &[], true);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("name the one that issues the token with --identity-provider"),
        "{}",
        run.stderr
    );
    // Named: the token of `idp` is judged; `other`'s discovery (a 404 here) is a finding.
    let run = doctor(dir.path(), &["--identity-provider", "idp"], true);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("error[doctor-discovery-failed]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ALLOWED       GET /api/{**}"),
        "{}",
        run.stdout
    );
    let run = doctor(dir.path(), &["--identity-provider", "nope"], true);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn empty_jwks() {
    let p = Provider::start(Behaviour {
        empty_jwks: true,
        ..Behaviour::default()
    });
    let dir = setup(&p, "/jwks");
    let (text, v) = all_formats(dir.path(), &[], true, 1);
    let f = findings(&v);
    assert!(
        f.contains(&("doctor-jwks-unavailable".into(), 7)),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("holds no signing key"),
        "{}",
        text.stdout
    );
    // No key, no valid signature: every protected rule denies the token.
    assert!(
        f.contains(&("doctor-token-signature".into(), 7)),
        "{}",
        text.stdout
    );
    assert!(
        f.contains(&("doctor-token-denied".into(), 24)),
        "{}",
        text.stdout
    );
}

#[test]
fn oidc_enabled_signing_alg_without_a_common_algorithm_is_the_crashloop() {
    let p = Provider::start(Behaviour::default());
    let dir = setup(&p, "/jwks");
    let spec = std::fs::read_to_string(dir.path().join("kexpose.yaml"))
        .unwrap()
        .replace(
            "    clientId: kexpose-test-client\n",
            "    clientId: kexpose-test-client\n    extraArgs:\n      oidc-enabled-signing-alg: ES256\n",
        );
    std::fs::write(dir.path().join("kexpose.yaml"), spec).unwrap();
    let (text, v) = all_formats(dir.path(), &[], false, 1);
    assert_eq!(
        findings(&v),
        vec![("doctor-no-common-algorithm".into(), 15)],
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("could not get verifier builder: error while determining supported signing algorithms: no supported signing algorithms in common between provider and configuration: discovered=[RS256], configured=[ES256]"),
        "{}",
        text.stdout
    );
}

/// Not a test: serves the test provider for a manual check against the real oauth2-proxy
/// (docs/doctor.md, "Checked against the real oauth2-proxy"). Writes `base` and `ca.pem` to
/// $KEXPOSE_DOCTOR_SERVE_DIR and serves for $KEXPOSE_DOCTOR_SERVE_SECONDS (default 300);
/// KEXPOSE_DOCTOR_ISSUER_SUFFIX is appended to the issuer the discovery document names.
#[test]
#[ignore = "manual: serves the provider for the real oauth2-proxy"]
fn serve_for_a_manual_check() {
    let dir = std::env::var("KEXPOSE_DOCTOR_SERVE_DIR").expect("KEXPOSE_DOCTOR_SERVE_DIR");
    let secs: u64 = std::env::var("KEXPOSE_DOCTOR_SERVE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let p = Provider::start(Behaviour::default());
    if let Ok(suffix) = std::env::var("KEXPOSE_DOCTOR_ISSUER_SUFFIX") {
        p.behaviour.lock().unwrap().discovery_issuer = Some(format!("{}{suffix}", p.base()));
    }
    std::fs::write(Path::new(&dir).join("ca.pem"), &p.ca_pem).unwrap();
    std::fs::write(Path::new(&dir).join("base"), p.base()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(secs));
}
