//! Printing: diagnostics, the stream, the `--check` report, colour decisions. The library
//! builds every text; this module only chooses where it goes.

use crate::args::{ColorChoice, DiagArgs};
use kexpose::Compilation;
use kexpose::diag;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Print a compilation's findings (and, on errors, the summary) to stderr.
pub fn report(c: &Compilation, args: &DiagArgs) {
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

/// `render -o -`: every object on stdout, or nothing and a non-zero exit.
pub fn print_stream(c: &Compilation) -> Result<ExitCode, String> {
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
pub fn check_out(
    out: &Path,
    outputs: &kexpose::render::Outputs,
    color: bool,
) -> Result<ExitCode, String> {
    let report = kexpose::write::compare(out, outputs)?;
    if report.is_clean() {
        eprintln!("{} is up to date", out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let text = kexpose::diff::stale_report(out, outputs, &report, color);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    eprintln!(
        "{} is out of date: run the same `kexpose render` without --check to update it",
        out.display()
    );
    Ok(ExitCode::from(1))
}

/// `--color` for what goes to stdout.
pub fn color_stdout(choice: ColorChoice) -> bool {
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

/// `--color` for what goes to stderr.
pub fn color_stderr(choice: ColorChoice) -> bool {
    use_color(choice, std::io::stderr().is_terminal())
}

/// Write everything to stdout at once; a failure (a closed pipe) is an I/O error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}
