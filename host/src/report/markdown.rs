//! Markdown for a pull-request comment: a summary line, a table of the
//! findings that need attention, and their fixes folded away. GitHub caps a
//! comment at 65,536 characters, so the fixes stop well before that.

use super::model::Report;
use std::fmt::Write;

const MAX_CHARS: usize = 60_000;

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
                    "- `{}` ({}, {})",
                    p.route(),
                    p.kinds.join(", "),
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
        for f in &active {
            let location = match (&f.resource.file, f.resource.line) {
                (Some(file), Some(line)) => format!(" (`{file}:{line}`)"),
                (Some(file), None) => format!(" (`{file}`)"),
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
                f.message
            );
            if let Some(r) = &f.remediation {
                let _ = writeln!(out, "{}\n", r.summary);
                if let Some(yaml) = &r.yaml {
                    let _ = writeln!(out, "```yaml\n{}\n```\n", yaml.trim_end());
                }
            }
        }
        out.push_str("</details>\n");
    }
    let errored: Vec<_> = report.errored().collect();
    if !errored.is_empty() {
        out.push_str("\n**Checks that failed to run**\n\n");
        for c in errored {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                c.id,
                cell(c.error.as_deref().unwrap_or_default())
            );
        }
    }
    out
}

/// Table cells hold one line and no pipes.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
