//! `kridik diff`: what a change does, not what is wrong. Both sides are
//! scanned with the same checks; the result is the findings the change adds,
//! fixes and re-rates (by stable fingerprint; an object only renamed pairs
//! its old and new findings and shows nothing), the score per pillar before
//! and after, and the attack paths it opens and closes.

use crate::report::markdown_cell as cell;
use crate::report::model::{Finding, Report};
use crate::vocab::Severity;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

#[derive(Debug, Serialize)]
pub struct Changed {
    pub check_id: String,
    pub resource: String,
    pub title: String,
    pub from: Severity,
    pub to: Severity,
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub check_id: String,
    pub severity: Severity,
    pub resource: String,
    pub title: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub added: Vec<Item>,
    pub fixed: Vec<Item>,
    pub changed: Vec<Changed>,
    /// Pillar -> (before, after); None when not assessed.
    pub pillars: BTreeMap<String, (Option<f64>, Option<f64>)>,
    pub score: (f64, f64),
    pub paths_opened: Vec<String>,
    pub paths_closed: Vec<String>,
}

fn item(f: &Finding) -> Item {
    Item {
        check_id: f.check_id.clone(),
        severity: f.severity,
        resource: f.resource.display(),
        title: f.title.clone(),
        message: f.message.clone(),
    }
}

/// What survives a rename: the check, the kind and namespace of the object,
/// the title and the severity.
fn shape(f: &Finding) -> (String, String, String, String, Severity) {
    (
        f.check_id.clone(),
        f.resource.kind.clone(),
        f.resource.namespace.clone(),
        f.title.clone(),
        f.severity,
    )
}

pub fn compare(base: &Report, head: &Report) -> Diff {
    fn open(r: &Report) -> BTreeMap<String, &Finding> {
        r.findings
            .iter()
            .filter(|f| f.counts())
            .map(|f| (f.fingerprint.clone(), f))
            .collect()
    }
    let (before, after) = (open(base), open(head));
    let mut added: Vec<&Finding> = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, f)| *f)
        .collect();
    let mut fixed: Vec<&Finding> = before
        .iter()
        .filter(|(k, _)| !after.contains_key(*k))
        .map(|(_, f)| *f)
        .collect();
    // A renamed object: the same finding under another name is no change.
    let mut i = 0;
    while i < added.len() {
        match fixed.iter().position(|f| shape(f) == shape(added[i])) {
            Some(j) => {
                fixed.remove(j);
                added.remove(i);
            }
            None => i += 1,
        }
    }
    let changed = after
        .iter()
        .filter_map(|(k, f)| {
            let b = before.get(k)?;
            (b.severity != f.severity).then(|| Changed {
                check_id: f.check_id.clone(),
                resource: f.resource.display(),
                title: f.title.clone(),
                from: b.severity,
                to: f.severity,
            })
        })
        .collect();
    let paths = |r: &Report| -> BTreeSet<String> {
        r.assessment
            .iter()
            .flat_map(|a| a.attack_paths.paths.iter().map(|p| p.route()))
            .collect()
    };
    let (pb, ph) = (paths(base), paths(head));
    let mut pillars: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for (r, after) in [(base, false), (head, true)] {
        for p in r.assessment.iter().flat_map(|a| &a.score.pillars) {
            let e = pillars.entry(p.name.to_string()).or_default();
            if after {
                e.1 = p.score;
            } else {
                e.0 = p.score;
            }
        }
    }
    let score = |r: &Report| r.assessment.as_ref().map_or(0.0, |a| a.score.score);
    let sort = |v: &mut Vec<&Finding>| {
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.check_id.cmp(&b.check_id))
        })
    };
    sort(&mut added);
    sort(&mut fixed);
    Diff {
        added: added.into_iter().map(item).collect(),
        fixed: fixed.into_iter().map(item).collect(),
        changed,
        pillars,
        score: (score(base), score(head)),
        paths_opened: ph.difference(&pb).cloned().collect(),
        paths_closed: pb.difference(&ph).cloned().collect(),
    }
}

impl Diff {
    /// 1 when the change opens an attack path or adds a finding at or above
    /// `fail_on`, else 0.
    pub fn exit_code(&self, fail_on: Option<Severity>) -> i32 {
        let bad = !self.paths_opened.is_empty()
            || self
                .added
                .iter()
                .any(|f| fail_on.is_some_and(|min| f.severity >= min))
            || self
                .changed
                .iter()
                .any(|c| c.to > c.from && fail_on.is_some_and(|min| c.to >= min));
        i32::from(bad)
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.fixed.is_empty()
            && self.changed.is_empty()
            && self.paths_opened.is_empty()
            && self.paths_closed.is_empty()
    }

    fn score_line(&self) -> String {
        let pillars: Vec<String> = self
            .pillars
            .iter()
            .filter(|(_, (a, b))| a != b)
            .map(|(n, (a, b))| format!("{n} {} -> {}", show(*a), show(*b)))
            .collect();
        format!(
            "Zero Trust score {} -> {}{}",
            self.score.0,
            self.score.1,
            if pillars.is_empty() {
                String::new()
            } else {
                format!(" ({})", pillars.join(", "))
            }
        )
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.is_empty() {
            let _ = writeln!(
                out,
                "No security change: the same findings and attack paths on both sides."
            );
        }
        for (title, paths) in [
            ("attack paths opened", &self.paths_opened),
            ("attack paths closed", &self.paths_closed),
        ] {
            if !paths.is_empty() {
                let _ = writeln!(out, "== {title} ({}) ==", paths.len());
                for p in paths {
                    let _ = writeln!(out, "  {p}");
                }
                out.push('\n');
            }
        }
        for (title, items) in [
            ("new findings", &self.added),
            ("fixed findings", &self.fixed),
        ] {
            if !items.is_empty() {
                let _ = writeln!(out, "== {title} ({}) ==", items.len());
                for f in items {
                    let _ = writeln!(
                        out,
                        "  {:<8} {} {}  {}",
                        f.severity.to_string(),
                        f.check_id,
                        f.resource,
                        f.title
                    );
                }
                out.push('\n');
            }
        }
        if !self.changed.is_empty() {
            let _ = writeln!(out, "== severity changed ({}) ==", self.changed.len());
            for c in &self.changed {
                let _ = writeln!(
                    out,
                    "  {} -> {} {} {}  {}",
                    c.from, c.to, c.check_id, c.resource, c.title
                );
            }
            out.push('\n');
        }
        let _ = writeln!(out, "{}", self.score_line());
        let _ = writeln!(
            out,
            "{} new, {} fixed, {} re-rated; {} path(s) opened, {} closed",
            self.added.len(),
            self.fixed.len(),
            self.changed.len(),
            self.paths_opened.len(),
            self.paths_closed.len()
        );
        out
    }

    /// The pull-request comment.
    pub fn markdown(&self) -> String {
        let mut out = String::from("## kridik: what this change does\n\n");
        if self.is_empty() {
            out.push_str(
                "No security change: the same findings and attack paths before and after.\n\n",
            );
        }
        for p in &self.paths_opened {
            let _ = writeln!(
                out,
                "- :warning: **opens an attack path**: `{}`",
                p.replace('`', "'")
            );
        }
        for p in &self.paths_closed {
            let _ = writeln!(out, "- closes the attack path {}", cell(p));
        }
        if !self.paths_opened.is_empty() || !self.paths_closed.is_empty() {
            out.push('\n');
        }
        for (title, items) in [
            ("New findings", &self.added),
            ("Fixed findings", &self.fixed),
        ] {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "**{title}** ({})\n\n| Severity | Check | Resource | Finding |\n|---|---|---|---|",
                items.len()
            );
            for f in items.iter().take(200) {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} |",
                    f.severity,
                    f.check_id,
                    cell(&f.resource),
                    cell(&f.title)
                );
            }
            out.push('\n');
        }
        for c in &self.changed {
            let _ = writeln!(
                out,
                "- `{}` on {}: {} -> {}",
                c.check_id,
                cell(&c.resource),
                c.from,
                c.to
            );
        }
        let _ = writeln!(out, "\n{}", self.score_line());
        out
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| v.to_string())
}
