//! `kexpose-gen` (the benchmark spec generator) writes specs that validate without a warning,
//! render one APIRule per workload, and depend only on their arguments. The benchmark itself
//! is `bench/run.sh`, never a test.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The generator is an example (never installed with kexpose): build it once, with the cargo
/// that runs these tests, into this target directory.
fn gen_bin() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--locked", "--example", "kexpose-gen"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --example kexpose-gen failed");
        // target/debug/deps/gen-<hash> → target/debug/examples/kexpose-gen
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap().join("examples");
        dir.join(format!("kexpose-gen{}", std::env::consts::EXE_SUFFIX))
    })
}

fn gen_spec(args: &[&str]) -> Vec<u8> {
    let out = Command::new(gen_bin())
        .args(args)
        .output()
        .expect("kexpose-gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn generated_specs_validate_and_render() {
    for (args, workloads, rules_each) in [
        (&["0"][..], 0, 0),
        (&["1"][..], 1, 3),
        (&["60"][..], 60, 3),
        (&["4", "--rules", "7"][..], 4, 7),
    ] {
        let spec = gen_spec(args);
        assert_eq!(spec, gen_spec(args), "{args:?}: not deterministic");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("kexpose.yaml"), &spec).unwrap();
        let run = kexpose(&["validate", "--strict", "kexpose.yaml"], tmp.path());
        assert_eq!(run.code, 0, "{args:?}:\n{}", run.stderr);
        assert!(
            run.stderr.contains("0 errors, 0 warnings"),
            "{}",
            run.stderr
        );

        let run = kexpose(&["render", "kexpose.yaml", "-o", "out"], tmp.path());
        assert_eq!(run.code, 0, "{args:?}:\n{}", run.stderr);
        let tree = read_tree(&tmp.path().join("out"));
        let apirules: Vec<&String> = tree.keys().filter(|p| p.starts_with("apirules/")).collect();
        assert_eq!(apirules.len(), workloads, "{args:?}");
        assert_eq!(tree.keys().filter(|p| p.starts_with("helm/")).count(), 2);
        let namespaces = workloads.min(50) + 2; // team-NN plus the two authorizer namespaces
        let ns = String::from_utf8_lossy(&tree["namespaces.yaml"])
            .matches("kind: Namespace")
            .count();
        assert_eq!(ns, namespaces, "{args:?}");
        for path in apirules {
            let rule = yaml(&String::from_utf8_lossy(&tree[path]));
            assert_eq!(
                rule["spec"]["rules"].as_array().unwrap().len(),
                rules_each,
                "{path}"
            );
        }
    }
}

/// The shapes issue 15 asks for besides N: many identity providers (`--idps K`, each used by a
/// jwt rule once N >= 4·K) and every host below one parent domain (`--shared-domain`, plus one
/// wildcard workload). Each validates without a warning and renders what it says.
#[test]
fn idps_and_shared_domain_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = gen_spec(&["40", "--idps", "10"]);
    let text = String::from_utf8(spec.clone()).unwrap();
    assert_eq!(text.matches("  - name: idp-").count(), 10);
    std::fs::write(tmp.path().join("idps.yaml"), &spec).unwrap();
    let run = kexpose(&["validate", "--strict", "idps.yaml"], tmp.path());
    assert!(
        run.stderr.contains("0 errors, 0 warnings"),
        "{}",
        run.stderr
    );
    let run = kexpose(&["render", "idps.yaml", "-o", "idps"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree = read_tree(&tmp.path().join("idps"));
    let all: String = tree
        .iter()
        .filter(|(p, _)| p.starts_with("apirules/"))
        .map(|(_, t)| String::from_utf8_lossy(t).into_owned())
        .collect();
    for k in 0..10 {
        let issuer = format!("issuer: https://idp-{k:04}.login.example.org");
        assert!(all.contains(&issuer), "idp-{k:04} is not used");
    }

    let spec = gen_spec(&["20", "--shared-domain"]);
    std::fs::write(tmp.path().join("shared.yaml"), &spec).unwrap();
    let run = kexpose(&["validate", "--strict", "shared.yaml"], tmp.path());
    assert!(
        run.stderr.contains("0 errors, 0 warnings"),
        "{}",
        run.stderr
    );
    let run = kexpose(&["render", "shared.yaml", "-o", "shared"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree = read_tree(&tmp.path().join("shared"));
    let hosts: Vec<String> = tree
        .iter()
        .filter(|(p, _)| p.starts_with("apirules/"))
        .map(|(_, t)| yaml(&String::from_utf8_lossy(t))["spec"]["hosts"][0].to_string())
        .collect();
    assert_eq!(hosts.len(), 21);
    assert!(
        hosts
            .iter()
            .all(|h| h.trim_matches('"').ends_with(".apps.bench.example.org")),
        "{hosts:?}"
    );
    assert!(hosts.contains(&"\"*.wild.apps.bench.example.org\"".to_string()));
}

/// Rendering in parallel (the default for many workloads) writes the same bytes as rendering
/// on one thread.
#[test]
fn parallel_render_is_deterministic() {
    let spec = gen_spec(&["300"]);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("kexpose.yaml"), &spec).unwrap();
    let mut trees = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = format!("out-{threads}");
        let run = Command::new(env!("CARGO_BIN_EXE_kexpose"))
            .args(["render", "kexpose.yaml", "-o", &out])
            .current_dir(tmp.path())
            .env("KEXPOSE_THREADS", threads)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        trees.push(read_tree(&tmp.path().join(&out)));
    }
    assert_eq!(trees[0].len(), 300 + 5 + 1);
    assert!(trees[0] == trees[1] && trees[1] == trees[2]);
}

#[test]
fn every_access_strategy_occurs() {
    let spec = String::from_utf8(gen_spec(&["4"])).unwrap();
    for needle in [
        "noAuth: true",
        "jwt:",
        "extAuth:",
        "requiredScopes",
        "audiences",
        "identityProviders: [ias, partner]",
    ] {
        assert!(spec.contains(needle), "missing {needle}");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &[][..],
        &["x"][..],
        &["3", "--rules", "0"][..],
        &["1", "2"][..],
        &["1", "--idps"][..],
        &["1", "--idps", "-1"][..],
    ] {
        let out = Command::new(gen_bin()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
