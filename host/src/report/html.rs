//! One self-contained HTML file: summary, score per pillar, the findings
//! table with filters, the attack paths drawn as SVG, and the plan. No
//! external assets: styles and the filter script are inline, and every value
//! from the report is escaped.

use super::escape_attr as esc;
use super::model::{Finding, Report};
use crate::assess::paths::AttackPath;
use crate::vocab::Severity;
use std::fmt::Write;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1b1f24}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa}.sev{font-weight:600;border-radius:4px;padding:1px 6px;font-size:12px;color:#fff}
.critical{background:#8250df}.high{background:#cf222e}.medium{background:#bf8700}.low{background:#0969da}.info{background:#6e7781}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:140px}
.card b{font-size:20px;display:block}.bar{background:#eaeef2;border-radius:3px;height:10px;width:200px;display:inline-block;vertical-align:middle}
.bar i{display:block;height:10px;border-radius:3px;background:#1a7f37}
.filters{display:flex;gap:12px;align-items:center;margin:8px 0;flex-wrap:wrap}
details pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}.muted{color:#57606a}
.hidden{display:none}#pillars td:nth-child(2){white-space:nowrap}.id{white-space:nowrap}svg text{font:12px system-ui,sans-serif}svg .edge-label{font-size:10px;fill:#57606a;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
"#;

const SCRIPT: &str = r#"
(function(){
  var boxes=document.querySelectorAll('input[data-sev]');
  var text=document.getElementById('filter-text');
  var open=document.getElementById('filter-open');
  var rows=document.querySelectorAll('#findings tbody tr');
  var count=document.getElementById('shown');
  function apply(){
    var sev={};boxes.forEach(function(b){sev[b.dataset.sev]=b.checked;});
    var q=text.value.toLowerCase();var n=0;
    rows.forEach(function(r){
      var ok=sev[r.dataset.severity]&&(!q||r.dataset.search.indexOf(q)>=0)&&(!open.checked||r.dataset.open==='1');
      r.classList.toggle('hidden',!ok);if(ok){n++;}
    });
    count.textContent=String(n);
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});
  text.addEventListener('input',apply);open.addEventListener('change',apply);
  apply();
})();
"#;

fn sev_badge(s: Severity) -> String {
    let name = s.to_string().to_lowercase();
    format!("<span class=\"sev {name}\">{s}</span>")
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = write!(out, "<div class=\"cards\">");
    let _ = write!(
        out,
        "<div class=\"card\" id=\"open-findings\"><b>{}</b>open findings</div>",
        s.findings
    );
    for sev in Severity::DESCENDING {
        let n = s.by_severity.get(&sev).copied().unwrap_or(0);
        let _ = write!(
            out,
            "<div class=\"card\"><b>{n}</b>{}</div>",
            sev_badge(sev)
        );
    }
    if let Some(a) = &r.assessment {
        let _ = write!(
            out,
            "<div class=\"card\" id=\"score\"><b>{}/100</b>{}</div>",
            a.score.score,
            esc(&a.score.headline())
        );
    }
    let _ = write!(
        out,
        "</div><p class=\"muted\">{} checks ({} failing, {} errored) over {} objects and {} workloads; source: {}{}.</p>",
        s.checks_run,
        s.checks_failed,
        s.checks_errored,
        s.objects,
        s.workloads,
        esc(r.source.kind),
        if r.source.inputs.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&r.source.inputs.join(", ")))
        }
    );
}

fn pillars(out: &mut String, r: &Report) {
    let Some(a) = &r.assessment else { return };
    let _ = write!(
        out,
        "<h2>Zero Trust score per pillar</h2><table id=\"pillars\"><thead><tr><th>pillar</th><th>score</th><th>confidence</th><th>maturity</th><th>failing (examples)</th></tr></thead><tbody>"
    );
    for p in &a.score.pillars {
        let (score, conf, mat) = match (p.score, p.confidence, p.maturity) {
            (Some(s), Some(c), Some(m)) => (
                format!(
                    "<span class=\"bar\"><i style=\"width:{}%\"></i></span> {s}",
                    s.clamp(0.0, 100.0)
                ),
                format!("{c}%"),
                format!("{m:?}"),
            ),
            _ => (
                "not assessed (nothing to evaluate)".into(),
                String::new(),
                String::new(),
            ),
        };
        let failing: Vec<String> = p
            .controls
            .iter()
            .flat_map(|c| {
                c.failing
                    .iter()
                    .take(3)
                    .map(move |f| format!("{}: {}", c.id, f))
            })
            .take(4)
            .map(|f| esc(&f))
            .collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{score}</td><td>{conf}</td><td>{mat}</td><td class=\"muted\">{}</td></tr>",
            esc(p.name),
            failing.join("<br>")
        );
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"muted\">How the figures are computed: docs/scoring.md. {} workloads in scope.</p>",
        a.score.workloads_in_scope
    );
}

fn finding_row(out: &mut String, f: &Finding) {
    let sev = f.severity.to_string().to_lowercase();
    let state = if let Some(s) = &f.suppressed {
        format!("suppressed: {}", esc(&s.reason))
    } else if f.in_baseline {
        "in baseline".into()
    } else {
        "open".into()
    };
    let search = esc(&format!(
        "{} {} {} {}",
        f.check_id,
        f.title,
        f.resource.display(),
        f.message
    )
    .to_lowercase());
    let location = match (&f.resource.file, f.resource.line) {
        (Some(file), Some(line)) => {
            format!("<br><span class=\"muted\">{}:{line}</span>", esc(file))
        }
        _ => String::new(),
    };
    let raised = f
        .raised
        .as_ref()
        .map(|r| {
            format!(
                "<br><span class=\"muted\">raised from {}: {}</span>",
                r.from,
                esc(&r.reason)
            )
        })
        .unwrap_or_default();
    let fix = f
        .remediation
        .as_ref()
        .map(|m| {
            let yaml = m
                .yaml
                .as_ref()
                .map(|y| format!("<pre>{}</pre>", esc(y)))
                .unwrap_or_default();
            format!(
                "<details><summary>{}</summary>{yaml}</details>",
                esc(&m.summary)
            )
        })
        .unwrap_or_default();
    let _ = write!(
        out,
        "<tr data-severity=\"{sev}\" data-open=\"{}\" data-search=\"{search}\"><td>{}</td><td class=\"id\">{}</td><td>{}{location}</td><td>{}{raised}<br><span class=\"muted\">evidence: {} · {state}</span>{fix}</td></tr>",
        u8::from(f.counts()),
        sev_badge(f.severity),
        esc(&f.check_id),
        esc(&f.resource.display()),
        esc(&f.message),
        f.confidence,
    );
}

fn findings(out: &mut String, r: &Report) {
    let _ = write!(
        out,
        "<h2>Findings</h2><div class=\"filters\" id=\"filters\">"
    );
    for sev in Severity::DESCENDING {
        let name = sev.to_string().to_lowercase();
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" data-sev=\"{name}\" id=\"sev-{name}\" checked> {}</label>",
            sev_badge(sev)
        );
    }
    let _ = write!(
        out,
        "<input type=\"search\" id=\"filter-text\" placeholder=\"check, resource, text\"><label><input type=\"checkbox\" id=\"filter-open\"> open only</label><span class=\"muted\"><span id=\"shown\">{}</span> shown</span></div>",
        r.findings.len()
    );
    let _ = write!(
        out,
        "<table id=\"findings\"><thead><tr><th>severity</th><th>check</th><th>resource</th><th>finding</th></tr></thead><tbody>"
    );
    for f in &r.findings {
        finding_row(out, f);
    }
    let _ = write!(out, "</tbody></table>");
}

/// What an edge says in the graph: how the hop is made and what lets it
/// through, each cut to fit between two columns (the whole in its tooltip).
fn edge_label(h: &crate::assess::paths::Hop) -> (String, String, String) {
    let short = |s: &str, n: usize| {
        let head = s.split(" (").next().unwrap_or(s).trim();
        if head.chars().count() > n {
            format!("{}…", head.chars().take(n - 1).collect::<String>())
        } else {
            head.to_string()
        }
    };
    (
        short(&h.transport, 26),
        short(&h.allowed_by, 26),
        format!(
            "{} -> {}: {}; {}; {}",
            h.from, h.to, h.transport, h.allowed_by, h.identity
        ),
    )
}

/// The listed paths as one SVG: a column per hop depth, a box per node, an
/// arrow per distinct hop (dashed when not VERIFIED) labelled with its
/// transport and the policy that allows it, and the sensitive targets marked.
/// Hops shared by several paths are drawn once, with a count.
fn path_graph(paths: &[AttackPath]) -> String {
    let mut columns: Vec<Vec<String>> = Vec::new();
    let mut place = |depth: usize, name: &str| -> (usize, usize) {
        if columns.len() <= depth {
            columns.resize(depth + 1, Vec::new());
        }
        let col = &mut columns[depth];
        let row = col.iter().position(|n| n == name).unwrap_or_else(|| {
            col.push(name.to_string());
            col.len() - 1
        });
        (depth, row)
    };
    // Distinct edges in first-seen order, with how many paths use each.
    type Edge = (
        (usize, usize),
        (usize, usize),
        bool,
        (String, String, String),
        usize,
    );
    let mut edges: Vec<Edge> = Vec::new();
    let mut targets = std::collections::HashSet::new();
    for p in paths {
        let mut from = place(0, &p.entry);
        for (i, h) in p.hops.iter().enumerate() {
            let to = place(i + 1, &h.to);
            match edges.iter_mut().find(|e| e.0 == from && e.1 == to) {
                Some(e) => e.4 += 1,
                None => edges.push((
                    from,
                    to,
                    h.certainty == crate::vocab::Confidence::Verified,
                    edge_label(h),
                    1,
                )),
            }
            from = to;
        }
        targets.insert(from);
    }
    let (w, h, gap_x, gap_y) = (250, 34, 230, 34);
    let x = |c: usize| 10 + c * (w + gap_x);
    let y = |r: usize| 10 + r * (h + gap_y);
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let (width, height) = (x(columns.len()) - gap_x + 10, y(rows) + 10);
    let mut svg = format!(
        "<svg id=\"attack-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"attack paths\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"#cf222e\"/></marker></defs>"
    );
    for ((c1, r1), (c2, r2), verified, (transport, allowed, full), uses) in &edges {
        let dash = if *verified {
            ""
        } else {
            " stroke-dasharray=\"5,4\""
        };
        let (x1, y1, x2, y2) = (x(*c1) + w, y(*r1) + h / 2, x(*c2), y(*r2) + h / 2);
        // A little past the middle: edges fanning out of one node have drawn
        // apart there, and the label still clears both boxes.
        let (mx, my) = ((9 * x1 + 11 * x2) / 20, (9 * y1 + 11 * y2) / 20);
        let count = if *uses > 1 {
            format!(" ×{uses}")
        } else {
            String::new()
        };
        let _ = write!(
            svg,
            "<g class=\"edge\"><title>{}</title><line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#cf222e\" stroke-width=\"{}\"{dash} marker-end=\"url(#arrow)\"/><text class=\"edge-label\" x=\"{mx}\" y=\"{}\" text-anchor=\"middle\">{}{count}</text><text class=\"edge-label\" x=\"{mx}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            esc(full),
            if *uses > 1 { "2.5" } else { "1.5" },
            my - 5,
            esc(transport),
            my + 9,
            esc(allowed)
        );
    }
    for (c, col) in columns.iter().enumerate() {
        for (r, name) in col.iter().enumerate() {
            let target = targets.contains(&(c, r));
            let (fill, stroke, class) = match (c, target) {
                (0, _) => ("#fff8c5", "#57606a\" stroke-width=\"1", "node entry"),
                (_, true) => ("#ffebe9", "#cf222e\" stroke-width=\"2.5", "node target"),
                _ => ("#f6f8fa", "#57606a\" stroke-width=\"1", "node"),
            };
            let label: String = name.chars().take(if target { 32 } else { 34 }).collect();
            let _ = write!(
                svg,
                "<g class=\"{class}\"><rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"{h}\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{}\" y=\"{}\">{}{}</text><title>{}{}</title></g>",
                x(c),
                y(r),
                x(c) + 8,
                y(r) + h / 2 + 4,
                if target { "◎ " } else { "" },
                esc(&label),
                esc(name),
                if target { " (sensitive target)" } else { "" }
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn attack_paths(out: &mut String, r: &Report) {
    let Some(a) = &r.assessment else { return };
    let ap = &a.attack_paths;
    let _ = write!(
        out,
        "<h2>Attack paths</h2><p>{}. Entry points: {}.</p>",
        ap.reach(),
        esc(&ap.entry_points.join("; "))
    );
    if ap.paths.is_empty() {
        return;
    }
    out.push_str(&path_graph(&ap.paths));
    let _ = write!(
        out,
        "<table id=\"paths\"><thead><tr><th>path</th><th>hops</th></tr></thead><tbody>"
    );
    for p in &ap.paths {
        let hops: Vec<String> = p
            .hops
            .iter()
            .map(|h| esc(&format!("{} [{}]", h.describe(), h.certainty)))
            .collect();
        let _ = write!(
            out,
            "<tr><td><b>{}</b><br><span class=\"muted\">{} · {} · {}</span></td><td>{}</td></tr>",
            esc(&p.route()),
            p.kinds.join(", "),
            p.certainty,
            esc(&p.why_sensitive),
            hops.join("<br>")
        );
    }
    out.push_str("</tbody></table>");
    if ap.omitted > 0 {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more paths in the JSON report.</p>",
            ap.omitted
        );
    }
}

fn plan(out: &mut String, r: &Report) {
    let Some(a) = &r.assessment else { return };
    let _ = write!(out, "<h2>Remediation plan</h2>");
    if a.plan.items.is_empty() {
        out.push_str("<p>Nothing to do: no open finding.</p>");
        return;
    }
    for (_, title, items) in a.plan.phases() {
        let _ = write!(out, "<h3>{title} ({})</h3><ol class=\"plan\">", items.len());
        for i in items {
            let yaml = i
                .yaml
                .as_ref()
                .map(|y| format!("<pre>{}</pre>", esc(y)))
                .unwrap_or_default();
            let _ = write!(
                out,
                "<li>{} <b class=\"id\">{}</b> {}{}<br>{}<details><summary>fix, validation and rollback</summary>{yaml}<p>must fail: <code>{}</code></p><p>must work: <code>{}</code></p><p>then: <code>{}</code></p><p>rollback: <code>{}</code></p></details></li>",
                sev_badge(i.severity),
                esc(&i.check_id),
                esc(&i.resource),
                if i.on_attack_path { " · on an attack path" } else { "" },
                esc(&i.fix),
                esc(&i.validate.negative),
                esc(&i.validate.positive),
                esc(&i.validate.rescan),
                esc(&i.rollback)
            );
        }
        out.push_str("</ol>");
    }
}

fn problems(out: &mut String, r: &Report) {
    let errored: Vec<_> = r.errored().collect();
    if errored.is_empty() && r.input_errors.is_empty() && r.evidence_gaps.is_empty() {
        return;
    }
    out.push_str("<h2>What could not be assessed</h2><ul>");
    for c in errored {
        let _ = write!(
            out,
            "<li>check {} did not run: {}</li>",
            esc(&c.id),
            esc(c.error.as_deref().unwrap_or("error"))
        );
    }
    for e in &r.input_errors {
        let _ = write!(out, "<li>input: {}</li>", esc(&e.to_string()));
    }
    for g in &r.evidence_gaps {
        let _ = write!(
            out,
            "<li>{} <span class=\"muted\">close it: <code>{}</code></span></li>",
            esc(&g.what),
            esc(&g.command)
        );
    }
    out.push_str("</ul>");
}

pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>kridik report</title><style>{STYLE}</style></head><body><h1>kridik report</h1>"
    );
    summary(&mut out, report);
    pillars(&mut out, report);
    attack_paths(&mut out, report);
    findings(&mut out, report);
    plan(&mut out, report);
    problems(&mut out, report);
    let _ = writeln!(
        out,
        "<p class=\"muted\">kridik {} · report schema {}</p><script>{SCRIPT}</script></body></html>",
        esc(report.kridik_version),
        esc(report.schema_version)
    );
    out
}
