//! `kueueleuleu-step debug continue|fail|retry|status`: what a user runs with `kubectl exec`
//! in a step held for debugging. It is the runner binary itself, so it works in images that
//! have no shell. It finds the held step by its run directory: the one under
//! [`RUN_ROOT`](crate::protocol::RUN_ROOT) that shows the `debug` marker and that this
//! container may write (a predecessor's run directory is mounted read-only).

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::protocol::{RUN_ROOT, RUNNER_PATH, run_files};

/// The lines a held step prints (and leaves in its `debug` marker): how to get in and how to
/// go on. `pod` comes from `HOSTNAME` (the Pod's name unless `spec.hostname` is set) and
/// `namespace` from the service account mount when there is one.
pub fn instructions(container: &str, pod: Option<&str>, namespace: Option<&str>) -> String {
    let mut target = format!("kubectl exec {}", pod.unwrap_or("POD"));
    if let Some(ns) = namespace {
        target.push_str(&format!(" -n {ns}"));
    }
    target.push_str(&format!(" -c {container}"));
    format!(
        "  look around: {target} -it -- sh   (if the image has a shell)\n\
         \x20 go on:       {target} -- {RUNNER_PATH} debug continue\n\
         \x20 fail:        {target} -- {RUNNER_PATH} debug fail\n\
         \x20 run again:   {target} -- {RUNNER_PATH} debug retry\n"
    )
}

/// Why `debug` could not pass the decision on.
#[derive(Debug, thiserror::Error)]
pub enum DebugError {
    #[error("usage: kueueleuleu-step debug continue|fail|retry|status [--run-dir DIR]")]
    Usage,
    #[error(
        "no step in this container is held for debugging (under {0}): its command may still \
         run, or it has already ended; `kueueleuleu status` shows which"
    )]
    NoneHeld(String),
    #[error("several run directories are held ({0}); choose one with --run-dir")]
    Several(String),
    #[error("cannot pass the decision to {dir}: {source}")]
    Write { dir: PathBuf, source: io::Error },
}

/// Runs `debug ARGS` (without `debug`); returns the text to print.
pub fn main(args: &[String]) -> Result<String, DebugError> {
    let (word, rest) = args.split_first().ok_or(DebugError::Usage)?;
    if !matches!(word.as_str(), "status" | "continue" | "fail" | "retry") {
        return Err(DebugError::Usage);
    }
    let run_dir = match rest {
        [] => None,
        [flag, dir] if flag == "--run-dir" => Some(PathBuf::from(dir)),
        _ => return Err(DebugError::Usage),
    };
    let dir = match run_dir {
        Some(dir) if dir.join(run_files::DEBUG).is_file() => dir,
        Some(dir) => return Err(DebugError::NoneHeld(dir.display().to_string())),
        None => held_dir(Path::new(RUN_ROOT))?,
    };
    match word.as_str() {
        "status" => Ok(fs::read_to_string(dir.join(run_files::DEBUG)).unwrap_or_default()),
        "continue" | "fail" | "retry" => {
            decide(&dir, word).map_err(|source| DebugError::Write {
                dir: dir.clone(),
                source,
            })?;
            Ok(format!("{}: told the held step to {word}\n", dir.display()))
        }
        _ => Err(DebugError::Usage),
    }
}

/// Writes the decision atomically, so the held step never reads half a word.
fn decide(dir: &Path, word: &str) -> io::Result<()> {
    let tmp = dir.join(".debug-decision.tmp");
    fs::write(&tmp, word)?;
    fs::rename(&tmp, dir.join(run_files::DEBUG_DECISION))
}

/// The one run directory under `root` that is held and writable here.
pub fn held_dir(root: &Path) -> Result<PathBuf, DebugError> {
    let none = || DebugError::NoneHeld(root.display().to_string());
    let entries = fs::read_dir(root).map_err(|_| none())?;
    let held: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|dir| dir.join(run_files::DEBUG).is_file() && writable(dir))
        .collect();
    match held.as_slice() {
        [] => Err(none()),
        [one] => Ok(one.clone()),
        many => Err(DebugError::Several(
            many.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// `access(W_OK)`: false on a read-only mount (`EROFS`), which is how a predecessor's run
/// directory is mounted in this container.
fn writable(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::test_support::fresh_dir;

    #[test]
    fn finds_the_held_writable_run_dir_and_passes_the_decision() {
        let root = fresh_dir("debug-find");
        for i in 0..3 {
            fs::create_dir(root.join(i.to_string())).unwrap();
        }
        assert!(matches!(held_dir(&root), Err(DebugError::NoneHeld(_))));
        fs::write(root.join("1").join(run_files::DEBUG), "held").unwrap();
        let dir = held_dir(&root).unwrap();
        assert_eq!(dir, root.join("1"));
        let args = |w: &str| vec![w.to_string(), "--run-dir".into(), dir.display().to_string()];
        assert_eq!(main(&args("status")).unwrap(), "held");
        assert!(main(&args("continue")).unwrap().contains("to continue"));
        let decision = fs::read_to_string(dir.join(run_files::DEBUG_DECISION)).unwrap();
        assert_eq!(decision, "continue");
        assert!(matches!(main(&args("maybe")), Err(DebugError::Usage)));
        assert!(matches!(main(&[]), Err(DebugError::Usage)));
        fs::write(root.join("2").join(run_files::DEBUG), "held").unwrap();
        assert!(matches!(held_dir(&root), Err(DebugError::Several(_))));
        let not_held = vec![
            "fail".into(),
            "--run-dir".into(),
            root.join("0").display().to_string(),
        ];
        assert!(matches!(main(&not_held), Err(DebugError::NoneHeld(_))));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn instructions_name_the_pod_container_and_commands() {
        let text = instructions("build", Some("job-x-abc"), Some("ci"));
        assert!(text.contains(
            "kubectl exec job-x-abc -n ci -c build -- /kueueleuleu/bin/kueueleuleu-step debug continue"
        ), "{text}");
        assert!(text.contains("debug fail") && text.contains("debug retry"));
        assert!(instructions("b", None, None).contains("kubectl exec POD -c b"));
    }
}
