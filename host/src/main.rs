//! The `kridik` command line. Library code returns errors; this prints them
//! as one line and maps outcomes to exit codes.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
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
