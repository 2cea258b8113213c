//! Kind keys: `Kind` for the core group, `group/Kind` otherwise. One spelling
//! everywhere (WIT, check-info, snapshot) so a Gateway API Gateway is never
//! confused with an Istio Gateway.

/// The key of a kind given an object's `apiVersion` and `kind`.
pub fn key(api_version: &str, kind: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _version)) => format!("{group}/{kind}"),
        None => kind.to_string(),
    }
}

/// The API group of a key (empty for core).
pub fn group(key: &str) -> &str {
    key.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// The kind name of a key.
pub fn kind(key: &str) -> &str {
    key.rsplit_once('/').map(|(_, k)| k).unwrap_or(key)
}

pub const NAMESPACE: &str = "Namespace";
pub const POD: &str = "Pod";
pub const SERVICE: &str = "Service";
pub const CONFIG_MAP: &str = "ConfigMap";
pub const SECRET: &str = "Secret";
pub const DEPLOYMENT: &str = "apps/Deployment";
pub const STATEFUL_SET: &str = "apps/StatefulSet";
pub const DAEMON_SET: &str = "apps/DaemonSet";
pub const REPLICA_SET: &str = "apps/ReplicaSet";
pub const JOB: &str = "batch/Job";
pub const CRON_JOB: &str = "batch/CronJob";
pub const PEER_AUTHENTICATION: &str = "security.istio.io/PeerAuthentication";
pub const AUTHORIZATION_POLICY: &str = "security.istio.io/AuthorizationPolicy";
pub const REQUEST_AUTHENTICATION: &str = "security.istio.io/RequestAuthentication";
pub const SIDECAR: &str = "networking.istio.io/Sidecar";
pub const DESTINATION_RULE: &str = "networking.istio.io/DestinationRule";
pub const ISTIO_OPERATOR: &str = "install.istio.io/IstioOperator";
pub const K8S_GATEWAY: &str = "gateway.networking.k8s.io/Gateway";
pub const GATEWAY: &str = "networking.istio.io/Gateway";
pub const SERVICE_ENTRY: &str = "networking.istio.io/ServiceEntry";
pub const VIRTUAL_SERVICE: &str = "networking.istio.io/VirtualService";
pub const HTTP_ROUTE: &str = "gateway.networking.k8s.io/HTTPRoute";
pub const GRPC_ROUTE: &str = "gateway.networking.k8s.io/GRPCRoute";
pub const TLS_ROUTE: &str = "gateway.networking.k8s.io/TLSRoute";
pub const TCP_ROUTE: &str = "gateway.networking.k8s.io/TCPRoute";
pub const MUTATING_WEBHOOK: &str = "admissionregistration.k8s.io/MutatingWebhookConfiguration";

/// Kinds that carry a pod template (or are pods): the workload kinds.
pub const WORKLOAD_KINDS: &[&str] = &[
    POD,
    DEPLOYMENT,
    STATEFUL_SET,
    DAEMON_SET,
    REPLICA_SET,
    JOB,
    CRON_JOB,
];

/// Kinds the mesh model reads, whatever the checks declare.
pub const MODEL_KINDS: &[&str] = &[
    NAMESPACE,
    POD,
    SERVICE,
    CONFIG_MAP,
    DEPLOYMENT,
    STATEFUL_SET,
    DAEMON_SET,
    REPLICA_SET,
    JOB,
    CRON_JOB,
    PEER_AUTHENTICATION,
    AUTHORIZATION_POLICY,
    REQUEST_AUTHENTICATION,
    SIDECAR,
    ISTIO_OPERATOR,
    K8S_GATEWAY,
    GATEWAY,
    SERVICE_ENTRY,
    VIRTUAL_SERVICE,
    HTTP_ROUTE,
    GRPC_ROUTE,
    TLS_ROUTE,
    TCP_ROUTE,
    MUTATING_WEBHOOK,
];

/// Kinds kridik never reads, whatever a check declares: their data is secret.
pub const NEVER_READ: &[&str] = &[SECRET];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_groups_apart() {
        assert_eq!(key("v1", "Pod"), "Pod");
        assert_eq!(
            key("networking.istio.io/v1", "Gateway"),
            "networking.istio.io/Gateway"
        );
        assert_eq!(key("gateway.networking.k8s.io/v1", "Gateway"), K8S_GATEWAY);
        assert_eq!(group(K8S_GATEWAY), "gateway.networking.k8s.io");
        assert_eq!(kind(K8S_GATEWAY), "Gateway");
        assert_eq!(group("Pod"), "");
    }
}
