//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer), kept
//! here so the stable test suite replays every saved case through the same
//! code (`fuzz/regressions/`, see the test below). Each takes arbitrary bytes
//! and panics only when an invariant a scanner relies on breaks.

use crate::split::yaml_documents;
use crate::text::parse_text;
use crate::Wants;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/*.rs` call them.
pub const TARGETS: &[(&str, Target)] = &[
    ("documents", documents),
    ("api_page", api_page),
    ("suppressions", suppressions),
    ("baseline", baseline),
    ("oci_manifest", oci_manifest),
    ("block_yaml", block_yaml),
];

/// Manifests, dumps and Lists (YAML or JSON): no panic, and no
/// AuthorizationPolicy a real parser reads disappears without an input error.
pub fn documents(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = check_documents(text) {
            panic!("{e}");
        }
    }
}

/// The fast block-YAML reader against libyaml: whatever it reads (a whole
/// object, a List item, the model's projection, a document head), libyaml
/// reads the same; where they could differ it must give up.
pub fn block_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    use crate::block_yaml::from_str as fast;
    use crate::strict::Strict;
    if let Some(v) = fast::<Strict>(text) {
        let slow = serde_norway::from_str::<Strict>(text)
            .expect("libyaml reads what the fast reader read");
        assert_eq!(v.0, slow.0);
    }
    if let Some([v]) = fast::<[Strict; 1]>(text) {
        let [slow] =
            serde_norway::from_str::<[Strict; 1]>(text).expect("libyaml reads the item too");
        assert_eq!(v.0, slow.0);
    }
    if let Some(v) = fast::<crate::slim::Slim>(text) {
        let slow =
            serde_norway::from_str::<crate::slim::Slim>(text).expect("libyaml projects it too");
        assert_eq!(v.into_value(), slow.into_value());
    }
}

/// An API server's list page for AuthorizationPolicy: no panic, and every
/// item is an object or an input error (a page never silently shrinks).
pub fn api_page(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let wants = Wants::new(["security.istio.io/AuthorizationPolicy"]);
    let batch = crate::api_list_page(text, "security.istio.io/v1", "AuthorizationPolicy", &wants);
    let out = batch.objects.len() + batch.errors.len() + batch.skipped.values().sum::<usize>();
    // (A number out of a Value's range is still JSON: such pages are only
    // held to the syntax rule below.)
    if let Ok(page) = serde_json::from_str::<serde_json::Value>(text) {
        let items = page.get("items").and_then(|i| i.as_array());
        let present = items.map_or(0, |i| i.iter().filter(|v| !v.is_null()).count());
        assert!(out >= present, "{present} items, {out} came out");
    }
    let syntax_ok = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let has_items =
        serde_json::from_str::<std::collections::HashMap<String, serde::de::IgnoredAny>>(text)
            .is_ok_and(|m| m.contains_key("items"));
    if !(syntax_ok && has_items) {
        assert!(
            !batch.errors.is_empty(),
            "an unreadable page produced no error"
        );
    }
}

/// `.kridik.yaml`: no panic, no accepted rule suppresses everything, and no
/// accepted trust rule names no repository or no key.
pub fn suppressions(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rules) = crate::suppressions::trust(text, "fuzz.yaml") {
        for r in rules {
            assert!(
                !r.repository.is_empty(),
                "a trust rule without a repository: {r:?}"
            );
            assert!(
                !r.keys.is_empty() || !r.keyless.is_empty(),
                "a trust rule without a key: {r:?}"
            );
        }
    }
    if let Ok(rules) = crate::suppressions::parse(text, "fuzz.yaml") {
        for r in rules {
            let all = |p: &str| p.chars().all(|c| c == '*');
            assert!(
                !(all(&r.check) && r.resource.as_deref().is_none_or(all)),
                "a rule that hides everything was accepted: {r:?}"
            );
            assert!(!r.reason.is_empty(), "a rule without a reason was accepted");
        }
    }
}

/// Baseline files: no panic; what parses renders and parses back the same.
pub fn baseline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(entries) = crate::baseline::parse(text, "fuzz.json") {
        let again = crate::baseline::parse(&crate::baseline::render(entries.clone()), "again")
            .expect("a rendered baseline parses");
        assert_eq!(again, entries);
    }
}

/// Registry manifests: no panic; an accepted layer is within the cap and
/// named by a well-formed digest.
pub fn oci_manifest(data: &[u8]) {
    const CAP: usize = 1 << 20;
    if let Ok(m) = crate::oci_manifest::parse(data, "fuzz") {
        if let Ok(layer) = crate::oci_manifest::wasm_layer("fuzz", &m, CAP) {
            assert!((0..=CAP as i64).contains(&layer.size));
            assert!(crate::oci_manifest::is_sha256_digest(&layer.digest));
        }
    }
}

/// The loader's invariant on one text, as an error naming what broke.
pub fn check_documents(text: &str) -> Result<(), String> {
    let wants = Wants::new(["security.istio.io/AuthorizationPolicy"]);
    let batch = parse_text(text, &"fuzz.yaml".into(), &wants);
    // A policy a real parser reads is an object, or the input is reported broken.
    for name in policies_in(text) {
        let kept = batch
            .objects
            .iter()
            .any(|o| o.kind == "AuthorizationPolicy" && o.name == name);
        if !kept && batch.errors.is_empty() {
            return Err(format!("policy {name} was lost without an input error"));
        }
    }
    // Some text went in: something came out (an object, a skip, or an error).
    let accounted =
        batch.objects.len() + batch.errors.len() + batch.skipped.values().sum::<usize>();
    let content = yaml_documents(text).iter().any(|c| {
        c.text
            .lines()
            .any(|l| l.contains(':') && !l.trim_start().starts_with('#'))
    });
    if accounted == 0 && content {
        return Err("nothing came out of a document with content".into());
    }
    Ok(())
}

/// The AuthorizationPolicies a strict, real parse of the whole text sees
/// (List items included); documents it cannot parse are left out.
fn policies_in(text: &str) -> Vec<String> {
    let mut docs: Vec<serde_json::Value> = Vec::new();
    if text.trim_start().starts_with(['{', '[']) {
        docs.extend(crate::strict::json(text).ok());
    }
    if docs.is_empty() {
        // The oracle stops at the first document it cannot read (the loader
        // reports those as errors), and only reads what the loader would not
        // refuse up front for depth.
        if crate::strict::flow_depth_over(text, 64).is_none() {
            for d in serde_norway::Deserializer::from_str(text).take(16) {
                match serde::Deserialize::deserialize(d) {
                    Ok(crate::strict::Strict(v)) => docs.push(v),
                    Err(_) => break,
                }
            }
        }
    }
    let mut names = Vec::new();
    let mut stack = docs;
    while let Some(v) = stack.pop() {
        let list = v
            .get("kind")
            .and_then(|k| k.as_str())
            .is_none_or(|k| k.ends_with("List"));
        if let (true, Some(items)) = (list, v.get("items").and_then(|i| i.as_array())) {
            stack.extend(items.iter().cloned());
        } else if let (Some(api), Some(kind)) = (
            v.get("apiVersion").and_then(|a| a.as_str()),
            v.get("kind").and_then(|k| k.as_str()),
        ) {
            if crate::kinds::key(api, kind) != crate::kinds::AUTHORIZATION_POLICY {
                continue;
            }
            names.extend(
                v.pointer("/metadata/name")
                    .and_then(|n| n.as_str())
                    .map(|n| crate::printable::line(n).into_owned()),
            );
        }
    }
    names
}

#[cfg(test)]
mod tests {
    /// Every input saved under `fuzz/regressions/<target>/` (cases the fuzzer
    /// found, fixed since) and the seed corpora still pass their target.
    #[test]
    fn saved_fuzz_cases_replay_clean() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut replayed = 0;
        for (name, target) in super::TARGETS {
            for dir in ["regressions", "seeds"] {
                let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                    continue;
                };
                for e in entries.flatten() {
                    let bytes = std::fs::read(e.path()).unwrap();
                    let path = e.path();
                    std::panic::catch_unwind(|| target(&bytes))
                        .unwrap_or_else(|_| panic!("{name}: {} fails again", path.display()));
                    replayed += 1;
                }
            }
        }
        assert!(
            replayed >= super::TARGETS.len(),
            "no saved fuzz inputs found under {}",
            root.display()
        );
    }
}
