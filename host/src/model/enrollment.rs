//! Data-plane enrollment: sidecar, ambient or none, and how sure we are.

use crate::gather::Object;
use crate::vocab::Confidence;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dataplane {
    None,
    Sidecar,
    Ambient,
}

#[derive(Clone, Debug, Serialize)]
pub struct Enrollment {
    pub dataplane: Dataplane,
    pub confidence: Confidence,
    pub reason: String,
}

impl Enrollment {
    fn new(dataplane: Dataplane, confidence: Confidence, reason: impl Into<String>) -> Self {
        Enrollment {
            dataplane,
            confidence,
            reason: reason.into(),
        }
    }
}

/// What a namespace asks for new pods, from its labels.
pub fn namespace(labels: &BTreeMap<String, String>, live: bool, injector: &Injector) -> Enrollment {
    let seen = if live {
        Confidence::Verified
    } else {
        Confidence::Inferred
    };
    let get = |k: &str| labels.get(k).map(String::as_str);
    // An injection label wins: its pods get sidecars, which ztunnel leaves
    // alone (istioctl's `NamespaceInAmbientMode`,
    // pkg/config/analysis/analyzers/util/in_mesh.go).
    let injects = get("istio-injection") == Some("enabled")
        || get("istio.io/rev").is_some_and(|r| !r.is_empty());
    if get("istio.io/dataplane-mode") == Some("ambient") && !injects {
        return Enrollment::new(
            Dataplane::Ambient,
            Confidence::Inferred,
            "namespace label istio.io/dataplane-mode=ambient",
        );
    }
    let refused = |why: &str, rev: Option<&str>| {
        injector
            .served
            .as_ref()
            .and_then(|s| s.refuses(why, rev))
            .map(|r| Enrollment::new(Dataplane::None, Confidence::Inferred, r))
    };
    match (get("istio-injection"), get("istio.io/rev")) {
        (Some("enabled"), _) => refused("namespace label istio-injection=enabled", None)
            .unwrap_or_else(|| {
                Enrollment::new(
                    Dataplane::Sidecar,
                    Confidence::Inferred,
                    "namespace label istio-injection=enabled",
                )
            }),
        (Some("disabled"), _) => Enrollment::new(
            Dataplane::None,
            seen,
            "namespace label istio-injection=disabled",
        ),
        (_, Some(rev)) => {
            let why = format!("namespace label istio.io/rev={rev}");
            refused(&why, Some(rev))
                .unwrap_or_else(|| Enrollment::new(Dataplane::Sidecar, Confidence::Inferred, why))
        }
        _ => Enrollment::new(
            Dataplane::None,
            seen,
            "namespace has no injection or ambient label",
        ),
    }
}

/// Namespaces the injector never touches (`pkg/kube/inject/initializer.go` IgnoredNamespaces).
pub const IGNORED_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// The injector's own settings: ConfigMap `istio-sidecar-injector`, key `config`
/// (`policy`, `neverInjectSelector`, `alwaysInjectSelector`), and the install
/// value `sidecarInjectorWebhook.enableNamespacesByDefault`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Injector {
    /// `policy: disabled` injects only pods that ask for it.
    pub policy_disabled: bool,
    pub never: Vec<BTreeMap<String, String>>,
    pub always: Vec<BTreeMap<String, String>>,
    pub namespaces_by_default: bool,
    /// What the injector webhooks in the snapshot select; None when the
    /// snapshot holds none (then every label is taken as served).
    pub served: Option<Served>,
}

/// The labels Istio's sidecar-injector webhooks select
/// (manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml,
/// and the revision tags' `istio-revision-tag-*`): `istio.io/rev In [...]`
/// and the default revision's `istio-injection In [enabled]`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Served {
    pub revisions: std::collections::BTreeSet<String>,
    pub injection_label: bool,
}

impl Served {
    /// Why a label the namespace or pod carries reaches no webhook, if it does not.
    fn refuses(&self, why: &str, rev: Option<&str>) -> Option<String> {
        let known = || {
            if self.revisions.is_empty() {
                "none".to_string()
            } else {
                self.revisions
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        match rev {
            Some(rev) if !self.revisions.contains(rev) => Some(format!(
                "{why}, but no injector webhook serves revision {rev} (revisions and tags served: {}), so pods get no sidecar",
                known()
            )),
            None if !self.injection_label => Some(format!(
                "{why}, but no injector webhook selects it (only revision labels are served: {}), so pods get no sidecar",
                known()
            )),
            _ => None,
        }
    }
}

/// Everything injection and ztunnel capture depend on for one pod template.
pub struct Pod<'a> {
    pub namespace: &'a str,
    pub ns_labels: Option<&'a BTreeMap<String, String>>,
    pub ns: &'a Enrollment,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    pub host_network: bool,
    pub injector: &'a Injector,
}

/// What a pod template will get. Sidecar injection first, as the webhooks and
/// `injectRequired` (`pkg/kube/inject/inject.go`) decide it; a pod that gets no
/// sidecar is captured by ztunnel when its namespace or its own label asks for
/// ambient, unless it opts out with `istio.io/dataplane-mode: none`.
pub fn template(pod: &Pod) -> Enrollment {
    if pod.host_network {
        return Enrollment::new(
            Dataplane::None,
            Confidence::Inferred,
            "hostNetwork: true: Istio never injects such pods and ztunnel cannot capture them",
        );
    }
    if IGNORED_NAMESPACES.contains(&pod.namespace) {
        return Enrollment::new(
            Dataplane::None,
            Confidence::Inferred,
            format!("the injector never injects pods in {}", pod.namespace),
        );
    }
    match injection(pod) {
        Ok(reason) => Enrollment::new(Dataplane::Sidecar, Confidence::Inferred, reason),
        Err(no_sidecar) => {
            let mode = pod
                .labels
                .get("istio.io/dataplane-mode")
                .map(String::as_str);
            if mode == Some("none") {
                return Enrollment::new(
                    Dataplane::None,
                    Confidence::Inferred,
                    "pod label istio.io/dataplane-mode=none opts out of ambient",
                );
            }
            if mode == Some("ambient") {
                return Enrollment::new(
                    Dataplane::Ambient,
                    Confidence::Inferred,
                    "pod label istio.io/dataplane-mode=ambient",
                );
            }
            if pod.ns.dataplane == Dataplane::Ambient {
                return Enrollment {
                    confidence: Confidence::Inferred,
                    ..pod.ns.clone()
                };
            }
            Enrollment::new(Dataplane::None, Confidence::Inferred, no_sidecar)
        }
    }
}

/// Ok(why) when the sidecar is injected, Err(why not) otherwise.
fn injection(pod: &Pod) -> Result<String, String> {
    let empty = BTreeMap::new();
    let ns = pod.ns_labels.unwrap_or(&empty);
    let ns_inject = ns.get("istio-injection").map(String::as_str);
    let ns_rev = ns.get("istio.io/rev");
    let label = pod
        .labels
        .get("sidecar.istio.io/inject")
        .map(String::as_str);
    // The webhooks' selectors (mutatingwebhook.yaml) look only at the label:
    // why one would inject, and the revision it asks for.
    let webhook: Option<(String, Option<&str>)> = match (ns_inject, ns_rev) {
        (Some("enabled"), _) => (label != Some("false"))
            .then(|| ("namespace label istio-injection=enabled".to_string(), None)),
        (Some(_), _) => None,
        (None, Some(rev)) => (label != Some("false")).then(|| {
            (
                format!("namespace label istio.io/rev={rev}"),
                Some(rev.as_str()),
            )
        }),
        (None, None) => match (label, pod.labels.get("istio.io/rev")) {
            (Some("true"), None) => Some(("pod label sidecar.istio.io/inject=true".into(), None)),
            (l, Some(rev)) if l != Some("false") => {
                Some((format!("pod label istio.io/rev={rev}"), Some(rev.as_str())))
            }
            (None, None) if pod.injector.namespaces_by_default => {
                Some(("the injector's enableNamespacesByDefault".into(), None))
            }
            _ => None,
        },
    };
    // The label must reach a webhook that exists: a revision label naming a
    // removed revision, or istio-injection=enabled in a revision-only
    // install, injects nothing.
    if let (Some((why, rev)), Some(served)) = (&webhook, &pod.injector.served) {
        if let Some(refused) = served.refuses(why, *rev) {
            return Err(refused);
        }
    }
    let webhook = webhook.map(|(why, _)| why);
    let Some(why) = webhook else {
        return Err(match (ns_inject, label) {
            (Some("disabled"), _) => "namespace label istio-injection=disabled".into(),
            (_, Some("false")) => "pod label sidecar.istio.io/inject=false".into(),
            _ if pod
                .annotations
                .get("sidecar.istio.io/inject")
                .map(String::as_str)
                == Some("true") =>
            {
                "only the annotation sidecar.istio.io/inject=true asks for a sidecar, and the \
                 injector webhook selects pods by the label"
                    .into()
            }
            _ => pod.ns.reason.clone(),
        });
    };
    // injectRequired: the label beats the annotation; only "true"/"false" count.
    let explicit = label
        .or_else(|| {
            pod.annotations
                .get("sidecar.istio.io/inject")
                .map(String::as_str)
        })
        .and_then(|v| match v {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        });
    let matches_any = |sels: &[BTreeMap<String, String>]| {
        sels.iter()
            .any(|s| !s.is_empty() && super::selector::matches(s, pod.labels))
    };
    let (inject, how) = match explicit {
        Some(v) => (Some(v), "sidecar.istio.io/inject"),
        None if matches_any(&pod.injector.never) => {
            (Some(false), "the injector's neverInjectSelector")
        }
        None if matches_any(&pod.injector.always) => {
            (Some(true), "the injector's alwaysInjectSelector")
        }
        None => (None, "the injector policy"),
    };
    match (inject, pod.injector.policy_disabled) {
        (Some(true), _) => Ok(format!("{why}; {how} asks for injection")),
        (Some(false), _) => Err(format!("{how} turns injection off despite {why}")),
        (None, false) => Ok(why),
        (None, true) => Err(format!(
            "the injector's policy is disabled, so {why} injects only pods that ask for it"
        )),
    }
}

/// Container ports whose inbound traffic the data plane does not capture, with
/// why: such a port gets neither mTLS nor AuthorizationPolicy. Sidecar:
/// `traffic.sidecar.istio.io/includeInboundPorts` (default `*`, empty = none),
/// `excludeInboundPorts`, `sidecar.istio.io/interceptionMode: NONE`
/// (`tools/istio-iptables`); ambient: `ambient.istio.io/bypass-inbound-capture`.
pub fn uncaptured_ports(
    dataplane: Dataplane,
    annotations: &BTreeMap<String, String>,
    ports: &[u32],
) -> Vec<(u32, String)> {
    let get = |k: &str| annotations.get(k).map(String::as_str);
    let list =
        |v: &str| -> Vec<u32> { v.split(',').filter_map(|p| p.trim().parse().ok()).collect() };
    let all = |why: &str| ports.iter().map(|&p| (p, why.to_string())).collect();
    match dataplane {
        Dataplane::None => Vec::new(),
        Dataplane::Ambient => {
            if get("ambient.istio.io/bypass-inbound-capture") == Some("true") {
                all("annotation ambient.istio.io/bypass-inbound-capture=true")
            } else {
                Vec::new()
            }
        }
        Dataplane::Sidecar => {
            if get("sidecar.istio.io/interceptionMode") == Some("NONE") {
                return all("annotation sidecar.istio.io/interceptionMode=NONE");
            }
            let excluded = get("traffic.sidecar.istio.io/excludeInboundPorts")
                .map(list)
                .unwrap_or_default();
            let included = get("traffic.sidecar.istio.io/includeInboundPorts")
                .map(str::trim)
                .filter(|v| *v != "*");
            ports
                .iter()
                .filter_map(|&p| {
                    if excluded.contains(&p) {
                        Some((
                            p,
                            "annotation traffic.sidecar.istio.io/excludeInboundPorts".into(),
                        ))
                    } else if included.is_some_and(|v| !list(v).contains(&p)) {
                        Some((
                            p,
                            "annotation traffic.sidecar.istio.io/includeInboundPorts leaves it out"
                                .into(),
                        ))
                    } else {
                        None
                    }
                })
                .collect()
        }
    }
}

/// What an observed pod actually has. A pod carrying the proxy is enrolled for
/// sure; a pod without it is not, whatever the labels asked for.
/// What a pod's body says about its data plane, read once when the pod is
/// attached to its workload (the body itself is not kept).
pub struct PodFacts {
    /// An `istio-proxy` container, or a native-sidecar init container.
    pub has_proxy: bool,
    /// The pod has a status phase: it ran (a manifest's pod is only a plan).
    pub observed: bool,
    /// Its phase is `Running`: its proxy's admin can be asked (`--deep`).
    pub running: bool,
}

pub fn pod_facts(body: &Value) -> PodFacts {
    let spec = body.get("spec");
    let has_proxy = |field: &str, native: bool| {
        spec.and_then(|s| s.get(field))
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    // ztunnel's chart names its container istio-proxy too
                    // (manifests/charts/ztunnel): a node proxy, not a sidecar.
                    let ztunnel = c
                        .get("image")
                        .and_then(Value::as_str)
                        .is_some_and(|i| super::image_name(i) == "ztunnel");
                    c.get("name").and_then(Value::as_str) == Some("istio-proxy")
                        && !ztunnel
                        && (!native
                            || c.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
                })
            })
    };
    PodFacts {
        has_proxy: has_proxy("containers", false) || has_proxy("initContainers", true),
        observed: body
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .is_some(),
        running: body.pointer("/status/phase").and_then(Value::as_str) == Some("Running"),
    }
}

pub fn observed_pod(pod: &Object, facts: &PodFacts, intended: &Enrollment) -> Enrollment {
    let observed = facts.observed;
    let label = if observed {
        Confidence::Verified
    } else {
        Confidence::Inferred
    };
    if facts.has_proxy {
        return Enrollment::new(
            Dataplane::Sidecar,
            label,
            format!("pod {} runs an istio-proxy container", pod.name),
        );
    }
    if pod.annotation("ambient.istio.io/redirection") == Some("enabled") {
        return Enrollment::new(
            Dataplane::Ambient,
            label,
            format!("pod {} has ambient redirection enabled", pod.name),
        );
    }
    // istio-cni marks every pod it redirects to ztunnel
    // (`ambient.istio.io/redirection: enabled`, the mark istioctl's
    // `PodInAmbientMode` reads): a running pod without it is not captured,
    // whatever its labels ask (no ztunnel or CNI agent on its node, or
    // ambient not installed at all).
    if facts.running && intended.dataplane == Dataplane::Ambient {
        return Enrollment::new(
            Dataplane::None,
            Confidence::Verified,
            format!(
                "pod {} is running but not redirected to ztunnel (no ambient.istio.io/redirection annotation from istio-cni) although {}",
                pod.name, intended.reason
            ),
        );
    }
    if observed && intended.dataplane == Dataplane::Sidecar {
        return Enrollment::new(
            Dataplane::None,
            Confidence::Verified,
            format!(
                "pod {} has no istio-proxy although {} (restart it to inject)",
                pod.name, intended.reason
            ),
        );
    }
    if observed && intended.dataplane == Dataplane::None {
        return Enrollment::new(
            Dataplane::None,
            Confidence::Verified,
            format!("pod {} has no istio-proxy", pod.name),
        );
    }
    intended.clone()
}
