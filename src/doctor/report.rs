//! `doctor` report formats: text (findings as `file:line:col` diagnostics, like `validate`),
//! markdown and JSON (like `diff`). Every output passes through [`Report::mask`].

use super::Report;
use crate::diag::{self, Diagnostic};
use crate::diff::report::Format;
use crate::source::SourceFile;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// One-line summary.
pub fn summary(r: &Report) -> String {
    let denied = r
        .judgements
        .iter()
        .filter(|j| j.decision == "denied")
        .count();
    let mismatches = r.probes.iter().filter(|p| !p.agrees).count();
    let mut parts = vec![diag::summary(&r.diagnostics)];
    if r.token.is_some() {
        parts.push(format!("{denied} denial(s) of the token"));
    }
    if !r.probes.is_empty() {
        parts.push(format!(
            "{} probe(s), {mismatches} disagreeing",
            r.probes.len()
        ));
    }
    parts.join(", ")
}

/// Render the report.
pub fn render(r: &Report, source: &SourceFile, format: Format, color: bool) -> String {
    let text = match format {
        Format::Text => text(r, source, color),
        Format::Markdown => markdown(r, source),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(r, source)).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    r.mask(&text)
}

fn location(d: &Diagnostic, source: &SourceFile) -> String {
    match d.span {
        Some(s) => format!("{}:{}:{}", source.name, s.line, s.col),
        None => source.name.clone(),
    }
}

fn text(r: &Report, source: &SourceFile, color: bool) -> String {
    let mut out = String::new();
    for p in &r.providers {
        let _ = writeln!(
            out,
            "identity provider {} ({}), used by {}",
            p.name,
            p.issuer,
            p.used_by.join(", ")
        );
        let _ = writeln!(out, "  GET {}", p.discovery_url);
        for f in &p.facts {
            let _ = writeln!(out, "  {f}");
        }
    }
    if let Some(t) = &r.token {
        let _ = writeln!(
            out,
            "\ntoken from {} for client {} (client secret and token not shown)",
            t.provider, t.client_id
        );
        let _ = writeln!(
            out,
            "  alg {} kid {}",
            t.alg,
            t.kid.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(out, "  iss {}", t.iss.as_deref().unwrap_or("(none)"));
        let _ = writeln!(out, "  aud {}", t.aud.join(", "));
        for (k, v) in &t.scopes {
            let _ = writeln!(out, "  {k} {v}");
        }
        let _ = writeln!(out, "  exp {}", t.expires.as_deref().unwrap_or("(none)"));
        for v in &t.verified_with {
            let _ = writeln!(out, "  signature verified with {v}");
        }
    }
    if !r.judgements.is_empty() {
        let _ = writeln!(out, "\naccess with this token:");
        let mut host: Option<&str> = None;
        for j in &r.judgements {
            if j.host.as_deref() != host {
                host = j.host.as_deref();
                if let Some(h) = host {
                    let _ = writeln!(out, "  {h}");
                }
            }
            let indent = if j.host.is_some() { "    " } else { "  " };
            let what = match (&j.path, j.kind.as_str()) {
                (_, "authorizer") => format!("authorizer {}", j.subject),
                (Some(p), _) => format!("{} (e.g. {p})", j.subject),
                (None, _) => j.subject.clone(),
            };
            let status = j.status.map_or_else(String::new, |s| format!(" ({s})"));
            let _ = writeln!(
                out,
                "{indent}{:<7}{status:<6} {what}: {}",
                j.decision.to_uppercase(),
                j.reason
            );
        }
    }
    if !r.probes.is_empty() {
        let _ = writeln!(out, "\nprobes:");
        for p in &r.probes {
            let got = match (p.status, &p.error) {
                (Some(s), _) => s.to_string(),
                (None, Some(e)) => format!("no answer ({e})"),
                _ => "no answer".into(),
            };
            let _ = writeln!(
                out,
                "  {} {} {} {:<15} expected {}, got {got}",
                if p.agrees { "ok      " } else { "MISMATCH" },
                p.method,
                p.url,
                if p.with_token {
                    "with token"
                } else {
                    "without token"
                },
                p.expected
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&diag::render(&r.diagnostics, source, color));
    let _ = writeln!(out, "{}: {}", source.name, summary(r));
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(r: &Report, source: &SourceFile) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### kexpose doctor: {}\n", summary(r));
    if !r.diagnostics.is_empty() {
        let _ = writeln!(out, "| | where | code | finding |\n|---|---|---|---|");
        for d in &r.diagnostics {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {}{} |",
                d.severity,
                location(d, source),
                d.code,
                md_escape(&d.message),
                d.help
                    .as_ref()
                    .map_or_else(String::new, |h| format!(" — fix: {}", md_escape(h)))
            );
        }
        out.push('\n');
    }
    for p in &r.providers {
        let _ = writeln!(
            out,
            "**identity provider `{}`** (`{}`), used by {}\n",
            p.name,
            p.issuer,
            p.used_by.join(", ")
        );
        for f in &p.facts {
            let _ = writeln!(out, "- {}", md_escape(f));
        }
        out.push('\n');
    }
    if let Some(t) = &r.token {
        let _ = writeln!(
            out,
            "**token** from `{}` for client `{}`: alg {}, iss `{}`, aud `{}`, exp {}\n",
            t.provider,
            t.client_id,
            t.alg,
            t.iss.as_deref().unwrap_or(""),
            t.aud.join(", "),
            t.expires.as_deref().unwrap_or("(none)")
        );
    }
    if !r.judgements.is_empty() {
        let _ = writeln!(
            out,
            "| host | rule or authorizer | decision | reason |\n|---|---|---|---|"
        );
        for j in &r.judgements {
            let _ = writeln!(
                out,
                "| {} | `{}` | {}{} | {} |",
                j.host.as_deref().unwrap_or("—"),
                match (&j.path, j.kind.as_str()) {
                    (_, "authorizer") => format!("authorizer {}", j.subject),
                    (Some(p), _) => format!("{} (e.g. {p})", j.subject),
                    (None, _) => j.subject.clone(),
                },
                j.decision,
                j.status.map_or_else(String::new, |s| format!(" ({s})")),
                md_escape(&j.reason)
            );
        }
        out.push('\n');
    }
    if !r.probes.is_empty() {
        let _ = writeln!(
            out,
            "| probe | token | expected | got | |\n|---|---|---|---|---|"
        );
        for p in &r.probes {
            let _ = writeln!(
                out,
                "| `{} {}` | {} | {} | {} | {} |",
                p.method,
                p.url,
                if p.with_token { "yes" } else { "no" },
                p.expected,
                p.status
                    .map_or_else(|| "no answer".into(), |s| s.to_string()),
                if p.agrees { "ok" } else { "**mismatch**" }
            );
        }
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "- note: {}", md_escape(n));
    }
    out
}

fn to_json(r: &Report, source: &SourceFile) -> Value {
    let findings: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            json!({
                "severity": d.severity.to_string(),
                "code": d.code.as_str(),
                "file": source.name,
                "line": d.span.map(|s| s.line),
                "column": d.span.map(|s| s.col),
                "message": d.message,
                "help": d.help,
            })
        })
        .collect();
    json!({
        "summary": summary(r),
        "findings": findings,
        "identityProviders": r.providers,
        "token": r.token,
        "access": r.judgements,
        "probes": r.probes,
        "notes": r.notes,
        "networkError": r.network_error,
    })
}
