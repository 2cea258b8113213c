//! docs/coverage.md: every row maps to a check that exists, to the model, or
//! says why the field is not security relevant; every built-in check is on it.

use crate::support::*;
use std::collections::BTreeSet;

fn is_check_id(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 3
        && matches!(parts[0], "IST" | "ZT")
        && parts[1].chars().all(|c| c.is_ascii_uppercase())
        && parts[2].len() == 3
        && parts[2].chars().all(|c| c.is_ascii_digit())
}

#[test]
fn coverage_table_names_only_real_checks_and_every_row_is_decided() {
    let doc = std::fs::read_to_string(repo().join("docs/coverage.md")).unwrap();
    let known: BTreeSet<String> = check_ids().into_iter().collect();
    let (mut rows, mut by_check, mut by_model, mut irrelevant) = (0, 0, 0, 0);
    let mut named = BTreeSet::new();
    let mut undecided = Vec::new();
    let mut unknown = Vec::new();
    for line in doc.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 3 || cells[0] == "Field" || cells[0].starts_with("---") {
            continue;
        }
        rows += 1;
        let covered = cells[2];
        let ids: Vec<&str> = covered
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| is_check_id(w))
            .collect();
        for id in &ids {
            named.insert(id.to_string());
            if !known.contains(*id) {
                unknown.push(format!("{id} in row {:?}", cells[0]));
            }
        }
        if !ids.is_empty() {
            by_check += 1;
        } else if covered.starts_with("model") {
            by_model += 1;
        } else if covered.starts_with("not security relevant:") {
            irrelevant += 1;
        } else {
            undecided.push(cells[0].to_string());
        }
    }
    assert!(
        unknown.is_empty(),
        "check ids that do not exist: {unknown:?}"
    );
    assert!(
        undecided.is_empty(),
        "rows without a check, model rule or reason: {undecided:?}"
    );
    let missing: Vec<&String> = known.difference(&named).collect();
    assert!(
        missing.is_empty(),
        "checks not on the coverage map: {missing:?}"
    );
    assert!(rows >= 100, "only {rows} rows");
    eprintln!(
        "coverage: {rows} rows, {by_check} covered by checks, {by_model} by the model, {irrelevant} not security relevant"
    );
}
