//! Claiming the run directory and recording the outcome: the `done` file successors read
//! and the termination message the kubelet shows.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::error::StepError;
use super::lock::RunLock;
use super::record::Record;
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

/// The real recorder over a run directory. It keeps the lock until it is dropped or the
/// process ends.
#[derive(Debug)]
pub struct FsRecorder {
    run_dir: PathBuf,
    termination_path: PathBuf,
    lock: Option<RunLock>,
}

impl FsRecorder {
    /// A recorder for `run_dir` writing termination messages to `termination_path`.
    pub fn new(run_dir: impl Into<PathBuf>, termination_path: impl Into<PathBuf>) -> FsRecorder {
        FsRecorder {
            run_dir: run_dir.into(),
            termination_path: termination_path.into(),
            lock: None,
        }
    }

    fn claim_inner(&mut self) -> io::Result<()> {
        self.lock = Some(RunLock::acquire(&self.run_dir)?);
        remove_if_exists(&self.run_dir.join(run_files::DONE))?;
        fs::write(self.run_dir.join(run_files::STARTED), b"")
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
        let tmp = self.run_dir.join(".done.tmp");
        let json = record.to_json();
        fs::write(&tmp, json.as_bytes())
            .and_then(|()| fs::rename(&tmp, self.run_dir.join(run_files::DONE)))
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
        match fs::metadata(path) {
            Ok(meta) if meta.len() > 0 => return Ok(()), // the program's own message wins
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(err)?;
        file.write_all(record.to_json().as_bytes()).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Reason;
    use crate::step::lock::is_held;
    use crate::step::test_support::fresh_dir;
    use std::time::UNIX_EPOCH;

    fn record() -> Record {
        Record {
            name: "s".into(),
            reason: Reason::Succeeded,
            exit_code: 0,
            signal: None,
            started_at: UNIX_EPOCH,
            finished_at: UNIX_EPOCH,
            message: None,
        }
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
        drop(rec);
        assert_eq!(is_held(&dir).unwrap(), Some(false));
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
}
