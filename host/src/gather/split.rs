//! Cuts YAML text into object-sized documents without parsing it, so the
//! documents can be parsed in parallel and each keeps its first line number.
//!
//! `kind: List` dumps (`kubectl get -o yaml`) are one huge document; their
//! `items` are cut out one by one as well. When the text does not have the
//! plain shape kubectl writes, the whole document is left for the full parser.

/// A piece of YAML holding (normally) one object.
#[derive(Debug)]
pub struct Chunk<'a> {
    /// 1-based line of the chunk's first line in the file.
    pub line: u32,
    pub text: std::borrow::Cow<'a, str>,
}

/// Splits a multi-document YAML file into chunks, expanding plain List documents.
pub fn yaml_documents(src: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    for doc in split_documents(src) {
        if is_blank(&doc.text) {
            continue;
        }
        match list_items(&doc) {
            Some(items) => out.extend(items),
            None => out.push(doc),
        }
    }
    out
}

/// Splits on `---` and `...` document markers.
fn split_documents(src: &str) -> Vec<Chunk<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(src.split_inclusive('\n')) {
        let trimmed = line.trim_end();
        let marker = trimmed == "---"
            || trimmed.starts_with("--- ")
            || trimmed == "..."
            || trimmed.starts_with("---\t");
        if marker {
            docs.push(Chunk {
                line: start_line,
                text: src[start..offset].into(),
            });
            // `--- {inline}` keeps content on the marker line.
            let rest = trimmed.strip_prefix("---").map(str::trim).unwrap_or("");
            if !rest.is_empty() && !rest.starts_with('#') {
                start = offset + line.find(rest).unwrap_or(0);
                start_line = line_no;
            } else {
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    docs.push(Chunk {
        line: start_line,
        text: src[start..].into(),
    });
    docs
}

/// The value of a top-level `key:` line, if the document has one.
pub fn top_level_value<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    doc.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        let v = rest.split(" #").next().unwrap_or("").trim();
        Some(v.trim_matches(|c| c == '"' || c == '\''))
    })
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Cuts the items out of a `kind: List` (or `kind: FooList`) document written in
/// kubectl's block style. Returns None when the document is not such a list or
/// its layout is not the plain one, so the caller parses it whole instead.
fn list_items<'a>(doc: &Chunk<'a>) -> Option<Vec<Chunk<'a>>> {
    let kind = top_level_value(&doc.text, "kind")?;
    if !kind.ends_with("List") {
        return None;
    }
    let text: &'a str = match &doc.text {
        std::borrow::Cow::Borrowed(s) => s,
        std::borrow::Cow::Owned(_) => return None,
    };
    let mut lines = text.split_inclusive('\n').enumerate().peekable();
    // Find `items:` at column 0.
    let mut items_line = None;
    for (i, l) in lines.by_ref() {
        let t = l.trim_end();
        if t == "items:" {
            items_line = Some(i);
            break;
        }
        if t.starts_with("items:") {
            return Some(Vec::new()).filter(|_| t == "items: []");
        }
    }
    items_line?;
    let mut items: Vec<(u32, String)> = Vec::new();
    let mut indent: Option<usize> = None;
    let mut in_tail = false;
    for (i, l) in lines {
        let body = l.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            if let Some((_, cur)) = items.last_mut() {
                cur.push('\n');
            }
            continue;
        }
        let lead = body.len() - body.trim_start_matches(' ').len();
        if in_tail {
            if lead == 0 && !is_list_tail(body) {
                return None;
            }
            continue;
        }
        let ind = *indent.get_or_insert(lead);
        let after = &body[lead..];
        if lead == ind && (after == "-" || after.starts_with("- ")) {
            let first = after
                .strip_prefix('-')
                .unwrap_or("")
                .strip_prefix(' ')
                .unwrap_or("");
            let mut s = String::with_capacity(256);
            s.push_str(first);
            s.push('\n');
            items.push((doc.line + i as u32, s));
        } else if lead >= ind + 2 {
            let (_, cur) = items.last_mut()?;
            cur.push_str(&body[ind + 2..]);
            cur.push('\n');
        } else if lead == 0 && !after.starts_with('-') {
            // Back at the top level (`kind: List`, `metadata:` after the items).
            if !is_list_tail(after) {
                return None;
            }
            in_tail = true;
        } else {
            return None;
        }
    }
    Some(
        items
            .into_iter()
            .map(|(line, text)| Chunk {
                line,
                text: text.into(),
            })
            .collect(),
    )
}

fn is_list_tail(line: &str) -> bool {
    ["kind:", "apiVersion:", "metadata:"]
        .iter()
        .any(|p| line.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_lines() {
        let src = "a: 1\n---\n# comment\nb: 2\n--- \nc: 3\n...\n";
        let docs = yaml_documents(src);
        let got: Vec<_> = docs
            .iter()
            .map(|c| (c.line, c.text.trim().to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "a: 1".into()),
                (3, "# comment\nb: 2".into()),
                (6, "c: 3".into())
            ]
        );
    }

    #[test]
    fn kubectl_lists_split_into_items() {
        let src = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    annotations:\n      note: |\n        line one\n\n        line three\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].line, 3);
        assert!(items[0]
            .text
            .starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n"));
        let text = &items[0].text;
        assert!(
            text.contains("\n    note: |\n      line one\n\n      line three\n"),
            "{text}"
        );
        assert_eq!(items[1].line, 12);
        assert_eq!(top_level_value(&items[1].text, "kind"), Some("Service"));
    }

    #[test]
    fn indented_list_items_split_too() {
        let src = "kind: List\nitems:\n  - kind: Pod\n    metadata:\n      name: a\n  - kind: Pod\n    metadata:\n      name: b\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].text, "kind: Pod\nmetadata:\n  name: b\n");
    }

    #[test]
    fn unusual_lists_are_left_whole() {
        let src = "kind: List\nitems: [{kind: Pod}]\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].text, src);
    }
}
