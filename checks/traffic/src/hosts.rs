//! Service hosts as Istio resolves them: short names are relative to the
//! namespace of the resource that names them.

use kridik_sdk::prelude::*;
use std::collections::{BTreeSet, HashMap};

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
pub fn in_mesh(ctx: &Ctx) -> MeshHosts {
    MeshHosts::new(
        ctx.workloads()
            .iter()
            .filter(|w| w.enrolled())
            .flat_map(|w| &w.services)
            .map(|s| format!("{}.{}.{DOMAIN}", s.name, s.namespace))
            .collect(),
    )
}

/// Host names indexed by their domain suffixes, so that finding what a
/// (wildcard) host covers costs what it returns: a walk over every Service
/// per DestinationRule made two checks quadratic in the mesh.
pub struct MeshHosts {
    sorted: BTreeSet<String>,
    /// `.ns.svc.cluster.local` -> the hosts under it, in order.
    by_suffix: HashMap<String, Vec<String>>,
}

impl MeshHosts {
    pub fn new(sorted: BTreeSet<String>) -> Self {
        let mut by_suffix: HashMap<String, Vec<String>> = HashMap::new();
        for host in &sorted {
            for (i, _) in host.match_indices('.') {
                by_suffix
                    .entry(host[i..].to_string())
                    .or_default()
                    .push(host.clone());
            }
        }
        MeshHosts { sorted, by_suffix }
    }

    /// The hosts a (possibly wildcard) pattern covers, as [`covers`] decides, in order.
    pub fn covered_by(&self, pattern: &str) -> Vec<String> {
        match pattern.strip_prefix('*') {
            None => self.sorted.get(pattern).cloned().into_iter().collect(),
            Some("") => self.sorted.iter().cloned().collect(),
            Some(suffix) if suffix.starts_with('.') => {
                self.by_suffix.get(suffix).cloned().unwrap_or_default()
            }
            // `*foo.com` (no dot) is rare: a plain walk.
            Some(_) => self
                .sorted
                .iter()
                .filter(|h| covers(pattern, h))
                .cloned()
                .collect(),
        }
    }
}

/// Is the host one of the cluster's own service names (in the snapshot or not)?
pub fn cluster_local(fqdn: &str) -> bool {
    fqdn.ends_with(".cluster.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_answers_as_covers_does() {
        let hosts: BTreeSet<String> = [
            "a.prod.svc.cluster.local",
            "b.prod.svc.cluster.local",
            "a.dev.svc.cluster.local",
            "xfoo.com",
            "foo.com",
        ]
        .map(String::from)
        .into();
        let index = MeshHosts::new(hosts.clone());
        for pattern in [
            "*",
            "*.prod.svc.cluster.local",
            "*.svc.cluster.local",
            "*.cluster.local",
            "*foo.com",
            "*.foo.com",
            "a.prod.svc.cluster.local",
            "c.prod.svc.cluster.local",
        ] {
            let walked: Vec<String> = hosts
                .iter()
                .filter(|h| covers(pattern, h))
                .cloned()
                .collect();
            assert_eq!(index.covered_by(pattern), walked, "{pattern}");
        }
    }

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
