//! Service hosts as Istio resolves them: short names are relative to the
//! namespace of the resource that names them.

use kridik_sdk::prelude::*;
use std::collections::BTreeSet;

const DOMAIN: &str = "svc.cluster.local";

/// The fully qualified form of a host written in namespace `ns`, as Istio
/// resolves it: only a name without dots is relative to the namespace; any
/// other name (`db.other`, `db.other.svc`) is taken as written.
pub fn fqdn(host: &str, ns: &str) -> String {
    if host.contains('.') || host.contains(':') || host.starts_with('*') {
        host.to_string()
    } else {
        format!("{host}.{ns}.{DOMAIN}")
    }
}

/// Does a (possibly wildcard) host cover `name`?
pub fn covers(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix),
        None => pattern == name,
    }
}

/// FQDNs of Services that select at least one enrolled workload: the hosts
/// whose servers expect Istio mutual TLS.
pub fn in_mesh(ctx: &Ctx) -> BTreeSet<String> {
    ctx.workloads()
        .iter()
        .filter(|w| w.enrolled())
        .flat_map(|w| &w.services)
        .map(|s| format!("{}.{}.{DOMAIN}", s.name, s.namespace))
        .collect()
}

/// Is the host one of the cluster's own service names (in the snapshot or not)?
pub fn cluster_local(fqdn: &str) -> bool {
    fqdn.ends_with(".cluster.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_in_the_namespace() {
        assert_eq!(fqdn("db", "prod"), "db.prod.svc.cluster.local");
        assert_eq!(
            fqdn("db.other", "prod"),
            "db.other",
            "dotted names are not expanded"
        );
        assert_eq!(fqdn("db.other.svc", "prod"), "db.other.svc");
        assert_eq!(fqdn("*", "prod"), "*");
        assert_eq!(fqdn("api.example.com", "prod"), "api.example.com");
        assert!(covers(
            "*.prod.svc.cluster.local",
            "db.prod.svc.cluster.local"
        ));
        assert!(covers("*", "db.prod.svc.cluster.local"));
        assert!(!covers(
            "db.prod.svc.cluster.local",
            "web.prod.svc.cluster.local"
        ));
    }
}
