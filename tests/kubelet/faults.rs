//! Faults the emulator can inject, so the step runner's failure table
//! (`docs/step-runner.md`) can be checked end to end: a volume that is read-only, full or out
//! of inodes, a container whose image never starts or that is killed as it starts, a
//! container started with a tiny open-files limit, a volume mount that is missing.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The container never starts (its image cannot be pulled): no attempt, ever.
    NeverStarts(String),
    /// The container's process is SIGKILLed as it starts, before its entrypoint runs.
    KilledAtStart(String),
    /// The container gets this `RLIMIT_NOFILE` (soft, hard).
    OpenFiles {
        container: String,
        soft: u64,
        hard: u64,
    },
    /// The volume is mounted read-only in every container.
    ReadOnlyVolume(String),
    /// The volume is a tmpfs of `pages` 4 KiB pages and `inodes` inodes (the root directory
    /// takes one), with `filled` of the pages already used. Needs root on the host.
    TinyVolume {
        volume: String,
        pages: u32,
        inodes: u32,
        filled: u32,
    },
    /// The container does not get its mount of this volume.
    Unmounted { container: String, volume: String },
}

/// Whether `faults` holds one that `f` picks.
pub fn any(faults: &[Fault], f: impl Fn(&Fault) -> bool) -> bool {
    faults.iter().any(f)
}

/// Makes `dir` the tiny tmpfs a [`Fault::TinyVolume`] asks for.
pub fn make_tiny_volume(dir: &Path, pages: u32, inodes: u32, filled: u32) -> Result<(), String> {
    let opts = CString::new(format!("size={}k,nr_inodes={inodes},mode=777", pages * 4)).unwrap();
    let target = CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated strings.
    let rc = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            opts.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot mount a tiny tmpfs on {} (needs root): {}",
            dir.display(),
            std::io::Error::last_os_error()
        ));
    }
    if filled > 0 {
        std::fs::write(dir.join("filler"), vec![0u8; filled as usize * 4096])
            .map_err(|e| format!("cannot fill {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Unmounts every mount below `dir` (tiny volumes), deepest first, so `dir` can be removed.
pub fn unmount_below(dir: &Path) {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if let Ok(c) = CString::new(p) {
            // SAFETY: NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}
