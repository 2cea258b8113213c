//! Text from untrusted places (manifests, file names, check components) made
//! safe to print: control characters become visible escapes, so a name cannot
//! retitle a terminal, clear the screen, forge report lines or break XML.

use std::borrow::Cow;

/// One line: every control character (newlines included) escaped as `\u{1b}`
/// (`\n` as `\n`).
pub fn line(s: &str) -> Cow<'_, str> {
    escape::<false>(s)
}

/// A block (YAML): newlines and tabs kept, every other control character escaped.
pub fn block(s: &str) -> Cow<'_, str> {
    escape::<true>(s)
}

/// The owned form of [`line`], for fields that are already `String`s
/// (no copy when nothing needs escaping).
pub fn line_owned(s: String) -> String {
    owned::<false>(s)
}

/// The owned form of [`block`].
pub fn block_owned(s: String) -> String {
    owned::<true>(s)
}

fn owned<const KEEP_LAYOUT: bool>(s: String) -> String {
    match escape::<KEEP_LAYOUT>(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(o) => o,
    }
}

/// Whether a byte may start a control character: C0 (< 0x20; in a block
/// not `\n` or `\t`), DEL, and 0xC2, the lead byte of C1 (U+0080..U+009F).
/// Exact for the layout bytes, so YAML blocks, which always hold newlines,
/// stay on the byte scan.
#[inline(always)]
fn suspect<const KEEP_LAYOUT: bool>(b: u8) -> bool {
    let layout = KEEP_LAYOUT & ((b == b'\n') | (b == b'\t'));
    ((b < 0x20) & !layout) | (b == 0x7f) | (b == 0xc2)
}

fn escape<const KEEP_LAYOUT: bool>(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(KEEP_LAYOUT && (c == '\n' || c == '\t'));
    // A byte scan rules control characters out for almost every string
    // (findings' text is hundreds of thousands of strings per scan). Folded
    // per chunk without an early exit or branches, so it vectorizes.
    let any_suspect = s.as_bytes().chunks(32).any(|chunk| {
        chunk
            .iter()
            .fold(false, |found, &b| found | suspect::<KEEP_LAYOUT>(b))
    });
    if !any_suspect || !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if !KEEP_LAYOUT => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if !KEEP_LAYOUT => out.push_str("\\t"),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(line("web"), "web");
        assert_eq!(line("a\x1b]0;pwned\x07b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(line("x\n== CRITICAL =="), "x\\n== CRITICAL ==");
        assert_eq!(block("a: 1\n\tb: \x1b[2J"), "a: 1\n\tb: \\u{1b}[2J");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        // C1 controls (two UTF-8 bytes) are escaped; other 0xC2 characters are not.
        assert_eq!(line("a\u{9b}31mb"), "a\\u{9b}31mb");
        assert!(matches!(line("© 2026 ½"), Cow::Borrowed(_)));
        assert!(matches!(block("a: 1\n\tb: 2\n"), Cow::Borrowed(_)));
        let long = format!("{}\u{1b}", "x".repeat(100));
        assert_eq!(line(&long), format!("{}\\u{{1b}}", "x".repeat(100)));
        // Layout bytes pass the block scan; anything else past them is still caught.
        let yaml = "spec:\n\tmode: STRICT\n".repeat(8);
        assert!(matches!(block(&yaml), Cow::Borrowed(_)));
        assert_eq!(block(&format!("{yaml}\r")), format!("{yaml}\\r"));
        assert_eq!(
            block(&format!("{yaml}\u{85}\x7f")),
            format!("{yaml}\\u{{85}}\\u{{7f}}")
        );
    }
}
