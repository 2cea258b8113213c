//! Exports `kridik:plugin/checks@1.0.0`, which this kridik must refuse by name.

wit_bindgen::generate!({ world: "check", path: "wit" });

struct Future;

impl exports::kridik::plugin::checks::Guest for Future {
    fn describe() -> Vec<String> {
        vec!["FUTURE-001".into()]
    }

    fn run(_: String) -> Result<Vec<String>, String> {
        Ok(vec![])
    }
}

export!(Future);
