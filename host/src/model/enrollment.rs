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
pub fn namespace(labels: &BTreeMap<String, String>, live: bool) -> Enrollment {
    let seen = if live {
        Confidence::Verified
    } else {
        Confidence::Inferred
    };
    let get = |k: &str| labels.get(k).map(String::as_str);
    if get("istio.io/dataplane-mode") == Some("ambient") {
        return Enrollment::new(
            Dataplane::Ambient,
            Confidence::Inferred,
            "namespace label istio.io/dataplane-mode=ambient",
        );
    }
    match (get("istio-injection"), get("istio.io/rev")) {
        (Some("enabled"), _) => Enrollment::new(
            Dataplane::Sidecar,
            Confidence::Inferred,
            "namespace label istio-injection=enabled",
        ),
        (Some("disabled"), _) => Enrollment::new(
            Dataplane::None,
            seen,
            "namespace label istio-injection=disabled",
        ),
        (_, Some(rev)) => Enrollment::new(
            Dataplane::Sidecar,
            Confidence::Inferred,
            format!("namespace label istio.io/rev={rev}"),
        ),
        _ => Enrollment::new(
            Dataplane::None,
            seen,
            "namespace has no injection or ambient label",
        ),
    }
}

/// What a pod template (labels and annotations) will get in a namespace.
pub fn template(
    ns: &Enrollment,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Enrollment {
    let inject = labels
        .get("sidecar.istio.io/inject")
        .or_else(|| annotations.get("sidecar.istio.io/inject"));
    match labels.get("istio.io/dataplane-mode").map(String::as_str) {
        Some("none") => {
            return Enrollment::new(
                Dataplane::None,
                Confidence::Inferred,
                "pod label istio.io/dataplane-mode=none",
            )
        }
        Some("ambient") if inject.map(String::as_str) != Some("true") => {
            return Enrollment::new(
                Dataplane::Ambient,
                Confidence::Inferred,
                "pod label istio.io/dataplane-mode=ambient",
            )
        }
        _ => {}
    }
    match inject.map(String::as_str) {
        Some("false") if ns.dataplane == Dataplane::Sidecar => Enrollment::new(
            Dataplane::None,
            Confidence::Inferred,
            format!("sidecar.istio.io/inject=false overrides {}", ns.reason),
        ),
        // The injector's object selector enrols labelled pods unless the namespace opts out.
        Some("true")
            if ns.dataplane != Dataplane::Sidecar
                && ns.reason != "namespace label istio-injection=disabled" =>
        {
            Enrollment::new(
                Dataplane::Sidecar,
                Confidence::Inferred,
                "pod label sidecar.istio.io/inject=true",
            )
        }
        _ => Enrollment {
            confidence: Confidence::Inferred,
            ..ns.clone()
        },
    }
}

/// What an observed pod actually has. A pod carrying the proxy is enrolled for
/// sure; a pod without it is not, whatever the labels asked for.
pub fn observed_pod(pod: &Object, intended: &Enrollment) -> Enrollment {
    let spec = pod.body.get("spec");
    let has_proxy = |field: &str, native: bool| {
        spec.and_then(|s| s.get(field))
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("name").and_then(Value::as_str) == Some("istio-proxy")
                        && (!native
                            || c.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
                })
            })
    };
    // A pod read from a manifest (no status) is only a plan; one with a phase was running.
    let observed = pod
        .body
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .is_some();
    let label = if observed {
        Confidence::Verified
    } else {
        Confidence::Inferred
    };
    if has_proxy("containers", false) || has_proxy("initContainers", true) {
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
