//! The `kexpose` command line: argument parsing, printing and exit codes. Everything else is
//! in the library.

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use kexpose::diag::{self, Code, Policy, Severity};
use kexpose::diff::report::Format;
use kexpose::render::Templates;
use kexpose::write::Change;
use kexpose::{Compilation, ReadError, ReleaseObjects, Target};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Compile one kexpose spec into validated Kyma manifests: oauth2-proxy Helm values, the Istio
/// authorizer registration, APIRules (gateway.kyma-project.io/v2) and Namespaces.
///
/// Exit codes: 0 success; 1 invalid spec (or, with --strict, warnings); 2 usage or I/O error.
#[derive(Parser)]
#[command(name = "kexpose", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    /// With `-o -` every Kubernetes object is printed as one YAML stream on stdout instead
    /// (for Argo CD's config-management plugin, or `| kubectl apply -f -`); diagnostics go to
    /// stderr, and the exit code is non-zero on any error and when there is no object.
    Render {
        /// The spec file.
        spec: PathBuf,
        /// The output directory, or `-` for a YAML stream of every Kubernetes object on
        /// stdout (write `./-` for a directory named `-`).
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
        /// How each oauth2-proxy Helm release becomes a Kubernetes object: an Argo CD
        /// Application, a Flux HelmRepository and HelmRelease, or none (only the values
        /// file). Default: argocd for `-o -`, none for a directory.
        #[arg(long, value_enum, value_name = "KIND")]
        helm_release: Option<HelmReleaseArg>,
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
    Codes,
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HelmReleaseArg {
    /// An Argo CD Application (argoproj.io/v1alpha1) per release.
    Argocd,
    /// A Flux HelmRepository (source.toolkit.fluxcd.io/v1) and HelmRelease
    /// (helm.toolkit.fluxcd.io/v2) per release.
    Flux,
    /// No object; apply helm/<authorizer>/values.yaml with helm.
    None,
}

#[derive(clap::Args)]
struct DiagArgs {
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Silence one warning code (repeatable), e.g. --allow authorizer-exposes-proxy-endpoints.
    #[arg(long, value_name = "CODE")]
    allow: Vec<String>,
    /// Colour diagnostics: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Validate { spec, diag } => {
            let policy = policy(&diag)?;
            let c = compile(&spec, &Templates::builtin(), &policy, &Target::default())?;
            let Some(c) = c else {
                return Ok(ExitCode::from(1));
            };
            report(&c, &diag);
            if c.has_errors() {
                return Ok(ExitCode::from(1));
            }
            eprintln!(
                "{}: valid ({})",
                spec.display(),
                diag::summary(&c.diagnostics)
            );
            // The process ends here: freeing the compilation object by object is wasted work.
            std::mem::forget(c);
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            spec,
            out,
            check,
            helm_release,
            argocd_namespace,
            instance,
            templates,
            diag,
        } => {
            let stream = out.as_os_str() == "-";
            if stream && check {
                return Err(
                    "--check compares an output directory; it cannot be used with `-o -`".into(),
                );
            }
            let target = target(stream, helm_release, argocd_namespace, instance)?;
            let policy = policy(&diag)?;
            let templates = load_templates(templates.as_deref())?;
            let Some(c) = compile(&spec, &templates, &policy, &target)? else {
                return Ok(ExitCode::from(1));
            };
            report(&c, &diag);
            if stream {
                return print_stream(&c);
            }
            let Some(outputs) = c.outputs.as_ref().filter(|_| !c.has_errors()) else {
                eprintln!(
                    "nothing {} {}",
                    if check { "compared with" } else { "written to" },
                    out.display()
                );
                return Ok(ExitCode::from(1));
            };
            if check {
                return check_out(&out, outputs, color_stdout(diag.color));
            }
            let result = kexpose::write::write(&out, outputs)?;
            // One line per file: buffered, not a write per line.
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            for (path, change) in &result.changes {
                let _ = writeln!(stdout, "{change:>9} {}", out.join(path).display());
            }
            let _ = stdout.flush();
            for kept in &result.kept {
                eprintln!(
                    "warning: kept {} (not generated by kexpose)",
                    out.join(kept).display()
                );
            }
            // The process ends here: freeing the compilation object by object is wasted work.
            std::mem::forget(result);
            std::mem::forget(c);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            spec,
            out,
            base,
            templates,
            format,
            exit_zero,
            diag,
        } => {
            let policy = policy(&diag)?;
            let tpl = load_templates(templates.as_deref())?;
            let Some(after) = compile(&spec, &tpl, &policy, &Target::default())? else {
                return Ok(ExitCode::from(2));
            };
            report(&after, &diag);
            let Some(after_outputs) = after.outputs.as_ref().filter(|_| !after.has_errors()) else {
                eprintln!("error: {} has errors; nothing to compare", spec.display());
                return Ok(ExitCode::from(2));
            };
            let after_objects = kexpose::diff::objects_from_outputs(after_outputs)?;
            let before_objects = match (&out, &base) {
                (Some(out), _) => kexpose::diff::objects_from_dir(out)
                    .map_err(|e| format!("cannot compare with {}: {e}", out.display()))?,
                (None, Some(rev)) => base_objects(&spec, templates.as_deref(), rev, &policy)?,
                (None, None) => unreachable!("clap requires --out or --base"),
            };
            let d = kexpose::diff::Diff::between(&before_objects, &after_objects);
            let format = match format {
                FormatArg::Text => Format::Text,
                FormatArg::Markdown => Format::Markdown,
                FormatArg::Json => Format::Json,
            };
            print!(
                "{}",
                kexpose::diff::report::render(&d, format, color_stdout(diag.color))
            );
            Ok(if d.is_empty() || exit_zero {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Explain {
            spec,
            method,
            url,
            diag,
        } => {
            let policy = policy(&diag)?;
            let Some(c) = compile(&spec, &Templates::builtin(), &policy, &Target::default())?
            else {
                return Ok(ExitCode::from(1));
            };
            report(&c, &diag);
            let Some(outputs) = c.outputs.as_ref().filter(|_| !c.has_errors()) else {
                return Ok(ExitCode::from(1));
            };
            let objects = kexpose::diff::objects_from_outputs(outputs)?;
            match (method, url) {
                (Some(m), Some(u)) => {
                    print!("{}", kexpose::diff::explain::request(&objects, &m, &u)?)
                }
                _ => print!("{}", kexpose::diff::explain::table(&objects)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", kexpose::spec::json_schema_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { path } => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        format!(
                            "{} already exists; kexpose init never overwrites a file",
                            path.display()
                        )
                    } else {
                        format!("cannot create {}: {e}", path.display())
                    }
                })?;
            file.write_all(kexpose::STARTER_SPEC.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "wrote {}; edit the values marked CHANGE ME, then run `kexpose validate {}`",
                path.display(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kexpose", &mut text);
            write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut text = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut text)
                .map_err(|e| format!("cannot render the man page: {e}"))?;
            write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Codes => {
            let mut stdout = std::io::stdout().lock();
            for code in Code::ALL {
                let _ = writeln!(
                    stdout,
                    "{:<42} {:<8} {}",
                    code.as_str(),
                    code.default_severity().to_string(),
                    code.description()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_templates(dir: Option<&Path>) -> Result<Templates, String> {
    match dir {
        Some(dir) => Templates::from_dir(dir),
        None => Ok(Templates::builtin()),
    }
}

/// The render target from the command line (and, for the stream, `ARGOCD_APP_NAME`).
fn target(
    stream: bool,
    helm_release: Option<HelmReleaseArg>,
    argocd_namespace: Option<String>,
    instance: Option<String>,
) -> Result<Target, String> {
    let release_objects = match helm_release {
        Some(HelmReleaseArg::Argocd) => ReleaseObjects::Argocd,
        Some(HelmReleaseArg::Flux) => ReleaseObjects::Flux,
        Some(HelmReleaseArg::None) => ReleaseObjects::None,
        None if stream => ReleaseObjects::Argocd,
        None => ReleaseObjects::None,
    };
    let mut target = Target {
        release_objects,
        stream,
        ..Target::default()
    };
    if let Some(ns) = argocd_namespace {
        if release_objects != ReleaseObjects::Argocd {
            return Err(
                "--argocd-namespace names the namespace of Argo CD Applications; it needs --helm-release argocd".into(),
            );
        }
        if !kexpose::plan::is_rfc1123_label(&ns) {
            return Err(format!(
                "--argocd-namespace {ns:?}: not a namespace name (lowercase letters, digits and `-`, at most 63 characters)"
            ));
        }
        target.argocd_namespace = ns;
    }
    let (instance, from) = match instance {
        Some(name) => (Some(name), "--instance"),
        None if stream => (
            std::env::var("ARGOCD_APP_NAME")
                .ok()
                .filter(|v| !v.is_empty()),
            "ARGOCD_APP_NAME",
        ),
        None => (None, ""),
    };
    if let Some(name) = &instance
        && !kexpose::plan::is_label_value(name)
    {
        return Err(format!(
            "{from} {name:?} cannot be the label app.kubernetes.io/instance: a label value has at most 63 characters, letters, digits, `-`, `_` and `.`, and starts and ends with a letter or digit; give one with --instance"
        ));
    }
    target.instance = instance;
    Ok(target)
}

/// `render -o -`: every object on stdout, or nothing and a non-zero exit.
fn print_stream(c: &Compilation) -> Result<ExitCode, String> {
    let Some(objects) = c.objects.as_ref().filter(|_| !c.has_errors()) else {
        eprintln!("nothing printed: the spec has errors");
        return Ok(ExitCode::from(1));
    };
    if objects.is_empty() {
        eprintln!(
            "error: {} produces no Kubernetes object; nothing printed (an empty stream would make Argo CD prune every resource of the application)",
            c.source.name
        );
        return Ok(ExitCode::from(1));
    }
    write_stdout(kexpose::render::stream(objects).as_bytes())?;
    eprintln!(
        "{}: printed {} Kubernetes objects",
        c.source.name,
        objects.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `render --check`: compare without writing.
fn check_out(
    out: &Path,
    outputs: &kexpose::render::Outputs,
    color: bool,
) -> Result<ExitCode, String> {
    let report = kexpose::write::compare(out, outputs)?;
    if report.is_clean() {
        eprintln!("{} is up to date", out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut stdout = std::io::stdout().lock();
    for (path, change) in &report.changes {
        let verb = match change {
            Change::Created => "would create",
            Change::Updated => "would update",
            Change::Removed => "would remove",
            Change::Unchanged => continue,
        };
        let _ = writeln!(stdout, "{verb} {}", out.join(path).display());
    }
    for (path, change) in &report.changes {
        let old = match change {
            Change::Unchanged => continue,
            Change::Created => String::new(),
            _ => std::fs::read_to_string(out.join(path)).unwrap_or_default(),
        };
        let new = outputs.get(path).cloned().unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old, &new);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        for line in text.lines() {
            let _ = writeln!(
                stdout,
                "{}",
                kexpose::diff::report::paint_diff_line(line, color)
            );
        }
    }
    eprintln!(
        "{} is out of date: run the same `kexpose render` without --check to update it",
        out.display()
    );
    Ok(ExitCode::from(1))
}

/// Render the spec as committed at `rev` (with template overrides as committed there).
fn base_objects(
    spec: &Path,
    templates: Option<&Path>,
    rev: &str,
    policy: &Policy,
) -> Result<Vec<kexpose::diff::Object>, String> {
    use kexpose::diff::git;
    let dir = spec
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = spec
        .file_name()
        .ok_or_else(|| format!("{} is not a file", spec.display()))?
        .to_string_lossy()
        .into_owned();
    git::check_revision(dir, rev)?;
    let Some(bytes) = git::show(dir, rev, &file)? else {
        return Ok(Vec::new());
    };
    let mut overrides = Vec::new();
    if let Some(tdir) = templates {
        for (name, _) in kexpose::render::TEMPLATES {
            let tparent = tdir.to_string_lossy().into_owned();
            if let Some(text) = git::show(Path::new("."), rev, &format!("{tparent}/{name}"))? {
                overrides.push((
                    name.to_string(),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
        }
    }
    let label = format!("{rev}:{file}");
    let source = match kexpose::yaml::source_from_bytes(&label, bytes) {
        Ok(s) => s,
        Err((src, d)) => {
            eprint!("{}", diag::render(&[*d], &src, false));
            return Err(format!("the spec at {rev} cannot be read"));
        }
    };
    let c = kexpose::compile(source, &file, &Templates::from_texts(overrides), policy);
    match c.outputs.as_ref().filter(|_| !c.has_errors()) {
        Some(outputs) => kexpose::diff::objects_from_outputs(outputs),
        None => {
            eprint!("{}", diag::render(&c.diagnostics, &c.source, false));
            Err(format!(
                "the spec at {rev} has errors; cannot compare with it"
            ))
        }
    }
}

fn color_stdout(choice: ColorChoice) -> bool {
    use_color(choice, std::io::stdout().is_terminal())
}

/// `--color`: always, never, or (auto) on a terminal unless `NO_COLOR` is set.
fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal,
    }
}

/// Write everything to stdout at once; a failure (a closed pipe) is an I/O error.
fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

fn policy(args: &DiagArgs) -> Result<Policy, String> {
    let mut allow = Vec::new();
    for name in &args.allow {
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

/// Read and compile; `Ok(None)` when the file itself was rejected (already reported).
fn compile(
    spec: &Path,
    templates: &Templates,
    policy: &Policy,
    target: &Target,
) -> Result<Option<Compilation>, String> {
    let source = match kexpose::read_spec(spec) {
        Ok(s) => s,
        Err(ReadError::Io(e)) => return Err(e),
        Err(ReadError::Invalid(src, d)) => {
            eprint!(
                "{}",
                diag::render(&[*d], &src, color_stderr(ColorChoice::Auto))
            );
            return Ok(None);
        }
    };
    let label = spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.display().to_string());
    Ok(Some(kexpose::compile_for(
        source, &label, templates, policy, target,
    )))
}

fn report(c: &Compilation, args: &DiagArgs) {
    if c.diagnostics.is_empty() {
        return;
    }
    eprint!(
        "{}",
        diag::render(&c.diagnostics, &c.source, color_stderr(args.color))
    );
    if c.has_errors() {
        eprintln!("{}: {}", c.source.name, diag::summary(&c.diagnostics));
    }
}

fn color_stderr(choice: ColorChoice) -> bool {
    use_color(choice, std::io::stderr().is_terminal())
}
