//! Verifies libraries and loads them. Loading runs a library's
//! initializers, so everything is checked on the bytes first, the bytes
//! that were hashed to the object's name: the entry protocol, the toolchain
//! and CPU it was built for, the target features it needs, the layouts of
//! arguments and result, and which key each entry serves. Only then is the
//! library loaded, through the store's handle and by its digest (a name no
//! other library ever had), and checked to be the library that was read.
//!
//! Libraries are never unloaded: closing a Rust cdylib that registered
//! thread-local destructors is unsound, so each stays mapped for the life of
//! the process.

use std::collections::HashMap;
use std::ffi::c_void;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};

use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use staged_build::chain::Chain;
use staged_build::store::{self, Hash32, Store, VerifiedObject};

use crate::Error;
use crate::codegen::{ABI_VERSION, INIT_SYMBOL, Lines, entry_symbol};
use crate::facts::{self, Facts};
use crate::variant::EntryFn;

/// What a library must say about itself before one of its entries is used.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expect<'a> {
    /// The caller's layout probes.
    pub(crate) layout: &'a [usize],
    pub(crate) built_for: Hash32,
    /// The CPU it must be built for; `None` takes any whose target features
    /// this CPU has (a bundle's library found by its portable key).
    pub(crate) cpu: Option<Hash32>,
}

/// A loaded library and what it said about itself.
#[derive(Clone, Copy)]
pub(crate) struct Loaded {
    library: &'static Library,
    facts: &'static Facts,
    digest: Hash32,
}

type Libraries = Mutex<HashMap<Hash32, Loaded>>;

fn libraries() -> &'static Libraries {
    static LIBRARIES: OnceLock<Libraries> = OnceLock::new();
    LIBRARIES.get_or_init(Mutex::default)
}

/// What the host lends every library: its output streams and its global
/// allocator, which the library's own `#[global_allocator]` forwards to, so
/// that heap memory may cross in both directions.
#[repr(C)]
struct Host {
    write: unsafe extern "C" fn(u32, *const u8, usize) -> u32,
    alloc: unsafe extern "C" fn(usize, usize, u32) -> *mut u8,
    dealloc: unsafe extern "C" fn(*mut u8, usize, usize),
    realloc: unsafe extern "C" fn(*mut u8, usize, usize, usize) -> *mut u8,
}

static HOST: Host = Host {
    write: host_write,
    alloc: host_alloc,
    dealloc: host_dealloc,
    realloc: host_realloc,
};

/// A block of `size` bytes aligned to `align` from the program's global
/// allocator, zeroed when `zeroed` is 1; null when it fails.
///
/// # Safety
///
/// As `GlobalAlloc::alloc`: `size` is not zero and `align` a power of two
/// for which `size` rounded up does not overflow (a library's allocator
/// forwards the layouts its callers made).
unsafe extern "C" fn host_alloc(size: usize, align: usize, zeroed: u32) -> *mut u8 {
    let Ok(layout) = std::alloc::Layout::from_size_align(size, align) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the caller's contract; the layout was just checked.
    unsafe {
        if zeroed == 1 {
            std::alloc::alloc_zeroed(layout)
        } else {
            std::alloc::alloc(layout)
        }
    }
}

/// Frees a block of the program's global allocator.
///
/// # Safety
///
/// As `GlobalAlloc::dealloc`: `ptr` came from `host_alloc` or
/// `host_realloc` (or the program's own allocations, which are the same
/// allocator's) with this size and alignment.
unsafe extern "C" fn host_dealloc(ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: the caller's contract: the layout is the one the block was
    // made with, so it is valid.
    unsafe {
        let layout = std::alloc::Layout::from_size_align_unchecked(size, align);
        std::alloc::dealloc(ptr, layout);
    }
}

/// Grows or shrinks a block of the program's global allocator.
///
/// # Safety
///
/// As `GlobalAlloc::realloc`, with the block's size and alignment.
unsafe extern "C" fn host_realloc(ptr: *mut u8, size: usize, align: usize, new: usize) -> *mut u8 {
    // SAFETY: the caller's contract, as in `host_dealloc`.
    unsafe {
        let layout = std::alloc::Layout::from_size_align_unchecked(size, align);
        std::alloc::realloc(ptr, layout, new)
    }
}

/// Writes a library's `print!` output to the host's stream (1 stdout, 2
/// stderr); returns 0 on success.
///
/// # Safety
///
/// `ptr` points to `len` readable bytes.
unsafe extern "C" fn host_write(stream: u32, ptr: *const u8, len: usize) -> u32 {
    // SAFETY: the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    let written = match stream {
        1 => std::io::stdout().write_all(bytes),
        2 => std::io::stderr().write_all(bytes),
        _ => return 2,
    };
    u32::from(written.is_err())
}

/// The library `digest` from `store`, verified and loaded once per process.
pub(crate) fn open(store: &Store, digest: &Hash32, expect: &Expect) -> Result<Loaded, Error> {
    if let Some(loaded) = already(digest) {
        check(loaded.facts, expect, &store.object_path(digest))?;
        return Ok(loaded);
    }
    load(store.open_object(digest)?, expect)
}

/// The library in `object`, which was just built, verified and loaded.
pub(crate) fn load(object: VerifiedObject, expect: &Expect) -> Result<Loaded, Error> {
    let mut libs = libraries().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(loaded) = libs.get(&object.digest) {
        check(loaded.facts, expect, &object.path())?;
        return Ok(*loaded);
    }
    let path = object.path();
    let mismatch = |what: String| Error::Mismatch {
        path: path.clone(),
        what,
    };
    let section = facts::section(&object.bytes)
        .ok_or_else(|| mismatch("not a staged library (no facts section)".into()))?;
    let facts = Facts::parse(section).ok_or_else(|| mismatch("its facts cannot be read".into()))?;
    check(&facts, expect, &path)?;
    object.verify_handles()?;
    // SAFETY: loading runs the library's initializers. Every check above
    // passed on the bytes that were hashed to the object's name, read from
    // a store that it and every directory above it are owned by root or
    // this user and writable by no one else: it is a library this runtime
    // generated and built with the same rustc for this caller, CPU and
    // protocol.
    let library = unsafe { Library::open(Some(object.load_path()), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| Error::Load {
            path: path.clone(),
            cause: Chain(&e).to_string(),
        })?;
    // The loader hands back a library it already has when the name matches
    // one: make sure this is the one that was read.
    let loaded_facts = read_bytes(&library, facts::SYMBOL, section.len());
    if loaded_facts.as_deref() != Some(section) {
        return Err(mismatch(
            "the library that loaded is not the one that was verified".into(),
        ));
    }
    // SAFETY: every library generated by `codegen::library` exports this
    // function with this signature; it keeps the host table (a static),
    // whose allocator the library uses from then on, installs a silent
    // panic hook in the library's own std and registers a flush of the
    // library's stdout at exit.
    match unsafe { library.get::<unsafe extern "C" fn(*const Host)>(INIT_SYMBOL.as_bytes()) } {
        // SAFETY: `HOST` is a static, which outlives the library.
        Ok(init) => unsafe { init(&raw const HOST) },
        Err(e) => return Err(mismatch(format!("no {INIT_SYMBOL}: {}", Chain(&e)))),
    }
    let library: &'static Library = Box::leak(Box::new(library));
    let facts: &'static Facts = Box::leak(Box::new(facts));
    let loaded = Loaded {
        library,
        facts,
        digest: object.digest,
    };
    libs.insert(object.digest, loaded);
    Ok(loaded)
}

fn already(digest: &Hash32) -> Option<Loaded> {
    libraries()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(digest)
        .copied()
}

/// Checks what a library says about itself against what the caller needs.
fn check(facts: &Facts, expect: &Expect, path: &std::path::Path) -> Result<(), Error> {
    let mismatch = |what: String| Error::Mismatch {
        path: path.to_owned(),
        what,
    };
    if facts.abi != ABI_VERSION {
        return Err(mismatch(format!(
            "entry protocol {} instead of {ABI_VERSION}",
            facts.abi
        )));
    }
    if facts.built_for != expect.built_for {
        return Err(mismatch(
            "built by another toolchain or with other flags".into(),
        ));
    }
    if expect.cpu.is_some_and(|cpu| cpu != facts.cpu) {
        return Err(mismatch("built for another CPU".into()));
    }
    let missing = crate::cpu::missing(&facts.features);
    if facts.features.len() != crate::cpu::FEATURES.len() || !missing.is_empty() {
        return Err(Error::MissingFeatures {
            path: path.to_owned(),
            features: if missing.is_empty() {
                "(a feature table of another version)".into()
            } else {
                missing.join(", ")
            },
        });
    }
    let caller: Vec<u64> = expect.layout.iter().map(|&p| p as u64).collect();
    if facts.layout != caller {
        return Err(mismatch(format!(
            "arguments/result laid out as {:?}, the caller expects {caller:?}",
            facts.layout
        )));
    }
    Ok(())
}

impl Loaded {
    /// The entry `symbol` and where its variant's lines came from, after
    /// checking that it serves `key`.
    pub(crate) fn entry(
        &self,
        symbol: &str,
        key: &Hash32,
    ) -> Result<(EntryFn, &'static Lines), Error> {
        let path = store::object_path(&self.digest);
        let mismatch = |what: String| Error::Mismatch {
            path: path.clone(),
            what,
        };
        let index = symbol
            .strip_prefix("__staged_entry_")
            .and_then(|i| i.parse::<usize>().ok())
            .filter(|&i| entry_symbol(i) == symbol)
            .ok_or_else(|| mismatch(format!("`{symbol}` is not an entry")))?;
        if !self.facts.serves(index, key) {
            return Err(mismatch(format!(
                "`{symbol}` serves another value than the index says"
            )));
        }
        // SAFETY: the symbol is an entry generated by `codegen::library`,
        // whose signature is `EntryFn`; the protocol version was checked.
        let entry =
            unsafe { self.library.get::<EntryFn>(symbol.as_bytes()) }.map_err(|e| Error::Load {
                path: path.clone(),
                cause: Chain(&e).to_string(),
            })?;
        let lines = self
            .facts
            .lines
            .get(index)
            .ok_or_else(|| mismatch(format!("`{symbol}` has no lines")))?;
        Ok((*entry, lines))
    }
}

/// A copy of the `len` bytes at the exported symbol `name`.
fn read_bytes(library: &Library, name: &str, len: usize) -> Option<Vec<u8>> {
    // SAFETY: only the symbol's address is taken; it names the facts static
    // in libraries generated by `codegen::library`, at least `len` bytes
    // long (the size of its section); a library without it fails the
    // lookup instead.
    let symbol = unsafe { library.get::<*const c_void>(name.as_bytes()) }.ok()?;
    let address = *symbol;
    if address.is_null() {
        return None;
    }
    // SAFETY: as above; the library is mapped while `library` lives.
    Some(unsafe { std::slice::from_raw_parts(address.cast::<u8>(), len) }.to_vec())
}
