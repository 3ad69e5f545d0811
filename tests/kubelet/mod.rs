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

pub mod expand;
pub mod faults;
pub mod pod;
pub mod sandbox;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use faults::Fault;
use pod::{Container, Pod};
use sandbox::{Mount, Sandbox};

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

struct PodCtx {
    kubelet: Kubelet,
    pod: Pod,
    dir: PathBuf,
    volumes: HashMap<String, PathBuf>,
    shared: SharedRef,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn supervise(ctx: Arc<PodCtx>) {
    let n_init = ctx.pod.spec.init_containers.len();
    for i in 0..n_init {
        if !run_container(&ctx, i) {
            finish(&ctx, Phase::Failed);
            return;
        }
    }
    let mut rng = Rng(ctx.kubelet.seed | 1);
    let mut order: Vec<usize> = (0..ctx.pod.spec.containers.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    let max_delay = ctx.kubelet.max_start_delay.as_micros().max(1) as u64;
    let mut threads = Vec::new();
    for idx in order {
        std::thread::sleep(Duration::from_micros(rng.next() % max_delay));
        let ctx = ctx.clone();
        threads.push(std::thread::spawn(move || {
            run_container(&ctx, n_init + idx)
        }));
    }
    let mut ok = true;
    for t in threads {
        ok &= t.join().unwrap_or(false);
    }
    finish(&ctx, if ok { Phase::Succeeded } else { Phase::Failed });
}

fn finish(ctx: &PodCtx, phase: Phase) {
    let mut s = lock(&ctx.shared);
    s.finished = Some(phase);
    ctx.shared.1.notify_all();
}

/// Runs container `idx` (init first) with restarts; true when it ended successfully.
fn run_container(ctx: &PodCtx, idx: usize) -> bool {
    let spec = &ctx.pod.spec;
    let c = if idx < spec.init_containers.len() {
        &spec.init_containers[idx]
    } else {
        &spec.containers[idx - spec.init_containers.len()]
    };
    let on_failure = spec.restart_policy.as_deref() == Some("OnFailure");
    if faults::any(&ctx.kubelet.faults, |f| {
        *f == Fault::NeverStarts(c.name.clone())
    }) {
        return false; // waiting forever (ErrImagePull), as far as the Pod can tell
    }
    let mut n = 0;
    loop {
        if lock(&ctx.shared).stopping {
            return false;
        }
        let attempt = run_once(ctx, idx, c, n);
        let ok = attempt.exit_code == 0;
        {
            let mut s = lock(&ctx.shared);
            let st = &mut s.containers[idx];
            st.pid = None;
            st.live_logs.clear();
            st.attempts.push(attempt);
            ctx.shared.1.notify_all();
        }
        if ok || !on_failure {
            return ok;
        }
        n += 1;
        std::thread::sleep(ctx.kubelet.restart_delay);
    }
}

fn start_error(msg: String) -> Attempt {
    let now = SystemTime::now();
    Attempt {
        exit_code: 128,
        signal: None,
        reason: "StartError".into(),
        message: msg,
        started_at: now,
        finished_at: now,
        logs: Vec::new(),
    }
}

fn run_once(ctx: &PodCtx, idx: usize, c: &Container, n: usize) -> Attempt {
    match prepare(ctx, c, n) {
        Ok((cmd, term)) => launch(ctx, idx, c, cmd, &term),
        Err(e) => start_error(e),
    }
}

fn security<'a>(
    ctx: &'a PodCtx,
    c: &'a Container,
) -> impl Fn(fn(&pod::SecurityContext) -> Option<u32>) -> Option<u32> + 'a {
    move |f| {
        c.security_context
            .as_ref()
            .and_then(f)
            .or_else(|| ctx.pod.spec.security_context.as_ref().and_then(f))
    }
}

/// Builds the command (env, argv, sandbox) for one start of `c`.
fn prepare(ctx: &PodCtx, c: &Container, n: usize) -> Result<(Command, PathBuf), String> {
    let pod = &ctx.pod;
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOSTNAME".into(), pod.name.clone()),
        ("HOME".into(), "/root".into()),
    ];
    for e in &c.env {
        let value = match (&e.value, &e.value_from) {
            (_, Some(from)) => {
                let field = from["fieldRef"]["fieldPath"].as_str().unwrap_or_default();
                match field {
                    "metadata.name" => pod.name.clone(),
                    "metadata.namespace" => pod.namespace.clone(),
                    "metadata.uid" => pod.uid.clone(),
                    "spec.nodeName" => "emulated-node".into(),
                    "status.podIP" | "status.hostIP" => "127.0.0.1".into(),
                    _ => return Err(format!("env {}: valueFrom {from} is not emulated", e.name)),
                }
            }
            (Some(v), None) => {
                let snapshot = env.clone();
                let lookup = move |k: &str| {
                    snapshot
                        .iter()
                        .rev()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                };
                expand::expand(v, &lookup)
            }
            (None, None) => String::new(),
        };
        env.retain(|(k, _)| *k != e.name);
        env.push((e.name.clone(), value));
    }
    let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let argv: Vec<String> = c
        .command
        .iter()
        .chain(&c.args)
        .map(|a| expand::expand(a, &lookup))
        .collect();
    if c.command.is_empty() {
        return Err(format!(
            "container {}: no command (the emulator's images have no entrypoint)",
            c.name
        ));
    }
    let overlay = ctx.kubelet.overlays.iter().find(|o| o.matches(&c.image));
    let mut mounts = Vec::new();
    for vm in &c.volume_mounts {
        let faults = &ctx.kubelet.faults;
        if faults::any(faults, |f| {
            *f == Fault::Unmounted {
                container: c.name.clone(),
                volume: vm.name.clone(),
            }
        }) {
            continue;
        }
        let forced_ro = faults::any(faults, |f| *f == Fault::ReadOnlyVolume(vm.name.clone()));
        let mut source = ctx
            .volumes
            .get(&vm.name)
            .ok_or_else(|| format!("container {}: no volume {:?}", c.name, vm.name))?
            .clone();
        if let Some(sub) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) {
            source = source.join(sub);
            if !source.exists() {
                std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
            }
        }
        mounts.push(Mount {
            target: PathBuf::from(&vm.mount_path),
            source,
            read_only: vm.read_only || forced_ro,
        });
    }
    if let Some(o) = overlay {
        for (target, host) in &o.files {
            mounts.push(Mount {
                target: PathBuf::from(target),
                source: host.clone(),
                read_only: true,
            });
        }
    }
    let read_only_root = c
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        == Some(true);
    let term = ctx.dir.join("term").join(format!("{}-{n}", c.name));
    std::fs::write(&term, b"").map_err(|e| e.to_string())?;
    std::fs::set_permissions(&term, std::fs::Permissions::from_mode(0o666))
        .map_err(|e| e.to_string())?;
    let term_path = c
        .termination_message_path
        .clone()
        .unwrap_or_else(|| "/dev/termination-log".into());
    mounts.push(Mount {
        target: PathBuf::from(term_path),
        source: term.clone(),
        read_only: read_only_root,
    });

    let sec = security(ctx, c);
    let uid = sec(|s| s.run_as_user).or(overlay.and_then(|o| o.user));
    let gid = sec(|s| s.run_as_group).or(uid);
    let non_root = c
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root)
        .or_else(|| {
            pod.spec
                .security_context
                .as_ref()
                .and_then(|s| s.run_as_non_root)
        });
    if non_root == Some(true) && uid.unwrap_or(0) == 0 {
        return Err(format!(
            "container {}: runAsNonRoot and the image runs as root",
            c.name
        ));
    }
    let sandbox = Sandbox {
        root: ctx.dir.join("rootfs"),
        mounts,
        working_dir: c
            .working_dir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into()),
        read_only_root,
        user: uid.map(|u| (u, gid.unwrap_or(u))),
    };
    let plan = sandbox
        .plan()
        .map_err(|e| format!("container {}: {e}", c.name))?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let nofile = ctx.kubelet.faults.iter().find_map(|f| match f {
        Fault::OpenFiles {
            container,
            soft,
            hard,
        } if *container == c.name => Some(libc::rlimit {
            rlim_cur: *soft,
            rlim_max: *hard,
        }),
        _ => None,
    });
    let killed = faults::any(&ctx.kubelet.faults, |f| {
        *f == Fault::KilledAtStart(c.name.clone())
    });
    // SAFETY: `enter` and `setrlimit` only make raw syscalls on data prepared before fork.
    unsafe {
        cmd.pre_exec(move || {
            plan.enter()?;
            if killed {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            if let Some(limit) = &nofile
                && libc::setrlimit(libc::RLIMIT_NOFILE, limit) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok((cmd, term))
}

fn launch(ctx: &PodCtx, idx: usize, c: &Container, mut cmd: Command, term: &Path) -> Attempt {
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return start_error(format!("container {}: cannot start: {e}", c.name)),
    };
    let started_at = SystemTime::now();
    {
        let mut s = lock(&ctx.shared);
        s.containers[idx].pid = Some(child.id() as i32);
        ctx.shared.1.notify_all();
    }
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(i, r)| r.map(|r| (i == 1, r)))
    .map(|(stderr, r)| {
        let shared = ctx.shared.clone();
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(r).split(b'\n') {
                let Ok(line) = line else { break };
                let l = LogLine {
                    time: SystemTime::now(),
                    stderr,
                    text: String::from_utf8_lossy(&line).into_owned(),
                };
                let mut s = lock(&shared);
                s.containers[idx].live_logs.push(l.clone());
                shared.1.notify_all();
                drop(s);
                lines.push(l);
            }
            lines
        })
    })
    .collect();
    let status = child.wait();
    let finished_at = SystemTime::now();
    let mut logs: Vec<LogLine> = readers
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    logs.sort_by_key(|l| l.time);
    use std::os::unix::process::ExitStatusExt;
    let (exit_code, signal) = match status {
        Ok(st) => match (st.code(), st.signal()) {
            (Some(code), _) => (code, None),
            (None, Some(sig)) => (128 + sig, Some(sig)),
            _ => (255, None),
        },
        Err(_) => (255, None),
    };
    let mut message = std::fs::read(term).unwrap_or_default();
    message.truncate(4096);
    let mut message = String::from_utf8_lossy(&message).into_owned();
    if message.is_empty()
        && exit_code != 0
        && c.termination_message_policy.as_deref() == Some("FallbackToLogsOnError")
    {
        let tail: Vec<&str> = logs
            .iter()
            .rev()
            .take(80)
            .map(|l| l.text.as_str())
            .collect();
        message = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        if message.len() > 2048 {
            let mut cut = message.len() - 2048;
            while !message.is_char_boundary(cut) {
                cut += 1;
            }
            message = message[cut..].to_string();
        }
    }
    Attempt {
        exit_code,
        signal,
        reason: if exit_code == 0 { "Completed" } else { "Error" }.into(),
        message,
        started_at,
        finished_at,
        logs,
    }
}

/// A read-only view of the running Pod for [`RunningPod::wait_until`].
pub struct PodView<'a> {
    pub containers: &'a [ContainerState],
}

impl PodView<'_> {
    pub fn container(&self, name: &str) -> &ContainerState {
        self.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    }
}

impl RunningPod {
    /// Blocks until `pred` holds or `timeout` passes (an error naming the state then).
    pub fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&PodView) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.shared);
        loop {
            if pred(&PodView {
                containers: &s.containers,
            }) {
                return Ok(());
            }
            if s.finished.is_some() {
                return Err(format!("pod ended before {what}: {:#?}", s.containers));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("timed out waiting for {what}: {:#?}", s.containers));
            }
            s = self
                .shared
                .1
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The Pod's directory on the host (`volumes/<name>` holds each emptyDir).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The host pid of a running container's process.
    pub fn pid(&self, name: &str) -> Option<i32> {
        lock(&self.shared)
            .containers
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.pid)
    }

    /// Sends `sig` to one container's process (what a crash or the OOM killer does).
    pub fn signal(&self, name: &str, sig: i32) {
        if let Some(pid) = self.pid(name) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Sends `sig` to every running container and stops restarts: Pod deletion.
    pub fn signal_all(&self, sig: i32) {
        let mut s = lock(&self.shared);
        s.stopping = true;
        for pid in s.containers.iter().filter_map(|c| c.pid) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Waits for the Pod to end. Past `timeout` every container is SIGKILLed and the state
    /// so far is returned as an error: nothing can hang a test.
    pub fn wait(mut self, timeout: Duration) -> Result<PodRun, String> {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.shared);
        while s.finished.is_none() {
            let now = Instant::now();
            if now >= deadline {
                drop(s);
                self.kill_all();
                return Err(format!(
                    "pod did not finish within {timeout:?} (seed {}): {:#?}",
                    self.seed,
                    lock(&self.shared).containers
                ));
            }
            s = self
                .shared
                .1
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let phase = s.finished.unwrap();
        let containers = s.containers.clone();
        drop(s);
        if let Some(t) = self.supervisor.take() {
            let _ = t.join();
        }
        Ok(PodRun {
            phase,
            containers,
            dir: self.dir.clone(),
            seed: self.seed,
        })
    }

    fn kill_all(&self) {
        let mut s = lock(&self.shared);
        s.stopping = true;
        for pid in s.containers.iter().filter_map(|c| c.pid) {
            // SAFETY: plain syscall.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl Drop for RunningPod {
    fn drop(&mut self) {
        if self.supervisor.is_some() {
            self.kill_all();
            faults::unmount_below(&self.dir);
        }
    }
}

impl Drop for PodRun {
    fn drop(&mut self) {
        faults::unmount_below(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn api_time(t: SystemTime) -> String {
    let full = kueueleuleu::step::clock::format_rfc3339(t);
    format!("{}Z", &full[..19])
}

fn terminated(a: &Attempt) -> serde_json::Value {
    let mut t = serde_json::json!({
        "exitCode": a.exit_code,
        "reason": a.reason,
        "startedAt": api_time(a.started_at),
        "finishedAt": api_time(a.finished_at),
    });
    if !a.message.is_empty() {
        t["message"] = a.message.clone().into();
    }
    if let Some(sig) = a.signal {
        t["signal"] = sig.into();
    }
    serde_json::json!({ "terminated": t })
}

impl PodRun {
    /// A container by name (init or regular).
    pub fn container(&self, name: &str) -> &ContainerState {
        self.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    }

    /// The Pod's `status` as the API server shows it.
    pub fn status(&self) -> serde_json::Value {
        let cs = |init: bool| -> Vec<serde_json::Value> {
            self.containers
                .iter()
                .filter(|c| c.init == init)
                .map(|c| {
                    let n = c.attempts.len();
                    serde_json::json!({
                        "name": c.name,
                        "image": c.image,
                        "ready": false,
                        "started": false,
                        "restartCount": n.saturating_sub(1),
                        "state": c.last().map(terminated).unwrap_or_else(|| serde_json::json!({"waiting": {"reason": "PodInitializing"}})),
                        "lastState": if n >= 2 { terminated(&c.attempts[n - 2]) } else { serde_json::json!({}) },
                    })
                })
                .collect()
        };
        serde_json::json!({
            "phase": match self.phase { Phase::Running => "Running", Phase::Succeeded => "Succeeded", Phase::Failed => "Failed" },
            "initContainerStatuses": cs(true),
            "containerStatuses": cs(false),
        })
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
