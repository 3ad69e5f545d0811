//! A kubelet emulator for end-to-end tests: it runs a rendered Pod as real processes, the
//! way the kubelet would, close enough to trust the step runner's behaviour under it.
//!
//! - init containers one at a time, then every regular container at once, in a random
//!   order with random small start delays (harsher than the kubelet);
//! - each container is a process in its own mount namespace ([`sandbox`]) whose "image" is
//!   the host root filesystem; an [`ImageOverlay`] maps the project's image to the freshly
//!   built binaries;
//! - `volumeMounts` (emptyDir, hostPath) are bind mounts, `readOnly` honoured; `env`,
//!   `command`, `args` get the kubelet's `$(VAR)` expansion ([`expand`]); `workingDir`,
//!   `runAsUser`/`runAsGroup` are applied;
//! - each container gets a fresh termination-message file per start, read back after it
//!   exits (4 KiB, `FallbackToLogsOnError` honoured);
//! - `restartPolicy: OnFailure` restarts a failed container in place.
//!
//! One deliberate deviation: with `readOnlyRootFilesystem: true` the termination-message
//! file is mounted read-only too (the kubelet keeps it writable), to model a termination
//! path the runner cannot write.
//!
//! Needs root, or unprivileged user namespaces (then `runAsUser`/`runAsGroup` cannot be
//! honoured: such a namespace maps one uid only); see [`sandbox_available`].

#![allow(dead_code)]

mod container;
pub mod expand;
pub mod faults;
pub mod pod;
pub mod running;
pub mod sandbox;
mod status;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use container::{PodCtx, supervise};
use faults::Fault;

/// Makes an image's files (as the real image would hold them) appear in containers using it.
#[derive(Debug, Clone)]
pub struct ImageOverlay {
    /// Matches an image whose repository is this or ends with `/` + this (any tag/digest).
    pub repository: String,
    /// (path in the container, host file) pairs bind mounted read-only.
    pub files: Vec<(String, PathBuf)>,
    /// The image's `USER`, applied when the Pod does not set `runAsUser`.
    pub user: Option<u32>,
}

impl ImageOverlay {
    fn matches(&self, image: &str) -> bool {
        let no_digest = image.split('@').next().unwrap_or(image);
        let repo = match no_digest.rfind(':') {
            Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
            _ => no_digest,
        };
        repo == self.repository || repo.ends_with(&format!("/{}", self.repository))
    }
}

/// The emulator's knobs.
#[derive(Debug, Clone)]
pub struct Kubelet {
    pub overlays: Vec<ImageOverlay>,
    /// Seed of the start order and delays (printed, so a failing order can be replayed with
    /// `KUBELET_SEED`).
    pub seed: u64,
    /// Regular containers start after a random delay in `0..max_start_delay`.
    pub max_start_delay: Duration,
    /// Pause before restarting a failed container (the kubelet backs off from 10 s).
    pub restart_delay: Duration,
    /// Injected faults ([`faults`]).
    pub faults: Vec<Fault>,
}

impl Default for Kubelet {
    fn default() -> Self {
        let seed = std::env::var("KUBELET_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    ^ u64::from(std::process::id())
            });
        Kubelet {
            overlays: Vec::new(),
            seed,
            max_start_delay: Duration::from_millis(30),
            restart_delay: Duration::from_millis(50),
            faults: Vec::new(),
        }
    }
}

/// Whether containers can be sandboxed here: root, or unprivileged user namespaces.
pub fn sandbox_available() -> Result<(), String> {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } == 0 {
        return Ok(());
    }
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    match probe {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "not root and user namespaces are unavailable (`unshare --user --mount` failed: {})",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("not root and `unshare` cannot run: {e}")),
    }
}

/// For tests: true when they can run; otherwise fails under `CI` and skips (with the reason
/// on stderr) elsewhere.
pub fn require_sandbox(test: &str) -> bool {
    match sandbox_available() {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run under CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

/// One line of a container's log, timestamped when the emulator read it.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub time: SystemTime,
    pub stderr: bool,
    pub text: String,
}

/// One run of a container.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub exit_code: i32,
    pub signal: Option<i32>,
    /// `Completed`, `Error` or `StartError`, as the kubelet reports them.
    pub reason: String,
    pub message: String,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub logs: Vec<LogLine>,
}

/// A container's history in the Pod.
#[derive(Debug, Clone, Default)]
pub struct ContainerState {
    pub name: String,
    pub image: String,
    pub init: bool,
    /// The host pid of the current run, while it runs.
    pub pid: Option<i32>,
    pub attempts: Vec<Attempt>,
    /// Log lines of the current run so far.
    pub live_logs: Vec<LogLine>,
}

impl ContainerState {
    /// The last finished run.
    pub fn last(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    /// The command's standard output in the last finished run: what tests compare exactly
    /// (the runner's own diagnostics go to stderr and never mix in).
    pub fn stdout(&self) -> String {
        self.last()
            .map(|a| {
                a.logs
                    .iter()
                    .filter(|l| !l.stderr)
                    .map(|l| format!("{}\n", l.text))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The text of the last finished run's log.
    pub fn logs(&self) -> String {
        self.last()
            .map(|a| a.logs.iter().map(|l| format!("{}\n", l.text)).collect())
            .unwrap_or_default()
    }
}

/// Pod phase as the API server reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Default)]
struct Shared {
    containers: Vec<ContainerState>,
    stopping: bool,
    finished: Option<Phase>,
}

type SharedRef = Arc<(Mutex<Shared>, Condvar)>;

fn lock(s: &SharedRef) -> std::sync::MutexGuard<'_, Shared> {
    s.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// A Pod being run.
pub struct RunningPod {
    shared: SharedRef,
    supervisor: Option<JoinHandle<()>>,
    dir: PathBuf,
    pub seed: u64,
}

/// A Pod that has ended; its directory (volumes) is removed when this is dropped.
#[derive(Debug)]
pub struct PodRun {
    pub phase: Phase,
    pub containers: Vec<ContainerState>,
    pub dir: PathBuf,
    pub seed: u64,
}

static POD_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Kubelet {
    /// Starts `pod_yaml` (a Pod, or a Job's template) and returns at once.
    pub fn start(&self, pod_yaml: &str) -> Result<RunningPod, String> {
        let pod = pod::parse(pod_yaml)?;
        match pod.spec.restart_policy.as_deref() {
            Some("Never") | Some("OnFailure") => {}
            other => {
                return Err(format!(
                    "the emulator runs restartPolicy Never/OnFailure, not {other:?}"
                ));
            }
        }
        let dir = std::env::temp_dir().join(format!(
            "kubelet-emu-{}-{}-{}",
            std::process::id(),
            POD_COUNTER.fetch_add(1, Ordering::Relaxed),
            pod.name
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["rootfs", "volumes", "term"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let mut volumes = HashMap::new();
        for v in &pod.spec.volumes {
            let path = match &v.host_path {
                Some(hp) => PathBuf::from(&hp.path),
                None => {
                    let p = dir.join("volumes").join(&v.name);
                    std::fs::create_dir_all(&p).map_err(|e| e.to_string())?;
                    // emptyDir is world-writable, like the kubelet makes it.
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777))
                        .map_err(|e| e.to_string())?;
                    for f in &self.faults {
                        if let Fault::TinyVolume {
                            volume,
                            pages,
                            inodes,
                            filled,
                        } = f
                            && *volume == v.name
                        {
                            faults::make_tiny_volume(&p, *pages, *inodes, *filled)?;
                        }
                    }
                    p
                }
            };
            volumes.insert(v.name.clone(), path);
        }
        let shared: SharedRef = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        {
            let mut s = lock(&shared);
            for (c, init) in pod
                .spec
                .init_containers
                .iter()
                .map(|c| (c, true))
                .chain(pod.spec.containers.iter().map(|c| (c, false)))
            {
                s.containers.push(ContainerState {
                    name: c.name.clone(),
                    image: c.image.clone(),
                    init,
                    ..Default::default()
                });
            }
        }
        eprintln!("kubelet-emulator: pod {} seed {}", pod.name, self.seed);
        let ctx = Arc::new(PodCtx {
            kubelet: self.clone(),
            pod,
            dir: dir.clone(),
            volumes,
            shared: shared.clone(),
        });
        let supervisor = std::thread::spawn(move || supervise(ctx));
        Ok(RunningPod {
            shared,
            supervisor: Some(supervisor),
            dir,
            seed: self.seed,
        })
    }

    /// Runs the Pod to its end, within `deadline` (after which everything is killed and the
    /// call fails with the state so far).
    pub fn run(&self, pod_yaml: &str, deadline: Duration) -> Result<PodRun, String> {
        self.start(pod_yaml)?.wait(deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_matches_repository_with_any_tag() {
        let o = ImageOverlay {
            repository: "kueueleuleu".into(),
            files: vec![],
            user: None,
        };
        for yes in [
            "kueueleuleu",
            "kueueleuleu:dev",
            "ghcr.io/x/kueueleuleu:v1",
            "localhost:5000/kueueleuleu@sha256:ab",
        ] {
            assert!(o.matches(yes), "{yes}");
        }
        for no in ["busybox", "ghcr.io/x/kueueleuleu-other:v1", "kueueleuleux"] {
            assert!(!o.matches(no), "{no}");
        }
    }
}
