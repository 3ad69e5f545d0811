//! `kueueleuleu-bench`: the tools bench/run.sh needs and the converter must not carry.
//!
//! - `serde` / `saphyr`: the floor and a lower reference point (see [`floor`]).
//! - `measure`: runs a command and prints its CPU time, peak RSS and, with `--stamp`, the
//!   delay until the program it finally executes started (see [`meter`]).
//! - `stamp`: prints the wall clock in nanoseconds, the probe `measure --stamp` reads.

mod floor;
mod meter;

use std::process::ExitCode;

const USAGE: &str = "\
usage: kueueleuleu-bench serde|saphyr < INPUT > OUTPUT
       kueueleuleu-bench measure [--in FILE] [--out FILE] [--err FILE] [--stamp] -- COMMAND [ARG]...
       kueueleuleu-bench stamp";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serde") => floor::serde_pass(),
        Some("saphyr") => floor::saphyr_pass(),
        Some("measure") => meter::measure(&args[1..]),
        Some("stamp") => {
            println!("{}", meter::now_ns());
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kueueleuleu-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
