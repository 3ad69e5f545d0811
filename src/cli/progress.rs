//! The progress line: one line on stderr, redrawn in place, for runs that take long enough
//! to wonder about (many files, a big stream, many images to read from registries). It is
//! drawn only when [`super::report::Settings::progress`] allows it (a person's terminal),
//! first after a short delay so that quick runs never flicker, and it is cleared before any
//! message is written and when the work ends.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Whether a progress line is on the screen now. Messages and the line share stderr through
/// this lock, so a message never lands in the middle of the line.
static SHOWN: Mutex<bool> = Mutex::new(false);

/// How long a run goes before the line is first drawn, and how often it is redrawn.
const DELAY: Duration = Duration::from_millis(300);
const TICK: Duration = Duration::from_millis(120);

/// Runs `write` on stderr with the progress line, if any, taken off the screen first (the
/// next redraw puts it back below).
pub fn above(write: impl FnOnce(&mut std::io::StderrLock<'static>)) {
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut err = std::io::stderr().lock();
    if *shown {
        let _ = err.write_all(b"\r\x1b[2K");
        *shown = false;
    }
    write(&mut err);
    let _ = err.flush();
}

/// What the line shows.
#[derive(Debug, Clone)]
pub struct State {
    /// What is being done: `converting`, `resolving`.
    pub verb: &'static str,
    /// What is counted: `inputs`, `images`.
    pub unit: &'static str,
    /// Items to go through, and how many are done: the bar's length.
    pub total: usize,
    /// See `total`.
    pub done: usize,
    /// Bytes to go through, or 0 when the work is not measured in bytes.
    pub bytes_total: u64,
    /// See `bytes_total`.
    pub bytes_done: u64,
    /// The input or image being worked on.
    pub current: String,
    /// Time since the work started: shows a single long item still moving.
    pub elapsed: Duration,
}

/// The line for `state`, at most `width` characters, with `spin` (a frame counter) turning
/// the spinner so that a long single item still shows life.
pub fn render(state: &State, spin: usize, width: usize) -> String {
    const BAR: usize = 20;
    let filled = (state.done * BAR)
        .checked_div(state.total)
        .unwrap_or(0)
        .min(BAR);
    let frame = ['|', '/', '-', '\\'][spin % 4];
    let mut line = format!(
        "kueueleuleu: {frame} {} [{}{}] {}/{} {}",
        state.verb,
        "#".repeat(filled),
        "-".repeat(BAR - filled),
        state.done,
        state.total,
        state.unit
    );
    if state.bytes_total > 0 {
        line.push_str(&format!(
            ", {}/{}",
            megabytes(state.bytes_done),
            megabytes(state.bytes_total)
        ));
    }
    line.push_str(&format!(", {}s", state.elapsed.as_secs()));
    if !state.current.is_empty() {
        line.push_str(&format!("  {}", state.current));
    }
    match line.char_indices().nth(width) {
        Some((cut, _)) => line[..cut].to_string(),
        None => line,
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The terminal's width as the shell exports it, else 80; one column is left free so that
/// the cursor never wraps.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 20)
        .unwrap_or(80)
        - 1
}

struct Shared {
    state: Mutex<(State, Instant)>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// A running progress line; dropping it clears the line. When the settings allow no
/// progress it does nothing at all (no thread, no output).
pub struct Progress {
    shared: Option<Arc<Shared>>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts counting `total` items of `unit` (and `bytes_total` bytes, or 0).
    pub fn start(verb: &'static str, unit: &'static str, total: usize, bytes_total: u64) -> Self {
        if !super::report::settings().progress {
            return Progress {
                shared: None,
                ticker: None,
            };
        }
        let state = State {
            verb,
            unit,
            total,
            done: 0,
            bytes_total,
            bytes_done: 0,
            current: String::new(),
            elapsed: Duration::ZERO,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new((state, Instant::now())),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let ticker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || tick(&shared))
                .ok()
        };
        Progress {
            shared: Some(shared),
            ticker,
        }
    }

    /// Names the item being worked on.
    pub fn working_on(&self, name: &str) {
        if let Some(shared) = &self.shared {
            let mut guard = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            guard.0.current = name.to_string();
        }
    }

    /// Counts one item of `bytes` bytes as done.
    pub fn advance(&self, bytes: u64) {
        if let Some(shared) = &self.shared {
            let mut guard = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            guard.0.done += 1;
            guard.0.bytes_done += bytes;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        *shared.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
        shared.wake.notify_all();
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        above(|_| {});
    }
}

/// The ticker thread: waits out the delay, then redraws until stopped.
fn tick(shared: &Shared) {
    let mut wait = DELAY;
    let mut spin = 0;
    loop {
        let stop = shared.stop.lock().unwrap_or_else(|e| e.into_inner());
        let (stop, _) = shared
            .wake
            .wait_timeout_while(stop, wait, |stop| !*stop)
            .unwrap_or_else(|e| e.into_inner());
        if *stop {
            return;
        }
        drop(stop);
        let state = {
            let guard = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            State {
                elapsed: guard.1.elapsed(),
                ..guard.0.clone()
            }
        };
        let line = render(&state, spin, width());
        let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        *shown = true;
        spin += 1;
        wait = TICK;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State {
            verb: "converting",
            unit: "inputs",
            total: 4,
            done: 1,
            bytes_total: 3_000_000,
            bytes_done: 1_500_000,
            current: "big.yaml".into(),
            elapsed: Duration::from_secs(7),
        }
    }

    #[test]
    fn the_line_shows_count_bytes_time_and_item() {
        assert_eq!(
            render(&state(), 1, 200),
            "kueueleuleu: / converting [#####---------------] 1/4 inputs, 1.5 MB/3.0 MB, 7s  big.yaml"
        );
    }

    #[test]
    fn the_line_fits_the_terminal() {
        let line = render(&state(), 0, 30);
        assert_eq!(line.chars().count(), 30);
        let images = State {
            verb: "resolving",
            unit: "images",
            bytes_total: 0,
            current: String::new(),
            done: 2,
            total: 2,
            ..state()
        };
        assert_eq!(
            render(&images, 2, 200),
            "kueueleuleu: - resolving [####################] 2/2 images, 7s"
        );
    }

    #[test]
    fn no_progress_means_no_thread() {
        // The settings are never initialised in unit tests: progress is off.
        let p = Progress::start("converting", "inputs", 3, 0);
        assert!(p.shared.is_none() && p.ticker.is_none());
        p.advance(10);
    }
}
