//! The Zero Trust score: controls evaluated per subject, credited by evidence.
//! docs/scoring.md is the reader's version of this file; keep them together.
//!
//! Each evaluation of a control on a subject passes or fails with evidence
//! VERIFIED, INFERRED or UNKNOWN. A pass earns 1 when VERIFIED, 0.5 when
//! INFERRED, nothing when UNKNOWN. A pillar's score is 100 x credit /
//! evaluations, its confidence 100 x (VERIFIED + 0.5 x INFERRED) /
//! evaluations. The overall figures are the means over the pillars that had
//! something to evaluate.

use super::authz::Policies;
use crate::gather::Snapshot;
use crate::kinds;
use crate::model::{ingress, MeshModel, MtlsMode, Workload};
use crate::report::model::{CheckRecord, Finding, Status};
use crate::vocab::Confidence;
use serde::Serialize;
use std::collections::HashMap;

/// Namespaces of the platform itself, outside the assessment's scope.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];
/// Failed subjects named per control.
const EXAMPLES: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Maturity {
    Traditional,
    Initial,
    Advanced,
    Optimal,
}

impl Maturity {
    /// CISA Zero Trust Maturity Model stage for a score.
    pub fn of(score: f64) -> Maturity {
        match score {
            s if s >= 90.0 => Maturity::Optimal,
            s if s >= 70.0 => Maturity::Advanced,
            s if s >= 40.0 => Maturity::Initial,
            _ => Maturity::Traditional,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Control {
    pub id: &'static str,
    pub description: &'static str,
    pub evaluated: usize,
    pub passed_verified: usize,
    pub passed_inferred: usize,
    pub failed: usize,
    /// Evaluations without evidence (no credit, lower confidence).
    pub unknown: usize,
    /// Evaluations whose evidence was VERIFIED (pass or fail).
    pub verified: usize,
    /// Evaluations whose evidence was INFERRED (pass or fail).
    pub inferred: usize,
    /// Some subjects that failed (or could not be assessed), with why.
    pub failing: Vec<String>,
}

impl Control {
    fn new(id: &'static str, description: &'static str) -> Self {
        Control {
            id,
            description,
            ..Control::default()
        }
    }

    fn record(&mut self, subject: &str, pass: bool, evidence: Confidence, why: &str) {
        self.evaluated += 1;
        match evidence {
            Confidence::Verified => self.verified += 1,
            Confidence::Inferred => self.inferred += 1,
            Confidence::Unknown => self.unknown += 1,
        }
        match (pass, evidence) {
            (true, Confidence::Verified) => self.passed_verified += 1,
            (true, Confidence::Inferred) => self.passed_inferred += 1,
            _ => {
                if !pass {
                    self.failed += 1;
                }
                if self.failing.len() < EXAMPLES {
                    let state = if evidence == Confidence::Unknown {
                        "UNKNOWN"
                    } else {
                        "fails"
                    };
                    self.failing.push(format!("{subject} ({state}: {why})"));
                }
            }
        }
    }

    fn credit(&self) -> f64 {
        self.passed_verified as f64 + 0.5 * self.passed_inferred as f64
    }

    fn evidence(&self) -> f64 {
        self.verified as f64 + 0.5 * self.inferred as f64
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Pillar {
    pub name: &'static str,
    /// None when the pillar had nothing to evaluate (it then does not count).
    pub score: Option<f64>,
    pub confidence: Option<f64>,
    pub maturity: Option<Maturity>,
    pub controls: Vec<Control>,
}

impl Pillar {
    fn new(name: &'static str, controls: Vec<Control>) -> Pillar {
        let n: usize = controls.iter().map(|c| c.evaluated).sum();
        let (score, confidence) = if n == 0 {
            (None, None)
        } else {
            let credit: f64 = controls.iter().map(Control::credit).sum();
            let evidence: f64 = controls.iter().map(Control::evidence).sum();
            (
                Some(round1(100.0 * credit / n as f64)),
                Some(round1(100.0 * evidence / n as f64)),
            )
        };
        Pillar {
            name,
            score,
            confidence,
            maturity: score.map(Maturity::of),
            controls,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Score {
    /// False when the built-in pack did not run (`--no-builtin`): the
    /// findings-based controls have nothing to stand on.
    pub assessed: bool,
    /// Pillars left out because checks they rest on were excluded (`-i`/`-e`):
    /// the score is over the rest, so it is not comparable with a full scan's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
    /// 0-100, the mean of the pillar scores.
    pub score: f64,
    /// 0-100: how much of the score rests on evidence (UNKNOWN lowers it).
    pub confidence: f64,
    pub maturity: Maturity,
    pub pillars: Vec<Pillar>,
    /// Workloads assessed (outside system namespaces, the root namespace and gateways).
    pub workloads_in_scope: usize,
}

impl Score {
    /// `Zero Trust score 14.4/100 (Traditional), confidence 79.5%`.
    pub fn headline(&self) -> String {
        if !self.assessed {
            return "Zero Trust score not assessed: the built-in checks did not run (--no-builtin)"
                .to_string();
        }
        let partial = if self.partial.is_empty() {
            String::new()
        } else {
            format!(
                "; partial: {} not assessed (checks excluded with -i/-e)",
                self.partial.join(", ")
            )
        };
        format!(
            "Zero Trust score {}/100 ({:?}), confidence {}%{partial}",
            self.score, self.maturity, self.confidence
        )
    }

    /// `identity 65.4, transport 0, ...` over the pillars that were assessed.
    pub fn by_pillar(&self) -> String {
        let parts: Vec<String> = self
            .pillars
            .iter()
            .filter_map(|p| Some(format!("{} {}", p.name, p.score?)))
            .collect();
        parts.join(", ")
    }
}

/// One decimal, so a reader recomputing by hand gets the same figure.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Application workloads: not the platform's, not Istio's own, not gateways.
pub fn in_scope(w: &Workload, root_namespace: &str) -> bool {
    !SYSTEM_NAMESPACES.contains(&w.namespace.as_str())
        && w.namespace != root_namespace
        && !ingress::is_gateway(&w.labels)
}

pub struct Inputs<'a> {
    pub model: &'a MeshModel,
    pub snapshot: &'a Snapshot,
    pub policies: &'a Policies,
    pub findings: &'a [Finding],
    pub checks: &'a [CheckRecord],
    pub coverage: &'a Coverage,
    /// What `--deep` read from the proxies: VERIFIED where it shows the state.
    pub observed: Option<&'a super::deep::Observed>,
}

/// Which checks the score can rest on.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Categories of loaded checks that `-i`/`-e` left out.
    pub excluded: std::collections::BTreeSet<String>,
    /// Whether any built-in check ran.
    pub builtin_ran: bool,
}

pub fn compute(i: &Inputs) -> Score {
    let root = &i.model.config.root_namespace;
    let scope: Vec<&Workload> = i
        .model
        .workloads
        .iter()
        .filter(|w| in_scope(w, root))
        .collect();
    let pillars = vec![
        identity(i, &scope),
        transport(&scope, i.observed),
        authorization(i, &scope),
        Pillar::new(
            "ingress",
            vec![by_findings(
                i,
                "ingress",
                Control::new(
                    "ingress-hardened",
                    "Gateway with no open finding of the ingress checks",
                ),
                &[kinds::GATEWAY, kinds::K8S_GATEWAY],
            )],
        ),
        egress(i),
        hygiene(i),
    ];
    // A pillar that rests on excluded checks is left out, not scored on less.
    let mut partial = Vec::new();
    if i.coverage.excluded.contains("ingress") {
        partial.push("ingress".to_string());
    }
    if i.coverage.excluded.contains("egress") {
        partial.push("egress (egress-hardened)".to_string());
    }
    if !i.coverage.excluded.is_empty() {
        partial.push("policy-hygiene".to_string());
    }
    let counted: Vec<&Pillar> = pillars.iter().filter(|p| p.score.is_some()).collect();
    let mean = |f: fn(&Pillar) -> Option<f64>| {
        if counted.is_empty() {
            0.0
        } else {
            round1(counted.iter().filter_map(|p| f(p)).sum::<f64>() / counted.len() as f64)
        }
    };
    let score = mean(|p| p.score);
    Score {
        assessed: i.coverage.builtin_ran,
        partial,
        score,
        confidence: mean(|p| p.confidence),
        maturity: Maturity::of(score),
        pillars,
        workloads_in_scope: scope.len(),
    }
}

/// VERIFIED when meshConfig was in the snapshot; INFERRED when Istio's defaults are assumed.
fn config_evidence(config: &crate::model::MeshConfig) -> Confidence {
    if config.source.is_some() {
        Confidence::Verified
    } else {
        Confidence::Inferred
    }
}

fn identity(i: &Inputs, scope: &[&Workload]) -> Pillar {
    let mut mesh = Control::new(
        "mesh-identity",
        "Workload is in the mesh, so it holds a SPIFFE identity",
    );
    let mut unique = Control::new(
        "unique-identity",
        "Workload's service account is its own (not `default`, not shared in its namespace)",
    );
    let mut domain = Control::new(
        "trust-domain",
        "The trust domain the identities carry is read from meshConfig, not assumed",
    );
    let mut users: HashMap<(&str, &str), usize> = HashMap::new();
    for w in scope {
        *users
            .entry((w.namespace.as_str(), w.service_account.as_str()))
            .or_default() += 1;
    }
    for w in scope {
        // A proxy read with --deep shows the workload in the mesh (or not).
        match i.observed.and_then(|o| o.enrolled.get(&w.id)) {
            Some(seen) => mesh.record(
                &w.id,
                *seen,
                Confidence::Verified,
                "--deep: ztunnel does not carry every pod over HBONE",
            ),
            None => mesh.record(
                &w.id,
                w.enrolled(),
                w.enrollment.confidence,
                &w.enrollment.reason,
            ),
        }
        let shared = users[&(w.namespace.as_str(), w.service_account.as_str())] > 1;
        let why = if w.service_account == "default" {
            "runs as the default service account".to_string()
        } else {
            format!("service account {} is shared", w.service_account)
        };
        unique.record(
            &w.id,
            w.service_account != "default" && !shared,
            Confidence::Verified,
            &why,
        );
    }
    let config = &i.model.config;
    domain.record(
        "meshConfig",
        config.source.is_some(),
        config_evidence(config),
        &format!(
            "no mesh config in the snapshot: Istio's default trust domain {:?} is assumed",
            config.trust_domain
        ),
    );
    Pillar::new("identity", vec![mesh, unique, domain])
}

fn transport(scope: &[&Workload], observed: Option<&super::deep::Observed>) -> Pillar {
    let mut strict = Control::new(
        "mtls-strict",
        "Effective mTLS is STRICT on the workload and on each of its ports",
    );
    for w in scope {
        if !w.enrolled() {
            strict.record(
                &w.id,
                false,
                w.enrollment.confidence,
                "not in the mesh: plaintext only",
            );
            continue;
        }
        let ports: Vec<Option<u32>> = if w.container_ports.is_empty() {
            vec![None]
        } else {
            w.container_ports.iter().copied().map(Some).collect()
        };
        let seen = observed.and_then(|o| o.ports.get(&w.id));
        for port in ports {
            // The mode the proxy's inbound listener shows, when --deep read it.
            if let Some(mode) = port.and_then(|p| seen?.iter().find(|(q, _)| *q == p)) {
                strict.record(
                    &format!("{}:{}", w.id, mode.0),
                    mode.1 == "STRICT",
                    Confidence::Verified,
                    &format!("--deep: the proxy accepts {} on it", mode.1),
                );
                continue;
            }
            let mode = port
                .and_then(|p| w.mtls.ports.iter().find(|m| m.port == p))
                .map(|m| m.mode)
                .unwrap_or(w.mtls.mode);
            let subject = match port {
                Some(p) => format!("{}:{p}", w.id),
                None => w.id.clone(),
            };
            strict.record(
                &subject,
                mode == MtlsMode::Strict,
                w.mtls.confidence,
                &format!("mTLS {}", mode.as_str()),
            );
        }
    }
    Pillar::new("transport", vec![strict])
}

fn authorization(i: &Inputs, scope: &[&Workload]) -> Pillar {
    let mut deny = Control::new(
        "default-deny",
        "An enforced ALLOW AuthorizationPolicy applies, so unmatched requests are denied",
    );
    let mut least = Control::new(
        "least-privilege",
        "Every ALLOW rule applying names its callers (principals or namespaces, no wildcards)",
    );
    let readable = !i
        .snapshot
        .unavailable
        .contains_key(kinds::AUTHORIZATION_POLICY);
    for w in scope {
        let allows: Vec<_> = i.policies.enforced(w).filter(|p| p.allows()).collect();
        let evidence = if readable {
            w.enrollment.confidence
        } else {
            Confidence::Unknown
        };
        let seen = i
            .observed
            .and_then(|o| o.allow_enforced.get(&w.id))
            .copied();
        let evidence = if seen.is_some() {
            Confidence::Verified
        } else {
            evidence
        };
        let covered = seen.unwrap_or(w.enrolled() && !allows.is_empty());
        let why = if seen == Some(false) {
            "--deep: the proxy runs no ALLOW RBAC filter on its inbound listener"
        } else if !w.enrolled() {
            "not in the mesh: no policy is enforced"
        } else if readable {
            "no ALLOW policy applies: every request is allowed"
        } else {
            "AuthorizationPolicies could not be read"
        };
        deny.record(&w.id, covered, evidence, why);
        let open: Vec<String> = allows
            .iter()
            .filter(|p| !p.names_callers())
            .map(|p| p.target.display())
            .collect();
        let why = if covered {
            format!("{} admits callers without naming them", open.join(", "))
        } else {
            why.to_string()
        };
        least.record(&w.id, covered && open.is_empty(), evidence, &why);
    }
    Pillar::new("authorization", vec![deny, least])
}

fn egress(i: &Inputs) -> Pillar {
    let config = &i.model.config;
    let mut registry = Control::new(
        "registry-only",
        "meshConfig outboundTrafficPolicy is REGISTRY_ONLY (unknown hosts are refused)",
    );
    registry.record(
        "meshConfig",
        config.outbound_traffic_policy == "REGISTRY_ONLY",
        config_evidence(config),
        &format!("outboundTrafficPolicy {}", config.outbound_traffic_policy),
    );
    let hardened = by_findings(
        i,
        "egress",
        Control::new(
            "egress-hardened",
            "ServiceEntry or Sidecar with no open finding of the egress checks",
        ),
        &[kinds::SERVICE_ENTRY, kinds::SIDECAR],
    );
    Pillar::new("egress", vec![registry, hardened])
}

/// The objects a check category looks at pass when none of its open findings
/// names them; the evidence is UNKNOWN when one of its checks did not run.
fn by_findings(i: &Inputs, category: &str, mut control: Control, kinds: &[&str]) -> Control {
    if i.coverage.excluded.contains(category) {
        return control;
    }
    let ran = i
        .checks
        .iter()
        .filter(|c| c.category == category)
        .all(|c| matches!(c.status, Status::Pass | Status::Fail));
    let flagged = flagged(i.findings, |f| {
        i.checks
            .iter()
            .any(|c| c.id == f.check_id && c.category == category)
    });
    for kind in kinds {
        let evidence = if ran && !i.snapshot.unavailable.contains_key(*kind) {
            Confidence::Verified
        } else {
            Confidence::Unknown
        };
        for o in i.snapshot.of(kind) {
            // Waypoints and east-west gateways are not ingress.
            if *kind == kinds::K8S_GATEWAY
                && o.pointer("/spec/gatewayClassName")
                    .is_none_or(|v| v.as_str() != Some("istio"))
            {
                continue;
            }
            let key = (o.kind.as_str(), o.namespace.as_str(), o.name.as_str());
            let why = flagged.get(&key).cloned().unwrap_or_default();
            control.record(&o.display(), why.is_empty(), evidence, &why);
        }
    }
    control
}

fn hygiene(i: &Inputs) -> Pillar {
    let mut effective = Control::new(
        "policy-effective",
        "Security policy selects workloads, is enforced (not dry-run) and has no open finding",
    );
    if !i.coverage.excluded.is_empty() {
        // "No open finding" cannot be known when checks were left out.
        return Pillar::new("policy-hygiene", vec![effective]);
    }
    let flagged = flagged(i.findings, |_| true);
    for p in &i.model.policies {
        let r = &p.target;
        let dry = i.policies.get(r).is_some_and(|ap| ap.dry_run);
        let why = if p.matches_nothing {
            "selects no workload".to_string()
        } else if dry {
            "dry-run: not enforced".to_string()
        } else {
            flagged.get(&r.key()).cloned().unwrap_or_default()
        };
        effective.record(&r.display(), why.is_empty(), Confidence::Verified, &why);
    }
    Pillar::new("policy-hygiene", vec![effective])
}

/// Objects named by open findings that `pick` keeps, with the check ids.
fn flagged(
    findings: &[Finding],
    pick: impl Fn(&Finding) -> bool,
) -> HashMap<(&str, &str, &str), String> {
    let mut out: HashMap<(&str, &str, &str), Vec<&str>> = HashMap::new();
    for f in findings.iter().filter(|f| f.counts() && pick(f)) {
        let ids = out.entry(f.resource.key()).or_default();
        if !ids.contains(&f.check_id.as_str()) {
            ids.push(&f.check_id);
        }
    }
    out.into_iter()
        .map(|(k, ids)| (k, format!("open findings {}", ids.join(", "))))
        .collect()
}
