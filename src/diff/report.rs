//! Report formats: text (terminal), markdown (pull-request comments, size-capped) and JSON
//! (a stable shape for tools).

use super::{ChangeType, Diff, ObjectChange};
use crate::mesh::compare::{Change as AccessChange, ChangeKind as AccessChangeKind};
use serde_json::Value;
use std::fmt::Write as _;

/// Markdown reports stay under this many characters (GitHub's comment limit is 65 536).
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain or coloured text.
    Text,
    /// GitHub-flavoured markdown.
    Markdown,
    /// JSON.
    Json,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn kind(&self, k: AccessChangeKind) -> String {
        let label = format!("{:<14}", k.to_string());
        match k {
            AccessChangeKind::BecamePublic => self.wrap("1;31", &label.to_uppercase()),
            AccessChangeKind::Added | AccessChangeKind::Weakened => self.wrap("31", &label),
            AccessChangeKind::Changed => self.wrap("33", &label),
            AccessChangeKind::Removed => self.wrap("35", &label),
            AccessChangeKind::Narrowed => self.wrap("36", &label),
        }
    }
}

/// One-line summary, e.g. `1 rule became public, 2 weakened, 3 objects changed`.
pub fn summary(diff: &Diff) -> String {
    if diff.is_empty() {
        return "no differences".into();
    }
    let mut parts = Vec::new();
    // Changes are per method; count regions of request paths (host and paths), and name the
    // methods when a kind has one region, so one rule with three methods counts once.
    let regions_of = |k: AccessChangeKind| {
        let mut regions: Vec<(String, Vec<&str>)> = Vec::new();
        for c in diff.access_changes.iter().filter(|c| c.kind == k) {
            let w = where_text(c);
            match regions.iter_mut().find(|(r, _)| *r == w) {
                Some((_, methods)) => methods.push(&c.method),
                None => regions.push((w, vec![&c.method])),
            }
        }
        regions
    };
    for (k, label) in [
        (AccessChangeKind::BecamePublic, "became public"),
        (AccessChangeKind::Added, "opened"),
        (AccessChangeKind::Weakened, "weakened"),
        (AccessChangeKind::Changed, "changed access"),
        (AccessChangeKind::Narrowed, "narrowed"),
        (AccessChangeKind::Removed, "closed"),
    ] {
        match regions_of(k).as_slice() {
            [] => {}
            [(_, methods)] => {
                parts.push(format!("1 request region {label} ({})", methods.join(", ")))
            }
            regions => parts.push(format!("{} request regions {label}", regions.len())),
        }
    }
    let weak = diff.authorizer_changes.iter().filter(|a| a.weakens).count();
    if weak > 0 {
        parts.push(format!(
            "{weak} authorizer change{} weakening verification",
            if weak == 1 { "" } else { "s" }
        ));
    }
    let objs = |t: ChangeType| diff.objects.iter().filter(|o| o.change_type == t).count();
    let (a, r, c) = (
        objs(ChangeType::Added),
        objs(ChangeType::Removed),
        objs(ChangeType::Changed),
    );
    if a + r + c > 0 {
        parts.push(format!("objects: {a} added, {r} removed, {c} changed"));
    }
    parts.join(", ")
}

fn access_line(c: &AccessChange) -> (String, String) {
    (c.before_summary.clone(), c.after_summary.clone())
}

/// Where a change applies: host and path region, or the workload for in-cluster callers.
fn where_text(c: &AccessChange) -> String {
    if c.caller == "in-cluster" {
        format!("in-cluster callers of {}", c.host)
    } else {
        format!("{} {}", c.host, c.region)
    }
}

fn field_value(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn sign(t: ChangeType) -> &'static str {
    match t {
        ChangeType::Added => "+",
        ChangeType::Removed => "-",
        ChangeType::Changed => "~",
    }
}

/// Text report.
pub fn text(diff: &Diff, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    if diff.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        p.wrap("1", &format!("kexpose diff: {}", summary(diff)))
    );
    if !diff.access_changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.wrap(
                "1",
                &format!("Access changes ({})", diff.access_changes.len())
            )
        );
        for c in &diff.access_changes {
            let (b, a) = access_line(c);
            let _ = writeln!(
                out,
                "  {} {:<7} {}",
                p.kind(c.kind),
                c.method,
                where_text(c)
            );
            let _ = writeln!(
                out,
                "  {:<14} e.g. {} {}",
                "", c.example.method, c.example.url
            );
            let _ = writeln!(out, "  {:<14} {b}  →  {a}", "");
        }
    }
    if !diff.authorizer_changes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.wrap(
                "1",
                &format!("Authorizer changes ({})", diff.authorizer_changes.len())
            )
        );
        for a in &diff.authorizer_changes {
            let flag = if a.weakens {
                p.wrap("1;31", "  WEAKENS VERIFICATION")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  {} ({}){flag}", a.name, a.change_type);
            for d in &a.details {
                let _ = writeln!(out, "      {d}");
            }
        }
    }
    if !diff.objects.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.wrap("1", &format!("Objects ({})", diff.objects.len()))
        );
        for o in &diff.objects {
            object_text(&mut out, o, &p);
        }
    }
    out
}

fn object_text(out: &mut String, o: &ObjectChange, p: &Paint) {
    let head = format!("{} {}  ({})", sign(o.change_type), o.id, o.path);
    let code = match o.change_type {
        ChangeType::Added => "32",
        ChangeType::Removed => "31",
        ChangeType::Changed => "33",
    };
    let _ = writeln!(out, "  {}", p.wrap(code, &head));
    for f in &o.fields {
        let _ = writeln!(
            out,
            "      {}: {} → {}",
            f.path,
            field_value(&f.old),
            field_value(&f.new)
        );
    }
    for line in o.diff.lines() {
        let _ = writeln!(out, "    {}", paint_diff_line(line, p.0));
    }
}

/// One line of a unified diff, coloured when `color`: additions green, removals red, hunk
/// headers cyan.
pub fn paint_diff_line(line: &str, color: bool) -> String {
    let p = Paint(color);
    if line.starts_with('+') && !line.starts_with("+++") {
        p.wrap("32", line)
    } else if line.starts_with('-') && !line.starts_with("---") {
        p.wrap("31", line)
    } else if line.starts_with("@@") {
        p.wrap("36", line)
    } else {
        line.to_string()
    }
}

/// A user string in a Markdown table cell: escaped (see [`escape_markdown`]), on one line.
fn cell(s: &str) -> String {
    escape_markdown(&s.replace('\n', " "))
}

/// Escape a user string (a host, path, scope, name, field value) for GitHub-flavoured
/// Markdown: every character that Markdown or its HTML pass reads inside a line (`*` and `_`
/// emphasis, `` ` `` code, `[`/`]` links, `|` table cells, `~` strike-through, `\` escapes,
/// `<`, `>`, `&` HTML) is written so that it renders as itself. (Line-start syntax — `#`, `-`,
/// `>` — cannot occur: user strings are never written at the start of a line.) Use it on every user string that goes
/// into a Markdown report.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A user string as inline code: a code span whose fence is longer than any backtick run in
/// it (code spans render their content literally, except the HTML pass: escaped too).
fn code_span(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Markdown report for a pull-request comment, kept under [`MARKDOWN_LIMIT`] characters.
pub fn markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let loud = diff.access_changes.iter().any(|c| c.weakening)
        || diff.authorizer_changes.iter().any(|a| a.weakens);
    let _ = writeln!(
        out,
        "### kexpose diff: {}{}\n",
        if loud { "⚠️ " } else { "" },
        summary(diff)
    );
    if diff.is_empty() {
        return out;
    }
    // Reserve room for the closing note.
    let budget = MARKDOWN_LIMIT - 400;
    let mut cut_rows = 0;
    if !diff.access_changes.is_empty() {
        out.push_str("#### Access changes\n\n| change | method | where | example | before | after |\n|---|---|---|---|---|---|\n");
        for c in &diff.access_changes {
            let (b, a) = access_line(c);
            let kind = if c.weakening {
                format!("**{}**", c.kind)
            } else {
                c.kind.to_string()
            };
            let row = format!(
                "| {kind} | {} | {} | `{} {}` | {} | {} |\n",
                c.method,
                cell(&where_text(c)),
                c.example.method,
                cell(&c.example.url),
                cell(&b),
                cell(&a)
            );
            if out.len() + row.len() > budget / 2 {
                cut_rows += 1;
                continue;
            }
            out.push_str(&row);
        }
        if cut_rows > 0 {
            let _ = writeln!(
                out,
                "\n… and {cut_rows} more access changes (the loudest are listed first)."
            );
        }
        out.push('\n');
    }
    if !diff.authorizer_changes.is_empty() {
        out.push_str("#### Authorizer changes\n\n");
        let mut cut = 0;
        for a in &diff.authorizer_changes {
            let mut item = String::new();
            let _ = writeln!(
                item,
                "- **{}** ({}){}",
                escape_markdown(&a.name),
                a.change_type,
                if a.weakens {
                    " — **weakens verification**"
                } else {
                    ""
                }
            );
            for d in &a.details {
                let _ = writeln!(item, "  - {}", cell(d.trim()));
            }
            // Weakening changes come first; what does not fit is counted, not cut mid-item.
            if out.len() + item.len() > budget * 3 / 4 {
                cut += 1;
                continue;
            }
            out.push_str(&item);
        }
        if cut > 0 {
            let _ = writeln!(
                out,
                "\n… and {cut} more authorizer changes (those weakening verification are listed first)."
            );
        }
        out.push('\n');
    }
    let mut shown = 0;
    if !diff.objects.is_empty() {
        out.push_str("#### Objects\n\n");
        for o in &diff.objects {
            let mut section = String::new();
            let _ = writeln!(
                section,
                "<details><summary><code>{} {}</code> ({})</summary>\n",
                sign(o.change_type),
                html(&o.id.to_string()),
                html(&o.path)
            );
            for f in o.fields.iter().take(50) {
                let _ = writeln!(
                    section,
                    "- {}: {} → {}",
                    code_span(&f.path),
                    cell(&field_value(&f.old)),
                    cell(&field_value(&f.new))
                );
            }
            if o.fields.len() > 50 {
                let _ = writeln!(section, "- … {} more fields", o.fields.len() - 50);
            }
            let fence = fence(&o.diff);
            let _ = writeln!(section, "\n{fence}diff\n{}{fence}\n</details>\n", o.diff);
            if out.len() + section.len() > budget {
                break;
            }
            out.push_str(&section);
            shown += 1;
        }
    }
    let hidden = diff.objects.len() - shown;
    debug_assert!(out.len() <= budget, "markdown budget kept");
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\n_{hidden} of {} changed objects are not shown: the comment is cut to stay under {MARKDOWN_LIMIT} characters. Run `kexpose diff` locally for the full report._",
            diff.objects.len()
        );
    }
    out
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// JSON report: `{summary, accessChanges, authorizerChanges, objects}`.
pub fn json(diff: &Diff) -> String {
    let mut v = serde_json::to_value(diff).expect("a diff is JSON");
    v.as_object_mut()
        .expect("object")
        .insert("summary".into(), summary(diff).into());
    let mut s = serde_json::to_string_pretty(&v).expect("JSON");
    s.push('\n');
    s
}

/// Render in a format.
pub fn render(diff: &Diff, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(diff, color),
        Format::Markdown => markdown(diff),
        Format::Json => json(diff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::access::AuthorizerChange;

    /// Thousands of authorizer changes whose details escape to twice their length: the comment
    /// stays under GitHub's 65 536 characters and says what it left out.
    #[test]
    fn markdown_is_capped_with_a_note_whatever_grows() {
        let diff = Diff {
            access_changes: Vec::new(),
            authorizer_changes: (0..3000)
                .map(|i| AuthorizerChange {
                    name: format!("a{i}"),
                    change_type: "changed".into(),
                    weakens: false,
                    details: vec![format!(
                        "--banner: {} → {}",
                        "*_".repeat(20),
                        "|`".repeat(20)
                    )],
                })
                .collect(),
            objects: Vec::new(),
        };
        let md = markdown(&diff);
        assert!(md.chars().count() < 65_536, "{}", md.chars().count());
        assert!(md.contains("more authorizer changes"), "a truncation note");
    }

    #[test]
    fn escapes_markdown_and_html() {
        assert_eq!(
            escape_markdown("*admin* _x_ `c` [l](u) a|b <i>&"),
            "\\*admin\\* \\_x\\_ \\`c\\` \\[l\\](u) a\\|b &lt;i&gt;&amp;"
        );
    }
}
