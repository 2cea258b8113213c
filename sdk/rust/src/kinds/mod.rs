//! Kind keys checks declare (`Kind` for the core group, `group/Kind`
//! otherwise) and the shared typed forms of the kinds several checks parse.

pub const SERVICE: &str = "Service";
pub const CONFIG_MAP: &str = "ConfigMap";
pub const NAMESPACE: &str = "Namespace";
pub const DEPLOYMENT: &str = "apps/Deployment";
pub const PEER_AUTHENTICATION: &str = "security.istio.io/PeerAuthentication";
pub const AUTHORIZATION_POLICY: &str = "security.istio.io/AuthorizationPolicy";
pub const REQUEST_AUTHENTICATION: &str = "security.istio.io/RequestAuthentication";
pub const DESTINATION_RULE: &str = "networking.istio.io/DestinationRule";
pub const SERVICE_ENTRY: &str = "networking.istio.io/ServiceEntry";
pub const GATEWAY: &str = "networking.istio.io/Gateway";
pub const SIDECAR: &str = "networking.istio.io/Sidecar";
pub const VIRTUAL_SERVICE: &str = "networking.istio.io/VirtualService";
pub const K8S_GATEWAY: &str = "gateway.networking.k8s.io/Gateway";
pub const NETWORK_POLICY: &str = "networking.k8s.io/NetworkPolicy";
pub const ROLE: &str = "rbac.authorization.k8s.io/Role";
pub const CLUSTER_ROLE: &str = "rbac.authorization.k8s.io/ClusterRole";
pub const ROLE_BINDING: &str = "rbac.authorization.k8s.io/RoleBinding";
pub const CLUSTER_ROLE_BINDING: &str = "rbac.authorization.k8s.io/ClusterRoleBinding";

mod authorization_policy;
pub use authorization_policy::*;
