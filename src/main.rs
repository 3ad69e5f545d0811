//! `kueueleuleu`: the KRM function and CLI. All I/O lives here; the work is in the library.

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use kueueleuleu::cli::progress::Progress;
use kueueleuleu::cli::report::{self, ColorChoice, Mode};
use kueueleuleu::convert::Severity;
use kueueleuleu::object::Operation;
use kueueleuleu::pipeline::{self, Overrides};
use kueueleuleu::{input, results, yaml};
use std::io::Write;
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
    #[command(flatten)]
    plugin: PluginMode,
    #[command(flatten)]
    output: OutputFlags,
}

/// How messages on stderr look; see src/cli/report.rs.
#[derive(Args, Debug, Clone, Default)]
struct OutputFlags {
    /// Print only warnings and errors on stderr: hides info messages (such as "nothing was
    /// selected" and resolve's summary) and the progress line. Exit status and stdout are
    /// the same.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Colour the severity word of stderr messages.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert selected objects into sequential form (idempotent); writes a YAML stream.
    Convert(Io),
    /// Restore every object in sequential form to what was written before conversion.
    Revert(Io),
    /// Read images' ENTRYPOINT and CMD from their registries into the config's `commands`.
    Resolve(kueueleuleu::registry::Args),
    /// Show each step's state, exit code, true start and duration (table, JSON or YAML).
    Status(kueueleuleu::status::cli::Args),
    /// Print a completion script for SHELL (bash, zsh, fish, powershell) on stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, or write every page into --out-dir.
    Man {
        /// Write kueueleuleu.1 and one page per subcommand into this directory.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// How an orchestrator's plugin runs us; hidden: the plugin files in examples/ set them.
#[derive(Args, Debug, Clone, Default)]
struct PluginMode {
    /// Read the function config from the environment an orchestrator sets (argocd: plugin
    /// parameters and plugin env of the Application).
    #[arg(long, value_enum, value_name = "FROM", global = true, hide = true)]
    config_from_env: Option<EnvSource>,
    /// Helm 4 post-renderer plugin: on failure, write the messages to stdout as one YAML
    /// string and exit 0, because Helm 4 drops a plugin's stderr and exit status but quotes
    /// a document it cannot parse (see src/helm.rs).
    #[arg(long, global = true, hide = true)]
    helm_plugin: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
enum EnvSource {
    Argocd,
}

#[derive(Args, Debug)]
struct Io {
    /// Input file, directory (its *.yaml, *.yml and *.json files, sorted) or `-` for stdin.
    /// Repeatable. Default: stdin. Symlinks are followed.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    files: Vec<PathBuf>,
    /// Read directories given with -f recursively (without it, subdirectories holding
    /// manifests are named on stderr and skipped).
    #[arg(short = 'R', long)]
    recursive: bool,
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
    /// Image holding kueueleuleu-step, in place of the config's `image` (default: the
    /// release image of this version).
    #[arg(long, value_name = "IMAGE", global = true, value_parser = image_reference)]
    image: Option<String>,
    /// How the runner reaches the Pod, in place of the config's `install`: initContainer
    /// (copied by an init container, the default) or imageVolume (the image mounted as an
    /// `image` volume; Kubernetes 1.35+, containerd 2.2+ or CRI-O 1.33+ on the nodes).
    #[arg(long, value_name = "MODE", global = true, value_parser = install_mode)]
    install: Option<kueueleuleu::config::Install>,
    /// What the Pod requests, in place of the config's `resources`: keep (each step keeps
    /// its resources, the Pod requests their sum; the default) or max (the Pod requests its
    /// largest step's cpu and memory through pod-level resources; Kubernetes 1.34+).
    #[arg(long, value_name = "POLICY", global = true, value_parser = resource_policy)]
    resources: Option<kueueleuleu::config::ResourcePolicy>,
}

fn image_reference(text: &str) -> Result<String, String> {
    if text.trim().is_empty() || text.contains(char::is_whitespace) {
        return Err(format!("{text:?} is not one image reference"));
    }
    Ok(text.to_string())
}

fn install_mode(text: &str) -> Result<kueueleuleu::config::Install, String> {
    kueueleuleu::config::Install::parse(text)
}

fn resource_policy(text: &str) -> Result<kueueleuleu::config::ResourcePolicy, String> {
    kueueleuleu::config::ResourcePolicy::parse(text)
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(kueueleuleu::status::cli::plugin_argv(std::env::args_os()));
    let helm_plugin = cli.plugin.helm_plugin;
    if helm_plugin {
        report::keep_lines();
    }
    // Orchestrators run us without a subcommand (kpt, kustomize, Helm's post-renderer) or
    // with a plugin flag (Helm 4, Argo CD): they capture stderr, a person reads the rest.
    let mode = match cli.command {
        Some(Command::Convert(_) | Command::Revert(_) | Command::Resolve(_))
            if !helm_plugin && cli.plugin.config_from_env.is_none() =>
        {
            Mode::Interactive
        }
        _ => Mode::Orchestrated,
    };
    report::init(report::decide(
        cli.output.color,
        cli.output.quiet,
        mode,
        &report::Env::current(),
    ));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            say(Severity::Error, &format!("kueueleuleu: error: {e:#}"));
            if helm_plugin {
                return helm_failure();
            }
            ExitCode::from(1)
        }
    }
}

use report::say;

/// Helm 4 plugin mode, failed run: the messages as one YAML string on stdout, exit 0 (Helm
/// then fails, quoting them). If stdout cannot take it, exit 1 is all that is left.
fn helm_failure() -> ExitCode {
    let doc = kueueleuleu::helm::failure_document(&report::take_kept());
    let mut out = std::io::stdout().lock();
    match out.write_all(doc.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

/// `completions` and `man`: generated from this file's clap definition.
fn print_docs(command: &Command) -> Result<()> {
    let mut cli = Cli::command();
    let mut out = std::io::stdout().lock();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cli, "kueueleuleu", &mut out)
        }
        Command::Man { out_dir: None } => clap_mangen::Man::new(cli).render(&mut out)?,
        Command::Man { out_dir: Some(dir) } => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cli, dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?
        }
        _ => {} // the other subcommands are handled by run()
    }
    out.flush().context("writing to stdout")
}

fn run(cli: Cli) -> Result<ExitCode> {
    // `--all` and `--config` are global: clap gathers them into `cli.select` wherever they
    // appear on the command line.
    let select = cli.select;
    let (op, files, recursive) = match cli.command {
        None => (Operation::Convert, Vec::new(), false),
        Some(Command::Convert(io)) => (Operation::Convert, io.files, io.recursive),
        Some(Command::Revert(io)) => (Operation::Revert, io.files, io.recursive),
        Some(Command::Resolve(args)) => {
            anyhow::ensure!(
                select.image.is_none() && select.install.is_none(),
                "--image and --install set how converted Pods get the runner; resolve only \
                 reads entrypoints (give them to convert, or write them in the --config file)"
            );
            return kueueleuleu::registry::run(args, select.config.as_deref(), select.all);
        }
        Some(Command::Status(args)) => return kueueleuleu::status::cli::run(args),
        Some(docs) => return print_docs(&docs).map(|()| ExitCode::SUCCESS),
    };
    let mut config = select.config.as_deref().map(read_config).transpose()?;
    if let Some(EnvSource::Argocd) = cli.plugin.config_from_env {
        let from_env = kueueleuleu::argocd::config_from_env(std::env::vars_os())
            .context("Argo CD plugin parameters")?;
        if !from_env.is_null() {
            anyhow::ensure!(
                config.is_none(),
                "--config and the Argo CD plugin parameters both set the config; use one"
            );
            config = Some(from_env);
        }
    }
    let overrides = Overrides {
        config,
        select_all: select.all,
        image: select.image,
        install: select.install,
        resources: select.resources,
    };
    let gathered = input::gather(&files, recursive)?;
    for dir in &gathered.skipped_dirs {
        say(
            Severity::Warning,
            &format!(
                "kueueleuleu: warning: {dir}: subdirectory not read (it holds manifests); add -R to read it"
            ),
        );
    }
    let named = gathered.sources.len() > 1 || gathered.sources.iter().any(|s| s.name != "-");
    let mut outputs = Vec::with_capacity(gathered.sources.len());
    let bytes = gathered.sources.iter().map(|s| s.bytes.len() as u64).sum();
    let progress = Progress::start("converting", "inputs", gathered.sources.len(), bytes);
    for source in &gathered.sources {
        progress.working_on(&source.name);
        let output = pipeline::run(&source.bytes, op, &overrides).map_err(|e| {
            if named {
                anyhow::anyhow!("{}: {e}", source.name)
            } else {
                anyhow::anyhow!("{e}")
            }
        })?;
        progress.advance(source.bytes.len() as u64);
        outputs.push(output);
    }
    drop(progress);
    let failed = outputs.iter().any(|o| o.failed);
    let (mut workloads, mut selected) = (0, 0);
    for (source, output) in gathered.sources.iter().zip(&outputs) {
        workloads += output.workloads;
        selected += output.selected;
        let name = named.then_some(source.name.as_str());
        for report in output.reports.iter() {
            // kpt shows results itself; kustomize, Helm and Argo CD only show stderr.
            if report.severity > Severity::Info || !output.resource_list {
                say(report.severity, &results::line(&report, name));
            }
        }
    }
    let stream = outputs.iter().all(|o| !o.resource_list);
    if op == Operation::Convert && stream && selected == 0 && workloads > 0 {
        say(
            Severity::Info,
            &results::line(&pipeline::nothing_selected(workloads), None),
        );
    }
    // All or nothing across inputs too: when any object failed, every input is written back
    // as it came (a ResourceList's own output carries the error results).
    if failed && cli.plugin.helm_plugin {
        return Ok(helm_failure());
    }
    let stdout = std::io::stdout().lock();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, stdout);
    write_all(&mut stdout, &gathered.sources, &outputs, failed)
        .and_then(|()| stdout.flush())
        .context("writing the output (what was not written did not reach its reader)")?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes every input's output, `---` between inputs. When any object failed, stream inputs
/// are written back as they came (a ResourceList's own output carries the error results).
fn write_all(
    w: &mut impl Write,
    sources: &[input::Source],
    outputs: &[pipeline::Output<'_>],
    failed: bool,
) -> std::io::Result<()> {
    let mut line_open = false;
    for (i, (source, output)) in sources.iter().zip(outputs).enumerate() {
        if i > 0 {
            if line_open {
                w.write_all(b"\n")?;
            }
            w.write_all(b"---\n")?;
        }
        // A byte order mark may only start the whole stream: later inputs lose theirs.
        if failed && !output.resource_list {
            let bytes = match i {
                0 => &source.bytes[..],
                _ => source
                    .bytes
                    .strip_prefix("\u{feff}".as_bytes())
                    .unwrap_or(&source.bytes),
            };
            w.write_all(bytes)?;
            line_open = !bytes.is_empty() && !bytes.ends_with(b"\n");
        } else {
            match i {
                0 => output.write_to(w)?,
                _ => output.write_unmarked_to(w)?,
            }
            line_open = !output.ends_with_newline();
        }
    }
    Ok(())
}

fn read_config(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading --config {}", path.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let docs = yaml::tree::parse(text)
        .map_err(|e| anyhow::anyhow!("--config {} is not valid YAML: {e}", path.display()))?;
    match docs.into_iter().flatten().next() {
        None => Ok(serde_json::Value::Null),
        Some(root) => yaml::value::Resolver::new(&root)
            .value(&root)
            .map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display())),
    }
}
