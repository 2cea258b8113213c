//! TLS strength where Istio terminates or originates TLS: Istio Gateway servers,
//! Sidecar ingress listeners, Gateway API listeners and the mesh-wide defaults.

use kridik_sdk::kinds::{GATEWAY, K8S_GATEWAY, SIDECAR};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-TLS-001",
        "TLS below 1.2 or weak cipher suites",
        Severity::High,
        "transport",
        &[GATEWAY, SIDECAR, K8S_GATEWAY],
    )
    .description(
        "`minProtocolVersion` or `maxProtocolVersion` of TLSV1_0/TLSV1_1 on an Istio Gateway \
         server or a Sidecar `ingress[].tls`, and meshConfig `meshMTLS` or `tlsDefaults` \
         below TLSV1_2, let clients negotiate protocol versions with known attacks (high). \
         `cipherSuites` (or a Gateway API listener's `gateway.istio.io/tls-cipher-suites` \
         option, pilot/pkg/config/kube/gateway/conversion.go) that admit RC4, 3DES, NULL, \
         EXPORT or MD5 suites are high; CBC suites with SHA-1 or suites without forward \
         secrecy (not ECDHE, not TLS 1.3) are medium. Envoy's own defaults (TLS 1.2 and \
         up, strong suites) are safe: only explicit settings are reported.",
    )
}

const OLD_VERSIONS: &[&str] = &["TLSV1_0", "TLSV1_1"];

/// How weak a cipher suite is, if it is: (high, why).
fn weak_cipher(name: &str) -> Option<(bool, &'static str)> {
    let n = name.trim().to_ascii_uppercase();
    if n.is_empty() || n.starts_with("TLS_AES") || n.starts_with("TLS_CHACHA20") {
        return None; // TLS 1.3 suites
    }
    if ["RC4", "3DES", "DES-CBC", "NULL", "EXPORT", "MD5", "ANON"]
        .iter()
        .any(|w| n.contains(w))
    {
        return Some((true, "broken cipher"));
    }
    if !n.starts_with("ECDHE") && !n.starts_with("DHE") {
        return Some((false, "no forward secrecy"));
    }
    if n.ends_with("-SHA") {
        return Some((false, "CBC with SHA-1"));
    }
    None
}

/// Problems of one TLS settings block (`minProtocolVersion`, `maxProtocolVersion`, `cipherSuites`).
fn assess(tls: &Value, path: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for key in ["minProtocolVersion", "maxProtocolVersion"] {
        if let Some(v) = tls.get(key).and_then(Value::as_str) {
            if OLD_VERSIONS.contains(&v) {
                out.push((true, format!("{path}.{key} is {v}")));
            }
        }
    }
    let suites: Vec<String> = tls
        .get("cipherSuites")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    out.extend(ciphers(&suites, &format!("{path}.cipherSuites")));
    out
}

fn ciphers(suites: &[String], path: &str) -> Vec<(bool, String)> {
    suites
        .iter()
        .filter_map(|s| weak_cipher(s).map(|(high, why)| (high, format!("{path} has {s} ({why})"))))
        .collect()
}

fn report(
    ctx: &Ctx,
    target: &ObjectRef,
    problems: &[(bool, String)],
    fix: String,
) -> Option<kridik_sdk::Finding> {
    if problems.is_empty() {
        return None;
    }
    let high = problems.iter().any(|(h, _)| *h);
    let mut f = ctx
        .finding(
            if high { Severity::High } else { Severity::Medium },
            target,
            "TLS below 1.2 or weak cipher suites",
        )
        .confidence(ctx.observed())
        .message(format!(
            "{} allows weak TLS: {}.",
            target.display(),
            problems.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>().join("; ")
        ))
        .remediation(
            "Require TLS 1.2 or newer and drop the weak suites (or remove cipherSuites to use Envoy's strong defaults).",
            Some(fix),
        )
        .reference("https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings");
    for (_, p) in problems {
        f = f.evidence(ctx.observed(), Some(target), p);
    }
    Some(f)
}

const STRONG: &str = "minProtocolVersion: TLSV1_2\n      # cipherSuites omitted: Envoy's defaults are ECDHE with AES-GCM or ChaCha20\n";

pub fn run(ctx: &Ctx) -> CheckResult {
    let mut findings = Vec::new();
    let mut unknown = Vec::new();
    for (kind, servers) in [(GATEWAY, "/spec/servers"), (SIDECAR, "/spec/ingress")] {
        let objects = match ctx.parsed::<Value>(kind, "TLS settings") {
            Ok(o) => o,
            Err(u) => {
                unknown.push(*u);
                continue;
            }
        };
        let field = servers.rsplit('/').next().unwrap_or_default();
        for (o, v) in &objects {
            let mut problems = Vec::new();
            for (i, s) in v
                .pointer(servers)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                // Passthrough servers do not terminate TLS: the backend decides.
                let mode = s
                    .pointer("/tls/mode")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if matches!(mode, "PASSTHROUGH" | "AUTO_PASSTHROUGH") {
                    continue;
                }
                if let Some(tls) = s.get("tls") {
                    problems.extend(assess(tls, &format!("spec.{field}[{i}].tls")));
                }
            }
            let (api, k) = (o.target.api_version.as_str(), o.target.kind.as_str());
            let fix = yaml::header(api, k, &o.target.namespace, &o.target.name)
                + &format!("spec:\n  {field}:\n  - # each server keeps its port and hosts\n    tls:\n      {STRONG}");
            findings.extend(report(ctx, &o.target, &problems, fix));
        }
    }
    match ctx.parsed::<Value>(K8S_GATEWAY, "TLS settings") {
        Ok(gateways) => {
            for (o, v) in &gateways {
                let mut problems = Vec::new();
                for (i, l) in v
                    .pointer("/spec/listeners")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(list) = l
                        .pointer("/tls/options/gateway.istio.io~1tls-cipher-suites")
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    let suites: Vec<String> =
                        list.split(',').map(|s| s.trim().to_string()).collect();
                    problems.extend(ciphers(
                        &suites,
                        &format!(
                            "spec.listeners[{i}].tls.options[gateway.istio.io/tls-cipher-suites]"
                        ),
                    ));
                }
                let fix = yaml::header("gateway.networking.k8s.io/v1", "Gateway", &o.target.namespace, &o.target.name)
                    + "spec:\n  listeners:\n  - # each listener keeps its name, port and certificateRefs\n    tls:\n      options: {}  # no gateway.istio.io/tls-cipher-suites: Envoy's strong defaults\n";
                findings.extend(report(ctx, &o.target, &problems, fix));
            }
        }
        Err(u) => unknown.push(*u),
    }
    let mesh = ctx.mesh_config();
    let config: Value = serde_json::from_str(&mesh.json).unwrap_or_default();
    let mut problems = Vec::new();
    for key in ["meshMTLS", "tlsDefaults"] {
        if let Some(tls) = config.get(key) {
            problems.extend(assess(tls, &format!("meshConfig.{key}")));
        }
    }
    if let Some(source) = mesh.source.as_ref() {
        let fix = format!(
            "# meshConfig (ConfigMap {}/{}, key mesh)\nmeshMTLS:\n  minProtocolVersion: TLSV1_2\ntlsDefaults:\n  minProtocolVersion: TLSV1_2\n",
            source.namespace, source.name
        );
        findings.extend(report(ctx, source, &problems, fix));
    }
    findings.extend(unknown);
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphers_are_graded() {
        assert_eq!(weak_cipher("ECDHE-RSA-AES128-GCM-SHA256"), None);
        assert_eq!(weak_cipher("TLS_AES_128_GCM_SHA256"), None);
        assert_eq!(weak_cipher("DES-CBC3-SHA"), Some((true, "broken cipher")));
        assert_eq!(
            weak_cipher("AES128-GCM-SHA256"),
            Some((false, "no forward secrecy"))
        );
        assert_eq!(
            weak_cipher("ECDHE-RSA-AES128-SHA"),
            Some((false, "CBC with SHA-1"))
        );
    }
}
