//! Recognising Istio's own workloads and settings in the model.

use kridik_sdk::prelude::*;
use serde_json::Value;

/// istiod (or a revisioned istiod): runs the `pilot` image's `discovery`.
pub fn is_istiod(w: &Workload) -> bool {
    w.containers.iter().any(|c| {
        c.name == "discovery" || c.image.contains("/pilot:") || c.image.contains("/pilot@")
    })
}

pub fn istiods(ctx: &Ctx) -> Vec<&Workload> {
    ctx.istio_components()
        .iter()
        .filter(|w| is_istiod(w))
        .collect()
}

/// An env value of istiod's discovery container.
pub fn env<'a>(w: &'a Workload, name: &str) -> Option<&'a str> {
    w.containers
        .iter()
        .flat_map(|c| &c.env)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A `--flag=value` or `--flag value` argument.
pub fn flag<'a>(w: &'a Workload, name: &str) -> Option<&'a str> {
    let args: Vec<&str> = w
        .containers
        .iter()
        .flat_map(|c| &c.args)
        .map(String::as_str)
        .collect();
    args.iter().enumerate().find_map(|(i, a)| {
        let rest = a.strip_prefix(name)?;
        match rest.strip_prefix('=') {
            Some(v) => Some(v),
            None if rest.is_empty() => Some(args.get(i + 1).copied().unwrap_or("")),
            None => None,
        }
    })
}

/// Installation values (`values`, `components`) from the mesh model.
pub fn install(ctx: &Ctx) -> (Value, Option<ObjectRef>) {
    let mesh = ctx.mesh_config();
    (
        serde_json::from_str(&mesh.install_json).unwrap_or(Value::Null),
        mesh.install_source,
    )
}
