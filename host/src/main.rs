//! The `kridik` command line. Library code returns errors; this prints them
//! as one line and maps outcomes to exit codes.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// Parsing allocates many small strings from two threads; glibc's malloc
/// spent a third of a large scan's time (perf, 10,000-workload mesh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // mimalloc asks for transparent huge pages; after other processes used
    // memory the kernel compacts to find them, which cost a large scan a
    // second of system time (side-by-side benchmark, 10,000 workloads).
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("kridik: error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(kridik::report::exit::INPUT as u8)
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
