//! Documents parsed the way a security scanner must read them: a mapping with
//! the same key twice is an input error (YAML 1.2 and JSON's RFC 8259 "SHOULD
//! be unique"; last-wins would let `kind: Secret` written after a policy's
//! real kind hide it), and nesting is bounded so a crafted document cannot
//! exhaust the stack.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Deeper than any Kubernetes object (a CRD schema is about 30 levels).
pub const MAX_DEPTH: usize = 128;

/// A JSON value that refuses duplicate keys and nesting beyond [`MAX_DEPTH`].
pub struct Strict(pub Value);

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Level(0).deserialize(d).map(Strict)
    }
}

/// Parses YAML text strictly.
pub fn yaml(text: &str) -> Result<Value, serde_norway::Error> {
    crate::block_yaml::read::<Strict>(text).map(|s| s.0)
}

/// Parses a one-element YAML sequence (a List item cut out of its list) strictly.
pub fn yaml_item(text: &str) -> Result<Value, serde_norway::Error> {
    crate::block_yaml::read::<[Strict; 1]>(text).map(|[s]| s.0)
}

/// Parses JSON text strictly.
pub fn json(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Strict>(text).map(|s| s.0)
}

#[derive(Clone, Copy)]
struct Level(usize);

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Level {
    fn deeper<E: de::Error>(self) -> Result<Level, E> {
        if self.0 >= MAX_DEPTH {
            Err(E::custom(format!(
                "nested deeper than {MAX_DEPTH} levels: not a Kubernetes object"
            )))
        } else {
            Ok(Level(self.0 + 1))
        }
    }
}

impl<'de> Visitor<'de> for Level {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML or JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value_seed(inner)?;
            match out.entry(key.0) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(taken) => {
                    return Err(de::Error::custom(format!(
                        "duplicate key `{}` in a mapping (YAML 1.2 forbids it; which one Istio or Kubernetes would use is undefined)",
                        taken.key()
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key: strings, and scalars YAML allows as keys (numbers, booleans)
/// in their text form, as Kubernetes reads them (e.g. portLevelMtls `8080:`).
struct Key(String);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// The deepest `{`/`[` nesting of flow collections in YAML text when it is
/// more than `limit` (quoted strings and comments skipped), else None.
/// libyaml's flow parser slows down quadratically with depth, so depth is
/// bounded before parsing.
pub fn flow_depth_over(text: &str, limit: usize) -> Option<usize> {
    // Most documents have few openers at all: counting them is a SIMD pass.
    if memchr::memchr2_iter(b'{', b'[', text.as_bytes()).count() <= limit {
        return None;
    }
    let depth = flow_depth(text);
    (depth > limit).then_some(depth)
}

/// The deepest `{`/`[` nesting of flow collections in YAML text.
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q == b'"' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => {
                    // A quote starts a scalar only at a token boundary (not in `it's`).
                    let prev = if i == 0 { b' ' } else { bytes[i - 1] };
                    if matches!(
                        prev,
                        b' ' | b'\t' | b'\n' | b'{' | b'[' | b',' | b':' | b'-'
                    ) {
                        quote = Some(b);
                    }
                }
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'{' | b'[' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        i += 1;
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_errors_at_any_level() {
        let e = yaml("apiVersion: v1\nkind: Pod\nkind: Secret\n").unwrap_err();
        assert!(e.to_string().contains("duplicate key `kind`"), "{e}");
        assert!(yaml("metadata: {labels: {a: x, a: y}}\n").is_err());
        assert!(json(r#"{"kind":"Pod","kind":"Secret"}"#).is_err());
        let ok = yaml("spec:\n  portLevelMtls:\n    8080: {mode: STRICT}\n").unwrap();
        assert_eq!(
            ok.pointer("/spec/portLevelMtls/8080/mode").unwrap(),
            "STRICT"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 5) + &"]".repeat(MAX_DEPTH + 5);
        assert!(json(&deep).is_err());
        assert!(yaml(&deep).is_err());
        assert_eq!(flow_depth("a: {b: [1, {c: \"{[\"}]} # {{{{\n"), 3);
        assert_eq!(flow_depth("msg: it's [fine]\n"), 1);
        assert_eq!(flow_depth_over("a: {b: [1, {c: 2}]}\n", 2), Some(3));
        assert_eq!(flow_depth_over("a: {b: [1, {c: 2}]}\n", 3), None);
        assert_eq!(flow_depth_over("a: [1] [2] [3] [4]\n", 2), None);
    }
}
