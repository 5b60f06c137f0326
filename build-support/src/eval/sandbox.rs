//! The sandbox an evaluator program runs in (Linux). An initializer is code
//! from the crate being built, run on the build host; in the sandbox it can
//! compute, read the system's libraries and the toolchain's, run its own
//! executable, and read and write its working directory. Nothing else: no
//! other file, no network, no signal to a process outside.
//!
//! Only the run is sandboxed, not the rustc that builds the program: files
//! named by `include_bytes!`/`include_str!` are read by rustc, and they are
//! part of the cache key.
//!
//! The layers, applied in the child between fork and exec:
//!
//! 1. `unshare(CLONE_NEWUSER | CLONE_NEWNET)`: a network namespace of its
//!    own, whose only interface is a loopback that is down, so there is
//!    nothing to connect to, UDP and abstract unix sockets included.
//! 2. `close_range(3.., CLOSE_RANGE_CLOEXEC)`: descriptors the build process
//!    left inheritable (a jobserver pipe, an open file) do not reach the
//!    program. Landlock checks paths when they are opened, not descriptors
//!    already open.
//! 3. `prctl(PR_SET_NO_NEW_PRIVS)`, which Landlock requires, and which makes
//!    setuid programs run without their privileges.
//! 4. `landlock_restrict_self` with a ruleset built in the parent: the file
//!    rules above; TCP bind and connect denied (ABI 4); abstract unix sockets
//!    and signals scoped to the sandbox (ABI 6); pathname unix sockets (ABI 9)
//!    and UDP (ABI 10) where the kernel has them.
//! 5. A seccomp filter that fails `setpgid` and `setsid` with EPERM: the time
//!    limit kills the program's process group, so no process an initializer
//!    starts may leave it.
//!
//! The parent is a multithreaded rustc, so between fork and exec the child
//! may only make async-signal-safe calls: no allocation, no lock. Everything
//! that allocates or opens a path (the ruleset and its rules, through the
//! `landlock` crate) is done in the parent before the spawn, and the seccomp
//! filter is a constant; the child makes six raw system calls. It does not call `RulesetCreated::restrict_self`:
//! the crate does not promise that it is async-signal-safe (its error paths
//! build error values), so the child restricts itself with the ruleset's
//! descriptor directly.
//!
//! A layer the kernel does not offer is left out and the evaluation still
//! runs: the parent knows whether Landlock is there (one system call), and
//! the child reports a layer it could not apply (no user namespaces in a
//! container, say) with one byte on a pipe. [`gaps`] says what was missing,
//! for the warning the macro gives once per build.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use landlock::{
    ABI, Access, AccessFs, AccessNet, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, path_beneath_rules,
};

use super::{EvalError, Toolchain};

/// The Landlock ABI whose rights are asked for. The `landlock` crate's
/// best-effort mode keeps the part the running kernel has, so a newer
/// kernel gets the newer restrictions and an older one still runs.
const ABI_ASKED: ABI = ABI::V10;

/// Where the dynamic loader finds the C runtime on the usual layouts; the
/// folders of the C runtime this process uses are added to them.
const SYSTEM_LIBRARIES: [&str; 9] = [
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libx32",
    "/usr/local/lib",
];

/// Files the dynamic loader reads.
const LOADER_FILES: [&str; 1] = ["/etc/ld.so.cache"];

/// Libraries of the C runtime, by the start of their file name: the
/// folders they are loaded from in this process are where the loader finds
/// them for the evaluator too (on layouts such as Nix's).
const C_RUNTIME: [&str; 8] = [
    "ld-linux",
    "ld-musl",
    "libc.so",
    "libc-",
    "libgcc_s",
    "libm.so",
    "libpthread",
    "libdl",
];

/// What the child reports, one bit per layer it could not apply.
const NO_NAMESPACES: u8 = 1;
const NO_LANDLOCK: u8 = 2;
const NO_SECCOMP: u8 = 4;

/// `LANDLOCK_CREATE_RULESET_VERSION`, from the kernel's
/// `include/uapi/linux/landlock.h` (the `libc` crate does not have it).
const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;

/// Layers that runs in this process could not apply.
static MISSED: AtomicU8 = AtomicU8::new(0);

/// The Landlock ABI of the running kernel; 0 without Landlock.
pub fn landlock_abi() -> i32 {
    static ABI_FOUND: OnceLock<i32> = OnceLock::new();
    *ABI_FOUND.get_or_init(|| {
        // SAFETY: with a null attribute, a size of 0 and the VERSION flag,
        // landlock_create_ruleset only returns the ABI version (or fails
        // with ENOSYS/EOPNOTSUPP); it reads no memory and creates nothing.
        let version = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        i32::try_from(version).unwrap_or(0).max(0)
    })
}

/// What the evaluator's sandbox lacks on this host, each as a sentence
/// saying what an initializer can do because of it; empty when it has
/// every layer. Landlock is known at once; a layer the kernel refused to a
/// run (user namespaces) is known after the first run in this process.
pub fn gaps() -> Vec<String> {
    describe_gaps(landlock_abi(), MISSED.load(Ordering::Relaxed))
}

fn describe_gaps(abi: i32, missed: u8) -> Vec<String> {
    let landlock = abi > 0 && missed & NO_LANDLOCK == 0;
    let namespaces = missed & NO_NAMESPACES == 0;
    let mut gaps = Vec::new();
    if !landlock {
        let why = if abi > 0 {
            "Landlock could not be applied".to_owned()
        } else {
            "the kernel has no Landlock".to_owned()
        };
        gaps.push(format!(
            "initializers can read and write every file the build can ({why})"
        ));
    }
    if !namespaces {
        let what = if landlock && abi >= 4 {
            "use UDP and unix sockets"
        } else {
            "reach the network"
        };
        gaps.push(format!(
            "initializers can {what} (no user and network namespaces)"
        ));
    }
    if !(landlock && abi >= 6) {
        gaps.push(
            "initializers can signal the build user's other processes (no Landlock ABI 6)"
                .to_owned(),
        );
    }
    if missed & NO_SECCOMP != 0 || FILTER.is_none() {
        gaps.push(
            "processes an initializer starts can leave its process group and outlive the time limit (no seccomp filter)"
                .to_owned(),
        );
    }
    gaps
}

/// `AUDIT_ARCH_*` of the target, from the kernel's
/// `include/uapi/linux/audit.h` (the machine number with the 64-bit and
/// little-endian flags), which the filter checks so that a system call made
/// through another ABI (i386's `int 0x80`) cannot slip by with another
/// number.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: Option<u32> = Some(0xC000_003E);
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: Option<u32> = Some(0xC000_00B7);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const AUDIT_ARCH: Option<u32> = None;

/// The seccomp filter: `setpgid` and `setsid` fail with EPERM, as does every
/// system call of another ABI (another architecture, or x32's numbers from
/// `__X32_SYSCALL_BIT` up); everything else is allowed. Offsets into
/// `struct seccomp_data`: the number at 0, the architecture at 4.
const FILTER: Option<[libc::sock_filter; 8]> = match AUDIT_ARCH {
    Some(arch) => Some([
        bpf(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 4),
        bpf(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, 0, 5, arch),
        bpf(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        bpf(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            3,
            0,
            0x4000_0000,
        ),
        bpf(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            2,
            0,
            libc::SYS_setpgid as u32,
        ),
        bpf(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            1,
            0,
            libc::SYS_setsid as u32,
        ),
        bpf(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
        bpf(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
    ]),
    None => None,
};

/// One filter instruction; `jt` and `jf` count the instructions to skip.
const fn bpf(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// The filter as a constant in memory, for the child to point the kernel at.
static FILTER_CODE: Option<[libc::sock_filter; 8]> = FILTER;

/// The part of the cache key that says how outcomes were sandboxed: an
/// outcome found without the sandbox (a file read) is not served where the
/// sandbox would deny it, and the other way round.
pub(super) fn key_part() -> String {
    format!("sandbox: landlock abi {}", landlock_abi())
}

/// The rules of one evaluator program, ready to apply to its runs.
pub(super) struct Sandbox {
    /// The Landlock ruleset; `None` where the kernel has no Landlock.
    ruleset: Option<OwnedFd>,
}

impl Sandbox {
    /// The sandbox for running `exe` in `workdir`.
    ///
    /// # Errors
    ///
    /// [`EvalError::Sandbox`] when the kernel has Landlock but the ruleset
    /// cannot be made (the program or its directory cannot be opened).
    pub(super) fn prepare(
        exe: &Path,
        workdir: &Path,
        toolchain: &Toolchain,
    ) -> Result<Self, EvalError> {
        if landlock_abi() == 0 {
            return Ok(Self { ruleset: None });
        }
        let ruleset = ruleset(exe, workdir, toolchain).map_err(|cause| EvalError::Sandbox {
            cause: cause.to_string(),
        })?;
        Ok(Self { ruleset })
    }

    /// Makes `cmd` enter the sandbox before it runs; the returned report
    /// says, after the run, which layers it had.
    ///
    /// # Errors
    ///
    /// [`EvalError::Sandbox`] when the report pipe cannot be made.
    pub(super) fn install(&self, cmd: &mut Command) -> Result<Report, EvalError> {
        use rustix::pipe::{PipeFlags, pipe_with};
        // Non-blocking: the child writes at most one byte, and the parent
        // reads after the run without waiting for anyone.
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).map_err(|e| {
            EvalError::Sandbox {
                cause: format!("a pipe: {e}"),
            }
        })?;
        let ruleset = self.ruleset.as_ref().map(AsRawFd::as_raw_fd);
        let report = write.as_raw_fd();
        // SAFETY: `enter` makes only async-signal-safe system calls
        // (unshare, close_range, prctl, landlock_restrict_self, write) on
        // integers and descriptors captured by value; it allocates nothing
        // and takes no lock. The descriptors stay open in the parent until
        // the run is over: the ruleset in `self`, the pipe in the `Report`.
        unsafe {
            cmd.pre_exec(move || enter(ruleset, report));
        }
        Ok(Report {
            landlock: self.ruleset.is_some(),
            read,
            write: Some(write),
        })
    }
}

/// The ruleset for `exe` running in `workdir`, with the toolchain's
/// libraries readable.
fn ruleset(
    exe: &Path,
    workdir: &Path,
    toolchain: &Toolchain,
) -> Result<Option<OwnedFd>, Box<dyn std::error::Error>> {
    let abi = ABI_ASKED;
    let mut libraries: Vec<PathBuf> = SYSTEM_LIBRARIES.iter().map(PathBuf::from).collect();
    libraries.extend(c_runtime_dirs());
    libraries.extend(sysroot_lib(&toolchain.rustc));
    libraries.sort();
    libraries.dedup();
    let scratch = AccessFs::from_all(abi) & !AccessFs::Execute;
    let created = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))?
        .handle_access(AccessNet::from_all(abi))?
        .scope(Scope::from_all(abi))?
        .create()?
        .add_rules(path_beneath_rules(&libraries, AccessFs::from_read(abi)))?
        .add_rules(path_beneath_rules(LOADER_FILES, AccessFs::ReadFile))?
        .add_rule(PathBeneath::new(
            PathFd::new(exe)?,
            AccessFs::Execute | AccessFs::ReadFile,
        ))?
        .add_rule(PathBeneath::new(PathFd::new(workdir)?, scratch))?;
    Ok(created.into())
}

/// The folders this process loaded its C runtime from.
fn c_runtime_dirs() -> Vec<PathBuf> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .map(Path::new)
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| C_RUNTIME.iter().any(|c| n.starts_with(c)))
        })
        .filter_map(|path| path.parent().map(Path::to_owned))
        .collect()
}

/// `<sysroot>/lib` when `rustc` is the toolchain's own binary
/// (`<sysroot>/bin/rustc`, as the macro records it), not a proxy on PATH.
fn sysroot_lib(rustc: &Path) -> Option<PathBuf> {
    let bin = rustc.parent()?;
    (rustc.is_absolute() && bin.file_name()? == "bin")
        .then(|| bin.parent().map(|s| s.join("lib")))?
}

/// Enters the sandbox: runs in the child between fork and exec, so it makes
/// raw system calls only (see the module's documentation).
fn enter(ruleset: Option<RawFd>, report: RawFd) -> io::Result<()> {
    let mut missed = 0u8;
    // SAFETY: unshare takes flags only. The child is single-threaded (it
    // was just forked), which CLONE_NEWUSER requires.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } != 0 {
        missed |= NO_NAMESPACES;
    }
    // SAFETY: close_range takes integers only; with CLOSE_RANGE_CLOEXEC it
    // closes nothing now, it marks descriptors 3 and up to be closed at
    // exec. The record descriptor is set up after this (by `process`), and
    // the descriptors of std's own exec-error pipe are close-on-exec
    // already. A kernel without close_range (before 5.11) leaves them as
    // they are.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    // SAFETY: prctl with PR_SET_NO_NEW_PRIVS takes integers only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if let Some(fd) = ruleset {
        // SAFETY: `fd` is the ruleset descriptor, open in the parent (and so
        // in this child) until after the spawn; landlock_restrict_self reads
        // nothing else.
        if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0 as libc::c_uint) } != 0 {
            missed |= NO_LANDLOCK;
        }
    }
    match &FILTER_CODE {
        Some(code) => {
            let program = libc::sock_fprog {
                len: code.len() as libc::c_ushort,
                // The kernel only reads the instructions.
                filter: code.as_ptr().cast_mut(),
            };
            // SAFETY: `program` points at a static array of `len` valid
            // instructions; the kernel copies them. No-new-privileges is
            // set above, which an unprivileged filter requires.
            let installed = unsafe {
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &raw const program,
                    0,
                    0,
                )
            };
            if installed != 0 {
                missed |= NO_SECCOMP;
            }
        }
        None => missed |= NO_SECCOMP,
    }
    if missed != 0 {
        // SAFETY: writes one byte from a local to the report pipe, which is
        // open until exec. A failure leaves the report empty: the layers
        // are then counted as applied, which only mutes a warning.
        unsafe {
            libc::write(report, (&raw const missed).cast(), 1);
        }
    }
    Ok(())
}

/// Which layers one run had, read once it is over.
pub(super) struct Report {
    landlock: bool,
    read: OwnedFd,
    write: Option<OwnedFd>,
}

impl Report {
    /// What the run had. A layer it missed is remembered for [`gaps`].
    pub(super) fn finish(mut self) -> Applied {
        drop(self.write.take());
        let mut byte = [0u8];
        let missed = match rustix::io::read(&self.read, &mut byte) {
            Ok(1) => byte[0],
            _ => 0,
        };
        let missed = if self.landlock {
            missed
        } else {
            missed | NO_LANDLOCK
        };
        MISSED.fetch_or(missed, Ordering::Relaxed);
        Applied {
            landlock: missed & NO_LANDLOCK == 0,
            namespaces: missed & NO_NAMESPACES == 0,
            seccomp: missed & NO_SECCOMP == 0,
        }
    }
}

/// The layers a run had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Applied {
    pub landlock: bool,
    pub namespaces: bool,
    pub seccomp: bool,
}

/// What an initializer may do, for messages about what it was denied.
pub const RULES: &str = "an initializer sees only the files it names with `include_bytes!`/`include_str!` (read when it is compiled), may write only in its working directory, and has no network and no environment variables";

impl Applied {
    /// `message`, a panic's, with a note when the panic comes from
    /// something the sandbox denies: an I/O error that a denied access
    /// gives (the kernel does not say which path or address it was), or a
    /// variable missing from the empty environment.
    pub(super) fn explain(&self, message: String) -> String {
        let os_error = |code: i32| {
            message.contains(&format!("(os error {code})"))
                || message.contains(&format!("Os {{ code: {code},"))
        };
        let denied = if self.landlock && os_error(libc::EACCES) {
            Some("a file or network access")
        } else if (self.landlock || self.seccomp) && os_error(libc::EPERM) {
            Some("an operation outside it (leaving its process group, a signal, a mount)")
        } else if self.namespaces && os_error(libc::ENETUNREACH) {
            Some("a network connection")
        } else {
            None
        };
        let note = match denied {
            Some(what) => format!("the build sandbox denied {what}: {RULES}"),
            None if message.contains("NotPresent")
                || message.contains("environment variable not found") =>
            {
                format!("the build sandbox runs initializers with an empty environment: {RULES}")
            }
            None => return message,
        };
        format!("{message}\n= note: {note}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Job;
    use std::time::Duration;

    fn toolchain() -> Toolchain {
        Toolchain {
            rustc: PathBuf::from("rustc"),
            ..Toolchain::default()
        }
    }

    fn cat_program() -> &'static Path {
        ["/bin/cat", "/usr/bin/cat"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .expect("cat")
    }

    /// `cat` in the sandbox, as the evaluator program would be.
    fn cat(file: &Path, workdir: &Path, sandbox: &Sandbox) -> (bool, Applied) {
        let mut cmd = Command::new(cat_program());
        cmd.arg(file).env_clear().current_dir(workdir);
        let report = sandbox.install(&mut cmd).unwrap();
        let ended = Job::new(&mut cmd, Duration::from_secs(20), "")
            .run_to_end()
            .unwrap();
        (ended.success(), report.finish())
    }

    #[test]
    fn a_sandboxed_program_reads_its_directory_and_nothing_else() {
        if landlock_abi() == 0 {
            eprintln!("skipped: the kernel has no Landlock");
            return;
        }
        let work = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("mine"), "x").unwrap();
        std::fs::write(outside.path().join("theirs"), "x").unwrap();
        let sandbox = Sandbox::prepare(cat_program(), work.path(), &toolchain()).unwrap();
        let (ok, applied) = cat(&work.path().join("mine"), work.path(), &sandbox);
        assert!(ok && applied.landlock, "{applied:?}");
        let (ok, _) = cat(&outside.path().join("theirs"), work.path(), &sandbox);
        assert!(!ok, "read a file outside");
    }

    /// Without Landlock (or where it cannot be applied) the program still
    /// runs, unrestricted, and the gap is reported.
    #[test]
    fn without_landlock_a_program_runs_and_the_gap_is_named() {
        let work = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("theirs"), "x").unwrap();
        let sandbox = Sandbox { ruleset: None };
        let (ok, applied) = cat(&outside.path().join("theirs"), work.path(), &sandbox);
        assert!(ok);
        assert!(!applied.landlock);
        assert!(gaps()[0].contains("every file"), "{:?}", gaps());
    }

    #[test]
    fn gaps_say_what_an_initializer_can_do() {
        assert!(describe_gaps(7, 0).is_empty());
        assert_eq!(
            describe_gaps(7, NO_SECCOMP),
            [
                "processes an initializer starts can leave its process group and outlive the time limit (no seccomp filter)"
            ]
        );
        assert_eq!(
            describe_gaps(0, NO_NAMESPACES),
            [
                "initializers can read and write every file the build can (the kernel has no Landlock)",
                "initializers can reach the network (no user and network namespaces)",
                "initializers can signal the build user's other processes (no Landlock ABI 6)",
            ]
        );
        assert_eq!(
            describe_gaps(7, NO_NAMESPACES),
            ["initializers can use UDP and unix sockets (no user and network namespaces)"]
        );
        assert_eq!(describe_gaps(5, 0).len(), 1);
    }

    #[test]
    fn denied_accesses_are_explained_and_others_are_not() {
        let all = Applied {
            landlock: true,
            namespaces: true,
            seccomp: true,
        };
        let read = all.explain(
            "called `Result::unwrap()` on an `Err` value: Os { code: 13, kind: PermissionDenied, message: \"Permission denied\" }".into(),
        );
        assert!(read.contains("\n= note: the build sandbox denied a file or network access: an initializer sees only"), "{read}");
        let net = all.explain("connect: Network is unreachable (os error 101)".into());
        assert!(net.contains("denied a network connection"), "{net}");
        let env = all.explain("USER is set: NotPresent".into());
        assert!(env.contains("with an empty environment"), "{env}");
        assert_eq!(
            all.explain("index out of bounds".into()),
            "index out of bounds"
        );
        // os error 1 is not os error 13, and without Landlock EACCES is the
        // file's own permissions.
        assert!(
            all.explain("x (os error 1)".into())
                .contains("leaving its process group")
        );
        let unsandboxed = Applied {
            landlock: false,
            namespaces: false,
            seccomp: false,
        };
        assert_eq!(
            unsandboxed.explain("x (os error 13)".into()),
            "x (os error 13)"
        );
    }

    #[test]
    fn the_sysroot_is_found_only_for_the_real_binary() {
        assert_eq!(
            sysroot_lib(Path::new("/opt/rust/bin/rustc")),
            Some(PathBuf::from("/opt/rust/lib"))
        );
        assert_eq!(sysroot_lib(Path::new("rustc")), None);
        assert_eq!(sysroot_lib(Path::new("/usr/local/rustc")), None);
    }
}
