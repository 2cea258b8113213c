//! One self-contained HTML file: summary, score per pillar, the findings
//! table with filters, the attack paths drawn as SVG, and the plan. No
//! external assets: styles and the filter script are inline. The markup is
//! `templates/report.html`, compiled by askama, which escapes every value.
//! This module only prepares what the template shows.

use super::model::{Finding, Report};
use crate::assess::paths::{AttackPath, Hop};
use crate::assess::plan::Item;
use crate::vocab::Severity;
use askama::Template;

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    r: &'a Report,
    /// Open findings per severity, most severe first.
    severities: Vec<(Severity, usize)>,
    pillars: Vec<PillarRow>,
    graph: Option<Graph>,
    rows: Vec<Row<'a>>,
    phases: Vec<(&'static str, Vec<&'a Item>)>,
    /// What could not be assessed, and the command that closes it if any.
    problems: Vec<(String, Option<String>)>,
}

struct PillarRow {
    name: &'static str,
    /// Score, confidence (%) and maturity; None when nothing was evaluated.
    assessed: Option<(f64, f64, String)>,
    /// Up to four failing controls, `ID: what`.
    failing: Vec<String>,
}

struct Row<'a> {
    finding: &'a Finding,
    /// 1 when the finding counts (not suppressed, not in the baseline).
    open: u8,
    /// What the text filter matches, lowercased.
    search: String,
    location: Option<String>,
    state: String,
}

/// What an edge says in the graph: how the hop is made and what lets it
/// through, each cut to fit between two columns (the whole in its tooltip).
fn edge_label(h: &Hop) -> (String, String, String) {
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
struct Graph {
    width: usize,
    height: usize,
    box_width: usize,
    box_height: usize,
    edges: Vec<Edge>,
    nodes: Vec<Node>,
}

struct Edge {
    x1: usize,
    y1: usize,
    x2: usize,
    y2: usize,
    /// Where the two labels sit.
    mx: usize,
    my: usize,
    verified: bool,
    transport: String,
    allowed: String,
    /// The whole hop, for the tooltip.
    full: String,
    /// How many listed paths take this hop.
    uses: usize,
}

struct Node {
    class: &'static str,
    x: usize,
    y: usize,
    fill: &'static str,
    stroke: &'static str,
    stroke_width: &'static str,
    target: bool,
    name: String,
    label: String,
}

fn path_graph(paths: &[AttackPath]) -> Graph {
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
    // Distinct hops in first-seen order (from and to as column and row),
    // with how many paths use each.
    type Cell = (usize, usize);
    let mut hops: Vec<(Cell, Cell, &Hop, usize)> = Vec::new();
    let mut targets = std::collections::HashSet::new();
    for p in paths {
        let mut from = place(0, &p.entry);
        for (i, h) in p.hops.iter().enumerate() {
            let to = place(i + 1, &h.to);
            match hops.iter_mut().find(|e| e.0 == from && e.1 == to) {
                Some(e) => e.3 += 1,
                None => hops.push((from, to, h, 1)),
            }
            from = to;
        }
        targets.insert(from);
    }
    let (w, h, gap_x, gap_y) = (250, 34, 230, 34);
    let x = |c: usize| 10 + c * (w + gap_x);
    let y = |r: usize| 10 + r * (h + gap_y);
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
    let edges = hops
        .into_iter()
        .map(|((c1, r1), (c2, r2), hop, uses)| {
            let (x1, y1, x2, y2) = (x(c1) + w, y(r1) + h / 2, x(c2), y(r2) + h / 2);
            let (transport, allowed, full) = edge_label(hop);
            Edge {
                x1,
                y1,
                x2,
                y2,
                // A little past the middle: edges fanning out of one node have
                // drawn apart there, and the label still clears both boxes.
                mx: (9 * x1 + 11 * x2) / 20,
                my: (9 * y1 + 11 * y2) / 20,
                verified: hop.certainty == crate::vocab::Confidence::Verified,
                transport,
                allowed,
                full,
                uses,
            }
        })
        .collect();
    let mut nodes = Vec::new();
    for (c, col) in columns.iter().enumerate() {
        for (r, name) in col.iter().enumerate() {
            let target = targets.contains(&(c, r));
            let (fill, stroke, stroke_width, class) = match (c, target) {
                (0, _) => ("#fff8c5", "#57606a", "1", "node entry"),
                (_, true) => ("#ffebe9", "#cf222e", "2.5", "node target"),
                _ => ("#f6f8fa", "#57606a", "1", "node"),
            };
            nodes.push(Node {
                class,
                x: x(c),
                y: y(r),
                fill,
                stroke,
                stroke_width,
                target,
                name: name.clone(),
                label: name.chars().take(if target { 32 } else { 34 }).collect(),
            });
        }
    }
    Graph {
        width: x(columns.len()) - gap_x + 10,
        height: y(rows) + 10,
        box_width: w,
        box_height: h,
        edges,
        nodes,
    }
}

fn pillar_rows(r: &Report) -> Vec<PillarRow> {
    let Some(a) = &r.assessment else {
        return Vec::new();
    };
    a.score
        .pillars
        .iter()
        .map(|p| PillarRow {
            name: p.name,
            assessed: match (p.score, p.confidence, p.maturity) {
                (Some(s), Some(c), Some(m)) => Some((s, c, format!("{m:?}"))),
                _ => None,
            },
            failing: p
                .controls
                .iter()
                .flat_map(|c| {
                    c.failing
                        .iter()
                        .take(3)
                        .map(move |f| format!("{}: {}", c.id, f))
                })
                .take(4)
                .collect(),
        })
        .collect()
}

fn row(f: &Finding) -> Row<'_> {
    let state = if let Some(s) = &f.suppressed {
        format!("suppressed: {}", s.reason)
    } else if f.in_baseline {
        "in baseline".into()
    } else {
        "open".into()
    };
    Row {
        finding: f,
        open: u8::from(f.counts()),
        search: format!(
            "{} {} {} {}",
            f.check_id,
            f.title,
            f.resource.display(),
            f.message
        )
        .to_lowercase(),
        location: match (&f.resource.file, f.resource.line) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            _ => None,
        },
        state,
    }
}

fn problems(r: &Report) -> Vec<(String, Option<String>)> {
    let errored = r.errored().map(|c| {
        let why = c.error.as_deref().unwrap_or("error");
        (format!("check {} did not run: {why}", c.id), None)
    });
    let inputs = r.input_errors.iter().map(|e| (format!("input: {e}"), None));
    let gaps = r
        .evidence_gaps
        .iter()
        .map(|g| (g.what.clone(), Some(g.command.clone())));
    errored.chain(inputs).chain(gaps).collect()
}

pub fn render(report: &Report) -> String {
    let assessment = report.assessment.as_ref();
    let page = Page {
        r: report,
        severities: Severity::DESCENDING
            .into_iter()
            .map(|s| (s, report.summary.by_severity.get(&s).copied().unwrap_or(0)))
            .collect(),
        pillars: pillar_rows(report),
        graph: assessment
            .map(|a| &a.attack_paths.paths)
            .filter(|p| !p.is_empty())
            .map(|p| path_graph(p)),
        rows: report.findings.iter().map(row).collect(),
        phases: assessment
            .map(|a| {
                a.plan
                    .phases()
                    .map(|(_, title, items)| (title, items))
                    .collect()
            })
            .unwrap_or_default(),
        problems: problems(report),
    };
    let mut html = page.render().expect("the report template renders");
    html.push('\n');
    html
}
