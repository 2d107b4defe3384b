//! The `kexpose` command line: argument parsing, printing and exit codes. Everything else is
//! in the library.

use clap::{Parser, Subcommand, ValueEnum};
use kexpose::diag::{self, Code, Policy, Severity};
use kexpose::render::Templates;
use kexpose::{Compilation, ReadError};
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
    /// helm/<authorizer>/values.yaml and apirules/<namespace>/<name>.yaml. Files kexpose did
    /// not generate are never touched; OUT changes all-or-nothing.
    Render {
        /// The spec file.
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
        /// Directory of template overrides: a file named like a built-in template
        /// (apirule.yaml.j2, istio-authorizers.yaml.j2, helm-values.yaml.j2,
        /// namespaces.yaml.j2, kustomization.yaml.j2) replaces it.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
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
            let c = compile(&spec, &Templates::builtin(), &policy)?;
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
            templates,
            diag,
        } => {
            let policy = policy(&diag)?;
            let templates = match &templates {
                Some(dir) => Templates::from_dir(dir)?,
                None => Templates::builtin(),
            };
            let Some(c) = compile(&spec, &templates, &policy)? else {
                return Ok(ExitCode::from(1));
            };
            report(&c, &diag);
            let Some(outputs) = c.outputs.as_ref().filter(|_| !c.has_errors()) else {
                eprintln!("nothing written to {}", out.display());
                return Ok(ExitCode::from(1));
            };
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
    Ok(Some(kexpose::compile(source, &label, templates, policy)))
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
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}
