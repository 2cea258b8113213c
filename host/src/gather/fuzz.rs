//! A bounded mutation fuzzer for the offline loader, run with the unit tests:
//! real policies mutated the ways an attacker or a damaged file would (a
//! `kind:` line inside a scalar, repeated keys, truncation, deep nesting,
//! flow style, random bytes). The invariant is the one that matters for a
//! scanner: no panic, and no document disappears without a trace: each is
//! kept, skipped under the kind a real parse gives it, or an input error.

use super::files::parse_text;
use super::split::yaml_documents;
use super::Wants;

const SEEDS: &[&str] = &[
    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: deny-admin\n  namespace: shop\n  annotations:\n    note: \"plain\"\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [\"/admin*\"]\n",
    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\ndata: {k: dg==}\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: security.istio.io/v1\n  kind: AuthorizationPolicy\n  metadata:\n    name: a\n    namespace: x\n  spec: {}\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n    namespace: x\n",
    "{\"apiVersion\":\"security.istio.io/v1\",\"kind\":\"AuthorizationPolicy\",\"metadata\":{\"name\":\"j\",\"namespace\":\"x\"},\"spec\":{\"rules\":[{}]}}",
];

/// xorshift64*: deterministic, so a failure reproduces from its iteration.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut text = seed.to_string();
    for _ in 0..1 + rng.below(3) {
        let at = {
            let mut i = rng.below(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match rng.below(9) {
            0 => text.insert_str(at, "\nkind: Secret\n"),
            1 => text.push_str("kind: Secret\n"),
            2 => text.truncate(at),
            3 => text.insert_str(at, &"{a: ".repeat(1 + rng.below(200))),
            4 => text.insert_str(at, "\n---\n"),
            5 => text.insert_str(at, "\"\n"),
            6 => text.insert(
                at,
                ['\0', '\u{1b}', '\t', '[', '}', ':', '#', '&', '*'][rng.below(9)],
            ),
            7 => text = format!("{{{}}}", text.replace('\n', ", ")),
            _ => text.insert_str(at, "\napiVersion: v1\n"),
        }
    }
    text
}

/// The AuthorizationPolicies a strict, real parse of the whole text sees
/// (List items included); documents it cannot parse are left out.
fn policies_in(text: &str) -> Vec<String> {
    let mut docs: Vec<serde_json::Value> = Vec::new();
    if text.trim_start().starts_with(['{', '[']) {
        docs.extend(super::strict::json(text).ok());
    }
    if docs.is_empty() {
        // The oracle stops at the first document it cannot read (the loader
        // reports those as errors), and only reads what the loader would not
        // refuse up front for depth.
        if super::strict::flow_depth(text) <= 64 {
            for d in serde_norway::Deserializer::from_str(text).take(16) {
                match serde::Deserialize::deserialize(d) {
                    Ok(super::strict::Strict(v)) => docs.push(v),
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

#[test]
fn mutated_documents_never_panic_and_never_lose_a_policy() {
    let wants = Wants::new(["security.istio.io/AuthorizationPolicy"]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let seed = SEEDS[rng.below(SEEDS.len())];
        let text = mutate(seed, &mut rng);
        let batch = std::panic::catch_unwind(|| parse_text(&text, &"fuzz.yaml".into(), &wants))
            .unwrap_or_else(|_| panic!("iteration {i} panicked on {text:?}"));
        // A policy a real parser reads is an object, or the input is reported broken.
        for name in policies_in(&text) {
            let kept = batch
                .objects
                .iter()
                .any(|o| o.kind == "AuthorizationPolicy" && o.name == name);
            assert!(
                kept || !batch.errors.is_empty(),
                "iteration {i}: policy {name} was lost without an input error: {text:?}"
            );
        }
        // Some text went in: something came out (an object, a skip, or an error).
        let accounted =
            batch.objects.len() + batch.errors.len() + batch.skipped.values().sum::<usize>();
        let content = yaml_documents(&text).iter().any(|c| {
            c.text
                .lines()
                .any(|l| l.contains(':') && !l.trim_start().starts_with('#'))
        });
        assert!(
            accounted > 0 || !content,
            "iteration {i}: nothing came out of {text:?}"
        );
    }
}
