//! Turns one document (a YAML chunk or a JSON value) into objects, deserializing
//! only what its kind needs: the whole object for kinds checks declared, a
//! projection for workload kinds only the model reads, nothing for the rest.

use crate::object::{Object, Origin};
use crate::slim::Slim;
use crate::split::Chunk;
use crate::{Batch, InputError, Shape, Wants};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Flow collections nested deeper than this are refused before parsing
/// (libyaml slows down quadratically with flow depth).
const MAX_FLOW_DEPTH: usize = 64;

/// The head of a document, parsed for real: a text scan can be fooled by a
/// multi-line scalar with a `kind:` continuation line, so a decision to skip
/// a document is only taken on this. serde's derive refuses a repeated key.
#[derive(Deserialize)]
struct YamlHead {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// Decodes a YAML chunk. A kind found by a cheap text scan routes the work
/// (which projection to parse into); a chunk is skipped only when a real
/// parse of its head agrees that nobody reads its kind.
pub fn yaml_chunk(chunk: &Chunk, file: &Arc<str>, wants: &Wants) -> Batch {
    let origin = Origin {
        file: file.clone(),
        line: chunk.line,
    };
    let error = |line: u32, msg: String| Batch::error(InputError::at(file, line, msg));
    if let Some(depth) = crate::strict::flow_depth_over(chunk.text, MAX_FLOW_DEPTH) {
        return error(
            chunk.line,
            format!("flow collections nested {depth} deep (more than {MAX_FLOW_DEPTH}): not a Kubernetes object"),
        );
    }
    let item = chunk.item_indent.is_some();
    let head = chunk.value("apiVersion").zip(chunk.value("kind"));
    let mut shape = match head {
        Some((api, kind)) if !kind.ends_with("List") => wants.shape(&crate::kinds::key(api, kind)),
        _ => Some(Shape::Full),
    };
    if shape.is_none() {
        let real = if item {
            crate::block_yaml::read::<[YamlHead; 1]>(chunk.text).map(|[h]| h)
        } else {
            crate::block_yaml::read::<YamlHead>(chunk.text)
        };
        match real {
            Ok(YamlHead {
                api_version: Some(api),
                kind: Some(kind),
            }) if !kind.ends_with("List") => {
                let key = crate::kinds::key(&api, &kind);
                match wants.shape(&key) {
                    Some(s) => shape = Some(s),
                    None => return Batch::skipped(key),
                }
            }
            Ok(_) => shape = Some(Shape::Full),
            Err(e) => return yaml_error(e, chunk, file),
        }
    }
    let parsed = match (shape.unwrap_or(Shape::Full), item) {
        (Shape::Slim, false) => crate::block_yaml::read::<Slim>(chunk.text).map(Slim::into_value),
        (Shape::Full, false) => crate::strict::yaml(chunk.text),
        // A List item is a one-element sequence.
        (Shape::Slim, true) => {
            crate::block_yaml::read::<[Slim; 1]>(chunk.text).map(|[s]| s.into_value())
        }
        (Shape::Full, true) => crate::strict::yaml_item(chunk.text),
    };
    match parsed {
        Ok(body) => value(body, Some(origin), wants, None, false),
        Err(e) => yaml_error(e, chunk, file),
    }
}

fn yaml_error(e: serde_norway::Error, chunk: &Chunk, file: &Arc<str>) -> Batch {
    let line = e
        .location()
        .map(|l| chunk.line + l.line() as u32 - 1)
        .unwrap_or(chunk.line);
    Batch::error(InputError::at(
        file,
        line,
        format!(
            "invalid YAML: {}",
            file_lines(&e.to_string(), chunk.line - 1)
        ),
    ))
}

/// serde_norway's positions are relative to the chunk; shift every `line N` to the file's numbering.
fn file_lines(msg: &str, offset: u32) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match rest[..digits].parse::<u32>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// The apiVersion and kind of a list's items, for lists whose items omit them
/// (API server list responses do).
#[derive(Clone, Copy)]
pub struct ItemHead<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
}

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

/// Decodes one JSON object (or list) that starts at `line` of `file`.
/// `origin_of` gives the line of a list item from its text; `in_list` is true
/// for the items of a List (which may not be Lists themselves).
pub fn json_value(
    raw: &RawValue,
    origin: Option<Origin>,
    wants: &Wants,
    item_head: Option<ItemHead>,
    in_list: bool,
    origin_of: &(dyn Fn(&RawValue) -> Option<Origin> + Sync),
) -> Batch {
    let head: Head = match serde_json::from_str(raw.get()) {
        Ok(h) => h,
        Err(e) => return json_error(origin, e),
    };
    if let Some(items) = head.items {
        if in_list {
            return Batch::error(nested_list(origin.as_ref()));
        }
        // A List: its items, in parallel. Items of a typed list (`PodList`)
        // may lack apiVersion/kind; the list's own name tells them.
        let list_kind = head.kind.as_deref().unwrap_or("List");
        let typed = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
        let api = head.api_version.as_deref().unwrap_or("v1");
        let inherited = item_head.or(typed.map(|kind| ItemHead {
            api_version: api,
            kind,
        }));
        use rayon::prelude::*;
        return items
            .par_iter()
            .map(|item| json_value(item, origin_of(item), wants, inherited, true, origin_of))
            .reduce(Batch::default, Batch::merge);
    }
    let (api, kind) = match (head.api_version.as_deref(), head.kind.as_deref(), item_head) {
        (Some(a), Some(k), _) => (a.to_string(), k.to_string()),
        (_, _, Some(h)) => (h.api_version.to_string(), h.kind.to_string()),
        _ => return Batch::error(missing_kind(origin.as_ref())),
    };
    let key = crate::kinds::key(&api, &kind);
    let parsed = match wants.shape(&key) {
        None => return Batch::skipped(key),
        Some(Shape::Slim) => serde_json::from_str::<Slim>(raw.get()).map(Slim::into_value),
        Some(Shape::Full) => crate::strict::json(raw.get()),
    };
    match parsed {
        Ok(mut body) => {
            if let Some(map) = body.as_object_mut() {
                map.entry("apiVersion").or_insert_with(|| api.into());
                map.entry("kind").or_insert_with(|| kind.into());
            }
            value(body, origin, wants, None, in_list)
        }
        Err(e) => json_error(origin, e),
    }
}

fn json_error(origin: Option<Origin>, e: serde_json::Error) -> Batch {
    Batch::error(error_at(
        origin.as_ref(),
        e.line().saturating_sub(1) as u32,
        format!("invalid JSON: {e}"),
    ))
}

/// An input error where a document starts (`<api>` for live list items).
fn error_at(origin: Option<&Origin>, line_offset: u32, message: String) -> InputError {
    match origin {
        Some(o) => InputError::at(&o.file, o.line + line_offset, message),
        None => InputError::at("<api>", line_offset, message),
    }
}

fn nested_list(origin: Option<&Origin>) -> InputError {
    error_at(
        origin,
        0,
        "a List inside a List: kubectl and the API server never write one; flatten it".into(),
    )
}

fn missing_kind(origin: Option<&Origin>) -> InputError {
    error_at(
        origin,
        0,
        "document has no apiVersion/kind: is this a Kubernetes manifest? (Helm templates must be rendered first: helm template ...)".into(),
    )
}

/// Turns a parsed body into objects (expanding a List parsed whole).
pub fn value(
    body: Value,
    origin: Option<Origin>,
    wants: &Wants,
    item_head: Option<ItemHead>,
    in_list: bool,
) -> Batch {
    match body {
        Value::Null => Batch::default(),
        Value::Object(mut map) => {
            if let Some(Value::Array(items)) = map.remove("items") {
                if in_list {
                    return Batch::error(nested_list(origin.as_ref()));
                }
                return items
                    .into_iter()
                    .map(|item| value(item, origin.clone(), wants, item_head, true))
                    .fold(Batch::default(), Batch::merge);
            }
            let mut body = Value::Object(map);
            if let (Some(h), Some(m)) = (item_head, body.as_object_mut()) {
                m.entry("apiVersion")
                    .or_insert_with(|| h.api_version.into());
                m.entry("kind").or_insert_with(|| h.kind.into());
            }
            let text = |k: &str| body.get(k).and_then(Value::as_str);
            let Some(key) = text("apiVersion")
                .zip(text("kind"))
                .map(|(api, kind)| crate::kinds::key(api, kind))
            else {
                return Batch::error(missing_kind(origin.as_ref()));
            };
            let Some(shape) = wants.shape(&key) else {
                return Batch::skipped(key);
            };
            if shape == Shape::Slim {
                // Parsed whole (no plain `kind:` line): project it now.
                if let Ok(slim) = Slim::deserialize(&body) {
                    body = slim.into_value();
                }
            }
            let istio_named = body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("istio"));
            if key == crate::kinds::CONFIG_MAP && !wants.declared(&key) && !istio_named {
                // The model reads only Istio's ConfigMaps; others can be large (dashboards, scripts).
                if let Some(map) = body.as_object_mut() {
                    map.remove("data");
                    map.remove("binaryData");
                }
            }
            let problems = crate::istio_schema::check(&key, &body);
            let Some(mut object) = Object::from_body(body, origin.clone()) else {
                return Batch::error(missing_kind(origin.as_ref()));
            };
            if object.namespace.is_empty()
                && origin.is_some()
                && !crate::cluster_scoped(&object.kind)
            {
                // kubectl apply puts such objects in the current namespace; assume `default`.
                object.namespace = "default".into();
            }
            if problems.is_empty() {
                return Batch::object(object);
            }
            // Istio refuses such an object (API server schema or istiod's
            // webhook; istiod drops it if it got in): it is not in force, so
            // it leaves the snapshot. Unknown fields are pruned, the rest stays.
            let rejected = problems.iter().any(|p| p.rejects);
            let errors = problems
                .iter()
                .map(|p| {
                    let effect = if p.rejects {
                        "Istio rejects this object, so it is not in force (scanned as absent)"
                    } else {
                        "the API server drops it, so it has no effect"
                    };
                    error_at(
                        origin.as_ref(),
                        0,
                        format!("{}: {}; {effect}", object.display(), p.message),
                    )
                })
                .collect();
            Batch {
                objects: if rejected { Vec::new() } else { vec![object] },
                errors,
                ..Batch::default()
            }
        }
        other => Batch::error(error_at(
            origin.as_ref(),
            0,
            format!("expected a Kubernetes object, found {}", kind_of(&other)),
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        _ => "something else",
    }
}
