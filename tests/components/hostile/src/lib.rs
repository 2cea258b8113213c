//! A check pack that misbehaves on purpose, one way per check id, so tests can
//! prove each failure is contained and the well-behaved check still reports.

use kridik_sdk::prelude::*;
use std::hint::black_box;

fn info(id: &str, kinds: &[&str]) -> CheckInfo {
    kridik_sdk::info(id, "hostile test check", Severity::Low, "test", kinds)
}

fn well_behaved(ctx: &Ctx) -> CheckResult {
    let services = ctx.objects("Service").map_err(|u| u.detail)?;
    Ok(vec![ctx
        .finding(
            Severity::Low,
            &ObjectRef::namespace("default"),
            "still here",
        )
        .message(format!("saw {} services", services.len()))])
}

fn endless(_: &Ctx) -> CheckResult {
    let mut n = 0u64;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn memory_bomb(_: &Ctx) -> CheckResult {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(black_box(vec![1u8; 16 << 20]));
    }
}

/// Keeps 24 MiB in the instance after it returns, as a check that caches
/// what it parsed does.
fn hoard(ctx: &Ctx) -> CheckResult {
    Vec::leak(black_box(vec![1u8; 24 << 20]));
    Ok(vec![ctx.finding(
        Severity::Info,
        &ObjectRef::namespace("default"),
        "kept 24 MiB",
    )])
}

/// Needs 40 MiB for a moment: it fits a 64 MiB limit on its own, not beside
/// what HOSTILE-HOARD kept.
fn needy(ctx: &Ctx) -> CheckResult {
    let scratch = black_box(vec![1u8; 40 << 20]);
    Ok(vec![ctx
        .finding(
            Severity::Info,
            &ObjectRef::namespace("default"),
            "used 40 MiB",
        )
        .message(format!(
            "summed {} bytes",
            scratch.iter().map(|&b| b as usize).sum::<usize>()
        ))])
}

fn trap(_: &Ctx) -> CheckResult {
    panic!("deliberate panic in a check")
}

fn flood_findings(ctx: &Ctx) -> CheckResult {
    let object = ObjectRef::namespace("default");
    Ok((0..200_000)
        .map(|i| {
            ctx.finding(Severity::Info, &object, "flood")
                .message(format!("finding {i}"))
        })
        .collect())
}

fn flood_stdout(ctx: &Ctx) -> CheckResult {
    let line = "x".repeat(1023);
    for _ in 0..8192 {
        println!("{line}");
    }
    Ok(vec![ctx.finding(
        Severity::Info,
        &ObjectRef::namespace("default"),
        "printed 8 MiB",
    )])
}

/// Asks for a kind it did not declare: the host must refuse it.
fn snoop(ctx: &Ctx) -> CheckResult {
    match ctx.objects("ConfigMap") {
        Ok(objects) => Err(format!(
            "host leaked {} undeclared ConfigMaps",
            objects.len()
        )),
        Err(refused) => Ok(vec![ctx
            .finding(Severity::Info, &ObjectRef::namespace("default"), "refused")
            .message(format!("{:?}: {}", refused.reason, refused.detail))]),
    }
}

/// Declares Secret: kridik's policy refuses it, and says so.
fn secrets(ctx: &Ctx) -> CheckResult {
    match ctx.objects("Secret") {
        Ok(objects) => Err(format!("host served {} Secrets", objects.len())),
        Err(refused) => Ok(vec![ctx
            .finding(Severity::Info, &ObjectRef::namespace("default"), "refused")
            .message(format!("{:?}: {}", refused.reason, refused.detail))]),
    }
}

kridik_sdk::export_checks!(
    Check {
        info: || info("HOSTILE-OK", &["Service"]),
        run: well_behaved
    },
    Check {
        info: || info("HOSTILE-HOARD", &[]),
        run: hoard
    },
    Check {
        info: || info("HOSTILE-NEEDY", &[]),
        run: needy
    },
    Check {
        info: || info("HOSTILE-LOOP", &[]),
        run: endless
    },
    Check {
        info: || info("HOSTILE-BOMB", &[]),
        run: memory_bomb
    },
    Check {
        info: || info("HOSTILE-TRAP", &[]),
        run: trap
    },
    Check {
        info: || info("HOSTILE-FLOOD", &[]),
        run: flood_findings
    },
    Check {
        info: || info("HOSTILE-STDOUT", &[]),
        run: flood_stdout
    },
    Check {
        info: || info("HOSTILE-SNOOP", &["Service"]),
        run: snoop
    },
    Check {
        info: || info("HOSTILE-SECRET", &["Secret"]),
        run: secrets
    },
);
