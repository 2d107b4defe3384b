//! The command line's arguments (clap) and their translation into library values.

use clap::{Parser, Subcommand, ValueEnum};
use kexpose::diag::{Code, Policy, Severity};
use kexpose::diff::report::Format;
use kexpose::{ReleaseObjects, Target};
use std::path::PathBuf;

/// Compile one kexpose spec into validated manifests for workloads behind oauth2-proxy on Istio:
/// oauth2-proxy Helm values, the Istio authorizer registration, and APIRules
/// (gateway.kyma-project.io/v2) on SAP BTP Kyma or, with `--target istio`, the VirtualServices,
/// AuthorizationPolicies and RequestAuthentications the api-gateway controller would create.
///
/// The usual loop: `validate` while editing, `render -o DIR` (or `render --check`) in CI, `diff`
/// and `explain` in review, `doctor` against the live identity provider before deploying.
///
/// Exit codes: 0 success; 1 invalid spec (or, with --strict, warnings); 2 usage or I/O error.
#[derive(Parser)]
#[command(name = "kexpose", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a spec; print every problem with file:line:col. Exit 0 when valid (warnings may
    /// be printed), 1 when not.
    Validate {
        /// The spec file (conventionally kexpose.yaml).
        spec: PathBuf,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Validate, then write the output tree and print one line per file: created, updated,
    /// unchanged or removed. Nothing is written when the spec has errors.
    ///
    /// OUT receives: kustomization.yaml, namespaces.yaml, istio/authorizers.yaml,
    /// helm/<authorizer>/values.yaml and apirules/<namespace>/<name>.yaml (and, with
    /// --helm-release, helm/<authorizer>/application.yaml or helmrepository.yaml and
    /// helmrelease.yaml). Files kexpose did not generate are never touched; OUT changes
    /// all-or-nothing.
    ///
    /// With `-o -` every Kubernetes object is printed as one YAML stream on stdout instead;
    /// diagnostics go to stderr, and the exit code is non-zero on any error and when there is
    /// no object. What the stream holds:
    ///
    /// - by default: Namespaces, the Istio authorizer registration and the APIRules (for
    ///   `| kubectl apply --server-side -f -`; install oauth2-proxy with helm and the values
    ///   of a directory render);
    ///
    /// - run by Argo CD's plugin ($ARGOCD_APP_NAME set), or with --helm-release argocd: also
    ///   an Argo CD Application per oauth2-proxy release, labelled with the Argo CD app's name;
    ///
    /// - with --helm-release flux: a Flux HelmRepository and HelmRelease per release instead.
    Render {
        /// The spec file.
        spec: PathBuf,
        /// The output directory, or `-` for a YAML stream of every Kubernetes object on
        /// stdout (write `./-` for a directory named `-`).
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
        /// How each oauth2-proxy Helm release becomes a Kubernetes object: an Argo CD
        /// Application, a Flux HelmRepository and HelmRelease, or none (only the values
        /// file, to install with helm). Default: none; argocd for `-o -` when run by Argo CD's
        /// plugin ($ARGOCD_APP_NAME is set).
        #[arg(long, value_enum, value_name = "KIND")]
        helm_release: Option<HelmReleaseArg>,
        /// The cluster: kyma (APIRules) or istio (plain Istio objects, see docs/istio-target.md).
        #[arg(long, value_enum, value_name = "TARGET", default_value_t = TargetArg::Kyma)]
        target: TargetArg,
        /// Namespace of the Argo CD Applications (with --helm-release argocd).
        #[arg(long, value_name = "NAMESPACE")]
        argocd_namespace: Option<String>,
        /// Label every emitted object with app.kubernetes.io/instance=NAME. With `-o -` it
        /// defaults to $ARGOCD_APP_NAME when that is set (as in Argo CD's plugins).
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
        /// Directory of template overrides: a file named like a built-in template
        /// (apirule.yaml.j2, istio-authorizers.yaml.j2, helm-values.yaml.j2,
        /// namespaces.yaml.j2, kustomization.yaml.j2, argocd-application.yaml.j2,
        /// flux-helmrepository.yaml.j2, flux-helmrelease.yaml.j2) replaces it.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Write nothing: exit 0 when OUT is exactly what render would write, 1 when not,
        /// printing the files that would be created, updated or removed and a unified diff
        /// (the pre-commit / CI stale-output check).
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Compare the render of SPEC with OUT on disk (-o), or with the render of SPEC as
    /// committed at a git revision (--base). Reports access changes first (who can call what:
    /// rules that became public or lost a scope or authorizer are listed loudest), then changed
    /// objects with field paths and a unified diff.
    ///
    /// Exit codes as diff(1): 0 no differences, 1 differences, 2 error.
    Diff {
        /// The spec file.
        spec: PathBuf,
        /// Compare with this output directory.
        #[arg(
            short,
            long,
            value_name = "OUT",
            conflicts_with = "base",
            required_unless_present = "base"
        )]
        out: Option<PathBuf>,
        /// Compare with the spec (and --templates) as committed at this git revision, e.g.
        /// origin/main. A spec absent there counts as everything added.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Directory of template overrides (as for render).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// Report format: text, markdown (for pull-request comments, under 60 000 characters)
        /// or json.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Exit 0 even when there are differences (for CI steps that only report).
        #[arg(long)]
        exit_zero: bool,
        /// The cluster: kyma (APIRules) or istio (plain Istio objects, see docs/istio-target.md).
        #[arg(long, value_enum, value_name = "TARGET", default_value_t = TargetArg::Kyma)]
        target: TargetArg,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Show who can call what: the access table of every host (rules in the order the
    /// controller evaluates them), or, given METHOD and URL, which rule a request meets and what
    /// it needs to pass, e.g. `kexpose explain kexpose.yaml GET https://httpbin.example.com/status/200`.
    Explain {
        /// The spec file.
        spec: PathBuf,
        /// HTTP method of a request to explain.
        #[arg(requires = "url")]
        method: Option<String>,
        /// URL of a request to explain.
        url: Option<String>,
        /// The cluster: kyma (APIRules) or istio (plain Istio objects, see docs/istio-target.md).
        #[arg(long, value_enum, value_name = "TARGET", default_value_t = TargetArg::Kyma)]
        target: TargetArg,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Check the live identity providers, and a real token, against the spec: the step
    /// after `render`, before deploying. The only command that uses the network.
    ///
    /// For each identity provider the spec uses: the discovery document, fetched as
    /// oauth2-proxy fetches it (issuer byte-equal? jwks_uri as in the spec? client_credentials
    /// granted? a signing algorithm in common?) and the JWKS. With KEXPOSE_CLIENT_ID and
    /// KEXPOSE_CLIENT_SECRET set (never a flag; the secret is never printed): a
    /// client-credentials token, its signature, and per authorizer, host and rule whether it
    /// is allowed or denied and why. With --probe: the exposed URLs requested with and
    /// without the token (GET/HEAD only), each answer compared with the prediction.
    ///
    /// HTTPS_PROXY/HTTP_PROXY/ALL_PROXY and NO_PROXY are honoured. Exit codes: 0 all good,
    /// 1 findings, 2 usage or network error (no answer). See docs/doctor.md.
    Doctor(crate::doctor::DoctorArgs),
    /// Write a kexpose spec from existing manifests: APIRules (gateway.kyma-project.io/v2,
    /// v2alpha1 and v1beta1) and the Istio CR (its authorizer list), from multi-document YAML
    /// files or `kubectl get … -o yaml` List output, e.g.
    /// `kubectl get apirules -A -o yaml > apirules.yaml; kubectl get istio default -n kyma-system -o yaml > istio.yaml; kexpose import apirules.yaml istio.yaml -o kexpose.yaml`.
    ///
    /// v1beta1 APIRules are migrated by Kyma's rules (noop/allow/no_auth → noAuth, jwt → jwt,
    /// Oathkeeper OAuth2 handlers → extAuth through oauth2-proxy, header/cookie mutators →
    /// request headers/cookies, old gateway names → namespace/name); everything that does not
    /// migrate exactly is a warning at its place in the input, saying what to decide. Objects
    /// of other kinds are skipped. Never overwrites a file; nothing is written on errors.
    Import {
        /// The manifest files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the spec (a new file), or `-` for stdout.
        #[arg(short, long, value_name = "PATH", default_value = "-")]
        out: PathBuf,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Validate team specs together with their platform spec (in the platform repository's
    /// CI): each team inside its grant, each referencing exactly this platform spec, and no
    /// host or APIRule used by two teams. Exit 0 when all are valid, 1 when not.
    Teams {
        /// The platform spec (`kind: Platform`).
        platform: PathBuf,
        /// The team specs (`kind: Team`), e.g. checked out from the team repositories.
        #[arg(required = true)]
        teams: Vec<PathBuf>,
        #[command(flatten)]
        diag: DiagArgs,
    },
    /// Print the spec's JSON Schema (for editors: yaml-language-server and others).
    Schema,
    /// Write a commented starter spec. Refuses to overwrite an existing file.
    Init {
        /// Where to write it.
        #[arg(default_value = "kexpose.yaml")]
        path: PathBuf,
    },
    /// List every diagnostic code with its severity and what it checks.
    Codes {
        /// Print the list as the Markdown tables of docs/diagnostics.md.
        #[arg(long)]
        markdown: bool,
    },
    /// Print a shell completion script to stdout, e.g.
    /// `kexpose completions bash > /etc/bash_completion.d/kexpose`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, e.g. `kexpose man > kexpose.1`.
    Man,
}

/// What kind of cluster the output is for.
#[derive(Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TargetArg {
    /// Kyma: APIRules v2 and the Istio CR's authorizers (the api-gateway controller
    /// creates the Istio objects).
    #[default]
    Kyma,
    /// Plain Istio (≥ 1.22) and oauth2-proxy, no Kyma: VirtualServices,
    /// AuthorizationPolicies, RequestAuthentications and the mesh config fragment, as the
    /// controller would create them (needs `selector` on every workload; docs/istio-target.md).
    Istio,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HelmReleaseArg {
    /// An Argo CD Application (argoproj.io/v1alpha1) per release.
    Argocd,
    /// A Flux HelmRepository (source.toolkit.fluxcd.io/v1) and HelmRelease
    /// (helm.toolkit.fluxcd.io/v2) per release.
    Flux,
    /// No object; apply helm/<authorizer>/values.yaml with helm.
    None,
}

#[derive(clap::Args)]
pub struct DiagArgs {
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Silence one warning code (repeatable), e.g. --allow authorizer-exposes-proxy-endpoints.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Colour diagnostics: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The render target of `render`'s options (and, for the stream, `ARGOCD_APP_NAME`).
pub fn target(
    stream: bool,
    helm_release: Option<HelmReleaseArg>,
    argocd_namespace: Option<String>,
    instance: Option<String>,
) -> Result<Target, String> {
    let release_objects = match helm_release {
        Some(h) => Some(match h {
            HelmReleaseArg::Argocd => ReleaseObjects::Argocd,
            HelmReleaseArg::Flux => ReleaseObjects::Flux,
            HelmReleaseArg::None => ReleaseObjects::None,
        }),
        // The stream carries Argo CD Applications by default only where Argo CD's plugin
        // generates it: `| kubectl apply -f -` on a cluster without Argo CD would fail part-way
        // on the first Application.
        None if stream && argocd_plugin_env() => Some(ReleaseObjects::Argocd),
        None => None,
    };
    let instance = match instance {
        Some(name) => Some((name, "--instance")),
        None if stream => std::env::var("ARGOCD_APP_NAME")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|name| (name, "ARGOCD_APP_NAME")),
        None => None,
    };
    Target::new(stream, release_objects, argocd_namespace, instance)
}

/// Is this process run by Argo CD's config-management plugin? Argo CD sets `ARGOCD_APP_NAME`
/// (with the other build-environment variables, `ARGOCD_APP_SOURCE_REPO_URL`, …) for every
/// plugin command (Argo CD docs, "Build Environment").
pub fn argocd_plugin_env() -> bool {
    std::env::var_os("ARGOCD_APP_NAME").is_some_and(|v| !v.is_empty())
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Json => Format::Json,
        }
    }
}

/// The warning policy of `--strict` and `--allow`.
pub fn policy(args: &DiagArgs) -> Result<Policy, String> {
    let mut allow = Vec::new();
    for name in &args.allow {
        if kexpose::diag::is_retired(name) {
            continue; // a withdrawn warning: nothing left to silence (docs/diagnostics.md)
        }
        let code = Code::parse(name).ok_or_else(|| {
            format!("--allow {name}: no such diagnostic code (see `kexpose codes`)")
        })?;
        if code.default_severity() == Severity::Error {
            return Err(format!(
                "--allow {name}: only warnings can be allowed; {name} is an error"
            ));
        }
        allow.push(code);
    }
    Ok(Policy {
        strict: args.strict,
        allow,
    })
}
