//! Human output: findings grouped by severity, then checks that failed to run,
//! input problems, and a summary line. Colour only when asked (a TTY).

use super::model::Report;
use crate::vocab::{ObjectRef, Severity};
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

/// Styles the text when colour is on (a TTY), through anstyle (clap's own).
struct Paint(bool);

impl Paint {
    fn sev(&self, s: Severity) -> String {
        let style = match s {
            Severity::Critical => Style::new()
                .bold()
                .fg_color(Some(AnsiColor::Magenta.into())),
            Severity::High => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
            Severity::Info => Style::new().dimmed(),
        };
        self.wrap(style, &format!("{:<8}", s.to_string()))
    }

    fn dim(&self, t: &str) -> String {
        self.wrap(Style::new().dimmed(), t)
    }

    fn bold(&self, t: &str) -> String {
        self.wrap(Style::new().bold(), t)
    }

    fn wrap(&self, style: Style, t: &str) -> String {
        if self.0 {
            format!("{style}{t}{style:#}")
        } else {
            t.to_string()
        }
    }
}

fn location(r: &ObjectRef) -> String {
    let mut s = r.display();
    if let Some(file) = &r.file {
        let _ = write!(
            s,
            " ({file}{})",
            r.line.map(|l| format!(":{l}")).unwrap_or_default()
        );
    }
    s
}

/// How much the text shows: one line per finding (the default), or each
/// finding with its message, evidence and fix (`--explain`).
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub color: bool,
    pub explain: bool,
    /// Terminal columns: compact lines are cut to fit.
    pub width: usize,
}

/// Findings of one check shown in a severity group before the rest is counted.
const SHOWN_PER_CHECK: usize = 5;

pub fn render(report: &Report, view: View) -> String {
    let p = Paint(view.color);
    let mut out = String::new();
    for sev in Severity::DESCENDING {
        let group: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.counts() && f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", p.bold(&format!("== {sev} ({}) ==", group.len())));
        if !view.explain {
            compact(&mut out, &group, &p, view.width);
            let _ = writeln!(out);
            continue;
        }
        for f in group {
            let _ = writeln!(
                out,
                "{} {} {}  [{}]",
                p.sev(f.severity),
                f.check_id,
                f.title,
                f.confidence
            );
            let _ = writeln!(out, "    resource: {}", location(&f.resource));
            if let Some(r) = &f.raised {
                let _ = writeln!(out, "    raised from {}: {}", r.from, r.reason);
            }
            for line in textwrap::wrap(&f.message, 100) {
                let _ = writeln!(out, "    {line}");
            }
            for e in f.evidence.iter().take(5) {
                let _ = writeln!(
                    out,
                    "    {} {}",
                    p.dim(&format!("evidence [{}]:", e.label)),
                    e.detail
                );
            }
            if f.evidence.len() > 5 {
                let _ = writeln!(
                    out,
                    "    {}",
                    p.dim(&format!(
                        "... {} more evidence items (see --format json)",
                        f.evidence.len() - 5
                    ))
                );
            }
            if let Some(r) = &f.remediation {
                let _ = writeln!(out, "    fix: {}", r.summary);
                if let Some(yaml) = &r.yaml {
                    for line in yaml.lines() {
                        let _ = writeln!(out, "      {}", p.dim(line));
                    }
                }
            }
            let _ = writeln!(out);
        }
    }
    if !view.explain {
        by_check(&mut out, report, &p);
    }
    if let Some(a) = &report.assessment {
        assessment(&mut out, a, &p, view.explain);
    }
    for c in &report.clusters {
        let _ = writeln!(out, "{}", p.bold(&format!("== cluster {} ==", c.context)));
        match (&c.error, &c.assessment) {
            (Some(e), _) => {
                let _ = writeln!(out, "  not scanned: {e}\n");
            }
            (None, Some(a)) => assessment(&mut out, a, &p, view.explain),
            (None, None) => {}
        }
    }
    let errored: Vec<_> = report.errored().collect();
    if !errored.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!(
                "== checks that failed to run ({}) ==",
                errored.len()
            ))
        );
        for c in errored {
            let _ = writeln!(
                out,
                "  {} ({}): {}",
                c.id,
                c.plugin,
                c.error.as_deref().unwrap_or("unknown error")
            );
        }
        let _ = writeln!(out);
    }
    if !report.model_problems.is_empty() {
        let _ = writeln!(out, "{}", p.bold("== notes on the input =="));
        for m in &report.model_problems {
            let _ = writeln!(out, "  {m}");
        }
        let _ = writeln!(out);
    }
    if !report.input_errors.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!(
                "== input that could not be read ({}) ==",
                report.input_errors.len()
            ))
        );
        // A million bad items must not make a million lines: the JSON has them all.
        const SHOWN: usize = 50;
        for e in report.input_errors.iter().take(SHOWN) {
            let _ = writeln!(out, "  {e}");
        }
        if report.input_errors.len() > SHOWN {
            let _ = writeln!(
                out,
                "  ... and {} more (all of them in --format json)",
                report.input_errors.len() - SHOWN
            );
        }
        let _ = writeln!(out);
    }
    if !report.unavailable_kinds.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold("== kinds that could not be read (findings that need them are UNKNOWN) ==")
        );
        for u in &report.unavailable_kinds {
            let _ = writeln!(out, "  {}: {}", u.kind, u.detail);
        }
        let _ = writeln!(out);
    }
    if !report.evidence_gaps.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold("== evidence gaps (what could not be assessed) ==")
        );
        for g in &report.evidence_gaps {
            let _ = writeln!(out, "  {} ({})", g.what, g.checks_affected);
            let _ = writeln!(out, "    close it: {}", g.command);
        }
        let _ = writeln!(out);
    }
    let t = &report.triage;
    if t.suppressed > 0 || t.baseline.is_some() || !t.expired.is_empty() || !t.unused.is_empty() {
        let _ = writeln!(out, "{}", p.bold("== triage =="));
        if t.suppressed > 0 {
            let _ = writeln!(
                out,
                "  {} finding(s) suppressed (listed with their reasons in --format json)",
                t.suppressed
            );
        }
        if let Some(b) = &t.baseline {
            let _ = writeln!(
                out,
                "  baseline {}: {} known, {} new, {} fixed since",
                b.file, b.known, b.new, b.fixed
            );
        }
        for e in &t.expired {
            let _ = writeln!(out, "  expired, no longer suppressing: {e}");
        }
        for u in &t.unused {
            let _ = writeln!(out, "  unused: {u}");
        }
        let _ = writeln!(out);
    }
    if !report.hooks.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!("== result hooks ({}) ==", report.hooks.len()))
        );
        for h in &report.hooks {
            let state = match &h.error {
                None => "ok".to_string(),
                Some(e) => format!("error: {e}"),
            };
            let _ = writeln!(out, "  {}: {state}", h.name);
            for d in &h.denied {
                let _ = writeln!(out, "    denied (origin not granted): {d}");
            }
            for n in &h.notes {
                let _ = writeln!(out, "    {n}");
            }
        }
        let _ = writeln!(out);
    }
    if let Some(a) = &report.assessment {
        let _ = writeln!(out, "{}: {}", a.score.headline(), a.score.by_pillar());
    }
    for c in &report.clusters {
        match (&c.summary, &c.assessment) {
            (Some(s), Some(a)) => {
                let _ = writeln!(
                    out,
                    "{}: {}; {} finding(s){}",
                    c.context,
                    a.score.headline(),
                    s.findings,
                    super::by_severity(s)
                );
            }
            _ => {
                let _ = writeln!(out, "{}: not scanned", c.context);
            }
        }
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} finding(s){} from {} check(s) ({} failing, {} errored) over {} objects, {} workloads{}",
        s.findings,
        super::by_severity(s),
        s.checks_run,
        s.checks_failed,
        s.checks_errored,
        s.objects,
        s.workloads,
        if s.input_errors > 0 {
            format!("; {} input error(s)", s.input_errors)
        } else {
            String::new()
        }
    );
    out
}

/// One line per finding, grouped by check in the order they come (most
/// severe first); a check's findings beyond a few are counted, not listed.
fn compact(out: &mut String, group: &[&super::model::Finding], p: &Paint, width: usize) {
    let mut checks: Vec<&str> = Vec::new();
    for f in group {
        if !checks.contains(&f.check_id.as_str()) {
            checks.push(&f.check_id);
        }
    }
    for id in checks {
        let of_check: Vec<_> = group.iter().filter(|f| f.check_id == id).collect();
        for f in of_check.iter().take(SHOWN_PER_CHECK) {
            let place = location(&f.resource);
            let head = format!("{} {id} {place}", p.sev(f.severity));
            // The severity column is 8 characters wide, whatever the colour codes.
            let visible = 9 + id.len() + 1 + place.chars().count();
            let room = width.saturating_sub(visible + 2);
            let raised = if f.raised.is_some() {
                " [on an attack path]"
            } else {
                ""
            };
            let text = format!("{}{raised}", f.title);
            let _ = writeln!(out, "{head}  {}", p.dim(&cut(&text, room.max(20))));
        }
        if of_check.len() > SHOWN_PER_CHECK {
            let _ = writeln!(
                out,
                "{}",
                p.dim(&format!(
                    "         ... {} more {id} finding(s) (--explain, or --format json)",
                    of_check.len() - SHOWN_PER_CHECK
                ))
            );
        }
    }
}

/// `text` in at most `max` characters, ending with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Open findings counted by check and severity, most findings first.
fn by_check(out: &mut String, report: &Report, p: &Paint) {
    let mut rows: Vec<(&str, Severity, usize, &str)> = Vec::new();
    for f in report.findings.iter().filter(|f| f.counts()) {
        match rows.iter_mut().find(|r| r.0 == f.check_id) {
            Some(r) => {
                r.2 += 1;
                r.1 = r.1.max(f.severity);
            }
            None => rows.push((&f.check_id, f.severity, 1, &f.title)),
        }
    }
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "{}", p.bold("== findings by check =="));
    let idw = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (id, sev, n, title) in rows {
        let _ = writeln!(
            out,
            "  {} {id:<idw$} {n:>5}  {}",
            p.sev(sev),
            cut(title, 70)
        );
    }
    let _ = writeln!(out);
}

/// Attack paths and the remediation plan (the score is on the summary lines).
fn assessment(out: &mut String, a: &crate::assess::Assessment, p: &Paint, explain: bool) {
    let ap = &a.attack_paths;
    if !ap.targets.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!("== attack paths ({}) ==", ap.reach()))
        );
        for path in &ap.paths {
            let _ = writeln!(
                out,
                "  [{}] {} ({}; {})",
                path.certainty,
                path.route(),
                path.kinds.join(", "),
                path.why_sensitive
            );
            for h in &path.hops {
                let _ = writeln!(out, "    {}", h.describe());
                if let Some(u) = &h.uncertainty {
                    let _ = writeln!(out, "      {}", p.dim(&format!("{}: {u}", h.certainty)));
                }
            }
        }
        if ap.omitted > 0 {
            let _ = writeln!(out, "  ... {} more path(s) in --format json", ap.omitted);
        }
        for t in ap.targets.iter().filter(|t| !t.reachable) {
            let _ = writeln!(out, "  no path reaches {} ({})", t.workload, t.why);
        }
        let _ = writeln!(out);
    }
    if a.plan.items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", p.bold("== remediation plan =="));
    use crate::assess::plan::Phase;
    for (phase, title, items) in a.plan.phases() {
        let _ = writeln!(out, "  {title} ({}):", items.len());
        let shown = if explain { items.len() } else { 10 };
        if items.len() > shown {
            let _ = writeln!(
                out,
                "    {}",
                p.dim(&format!(
                    "(the first {shown}; all {} with --explain)",
                    items.len()
                ))
            );
        }
        for i in items.iter().take(shown) {
            let _ = writeln!(
                out,
                "    {} {} {}{}",
                i.severity,
                i.check_id,
                i.resource,
                if i.on_attack_path {
                    " [on an attack path]"
                } else {
                    ""
                }
            );
            // The probe commands are long: shown with --explain.
            if explain && phase != Phase::Days90 {
                let _ = writeln!(
                    out,
                    "      {}",
                    p.dim(&format!("verify: {}", i.validate.negative))
                );
            }
        }
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_when_asked_and_every_style_is_reset() {
        let plain = Paint(false).sev(Severity::Critical);
        assert_eq!(plain, "CRITICAL");
        let styled = Paint(true).sev(Severity::Critical);
        assert!(
            styled.contains("CRITICAL") && styled.starts_with('\u{1b}'),
            "{styled:?}"
        );
        assert!(styled.contains("35m"), "magenta: {styled:?}");
        assert!(styled.ends_with("\u{1b}[0m"), "reset: {styled:?}");
        assert_ne!(
            Paint(true).sev(Severity::High),
            Paint(true).sev(Severity::Low)
        );
    }
}
