//! A well-formed check component that imports an interface kridik does not provide.

wit_bindgen::generate!({
    world: "kridik-test:foreign/foreign",
    path: ["../../../wit/v0.1.0", "wit"],
    generate_all,
});

use exports::kridik::plugin::checks::Guest;
use kridik::plugin::types::{CheckInfo, Finding, Severity};

struct Foreign;

impl Guest for Foreign {
    fn describe() -> Vec<CheckInfo> {
        vec![CheckInfo {
            id: "FOREIGN-001".into(),
            title: "wants a shell".into(),
            description: String::new(),
            default_severity: Severity::Low,
            category: "test".into(),
            kinds: vec![],
        }]
    }

    fn run(_: String) -> Result<Vec<Finding>, String> {
        Err(kridik_test::foreign::exec::spawn("id"))
    }
}

export!(Foreign);
