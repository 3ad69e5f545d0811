//! Claiming the run directory and recording the outcome: the `done` file successors read
//! and the termination message the kubelet shows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::error::StepError;
use super::lock::RunLock;
use super::record::{MAX_LEN, Record};
use crate::protocol::run_files;

/// Where a step announces itself and its outcome.
pub trait Recorder {
    /// Takes the run directory for this run: lock it, clear a previous run's outcome (a
    /// restart under `OnFailure`), and mark it started.
    fn claim(&mut self) -> Result<(), StepError>;
    /// Records the outcome for successors, atomically.
    fn record_done(&mut self, record: &Record) -> Result<(), StepError>;
    /// Writes the termination message, unless the command already wrote one.
    fn write_termination_message(&mut self, record: &Record) -> Result<(), StepError>;
}

/// The real recorder over a run directory. It keeps the lock until the outcome is recorded,
/// it is dropped, or the process ends.
#[derive(Debug)]
pub struct FsRecorder {
    run_dir: PathBuf,
    termination_path: PathBuf,
    lock: Option<RunLock>,
    /// `.done.tmp`, created and filled at claim time so that recording the outcome later
    /// needs no new inode and no new block: a run dir that fills up while the command runs
    /// (ENOSPC) or a command that uses up the open-files limit cannot stop the record.
    done_tmp: Option<File>,
}

/// Name of the preallocated record under construction.
const DONE_TMP: &str = ".done.tmp";

impl FsRecorder {
    /// A recorder for `run_dir` writing termination messages to `termination_path`.
    pub fn new(run_dir: impl Into<PathBuf>, termination_path: impl Into<PathBuf>) -> FsRecorder {
        FsRecorder {
            run_dir: run_dir.into(),
            termination_path: termination_path.into(),
            lock: None,
            done_tmp: None,
        }
    }

    fn claim_inner(&mut self) -> io::Result<()> {
        // Visible liveness first: from here on, however this process ends, a successor sees
        // either an outcome or an unheld lock (a loss) within milliseconds.
        self.lock = Some(RunLock::acquire(&self.run_dir)?);
        let mut tmp = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.run_dir.join(DONE_TMP))?;
        tmp.write_all(&[b' '; MAX_LEN])?;
        self.done_tmp = Some(tmp);
        remove_if_exists(&self.run_dir.join(run_files::DONE))?;
        // Informational only (liveness is the lock): a full directory must not fail the claim.
        let _ = fs::write(self.run_dir.join(run_files::STARTED), b"");
        Ok(())
    }

    fn record_inner(&mut self, json: &str) -> io::Result<()> {
        let tmp = self.run_dir.join(DONE_TMP);
        match &self.done_tmp {
            // Overwrite the preallocated bytes, then shrink: neither needs space.
            Some(file) => {
                file.write_all_at(json.as_bytes(), 0)?;
                file.set_len(json.len() as u64)?;
            }
            None => fs::write(&tmp, json.as_bytes())?,
        }
        fs::rename(&tmp, self.run_dir.join(run_files::DONE))?;
        self.done_tmp = None;
        // The outcome is out: let go at once, which wakes successors blocked on the lock.
        self.lock = None;
        Ok(())
    }
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl Recorder for FsRecorder {
    fn claim(&mut self) -> Result<(), StepError> {
        self.claim_inner().map_err(|source| StepError::Claim {
            dir: self.run_dir.clone(),
            source,
        })
    }

    fn record_done(&mut self, record: &Record) -> Result<(), StepError> {
        let json = record.to_json();
        self.record_inner(&json)
            .map_err(|source| StepError::Record {
                dir: self.run_dir.clone(),
                source,
            })
    }

    fn write_termination_message(&mut self, record: &Record) -> Result<(), StepError> {
        let path = &self.termination_path;
        let err = |source| StepError::Termination {
            path: path.clone(),
            source,
        };
        // Non-blocking, and never following a terminal: a FIFO with no reader must not hang
        // the runner (open fails with ENXIO), and one with a reader is refused below.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(err)?;
        let meta = file.metadata().map_err(err)?;
        if !meta.is_file() {
            return Err(err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            )));
        }
        if meta.len() > 0 {
            return Ok(()); // the program's own message wins
        }
        (&file).write_all(record.to_json().as_bytes()).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reason;
    use crate::step::lock::is_held;
    use crate::step::test_support::{self, fresh_dir};

    fn record() -> Record {
        test_support::record("s", Reason::Succeeded)
    }

    #[test]
    fn claim_locks_clears_a_stale_outcome_and_marks_started() {
        let dir = fresh_dir("recorder-claim");
        fs::write(dir.join(run_files::DONE), b"{\"stale\":1}").unwrap();
        let mut rec = FsRecorder::new(&dir, dir.join("term"));
        rec.claim().unwrap();
        assert!(!dir.join(run_files::DONE).exists());
        assert!(dir.join(run_files::STARTED).exists());
        assert_eq!(is_held(&dir).unwrap(), Some(true));
        rec.record_done(&record()).unwrap();
        let back = Record::from_json(&fs::read_to_string(dir.join(run_files::DONE)).unwrap());
        assert_eq!(back.unwrap(), record());
        assert!(!dir.join(".done.tmp").exists());
        // Recording lets go of the lock at once: successors blocked on it wake up.
        assert_eq!(is_held(&dir).unwrap(), Some(false));
        drop(rec);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn termination_message_respects_the_programs_own() {
        let dir = fresh_dir("recorder-term");
        let term = dir.join("term");
        let mut rec = FsRecorder::new(&dir, &term);
        rec.write_termination_message(&record()).unwrap();
        assert_eq!(fs::read_to_string(&term).unwrap(), record().to_json());
        fs::write(&term, b"mine").unwrap();
        rec.write_termination_message(&record()).unwrap();
        assert_eq!(fs::read_to_string(&term).unwrap(), "mine");
        let mut bad = FsRecorder::new(&dir, dir.join("missing-dir/term"));
        assert!(matches!(
            bad.write_termination_message(&record()),
            Err(StepError::Termination { .. })
        ));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_full_run_dir_still_gets_the_record() {
        // The space the record needs is taken at claim time: once claimed, a directory
        // that fills up (ENOSPC) can no longer stop it. Filling a real filesystem needs a
        // mount; here the preallocation is checked, and the record written with no new file.
        let dir = fresh_dir("recorder-full");
        let mut rec = FsRecorder::new(&dir, dir.join("term"));
        rec.claim().unwrap();
        let tmp = dir.join(DONE_TMP);
        assert_eq!(fs::metadata(&tmp).unwrap().len(), MAX_LEN as u64);
        let inode = {
            use std::os::unix::fs::MetadataExt;
            fs::metadata(&tmp).unwrap().ino()
        };
        rec.record_done(&record()).unwrap();
        let done = dir.join(run_files::DONE);
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            fs::metadata(&done).unwrap().ino(),
            inode,
            "a new file was made"
        );
        assert_eq!(fs::read_to_string(&done).unwrap(), record().to_json());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_termination_path_does_not_block() {
        let dir = fresh_dir("recorder-fifo");
        let fifo = dir.join("term");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        let run_dir = dir.clone();
        std::thread::spawn(move || {
            let mut rec = FsRecorder::new(&run_dir, &path);
            let _ = tx.send(rec.write_termination_message(&record()));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("writing the termination message to a FIFO blocked");
        assert!(
            matches!(result, Err(StepError::Termination { .. })),
            "{result:?}"
        );
        // With a reader present the open succeeds, and the FIFO is still refused.
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let mut rec = FsRecorder::new(&dir, &fifo);
        assert!(rec.write_termination_message(&record()).is_err());
        drop(reader);
        fs::remove_dir_all(&dir).unwrap();
    }
}
