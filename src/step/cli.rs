//! The runner's entry point: `install DEST`, `run <flags> -- CMD...` (flags from
//! [`crate::protocol::StepArgs`], the one definition shared with the converter), and the
//! usual `--help`/`--version`.

use std::ffi::OsString;
use std::path::Path;

use super::clock::SystemClock;
use super::exec::ProcessExecutor;
use super::pause::RunDirPauser;
use super::recorder::FsRecorder;
use super::runner::Step;
use super::signals::SignalFd;
use super::waiter::DirWaiter;
use crate::protocol::{DEFAULT_TERMINATION_PATH, ParseError, StepArgs, exit_code, parse_duration};

const USAGE: &str = "\
usage: kueueleuleu-step install DEST
       kueueleuleu-step run --name NAME --run-dir DIR [--wait-for DIR]... [--on-failure]
                            [--timeout DURATION] [--on-error stop|continue] [--retries N]
                            [--debug never|on-failure] [--termination-path PATH]
                            --command-len N [--default-command] -- COMMAND [ARG]...
       kueueleuleu-step debug continue|fail|retry|status [--run-dir DIR]

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
        Some("debug") => match super::debug::main(&args[1..]) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(e) => {
                super::diag(format_args!("{e}"));
                match e {
                    super::debug::DebugError::Usage => exit_code::USAGE,
                    _ => 1,
                }
            }
        },
        Some("install") if args.len() == 2 => {
            match super::guard::check(|k| std::env::var(k).ok()) {
                Err(message) => {
                    super::diag(format_args!("{message}"));
                    1
                }
                Ok(()) => install_runner(&args[1]),
            }
        }
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            0
        }
        Some("--version" | "-V") => {
            println!("kueueleuleu-step {}", env!("CARGO_PKG_VERSION"));
            0
        }
        _ => {
            super::diag(format_args!(
                "expected `run`, `debug` or `install DEST`\n{USAGE}"
            ));
            exit_code::USAGE
        }
    }
}

/// The environment variable that sets how long a step waits for a predecessor that shows no
/// sign of life (`600s` by default; `90s`, `5m`, `1h`, `500ms`, or plain seconds).
pub const START_GRACE_ENV: &str = "KUEUELEULEU_STEP_START_GRACE";
/// How long a timed-out command gets between SIGTERM and SIGKILL (`30s` by default).
pub const KILL_GRACE_ENV: &str = "KUEUELEULEU_STEP_KILL_GRACE";
/// How long a failed step is held for debugging when nobody decides (`1h` by default).
pub const DEBUG_TIMEOUT_ENV: &str = "KUEUELEULEU_STEP_DEBUG_TIMEOUT";

/// A duration from the environment: `Ok(None)` when unset, `Err` naming the variable when
/// it is not a duration.
/// `install DEST`: copies the runner, once the guard of `resources: max` has passed.
fn install_runner(dest: &str) -> i32 {
    match super::install::install(Path::new(dest)) {
        Ok(()) => 0,
        Err(e) => {
            super::diag(format_args!("{e}"));
            exit_code::INTERNAL
        }
    }
}

fn env_duration(name: &str) -> Result<Option<std::time::Duration>, String> {
    match std::env::var(name) {
        Err(_) => Ok(None),
        Ok(raw) => parse_duration(&raw)
            .map(Some)
            .ok_or_else(|| format!("{name}={raw:?} is not a duration (e.g. 90s, 5m, 1h)")),
    }
}

/// The Pod's name and namespace for the debug instructions, as far as a container knows
/// them: `HOSTNAME` (the Pod's name unless `spec.hostname` is set), and the namespace file
/// of the service account mount when one is mounted.
fn pod_identity() -> (Option<String>, Option<String>) {
    let pod = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty());
    let ns = std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    (pod, ns)
}

fn run(args: StepArgs) -> i32 {
    let nofile = raise_open_files_limit();
    let termination_path = args
        .termination_path
        .clone()
        .unwrap_or_else(|| DEFAULT_TERMINATION_PATH.to_string());
    let recorder = FsRecorder::new(&args.run_dir, termination_path);
    let mut waiter = DirWaiter::default();
    let mut executor = ProcessExecutor {
        nofile,
        ..ProcessExecutor::default()
    };
    let mut pauser = RunDirPauser::new(&args.run_dir);
    let mut bad_env = None;
    for (name, slot) in [
        (START_GRACE_ENV, &mut waiter.start_grace),
        (KILL_GRACE_ENV, &mut executor.kill_grace),
        (DEBUG_TIMEOUT_ENV, &mut pauser.debug_timeout),
    ] {
        match env_duration(name) {
            Ok(Some(d)) => *slot = d,
            Ok(None) => {}
            Err(why) => bad_env = bad_env.or(Some(why)),
        }
    }
    if args.debug_on_failure {
        let (pod, ns) = pod_identity();
        pauser.instructions = super::debug::instructions(&args.name, pod.as_deref(), ns.as_deref());
    }
    let validated = args.validate();
    let mut step = Step {
        args,
        waiter,
        executor,
        recorder,
        clock: SystemClock,
        pauser,
    };
    if let Err(e) = validated {
        // The run dir itself may be what is wrong: only claim one that is absolute.
        if matches!(
            &e,
            ParseError::NotAbsolute {
                flag: "--run-dir",
                ..
            }
        ) {
            super::diag(format_args!("{e}"));
            return exit_code::USAGE;
        }
        return step.refuse(e.to_string(), exit_code::USAGE).exit_code;
    }
    if let Some(why) = bad_env {
        return step.refuse(why, exit_code::USAGE).exit_code;
    }
    // Signals first, while the runner has a single thread: every thread started later
    // inherits the blocked set, so no signal can slip past the signalfd.
    let mut signals = match SignalFd::install() {
        Ok(s) => s,
        Err(e) => {
            let why = format!("cannot set up signal handling: {e}");
            return step.refuse(why, exit_code::INTERNAL).exit_code;
        }
    };
    step.run(&mut signals).exit_code
}

/// Raises the runner's own soft open-files limit to the hard one, so that a container
/// started with a tiny limit still lets it claim, wait and record; returns the limit to
/// restore for the command (`None` when nothing changed).
fn raise_open_files_limit() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls with live pointers.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max
        {
            return None;
        }
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        (libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0).then_some(limit)
    }
}
