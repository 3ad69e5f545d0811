//! Running the containers of a Pod: init containers in order, then the rest at once in a
//! random order, each as a sandboxed process with restarts, logs and termination messages.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::faults::{self, Fault};
use super::pod::{self, Container, Pod};
use super::sandbox::{Mount, Sandbox};
use super::{Attempt, Kubelet, LogLine, Phase, SharedRef, expand, lock};

pub(super) struct PodCtx {
    pub(super) kubelet: Kubelet,
    pub(super) pod: Pod,
    pub(super) dir: PathBuf,
    pub(super) volumes: HashMap<String, PathBuf>,
    pub(super) shared: SharedRef,
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

pub(super) fn supervise(ctx: Arc<PodCtx>) {
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
