//! The runner's entry point: `install DEST`, `run <flags> -- CMD...` (flags from
//! [`crate::protocol::StepArgs`], the one definition shared with the converter), and the
//! usual `--help`/`--version`.

use std::ffi::OsString;
use std::path::Path;

use super::clock::SystemClock;
use super::exec::ProcessExecutor;
use super::recorder::FsRecorder;
use super::runner::Step;
use super::signals::SignalFd;
use super::wait::DirWaiter;
use crate::protocol::{DEFAULT_TERMINATION_PATH, StepArgs, exit_code};

const USAGE: &str = "\
usage: kueueleuleu-step install DEST
       kueueleuleu-step run --name NAME --run-dir DIR [--wait-for DIR]... [--on-failure]
                            [--termination-path PATH] --command-len N [--default-command]
                            -- COMMAND [ARG]...

The step runner of kueueleuleu: converted containers run it to wait for the steps before
them, run their original command, and record the outcome. See docs/step-runner.md.
";

/// Runs the runner with `args` (without the program name) and returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = match args.into_iter().map(OsString::into_string).collect() {
        Ok(args) => args,
        Err(bad) => {
            super::diag(format_args!("argument {bad:?} is not UTF-8"));
            return exit_code::USAGE;
        }
    };
    match args.first().map(String::as_str) {
        Some("run") => match StepArgs::parse(&args) {
            Ok(step) => run(step),
            Err(e) => {
                super::diag(format_args!("{e}\n{USAGE}"));
                exit_code::USAGE
            }
        },
        Some("install") if args.len() == 2 => match super::install::install(Path::new(&args[1])) {
            Ok(()) => 0,
            Err(e) => {
                super::diag(format_args!("{e}"));
                exit_code::INTERNAL
            }
        },
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            0
        }
        Some("--version" | "-V") => {
            println!("kueueleuleu-step {}", env!("CARGO_PKG_VERSION"));
            0
        }
        _ => {
            super::diag(format_args!("expected `run` or `install DEST`\n{USAGE}"));
            exit_code::USAGE
        }
    }
}

fn run(args: StepArgs) -> i32 {
    // As PID 1 the runner inherits orphans anyway; elsewhere (tests, `shareProcessNamespace`)
    // this makes it their reaper too.
    // SAFETY: plain syscall.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let mut signals = match SignalFd::install() {
        Ok(s) => s,
        Err(e) => {
            super::diag(format_args!("cannot set up signal handling: {e}"));
            return exit_code::INTERNAL;
        }
    };
    let termination_path = args
        .termination_path
        .clone()
        .unwrap_or_else(|| DEFAULT_TERMINATION_PATH.to_string());
    let recorder = FsRecorder::new(&args.run_dir, termination_path);
    let mut step = Step {
        args,
        waiter: DirWaiter::default(),
        executor: ProcessExecutor::default(),
        recorder,
        clock: SystemClock,
    };
    step.run(&mut signals).exit_code
}
