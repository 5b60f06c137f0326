//! The one place that runs other programs: with a time limit, stdin closed,
//! stdout and stderr captured, and errors that say what was run and how it
//! ended.

use std::fmt;
use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How many lines of stderr an error carries.
const STDERR_LINES: usize = 20;

/// Why a program did not run to a successful end.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The program does not exist or is not executable.
    #[error("`{program}` was not found ({cause}); {hint}")]
    NotFound {
        /// The program as given.
        program: String,
        /// The operating system's message.
        cause: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// It could not be started, or its output could not be read.
    #[error("cannot run `{command}`: {cause}")]
    Io {
        /// The command line.
        command: CommandLine,
        /// The operating system's message.
        cause: String,
    },
    /// It exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Failed {
        /// The command line.
        command: CommandLine,
        /// How it ended.
        status: String,
        /// The first lines of its stderr.
        stderr: String,
    },
    /// It ran past its time limit and was killed.
    #[error("`{command}` ran longer than {limit:?} and was stopped")]
    TimedOut {
        /// The command line.
        command: CommandLine,
        /// The limit.
        limit: Duration,
    },
}

/// A command line, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine(pub Vec<String>);

impl CommandLine {
    /// The program and arguments of `cmd`.
    pub fn of(cmd: &Command) -> Self {
        let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
        parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
        Self(parts)
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if part.is_empty() || part.contains(char::is_whitespace) {
                write!(f, "{part:?}")?;
            } else {
                f.write_str(part)?;
            }
        }
        Ok(())
    }
}

/// What a successful run printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr (warnings, for a compiler).
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Runs `cmd` with stdin closed, capturing its output, and kills it if it
/// runs longer than `limit`. `hint` says what to do if the program is missing.
///
/// # Errors
///
/// [`ProcessError`]: the program is missing, cannot start, fails, or times
/// out.
pub fn run(cmd: &mut Command, limit: Duration, hint: &'static str) -> Result<Output, ProcessError> {
    let command = CommandLine::of(cmd);
    let ended = run_to_end(cmd, limit, hint)?;
    let Some(status) = ended.status else {
        return Err(ProcessError::TimedOut { command, limit });
    };
    if !status.success() {
        return Err(ProcessError::Failed {
            command,
            status: describe(status),
            stderr: head(&ended.stderr),
        });
    }
    Ok(Output {
        stdout: ended.stdout,
        stderr: ended.stderr,
        elapsed: ended.elapsed,
    })
}

/// How a run ended, successful or not, with everything it printed: for
/// programs whose output still matters when they fail or are stopped.
#[derive(Debug, Clone)]
pub struct Ended {
    /// How it exited; `None` when it ran past its limit and was killed.
    pub status: Option<ExitStatus>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Ended {
    /// Whether it exited successfully.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// How it ended, for messages: `exit status 3`, `killed by signal 11`,
    /// `stopped at the time limit`.
    pub fn describe(&self) -> String {
        self.status
            .map_or_else(|| "stopped at the time limit".to_owned(), describe)
    }
}

/// Like [`run`], but a failure or a time-out is not an error: the caller
/// gets the status and the output either way.
///
/// # Errors
///
/// [`ProcessError::NotFound`] or [`ProcessError::Io`]: the program could
/// not be started or waited for.
pub fn run_to_end(
    cmd: &mut Command,
    limit: Duration,
    hint: &'static str,
) -> Result<Ended, ProcessError> {
    let command = CommandLine::of(cmd);
    let start = Instant::now();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => ProcessError::NotFound {
            program: command.0[0].clone(),
            cause: e.to_string(),
            hint,
        },
        _ => ProcessError::Io {
            command: command.clone(),
            cause: e.to_string(),
        },
    })?;
    // Both pipes are drained on their own threads, so that a child filling
    // one of them never blocks while we wait on the other.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait(&mut child, limit).map_err(|e| ProcessError::Io {
        command: command.clone(),
        cause: e.to_string(),
    })?;
    Ok(Ended {
        status,
        stdout: stdout.recv().unwrap_or_default(),
        stderr: stderr.recv().unwrap_or_default(),
        elapsed: start.elapsed(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    } else {
        let _ = tx.send(Vec::new());
    }
    rx
}

/// Waits for `child` up to `limit`; `None` when it had to be killed.
fn wait(child: &mut Child, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

/// The first lines of `stderr`, as text.
pub fn head(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines: Vec<&str> = text.lines().take(STDERR_LINES).collect();
    if text.lines().count() > STDERR_LINES {
        lines.push("...");
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_of_a_successful_run() {
        let out = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2"]),
            Duration::from_secs(10),
            "",
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_failure_carries_the_command_status_and_stderr() {
        let err = run(
            Command::new("sh").args(["-c", "echo first >&2; exit 3"]),
            Duration::from_secs(10),
            "",
        )
        .unwrap_err();
        let ProcessError::Failed {
            command,
            status,
            stderr,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(command.to_string(), "sh -c \"echo first >&2; exit 3\"");
        assert_eq!(status, "exit status 3");
        assert_eq!(stderr, "first");
    }

    #[test]
    fn a_missing_program_is_its_own_kind() {
        let err = run(
            &mut Command::new("/nonexistent/rustc"),
            Duration::from_secs(10),
            "set STAGED_RUSTC",
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("set STAGED_RUSTC"));
    }

    #[test]
    fn a_run_past_its_limit_is_killed() {
        let start = Instant::now();
        let err = run(
            Command::new("sleep").arg("10"),
            Duration::from_millis(100),
            "",
        )
        .unwrap_err();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn run_to_end_keeps_the_output_of_failed_and_stopped_runs() {
        let failed = run_to_end(
            Command::new("sh").args(["-c", "echo partial; exit 3"]),
            Duration::from_secs(10),
            "",
        )
        .unwrap();
        assert!(!failed.success());
        assert_eq!(
            (failed.stdout.as_slice(), failed.describe().as_str()),
            (&b"partial\n"[..], "exit status 3")
        );
        let stopped = run_to_end(
            Command::new("sh").args(["-c", "echo early; exec sleep 10"]),
            Duration::from_millis(300),
            "",
        )
        .unwrap();
        assert_eq!(stopped.status, None);
        assert_eq!(stopped.stdout, b"early\n");
        assert_eq!(stopped.describe(), "stopped at the time limit");
    }

    #[test]
    fn long_stderr_is_cut() {
        let long: Vec<u8> = (0..50)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let h = head(&long);
        assert_eq!(h.lines().count(), STDERR_LINES + 1);
        assert!(h.ends_with("..."));
    }
}
