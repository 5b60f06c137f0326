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

/// Receives a panic message from a library: `ctx` is the host's `String`.
pub type PanicWriter = unsafe extern "C" fn(ctx: *mut c_void, msg: *const u8, len: usize);

/// The entry every variant library exports, one per value.
///
/// `args` points to the tuple of the non-specialized arguments, which the
/// entry moves out of; `out` to uninitialized room for the result. It returns
/// 0 when `out` holds the result, 1 when the variant panicked and the message
/// was handed to `panic`.
pub type EntryFn =
    unsafe extern "C" fn(args: *mut u8, out: *mut u8, panic: *const PanicSlot) -> u32;

/// Where an entry hands a panic message back to the host.
#[repr(C)]
pub struct PanicSlot {
    /// Passed back to `write`.
    pub ctx: *mut c_void,
    /// Copies the message; the library keeps ownership of its bytes.
    pub write: PanicWriter,
}

/// A loaded run-time variant. Libraries are never unloaded, so the entry stays
/// valid for the life of the process.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    entry: EntryFn,
    source: Source,
}

impl Variant {
    /// A variant whose entry was checked to take the site's argument tuple and
    /// return its result type.
    pub(crate) fn new(entry: EntryFn, source: Source) -> Self {
        Self { entry, source }
    }

    /// Where the variant came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Calls the variant with the non-specialized arguments.
    ///
    /// A panic in the variant is caught in the library and raised again here,
    /// on the caller's side, with the same message.
    ///
    /// # Safety
    ///
    /// `A` must be the tuple of the non-specialized parameter types and `R`
    /// the return type of the function this variant was built from. The site
    /// checks the library's recorded sizes and alignments against them before
    /// it hands out a `Variant`.
    #[inline]
    pub unsafe fn call<A, R>(self, args: A) -> R {
        let mut args = ManuallyDrop::new(args);
        let mut out = MaybeUninit::<R>::uninit();
        // Set only on a panic, so the call itself costs one store here and
        // nothing to drop.
        let mut message = ManuallyDrop::new(None::<String>);
        let slot = PanicSlot {
            ctx: (&raw mut *message).cast(),
            write: write_panic,
        };
        // SAFETY: the entry was built from the same signature (the caller's
        // contract), so it reads an `A` from `args` and writes an `R` to `out`.
        // It moves out of `args`, which is why `args` is never dropped here.
        let status =
            unsafe { (self.entry)((&raw mut *args).cast(), out.as_mut_ptr().cast(), &slot) };
        if status != 0 {
            panicked(ManuallyDrop::into_inner(message));
        }
        // SAFETY: status 0 means the entry wrote the result.
        unsafe { out.assume_init() }
    }
}

/// Raises the panic of a variant again, on the caller's side.
#[cold]
#[inline(never)]
fn panicked(message: Option<String>) -> ! {
    panic!("{}", message.unwrap_or_default());
}

/// Copies a panic message from a library into the host's `Option<String>`.
///
/// # Safety
///
/// `ctx` must be the `Option<String>` set up by [`Variant::call`] and `msg`
/// must point to `len` readable bytes.
unsafe extern "C" fn write_panic(ctx: *mut c_void, msg: *const u8, len: usize) {
    // SAFETY: the caller's contract.
    let (target, bytes) = unsafe {
        (
            &mut *ctx.cast::<Option<String>>(),
            std::slice::from_raw_parts(msg, len),
        )
    };
    *target = Some(String::from_utf8_lossy(bytes).into_owned());
}
