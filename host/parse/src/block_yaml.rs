//! A fast reader for the block-style YAML that `kubectl get -o yaml`, Helm and
//! most generators write, feeding serde directly (no event list, no tree).
//!
//! It reads only a conservative subset: printable ASCII, block mappings and
//! sequences, single-line plain and quoted scalars, literal block scalars
//! (`|`, `|-`), `{}` and `[]`. Anything else (flow collections, folded
//! scalars, anchors, tags, multi-line plain or quoted scalars, tabs,
//! non-ASCII, a visitor error such as a duplicate key) makes it give up, and
//! the caller parses the document with libyaml (`serde_norway`) instead,
//! which also produces the error messages. So the result is either exactly
//! what serde_norway would produce or nothing; `fuzzing::documents` and the
//! tests below hold it to that.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Deserializes YAML text: with the fast reader when the text is in its
/// subset, else (and for every error message) with libyaml.
pub fn read<'de, T: de::Deserialize<'de>>(
    text: &'de str,
) -> std::result::Result<T, serde_norway::Error> {
    match from_str(text) {
        Some(v) => Ok(v),
        None => serde_norway::from_str(text),
    }
}

/// Deserializes `text`, or None when it is outside the subset (or invalid).
pub fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Option<T> {
    if !printable_ascii(text.as_bytes()) {
        return None;
    }
    let mut p = Parser {
        src: text,
        pos: 0,
        line_start: 0,
        depth: 0,
    };
    let value = T::deserialize(NodeDe::new(&mut p, Ctx::Root)).ok()?;
    // Nothing may follow the document's root node.
    match p.next_content_line() {
        Ok(None) => Some(value),
        _ => None,
    }
}

/// Printable ASCII and newlines only (no tabs, CRs, controls or Unicode,
/// whose handling in YAML has corners the fast reader leaves to libyaml).
fn printable_ascii(b: &[u8]) -> bool {
    // Branch-free within a block so the compiler vectorizes it.
    b.chunks(64).all(|block| {
        block.iter().fold(true, |ok, &c| {
            ok & ((c.wrapping_sub(0x20) < 0x5f) | (c == b'\n'))
        })
    })
}

/// The first `a` followed by `b` in `s` (lines are short: a byte loop
/// beats building a substring searcher per call).
fn find_pair(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(a, &s[from..]) {
        let at = from + i;
        if s.get(at + 1) == Some(&b) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// "Not handled here": the caller falls back to the full parser.
#[derive(Debug)]
pub struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("outside the fast YAML subset")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> Self {
        GiveUp
    }
}

type Result<T> = std::result::Result<T, GiveUp>;

/// serde_norway's nesting limit (`remaining_depth` in its `de.rs`).
const MAX_DEPTH: usize = 128;
/// libyaml refuses implicit keys longer than 1024 characters.
const MAX_KEY: usize = 1000;

struct Parser<'de> {
    src: &'de str,
    pos: usize,
    line_start: usize,
    depth: usize,
}

/// Where a node starts, which decides how it may continue.
#[derive(Clone, Copy)]
enum Ctx {
    Root,
    /// After `key:` of a mapping whose keys sit at this column.
    AfterKey(usize),
    /// After `-` of a sequence whose dashes sit at this column.
    AfterDash(usize),
}

enum Node<'de> {
    Scalar(Scalar<'de>),
    /// A block mapping whose keys sit at this column; `pos` is at its first key.
    Map(usize),
    /// A block sequence whose dashes sit at this column; `pos` is at its first dash.
    Seq(usize),
    EmptyMap,
    EmptySeq,
}

struct Scalar<'de> {
    text: Text<'de>,
    plain: bool,
}

enum Text<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Owned(s) => s,
        }
    }
}

fn is_dash_at(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'-') && matches!(b.get(i + 1), None | Some(b' ') | Some(b'\n'))
}

impl<'de> Parser<'de> {
    fn bytes(&self) -> &'de [u8] {
        self.src.as_bytes()
    }

    fn line_end(&self) -> usize {
        memchr::memchr(b'\n', &self.bytes()[self.pos..]).map_or(self.src.len(), |i| self.pos + i)
    }

    /// From a line start: skips blank and comment-only lines. Returns the
    /// indentation of the next content line, `pos` left at its start.
    fn next_content_line(&mut self) -> Result<Option<usize>> {
        let b = self.bytes();
        loop {
            if self.pos >= b.len() {
                return Ok(None);
            }
            let indent = b[self.pos..].iter().take_while(|&&c| c == b' ').count();
            match b.get(self.pos + indent) {
                None => {
                    self.pos = b.len();
                    return Ok(None);
                }
                Some(b'\n') => {}
                Some(b'#') => {}
                Some(_) => {
                    let line = &b[self.pos..];
                    if indent == 0 && (line.starts_with(b"---") || line.starts_with(b"...")) {
                        return Err(GiveUp); // a document marker
                    }
                    return Ok(Some(indent));
                }
            }
            self.pos = self.line_end();
            self.next_line();
        }
    }

    /// Moves past the newline at `pos` (or to the end).
    fn next_line(&mut self) {
        self.pos = (self.pos + 1).min(self.src.len());
        self.line_start = self.pos;
    }

    fn skip_spaces(&mut self) -> usize {
        let n = self.bytes()[self.pos..]
            .iter()
            .take_while(|&&c| c == b' ')
            .count();
        self.pos += n;
        n
    }

    /// After a value: spaces, then a comment or the end of the line.
    fn finish_line(&mut self) -> Result<()> {
        let spaces = self.skip_spaces();
        match self.bytes().get(self.pos) {
            None => Ok(()),
            Some(b'\n') => {
                self.next_line();
                Ok(())
            }
            Some(b'#') if spaces > 0 => {
                self.pos = self.line_end();
                if self.pos < self.src.len() {
                    self.next_line();
                }
                Ok(())
            }
            _ => Err(GiveUp),
        }
    }

    /// A mapping key at `pos`, leaving `pos` after its `:`; None (and `pos`
    /// unchanged) when the line does not start with a key.
    fn key(&mut self) -> Result<Option<Scalar<'de>>> {
        let b = self.bytes();
        let start = self.pos;
        let end = self.line_end();
        let colon_ends = |i: usize| {
            b.get(i) == Some(&b':') && matches!(b.get(i + 1), None | Some(b' ') | Some(b'\n'))
        };
        match b[start] {
            b'"' | b'\'' => {
                let s = self.quoted()?;
                if colon_ends(self.pos) {
                    self.pos += 1;
                    Ok(Some(s))
                } else {
                    self.pos = start;
                    Ok(None)
                }
            }
            c if starts_plain(c, b.get(start + 1).copied()) => {
                let line = &b[start..end];
                let mut from = 0;
                while let Some(i) = memchr::memchr(b':', &line[from..]) {
                    let at = from + i;
                    if colon_ends(start + at) {
                        let raw = &line[..at];
                        if find_pair(raw, b' ', b'#').is_some() || at > MAX_KEY {
                            return Err(GiveUp);
                        }
                        let text = self.src[start..start + at].trim_end_matches(' ');
                        self.pos = start + at + 1;
                        return Ok(Some(Scalar {
                            text: Text::Borrowed(text),
                            plain: true,
                        }));
                    }
                    from = at + 1;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// A quoted scalar on one line at `pos`, leaving `pos` after its closing quote.
    fn quoted(&mut self) -> Result<Scalar<'de>> {
        let b = self.bytes();
        let quote = b[self.pos];
        let open = self.pos + 1;
        let end = self.line_end();
        let mut i = open;
        let mut owned: Option<String> = None;
        let mut copied = open;
        while i < end {
            let c = b[i];
            if c == quote {
                if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.src[copied..=i]);
                    i += 2;
                    copied = i;
                    continue;
                }
                let text = match owned {
                    None => Text::Borrowed(&self.src[open..i]),
                    Some(mut o) => {
                        o.push_str(&self.src[copied..i]);
                        Text::Owned(o)
                    }
                };
                self.pos = i + 1;
                return Ok(Scalar { text, plain: false });
            }
            if c == b'\\' && quote == b'"' {
                let o = owned.get_or_insert_with(String::new);
                o.push_str(&self.src[copied..i]);
                let (ch, len) = escape(&b[i + 1..end])?;
                o.push(ch);
                i += 1 + len;
                copied = i;
                continue;
            }
            i += 1;
        }
        Err(GiveUp) // closes on a later line, or never
    }

    /// A scalar value at `pos` (not a key), leaving `pos` after it.
    fn scalar(&mut self) -> Result<Scalar<'de>> {
        let b = self.bytes();
        match b[self.pos] {
            b'"' | b'\'' => self.quoted(),
            c if starts_plain(c, b.get(self.pos + 1).copied()) => {
                let end = self.line_end();
                let line = &b[self.pos..end];
                let cut = find_pair(line, b' ', b'#').unwrap_or(line.len());
                let raw = &line[..cut];
                // `a: b: c` and `a: b:` are errors in YAML.
                if find_pair(raw, b':', b' ').is_some() || raw.ends_with(b":") {
                    return Err(GiveUp);
                }
                let text = self.src[self.pos..self.pos + cut].trim_end_matches(' ');
                self.pos += text.len();
                Ok(Scalar {
                    text: Text::Borrowed(text),
                    plain: true,
                })
            }
            _ => Err(GiveUp),
        }
    }

    /// A literal block scalar (`|` or `|-`, at `pos`) whose parent sits at
    /// column `parent`: its lines without their common indentation, joined.
    /// Kubernetes writers use it for multi-line values (the injector's
    /// `ISTIO_META_POD_PORTS`, certificates); `|+`, explicit indentation and
    /// leading blank lines are left to libyaml.
    fn literal(&mut self, parent: usize) -> Result<Scalar<'de>> {
        let b = self.bytes();
        self.pos += 1;
        let strip = b.get(self.pos) == Some(&b'-');
        if strip {
            self.pos += 1;
        }
        if !matches!(b.get(self.pos), None | Some(b' ') | Some(b'\n')) {
            return Err(GiveUp);
        }
        self.finish_line()?;
        let first = self.pos;
        let indent = b[first..].iter().take_while(|&&c| c == b' ').count();
        if indent <= parent || matches!(b.get(first + indent), None | Some(b'\n')) {
            return Err(GiveUp);
        }
        let mut text = String::new();
        let mut blank = 0usize; // empty lines not yet known to be inside the value
        let mut end = first; // just after the last content line
        while self.pos < b.len() {
            let line_end = self.line_end();
            let line = &self.src[self.pos..line_end];
            let spaces = line.bytes().take_while(|&c| c == b' ').count();
            if spaces == line.len() && spaces <= indent {
                blank += 1;
            } else if spaces < indent {
                break;
            } else {
                if !text.is_empty() || blank > 0 {
                    text.push('\n');
                }
                text.extend(std::iter::repeat_n('\n', blank));
                blank = 0;
                text.push_str(&line[indent..]);
                end = line_end;
            }
            self.pos = line_end;
            if self.pos < b.len() {
                self.next_line();
            }
        }
        // Clipping keeps the last line break, if the text has one (not at EOF).
        if !strip && end < b.len() {
            text.push('\n');
        }
        self.pos = end;
        if self.pos < b.len() {
            self.next_line();
        }
        Ok(Scalar {
            text: Text::Owned(text),
            plain: false,
        })
    }

    /// Whether the line at `pos` holds a mapping key (without consuming it).
    fn has_key(&mut self) -> Result<bool> {
        let at = self.pos;
        let found = self.key()?.is_some();
        self.pos = at;
        Ok(found)
    }

    /// The node that starts here.
    fn node(&mut self, ctx: Ctx) -> Result<Node<'de>> {
        let parent = match ctx {
            Ctx::Root => {
                let Some(indent) = self.next_content_line()? else {
                    return Err(GiveUp); // an empty document: libyaml's business
                };
                return self.block_at(indent);
            }
            Ctx::AfterKey(k) | Ctx::AfterDash(k) => k,
        };
        self.skip_spaces();
        let b = self.bytes();
        match b.get(self.pos) {
            None | Some(b'\n') | Some(b'#') => {
                // A `#` here follows a space (`key:` and `-` must be followed
                // by one, or by the end of the line): a comment.
                self.pos = self.line_end();
                self.finish_line()?;
                match self.next_content_line()? {
                    Some(i) if i > parent => self.block_at(i),
                    Some(i)
                        if i == parent
                            && matches!(ctx, Ctx::AfterKey(_))
                            && is_dash_at(b, self.pos + i) =>
                    {
                        // A sequence may sit at its key's column.
                        self.pos += i;
                        Ok(Node::Seq(i))
                    }
                    _ => {
                        // An empty value; the next line belongs to the parent.
                        Ok(Node::Scalar(Scalar {
                            text: Text::Borrowed(""),
                            plain: true,
                        }))
                    }
                }
            }
            Some(_) => {
                if let Ctx::AfterDash(_) = ctx {
                    if is_dash_at(b, self.pos) {
                        return Err(GiveUp); // `- - x`
                    }
                    if self.has_key()? {
                        return Ok(Node::Map(self.pos - self.line_start));
                    }
                }
                let rest = &b[self.pos..];
                for (flow, node) in [(b"{}", Node::EmptyMap), (b"[]", Node::EmptySeq)] {
                    if rest.starts_with(flow) {
                        self.pos += 2;
                        self.finish_line()?;
                        return Ok(node);
                    }
                }
                if rest[0] == b'|' {
                    return Ok(Node::Scalar(self.literal(parent)?));
                }
                let s = self.scalar()?;
                self.finish_line()?;
                Ok(Node::Scalar(s))
            }
        }
    }

    /// A block collection on the line at `pos` with this indentation.
    fn block_at(&mut self, indent: usize) -> Result<Node<'de>> {
        self.pos += indent;
        if is_dash_at(self.bytes(), self.pos) {
            Ok(Node::Seq(indent))
        } else if self.has_key()? {
            Ok(Node::Map(indent))
        } else {
            Err(GiveUp) // a scalar on its own line (multi-line or root scalar)
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        Ok(())
    }
}

/// Whether a plain scalar may start with `c` (followed by `next`) in block context.
fn starts_plain(c: u8, next: Option<u8>) -> bool {
    match c {
        b'-' => !matches!(next, None | Some(b' ') | Some(b'\n')),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' => false,
        _ => true,
    }
}

/// A double-quoted escape (after the backslash): the character and how many
/// bytes it used. Only the common ones; the rest go to libyaml.
fn escape(rest: &[u8]) -> Result<(char, usize)> {
    Ok(match rest.first() {
        Some(b'"') => ('"', 1),
        Some(b'\\') => ('\\', 1),
        Some(b'/') => ('/', 1),
        Some(b'n') => ('\n', 1),
        Some(b't') => ('\t', 1),
        Some(b'r') => ('\r', 1),
        Some(b'u') => {
            let hex = rest.get(1..5).ok_or(GiveUp)?;
            let hex = std::str::from_utf8(hex).map_err(|_| GiveUp)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(GiveUp);
            }
            let code = u32::from_str_radix(hex, 16).map_err(|_| GiveUp)?;
            (char::from_u32(code).ok_or(GiveUp)?, 5)
        }
        _ => return Err(GiveUp),
    })
}

/// How serde_norway reads an untagged plain scalar (`visit_untagged_scalar`
/// in its `de.rs`): YAML 1.2's core schema with its integer prefixes.
enum Plain {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
    F64(f64),
    Str,
}

fn resolve(s: &str) -> Plain {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        _ => {}
    }
    // Only a scalar that starts like a number can be one (`inf`, `nan` and
    // the like parse as floats but are refused as not finite).
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Plain::Str;
    }
    if let Some(v) = unsigned(s, u64::from_str_radix) {
        return Plain::U64(v);
    }
    if let Some(v) = negative(s, i64::from_str_radix) {
        return Plain::I64(v);
    }
    if let Some(v) = unsigned(s, u128::from_str_radix) {
        return Plain::U128(v);
    }
    if let Some(v) = negative(s, i128::from_str_radix) {
        return Plain::I128(v);
    }
    if !leading_zero_digits(s) {
        if let Some(v) = float(s) {
            return Plain::F64(v);
        }
    }
    Plain::Str
}

/// `0x`, `0o` and `0b` prefixes, then decimal; a sign only as a leading `+`.
fn unsigned<T>(
    s: &str,
    parse: fn(&str, u32) -> std::result::Result<T, std::num::ParseIntError>,
) -> Option<T> {
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = unsigned.strip_prefix(prefix) {
            if digits.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(v) = parse(digits, radix) {
                return Some(v);
            }
        }
    }
    if unsigned.starts_with(['+', '-']) || leading_zero_digits(s) {
        return None;
    }
    parse(unsigned, 10).ok()
}

/// `-0x`, `-0o`, `-0b`, then decimal with its sign.
fn negative<T>(
    s: &str,
    parse: fn(&str, u32) -> std::result::Result<T, std::num::ParseIntError>,
) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(digits) = s.strip_prefix(prefix) {
            if let Ok(v) = parse(&format!("-{digits}"), radix) {
                return Some(v);
            }
        }
    }
    if leading_zero_digits(s) {
        return None;
    }
    parse(s, 10).ok()
}

/// `007`: digits with a leading zero are a string in YAML 1.2.
fn leading_zero_digits(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    s.len() > 1 && s.starts_with('0') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn float(s: &str) -> Option<f64> {
    let unsigned = match s.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => s,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match s {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

struct NodeDe<'a, 'de> {
    p: &'a mut Parser<'de>,
    ctx: Ctx,
    /// The node when it was already read (by `deserialize_option`).
    node: Option<Node<'de>>,
}

impl<'a, 'de> NodeDe<'a, 'de> {
    fn new(p: &'a mut Parser<'de>, ctx: Ctx) -> Self {
        NodeDe { p, ctx, node: None }
    }

    fn take(&mut self) -> Result<Node<'de>> {
        match self.node.take() {
            Some(n) => Ok(n),
            None => self.p.node(self.ctx),
        }
    }

    fn collection<V: Visitor<'de>>(self, node: Node<'de>, visitor: V) -> Result<V::Value> {
        let p = self.p;
        p.enter()?;
        let (indent, start) = match node {
            Node::Map(i) | Node::Seq(i) => (i, Start::Here),
            _ => (0, Start::Done),
        };
        let out = match node {
            Node::Map(_) | Node::EmptyMap => visitor.visit_map(Entries {
                p: &mut *p,
                indent,
                start,
            }),
            Node::Seq(_) | Node::EmptySeq => visitor.visit_seq(Items {
                p: &mut *p,
                indent,
                start,
            }),
            Node::Scalar(_) => Err(GiveUp),
        };
        p.depth -= 1;
        out
    }
}

fn visit_text<'de, V: Visitor<'de>>(text: Text<'de>, visitor: V) -> Result<V::Value> {
    match text {
        Text::Borrowed(s) => visitor.visit_borrowed_str(s),
        Text::Owned(s) => visitor.visit_string(s),
    }
}

/// serde_norway's `deserialize_any` on a scalar: quoted ones are strings.
fn visit_scalar<'de, V: Visitor<'de>>(s: Scalar<'de>, visitor: V) -> Result<V::Value> {
    if !s.plain {
        return visit_text(s.text, visitor);
    }
    match resolve(s.text.as_str()) {
        Plain::Null => visitor.visit_unit(),
        Plain::Bool(v) => visitor.visit_bool(v),
        Plain::U64(v) => visitor.visit_u64(v),
        Plain::I64(v) => visitor.visit_i64(v),
        Plain::U128(v) => visitor.visit_u128(v),
        Plain::I128(v) => visitor.visit_i128(v),
        Plain::F64(v) => visitor.visit_f64(v),
        Plain::Str => visit_text(s.text, visitor),
    }
}

fn is_null(s: &Scalar) -> bool {
    s.plain && matches!(resolve(s.text.as_str()), Plain::Null)
}

/// Types serde_norway reads in ways no kridik projection uses: left to it.
macro_rules! give_up {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, $(_: $arg,)* _: V) -> Result<V::Value> {
            Err(GiveUp)
        })*
    };
}

impl<'de> Deserializer<'de> for NodeDe<'_, 'de> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.take()? {
            Node::Scalar(s) => visit_scalar(s, visitor),
            node => self.collection(node, visitor),
        }
    }

    /// Any scalar's text as it is (serde_norway's `deserialize_str`).
    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.take()? {
            Node::Scalar(s) => visit_text(s.text, visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.take()? {
            Node::Scalar(s) if s.plain => match resolve(s.text.as_str()) {
                Plain::Bool(v) => visitor.visit_bool(v),
                _ => Err(GiveUp),
            },
            _ => Err(GiveUp),
        }
    }

    /// A plain empty or null scalar is None, anything else Some.
    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let node = self.take()?;
        if let Node::Scalar(s) = &node {
            if is_null(s) {
                return visitor.visit_none();
            }
        }
        self.node = Some(node);
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.take()? {
            node @ (Node::Seq(_) | Node::EmptySeq) => self.collection(node, visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        match self.take()? {
            node @ (Node::Map(_) | Node::EmptyMap) => self.collection(node, visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Read all the same: a document is accepted only when all of it is valid.
        self.deserialize_any(de::IgnoredAny)?;
        visitor.visit_unit()
    }

    give_up!(
        deserialize_i8(),
        deserialize_i16(),
        deserialize_i32(),
        deserialize_i64(),
        deserialize_u8(),
        deserialize_u16(),
        deserialize_u32(),
        deserialize_u64(),
        deserialize_f32(),
        deserialize_f64(),
        deserialize_char(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_unit(),
        deserialize_unit_struct(&'static str),
        deserialize_newtype_struct(&'static str),
        deserialize_tuple_struct(&'static str, usize),
        deserialize_enum(&'static str, &'static [&'static str]),
    );
}

/// Where a collection's next entry is.
#[derive(Clone, Copy)]
enum Start {
    /// At `pos` (the first entry, found by whoever detected the collection).
    Here,
    /// On the next content line at the collection's column.
    Lines,
    Done,
}

/// Moves to the next entry of a collection at column `indent`; false at its end.
fn next_entry(p: &mut Parser, indent: usize, start: &mut Start, dash: bool) -> Result<bool> {
    match *start {
        Start::Done => return Ok(false),
        Start::Here => *start = Start::Lines,
        Start::Lines => match p.next_content_line()? {
            Some(i) if i == indent => {
                if dash && !is_dash_at(p.bytes(), p.pos + i) {
                    // The parent mapping's next key (a sequence at its key's column).
                    *start = Start::Done;
                    return Ok(false);
                }
                p.pos += i;
            }
            Some(i) if i > indent => return Err(GiveUp),
            _ => {
                *start = Start::Done;
                return Ok(false);
            }
        },
    }
    Ok(true)
}

struct Entries<'a, 'de> {
    p: &'a mut Parser<'de>,
    indent: usize,
    start: Start,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !next_entry(self.p, self.indent, &mut self.start, false)? {
            return Ok(None);
        }
        // A key is a scalar node read like any other (serde_norway does so too).
        let key = self.p.key()?.ok_or(GiveUp)?;
        seed.deserialize(NodeDe {
            p: &mut *self.p,
            ctx: Ctx::AfterKey(self.indent),
            node: Some(Node::Scalar(key)),
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(NodeDe::new(self.p, Ctx::AfterKey(self.indent)))
    }
}

struct Items<'a, 'de> {
    p: &'a mut Parser<'de>,
    indent: usize,
    start: Start,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !next_entry(self.p, self.indent, &mut self.start, true)? {
            return Ok(None);
        }
        self.p.pos += 1; // the dash
        seed.deserialize(NodeDe::new(self.p, Ctx::AfterDash(self.indent)))
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::from_str;
    use crate::slim::Slim;
    use crate::strict::Strict;
    use serde_json::Value;

    /// What libyaml reads (None: an error), beside what the fast reader reads.
    fn both(text: &str) -> (Option<Value>, Option<Value>) {
        let slow = serde_norway::from_str::<Strict>(text).ok().map(|s| s.0);
        let fast = from_str::<Strict>(text).map(|s| s.0);
        (slow, fast)
    }

    /// The fast reader reads `text` and agrees with libyaml.
    fn reads(text: &str) -> Value {
        let (slow, fast) = both(text);
        let fast = fast.unwrap_or_else(|| panic!("gave up on {text:?}"));
        assert_eq!(Some(&fast), slow.as_ref(), "{text:?}");
        fast
    }

    /// Whatever the fast reader reads, libyaml reads the same; returns whether it read.
    fn agrees(text: &str) -> bool {
        let (slow, fast) = both(text);
        if fast.is_some() {
            assert_eq!(fast, slow, "{text:?}");
        }
        fast.is_some()
    }

    /// The fast reader leaves `text` to libyaml.
    fn gives_up(text: &str) {
        assert!(from_str::<Strict>(text).is_none(), "read {text:?}");
    }

    #[test]
    fn scalars_resolve_as_serde_norway_resolves_them() {
        let mut read = 0;
        for s in [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "0",
            "7",
            "-7",
            "+7",
            "007",
            "-007",
            "+007",
            "0x1F",
            "0x",
            "-0x1F",
            "0x+1",
            "0o17",
            "-0o17",
            "0b101",
            "-0b101",
            "1_000",
            "1.5",
            "-1.5",
            "+1.5",
            "1e3",
            "1E-3",
            ".5",
            "5.",
            ".inf",
            "-.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "1.20.0",
            "2025-03-01",
            "12:30",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "340282366920938463463374607431768211456",
            "1e400",
            "-",
            "--set=a",
            "-x",
            ".",
            "+",
            "++1",
            "+-1",
            "v1",
            "a b",
            "a#b",
            "a:b",
            "http://x:80/p",
            "foo[0]",
            "{{ .X }}x",
        ] {
            let doc = format!("k: {s}\n");
            read += agrees(&doc) as usize;
            if !s.is_empty() {
                read += agrees(&format!("{s}: v\n")) as usize;
            }
        }
        // Left to libyaml: the indicators (`-` as a value or key, `{{`, the
        // empty key) and integers beyond 64 bits (which `Strict` refuses).
        assert_eq!(read, 134);
    }

    #[test]
    fn kubectl_layouts_read_like_libyaml() {
        let pod = "\
apiVersion: v1
kind: Pod
metadata:
  annotations:
    sidecar.istio.io/status: '{\"containers\":[\"istio-proxy\"],\"it''s\":1}'
    note: \"tab\\there \\u00e9 \\\"q\\\" \\\\ \\/\"
  labels: {}
  name: web   # trailing comment
# a comment line
  ownerReferences: []
spec:
  containers:
  - args:
    - --port=8080
    - -v
    -
    - ''
    env:
    - name: A
      value: \"1\"
    -   name: B
        value:
    image: docker.io/istio/proxyv2:1.24.0
    name: istio-proxy
    ports:
    - containerPort: 15090
      name: http-envoy-prom
      protocol: TCP
    securityContext:
      runAsUser: 1337
      privileged: false
  hostNetwork: false
status:
  phase: Running
";
        let v = reads(pod);
        assert_eq!(v["spec"]["containers"][0]["args"][2], Value::Null);
        assert_eq!(v["spec"]["containers"][0]["env"][1]["name"], "B");
        reads(&format!("- {}", pod.replace('\n', "\n  ").trim_end()));
        reads("items:\n- a\n- b\nnext: 1\n");
        reads("  indented: root\n  second: 2\n");
        reads("a:\n  b:\n    c:\n\nd: x\n");
        reads("\"quoted key\": 1\n'single': 2\n");
        for literal in [
            "a: |-\n  [\n      {\"name\":\"http\"}\n  ]\nb: 1\n",
            "a: |\n  line 1\n\n   \n  # not a comment\n     deeper\n\n\nb: |\n    x\n",
            "- |-\n  x\n- |\n  y\n  \n",
            "a: | # comment\n  x\n",
            "a: # comment\n  b: 1\n",
            "- # comment\n  - x\n",
            "k:\n  a: |\n    x\n  b: 2\n",
        ] {
            reads(literal);
        }
        let slim = from_str::<Slim>(pod).expect("projection").into_value();
        assert_eq!(
            slim,
            serde_norway::from_str::<Slim>(pod).unwrap().into_value()
        );
    }

    #[test]
    fn anything_outside_the_subset_is_left_to_libyaml() {
        for doc in [
            "a: {b: 1}\n",
            "a: [1, 2]\n",
            "a: |+\n  text\n\n",
            "a: |2\n   text\n",
            "a: |\n\n  text\n",
            "a: |\nb: 1\n",
            "a: >-\n  text\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: long\n  continued\n",
            "a: 'open\n  quote'\n",
            "a: \"esc \\x41\"\n",
            "a:\tb\n",
            "a: caf\u{e9}\n",
            "a: b\r\n",
            "? a\n: b\n",
            "a: b: c\n",
            "a: x\nb\n",
            "a: 1\n a: 2\n",
            "- - a\n",
            "a: 1\na: 2\n",
            "just a scalar\n",
            "",
            "a: 1\n---\nb: 2\n",
            "a: \"x\"y\n",
            "a: 1 #c\n  b: 2\n",
        ] {
            gives_up(doc);
        }
        // Nesting beyond serde_norway's limit: left to it (it refuses).
        let mut deep = String::new();
        for i in 0..200 {
            deep.push_str(&" ".repeat(i));
            deep.push_str("a:\n");
        }
        gives_up(&deep);
    }

    /// Every document of the real manifests in `tests/` reads the same with
    /// both readers; most are in the subset (else the fast path is pointless).
    #[test]
    fn real_manifests_read_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
        let (mut docs, mut fast) = (0usize, 0usize);
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !matches!(
                    path.extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml")
                ) {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for chunk in crate::split::yaml_documents(&text) {
                    docs += 1;
                    let t = chunk.text;
                    let accepted = if chunk.item_indent.is_some() {
                        let slow = serde_norway::from_str::<[Strict; 1]>(t).ok();
                        from_str::<[Strict; 1]>(t).map(|[f]| {
                            let [s] = slow.unwrap_or_else(|| {
                                panic!("{}: libyaml refuses what was read", path.display())
                            });
                            assert_eq!(f.0, s.0, "{}:{}", path.display(), chunk.line);
                        })
                    } else {
                        let slow = serde_norway::from_str::<Strict>(t).ok();
                        from_str::<Strict>(t).map(|f| {
                            let s = slow.unwrap_or_else(|| {
                                panic!("{}: libyaml refuses what was read", path.display())
                            });
                            assert_eq!(f.0, s.0, "{}:{}", path.display(), chunk.line);
                            if let Some(slim) = from_str::<Slim>(t) {
                                let slow = serde_norway::from_str::<Slim>(t);
                                let slow = slow.expect("libyaml projects it too");
                                assert_eq!(slim.into_value(), slow.into_value());
                            }
                        })
                    };
                    fast += accepted.is_some() as usize;
                }
            }
        }
        eprintln!("{fast} of {docs} documents read by the fast path");
        assert!(docs > 1000, "only {docs} documents under tests/");
        assert!(
            fast * 10 >= docs * 7,
            "only {fast} of {docs} documents read by the fast path"
        );
    }
}
