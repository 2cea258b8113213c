//! `--deep`: the configuration's claims held against what the proxies run.
//! Which pods to read, and from their dumps: agreement becomes VERIFIED
//! evidence (on the findings and in the score), disagreement becomes a
//! finding of its own, and a proxy that could not be read stays INFERRED with
//! the reason among the evidence gaps.

use super::authz::Policies;
use crate::gather::proxies::{ProxyKind, Read, Target};
use crate::gather::Snapshot;
use crate::model::dataplane::{EnvoyView, PolicyName, View, ZtunnelWorkload};
use crate::model::{Dataplane, MeshModel, MtlsMode, Workload};
use crate::report::model::Evidence;
use crate::report::model::{CheckRecord, EvidenceGap, Finding, Remediation, Status};
use crate::vocab::{Confidence, ObjectRef, Severity};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// Pods read per workload (all of them for workloads on an attack path).
    pub pods_per_workload: usize,
    /// Pods read at most in one scan.
    pub max_pods: usize,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pods_per_workload: 1,
            max_pods: 1000,
            timeout: Duration::from_secs(10),
            concurrency: 8,
        }
    }
}

/// Pods chosen for reading, the workload each speaks for, and how many were left out.
pub struct Sample {
    pub targets: Vec<(Target, Option<usize>)>,
    pub left_out: usize,
}

/// Sidecar pods per workload (running, carrying `istio-proxy`; Istio's own
/// gateways are not sidecars and are skipped) and every ztunnel pod, which
/// speaks for all ambient workloads. Ztunnels come first so the cap never
/// drops the ambient view.
pub fn sample(model: &MeshModel, on_path: &HashSet<&str>, o: &Options) -> Sample {
    let mut targets: Vec<(Target, Option<usize>)> = Vec::new();
    let mut left_out = 0;
    let ztunnels = model.workloads.iter().filter(|w| {
        w.is_istio_component() && w.labels.get("app").map(String::as_str) == Some("ztunnel")
    });
    for w in ztunnels {
        for p in w.pods_seen.iter().filter(|p| p.running) {
            targets.push((
                Target {
                    namespace: w.namespace.clone(),
                    pod: p.name.clone(),
                    kind: ProxyKind::Ztunnel,
                },
                None,
            ));
        }
    }
    for (i, w) in model.workloads.iter().enumerate() {
        if w.is_istio_component() || w.enrollment.dataplane != Dataplane::Sidecar {
            continue;
        }
        let pods: Vec<_> = w
            .pods_seen
            .iter()
            .filter(|p| p.running && p.has_proxy)
            .collect();
        let wanted = if on_path.contains(w.id.as_str()) {
            pods.len()
        } else {
            o.pods_per_workload.min(pods.len())
        };
        for p in pods.into_iter().take(wanted) {
            if targets.len() >= o.max_pods {
                left_out += 1;
                continue;
            }
            targets.push((
                Target {
                    namespace: w.namespace.clone(),
                    pod: p.name.clone(),
                    kind: ProxyKind::Envoy,
                },
                Some(i),
            ));
        }
    }
    Sample { targets, left_out }
}

/// What the proxies showed, for the score: per workload, the ports whose
/// inbound mode was read, whether it is in the mesh, whether an ALLOW filter runs.
#[derive(Debug, Default)]
pub struct Observed {
    pub ports: HashMap<String, Vec<(u32, &'static str)>>,
    pub enrolled: HashMap<String, bool>,
    pub allow_enforced: HashMap<String, bool>,
    /// DestinationRules (`namespace/name`) whose TLS setting a proxy's
    /// outbound cluster shows, with the clusters and pods that show it.
    pub rules: HashMap<String, Vec<String>>,
}

/// What `--deep` adds to the report.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub checks: Vec<CheckRecord>,
    pub gaps: Vec<EvidenceGap>,
    pub observed: Observed,
    /// Pods read, pods that could not be read.
    pub read: usize,
    pub failed: usize,
}

struct Check {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    description: &'static str,
}

pub const MTLS_WEAKER: &str = "DP-MTLS-001";
pub const MTLS_STRICTER: &str = "DP-MTLS-002";
pub const AUTHZ_MISSING: &str = "DP-AUTHZ-001";
pub const AUTHZ_STALE: &str = "DP-AUTHZ-002";
pub const AMBIENT_BYPASS: &str = "DP-AMB-001";
pub const DR_PLAINTEXT: &str = "DP-DR-001";
pub const JWT_MISSING: &str = "DP-JWT-001";

const CHECKS: &[Check] = &[
    Check {
        id: MTLS_WEAKER,
        title: "Proxy accepts plaintext where the configuration requires mTLS",
        severity: Severity::High,
        description: "The sidecar's inbound listener has a chain without a required client certificate on a port whose effective PeerAuthentication is STRICT: the configuration was not pushed, the proxy is stale, or an EnvoyFilter overrides it.",
    },
    Check {
        id: MTLS_STRICTER,
        title: "Proxy enforces stricter mTLS than the configuration",
        severity: Severity::Low,
        description: "The proxy requires mTLS where the configuration allows plaintext: it runs an older configuration than the cluster holds (a push failed or the proxy cannot reach istiod).",
    },
    Check {
        id: AUTHZ_MISSING,
        title: "Proxy does not enforce an AuthorizationPolicy the configuration applies",
        severity: Severity::High,
        description: "No RBAC filter on the sidecar's inbound chains was built from a policy that applies to the workload: requests the policy should stop are served.",
    },
    Check {
        id: AUTHZ_STALE,
        title: "Proxy enforces a policy the configuration no longer applies",
        severity: Severity::Medium,
        description: "An RBAC filter on the sidecar was built from a policy that does not apply to the workload (deleted, re-targeted or changed): the proxy runs stale configuration.",
    },
    Check {
        id: JWT_MISSING,
        title: "Proxy does not validate the JWTs a RequestAuthentication requires",
        severity: Severity::High,
        description: "A RequestAuthentication with jwtRules applies to the workload, but its sidecar's inbound HTTP chains have no jwt_authn filter: invalid or forged tokens are not rejected, and no request principal is ever set for AuthorizationPolicies to match.",
    },
    Check {
        id: DR_PLAINTEXT,
        title: "Proxy sends plaintext where a DestinationRule requires TLS",
        severity: Severity::High,
        description: "The sidecar's outbound cluster for a host reaches it without TLS although the DestinationRule for that host sets ISTIO_MUTUAL, MUTUAL or SIMPLE: the rule was not pushed, or another rule or an EnvoyFilter overrides it.",
    },
    Check {
        id: AMBIENT_BYPASS,
        title: "ztunnel does not carry an ambient workload over HBONE",
        severity: Severity::High,
        description: "The configuration enrolls the pod in ambient, but ztunnel does not know it or reaches it over plaintext TCP: its traffic has neither mTLS nor L4 authorization.",
    },
];

/// Where the `--deep` checks come from, in check records and the catalogue.
pub const PLUGIN: &str = "kridik --deep";

/// The `--deep` checks as the catalogue lists them (`kridik checks`).
pub fn catalog() -> Vec<crate::report::model::CheckInfo> {
    CHECKS
        .iter()
        .map(|c| crate::report::model::CheckInfo {
            id: c.id.into(),
            title: c.title.into(),
            description: format!("{} Runs with `kridik scan --deep` only.", c.description),
            default_severity: c.severity,
            category: "data-plane".into(),
            kinds: vec!["proxy config dumps (Envoy, ztunnel)".into()],
        })
        .collect()
}

fn pod_ref(namespace: &str, pod: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        namespace: namespace.into(),
        name: pod.into(),
        ..ObjectRef::default()
    }
}

fn finding(
    id: &str,
    resource: &ObjectRef,
    message: String,
    evidence: Vec<Evidence>,
    fix: &str,
) -> Finding {
    let check = CHECKS.iter().find(|c| c.id == id).expect("a --deep check");
    Finding {
        fingerprint: crate::triage::fingerprint(id, resource, check.title),
        check_id: id.into(),
        severity: check.severity,
        confidence: Confidence::Verified,
        title: check.title.into(),
        message,
        resource: resource.clone(),
        evidence,
        remediation: Some(Remediation {
            summary: fix.into(),
            yaml: None,
        }),
        references: vec!["https://istio.io/latest/docs/ops/diagnostic-tools/proxy-cmd/".into()],
        suppressed: None,
        in_baseline: false,
        raised: None,
    }
}

/// The mode the configuration gives a port: its own, else the workload's; UNSET is PERMISSIVE.
fn expected_mode(w: &Workload, port: u32) -> MtlsMode {
    let mode = w
        .mtls
        .ports
        .iter()
        .find(|m| m.port == port)
        .map(|m| m.mode)
        .unwrap_or(w.mtls.mode);
    if mode == MtlsMode::Unset {
        MtlsMode::Permissive
    } else {
        mode
    }
}

/// A DestinationRule's client TLS mode toward its host: the default, and per port.
struct Rule {
    target: ObjectRef,
    host: String,
    mode: Option<String>,
    ports: Vec<(u32, String)>,
}

impl Rule {
    fn mode(&self, port: u32) -> Option<&str> {
        self.ports
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, m)| m.as_str())
            .or(self.mode.as_deref())
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RuleSpec {
    host: String,
    traffic_policy: TrafficPolicy,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct TrafficPolicy {
    tls: Option<Tls>,
    port_level_settings: Vec<PortSettings>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Tls {
    mode: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PortSettings {
    port: Option<PortSelector>,
    tls: Option<Tls>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PortSelector {
    number: u32,
}

/// DestinationRules with a TLS mode toward one exact host. A host with more
/// than one rule is left out: which one a proxy gets depends on its namespace
/// and exportTo, and a guess would report contradictions that are not.
fn rules(snapshot: &Snapshot) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for o in snapshot.of(crate::kinds::DESTINATION_RULE) {
        let spec: RuleSpec = o.spec();
        if spec.host.is_empty() || spec.host.contains('*') {
            continue;
        }
        // Short names resolve in the rule's namespace (the cluster domain is assumed cluster.local).
        let host = if spec.host.contains('.') {
            spec.host
        } else {
            format!("{}.{}.svc.cluster.local", spec.host, o.namespace)
        };
        *seen.entry(host.clone()).or_default() += 1;
        let ports: Vec<(u32, String)> = spec
            .traffic_policy
            .port_level_settings
            .into_iter()
            .filter_map(|p| Some((p.port?.number, p.tls?.mode?)))
            .collect();
        let mode = spec.traffic_policy.tls.and_then(|t| t.mode);
        if mode.is_some() || !ports.is_empty() {
            out.push(Rule {
                target: ObjectRef::of(o),
                host,
                mode,
                ports,
            });
        }
    }
    out.retain(|r| seen[&r.host] == 1);
    out
}

/// Compares what was read with the model.
pub fn compare(
    snapshot: &Snapshot,
    model: &MeshModel,
    policies: &Policies,
    reads: &[(Read, Option<usize>)],
    left_out: usize,
) -> Outcome {
    let mut out = Outcome {
        findings: Vec::new(),
        checks: Vec::new(),
        gaps: Vec::new(),
        observed: Observed::default(),
        read: 0,
        failed: 0,
    };
    let mut failures: Vec<String> = Vec::new();
    let mut ztunnel: HashMap<&str, &ZtunnelWorkload> = HashMap::new();
    // Policies each ztunnel read holds, by pod: every ztunnel must hold them all.
    let mut ztunnel_policies_held: Vec<(&Target, &BTreeMap<String, String>)> = Vec::new();
    let mut ztunnel_read = false;
    for (r, _) in reads {
        match &r.result {
            Ok(View::Ztunnel(z)) => {
                ztunnel_read = true;
                ztunnel.extend(z.workloads.iter().map(|(k, v)| (k.as_str(), v)));
                ztunnel_policies_held.push((&r.target, &z.policies));
            }
            Ok(_) => {}
            Err(why) => failures.push(format!(
                "{}/{} ({}): {why}",
                r.target.namespace,
                r.target.pod,
                match r.target.kind {
                    ProxyKind::Envoy => "sidecar",
                    ProxyKind::Ztunnel => "ztunnel",
                }
            )),
        }
        if r.result.is_ok() {
            out.read += 1;
        } else {
            out.failed += 1;
        }
    }
    let mut done: HashSet<usize> = HashSet::new();
    // RequestAuthentications that carry jwtRules (istiod builds jwt_authn only for those).
    let jwt_rules: HashSet<(&str, &str)> = snapshot
        .of(crate::kinds::REQUEST_AUTHENTICATION)
        .iter()
        .filter(|o| {
            o.pointer("/spec/jwtRules")
                .and_then(|r| r.as_array().map(|a| !a.is_empty()))
                .unwrap_or(false)
        })
        .map(|o| (o.namespace.as_str(), o.name.as_str()))
        .collect();
    let rules = rules(snapshot);
    let rules: HashMap<&str, &Rule> = rules.iter().map(|r| (r.host.as_str(), r)).collect();
    for (r, w) in reads {
        let (Ok(View::Envoy(v)), Some(i)) = (&r.result, w) else {
            continue;
        };
        outbound(&rules, &r.target, v, &mut out);
        // Several pods of one workload: each is compared, the score keeps the first.
        let first = done.insert(*i);
        sidecar(
            &model.workloads[*i],
            policies,
            &jwt_rules,
            &r.target,
            v,
            first,
            &mut out,
        );
    }
    if ztunnel_read {
        let ambient_workloads: Vec<&Workload> = model
            .workloads
            .iter()
            .filter(|w| w.enrollment.dataplane == Dataplane::Ambient)
            .collect();
        for w in &ambient_workloads {
            ambient(w, &ztunnel, &mut out);
        }
        ztunnel_policies(
            &ambient_workloads,
            policies,
            &ztunnel_policies_held,
            &mut out,
        );
    }
    for (i, f) in failures.iter().enumerate() {
        if i == 20 {
            out.gaps.push(EvidenceGap {
                what: format!("{} more proxies could not be read", failures.len() - 20),
                checks_affected: "--deep verification".into(),
                command:
                    "kridik scan --deep --format json (every read is listed under evidence_gaps)"
                        .into(),
            });
            break;
        }
        out.gaps.push(EvidenceGap {
            what: format!("proxy of pod {f}; its workload stays INFERRED"),
            checks_affected: "--deep verification (mTLS, authorization, ambient)".into(),
            command: "kubectl -n NAMESPACE port-forward pod/POD 15000 and curl localhost:15000/config_dump?resource=dynamic_listeners; check `kridik rbac --deep` is granted".into(),
        });
    }
    if left_out > 0 {
        out.gaps.push(EvidenceGap {
            what: format!("{left_out} sidecar pods were not read (the --deep-max-pods cap)"),
            checks_affected: "--deep verification".into(),
            command: "kridik scan --deep --deep-max-pods N".into(),
        });
    }
    out.findings = merge_by_fingerprint(std::mem::take(&mut out.findings));
    // A check whose proxies were not read verified nothing: it is skipped,
    // never a pass.
    let sidecar_read = reads
        .iter()
        .any(|(r, w)| w.is_some() && matches!(r.result, Ok(View::Envoy(_))));
    for c in CHECKS {
        let n = out.findings.iter().filter(|f| f.check_id == c.id).count();
        let read = match c.id {
            AMBIENT_BYPASS => ztunnel_read,
            AUTHZ_MISSING => sidecar_read || ztunnel_read,
            _ => sidecar_read,
        };
        out.checks.push(CheckRecord {
            id: c.id.into(),
            title: c.title.into(),
            description: c.description.into(),
            default_severity: Some(c.severity),
            category: "data-plane".into(),
            plugin: PLUGIN.into(),
            status: match (n, read) {
                (0, false) => Status::Skipped,
                (0, true) => Status::Pass,
                _ => Status::Fail,
            },
            duration_ms: 0.0,
            findings: n,
            error: None,
            stdout: None,
            stderr: None,
        });
    }
    out
}

/// One finding per check and object: several pods of a workload showing the
/// same problem (every pod is read on an attack path) add their evidence to
/// the first one's, up to a few, instead of repeating the finding.
fn merge_by_fingerprint(findings: Vec<Finding>) -> Vec<Finding> {
    const EVIDENCE: usize = 10;
    let mut out: Vec<Finding> = Vec::new();
    let mut at: HashMap<String, (usize, usize)> = HashMap::new();
    for f in findings {
        match at.get_mut(&f.fingerprint) {
            Some((i, more)) => {
                let kept = &mut out[*i];
                *more += 1;
                let room = EVIDENCE.saturating_sub(kept.evidence.len());
                kept.evidence.extend(f.evidence.into_iter().take(room));
            }
            None => {
                at.insert(f.fingerprint.clone(), (out.len(), 0));
                out.push(f);
            }
        }
    }
    for (i, more) in at.into_values() {
        if more > 0 {
            out[i]
                .message
                .push_str(&format!(" And {more} more like it (see the evidence)."));
        }
    }
    out
}

fn sidecar(
    w: &Workload,
    policies: &Policies,
    jwt_rules: &HashSet<(&str, &str)>,
    t: &Target,
    v: &EnvoyView,
    first: bool,
    out: &mut Outcome,
) {
    let pod = pod_ref(&t.namespace, &t.pod);
    let seen = |detail: String| Evidence {
        label: Confidence::Verified,
        source: Some(pod.clone()),
        detail,
    };
    if first {
        out.observed.enrolled.insert(w.id.clone(), true);
        out.observed.allow_enforced.insert(
            w.id.clone(),
            v.inbound_listener && v.rbac_actions.contains("ALLOW"),
        );
    }
    // Ports the data plane captures (the model lists those it does not).
    let ports: Vec<u32> = w
        .container_ports
        .iter()
        .copied()
        .filter(|p| !w.uncaptured_ports.iter().any(|(u, _)| u == p))
        .collect();
    for port in ports {
        let expected = expected_mode(w, port);
        let (mode, chains) = if !v.inbound_listener {
            (
                "DISABLE",
                "no virtualInbound listener: inbound traffic is not captured".to_string(),
            )
        } else {
            match v.port(port) {
                Some(pv) => (
                    pv.mode(),
                    format!(
                        "virtualInbound chains for port {port}: {}",
                        pv.chains.join("; ")
                    ),
                ),
                None => continue,
            }
        };
        if first {
            out.observed
                .ports
                .entry(w.id.clone())
                .or_default()
                .push((port, mode));
        }
        let decided = w
            .mtls
            .decided_by
            .as_ref()
            .map(|r| format!(" (decided by {})", r.display()))
            .unwrap_or_default();
        let evidence = vec![seen(format!(
            "config_dump?resource=dynamic_listeners of {}/{}: {chains}",
            t.namespace, t.pod
        ))];
        if expected == MtlsMode::Strict && mode != "STRICT" {
            out.findings.push(finding(
                MTLS_WEAKER,
                &w.target,
                format!(
                    "Configuration says STRICT{decided}, but proxy {}/{} accepts connections without a client certificate on port {port} ({mode}).",
                    t.namespace, t.pod
                ),
                evidence,
                "Find why the proxy differs: `istioctl proxy-status` (stale or not synced), EnvoyFilters touching the inbound listener, the sidecar's version; restart the pod once the cause is fixed.",
            ));
        } else if expected != MtlsMode::Strict && mode == "STRICT" {
            out.findings.push(finding(
                MTLS_STRICTER,
                &w.target,
                format!(
                    "Configuration says {}{decided} on port {port}, but proxy {}/{} requires mTLS: it runs configuration the cluster no longer holds.",
                    expected.as_str(),
                    t.namespace,
                    t.pod
                ),
                evidence,
                "Check `istioctl proxy-status` for the pod: a proxy that is not SYNCED misses every later policy change, including security fixes.",
            ));
        }
    }
    if !v.inbound_listener {
        return;
    }
    // Authentication: a RequestAuthentication with jwtRules puts jwt_authn on
    // the inbound HTTP chains (pilot/pkg/security/authn/policy_applier.go).
    let requiring: Vec<&ObjectRef> = w
        .request_authentications
        .iter()
        .filter(|r| jwt_rules.contains(&(r.namespace.as_str(), r.name.as_str())))
        .collect();
    if let (Some(ra), true, false) = (requiring.first(), v.http_inbound, v.jwt_authn) {
        out.findings.push(finding(
            JWT_MISSING,
            &w.target,
            format!(
                "{} applies to this workload, but proxy {}/{} has no jwt_authn filter on its inbound HTTP chains: tokens are not validated.",
                ra.display(),
                t.namespace,
                t.pod
            ),
            vec![seen(format!(
                "inbound HTTP filters of {}/{}: no envoy.filters.http.jwt_authn",
                t.namespace, t.pod
            ))],
            "Run `istioctl proxy-status` and `istioctl x describe pod` for the pod: the proxy is not synced, or istiod rejected the RequestAuthentication (`kubectl get requestauthentication -o yaml` shows its status).",
        ));
    }
    // Authorization: every policy istiod would name must be on the proxy, and
    // nothing else may be.
    let applying: BTreeSet<PolicyName> = w
        .authorization_policies
        .iter()
        .map(|r| PolicyName {
            namespace: r.namespace.clone(),
            name: r.name.clone(),
        })
        .collect();
    for p in policies
        .enforced(w)
        .filter(|p| !p.via_waypoint && p.named_in_rbac(v.http_inbound))
    {
        let name = PolicyName {
            namespace: p.target.namespace.clone(),
            name: p.target.name.clone(),
        };
        if v.enforced.contains(&name) {
            continue;
        }
        let on_proxy: Vec<String> = v
            .enforced
            .iter()
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        out.findings.push(finding(
            AUTHZ_MISSING,
            &w.target,
            format!(
                "{} applies to this workload, but no RBAC filter of proxy {}/{} was built from it; the proxy enforces {}.",
                p.target.display(),
                t.namespace,
                t.pod,
                if on_proxy.is_empty() { "no named policy".to_string() } else { on_proxy.join(", ") }
            ),
            vec![
                seen(format!(
                    "inbound RBAC filters of {}/{}: {}",
                    t.namespace,
                    t.pod,
                    if v.rbac_actions.is_empty() {
                        "none".to_string()
                    } else {
                        v.rbac_actions.iter().cloned().collect::<Vec<_>>().join(", ")
                    }
                )),
                Evidence {
                    label: Confidence::Verified,
                    source: Some(p.target.clone()),
                    detail: "the policy the configuration applies".into(),
                },
            ],
            "Run `istioctl proxy-status` and `istioctl x describe pod` for the pod: a proxy that is not synced, a policy istiod rejected, or a revision mismatch leaves it unenforced.",
        ));
    }
    for name in v.enforced.difference(&applying) {
        out.findings.push(finding(
            AUTHZ_STALE,
            &w.target,
            format!(
                "Proxy {}/{} enforces AuthorizationPolicy {}/{}, which the configuration does not apply to this workload.",
                t.namespace, t.pod, name.namespace, name.name
            ),
            vec![seen(format!("inbound RBAC filter names ns[{}]-policy[{}]", name.namespace, name.name))],
            "Check `istioctl proxy-status`: the proxy runs stale configuration; once synced, the policy disappears from its filters.",
        ));
    }
}

/// A sidecar's outbound clusters against the DestinationRules for their hosts.
fn outbound(rules: &HashMap<&str, &Rule>, t: &Target, v: &EnvoyView, out: &mut Outcome) {
    // One lookup per cluster (`outbound|PORT||HOST`, the default subset):
    // linear in the proxy's clusters whatever the number of rules.
    for (name, seen) in &v.clusters {
        let Some((port, host)) = name
            .strip_prefix("outbound|")
            .and_then(|n| n.split_once("||"))
            .and_then(|(p, h)| Some((p.parse::<u32>().ok()?, h)))
        else {
            continue;
        };
        let Some(rule) = rules.get(host) else {
            continue;
        };
        let Some(mode) = rule.mode(port) else {
            continue;
        };
        let wants_tls = matches!(mode, "ISTIO_MUTUAL" | "MUTUAL" | "SIMPLE");
        let shown = format!("cluster {name} of {}/{}: {seen}", t.namespace, t.pod);
        if wants_tls && *seen == "PLAINTEXT" {
            out.findings.push(finding(
                DR_PLAINTEXT,
                &rule.target,
                format!(
                    "{} sets {mode} toward {}:{port}, but proxy {}/{} sends plaintext there.",
                    rule.target.display(),
                    rule.host,
                    t.namespace,
                    t.pod
                ),
                vec![Evidence {
                    label: Confidence::Verified,
                    source: Some(pod_ref(&t.namespace, &t.pod)),
                    detail: format!("config_dump?resource=dynamic_active_clusters: {shown}"),
                }],
                "Check `istioctl proxy-config cluster` for the pod and `istioctl proxy-status`; look for another DestinationRule for the host (client namespace first) or an EnvoyFilter patching the cluster.",
            ));
        } else if (mode == "DISABLE") == (*seen == "PLAINTEXT") {
            out.observed
                .rules
                .entry(format!("{}/{}", rule.target.namespace, rule.target.name))
                .or_default()
                .push(shown);
        }
    }
}

fn ambient(w: &Workload, ztunnel: &HashMap<&str, &ZtunnelWorkload>, out: &mut Outcome) {
    let mut all_hbone = !w.pods_seen.is_empty();
    for p in w.pods_seen.iter().filter(|p| p.running) {
        let key = format!("{}/{}", w.namespace, p.name);
        let pod = pod_ref(&w.namespace, &p.name);
        let problem = match ztunnel.get(key.as_str()) {
            Some(z) if z.protocol == "HBONE" => None,
            Some(z) => Some(format!(
                "ztunnel reaches pod {key} over {} instead of HBONE: the pod is not captured (istio-cni did not set it up, or it opted out)",
                if z.protocol.is_empty() { "an unknown protocol" } else { z.protocol.as_str() }
            )),
            None => Some(format!(
                "no ztunnel read knows pod {key}: its traffic does not pass ztunnel (no mTLS, no L4 policy)"
            )),
        };
        if let Some(message) = problem {
            all_hbone = false;
            out.findings.push(finding(
                AMBIENT_BYPASS,
                &w.target,
                format!("The configuration enrolls {} in ambient, but {message}.", w.id),
                vec![Evidence {
                    label: Confidence::Verified,
                    source: Some(pod),
                    detail: "workloads in ztunnel's /config_dump".into(),
                }],
                "Check `istioctl ztunnel-config workloads` and the istio-cni node agent's logs on the pod's node; restart the pod after fixing the CNI.",
            ));
        }
    }
    out.observed.enrolled.insert(w.id.clone(), all_hbone);
}

/// Every policy istiod sends to ztunnel that applies to an ambient workload
/// must be held by every ztunnel read: one that is missing is not enforced
/// for the pods on that node.
fn ztunnel_policies(
    ambient: &[&Workload],
    policies: &Policies,
    held: &[(&Target, &BTreeMap<String, String>)],
    out: &mut Outcome,
) {
    let mut applying: BTreeMap<String, (&ObjectRef, usize)> = BTreeMap::new();
    for w in ambient {
        for p in w
            .authorization_policies
            .iter()
            .filter_map(|r| policies.get(r))
            .filter(|p| p.reaches_ztunnel())
        {
            applying
                .entry(format!("{}/{}", p.target.namespace, p.target.name))
                .or_insert((&p.target, 0))
                .1 += 1;
        }
    }
    for (name, (target, workloads)) in applying {
        let missing: Vec<&Target> = held
            .iter()
            .filter(|(_, known)| !known.contains_key(&name))
            .map(|(t, _)| *t)
            .collect();
        let Some(first) = missing.first() else {
            continue;
        };
        let pods: Vec<String> = missing
            .iter()
            .map(|t| format!("{}/{}", t.namespace, t.pod))
            .collect();
        out.findings.push(finding(
            AUTHZ_MISSING,
            target,
            format!(
                "{} applies to {workloads} ambient workload(s), but ztunnel {} does not hold it: connections through {} are not checked against it.",
                target.display(),
                pods.join(", "),
                if pods.len() == 1 { "that ztunnel" } else { "those ztunnels" }
            ),
            vec![Evidence {
                label: Confidence::Verified,
                source: Some(pod_ref(&first.namespace, &first.pod)),
                detail: "policies in ztunnel's /config_dump".into(),
            }],
            "Check `istioctl ztunnel-config policies` and `istioctl proxy-status` for the ztunnel: a ztunnel that lost its connection to istiod keeps stale policy.",
        ));
    }
}

/// Adds what the proxies confirm to the findings about the same workloads:
/// a transport finding whose workload's proxy shows the same mode becomes VERIFIED.
pub fn confirm(
    findings: &mut [Finding],
    model: &MeshModel,
    observed: &Observed,
    categories: &HashMap<&str, &str>,
) {
    let by_target: HashMap<(&str, &str, &str), &Workload> = model
        .workloads
        .iter()
        .map(|w| (w.target.key(), w))
        .collect();
    for f in findings.iter_mut() {
        if categories.get(f.check_id.as_str()) != Some(&"transport") {
            continue;
        }
        if f.resource.kind == "DestinationRule" {
            let key = format!("{}/{}", f.resource.namespace, f.resource.name);
            if let Some(shown) = observed.rules.get(&key) {
                f.confidence = Confidence::Verified;
                f.evidence.push(Evidence {
                    label: Confidence::Verified,
                    source: None,
                    detail: format!(
                        "--deep: the proxies run this rule's TLS setting ({}{})",
                        shown.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
                        if shown.len() > 3 {
                            format!("; and {} more clusters", shown.len() - 3)
                        } else {
                            String::new()
                        }
                    ),
                });
            }
            continue;
        }
        let Some(w) = by_target.get(&f.resource.key()) else {
            continue;
        };
        let Some(ports) = observed.ports.get(&w.id) else {
            continue;
        };
        let agree: Vec<String> = ports
            .iter()
            .filter(|(port, mode)| expected_mode(w, *port).as_str() == *mode)
            .map(|(port, mode)| format!("{port} {mode}"))
            .collect();
        if agree.len() == ports.len() && !agree.is_empty() {
            f.confidence = Confidence::Verified;
            f.evidence.push(Evidence {
                label: Confidence::Verified,
                source: None,
                detail: format!("--deep: the sidecar's inbound listener shows the configured mode on every captured port ({})", agree.join(", ")),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::{Snapshot, Source, Wants};

    fn model(yaml: &str) -> MeshModel {
        let batch =
            kridik_parse::parse_text(yaml, &"t.yaml".into(), &Wants::new(Vec::<String>::new()));
        crate::model::build(&Snapshot::new(Source::Offline, batch, Default::default()))
    }

    fn pod(ns: &str, name: &str, app: &str, image: &str, phase: &str) -> String {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: {app}}}\n  ownerReferences: [{{kind: ReplicaSet, name: {app}-rs}}]\nspec:\n  containers:\n  - name: app\n    image: app\n  - name: istio-proxy\n    image: {image}\nstatus:\n  phase: {phase}\n---\n")
    }

    fn rs(ns: &str, app: &str) -> String {
        format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {app}-rs\n  namespace: {ns}\nspec:\n  template:\n    metadata:\n      labels: {{app: {app}}}\n    spec:\n      containers: [{{name: app, image: app}}]\n---\n")
    }

    #[test]
    fn several_pods_with_one_problem_make_one_finding() {
        let target = ObjectRef {
            kind: "Deployment".into(),
            namespace: "a".into(),
            name: "web".into(),
            ..ObjectRef::default()
        };
        let found: Vec<Finding> = (0..30)
            .map(|i| {
                finding(
                    MTLS_WEAKER,
                    &target,
                    format!("pod web-{i}"),
                    vec![Evidence {
                        label: Confidence::Verified,
                        source: Some(pod_ref("a", &format!("web-{i}"))),
                        detail: "d".into(),
                    }],
                    "fix",
                )
            })
            .chain(std::iter::once(finding(
                AUTHZ_STALE,
                &target,
                "x".into(),
                vec![],
                "fix",
            )))
            .collect();
        let merged = merge_by_fingerprint(found);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].evidence.len(), 10);
        assert!(merged[0].message.starts_with("pod web-0"));
        assert!(merged[0]
            .message
            .ends_with("And 29 more like it (see the evidence)."));
        assert_eq!(merged[1].check_id, AUTHZ_STALE);
    }

    #[test]
    fn one_running_pod_per_workload_all_on_a_path_ztunnels_first_and_a_cap() {
        let proxy = "docker.io/istio/proxyv2:1.27.3";
        let yaml = [
            rs("a", "web"),
            pod("a", "web-1", "web", proxy, "Running"),
            pod("a", "web-2", "web", proxy, "Running"),
            pod("a", "web-3", "web", proxy, "Pending"),
            rs("a", "db"),
            pod("a", "db-1", "db", proxy, "Running"),
            pod("a", "db-2", "db", proxy, "Running"),
            rs("istio-system", "ztunnel"),
            pod(
                "istio-system",
                "ztunnel-1",
                "ztunnel",
                "docker.io/istio/ztunnel:1.27.3",
                "Running",
            ),
        ]
        .concat();
        let m = model(&yaml);
        let names = |s: &Sample| {
            s.targets
                .iter()
                .map(|(t, _)| t.pod.clone())
                .collect::<Vec<_>>()
        };
        let s = sample(&m, &HashSet::new(), &Options::default());
        assert_eq!(names(&s), ["ztunnel-1", "db-1", "web-1"]);
        assert_eq!(s.targets[0].0.kind, ProxyKind::Ztunnel);
        let web = m.workloads.iter().find(|w| w.name == "web-rs").unwrap();
        let on_path = HashSet::from([web.id.as_str()]);
        let s = sample(&m, &on_path, &Options::default());
        assert_eq!(
            names(&s),
            ["ztunnel-1", "db-1", "web-1", "web-2"],
            "every running pod on a path"
        );
        let capped = Options {
            max_pods: 2,
            ..Options::default()
        };
        let s = sample(&m, &on_path, &capped);
        assert_eq!(names(&s), ["ztunnel-1", "db-1"]);
        assert_eq!(s.left_out, 2);
    }
}
