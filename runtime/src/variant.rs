//! A run-time variant: a function in a loaded library, called through its
//! `extern "C"` entry.

use std::ffi::c_void;
use std::mem::{ManuallyDrop, MaybeUninit};

/// Where a variant's code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Built by rustc in this process.
    Compiled,
    /// Loaded from the disk cache.
    Cached,
}

/// Receives a panic from a library: `ctx` is the host's [`Payload`] slot,
/// `kind` says what `msg` is (see the library's `__StagedPanicSlot`).
type PanicWriter = unsafe extern "C" fn(ctx: *mut c_void, kind: u32, msg: *const u8, len: usize);

/// The entry every variant library exports, one per value.
///
/// `args` points to the function's `__Args` block, which the entry moves
/// out of; `out` to uninitialized room for the result. It returns 0 when
/// `out` holds the result, 1 when the variant panicked and the payload was
/// handed to `panic`.
pub(crate) type EntryFn =
    unsafe extern "C" fn(args: *mut u8, out: *mut u8, panic: *const PanicSlot) -> u32;

/// Where an entry hands a panic back to the host.
#[repr(C)]
pub(crate) struct PanicSlot {
    ctx: *mut c_void,
    write: PanicWriter,
}

/// A panic's payload as it crossed from the library.
enum Payload {
    /// A `&'static str` in the library's read-only data, which stays mapped.
    Static(&'static str),
    /// A `String`, copied.
    Owned(String),
    /// Another type, which cannot cross two copies of std.
    Other,
}

/// A loaded run-time variant. Libraries are never unloaded, so the entry stays
/// valid for the life of the process.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    entry: EntryFn,
    source: Source,
}

impl Variant {
    /// A variant whose entry was checked to take the site's argument block
    /// and return its result type.
    pub(crate) fn new(entry: EntryFn, source: Source) -> Self {
        Self { entry, source }
    }

    /// Where the variant came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Calls the variant with the function's argument block.
    ///
    /// A panic in the variant is caught in the library and raised again here,
    /// on the caller's side, with the same payload when it is a `&str` or a
    /// `String` (any other payload arrives as the `String` `"Box<dyn Any>"`,
    /// which is what the panic hook prints for it either way).
    ///
    /// # Safety
    ///
    /// `A` must be the `__Args` block and `R` the return type of the function
    /// this variant was built from. The site checks the library's layout
    /// probes against the caller's before it hands out a `Variant`.
    #[inline]
    #[track_caller]
    pub unsafe fn call<A, R>(self, args: A) -> R {
        let mut args = ManuallyDrop::new(args);
        let mut out = MaybeUninit::<R>::uninit();
        // Set only on a panic, so the call itself costs one store here and
        // nothing to drop.
        let mut payload = ManuallyDrop::new(None::<Payload>);
        let slot = PanicSlot {
            ctx: (&raw mut *payload).cast(),
            write: write_panic,
        };
        // SAFETY: the entry was built from the same declaration (the caller's
        // contract), so it reads an `A` from `args` and writes an `R` to
        // `out`. It moves out of `args`, which is why `args` is never dropped
        // here.
        let status =
            unsafe { (self.entry)((&raw mut *args).cast(), out.as_mut_ptr().cast(), &slot) };
        if status != 0 {
            panicked(ManuallyDrop::into_inner(payload));
        }
        // SAFETY: status 0 means the entry wrote the result.
        unsafe { out.assume_init() }
    }
}

/// Raises the panic of a variant again, on the caller's side.
#[cold]
#[inline(never)]
#[track_caller]
fn panicked(payload: Option<Payload>) -> ! {
    match payload {
        Some(Payload::Static(s)) => std::panic::panic_any(s),
        Some(Payload::Owned(s)) => std::panic::panic_any(s),
        Some(Payload::Other) | None => std::panic::panic_any(String::from("Box<dyn Any>")),
    }
}

/// Copies a panic payload from a library into the host's slot.
///
/// # Safety
///
/// `ctx` must be the `Option<Payload>` set up by [`Variant::call`]; for kinds
/// 0 and 1, `msg` must point to `len` bytes of UTF-8, which for kind 0 stay
/// valid for the life of the process.
unsafe extern "C" fn write_panic(ctx: *mut c_void, kind: u32, msg: *const u8, len: usize) {
    // SAFETY: the caller's contract.
    let target = unsafe { &mut *ctx.cast::<Option<Payload>>() };
    let text = || {
        // SAFETY: the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(msg, len) };
        std::str::from_utf8(bytes).ok()
    };
    *target = Some(match kind {
        0 => text().map_or(Payload::Other, |s| {
            // SAFETY: a kind-0 payload is a `&'static str` of a library
            // that is never unloaded.
            Payload::Static(unsafe { &*std::ptr::from_ref::<str>(s) })
        }),
        1 => text().map_or(Payload::Other, |s| Payload::Owned(s.to_owned())),
        _ => Payload::Other,
    });
}
