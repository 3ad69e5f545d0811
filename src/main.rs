//! `kueueleuleu`: the KRM function and CLI. All I/O lives here; the work is in the library.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{self, Overrides};
use kueueleuleu::results;
use serde::Deserialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run the containers of annotated Pods, Jobs and CronJobs one after the other.
///
/// With no subcommand, stdin decides: a ResourceList (kpt, kustomize) is processed as a KRM
/// function and written back with `results`; a plain YAML stream or `kind: List` is converted
/// (so `helm --post-renderer kueueleuleu` works). Objects are selected by the annotation
/// `kueueleuleu.io/sequential: "true"`, or all of them with --all.
///
/// Exit status: 0 on success; 1 when an object could not be converted (every object is then
/// written back unchanged, and the reasons go to stderr) or the input was unreadable (nothing
/// is written); 2 on a usage error.
#[derive(Parser, Debug)]
#[command(name = "kueueleuleu", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    select: Selection,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert selected objects into sequential form (idempotent); writes a YAML stream.
    Convert(Io),
    /// Restore every object in sequential form to what was written before conversion.
    Revert(Io),
}

#[derive(Args, Debug)]
struct Io {
    /// Input file, directory (its *.yaml, *.yml and *.json files, sorted) or `-` for stdin.
    /// Repeatable. Default: stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    files: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
struct Selection {
    /// Convert every Pod, Job and CronJob, annotated or not (config: `selectAll: true`).
    #[arg(long, global = true)]
    all: bool,
    /// Function config file: `kind: Sequential` (fn.kueueleuleu.io/v1alpha1) or a ConfigMap.
    /// Takes the place of a ResourceList's functionConfig.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kueueleuleu: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    // `--all` and `--config` are global: clap gathers them into `cli.select` wherever they
    // appear on the command line.
    let select = cli.select;
    let (op, files) = match cli.command {
        None => (Operation::Convert, Vec::new()),
        Some(Command::Convert(io)) => (Operation::Convert, io.files),
        Some(Command::Revert(io)) => (Operation::Revert, io.files),
    };
    let overrides = Overrides {
        config: select.config.as_deref().map(read_config).transpose()?,
        select_all: select.all,
    };
    let input = read_inputs(&files)?;
    let output = match pipeline::run(&input, op, &overrides) {
        Ok(output) => output,
        Err(e) => bail!("{e}"),
    };
    for report in &output.reports {
        // kpt shows results itself; kustomize, Helm and Argo CD only show stderr.
        let noteworthy =
            report.severity > kueueleuleu::convert::Severity::Info || !output.resource_list;
        if noteworthy {
            eprintln!("{}", results::line(report));
        }
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the output")?,
    }
    Ok(if output.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read_config(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --config {}", path.display()))?;
    serde_json::Value::deserialize(serde_yaml::Deserializer::from_str(&text))
        .with_context(|| format!("--config {} is not valid YAML", path.display()))
}

/// Reads every input into one stream; documents of separate files are kept apart by `---`.
fn read_inputs(files: &[PathBuf]) -> Result<Vec<u8>> {
    if files.is_empty() {
        return read_stdin();
    }
    let mut out = Vec::new();
    for path in files {
        for part in expand(path)? {
            let bytes = if part == Path::new("-") {
                read_stdin()?
            } else {
                std::fs::read(&part).with_context(|| format!("reading {}", part.display()))?
            };
            if !out.is_empty() {
                if !out.ends_with(b"\n") {
                    out.push(b'\n');
                }
                out.extend_from_slice(b"---\n");
            }
            out.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

fn expand(path: &Path) -> Result<Vec<PathBuf>> {
    if path == Path::new("-") || !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading directory {}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "directory {} has no .yaml, .yml or .json files",
            path.display()
        );
    }
    Ok(files)
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("reading stdin")?;
    Ok(buf)
}
