//! `render --check`: what a stale output directory would become, as text. The comparison itself
//! is [`crate::write::compare`]; this module only renders it, with the diff painter of
//! [`super::report`], so that `write` stays below `diff`.

use crate::render::Outputs;
use crate::write::{Change, Report};
use std::fmt::Write as _;
use std::path::Path;

/// What `render --check` prints for a stale OUT (`report` is [`crate::write::compare`]'s answer): one line
/// per file that would be created, updated or removed, then a unified diff of each, each line
/// painted when `color` is set. Empty when OUT is up to date.
pub fn stale_report(out: &Path, outputs: &Outputs, report: &Report, color: bool) -> String {
    let mut text = String::new();
    for (path, change) in &report.changes {
        let verb = match change {
            Change::Created => "would create",
            Change::Updated => "would update",
            Change::Removed => "would remove",
            Change::Unchanged => continue,
        };
        let _ = writeln!(text, "{verb} {}", out.join(path).display());
    }
    for (path, change) in &report.changes {
        let old = match change {
            Change::Unchanged => continue,
            Change::Created => String::new(),
            _ => std::fs::read_to_string(out.join(path)).unwrap_or_default(),
        };
        let new = outputs.get(path).cloned().unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&old, &new);
        let unified = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        for line in unified.lines() {
            let _ = writeln!(text, "{}", super::report::paint_diff_line(line, color));
        }
    }
    text
}
