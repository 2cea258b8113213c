//! Deserializers that take a field of any JSON shape instead of failing the
//! whole object: a policy that did not parse would silently drop out of every
//! check, so a field of an unexpected shape reads as empty (lists) or absent
//! (text), and list entries of the wrong shape as default entries, so that
//! "the list is not empty" still holds. Use with `#[serde(deserialize_with)]`.

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A list of objects as `T`s; an entry that is not an object is `T::default()`,
/// anything but a list is an empty list.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    T: Default,
{
    maybe_list(d).map(|v| v.into_iter().map(Option::unwrap_or_default).collect())
}

/// A list of objects as `T`s, `None` for an entry that is not an object;
/// anything but a list is an empty list.
pub fn maybe_list<'de, D, T>(d: D) -> Result<Vec<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(ListOf(PhantomData::<Entry<T>>))
        .map(|v| v.into_iter().map(|e| e.0).collect())
}

/// An object as `T`; any other shape is `T::default()`.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Entry::<T>::deserialize(d).map(|e| e.0.unwrap_or_default())
}

/// A list of scalars as text (numbers and booleans as written, `null` and
/// nested lists or objects as `""`); anything but a list is an empty list.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(ListOf(PhantomData::<Scalar>))
        .map(|v| v.into_iter().map(|s| s.0.unwrap_or_default()).collect())
}

/// A scalar as text; `null`, a list or an object is `None`.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Scalar::deserialize(d).map(|s| s.0)
}

/// Consumes any value, for the shapes a visitor does not want.
fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements the scalar `visit_*` methods of a visitor as one fallback.
macro_rules! scalars_as {
    ($fallback:expr) => {
        fn visit_bool<Er>(self, v: bool) -> Result<Self::Value, Er> {
            Ok($fallback(v.to_string()))
        }
        fn visit_i64<Er>(self, v: i64) -> Result<Self::Value, Er> {
            Ok($fallback(v.to_string()))
        }
        fn visit_u64<Er>(self, v: u64) -> Result<Self::Value, Er> {
            Ok($fallback(v.to_string()))
        }
        fn visit_f64<Er>(self, v: f64) -> Result<Self::Value, Er> {
            Ok($fallback(v.to_string()))
        }
    };
}

struct ListOf<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListOf<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(e) = seq.next_element()? {
            out.push(e);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
        drain_map(map).map(|()| Vec::new())
    }

    fn visit_str<Er>(self, _: &str) -> Result<Vec<T>, Er> {
        Ok(Vec::new())
    }

    fn visit_unit<Er>(self) -> Result<Vec<T>, Er> {
        Ok(Vec::new())
    }

    scalars_as!(|_| Vec::new());
}

/// A list entry or field that should be an object (`None` when it is not).
struct Entry<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Entry<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Entry(Some(t)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Entry<T>, A::Error> {
                drain_seq(seq).map(|()| Entry(None))
            }

            fn visit_str<E>(self, _: &str) -> Result<Entry<T>, E> {
                Ok(Entry(None))
            }

            fn visit_unit<E>(self) -> Result<Entry<T>, E> {
                Ok(Entry(None))
            }

            scalars_as!(|_| Entry(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A scalar's text, or `None` for `null`, lists and objects.
struct Scalar(Option<String>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(Some(v)))
            }

            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
                drain_seq(seq).map(|()| Scalar(None))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
                drain_map(map).map(|()| Scalar(None))
            }

            scalars_as!(|t| Scalar(Some(t)));
        }
        d.deserialize_any(V)
    }
}

/// A map of scalars as (key, text) pairs in their order (values as
/// [`strings`] reads them); anything but a map is no pairs.
pub fn pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, String)>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, Scalar>()? {
                out.push((k, v.0.unwrap_or_default()));
            }
            Ok(out)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq).map(|()| Vec::new())
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        scalars_as!(|_| Vec::new());
    }
    d.deserialize_any(V)
}

/// A field whose presence matters: `null` is `None`, an object `Some(T)`,
/// any other shape `Some(T::default())` (an [`object`] once present).
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<Entry<T>>::deserialize(d).map(|e| e.map(|e| e.0.unwrap_or_default()))
}
