//! A result hook that misbehaves on purpose, as its `mode` setting says, so
//! tests can prove a hook's trap, loop or memory bomb is its own error.

use kridik_sdk::hook::{setting, HookInfo, Report, Settings};

fn info() -> HookInfo {
    HookInfo {
        name: "hostile-hook".into(),
        description: "misbehaves on purpose".into(),
        capabilities: vec![],
    }
}

fn on_report(_report: Report, settings: Settings) -> Result<(), String> {
    match setting(&settings, "mode") {
        Some("trap") => panic!("hostile hook panics on purpose"),
        Some("loop") => loop {
            std::hint::black_box(());
        },
        Some("bomb") => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        Some("files") => std::fs::write("/out/x", "x").map_err(|e| format!("no files: {e}")),
        _ => Ok(()),
    }
}

kridik_sdk::export_hook!(info, on_report);
