//! Service hosts as Istio resolves them: short names are relative to the
//! namespace of the resource that names them.

use kridik_sdk::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

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
/// whose servers expect Istio mutual TLS. Built once per component instance:
/// the model does not change during a scan, and several checks ask.
pub fn in_mesh(ctx: &Ctx) -> &'static MeshHosts {
    static HOSTS: std::sync::OnceLock<MeshHosts> = std::sync::OnceLock::new();
    HOSTS.get_or_init(|| {
        MeshHosts::new(
            ctx.workloads()
                .iter()
                .filter(|w| w.enrolled())
                .flat_map(|w| &w.services)
                .map(|s| format!("{}.{}.{DOMAIN}", s.name, s.namespace))
                .collect(),
        )
    })
}

/// Host names keyed by their labels in reverse (`local.cluster.svc.ns.name`),
/// so the hosts under a domain are one range of keys: finding what a
/// (wildcard) host covers costs what it returns. A walk over every Service
/// per DestinationRule made two checks quadratic in the mesh; an index of
/// every suffix cost four copies of every host.
pub struct MeshHosts {
    sorted: BTreeSet<String>,
    reversed: BTreeMap<String, usize>,
    /// `sorted` in order, for the answers.
    hosts: Vec<String>,
}

fn reverse_labels(host: &str) -> String {
    let mut out = String::with_capacity(host.len() + 1);
    for (i, label) in host.rsplit('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(label);
    }
    out
}

impl MeshHosts {
    pub fn new(sorted: BTreeSet<String>) -> Self {
        let hosts: Vec<String> = sorted.iter().cloned().collect();
        let reversed = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (reverse_labels(h), i))
            .collect();
        MeshHosts {
            sorted,
            reversed,
            hosts,
        }
    }

    /// The hosts a (possibly wildcard) pattern covers, as [`covers`] decides, in order.
    pub fn covered_by(&self, pattern: &str) -> Vec<String> {
        match pattern.strip_prefix('*') {
            None => self.sorted.get(pattern).cloned().into_iter().collect(),
            Some("") => self.hosts.clone(),
            // `*.ns.svc.cluster.local`: the keys under `local.cluster.svc.ns.`.
            Some(suffix) if suffix.starts_with('.') => {
                let under = reverse_labels(&suffix[1..]) + ".";
                let mut at: Vec<usize> = self
                    .reversed
                    .range(under.clone()..)
                    .take_while(|(k, _)| k.starts_with(&under))
                    .map(|(_, &i)| i)
                    .collect();
                at.sort_unstable();
                at.into_iter().map(|i| self.hosts[i].clone()).collect()
            }
            // `*foo.com` (no dot) is rare: a plain walk.
            Some(_) => self
                .hosts
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
            "prod.svc.cluster.local",
            "a.b.prod.svc.cluster.local",
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
            "*.local",
            "*.b.prod.svc.cluster.local",
            "*.rod.svc.cluster.local",
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
