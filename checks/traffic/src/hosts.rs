//! Service hosts as Istio resolves them: short names are relative to the
//! namespace of the resource that names them.

use kridik_sdk::prelude::*;
use std::collections::BTreeSet;

const DOMAIN: &str = "svc.cluster.local";

/// The fully qualified form of a host written in namespace `ns`.
pub fn fqdn(host: &str, ns: &str) -> String {
    match host.matches('.').count() {
        _ if host.starts_with('*') => host.to_string(),
        0 => format!("{host}.{ns}.{DOMAIN}"),
        1 => format!("{host}.{DOMAIN}"),
        2 if host.ends_with(".svc") => format!("{host}.cluster.local"),
        _ => host.to_string(),
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
        assert_eq!(fqdn("db.other", "prod"), "db.other.svc.cluster.local");
        assert_eq!(fqdn("db.other.svc", "prod"), "db.other.svc.cluster.local");
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
