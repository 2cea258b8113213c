//! Markdown for a pull-request comment: a summary line, a table of the
//! findings that need attention, and their fixes folded away. GitHub caps a
//! comment at 65,536 characters, so the fixes stop well before that.

use super::model::Report;
use std::fmt::Write;

/// GitHub's limit on a comment, in characters.
pub const LIMIT: usize = 65_536;
/// Where the table stops adding rows, and the fixes stop, leaving room for the rest.
const TABLE_BUDGET: usize = 50_000;
const MAX_CHARS: usize = 60_000;
const NOTE: &str = "see the full report: `kridik scan --format json` or `--format html`";

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = format!(
        "## kridik: {} finding(s){}\n\n{} check(s) over {} objects and {} workloads; {} failing, {} errored.",
        s.findings,
        super::by_severity(s),
        s.checks_run,
        s.objects,
        s.workloads,
        s.checks_failed,
        s.checks_errored
    );
    let t = &report.triage;
    if t.suppressed > 0 {
        let _ = write!(out, " {} suppressed.", t.suppressed);
    }
    if let Some(b) = &t.baseline {
        let _ = write!(
            out,
            " Baseline: {} known, {} new, {} fixed.",
            b.known, b.new, b.fixed
        );
    }
    out.push_str("\n\n");
    if !report.clusters.is_empty() {
        out.push_str("| cluster | Zero Trust score | findings |\n|---|---|---|\n");
        for c in &report.clusters {
            let (score, found) = match (&c.error, &c.summary, &c.assessment) {
                (Some(e), _, _) => (format!("not scanned: {}", cell(e)), String::new()),
                (None, Some(s), Some(a)) => (
                    cell(&a.score.headline()),
                    format!("{}{}", s.findings, super::by_severity(s)),
                ),
                _ => (String::new(), String::new()),
            };
            let _ = writeln!(out, "| {} | {score} | {found} |", cell(&c.context));
        }
        out.push('\n');
    }
    if let Some(a) = &report.assessment {
        let _ = writeln!(
            out,
            "**{}**: {}.\n",
            a.score.headline(),
            a.score.by_pillar()
        );
        let ap = &a.attack_paths;
        if !ap.targets.is_empty() {
            let _ = writeln!(out, "**Attack paths**: {}.", ap.reach());
            for p in &ap.paths {
                let _ = writeln!(
                    out,
                    "- {} ({}, {})",
                    code(&p.route()),
                    cell(&p.kinds.join(", ")),
                    p.certainty
                );
            }
            out.push('\n');
        }
    }
    let active: Vec<_> = report.findings.iter().filter(|f| f.counts()).collect();
    if !active.is_empty() {
        out.push_str(
            "| Severity | Check | Resource | Finding | Evidence |\n|---|---|---|---|---|\n",
        );
        for (i, f) in active.iter().enumerate() {
            if out.len() > TABLE_BUDGET {
                let _ = writeln!(
                    out,
                    "\n_{} more finding(s) not listed (a comment holds at most {LIMIT} characters): {NOTE}._",
                    active.len() - i
                );
                break;
            }
            let location = match (&f.resource.file, f.resource.line) {
                (Some(file), Some(line)) => format!(" ({})", code(&format!("{file}:{line}"))),
                (Some(file), None) => format!(" ({})", code(file)),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {}{location} | {} | {} |",
                f.severity,
                f.check_id,
                cell(&f.resource.display()),
                cell(&f.title),
                f.confidence
            );
        }
        out.push_str("\n<details><summary>Fixes</summary>\n\n");
        for (i, f) in active.iter().enumerate() {
            if out.len() > MAX_CHARS {
                let _ = writeln!(
                    out,
                    "_{} more: see `kridik scan --format json`._\n",
                    active.len() - i
                );
                break;
            }
            let _ = writeln!(
                out,
                "#### `{}` {}\n\n{}\n",
                f.check_id,
                cell(&f.resource.display()),
                prose(&f.message)
            );
            if let Some(r) = &f.remediation {
                let _ = writeln!(out, "{}\n", prose(&r.summary));
                if let Some(yaml) = &r.yaml {
                    // A fence longer than any backtick run inside cannot be closed early.
                    let fence = "`".repeat(3.max(longest_run(yaml, '`') + 1));
                    let _ = writeln!(out, "{fence}yaml\n{}\n{fence}\n", yaml.trim_end());
                }
            }
        }
        out.push_str("</details>\n");
    }
    let errored: Vec<_> = report.errored().collect();
    if !errored.is_empty() {
        out.push_str("\n**Checks that failed to run**\n\n");
        for (i, c) in errored.iter().enumerate() {
            if out.len() > MAX_CHARS {
                let _ = writeln!(out, "- {} more: {NOTE}", errored.len() - i);
                break;
            }
            let _ = writeln!(
                out,
                "- `{}`: {}",
                c.id,
                cell(c.error.as_deref().unwrap_or_default())
            );
        }
    }
    fit(out)
}

/// The last guard: a comment over GitHub's limit is cut at a line, with a note.
fn fit(out: String) -> String {
    if out.chars().count() <= LIMIT {
        return out;
    }
    let tail = format!("\n\n_Cut to fit a comment: {NOTE}._\n");
    let room = LIMIT - tail.chars().count();
    let end = out.char_indices().nth(room).map_or(out.len(), |(i, _)| i);
    let end = out[..end].rfind('\n').unwrap_or(end);
    out[..end].to_string() + &tail
}

/// Running text: HTML escaped outside code spans (inside them nothing is
/// interpreted and an entity would show literally); an unbalanced backtick
/// makes the whole text prose.
fn prose(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return super::escape_text(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i.is_multiple_of(2) {
                super::escape_text(p)
            } else {
                format!("`{p}`")
            }
        })
        .collect()
}

/// An inline code span: nothing inside is interpreted, so only a backtick
/// (which would end it) and line breaks need replacing.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'").replace(['\n', '|'], " "))
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A table cell: pipes and HTML escaped (GitHub renders inline HTML), one line.
pub(crate) fn cell(text: &str) -> String {
    super::escape_text(text)
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('\n', " ")
}
