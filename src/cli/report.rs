//! Messages on stderr: `--quiet`, `--color` and `NO_COLOR`, and the copy Helm 4 plugin mode
//! needs. The decision is a pure function of the flags and the environment ([`decide`]) so
//! that it can be tested without a terminal; the binary makes it once, at start ([`init`]).

use crate::convert::Severity;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// `--color`: like ripgrep and GNU tools. `auto` colours only a terminal, and not when
/// `NO_COLOR` is set or `TERM=dumb`; `always` and `never` are what the user asked for (a
/// command-line flag wins over `NO_COLOR`, as no-color.org asks).
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour a terminal, unless NO_COLOR is set or TERM=dumb.
    #[default]
    Auto,
    /// Colour even a pipe or a file (for a pager that shows colour).
    Always,
    /// No colour at all.
    Never,
}

/// Who reads our stderr. Orchestrators (a KRM function under kpt or kustomize, Helm's
/// post-renderer, Argo CD's plugin) capture it into logs or error messages, where a progress
/// line or colour codes would be noise; a person ran the `convert`, `revert` and `resolve`
/// subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A person at a shell (explicit subcommand, no plugin flag).
    Interactive,
    /// Run by a tool: no progress, and colour only when forced.
    Orchestrated,
}

/// The environment [`decide`] looks at, read once by [`Env::current`].
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Whether stderr is a terminal.
    pub stderr_tty: bool,
    /// `NO_COLOR`, when set to something non-empty (no-color.org: an empty value is unset).
    pub no_color: bool,
    /// `TERM=dumb`: a terminal that understands no escape codes.
    pub dumb_term: bool,
}

impl Env {
    /// This process's environment.
    pub fn current() -> Env {
        use std::io::IsTerminal;
        Env {
            stderr_tty: std::io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            dumb_term: std::env::var_os("TERM").is_some_and(|t| t == "dumb") || old_console(),
        }
    }
}

/// A Windows console that may not understand escape codes: neither Windows Terminal
/// (`WT_SESSION`) nor a terminal that names itself (`TERM`, as in MSYS2 or Cygwin). Such a
/// console is treated like `TERM=dumb`.
fn old_console() -> bool {
    cfg!(windows) && std::env::var_os("WT_SESSION").is_none() && std::env::var_os("TERM").is_none()
}

/// How messages are written for the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Leave out info messages (warnings and errors are always written).
    pub quiet: bool,
    /// Colour the severity word of a message.
    pub color: bool,
    /// Draw a progress line for long runs.
    pub progress: bool,
}

/// The settings for these flags in this environment.
pub fn decide(choice: ColorChoice, quiet: bool, mode: Mode, env: &Env) -> Settings {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            mode == Mode::Interactive && env.stderr_tty && !env.no_color && !env.dumb_term
        }
    };
    Settings {
        quiet,
        color,
        progress: mode == Mode::Interactive && env.stderr_tty && !env.dumb_term && !quiet,
    }
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Fixes the settings for the run; the first call wins. Without it messages are plain and
/// complete (the library's callers and the tests get that).
pub fn init(settings: Settings) {
    let _ = SETTINGS.set(settings);
}

/// The run's settings.
pub fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

/// Lines written to stderr, kept only in Helm plugin mode: Helm 4 drops a plugin's stderr,
/// so the binary repeats them on stdout when the run fails (see `crate::helm`).
static KEPT: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Starts keeping every line written (Helm plugin mode).
pub fn keep_lines() {
    *KEPT.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
}

/// The lines kept since [`keep_lines`], uncoloured; kept lines stop there.
pub fn take_kept() -> Vec<String> {
    KEPT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_default()
}

/// Writes a message of this severity, unless it is info and the run is quiet. `line` is the
/// whole line, `kueueleuleu: SEVERITY: ...` or another `kueueleuleu: ...` line; only its
/// severity word is coloured. A failed write (a closed or full stderr) never aborts the run
/// or changes its result: stdout is what matters.
pub fn say(severity: Severity, line: &str) {
    let settings = settings();
    if settings.quiet && severity == Severity::Info {
        return;
    }
    if let Some(kept) = KEPT.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        kept.push(line.to_string());
    }
    let shown = if settings.color {
        colored(severity, line)
    } else {
        line.to_string()
    };
    super::progress::above(|err| {
        let _ = writeln!(err, "{shown}");
    });
}

/// The line with its `SEVERITY:` word in the severity's colour (red and bold for errors,
/// yellow for warnings, cyan for info), or unchanged when it has no such word.
pub fn colored(severity: Severity, line: &str) -> String {
    let word = severity.as_str();
    let prefix = format!("kueueleuleu: {word}:");
    match line.strip_prefix(&prefix) {
        Some(rest) => {
            let code = match severity {
                Severity::Error => "1;31",
                Severity::Warning => "33",
                Severity::Info => "36",
            };
            format!("kueueleuleu: \x1b[{code}m{word}\x1b[0m:{rest}")
        }
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTY: Env = Env {
        stderr_tty: true,
        no_color: false,
        dumb_term: false,
    };
    const PIPE: Env = Env {
        stderr_tty: false,
        no_color: false,
        dumb_term: false,
    };

    #[test]
    fn a_terminal_gets_colour_and_progress() {
        let s = decide(ColorChoice::Auto, false, Mode::Interactive, &TTY);
        assert_eq!(
            s,
            Settings {
                quiet: false,
                color: true,
                progress: true
            }
        );
    }

    #[test]
    fn a_pipe_gets_neither_unless_colour_is_forced() {
        let s = decide(ColorChoice::Auto, false, Mode::Interactive, &PIPE);
        assert!(!s.color && !s.progress);
        let s = decide(ColorChoice::Always, false, Mode::Interactive, &PIPE);
        assert!(s.color && !s.progress);
    }

    #[test]
    fn orchestrators_get_no_progress_and_no_automatic_colour() {
        let s = decide(ColorChoice::Auto, false, Mode::Orchestrated, &TTY);
        assert!(!s.color && !s.progress);
    }

    #[test]
    fn no_color_and_dumb_terminals_turn_auto_off() {
        let no_color = Env {
            no_color: true,
            ..TTY
        };
        assert!(!decide(ColorChoice::Auto, false, Mode::Interactive, &no_color).color);
        assert!(decide(ColorChoice::Auto, false, Mode::Interactive, &no_color).progress);
        assert!(decide(ColorChoice::Always, false, Mode::Interactive, &no_color).color);
        let dumb = Env {
            dumb_term: true,
            ..TTY
        };
        let s = decide(ColorChoice::Auto, false, Mode::Interactive, &dumb);
        assert!(!s.color && !s.progress);
        assert!(!decide(ColorChoice::Never, false, Mode::Interactive, &TTY).color);
    }

    #[test]
    fn quiet_hides_the_progress_line() {
        let s = decide(ColorChoice::Auto, true, Mode::Interactive, &TTY);
        assert!(s.quiet && !s.progress && s.color);
    }

    #[test]
    fn only_the_severity_word_is_coloured() {
        assert_eq!(
            colored(Severity::Warning, "kueueleuleu: warning: a: b"),
            "kueueleuleu: \x1b[33mwarning\x1b[0m: a: b"
        );
        assert_eq!(
            colored(Severity::Error, "kueueleuleu: error: x"),
            "kueueleuleu: \x1b[1;31merror\x1b[0m: x"
        );
        assert_eq!(
            colored(Severity::Info, "kueueleuleu: resolve: wrote 1 entry"),
            "kueueleuleu: resolve: wrote 1 entry"
        );
    }
}
