//! `kueueleuleu status` (and `kubectl sequential status`, the same binary installed as a
//! kubectl plugin): which step of a converted Pod, Job or CronJob runs, and how each ended.

use anyhow::{Context, Result, bail};
use k8s_openapi::jiff::Timestamp;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::fetch::{Kubectl, Target};
use super::input::{Objects, display_name, parse, select};
use super::render::{PodSteps, table, value};
use super::{has_steps, step_statuses};

/// The file name kubectl looks for to run `kubectl sequential ...`.
pub const PLUGIN_FILE: &str = "kubectl-sequential";

/// Show each step's state, exit code, true start, duration and reason.
///
/// Reads a Pod, Job, CronJob or List (YAML or JSON, as `kubectl get -o yaml` prints it) from
/// -f or stdin, or fetches one from the cluster with kubectl (the `KUBECTL` variable names
/// the binary): `status pod/NAME`, `status job/NAME` (its Pods), `status cronjob/NAME` (its
/// newest Job's Pods).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fetch from the cluster: pod/NAME, job/NAME or cronjob/NAME (a bare NAME is a Pod).
    #[arg(value_name = "TYPE/NAME", conflicts_with = "file")]
    target: Option<String>,
    /// Read from a file (`-` for stdin) instead of the cluster. Default without TYPE/NAME:
    /// stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE|-")]
    file: Option<PathBuf>,
    /// Namespace to fetch from (kubectl's default otherwise).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// kubeconfig context to use.
    #[arg(long)]
    context: Option<String>,
    /// kubeconfig file to use.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Follow live: print the table again whenever it changes, until the Pod (or Job) ends.
    #[arg(short = 'w', long, requires = "target")]
    watch: bool,
    /// Output format: a table for people, or json/yaml for scripts.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Seconds between polls with --watch.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", hide = true)]
    interval: f64,
    /// The time running durations are measured to (RFC 3339); for reproducible output.
    #[arg(long, value_name = "RFC3339", hide = true, value_parser = parse_time)]
    now: Option<Timestamp>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Yaml,
}

/// Runs `status`; the exit code is 0 whatever the steps' states (as `kubectl get`).
pub fn run(args: Args) -> Result<ExitCode> {
    let out = std::io::stdout();
    let Some(target) = &args.target else {
        let (text, what) = read_input(args.file.as_deref())?;
        let objects = parse(&text, &what)?;
        if objects.is_empty() {
            bail!("{what}: no Pod, Job or CronJob in the input");
        }
        write(&mut out.lock(), &render(&args, objects, None)?.0)?;
        return Ok(ExitCode::SUCCESS);
    };
    let target = Target::parse(target)?;
    let kubectl = Kubectl {
        bin: std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into()),
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    // With --watch, a new table is printed when a step's state, times or reason change, not
    // each time a running step's duration ticks.
    let mut last: Option<String> = None;
    loop {
        let (objects, done) = kubectl.fetch(&target)?;
        let (text, key) = render(&args, objects, Some(&kubectl))?;
        if last.as_ref() != Some(&key) {
            let mut w = out.lock();
            if last.is_some() {
                write(&mut w, "\n")?;
            }
            write(&mut w, &text)?;
            last = Some(key);
        }
        if !args.watch || done {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval.clamp(0.1, 3600.0)));
    }
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse()
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

/// The wall clock (jiff's own `now` needs its `std` feature, which k8s-openapi leaves off).
fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(since.as_secs() as i64, since.subsec_nanos() as i32).unwrap_or_default()
}

fn write(w: &mut impl Write, text: &str) -> Result<()> {
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .context("writing the output")
}

fn read_input(file: Option<&Path>) -> Result<(String, String)> {
    match file {
        Some(path) if path != Path::new("-") => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok((text, path.display().to_string()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading stdin (give -f FILE or TYPE/NAME to read elsewhere)")?;
            Ok((text, "stdin".into()))
        }
    }
}

/// The chosen Pods' steps in the chosen format, and the data it shows (without the ticking
/// durations) as a key. A Pod not in sequential form is an error. With `kubectl` (fetched
/// from the cluster), the logs of steps that may be held for debugging are read too.
fn render(args: &Args, objects: Objects, kubectl: Option<&Kubectl>) -> Result<(String, String)> {
    let selection = select(objects, args.target.is_some())?;
    if selection.pods.is_empty() {
        if args.watch {
            return Ok((
                "no Pod yet: waiting for the Job to create one\n".into(),
                String::new(),
            ));
        }
        bail!("no Pod to show: the Job has not created one yet (add --watch to wait for it)");
    }
    let mut pods = Vec::with_capacity(selection.pods.len());
    for pod in &selection.pods {
        if !has_steps(pod) {
            bail!(
                "Pod {} is not in sequential form: none of its containers runs the step \
                 runner; convert it first (annotate it `kueueleuleu.io/sequential: \"true\"` \
                 and run `kueueleuleu convert`)",
                display_name(&pod.metadata)
            );
        }
        let mut steps = step_statuses(pod);
        if let Some(k) = kubectl {
            let (ns, name) = (
                pod.metadata.namespace.as_deref(),
                pod.metadata.name.as_deref(),
            );
            let tail = |c: &str| k.log_tail(ns, name?, c, super::held::TAIL_LINES);
            super::held::mark_held(&mut steps, &tail);
        }
        pods.push(PodSteps { pod, steps });
    }
    let data = value(&pods, selection.single);
    let key = data.to_string();
    let text = match args.output {
        Format::Table => table(
            &pods,
            selection.single,
            args.now.unwrap_or_else(now),
            args.context.as_deref(),
        ),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&data)?),
        Format::Yaml => crate::emit::block(&data, 0),
    };
    Ok((text, key))
}

/// The command line as `clap` should see it. Installed as `kubectl-sequential`, the binary
/// is a kubectl plugin: its usage then reads `kubectl sequential ...`, and with no arguments
/// it shows help rather than waiting on stdin.
pub fn plugin_argv(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let is_plugin = args.first().is_some_and(|a| {
        Path::new(a)
            .file_stem()
            .is_some_and(|stem| stem == PLUGIN_FILE)
    });
    if is_plugin {
        args[0] = "kubectl sequential".into();
        if args.len() == 1 {
            args.push("--help".into());
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_name_reads_as_kubectl_sequential() {
        let argv = |v: &[&str]| plugin_argv(v.iter().map(OsString::from));
        assert_eq!(
            argv(&["/usr/local/bin/kubectl-sequential", "status", "pod/x"]),
            ["kubectl sequential", "status", "pod/x"]
        );
        assert_eq!(
            argv(&["kubectl-sequential"]),
            ["kubectl sequential", "--help"]
        );
        assert_eq!(
            argv(&["/bin/kueueleuleu", "status"]),
            ["/bin/kueueleuleu", "status"]
        );
    }

    #[test]
    fn targets_read_as_kubectl_spells_them() {
        assert_eq!(Target::parse("x").unwrap(), Target::Pod("x".into()));
        assert_eq!(Target::parse("jobs/x").unwrap(), Target::Job("x".into()));
        assert_eq!(Target::parse("cj/x").unwrap(), Target::CronJob("x".into()));
        let err = Target::parse("deploy/x").unwrap_err().to_string();
        assert!(err.contains("not \"deploy\""), "{err}");
        assert!(Target::parse("pod/").is_err());
    }
}
