//! Release hygiene: Istio versions that no longer get security fixes.

use kridik_sdk::prelude::*;

/// Istio's own proxies (gateways) and istiod: not application workloads.
pub fn is_proxy_workload(w: &Workload) -> bool {
    crate::istio::is_istiod(w)
        || w.containers.iter().any(|c| {
            !c.init
                && c.name == "istio-proxy"
                && w.containers.iter().filter(|c| !c.init).count() == 1
        })
}

/// The oldest Istio minor release still receiving security patches, from
/// istio.io's supported-releases table when this kridik was built (Nov 2026).
/// Older releases are certainly out of support; update with each kridik release.
pub const OLDEST_SUPPORTED: (u32, u32) = (1, 29);

/// Istio images whose tag carries the release (the image name after the last `/`).
const ISTIO_IMAGES: &[&str] = &["proxyv2", "pilot", "ztunnel", "install-cni"];

/// `(major, minor, full tag)` of an Istio image. Split at the last `/` and the
/// tag's `:` rather than searched for each image name: this runs for every
/// container of every workload.
pub fn istio_version(image: &str) -> Option<(u32, u32, &str)> {
    let (_, last) = image.rsplit_once('/')?;
    let (name, tag) = last.split_once(':')?;
    if !ISTIO_IMAGES.contains(&name) {
        return None;
    }
    let mut parts = tag.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor, tag))
}

pub fn version_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-HYG-002",
        "Istio release out of support",
        Severity::Low,
        "hygiene",
        &[],
    )
    .description(
        "Istio patches security vulnerabilities only in supported minor releases. A \
         control plane, gateway or sidecar image older than the oldest supported minor \
         (kridik's release table) no longer receives fixes for published advisories. Low \
         and INFERRED: the version is read from image tags.",
    )
}

pub fn run_version(ctx: &Ctx) -> CheckResult {
    let mut findings = Vec::new();
    for w in ctx.workloads() {
        let old = w.containers.iter().find_map(|c| {
            let (major, minor, tag) = istio_version(&c.image)?;
            ((major, minor) < OLDEST_SUPPORTED).then_some((&c.name, tag))
        });
        let Some((container, tag)) = old else {
            continue;
        };
        findings.push(
            ctx.finding(Severity::Low, &w.target, "Istio release out of support")
                .confidence(Confidence::Inferred)
                .message(format!(
                    "{} runs Istio {tag} (container {container}); releases before {}.{} no longer \
                     receive security patches.",
                    w.id, OLDEST_SUPPORTED.0, OLDEST_SUPPORTED.1
                ))
                .evidence(Confidence::Inferred, Some(&w.target), &format!("image tag {tag}"))
                .remediation(
                    "Upgrade the control plane, then restart workloads to pick up the new proxy.",
                    Some(format!(
                        "# istioctl upgrade --set tag=<latest {}.{}.x patch>, or a canary revision:\n# istioctl install --set revision=<new> && kubectl label namespace {} istio.io/rev=<new> --overwrite\n",
                        OLDEST_SUPPORTED.0,
                        OLDEST_SUPPORTED.1 + 2,
                        w.namespace
                    )),
                )
                .reference("https://istio.io/latest/docs/releases/supported-releases/"),
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_istio_image_tags() {
        assert_eq!(
            istio_version("docker.io/istio/proxyv2:1.20.3").map(|v| (v.0, v.1)),
            Some((1, 20))
        );
        assert_eq!(
            istio_version("gcr.io/istio-release/pilot:1.30.1-distroless").map(|v| (v.0, v.1)),
            Some((1, 30))
        );
        assert_eq!(istio_version("nginx:1.20"), None);
        assert_eq!(istio_version("proxyv2:1.20.3"), None);
        assert_eq!(istio_version("docker.io/istio/proxyv2@sha256:0f3e"), None);
        assert_eq!(istio_version("docker.io/istio/myproxyv2:1.20.3"), None);
        assert_eq!(
            istio_version("registry:5000/istio/ztunnel:1.24.2@sha256:0f3e"),
            Some((1, 24, "1.24.2@sha256:0f3e"))
        );
    }
}
