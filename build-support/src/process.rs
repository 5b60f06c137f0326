//! The one place that runs other programs: with a time limit (and, when
//! asked, a memory limit), stdin closed, stdout and stderr captured up to a
//! bound, and errors that say what was run and how it ended.
//!
//! Every program runs in a process group of its own. At the time limit the
//! whole group is killed, not only the direct child, and when the child ends
//! whatever it left running in its group is killed too, so a wrapper's
//! grandchild or an initializer's `sleep` never outlives the run. The parent
//! waits by blocking on a pidfd (no sleep-polling where the kernel has them),
//! and reading the output never waits on a grandchild that escaped the group
//! with the pipe: after the child is gone, the pipes get a short grace period
//! and are then abandoned.
//!
//! A memory limit is set in the child between fork and exec, on both the
//! soft and the hard limit, so the program cannot lift it (raising a hard
//! limit takes `CAP_SYS_RESOURCE` in the first user namespace). A program
//! that sends more records than their limit is stopped at once, like one
//! that runs past its time: reading on would only make the parent wait for,
//! and the program make, output that is dropped anyway.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit, Signal};

/// How many lines of stderr an error carries.
const STDERR_LINES: usize = 20;

/// How much of each output stream is kept by default; the rest is read and
/// dropped, so that a program printing without end neither blocks nor fills
/// memory.
pub const DEFAULT_CAPTURE: usize = 16 << 20;

/// How long the output pipes may stay open after the child is gone (a
/// grandchild that left the process group may hold them).
const PIPE_GRACE: Duration = Duration::from_millis(500);

/// Descriptors handed to a program are copied to this number or above
/// first, so that none of them stands at a number another is given at
/// (those are below it: a shell can only name single digits).
const HANDED_FROM: RawFd = 10;

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
    /// It ran past its time limit and was killed, with its process group.
    #[error("`{command}` ran longer than {limit:?} and was stopped")]
    TimedOut {
        /// The command line.
        command: CommandLine,
        /// The limit.
        limit: Duration,
    },
}

impl ProcessError {
    /// Whether the program could not be started at all (it is not there).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Whether the program ran past its time limit.
    pub fn is_timed_out(&self) -> bool {
        matches!(self, Self::TimedOut { .. })
    }
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
    /// What it wrote to stdout (at most the capture limit).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr (warnings, for a compiler).
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub elapsed: Duration,
}

/// How a run ended, successful or not, with everything it printed: for
/// programs whose output still matters when they fail or are stopped.
#[derive(Debug, Clone)]
pub struct Ended {
    /// How it exited; `None` when it ran past its limit and was killed.
    pub status: Option<ExitStatus>,
    /// What it wrote to stdout (at most the capture limit).
    pub stdout: Vec<u8>,
    /// What it wrote to stderr (at most the capture limit).
    pub stderr: Vec<u8>,
    /// What it wrote to its record descriptor, if [`Job::records`] asked
    /// for one (at most the record limit).
    pub records: Vec<u8>,
    /// Whether some stream said more than its limit (the rest was dropped).
    pub truncated: bool,
    /// Whether it sent more records than their limit, and was stopped for
    /// it (unless it happened to end at the same moment).
    pub records_over_limit: bool,
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
        match self.status {
            Some(status) => describe(status),
            None if self.records_over_limit => {
                "stopped when its records passed their limit".to_owned()
            }
            None => "stopped at the time limit".to_owned(),
        }
    }
}

/// One run of a program, with its limits.
pub struct Job<'a> {
    cmd: &'a mut Command,
    limit: Duration,
    hint: &'static str,
    capture: usize,
    records: Option<(RawFd, usize)>,
    memory: Option<u64>,
    on_start: Option<Box<dyn FnOnce() + 'a>>,
}

impl<'a> Job<'a> {
    /// A run of `cmd` that may take `limit`; `hint` says what to do if the
    /// program is missing.
    pub fn new(cmd: &'a mut Command, limit: Duration, hint: &'static str) -> Self {
        Self {
            cmd,
            limit,
            hint,
            capture: DEFAULT_CAPTURE,
            records: None,
            memory: None,
            on_start: None,
        }
    }

    /// Calls `f` once the program was started (or failed to start), before
    /// waiting for it.
    pub fn on_start(mut self, f: impl FnOnce() + 'a) -> Self {
        self.on_start = Some(Box::new(f));
        self
    }

    /// Keeps at most `bytes` of stdout and of stderr.
    pub fn capture_limit(mut self, bytes: usize) -> Self {
        self.capture = bytes;
        self
    }

    /// Gives the program a pipe as descriptor `fd` (3 or more), whose
    /// contents come back in [`Ended::records`]: a channel that the
    /// program's stdout and stderr cannot write to. A program that sends
    /// more than `limit` bytes on it is stopped as soon as it does, with
    /// its process group ([`Ended::records_over_limit`]), and the parent
    /// never holds more than `limit`.
    pub fn records(mut self, fd: RawFd, limit: usize) -> Self {
        self.records = Some((fd, limit));
        self
    }

    /// Limits the program's memory: its private writable memory (heap,
    /// thread stacks, private mappings: `RLIMIT_DATA`) to `bytes`, and its
    /// address space (`RLIMIT_AS`: shared mappings, code and reserved
    /// ranges too) to twice that, never above the limits this process has.
    /// An allocation past the limit fails in the program (a Rust program
    /// aborts with `memory allocation of N bytes failed`). `u64::MAX` sets
    /// no limit.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory = (bytes != u64::MAX).then_some(bytes);
        self
    }

    /// Runs the program to its end or its limit; a failure or a time-out
    /// is not an error, the caller gets the status and the output either way.
    ///
    /// # Errors
    ///
    /// [`ProcessError::NotFound`] or [`ProcessError::Io`]: the program could
    /// not be started or waited for.
    pub fn run_to_end(mut self) -> Result<Ended, ProcessError> {
        let command = CommandLine::of(self.cmd);
        let io_error = |e: io::Error| ProcessError::Io {
            command: command.clone(),
            cause: e.to_string(),
        };
        let start = Instant::now();
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let record_pipe = match self.records {
            Some((fd, limit)) => {
                let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
                    .map_err(|e| io_error(e.into()))?;
                // Not through `hand_at`, whose copy lives as long as the
                // command: ours must close once the child has its own, or
                // the pipe never ends.
                let write = handed(write).map_err(io_error)?;
                let source = write.as_raw_fd();
                // SAFETY: the closure runs in the child between fork and exec
                // and only calls dup2, which is async-signal-safe; `source`
                // stays open in the parent until after the spawn, and stands
                // above every number a descriptor is handed at.
                unsafe {
                    self.cmd.pre_exec(move || {
                        if libc::dup2(source, fd) < 0 {
                            return Err(io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
                Some((read, write, limit))
            }
            None => None,
        };
        if let Some(bytes) = self.memory {
            let limits = MemoryLimits::below_ours(bytes);
            // SAFETY: the closure runs in the child between fork and exec
            // and only makes two setrlimit system calls on values computed
            // here; it allocates nothing and takes no lock.
            unsafe {
                self.cmd.pre_exec(move || limits.apply());
            }
        }
        let spawned = self.cmd.spawn();
        if let Some(f) = self.on_start.take() {
            f();
        }
        let mut child = spawned.map_err(|e| not_found_or(e, &command, self.hint))?;
        // From here on the child runs: every path below ends its group.
        let group = Group::of(&child);
        let stdout = Drain::start(child.stdout.take(), self.capture, None);
        let stderr = Drain::start(child.stderr.take(), self.capture, None);
        let alarm = record_pipe.as_ref().map(|_| Arc::new(Alarm::new()));
        let records = record_pipe.map(|(read, write, limit)| {
            // The child has its copy; ours would keep the pipe open forever.
            drop(write);
            Drain::start(Some(std::fs::File::from(read)), limit, alarm.clone())
        });
        let status = wait(&mut child, &group, self.limit, alarm.as_deref()).map_err(io_error)?;
        let deadline = Instant::now() + PIPE_GRACE;
        let (stdout, cut_out) = stdout.finish(deadline);
        let (stderr, cut_err) = stderr.finish(deadline);
        let (records, cut_records) = records.map_or((Vec::new(), false), |d| d.finish(deadline));
        Ok(Ended {
            status,
            stdout,
            stderr,
            records,
            truncated: cut_out || cut_err || cut_records,
            records_over_limit: alarm.is_some_and(|a| a.raised()),
            elapsed: start.elapsed(),
        })
    }

    /// Runs the program, which must succeed.
    ///
    /// # Errors
    ///
    /// [`ProcessError`]: the program is missing, cannot start, fails, or
    /// times out.
    pub fn run(self) -> Result<Output, ProcessError> {
        let command = CommandLine::of(self.cmd);
        let limit = self.limit;
        let ended = self.run_to_end()?;
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
}

/// Runs `cmd` with stdin closed, capturing its output, and kills its process
/// group if it runs longer than `limit`. `hint` says what to do if the
/// program is missing.
///
/// # Errors
///
/// [`ProcessError`]: the program is missing, cannot start, fails, or times
/// out.
pub fn run(cmd: &mut Command, limit: Duration, hint: &'static str) -> Result<Output, ProcessError> {
    Job::new(cmd, limit, hint).run()
}

/// Starts `cmd` in a process group of its own, with no standard input or
/// output, and does not wait for it: for a program that should outlive
/// this process (which is about to exit, and so never leaves a zombie).
/// Its time limit is its own business.
///
/// # Errors
///
/// [`ProcessError::NotFound`] or [`ProcessError::Io`]: the program could
/// not be started.
pub fn detach(cmd: &mut Command, hint: &'static str) -> Result<u32, ProcessError> {
    let command = CommandLine::of(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let child = cmd.spawn().map_err(|e| not_found_or(e, &command, hint))?;
    Ok(child.id())
}

/// The program `cmd` runs gets a copy of `fd` as its descriptor `at` (3
/// to 9, so that a shell script can close it for the programs it starts:
/// `9>&-`), whatever else it is handed. The command keeps a copy too, in
/// this process, until it is dropped: for a lock, which it then holds as
/// long, not for a pipe whose end must close.
///
/// # Errors
///
/// The operating system's, when `fd` cannot be copied.
pub fn hand_at(cmd: &mut Command, fd: impl AsFd, at: RawFd) -> io::Result<()> {
    debug_assert!((3..HANDED_FROM).contains(&at), "{at}");
    let copy = handed(fd)?;
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls dup2, which is async-signal-safe, from a descriptor it owns,
    // which stands above every number a descriptor is handed at (so no
    // other handing overwrote it); dup2 leaves the new one open across exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(copy.as_raw_fd(), at) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// A copy of `fd`, closed on exec, at [`HANDED_FROM`] or above: what a
/// `pre_exec` closure may hand to a program without being overwritten by
/// another that hands a descriptor at a fixed number.
pub(crate) fn handed(fd: impl AsFd) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, HANDED_FROM)?)
}

/// The error of a program that could not be started.
fn not_found_or(e: io::Error, command: &CommandLine, hint: &'static str) -> ProcessError {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => ProcessError::NotFound {
            program: command.0[0].clone(),
            cause: e.to_string(),
            hint,
        },
        _ => ProcessError::Io {
            command: command.clone(),
            cause: e.to_string(),
        },
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
    Job::new(cmd, limit, hint).run_to_end()
}

/// The child's process group (its id is the child's pid, since it was
/// spawned with `process_group(0)`).
struct Group {
    pid: Option<Pid>,
}

impl Group {
    fn of(child: &Child) -> Self {
        Self {
            pid: i32::try_from(child.id()).ok().and_then(Pid::from_raw),
        }
    }

    /// Kills every process of the group. Called only while the leader is
    /// not yet reaped, so the id cannot have been given to anyone else.
    fn kill(&self) {
        if let Some(pid) = self.pid {
            // ESRCH (the group is already empty) is the good case.
            let _ = rustix::process::kill_process_group(pid, Signal::KILL);
        }
    }
}

/// The memory limits of a child, computed before the fork.
#[derive(Clone, Copy)]
struct MemoryLimits {
    data: u64,
    address_space: u64,
}

impl MemoryLimits {
    /// `data` bytes of private memory and twice that of address space,
    /// each at most this process's own hard limit (a child may not be given
    /// more, and asking would fail the spawn).
    fn below_ours(data: u64) -> Self {
        let ours = |resource| rustix::process::getrlimit(resource).maximum;
        let cap = |bytes: u64, resource| ours(resource).map_or(bytes, |max| bytes.min(max));
        Self {
            data: cap(data, Resource::Data),
            address_space: cap(data.saturating_mul(2), Resource::As),
        }
    }

    /// Sets both limits, soft and hard. Runs between fork and exec: two
    /// system calls, nothing else.
    fn apply(self) -> io::Result<()> {
        for (resource, bytes) in [
            (Resource::Data, self.data),
            (Resource::As, self.address_space),
        ] {
            let limit = Rlimit {
                current: Some(bytes),
                maximum: Some(bytes),
            };
            rustix::process::setrlimit(resource, limit)?;
        }
        Ok(())
    }
}

/// Raised by the thread reading the records when they pass their limit,
/// to end the wait for the program at once.
struct Alarm {
    raised: AtomicBool,
    /// An eventfd the waiting thread polls next to the pidfd; `None` if
    /// one cannot be made (the wait then polls `raised`).
    fd: Option<OwnedFd>,
}

impl Alarm {
    fn new() -> Self {
        use rustix::event::{EventfdFlags, eventfd};
        Self {
            raised: AtomicBool::new(false),
            fd: eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).ok(),
        }
    }

    fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        if let Some(fd) = &self.fd {
            // A failure (the counter is full) leaves it readable anyway.
            let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
        }
    }

    fn raised(&self) -> bool {
        self.raised.load(Ordering::SeqCst)
    }
}

/// Waits for `child` up to `limit`, or until `alarm` is raised; `None` when
/// it had to be killed. Either way the whole group is killed before the
/// child is reaped.
fn wait(
    child: &mut Child,
    group: &Group,
    limit: Duration,
    alarm: Option<&Alarm>,
) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    // An alarm without an eventfd is only seen by polling.
    let alarm_fd = alarm.map(|a| a.fd.as_ref().map(AsFd::as_fd));
    let exited = match (pidfd(child), alarm_fd) {
        (Some(fd), None) => wait_pidfd(&fd, None, deadline)?,
        (Some(fd), Some(Some(alarm_fd))) => wait_pidfd(&fd, Some(alarm_fd), deadline)?,
        _ => wait_polling(child, deadline, alarm)?,
    };
    // The leader is a zombie (or still running at the limit): its pid, which
    // is the group's id, is still reserved, so this kills only our group.
    group.kill();
    let status = child.wait()?;
    Ok(exited.then_some(status))
}

fn pidfd(child: &Child) -> Option<OwnedFd> {
    let pid = Pid::from_raw(i32::try_from(child.id()).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// Blocks until the process behind `fd` exits (`true`), or `deadline`
/// passes or `alarm` becomes readable (`false`), without reaping it.
fn wait_pidfd(fd: &OwnedFd, alarm: Option<BorrowedFd<'_>>, deadline: Instant) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = vec![PollFd::new(fd, PollFlags::IN)];
        fds.extend(alarm.as_ref().map(|a| PollFd::new(a, PollFlags::IN)));
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) if left.is_zero() => return Ok(false),
            Ok(0) => continue,
            Ok(_) => return Ok(!fds[0].revents().is_empty()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// For kernels without pidfds: polls without reaping, backing off to 5 ms,
/// until the child exits (`true`), or `deadline` passes or `alarm` is
/// raised (`false`).
fn wait_polling(child: &Child, deadline: Instant, alarm: Option<&Alarm>) -> io::Result<bool> {
    use rustix::process::{WaitIdOptions, waitid};
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::other("the child has no pid"))?;
    let mut pause = Duration::from_micros(200);
    loop {
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT | WaitIdOptions::NOHANG;
        if waitid(rustix::process::WaitId::Pid(pid), options)?.is_some() {
            return Ok(true);
        }
        let now = Instant::now();
        if now >= deadline || alarm.is_some_and(Alarm::raised) {
            return Ok(false);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Reads one pipe on a thread of its own, keeping at most `limit` bytes.
struct Drain {
    buffer: Arc<Mutex<(Vec<u8>, bool)>>,
    done: std::sync::mpsc::Receiver<()>,
    /// Dropped once the program is gone: a drain that raised its alarm
    /// holds the pipe open until then, so that the program blocks on its
    /// next write instead of failing it and going on.
    release: Option<std::sync::mpsc::Sender<()>>,
}

impl Drain {
    /// Past `limit`, the rest is read and dropped; or, with an `alarm`,
    /// the alarm is raised and reading stops.
    fn start(
        pipe: Option<impl Read + Send + 'static>,
        limit: usize,
        alarm: Option<Arc<Alarm>>,
    ) -> Self {
        let buffer = Arc::new(Mutex::new((Vec::new(), false)));
        let (tx, done) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        match pipe {
            Some(mut pipe) => {
                let shared = buffer.clone();
                thread::spawn(move || {
                    let mut chunk = vec![0u8; 64 << 10];
                    loop {
                        match pipe.read(&mut chunk) {
                            Ok(0) => break,
                            Ok(n) => {
                                let mut b = shared.lock().unwrap_or_else(|e| e.into_inner());
                                let room = limit.saturating_sub(b.0.len());
                                keep(&mut b.0, &chunk[..n.min(room)], limit);
                                b.1 |= n > room;
                                if n > room
                                    && let Some(alarm) = &alarm
                                {
                                    alarm.raise();
                                    // Closing the pipe now would let the
                                    // program see a failed write and go on
                                    // to its next item before it is killed.
                                    let _ = released.recv_timeout(Duration::from_secs(60));
                                    break;
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(_) => break,
                        }
                    }
                    // Closed before saying so: once the run returns, no
                    // descriptor of it is left open.
                    drop(pipe);
                    let _ = tx.send(());
                });
            }
            None => {
                let _ = tx.send(());
            }
        }
        Self {
            buffer,
            done,
            release: Some(release),
        }
    }

    /// What was read, once the pipe closed (or reading stopped) or
    /// `deadline` passed, and whether some was dropped.
    fn finish(mut self, deadline: Instant) -> (Vec<u8>, bool) {
        // The program is gone: a drain holding its pipe open may close it.
        drop(self.release.take());
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = self.done.recv_timeout(left);
        let mut b = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut b.0), b.1)
    }
}

/// Appends `bytes` to `buffer`, growing it by doubling but never past
/// `limit`, so that a buffer kept up to its limit takes no more memory.
fn keep(buffer: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let needed = buffer.len() + bytes.len();
    if needed > buffer.capacity() {
        let grown = buffer
            .capacity()
            .saturating_mul(2)
            .max(needed)
            .min(limit.max(needed));
        buffer.reserve_exact(grown - buffer.len());
    }
    buffer.extend_from_slice(bytes);
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        return format!("killed by signal {signal}");
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

    /// A wrapper whose child holds the pipes: the limit ends them both, and
    /// the run returns at the limit, not when the grandchild would.
    #[test]
    fn the_limit_ends_grandchildren_holding_the_pipes() {
        let start = Instant::now();
        let ended = run_to_end(
            Command::new("sh").args(["-c", "sleep 30 & sleep 30; wait"]),
            Duration::from_millis(300),
            "",
        )
        .unwrap();
        assert_eq!(ended.status, None);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    /// A child that exits at once but leaves a grandchild behind: the
    /// grandchild is killed with the group when the run ends.
    #[test]
    fn what_a_child_leaves_running_is_killed_when_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let start = Instant::now();
        let out = run(
            Command::new("sh").args([
                "-c",
                &format!("sleep 30 & echo $! > '{}'", pidfile.display()),
            ]),
            Duration::from_secs(10),
            "",
        )
        .unwrap();
        assert!(out.stdout.is_empty());
        assert!(start.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The grandchild was killed; it may linger as a zombie of init for a
        // moment, or still be on its way out (running, its memory already
        // gone), never for long as a running `sleep`.
        let stat = || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let running = |state: &str| {
            state
                .rsplit(')')
                .next()
                .is_some_and(|rest| matches!(rest.trim_start().chars().next(), Some('S' | 'R')))
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut state = stat();
        while running(&state) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
            state = stat();
        }
        assert!(!running(&state), "the grandchild still runs: {state}");
    }

    #[test]
    fn endless_output_is_bounded() {
        let ended = Job::new(
            Command::new("sh").args(["-c", "head -c 3000000 /dev/zero"]),
            Duration::from_secs(20),
            "",
        )
        .capture_limit(1000)
        .run_to_end()
        .unwrap();
        assert!(ended.success());
        assert_eq!(ended.stdout.len(), 1000);
        assert!(ended.truncated);
    }

    #[test]
    fn records_travel_apart_from_stdout() {
        let ended = Job::new(
            Command::new("sh").args(["-c", "echo noise; echo record >&3"]),
            Duration::from_secs(10),
            "",
        )
        .records(3, 1 << 20)
        .run_to_end()
        .unwrap();
        assert!(
            ended.success(),
            "{}",
            String::from_utf8_lossy(&ended.stderr)
        );
        assert_eq!(ended.stdout, b"noise\n");
        assert_eq!(ended.records, b"record\n");
    }

    /// A descriptor handed at a fixed number is there in the program,
    /// whatever number it has here.
    #[test]
    fn a_descriptor_is_handed_at_its_number() {
        let (read, write) = rustix::pipe::pipe().unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo handed >&9"]);
        hand_at(&mut cmd, &write, 9).unwrap();
        let mut child = cmd.spawn().unwrap();
        // The command's copy and ours: the pipe ends once the child's does.
        drop((cmd, write));
        assert!(child.wait().unwrap().success());
        let mut got = String::new();
        std::fs::File::from(read).read_to_string(&mut got).unwrap();
        assert_eq!(got, "handed\n");
    }

    /// A program that sends more records than their limit is stopped then,
    /// not at its end: here it would print and then sleep past the time
    /// limit.
    #[test]
    fn records_past_their_limit_stop_the_program() {
        let ended = Job::new(
            Command::new("sh").args([
                "-c",
                "head -c 3000000 /dev/zero >&3; echo after; exec sleep 30",
            ]),
            Duration::from_secs(20),
            "",
        )
        .records(3, 1000)
        .run_to_end()
        .unwrap();
        assert!(ended.records_over_limit);
        assert_eq!(ended.status, None);
        assert_eq!(ended.records.len(), 1000);
        assert_eq!(ended.stdout, b"");
        assert_eq!(
            ended.describe(),
            "stopped when its records passed their limit"
        );
    }

    #[test]
    fn a_memory_limit_is_a_hard_limit_on_data_and_address_space() {
        let ended = Job::new(
            Command::new("sh").args([
                "-c",
                "ulimit -S -d; ulimit -H -d; ulimit -S -v; ulimit -H -v",
            ]),
            Duration::from_secs(10),
            "",
        )
        .memory_limit(64 << 20)
        .run_to_end()
        .unwrap();
        assert!(
            ended.success(),
            "{}",
            String::from_utf8_lossy(&ended.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&ended.stdout),
            "65536\n65536\n131072\n131072\n"
        );
    }

    #[test]
    fn a_buffer_kept_to_its_limit_grows_no_further() {
        let mut buffer = Vec::new();
        for _ in 0..100 {
            let room = 70_000 - buffer.len();
            keep(&mut buffer, &[0u8; 1000][..room.min(1000)], 70_000);
        }
        assert_eq!((buffer.len(), buffer.capacity()), (70_000, 70_000));
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
