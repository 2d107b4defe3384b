//! The GitOps integrations, tested the way their clients call them:
//! - Argo CD's repo-server runs `deploy/argocd/plugin.yaml`'s commands with `sh -c` in the
//!   application's source directory, with only its own variables in the environment;
//! - pre-commit installs this repository with `cargo install` (`pre-commit try-repo`) and runs
//!   the hooks of `.pre-commit-hooks.yaml` in a git repository;
//! - the plugin file, the sidecar patch, the Dockerfile and the hook file carry what their
//!   tools require.
//!
//! Plus the stream, `--helm-release` in the directory layout, `render --check`, completions
//! and the man page through the binary.
#![allow(clippy::print_stdout, clippy::print_stderr)] // it reports what it ran

mod common;
use common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const HARDENED: &str = "fixtures/hardened";
const RICH: &str = "fixtures/rich";
const SYNC_OPTIONS: &str = "ServerSideApply=true,Validate=false,Prune=false,Delete=false";
const INSTANCE: &str = "app.kubernetes.io/instance";

fn spec(case: &str) -> String {
    root()
        .join(case)
        .join("kexpose.yaml")
        .to_string_lossy()
        .into_owned()
}

/// A YAML stream split into documents (kexpose never emits `---` inside a document: no
/// block scalars), each parsed.
fn documents(stream: &str) -> Vec<(String, Value)> {
    let mut docs = vec![String::new()];
    for line in stream.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            docs.last_mut().unwrap().push_str(line);
        }
    }
    docs.into_iter()
        .map(|d| {
            let v = yaml(&d);
            (d, v)
        })
        .collect()
}

/// Every document is a Kubernetes object starting with `apiVersion`.
fn objects(stream: &str) -> Vec<Value> {
    assert!(!stream.trim().is_empty(), "empty stream");
    documents(stream)
        .into_iter()
        .map(|(text, v)| {
            assert!(
                text.starts_with("apiVersion: "),
                "a document does not start with apiVersion:\n{text}"
            );
            for field in ["/apiVersion", "/kind", "/metadata/name"] {
                assert!(
                    v.pointer(field)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty()),
                    "no {field} in\n{text}"
                );
            }
            v
        })
        .collect()
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

// ---------------------------------------------------------------------------------------
// Argo CD config-management plugin, run as argocd-cmp-server runs it
// ---------------------------------------------------------------------------------------

fn plugin() -> Value {
    yaml_file(&root().join("deploy/argocd/plugin.yaml"))
}

/// `spec.<stage>.command` followed by `spec.<stage>.args`, as the CMP server executes them.
fn plugin_argv(stage: &str) -> Vec<String> {
    let p = plugin();
    let words = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|w| w.as_str().expect("a string").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut argv = words(&p["spec"][stage]["command"]);
    argv.extend(words(&p["spec"][stage]["args"]));
    assert!(!argv.is_empty(), "plugin.yaml has no {stage} command");
    argv
}

/// An application source directory: a copy of a fixture's spec (and whatever else is given).
fn app_source(case: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(spec(case), dir.path().join("kexpose.yaml")).unwrap();
    dir
}

/// Run a plugin command in `dir` with a cleared environment: only the variables Argo CD sets,
/// the ones given, and a PATH on which `kexpose` is found (as in the sidecar image).
fn run_plugin(stage: &str, dir: &Path, env: &[(&str, &str)]) -> Run {
    let argv = plugin_argv(stage);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kexpose")).parent().unwrap();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("ARGOCD_APP_NAMESPACE", "shop")
        .env("ARGOCD_APP_PROJECT_NAME", "default")
        .env(
            "ARGOCD_APP_REVISION",
            "f913b6cbf58aa5ae5ca1f8a2b149477aebcbd9d8",
        )
        .env("ARGOCD_APP_SOURCE_PATH", "exposures/shop")
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform.git",
        )
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
        .env("KUBE_VERSION", "1.33.0")
        .envs(env.iter().copied())
        .output()
        .expect("the plugin command runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn argocd_plugin_generates_a_stream_of_objects() {
    let app = app_source(HARDENED);
    let env = [("ARGOCD_APP_NAME", "shop-exposure")];
    let init = run_plugin("init", app.path(), &env);
    assert_eq!(init.code, 0, "init failed:\n{}", init.stderr);
    let run = run_plugin("generate", app.path(), &env);
    assert_eq!(run.code, 0, "generate failed:\n{}", run.stderr);
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
    let objects = objects(&run.stdout);
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["Namespace", "Namespace", "Application", "Istio", "APIRule"],
        "apply order"
    );
    for o in &objects {
        assert_eq!(
            o["metadata"]["labels"][INSTANCE], "shop-exposure",
            "instance label from ARGOCD_APP_NAME on {}",
            o["kind"]
        );
    }

    // The Application carries the generated values, exactly those of the values file.
    let app = of_kind(&objects, "Application")[0];
    let values = yaml_file(
        &root()
            .join(HARDENED)
            .join("expected/helm/oauth2-proxy/values.yaml"),
    );
    assert_eq!(app["spec"]["source"]["helm"]["valuesObject"], values);
    assert_eq!(app["metadata"]["name"], "oauth2-proxy");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    assert_eq!(app["spec"]["project"], "default");
    let source = &app["spec"]["source"];
    assert_eq!(
        source["repoURL"],
        "https://oauth2-proxy.github.io/manifests"
    );
    assert_eq!(source["chart"], "oauth2-proxy");
    assert_eq!(source["targetRevision"], "10.7.0");
    assert_eq!(source["helm"]["releaseName"], "oauth2-proxy");
    assert_eq!(
        app["spec"]["destination"]["server"],
        "https://kubernetes.default.svc"
    );
    assert_eq!(app["spec"]["destination"]["namespace"], "oauth2-proxy");
    assert_eq!(
        app["spec"]["syncPolicy"]["syncOptions"],
        serde_json::json!(["CreateNamespace=false"])
    );

    // The partial Istio object: Argo CD's sync options and the note on the authorizer list.
    let istio = of_kind(&objects, "Istio")[0];
    assert_eq!(
        istio["metadata"]["annotations"]["argocd.argoproj.io/sync-options"],
        SYNC_OPTIONS
    );
    let istio_text = run
        .stdout
        .split("---\n")
        .find(|d| d.contains("kind: Istio"))
        .unwrap();
    assert!(
        istio_text.contains("# spec.config.authorizers is owned as a whole"),
        "{istio_text}"
    );
    assert_eq!(
        istio["spec"],
        yaml_file(
            &root()
                .join(HARDENED)
                .join("expected/istio/authorizers.yaml")
        )["spec"]
    );
}

#[test]
fn argocd_plugin_reads_spec_and_args_from_the_application() {
    let app = tempfile::tempdir().unwrap();
    fs::create_dir_all(app.path().join("exposures")).unwrap();
    fs::copy(spec(RICH), app.path().join("exposures/shop.yaml")).unwrap();
    let run = run_plugin(
        "generate",
        app.path(),
        &[
            ("ARGOCD_APP_NAME", "shop"),
            ("ARGOCD_ENV_KEXPOSE_SPEC", "exposures/shop.yaml"),
            ("ARGOCD_ENV_KEXPOSE_ARGS", "--helm-release flux --strict"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = objects(&run.stdout);
    assert!(of_kind(&objects, "Application").is_empty());
    let releases = of_kind(&objects, "HelmRelease");
    let repos = of_kind(&objects, "HelmRepository");
    assert_eq!((releases.len(), repos.len()), (2, 2));
    let values = yaml_file(
        &root()
            .join(RICH)
            .join("expected/helm/partner-auth/values.yaml"),
    );
    let partner = releases
        .iter()
        .find(|r| r["metadata"]["name"] == "partner-auth")
        .unwrap();
    assert_eq!(partner["spec"]["values"], values);
    // Istio carries Argo CD's options in any stream, and Flux's with --helm-release flux.
    let istio = of_kind(&objects, "Istio")[0];
    let annotations = &istio["metadata"]["annotations"];
    assert_eq!(annotations["argocd.argoproj.io/sync-options"], SYNC_OPTIONS);
    assert_eq!(annotations["kustomize.toolkit.fluxcd.io/prune"], "Disabled");

    // --instance wins over ARGOCD_APP_NAME.
    let run = run_plugin(
        "generate",
        app.path(),
        &[
            (
                "ARGOCD_APP_NAME",
                "a-name-that-is-far-too-long-for-a-kubernetes-label-value-sixty-four",
            ),
            ("ARGOCD_ENV_KEXPOSE_SPEC", "exposures/shop.yaml"),
            ("ARGOCD_ENV_KEXPOSE_ARGS", "--instance shop"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        self::objects(&run.stdout)
            .iter()
            .all(|o| o["metadata"]["labels"][INSTANCE] == "shop")
    );
}

#[test]
fn argocd_plugin_failures_print_nothing_and_exit_non_zero() {
    // (what, spec text or "" for the fixture, plugin environment, expected on stderr)
    type Env = &'static [(&'static str, &'static str)];
    let cases: &[(&str, &str, Env, &str)] = &[
        (
            "invalid spec",
            "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\nworkloads: 3\n",
            &[],
            "error[schema-type]",
        ),
        (
            "no object",
            "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\n",
            &[],
            "produces no Kubernetes object",
        ),
        (
            "missing spec",
            "",
            &[("ARGOCD_ENV_KEXPOSE_SPEC", "missing.yaml")],
            "cannot read missing.yaml",
        ),
        (
            "spec outside the source directory",
            "",
            &[("ARGOCD_ENV_KEXPOSE_SPEC", "../kexpose.yaml")],
            "inside the application's source directory",
        ),
        (
            "spec path that looks like a flag",
            "",
            &[("ARGOCD_ENV_KEXPOSE_SPEC", "--version")],
            "cannot read --version",
        ),
        (
            "warning under --strict",
            "",
            &[
                ("ARGOCD_ENV_KEXPOSE_SPEC", "seed.yaml"),
                ("ARGOCD_ENV_KEXPOSE_ARGS", "--strict"),
            ],
            "error[authorizer-exposes-proxy-endpoints]",
        ),
        (
            "unknown flag",
            "",
            &[("ARGOCD_ENV_KEXPOSE_ARGS", "--frobnicate")],
            "--frobnicate",
        ),
        (
            "label value from ARGOCD_APP_NAME",
            "",
            &[("ARGOCD_APP_NAME", "team/shop")],
            "cannot be the label app.kubernetes.io/instance",
        ),
    ];
    for (what, text, env, expected) in cases {
        let app = app_source(HARDENED);
        fs::copy(
            spec("fixtures/seed-client-credentials"),
            app.path().join("seed.yaml"),
        )
        .unwrap();
        if !text.is_empty() {
            fs::write(app.path().join("kexpose.yaml"), text).unwrap();
        }
        let run = run_plugin("generate", app.path(), env);
        assert_ne!(run.code, 0, "{what}: exit 0\n{}", run.stdout);
        assert_eq!(run.stdout, "", "{what}: something on stdout");
        assert!(
            run.stderr.contains(expected),
            "{what}: stderr lacks {expected:?}:\n{}",
            run.stderr
        );
    }
    // init rejects what generate rejects.
    let app = app_source(HARDENED);
    fs::write(
        app.path().join("kexpose.yaml"),
        "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\nworkloads: 3\n",
    )
    .unwrap();
    let init = run_plugin("init", app.path(), &[]);
    assert_eq!(init.code, 1, "{}", init.stderr);
    assert_eq!(init.stdout, "");
}

#[test]
fn stream_snapshot() {
    // The whole stream of the hardened fixture, as Argo CD receives it. Review changes with
    // `cargo insta review` and read every line before accepting.
    let tmp = tempfile::tempdir().unwrap();
    let run = kexpose(
        &["render", &spec(HARDENED), "-o", "-", "--instance", "shop"],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

// ---------------------------------------------------------------------------------------
// The stream and the directory layout hold the same objects
// ---------------------------------------------------------------------------------------

/// The objects of every file the kustomization lists.
fn tree_objects(out: &Path) -> Vec<Value> {
    let kustomization = yaml_file(&out.join("kustomization.yaml"));
    let mut found = Vec::new();
    for resource in kustomization["resources"].as_array().unwrap() {
        let text = fs::read_to_string(out.join(resource.as_str().unwrap())).unwrap();
        let body: String = text
            .lines()
            .skip_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let body = body.strip_prefix("---\n").unwrap_or(&body);
        found.extend(objects(body));
    }
    found
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|o| o.to_string());
    v
}

#[test]
fn directory_layout_with_helm_release_objects() {
    for (flag, files) in [
        ("argocd", vec!["application.yaml"]),
        ("flux", vec!["helmrelease.yaml", "helmrepository.yaml"]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let run = kexpose(
            &["render", &spec(RICH), "-o", "out", "--helm-release", flag],
            tmp.path(),
        );
        assert_eq!(run.code, 0, "{flag}: {}", run.stderr);
        let out = tmp.path().join("out");
        let kustomization = yaml_file(&out.join("kustomization.yaml"));
        let resources: Vec<&str> = kustomization["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for release in ["oauth2-proxy", "partner-auth"] {
            let values = yaml_file(&out.join(format!("helm/{release}/values.yaml")));
            assert_eq!(
                values,
                yaml_file(
                    &root()
                        .join(RICH)
                        .join(format!("expected/helm/{release}/values.yaml"))
                ),
                "{flag}: the values file does not change"
            );
            assert!(!resources.contains(&format!("helm/{release}/values.yaml").as_str()));
            for file in &files {
                let path = format!("helm/{release}/{file}");
                assert!(
                    resources.contains(&path.as_str()),
                    "{flag}: {path} not listed"
                );
                let object = yaml_file(&out.join(&path));
                assert_eq!(object["metadata"]["name"], release);
                let embedded = match object["kind"].as_str().unwrap() {
                    "Application" => &object["spec"]["source"]["helm"]["valuesObject"],
                    "HelmRelease" => &object["spec"]["values"],
                    "HelmRepository" => {
                        assert_eq!(
                            object["spec"]["url"],
                            "https://oauth2-proxy.github.io/manifests"
                        );
                        continue;
                    }
                    other => panic!("unexpected {other}"),
                };
                assert_eq!(embedded, &values, "{flag}: {path} embeds the values");
            }
        }
        // The same objects as the stream with the same flag.
        let stream = kexpose(
            &["render", &spec(RICH), "-o", "-", "--helm-release", flag],
            tmp.path(),
        );
        assert_eq!(stream.code, 0, "{}", stream.stderr);
        let mut streamed = objects(&stream.stdout);
        if flag == "flux" {
            // Any stream is meant for Argo CD too: the Istio object keeps its sync options.
            let istio = streamed.iter_mut().find(|o| o["kind"] == "Istio").unwrap();
            let annotations = istio["metadata"]["annotations"].as_object_mut().unwrap();
            assert_eq!(
                annotations.remove("argocd.argoproj.io/sync-options"),
                Some(Value::from(SYNC_OPTIONS))
            );
        }
        assert!(
            sorted(streamed) == sorted(tree_objects(&out)),
            "{flag}: the stream and the tree differ"
        );
        let istio = yaml_file(&out.join("istio/authorizers.yaml"));
        let annotations = &istio["metadata"]["annotations"];
        if flag == "argocd" {
            assert_eq!(annotations["argocd.argoproj.io/sync-options"], SYNC_OPTIONS);
        } else {
            assert_eq!(annotations["kustomize.toolkit.fluxcd.io/prune"], "Disabled");
            assert_eq!(annotations["kustomize.toolkit.fluxcd.io/ssa"], "Merge");
            assert!(annotations.get("argocd.argoproj.io/sync-options").is_none());
        }
    }
}

#[test]
fn helm_release_flux_helmrelease_points_at_its_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kexpose(
        &["render", &spec(RICH), "-o", "-", "--helm-release", "flux"],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = objects(&run.stdout);
    for release in of_kind(&objects, "HelmRelease") {
        let source = &release["spec"]["chart"]["spec"]["sourceRef"];
        assert_eq!(source["kind"], "HelmRepository");
        assert!(
            of_kind(&objects, "HelmRepository").iter().any(|r| {
                r["metadata"]["name"] == source["name"]
                    && r["metadata"]["namespace"] == source["namespace"]
            }),
            "no HelmRepository for {release}"
        );
        assert_eq!(release["spec"]["chart"]["spec"]["chart"], "oauth2-proxy");
        assert_eq!(release["spec"]["chart"]["spec"]["version"], "10.7.0");
        assert_eq!(release["spec"]["releaseName"], release["metadata"]["name"]);
        assert!(release["spec"]["interval"].is_string());
    }
}

#[test]
fn plain_directory_output_ignores_argocd_app_name_and_stream_defaults() {
    // Directory output does not depend on the environment: ARGOCD_APP_NAME labels only the
    // stream (pre-commit hooks produce the same files wherever they run).
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kexpose"))
        .args(["render", &spec(HARDENED), "-o", "out"])
        .current_dir(tmp.path())
        .env("ARGOCD_APP_NAME", "shop")
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut got = read_tree(&tmp.path().join("out"));
    got.remove(".kexpose-manifest");
    assert_eq!(got, read_tree(&root().join(HARDENED).join("expected")));
    // Usage errors.
    let spec_path = spec(HARDENED);
    for args in [
        vec!["--instance", "Not/valid"],
        vec!["--argocd-namespace", "Argo"],
        vec!["--argocd-namespace", "argocd", "--helm-release", "none"],
        vec!["--helm-release", "helm"],
    ] {
        let mut all = vec!["render", spec_path.as_str(), "-o", "-"];
        all.extend(args.iter().copied());
        let run = kexpose(&all, tmp.path());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn template_overrides_apply_to_the_new_artefacts() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let builtin = fs::read_to_string(root().join("templates/argocd-application.yaml.j2")).unwrap();
    let automated = builtin.replace(
        "  syncPolicy:\n",
        "  syncPolicy:\n    automated:\n      selfHeal: true\n",
    );
    assert_ne!(automated, builtin);
    fs::write(templates.join("argocd-application.yaml.j2"), &automated).unwrap();
    let run = kexpose(
        &[
            "render",
            &spec(HARDENED),
            "-o",
            "-",
            "--templates",
            templates.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let objects = objects(&run.stdout);
    assert_eq!(
        of_kind(&objects, "Application")[0]["spec"]["syncPolicy"]["automated"]["selfHeal"],
        true
    );
    // An override that breaks the values embedded in the Application is refused.
    let broken = builtin.replace(
        "valuesObject: {{ values | yaml }}",
        "valuesObject: {\"config\": {}}",
    );
    fs::write(templates.join("argocd-application.yaml.j2"), &broken).unwrap();
    let run = kexpose(
        &[
            "render",
            &spec(HARDENED),
            "-o",
            "-",
            "--templates",
            templates.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("error[output-schema]")
            && run.stderr.contains("/spec/source/helm/valuesObject/config"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// render --check
// ---------------------------------------------------------------------------------------

#[test]
fn render_check_compares_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spec(HARDENED);
    // No OUT yet: differs, and OUT is not created.
    let run = kexpose(&["render", &s, "-o", "out", "--check"], tmp.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("would create out/namespaces.yaml"),
        "{}",
        run.stdout
    );
    assert!(!tmp.path().join("out").exists());

    assert_eq!(kexpose(&["render", &s, "-o", "out"], tmp.path()).code, 0);
    let fresh = read_tree(&tmp.path().join("out"));
    let run = kexpose(&["render", &s, "-o", "out", "--check"], tmp.path());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert!(run.stderr.contains("out is up to date"), "{}", run.stderr);

    // A stale file and a file kexpose no longer generates: exit 1, listed, nothing changed.
    let apirule = tmp.path().join("out/apirules/httpbin-system/httpbin.yaml");
    fs::write(&apirule, "edited by hand\n").unwrap();
    let run = kexpose(
        &[
            "render",
            &s,
            "-o",
            "out",
            "--check",
            "--helm-release",
            "argocd",
        ],
        tmp.path(),
    );
    assert_eq!(run.code, 1);
    for line in [
        "would update out/apirules/httpbin-system/httpbin.yaml",
        "would create out/helm/oauth2-proxy/application.yaml",
        "would update out/istio/authorizers.yaml",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == line),
            "{line}:\n{}",
            run.stdout
        );
    }
    assert!(run.stderr.contains("out of date"), "{}", run.stderr);
    let mut stale = fresh.clone();
    stale.insert(
        "apirules/httpbin-system/httpbin.yaml".into(),
        b"edited by hand\n".to_vec(),
    );
    assert_eq!(read_tree(&tmp.path().join("out")), stale);

    // Errors: a spec with errors exits 1, `-o -` with --check is a usage error.
    fs::write(tmp.path().join("bad.yaml"), "kind: 3\n").unwrap();
    let run = kexpose(&["render", "bad.yaml", "-o", "out", "--check"], tmp.path());
    assert_eq!(run.code, 1);
    assert_eq!(read_tree(&tmp.path().join("out")), stale);
    let run = kexpose(&["render", &s, "-o", "-", "--check"], tmp.path());
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
}

// ---------------------------------------------------------------------------------------
// Completions and man page
// ---------------------------------------------------------------------------------------

#[test]
fn completions_and_man_page() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = kexpose(&["completions", shell], tmp.path());
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("kexpose") && run.stdout.contains("helm-release"),
            "{shell}: no completions for render's flags"
        );
    }
    assert_eq!(kexpose(&["completions", "tcsh"], tmp.path()).code, 2);
    let man = kexpose(&["man"], tmp.path());
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains(".TH kexpose 1"), "{}", man.stdout);
    for sub in ["render", "validate", "completions"] {
        assert!(man.stdout.contains(sub), "man page lacks {sub}");
    }
}

// ---------------------------------------------------------------------------------------
// The files the tools read
// ---------------------------------------------------------------------------------------

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

#[test]
fn plugin_yaml_has_what_argocd_cmp_server_requires() {
    let p = plugin();
    assert_eq!(str_at(&p, "/apiVersion"), "argoproj.io/v1alpha1");
    assert_eq!(str_at(&p, "/kind"), "ConfigManagementPlugin");
    assert_eq!(str_at(&p, "/metadata/name"), "kexpose");
    assert_eq!(str_at(&p, "/spec/discover/fileName"), "kexpose.yaml");
    let known = [
        "version",
        "init",
        "generate",
        "discover",
        "parameters",
        "preserveFileMode",
        "provideGitCreds",
    ];
    for key in p["spec"].as_object().unwrap().keys() {
        assert!(known.contains(&key.as_str()), "unknown spec.{key}");
    }
    for stage in ["init", "generate"] {
        let argv = plugin_argv(stage);
        assert_eq!(&argv[..2], ["sh", "-c"], "{stage}");
        assert_eq!(argv.len(), 3, "{stage}: one script");
        assert!(argv[2].contains("ARGOCD_ENV_KEXPOSE_SPEC:-kexpose.yaml"));
    }
    let generate = plugin_argv("generate").pop().unwrap();
    assert!(generate.contains("kexpose render -o -"), "{generate}");
    assert!(generate.contains("ARGOCD_ENV_KEXPOSE_ARGS"), "{generate}");
    assert!(
        plugin_argv("init")
            .pop()
            .unwrap()
            .contains("kexpose validate")
    );
}

#[test]
fn repo_server_patch_adds_the_sidecar() {
    let patch = yaml_file(&root().join("deploy/argocd/repo-server-patch.yaml"));
    assert_eq!(str_at(&patch, "/apiVersion"), "apps/v1");
    assert_eq!(str_at(&patch, "/kind"), "Deployment");
    assert_eq!(str_at(&patch, "/metadata/name"), "argocd-repo-server");
    let pod = &patch["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(str_at(c, "/name"), "kexpose");
    assert!(!str_at(c, "/image").is_empty());
    assert_eq!(
        c["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(c["securityContext"]["runAsNonRoot"], true);
    assert_eq!(c["securityContext"]["runAsUser"], 999);
    let mounts: Vec<(&str, &str)> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (str_at(m, "/name"), str_at(m, "/mountPath")))
        .collect();
    assert!(mounts.contains(&("var-files", "/var/run/argocd")));
    assert!(mounts.contains(&("plugins", "/home/argocd/cmp-server/plugins")));
    let tmp = mounts
        .iter()
        .find(|(_, path)| *path == "/tmp")
        .expect("a /tmp mount");
    assert!(
        !["tmp", "var-files", "plugins"].contains(&tmp.0),
        "its own /tmp"
    );
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == tmp.0)
        .expect("the /tmp volume is defined");
    assert!(volume["emptyDir"].is_object());
}

#[test]
fn dockerfile_builds_the_sidecar_image() {
    let text = fs::read_to_string(root().join("Dockerfile")).unwrap();
    let from: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(from.len(), 2, "multi-stage: build and runtime");
    assert!(from[0].contains("rust:") && from[0].contains(" AS build"));
    for needle in [
        "cargo build --release --locked --bin kexpose",
        "COPY --from=build /out/kexpose /usr/local/bin/kexpose",
        "COPY deploy/argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml",
        "USER 999",
    ] {
        assert!(text.contains(needle), "Dockerfile lacks {needle:?}");
    }
    let ignore = fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim_end_matches('/') == "target"));
}

#[test]
fn pre_commit_hooks_file_has_the_required_fields() {
    let hooks = yaml_file(&root().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().map(|h| str_at(h, "/id")).collect();
    assert_eq!(ids, ["kexpose", "kexpose-check"]);
    let files = regex::Regex::new(str_at(&hooks[0], "/files")).unwrap();
    for hook in hooks {
        for field in ["/name", "/entry"] {
            assert!(!str_at(hook, field).is_empty());
        }
        assert_eq!(str_at(hook, "/language"), "rust");
        assert_eq!(hook["pass_filenames"], false);
        assert_eq!(hook["require_serial"], true);
        assert_eq!(str_at(hook, "/files"), files.as_str());
        let args: Vec<&str> = hook["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args, ["kexpose.yaml", "--out", "manifests"]);
    }
    assert_eq!(str_at(&hooks[0], "/entry"), "kexpose render");
    assert_eq!(str_at(&hooks[1], "/entry"), "kexpose render --check");
    for path in [
        "kexpose.yaml",
        "deploy/kexpose.yaml",
        "templates/apirule.yaml.j2",
    ] {
        assert!(files.is_match(path), "files misses {path}");
    }
    for path in ["manifests/namespaces.yaml", "README.md", "other.yaml"] {
        assert!(!files.is_match(path), "files matches {path}");
    }
    // pre-commit's language: rust runs `cargo install --path .`: the root is a package.
    let cargo = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(cargo.lines().any(|l| l.trim() == "[package]"));
    assert!(cargo.contains("name = \"kexpose\""));
}

// ---------------------------------------------------------------------------------------
// pre-commit itself
// ---------------------------------------------------------------------------------------

/// `pre-commit`, or `python3 -m pre_commit` when its script is not on PATH.
fn pre_commit() -> Option<Vec<String>> {
    for argv in [
        vec!["pre-commit".to_string()],
        vec![
            "python3".to_string(),
            "-m".to_string(),
            "pre_commit".to_string(),
        ],
    ] {
        let ok = Command::new(&argv[0])
            .args(&argv[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(argv);
        }
    }
    None
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(git_identity())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git_identity() -> [(&'static str, &'static str); 4] {
    [
        ("GIT_AUTHOR_NAME", "kexpose test"),
        ("GIT_AUTHOR_EMAIL", "test@kexpose.invalid"),
        ("GIT_COMMITTER_NAME", "kexpose test"),
        ("GIT_COMMITTER_EMAIL", "test@kexpose.invalid"),
    ]
}

/// A hook's result line, e.g. `kexpose render........Passed`.
fn hook_status(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        rest.starts_with('.')
            .then(|| rest.trim_start_matches('.').trim().to_string())
    })
}

/// `pre-commit try-repo` installs kexpose from this checkout (its committed state plus
/// tracked changes: new files must be `git add`ed) with `cargo install`, twice: try-repo
/// keeps its store in a temporary directory. A shared CARGO_TARGET_DIR below target/ keeps
/// the second installation (and later test runs) to compiling kexpose itself, and LTO is
/// switched off for these builds only, to keep the test to minutes.
#[test]
fn pre_commit_hooks_through_try_repo() {
    let Some(pre_commit) = pre_commit() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "pre-commit is not installed (neither `pre-commit` on PATH nor `python3 -m pre_commit`): .ci/run installs it with `python3 -m pip install pre-commit`"
            );
        }
        eprintln!(
            "note: pre_commit_hooks_through_try_repo skipped: pre-commit is not installed (python3 -m pip install pre-commit); it runs in CI"
        );
        return;
    };
    let checkout = root();
    let is_git = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(&checkout)
        .output()
        .is_ok_and(|o| o.status.success());
    if !is_git {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is not a git checkout: pre-commit try-repo needs one",
            checkout.display()
        );
        eprintln!("note: pre_commit_hooks_through_try_repo skipped: not a git checkout");
        return;
    }

    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    fs::copy(spec(HARDENED), repo.join("kexpose.yaml")).unwrap();
    let run = kexpose(&["render", "kexpose.yaml", "-o", "manifests"], &repo);
    assert_eq!(run.code, 0, "{}", run.stderr);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "spec and manifests"]);
    // The spec changes, the manifests do not: they are stale.
    let text = fs::read_to_string(repo.join("kexpose.yaml")).unwrap();
    let edited = text.replace("port: 8000", "port: 8080");
    assert_ne!(edited, text);
    fs::write(repo.join("kexpose.yaml"), edited).unwrap();
    git(&repo, &["commit", "-q", "-am", "new port"]);
    let stale = read_tree(&repo.join("manifests"));

    let cargo_target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-cargo-target");
    let home = work.path().join("pre-commit-home");
    let try_repo = |hook: Option<&str>| {
        let mut cmd = Command::new(&pre_commit[0]);
        cmd.args(&pre_commit[1..]).arg("try-repo").arg(&checkout);
        if let Some(hook) = hook {
            cmd.arg(hook);
        }
        cmd.args(["--all-files", "--color", "never"])
            .current_dir(&repo)
            .envs(git_identity())
            .env("PRE_COMMIT_HOME", &home)
            .env("CARGO_TARGET_DIR", &cargo_target)
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .env("CARGO_TERM_COLOR", "never");
        let started = std::time::Instant::now();
        let out = cmd.output().expect("pre-commit runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "pre-commit try-repo {}: {:.0?}",
            hook.unwrap_or("(all hooks)"),
            started.elapsed()
        );
        (out.status.success(), text)
    };

    // kexpose-check fails on stale manifests and changes nothing.
    let (ok, output) = try_repo(Some("kexpose-check"));
    assert!(!ok, "kexpose-check passed on stale manifests:\n{output}");
    assert_eq!(
        hook_status(&output, "kexpose render --check").as_deref(),
        Some("Failed"),
        "{output}"
    );
    assert!(
        output.contains("would update manifests/apirules/httpbin-system/httpbin.yaml"),
        "{output}"
    );
    assert_eq!(
        read_tree(&repo.join("manifests")),
        stale,
        "check changed files"
    );

    // All hooks, in id order: kexpose regenerates the manifests (pre-commit reports the
    // modified files as a failure), then kexpose-check passes on the fresh ones.
    let (ok, output) = try_repo(None);
    assert!(
        !ok,
        "kexpose modified files, pre-commit must say so:\n{output}"
    );
    assert_eq!(
        hook_status(&output, "kexpose render").as_deref(),
        Some("Failed"),
        "{output}"
    );
    assert!(
        output.contains("files were modified by this hook"),
        "{output}"
    );
    assert_eq!(
        hook_status(&output, "kexpose render --check").as_deref(),
        Some("Passed"),
        "{output}"
    );
    let fresh = work.path().join("fresh");
    let run = kexpose(
        &[
            "render",
            repo.join("kexpose.yaml").to_str().unwrap(),
            "-o",
            fresh.to_str().unwrap(),
        ],
        work.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read_tree(&repo.join("manifests")), read_tree(&fresh));
    assert_ne!(read_tree(&fresh), stale);
}
