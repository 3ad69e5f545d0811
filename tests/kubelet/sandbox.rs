//! One container = one process in its own mount namespace whose root is built from the host:
//! a tmpfs root holding bind mounts of the host's top-level directories (the "image"), a
//! minimal `/dev`, the Pod's volumes, the termination-message file and any image overlay
//! files. Nothing on the host is modified: directories the container needs that the host
//! lacks are created inside tmpfs "shadows" of the host directories on their path.
//!
//! The plan is computed before `fork` (allocation is not safe after it in a threaded test
//! process); the child only replays it with raw syscalls.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// One bind mount into the container.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Absolute path in the container.
    pub target: PathBuf,
    /// Host file or directory.
    pub source: PathBuf,
    pub read_only: bool,
}

/// Everything needed to enter a container.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// An empty host directory to build the root on (shared by containers: each mounts its
    /// own tmpfs there, inside its own namespace).
    pub root: PathBuf,
    pub mounts: Vec<Mount>,
    pub working_dir: String,
    pub read_only_root: bool,
    pub user: Option<(u32, u32)>,
}

enum Op {
    Tmpfs(CString),
    Mkdir(CString),
    Touch(CString),
    Symlink(CString, CString),
    Bind {
        src: CString,
        dst: CString,
        recursive: bool,
    },
    RemountRo {
        dst: CString,
        keep: libc::c_ulong,
    },
}

/// The replayable plan.
pub struct Plan {
    ops: Vec<(Op, CString)>,
    root: CString,
    workdir: CString,
    user: Option<(u32, u32)>,
    userns: Option<[CString; 3]>,
    labels: [CString; 2],
}

fn c(p: impl AsRef<Path>) -> CString {
    CString::new(p.as_ref().as_os_str().as_bytes()).expect("path with NUL")
}

fn inside(root: &Path, p: &Path) -> PathBuf {
    root.join(p.strip_prefix("/").unwrap_or(p))
}

/// Ancestors of `p` from the first level down, excluding `/` and `p` itself.
fn proper_ancestors(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut cur = PathBuf::from("/");
    let comps: Vec<_> = p
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for comp in comps.iter().take(comps.len().saturating_sub(1)) {
        cur.push(comp);
        out.push(cur.clone());
    }
    out
}

const DEV_NODES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

impl Sandbox {
    /// Computes the plan. Mountpoints below another mount are created in that mount's
    /// source (as a runtime does); everything else stays off the host.
    pub fn plan(&self) -> io::Result<Plan> {
        let mut mounts = self.mounts.clone();
        mounts.sort_by_key(|m| m.target.components().count());
        let mut shadowed: BTreeSet<PathBuf> = BTreeSet::new();
        let mut created: BTreeSet<PathBuf> = BTreeSet::new();
        let mut points: Vec<(usize, bool)> = Vec::new(); // (mount index, create mountpoint in tmpfs)
        for (i, m) in mounts.iter().enumerate() {
            let is_dir = m.source.is_dir();
            let covering = mounts[..i]
                .iter()
                .filter(|o| m.target.starts_with(&o.target) && m.target != o.target)
                .max_by_key(|o| o.target.components().count());
            if let Some(cover) = covering {
                let host_point = cover
                    .source
                    .join(m.target.strip_prefix(&cover.target).unwrap());
                if is_dir {
                    std::fs::create_dir_all(&host_point)?;
                } else if !host_point.exists() {
                    std::fs::create_dir_all(host_point.parent().unwrap())?;
                    std::fs::write(&host_point, b"")?;
                }
                points.push((i, false));
                continue;
            }
            for a in proper_ancestors(&m.target) {
                if shadowed.contains(&a) || created.contains(&a) {
                    continue;
                }
                let parent_created = a.parent().is_some_and(|p| created.contains(p));
                match std::fs::symlink_metadata(&a) {
                    Ok(md) if md.is_dir() && !parent_created && a != Path::new("/dev") => {
                        shadowed.insert(a);
                    }
                    Ok(md) if md.file_type().is_symlink() && !parent_created => {
                        return Err(io::Error::other(format!(
                            "mount {} goes through host symlink {}",
                            m.target.display(),
                            a.display()
                        )));
                    }
                    _ if a == Path::new("/dev") => {}
                    _ => {
                        created.insert(a);
                    }
                }
            }
            let parent = m.target.parent().unwrap_or(Path::new("/"));
            let on_host = !created.contains(parent)
                && parent != Path::new("/dev")
                && std::fs::symlink_metadata(&m.target).is_ok_and(|md| md.is_dir() == is_dir);
            points.push((i, !on_host));
        }

        let root = &self.root;
        let mut ops: Vec<(Op, CString)> = Vec::new();
        let mut push = |op: Op, what: String| ops.push((op, CString::new(what).unwrap()));
        let mut shadow_queue = vec![PathBuf::from("/")];
        while let Some(dir) = shadow_queue.pop() {
            push(
                Op::Tmpfs(c(inside(root, &dir))),
                format!("tmpfs {}", dir.display()),
            );
            let mut entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let host = e.path();
                let there = inside(root, &host);
                let ft = e.file_type()?;
                if host == Path::new("/dev") {
                    push(Op::Mkdir(c(&there)), "mkdir /dev".into());
                    push(Op::Tmpfs(c(&there)), "tmpfs /dev".into());
                    for node in DEV_NODES {
                        let n = there.join(node);
                        push(Op::Touch(c(&n)), format!("touch /dev/{node}"));
                        push(
                            Op::Bind {
                                src: c(Path::new("/dev").join(node)),
                                dst: c(&n),
                                recursive: false,
                            },
                            format!("bind /dev/{node}"),
                        );
                    }
                    for sub in ["pts", "shm"] {
                        let n = there.join(sub);
                        push(Op::Mkdir(c(&n)), format!("mkdir /dev/{sub}"));
                        push(
                            Op::Bind {
                                src: c(Path::new("/dev").join(sub)),
                                dst: c(&n),
                                recursive: true,
                            },
                            format!("bind /dev/{sub}"),
                        );
                    }
                    for (link, to) in [
                        ("fd", "/proc/self/fd"),
                        ("stdin", "/proc/self/fd/0"),
                        ("stdout", "/proc/self/fd/1"),
                        ("stderr", "/proc/self/fd/2"),
                        ("ptmx", "pts/ptmx"),
                    ] {
                        push(
                            Op::Symlink(c(to), c(there.join(link))),
                            format!("symlink /dev/{link}"),
                        );
                    }
                } else if shadowed.contains(&host) {
                    push(Op::Mkdir(c(&there)), format!("mkdir {}", host.display()));
                    shadow_queue.push(host);
                } else if ft.is_symlink() {
                    let to = std::fs::read_link(&host)?;
                    push(
                        Op::Symlink(c(&to), c(&there)),
                        format!("symlink {}", host.display()),
                    );
                } else if ft.is_dir() {
                    push(Op::Mkdir(c(&there)), format!("mkdir {}", host.display()));
                    push(
                        Op::Bind {
                            src: c(&host),
                            dst: c(&there),
                            recursive: true,
                        },
                        format!("bind {}", host.display()),
                    );
                } else {
                    push(Op::Touch(c(&there)), format!("touch {}", host.display()));
                    push(
                        Op::Bind {
                            src: c(&host),
                            dst: c(&there),
                            recursive: false,
                        },
                        format!("bind {}", host.display()),
                    );
                }
            }
        }
        for d in &created {
            push(
                Op::Mkdir(c(inside(root, d))),
                format!("mkdir {}", d.display()),
            );
        }
        for (i, make_point) in points {
            let m = &mounts[i];
            let there = inside(root, &m.target);
            if make_point {
                if m.source.is_dir() {
                    push(
                        Op::Mkdir(c(&there)),
                        format!("mkdir {}", m.target.display()),
                    );
                } else {
                    push(
                        Op::Touch(c(&there)),
                        format!("touch {}", m.target.display()),
                    );
                }
            }
            push(
                Op::Bind {
                    src: c(&m.source),
                    dst: c(&there),
                    recursive: true,
                },
                format!("bind {} on {}", m.source.display(), m.target.display()),
            );
            if m.read_only {
                push(
                    Op::RemountRo {
                        dst: c(&there),
                        keep: locked_flags(&m.source),
                    },
                    format!("read-only {}", m.target.display()),
                );
            }
        }
        if self.read_only_root {
            push(
                Op::RemountRo {
                    dst: c(root),
                    keep: 0,
                },
                "read-only root".into(),
            );
        }
        // SAFETY: plain syscalls.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let userns = (uid != 0).then(|| {
            [
                CString::new("deny").unwrap(),
                CString::new(format!("0 {uid} 1")).unwrap(),
                CString::new(format!("0 {gid} 1")).unwrap(),
            ]
        });
        Ok(Plan {
            ops,
            root: c(root),
            workdir: CString::new(self.working_dir.clone()).unwrap(),
            // An unprivileged user namespace maps one uid only: `runAsUser` cannot be honoured.
            user: if userns.is_some() { None } else { self.user },
            userns,
            labels: [
                CString::new("unshare").unwrap(),
                CString::new("set user").unwrap(),
            ],
        })
    }
}

/// Flags a read-only bind remount must keep (the kernel refuses to drop locked ones).
fn locked_flags(source: &Path) -> libc::c_ulong {
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out-pointer.
    if unsafe { libc::statvfs(c(source).as_ptr(), &mut st) } != 0 {
        return 0;
    }
    let mut keep = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            keep |= ms_flag;
        }
    }
    keep
}

fn fail(what: &CString) -> io::Error {
    let err = io::Error::last_os_error();
    let prefix = b"kubelet-emulator: cannot set up the container: ";
    // SAFETY: writes from live buffers to stderr (async-signal-safe).
    unsafe {
        libc::write(2, prefix.as_ptr().cast(), prefix.len());
        libc::write(2, what.as_ptr().cast(), what.as_bytes().len());
        libc::write(2, b"\n".as_ptr().cast(), 1);
    }
    err
}

fn write_file(path: &std::ffi::CStr, data: &CString) -> bool {
    // SAFETY: NUL-terminated path literal and live data.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let ok = libc::write(fd, data.as_ptr().cast(), data.as_bytes().len()) >= 0;
        libc::close(fd);
        ok
    }
}

impl Plan {
    /// Replays the plan in the forked child, before `exec`: only raw syscalls.
    ///
    /// # Safety
    /// Must only be called in a freshly forked child.
    pub unsafe fn enter(&self) -> io::Result<()> {
        let none = std::ptr::null::<libc::c_char>();
        // SAFETY (whole block): syscalls on NUL-terminated strings built before fork.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            let mut flags = libc::CLONE_NEWNS;
            if self.userns.is_some() {
                flags |= libc::CLONE_NEWUSER;
            }
            if libc::unshare(flags) != 0 {
                return Err(fail(&self.labels[0]));
            }
            if let Some([deny, uid_map, gid_map]) = &self.userns
                && (!write_file(c"/proc/self/setgroups", deny)
                    || !write_file(c"/proc/self/uid_map", uid_map)
                    || !write_file(c"/proc/self/gid_map", gid_map))
            {
                return Err(fail(uid_map));
            }
            let slash = c"/".as_ptr();
            if libc::mount(
                none,
                slash,
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(fail(&self.root));
            }
            for (op, what) in &self.ops {
                let ok = match op {
                    Op::Tmpfs(p) => {
                        libc::mount(
                            c"tmpfs".as_ptr(),
                            p.as_ptr(),
                            c"tmpfs".as_ptr(),
                            0,
                            c"mode=755".as_ptr().cast(),
                        ) == 0
                    }
                    Op::Mkdir(p) => {
                        libc::mkdir(p.as_ptr(), 0o755) == 0
                            || *libc::__errno_location() == libc::EEXIST
                    }
                    Op::Touch(p) => {
                        let fd = libc::open(
                            p.as_ptr(),
                            libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                            0o644,
                        );
                        fd >= 0 && libc::close(fd) == 0
                    }
                    Op::Symlink(to, p) => libc::symlink(to.as_ptr(), p.as_ptr()) == 0,
                    Op::Bind {
                        src,
                        dst,
                        recursive,
                    } => {
                        let f = libc::MS_BIND | if *recursive { libc::MS_REC } else { 0 };
                        libc::mount(src.as_ptr(), dst.as_ptr(), none, f, std::ptr::null()) == 0
                    }
                    Op::RemountRo { dst, keep } => {
                        let f = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | keep;
                        libc::mount(none, dst.as_ptr(), none, f, std::ptr::null()) == 0
                    }
                };
                if !ok {
                    return Err(fail(what));
                }
            }
            if libc::chroot(self.root.as_ptr()) != 0 || libc::chdir(self.workdir.as_ptr()) != 0 {
                return Err(fail(&self.workdir));
            }
            if let Some((uid, gid)) = self.user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(fail(&self.labels[1]));
            }
        }
        Ok(())
    }
}
