//! A bounded mutation fuzzer for the offline loader, run with the unit tests:
//! real policies mutated the ways an attacker or a damaged file would (a
//! `kind:` line inside a scalar, repeated keys, truncation, deep nesting,
//! flow style, random bytes). The invariant is the one that matters for a
//! scanner: no panic, and no document disappears without a trace: each is
//! kept, skipped under the kind a real parse gives it, or an input error.

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

#[test]
fn mutated_documents_never_panic_and_never_lose_a_policy() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let seed = SEEDS[rng.below(SEEDS.len())];
        let text = mutate(seed, &mut rng);
        let verdict = std::panic::catch_unwind(|| crate::fuzzing::check_documents(&text))
            .unwrap_or_else(|_| panic!("iteration {i} panicked on {text:?}"));
        if let Err(e) = verdict {
            panic!("iteration {i}: {e}: {text:?}");
        }
    }
}
