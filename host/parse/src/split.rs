//! Cuts YAML text into object-sized documents without parsing it, so the
//! documents can be parsed in parallel and each keeps its first line number.
//!
//! `kind: List` dumps (`kubectl get -o yaml`) are one huge document; their
//! `items` are cut out one by one as well, without copying: the text of one
//! item, from its `- ` line on, is itself a YAML sequence of one element. When
//! the text does not have the plain shape kubectl writes, the whole document is
//! left for the full parser.

/// A piece of YAML holding (normally) one object, borrowed from the file text.
#[derive(Debug)]
pub struct Chunk<'a> {
    /// 1-based line of the chunk's first line in the file.
    pub line: u32,
    pub text: &'a str,
    /// Some(indent) when `text` is a one-element sequence (a List item) whose
    /// `- ` sits at column `indent`.
    pub item_indent: Option<usize>,
}

impl Chunk<'_> {
    /// The value of a top-level key of the object (`kind`, `apiVersion`).
    pub fn value(&self, key: &str) -> Option<&str> {
        match self.item_indent {
            None => top_level_value(self.text, key),
            Some(ind) => self.text.lines().enumerate().find_map(|(i, l)| {
                let l = l.get(ind..)?;
                let l = if i == 0 {
                    l.strip_prefix("- ")?
                } else {
                    l.strip_prefix("  ")?
                };
                value_of(l, key)
            }),
        }
    }
}

/// Splits a multi-document YAML file into chunks, expanding plain List documents.
pub fn yaml_documents(src: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    for doc in split_documents(src) {
        if is_blank(doc.text) {
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
                text: &src[start..offset],
                item_indent: None,
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
        text: &src[start..],
        item_indent: None,
    });
    docs
}

/// The value of a top-level `key:` line, if the document has one.
pub fn top_level_value<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    doc.lines().find_map(|l| value_of(l, key))
}

fn value_of<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    let v = rest.split(" #").next().unwrap_or("").trim();
    Some(v.trim_matches(|c| c == '"' || c == '\''))
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
    let kind = top_level_value(doc.text, "kind")?;
    if !kind.ends_with("List") {
        return None;
    }
    let text: &'a str = doc.text;
    let mut offset = 0usize;
    let mut lines = text.split_inclusive('\n').enumerate();
    // Find `items:` at column 0.
    let mut found = false;
    for (_, l) in lines.by_ref() {
        offset += l.len();
        let t = l.trim_end();
        if t == "items:" {
            found = true;
            break;
        }
        if t.starts_with("items:") {
            return Some(Vec::new()).filter(|_| t == "items: []");
        }
    }
    if !found {
        return None;
    }
    let mut items = Vec::new();
    // (first line, start offset) of the item being read.
    let mut current: Option<(u32, usize)> = None;
    let mut indent: Option<usize> = None;
    let mut end_of_items: Option<usize> = None;
    for (i, l) in lines {
        let here = offset;
        offset += l.len();
        let body = l.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            continue;
        }
        let lead = body.len() - body.trim_start_matches(' ').len();
        if end_of_items.is_some() {
            if lead == 0 && !is_list_tail(body) {
                return None;
            }
            continue;
        }
        let ind = *indent.get_or_insert(lead);
        let after = &body[lead..];
        if lead == ind && (after == "-" || after.starts_with("- ")) {
            if let Some((line, start)) = current.replace((doc.line + i as u32, here)) {
                items.push(Chunk {
                    line,
                    text: &text[start..here],
                    item_indent: Some(ind),
                });
            }
        } else if lead >= ind + 2 && current.is_some() {
            // Part of the current item.
        } else if lead == 0 && !after.starts_with('-') && is_list_tail(after) {
            end_of_items = Some(here);
        } else {
            return None;
        }
    }
    if let Some((line, start)) = current {
        let end = end_of_items.unwrap_or(text.len());
        items.push(Chunk {
            line,
            text: &text[start..end],
            item_indent: indent,
        });
    }
    Some(items)
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
    fn kubectl_lists_split_into_borrowed_items() {
        let src = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    annotations:\n      note: |\n        line one\n\n        line three\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].line, 3);
        assert!(items[0].text.starts_with("- apiVersion: v1\n  kind: Pod\n"));
        assert!(items[0].text.ends_with("line three\n"), "{}", items[0].text);
        assert_eq!(
            (items[0].value("kind"), items[0].value("apiVersion")),
            (Some("Pod"), Some("v1"))
        );
        assert_eq!(
            items[0].value("name"),
            None,
            "nested keys are not top-level"
        );
        assert_eq!(items[1].line, 12);
        assert_eq!(
            items[1].text,
            "- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n"
        );
        assert_eq!(items[1].value("kind"), Some("Service"));
    }

    #[test]
    fn indented_list_items_split_too() {
        let src = "kind: List\nitems:\n  - kind: Pod\n    metadata:\n      name: a\n  - kind: Pod\n    metadata:\n      name: b\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1].text,
            "  - kind: Pod\n    metadata:\n      name: b\n"
        );
        assert_eq!(items[1].value("kind"), Some("Pod"));
    }

    #[test]
    fn unusual_lists_are_left_whole() {
        let src = "kind: List\nitems: [{kind: Pod}]\n";
        let items = yaml_documents(src);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].text, src);
    }
}
