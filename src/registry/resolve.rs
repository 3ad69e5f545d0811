//! `kueueleuleu resolve`: reads the selected containers' images from their registries and
//! writes what they run into the function config's `commands` map, so that converting (kpt,
//! kustomize, Argo CD, Helm) stays offline and reproducible.
//!
//! Reads: the manifests (`-f`, as `convert` does), the config file (`--config`), the Docker
//! config for credentials, and each image's manifest and config blob. Writes: only the config
//! file, and only when every image was read: one error means no change at all.

use super::auth::DockerConfig;
use super::client::{ImageInfo, Registry};
use super::commands_file::{self, Entry};
use super::platform::Platform;
use super::{reference, targets};
use crate::cli::progress::Progress;
use crate::cli::report;
use crate::config::Spec as Config;
use crate::convert::Severity;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Read the ENTRYPOINT and CMD of images from their registries into the config's `commands`
/// (online; convert stays offline).
///
/// For every selected container without `command` (the annotation, or --all), reads its
/// image's config from the registry and writes `"IMAGE": {entrypoint: [...], cmd: [...]}` into
/// `spec.commands` of the file given with --config (created when missing; other content kept;
/// keys sorted), under a comment naming the digest read and the date. Images already in the
/// map are left alone unless --refresh. Credentials come from the Docker config
/// ($DOCKER_CONFIG/config.json or ~/.docker/config.json, credential helpers included). Nothing
/// is written when any image fails; every failure is listed.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input file, directory or `-` for stdin, as for convert. Repeatable. Default: stdin.
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    pub files: Vec<PathBuf>,
    /// Read directories given with -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Platform of a multi-arch image to read (OS/ARCH[/VARIANT]).
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH")]
    pub platform: Platform,
    /// Registry (HOST:PORT) reached over plain HTTP. Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure: Vec<String>,
    /// Read images already in the map again, and rewrite their entries.
    #[arg(long)]
    pub refresh: bool,
    /// Record the digest each entry was read from as a pin, and check pinned entries still
    /// match their tag (a tag that moved is an error until --refresh).
    #[arg(long)]
    pub pin: bool,
}

/// Runs `resolve`; `config` and `all` are the CLI's global --config and --all.
pub fn run(args: Args, config: Option<&Path>, all: bool) -> Result<ExitCode> {
    let Some(path) = config else {
        bail!(
            "resolve needs --config FILE: the function config whose `commands` it writes (created when missing)"
        );
    };
    let shown = path.display().to_string();
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading --config {shown}")),
    };
    let spec = match &existing {
        Some(text) => read_spec(&shown, text)?,
        None => Config::from_function_config(None)?,
    };
    let comments = match &existing {
        Some(text) => commands_file::existing_comments(&shown, text)?,
        None => BTreeMap::new(),
    };
    let gathered = crate::input::gather(&args.files, args.recursive)?;
    let mut uses = targets::Uses::new();
    for source in &gathered.sources {
        targets::images(
            &source.name,
            &source.bytes,
            all || spec.select_all,
            &mut uses,
        )?;
    }
    let mut todo = Vec::new();
    for image in uses.keys() {
        let known = spec.commands.contains_key(image);
        let pinned = comments.get(image).and_then(|c| pinned_digest(c));
        if !known || args.refresh || (args.pin && pinned.is_some()) {
            todo.push((image.clone(), pinned.filter(|_| known && !args.refresh)));
        }
    }
    if todo.is_empty() {
        say(&format!(
            "kueueleuleu: resolve: {} image(s) without command, all already in {shown}; nothing to read",
            uses.len()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let _ = rustls_graviola::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime for the registry client")?;
    let docker = DockerConfig::load()?;
    let registry = Registry::new(args.platform.clone(), &args.insecure);
    let today = today();
    let mut entries = BTreeMap::new();
    let mut errors = Vec::new();
    let progress = Progress::start("resolving", "images", todo.len(), 0);
    for (image, pinned) in &todo {
        progress.working_on(image);
        let result = runtime.block_on(read_one(&registry, &docker, image));
        progress.advance(0);
        let info = match result {
            Ok(info) => info,
            Err(e) => {
                errors.push(format!("{e:#} (used by {})", uses[image].join(", ")));
                continue;
            }
        };
        for w in &info.warnings {
            report::say(
                Severity::Warning,
                &format!("kueueleuleu: warning: {image}: {w}"),
            );
        }
        if let Some(pin) = pinned {
            if *pin != info.digest {
                errors.push(format!("{image}: pinned to {pin} in {shown}, but the tag now points to {}; check the change, then run resolve --refresh --pin to accept it", info.digest));
            }
            continue;
        }
        if info.entrypoint.is_empty() && info.cmd.is_empty() {
            errors.push(format!("{image}: the image sets neither ENTRYPOINT nor CMD, so nothing says what to run; add `command:` to the container (used by {})", uses[image].join(", ")));
            continue;
        }
        entries.insert(image.clone(), entry(image, &info, &today, args.pin));
    }
    drop(progress);
    if !errors.is_empty() {
        for e in &errors {
            report::say(Severity::Error, &format!("kueueleuleu: error: {e}"));
        }
        report::say(
            Severity::Error,
            &format!(
                "kueueleuleu: resolve: {} of {} image(s) failed; {shown} was not written",
                errors.len(),
                todo.len()
            ),
        );
        return Ok(ExitCode::from(1));
    }
    if entries.is_empty() {
        say(&format!(
            "kueueleuleu: resolve: every pinned image still matches its pin; {shown} unchanged"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let text = match &existing {
        Some(text) => commands_file::update(&shown, text, &entries)?,
        None => commands_file::new_file(&entries),
    };
    check(&shown, &text, &spec, &entries)?;
    if existing.as_deref() != Some(text.as_str()) {
        write_atomically(path, &text)?;
    }
    say(&format!(
        "kueueleuleu: resolve: wrote {} entr{} into {shown}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    ));
    Ok(ExitCode::SUCCESS)
}

async fn read_one(registry: &Registry, docker: &DockerConfig, image: &str) -> Result<ImageInfo> {
    let r = reference::parse(image)?;
    let auth = docker.auth_for(reference::host(&r))?;
    Ok(registry.fetch(image, &r, &auth).await?)
}

fn entry(image: &str, info: &ImageInfo, today: &str, pin: bool) -> Entry {
    let whole = reference::parse(image)
        .map(|r| r.whole())
        .unwrap_or_else(|_| image.into());
    let repo = whole.split('@').next().unwrap_or(&whole).to_string();
    let mut first = if pin {
        format!("pinned: {repo}@{}, read {today}", info.digest)
    } else {
        format!("{repo}@{}, read {today}", info.digest)
    };
    if let Some(p) = &info.platform {
        first.push_str(&format!(" ({p}: {})", info.platform_digest));
    }
    let mut notes = Vec::new();
    if let Some(w) = &info.workdir {
        notes.push(format!("workdir {w}"));
    }
    if let Some(u) = &info.user {
        notes.push(format!("user {u}"));
    }
    let mut comments = vec![first];
    if !notes.is_empty() {
        comments.push(notes.join(", "));
    }
    Entry {
        comments,
        entrypoint: info.entrypoint.clone(),
        cmd: info.cmd.clone(),
    }
}

/// The digest a `--pin` entry's comment names.
fn pinned_digest(chunk: &str) -> Option<String> {
    let line = chunk
        .lines()
        .find(|l| l.trim_start().starts_with("# pinned: "))?;
    let at = line.find('@')?;
    let digest = line[at + 1..].split([',', ' ']).next()?;
    Some(digest.to_string())
}

fn read_spec(shown: &str, text: &str) -> Result<crate::config::Spec> {
    let text = text.trim_start_matches('\u{feff}');
    let docs = crate::yaml::tree::parse(text)
        .map_err(|e| anyhow::anyhow!("--config {shown} is not valid YAML: {e}"))?;
    let value = match docs.into_iter().flatten().next() {
        None => serde_json::Value::Null,
        Some(root) => crate::yaml::value::Resolver::new(&root)
            .value(&root)
            .map_err(|e| anyhow::anyhow!("--config {shown}: {e}"))?,
    };
    if value.get("kind").and_then(|k| k.as_str()) == Some("ConfigMap") {
        bail!(
            "--config {shown} is a ConfigMap, whose `commands` is a string that resolve cannot update in place; use a `kind: Sequential` config file (its `spec` takes the same keys)"
        );
    }
    Config::from_function_config((!value.is_null()).then_some(&value))
        .with_context(|| format!("--config {shown}"))
}

/// The written text must read back as the old map plus the new entries: a guard against an
/// edit that would lose or garble something.
fn check(
    shown: &str,
    text: &str,
    before: &crate::config::Spec,
    entries: &BTreeMap<String, Entry>,
) -> Result<()> {
    let after = read_spec(shown, text).context(
        "internal: the updated config does not read back; nothing was written; please report this",
    )?;
    let mut want = before.commands.clone();
    for (k, e) in entries {
        want.insert(
            k.clone(),
            crate::config::ImageCommand::Full(crate::config::EntrypointAndCmd {
                entrypoint: e.entrypoint.clone(),
                cmd: e.cmd.clone(),
            }),
        );
    }
    let parts = |m: &BTreeMap<String, crate::config::ImageCommand>| {
        m.iter()
            .map(|(k, v)| (k.clone(), v.parts()))
            .collect::<Vec<_>>()
    };
    if parts(&after.commands) != parts(&want)
        || after.image != before.image
        || after.select_all != before.select_all
    {
        bail!(
            "internal: the updated {shown} would not read back as intended; nothing was written; please report this"
        );
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kueueleuleu-tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil(secs.div_euclid(86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Summaries are info (hidden by --quiet); warnings and errors use [`report::say`] itself.
fn say(line: &str) {
    report::say(Severity::Info, line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(civil(20_789), (2026, 12, 2));
    }

    #[test]
    fn pinned_digests_are_read_back() {
        let chunk = "    # pinned: docker.io/library/nginx:1.27@sha256:ab, read 2026-12-02 (linux/amd64: sha256:cd)\n    \"nginx:1.27\": {entrypoint: [], cmd: [nginx]}\n";
        assert_eq!(pinned_digest(chunk).as_deref(), Some("sha256:ab"));
        assert_eq!(pinned_digest("    # docker.io/x@sha256:ab\n"), None);
    }
}
