//! The remediation plan: open findings in three phases, ordered by severity
//! times reachability, each with the fix, how to prove it works, and how to
//! undo it.

use super::authz::Policies;
use super::paths::ServicePortProtocol;
use crate::model::{MeshModel, Workload};
use crate::report::model::{CheckRecord, Finding};
use crate::vocab::{ObjectRef, Severity};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Contain now: critical, or high on an attack path.
    Immediate,
    /// High, or medium on an attack path.
    Days30,
    Days90,
}

#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    /// Traffic that must be refused once the fix is in.
    pub negative: String,
    /// Traffic that must still work.
    pub positive: String,
    /// The scan that must no longer report it.
    pub rescan: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub phase: Phase,
    /// Severity weight (info 1 .. critical 5), doubled on an attack path.
    pub priority: u32,
    pub check_id: String,
    pub severity: Severity,
    pub title: String,
    pub resource: String,
    pub fingerprint: String,
    pub on_attack_path: bool,
    pub fix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yaml: Option<String>,
    pub validate: Validation,
    pub rollback: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    pub items: Vec<Item>,
}

impl Plan {
    /// The phases that have items, in order, with their titles and items.
    pub fn phases(&self) -> impl Iterator<Item = (Phase, &'static str, Vec<&Item>)> {
        [
            (Phase::Immediate, "immediate containment"),
            (Phase::Days30, "within 30 days"),
            (Phase::Days90, "within 90 days"),
        ]
        .into_iter()
        .map(|(phase, title)| {
            let items = self.items.iter().filter(|i| i.phase == phase).collect();
            (phase, title, items)
        })
        .filter(|(_, _, items): &(Phase, &str, Vec<&Item>)| !items.is_empty())
    }
}

fn weight(s: Severity) -> u32 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn phase(s: Severity, on_path: bool) -> Phase {
    match (s, on_path) {
        (Severity::Critical, _) | (Severity::High, true) => Phase::Immediate,
        (Severity::High, false) | (Severity::Medium, true) => Phase::Days30,
        _ => Phase::Days90,
    }
}

/// `-n NS ` for namespaced objects (and for a Namespace, itself).
fn ns_flag(r: &ObjectRef) -> String {
    if r.kind == "Namespace" {
        format!("-n {} ", r.name)
    } else if r.namespace.is_empty() {
        String::new()
    } else {
        format!("-n {} ", r.namespace)
    }
}

/// A URL for the workload a finding is about: its first Service and that
/// Service's first port (a container port on the pod IP without a Service).
fn url(w: Option<&Workload>, ports: &[ServicePortProtocol]) -> String {
    match w {
        Some(w) => {
            let (host, port) = match w.services.first() {
                Some(s) => (
                    format!("{}.{}.svc.cluster.local", s.name, s.namespace),
                    ports.first().map(|(_, p)| *p),
                ),
                None => (
                    format!("<{} pod IP>", w.id),
                    w.container_ports.first().copied(),
                ),
            };
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("http://{host}{port}/")
        }
        None => "http://<service>.<namespace>.svc.cluster.local/".into(),
    }
}

fn probe(namespace: &str, mesh: bool, url: &str) -> String {
    format!(
        "kubectl run kridik-probe -n {namespace} --rm -i --restart=Never --image=curlimages/curl \
         --labels=sidecar.istio.io/inject={mesh} -- curl -sS -m 5 -o /dev/null -w '%{{http_code}}' {url}"
    )
}

/// `kubectl exec -n NS deployment/NAME` for a workload, to run a client from it.
fn exec(w: &Workload) -> String {
    format!(
        "kubectl exec -n {} {}/{}",
        w.namespace,
        w.target.kind.to_lowercase(),
        w.name
    )
}

fn validation(
    f: &Finding,
    category: &str,
    (w, ports): (Option<&Workload>, &[ServicePortProtocol]),
    caller: Option<&Workload>,
    inputs: &str,
) -> Validation {
    let url = url(w, ports);
    let ns = if f.resource.namespace.is_empty() {
        "default"
    } else {
        f.resource.namespace.as_str()
    };
    let rescan = format!(
        "kridik scan {inputs}--include {} (must not report {} again)",
        f.check_id,
        f.resource.display()
    );
    let rbac = matches!(
        f.resource.kind.as_str(),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
    );
    let (negative, positive) = match category {
        _ if rbac => (
            format!(
                "kubectl auth can-i create gateways.networking.istio.io {}--as=<a subject of {}> must print no",
                ns_flag(&f.resource),
                f.resource.name
            ),
            format!(
                "kubectl auth can-i create gateways.networking.istio.io {}--as=<a mesh administrator> must print yes",
                ns_flag(&f.resource)
            ),
        ),
        "transport" | "data-plane" | "enrollment" => (
            format!("{} must fail: plaintext is refused", probe("default", false, &url)),
            format!("{} must return an HTTP status: mTLS callers still get in", probe(ns, true, &url)),
        ),
        "authorization" | "authentication" => (
            format!(
                "{} must print 403 (RBAC: access denied) for a caller the policy does not name",
                probe("default", true, &url)
            ),
            format!(
                "{} -- curl -sS -m 5 -o /dev/null -w '%{{http_code}}' {url} must print 2xx for a caller \
                 the policy names",
                caller
                    .map(exec)
                    .unwrap_or_else(|| "kubectl exec -n <caller-namespace> deploy/<allowed-caller>".into())
            ),
        ),
        "ingress" if f.resource.kind == "Gateway" => (
            "curl -sv -m 5 http://<gateway-host>/ must redirect to https or be refused".into(),
            "curl -sv -m 5 https://<gateway-host>/ must complete the TLS handshake with the gateway's certificate".into(),
        ),
        "egress" => (
            format!(
                "kubectl exec {}deploy/<client> -- curl -sS -m 5 https://unlisted.example.org/ must fail",
                ns_flag(&f.resource)
            ),
            format!(
                "kubectl exec {}deploy/<client> -- curl -sS -m 5 https://<registered-host>/ must succeed",
                ns_flag(&f.resource)
            ),
        ),
        _ => (
            "none: the fix changes configuration, not traffic".into(),
            "istioctl proxy-status shows every proxy SYNCED after the change".into(),
        ),
    };
    Validation {
        negative,
        positive,
        rescan,
    }
}

fn rollback(f: &Finding) -> String {
    let r = &f.resource;
    let edits_it = f
        .remediation
        .as_ref()
        .and_then(|m| m.yaml.as_ref())
        .is_some_and(|y| {
            y.contains(&format!("kind: {}", r.kind)) && y.contains(&format!("name: {}", r.name))
        });
    if edits_it {
        format!(
            "before: kubectl get {} {} {}-o yaml > kridik-backup.yaml; to undo: kubectl replace -f kridik-backup.yaml",
            r.kind.to_lowercase(),
            r.name,
            ns_flag(r)
        )
    } else {
        "the fix adds objects: kubectl delete -f kridik-fix.yaml (the hardened YAML saved to a file)".into()
    }
}

pub fn build(
    model: &MeshModel,
    ports: &[Vec<ServicePortProtocol>],
    policies: &Policies,
    findings: &[Finding],
    checks: &[CheckRecord],
    on_path: &HashMap<(&str, &str, &str), String>,
    inputs: &str,
) -> Plan {
    let workloads: HashMap<(&str, &str, &str), &Workload> = model
        .workloads
        .iter()
        .map(|w| (w.target.key(), w))
        .collect();
    // A policy's test traffic goes to the first workload it selects.
    let by_id: HashMap<&str, &Workload> =
        model.workloads.iter().map(|w| (w.id.as_str(), w)).collect();
    let selected: HashMap<(&str, &str, &str), &Workload> = model
        .policies
        .iter()
        .filter_map(|p| {
            let w = by_id.get(p.workloads.first()?.as_str())?;
            Some((p.target.key(), *w))
        })
        .collect();
    // A caller an AuthorizationPolicy names, for the positive traffic test.
    let by_identity: HashMap<&str, &Workload> =
        model.workloads.iter().map(|w| (w.principal(), w)).collect();
    let caller = |r: &ObjectRef, w: Option<&Workload>| -> Option<&Workload> {
        let refs: Vec<&ObjectRef> = if r.kind == "AuthorizationPolicy" {
            vec![r]
        } else {
            w.map(|w| w.authorization_policies.iter().collect())
                .unwrap_or_default()
        };
        refs.iter()
            .filter_map(|p| policies.get(p))
            .flat_map(|p| p.named_callers().0)
            .find_map(|principal| by_identity.get(principal).copied())
    };
    let port_of: HashMap<&str, &Vec<ServicePortProtocol>> = model
        .workloads
        .iter()
        .zip(ports)
        .map(|(w, p)| (w.id.as_str(), p))
        .collect();
    let category: HashMap<&str, &str> = checks
        .iter()
        .map(|c| (c.id.as_str(), c.category.as_str()))
        .collect();
    let mut items: Vec<Item> = findings
        .iter()
        .filter(|f| f.counts())
        .map(|f| {
            let r = &f.resource;
            let key = r.key();
            let path = on_path.contains_key(&key);
            let w = workloads
                .get(&key)
                .or_else(|| selected.get(&key))
                .copied()
                .or_else(|| {
                    // A namespace-wide finding: test one of its workloads.
                    (r.kind == "Namespace")
                        .then(|| model.workloads.iter().find(|w| w.namespace == r.name))
                        .flatten()
                });
            let cat = category
                .get(f.check_id.as_str())
                .copied()
                .unwrap_or_default();
            Item {
                phase: phase(f.severity, path),
                priority: weight(f.severity) * if path { 2 } else { 1 },
                check_id: f.check_id.clone(),
                severity: f.severity,
                title: f.title.clone(),
                resource: r.display(),
                fingerprint: f.fingerprint.clone(),
                on_attack_path: path,
                fix: f
                    .remediation
                    .as_ref()
                    .map(|m| m.summary.clone())
                    .unwrap_or_else(|| f.message.clone()),
                yaml: f.remediation.as_ref().and_then(|m| m.yaml.clone()),
                validate: validation(
                    f,
                    cat,
                    (
                        w,
                        w.and_then(|w| port_of.get(w.id.as_str()))
                            .map_or(&[], |p| p),
                    ),
                    caller(r, w),
                    inputs,
                ),
                rollback: rollback(f),
            }
        })
        .collect();
    items.sort_by(|a, b| {
        (
            a.phase,
            std::cmp::Reverse(a.priority),
            &a.check_id,
            &a.resource,
        )
            .cmp(&(
                b.phase,
                std::cmp::Reverse(b.priority),
                &b.check_id,
                &b.resource,
            ))
    });
    Plan { items }
}
