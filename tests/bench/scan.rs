//! `cargo bench --bench scan` (or `make bench`): generates live-like meshes of
//! 100, 1,000 and 10,000 workloads and reports, for each:
//! input size, parse-only time (in process), the naive baseline (the whole file
//! into serde_json::Value through the YAML parser, in a child process), total
//! scan time and peak memory of the real binary, per-check time, and cold
//! (empty compile cache) vs warm start. KRIDIK_BENCH_SIZES=100,1000 picks sizes.

use kridik::gather::{files, Wants};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

struct Measured {
    seconds: f64,
    peak_rss_mib: f64,
    stdout: String,
}

/// Runs a command to completion and reads its peak RSS from wait4's rusage.
// The child is reaped by wait4 (not Child::wait) because only wait4 returns its rusage.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> Measured {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let stdout = {
        use std::io::Read;
        let mut s = String::new();
        child.stdout.unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting on our own child's pid with valid out-pointers.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    Measured {
        seconds: start.elapsed().as_secs_f64(),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
        stdout,
    }
}

fn main() {
    let kridik = env!("CARGO_BIN_EXE_kridik");
    let genmesh = env!("CARGO_BIN_EXE_kridik-genmesh");
    let sizes: Vec<usize> = std::env::var("KRIDIK_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("KRIDIK_BENCH_SIZES: numbers"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let wants = Wants::new([
        "security.istio.io/PeerAuthentication",
        "security.istio.io/AuthorizationPolicy",
    ]);
    println!(
        "kridik scan benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // Cold vs warm start: compile every built-in component vs load them from the cache.
    let cold = measure(
        Command::new(kridik)
            .env("KRIDIK_CACHE_DIR", &cache)
            .args(["checks"]),
    );
    let warm = measure(
        Command::new(kridik)
            .env("KRIDIK_CACHE_DIR", &cache)
            .args(["checks"]),
    );
    println!(
        "start (kridik checks): cold {:.3} s, warm {:.3} s",
        cold.seconds, warm.seconds
    );

    // What each size cost, to tell linear growth from superlinear below.
    let mut grown: Vec<(usize, Vec<(String, f64)>)> = Vec::new();
    for &n in &sizes {
        let namespaces = (n / 100).max(1);
        for format in ["yaml", "json"] {
            let file = dir.path().join(format!("mesh-{n}.{format}"));
            let status = Command::new(genmesh)
                .args([
                    "--workloads",
                    &n.to_string(),
                    "--namespaces",
                    &namespaces.to_string(),
                    "--format",
                    format,
                    "-o",
                ])
                .arg(&file)
                .status()
                .unwrap();
            assert!(status.success());
            let costs = report(n, format, &file, &wants, kridik, genmesh, &cache);
            if format == "yaml" {
                grown.push((n, costs));
            }
        }
    }
    growth(&grown);
}

/// Each step's cost from one size to the next against the growth of the mesh:
/// a step that grows more than twice as fast as the mesh is flagged, so a
/// quadratic check or model step shows up here before users see it.
fn growth(grown: &[(usize, Vec<(String, f64)>)]) {
    for pair in grown.windows(2) {
        let ((small, before), (large, after)) = (&pair[0], &pair[1]);
        let mesh = *large as f64 / *small as f64;
        println!("\ngrowth {small} -> {large} workloads ({mesh:.0}x):");
        for (step, t1) in after {
            let Some((_, t0)) = before.iter().find(|(s, _)| s == step) else {
                continue;
            };
            // Below a few milliseconds the ratio is noise.
            if *t1 < 5.0 {
                continue;
            }
            let ratio = t1 / t0.max(0.5);
            let flag = if ratio > 2.0 * mesh {
                "  SUPERLINEAR"
            } else {
                ""
            };
            println!("  {step}: {t0:.1} -> {t1:.1} ms ({ratio:.1}x){flag}");
        }
    }
}

fn report(
    n: usize,
    format: &str,
    file: &Path,
    wants: &Wants,
    kridik: &str,
    genmesh: &str,
    cache: &Path,
) -> Vec<(String, f64)> {
    let bytes = std::fs::metadata(file).unwrap().len();
    let start = Instant::now();
    let snapshot = files::load(&[file.to_path_buf()], wants);
    let parse = start.elapsed().as_secs_f64();
    let objects = snapshot.len() + snapshot.skipped.values().sum::<usize>();
    assert!(
        snapshot.input_errors.is_empty(),
        "{:?}",
        &snapshot.input_errors[..1]
    );
    // The model and the attack-path search, in process (the scan below includes them).
    let start = Instant::now();
    let model = kridik::model::build(&snapshot);
    let model_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let policies = kridik::assess::authz::Policies::parse(&snapshot, &model);
    let protocols = kridik::assess::paths::protocols(&snapshot, &model);
    let paths = kridik::assess::paths::find(&model, &policies, &[], &protocols);
    let paths_s = start.elapsed().as_secs_f64();
    drop((snapshot, model, policies, protocols));

    let scan = measure(
        Command::new(kridik)
            .env("KRIDIK_CACHE_DIR", cache)
            .args(["scan", "--format", "json", "-f"])
            .arg(file),
    );
    let report: serde_json::Value = serde_json::from_str(&scan.stdout).expect("scan JSON");
    let mut costs: Vec<(String, f64)> = vec![
        ("parse".into(), parse * 1e3),
        ("model".into(), model_s * 1e3),
        ("attack paths".into(), paths_s * 1e3),
        ("whole scan".into(), scan.seconds * 1e3),
    ];
    costs.extend(report["checks"].as_array().unwrap().iter().map(|c| {
        (
            c["id"].as_str().unwrap().to_string(),
            c["duration_ms"].as_f64().unwrap(),
        )
    }));
    let checks: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {:.1} ms",
                c["id"].as_str().unwrap(),
                c["duration_ms"].as_f64().unwrap()
            )
        })
        .collect();
    println!(
        "\n{n} workloads, {format}: {objects} objects, {:.1} MB",
        bytes as f64 / 1e6
    );
    println!("  parse only (in process): {parse:.3} s");
    println!(
        "  model {model_s:.3} s; attack paths {paths_s:.3} s ({} sensitive workloads, {} reachable)",
        paths.targets.len(),
        paths.reachable
    );
    if format == "yaml" {
        let naive = measure(Command::new(genmesh).arg("--naive").arg(file));
        let naive_parse: f64 = naive
            .stdout
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        println!(
            "  naive baseline (serde YAML -> serde_json::Value): parse {naive_parse:.3} s, process {:.3} s, peak {:.0} MiB",
            naive.seconds, naive.peak_rss_mib
        );
    }
    println!(
        "  full scan (binary, warm cache): {:.3} s, peak {:.0} MiB, {} findings, {} workloads",
        scan.seconds,
        scan.peak_rss_mib,
        report["summary"]["findings"],
        report["summary"]["workloads"]
    );
    println!("  per check: {}", checks.join(", "));
    costs
}
