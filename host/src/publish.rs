//! The scan's results into the cluster it scanned (`scan --write-reports`):
//! PolicyReports (or Open Reports) by server-side apply under the field
//! manager `kridik`, so each run replaces the last run's objects of the same
//! name, then the reports an earlier run left and this run did not write (a
//! namespace clean now, fewer parts) are deleted. Writing needs get, list,
//! create, patch and delete on the report kinds: a separate role from the
//! read-only scan role (`kridik rbac --write-reports`).

use crate::gather::live::{connect, describe, Connection, LiveOptions};
use crate::report::model::Report;
use crate::report::ReportApi;
use anyhow::{anyhow, Context, Result};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use std::collections::BTreeSet;

const MANAGER: &str = "kridik";
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// What a run wrote.
pub struct Written {
    pub context: String,
    pub applied: usize,
    pub deleted: usize,
}

/// Applies the report objects of `report` and deletes stale ones in the
/// namespaces the scan reported on (`in_scope`, `""` for cluster scope): a
/// scan limited with `-n` leaves the other namespaces' reports alone.
pub fn write_reports(
    opts: &LiveOptions,
    report: &Report,
    api: ReportApi,
    in_scope: &dyn Fn(&str) -> bool,
) -> Result<Written> {
    let docs = crate::report::policy_report_documents(report, api);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(write(opts, docs, api, in_scope))
}

fn resource(r: (&str, &str, &str, &str, bool)) -> ApiResource {
    let (group, version, kind, plural, _) = r;
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// One line for a failed request: what, where, and the grant or CRD missing.
fn failure(e: &kube::Error, verb: &str, ar: &ApiResource, context: &str) -> anyhow::Error {
    let what = format!("{} {}", ar.api_version, ar.kind);
    match e {
        kube::Error::Api(s) if s.code == 403 => anyhow!(
            "cannot {verb} {what} in context `{context}`: forbidden ({}); bind the role `kridik rbac --write-reports` prints to the scanning identity",
            describe(e)
        ),
        kube::Error::Api(s) if s.code == 404 => anyhow!(
            "the cluster (context `{context}`) does not serve {what}: install its CRD (Policy Reporter's or Kyverno's), or choose the other API with --write-reports"
        ),
        _ => anyhow!("cannot {verb} {what} in context `{context}`: {}", describe(e)),
    }
}

async fn write(
    opts: &LiveOptions,
    docs: Vec<serde_json::Value>,
    api: ReportApi,
    in_scope: &dyn Fn(&str) -> bool,
) -> Result<Written> {
    let Connection {
        client, context, ..
    } = connect(opts).await?;
    let [namespaced, cluster] = api.resources().map(resource);
    let mut written: BTreeSet<(String, String, String)> = BTreeSet::new();
    for doc in docs {
        let meta = &doc["metadata"];
        let name = meta["name"].as_str().unwrap_or("kridik").to_string();
        let namespace = meta["namespace"].as_str().map(str::to_string);
        let ar = if namespace.is_some() {
            &namespaced
        } else {
            &cluster
        };
        let objects: Api<DynamicObject> = match &namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
            None => Api::all_with(client.clone(), ar),
        };
        objects
            .patch(
                &name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&doc),
            )
            .await
            .map_err(|e| failure(&e, "apply", ar, &context))?;
        written.insert((ar.plural.clone(), namespace.unwrap_or_default(), name));
    }
    let applied = written.len();
    let mut deleted = 0;
    for ar in [&namespaced, &cluster] {
        let all: Api<DynamicObject> = Api::all_with(client.clone(), ar);
        let listed = all
            .list(&ListParams::default().labels(&format!("{MANAGED_BY}={MANAGER}")))
            .await
            .map_err(|e| failure(&e, "list", ar, &context))?;
        for o in listed.items {
            // The label selector is the server's; check it here too, so a
            // server that ignores it never costs another tool's reports.
            let ours = o
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(MANAGED_BY))
                .map(String::as_str)
                == Some(MANAGER);
            let name = o.metadata.name.clone().unwrap_or_default();
            let namespace = o.metadata.namespace.clone().unwrap_or_default();
            if !ours
                || !in_scope(&namespace)
                || written.contains(&(ar.plural.clone(), namespace.clone(), name.clone()))
            {
                continue;
            }
            let objects: Api<DynamicObject> = if namespace.is_empty() {
                Api::all_with(client.clone(), ar)
            } else {
                Api::namespaced_with(client.clone(), &namespace, ar)
            };
            objects
                .delete(&name, &DeleteParams::default())
                .await
                .map_err(|e| failure(&e, "delete", ar, &context))?;
            deleted += 1;
        }
    }
    Ok(Written {
        context,
        applied,
        deleted,
    })
}
