//! Example result hook: writes each scan's report as JSON into the directory
//! the user granted. Install it with
//! `kridik plugin add kridik_example_hook_report_file.wasm --allow-dir ./reports`
//! (optionally `--set file=NAME.json`, default `kridik-report.json`; and
//! `--set content=typed` for the hook world's typed report instead of the
//! JSON document `--format json` writes).

use kridik_sdk::hook::{setting, Capability, HookInfo, Report, Settings};

fn info() -> HookInfo {
    HookInfo {
        name: "report-file".into(),
        description: "Writes the scan report as JSON into the granted directory".into(),
        capabilities: vec![Capability::WriteDir],
    }
}

fn on_report(report: Report, settings: Settings) -> Result<(), String> {
    let file = setting(&settings, "file").unwrap_or("kridik-report.json");
    if file.contains('/') || file.starts_with('.') {
        return Err(format!("setting file={file}: give a plain file name"));
    }
    let json = match setting(&settings, "content").unwrap_or("json") {
        "json" => kridik_sdk::hook::report_json(),
        "typed" => serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
        other => return Err(format!("setting content={other}: write json or typed")),
    };
    // The granted directory is preopened at /out; without the grant it is absent.
    let path = format!("/out/{file}");
    std::fs::write(&path, json.trim_end().to_string() + "\n")
        .map_err(|e| format!("cannot write {path}: {e}"))
}

kridik_sdk::export_hook!(info, on_report);
