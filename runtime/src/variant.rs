//! A run-time variant: a function in a loaded library, called through its
//! `extern "C"` entry.

use std::collections::HashMap;
use std::ffi::c_void;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::sync::{Mutex, OnceLock};

use crate::codegen::Lines;
use crate::source::FnSource;

/// Where a variant's code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Built by rustc in this process.
    Compiled,
    /// Loaded from the disk cache.
    Cached,
    /// Loaded from a read-only bundle (`STAGED_BUNDLE`).
    Bundled,
}

/// Receives a panic from a library: `ctx` is the host's slot, `kind` says
/// what `msg` is, `line` and `column` where in the library's source it
/// happened (see the library's `__StagedPanicSlot`).
type PanicWriter = unsafe extern "C" fn(
    ctx: *mut c_void,
    kind: u32,
    msg: *const u8,
    len: usize,
    line: u32,
    column: u32,
);

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

/// A panic's payload as it crossed from a library, to be raised again.
#[doc(hidden)]
pub enum Payload {
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
    /// A variant whose entry, in a library of `function` where its lines
    /// are `lines`, was checked to take the site's argument block and
    /// return its result type.
    pub(crate) fn new(
        entry: EntryFn,
        source: Source,
        function: &'static FnSource,
        lines: &'static Lines,
    ) -> Self {
        register(entry, function, lines);
        Self { entry, source }
    }

    /// The variant's code, as a data pointer: for a table that keeps it
    /// beside the variant (see [`with_code`](Self::with_code)).
    pub(crate) fn code(self) -> *mut () {
        self.entry as *mut ()
    }

    /// This variant, its code taken from `code` instead: a table's copy,
    /// read where the hit path reads its place, so that the call's target
    /// depends on one load fewer.
    ///
    /// # Safety
    ///
    /// `code` is [`code`](Self::code) of this very variant.
    #[inline]
    pub(crate) unsafe fn with_code(self, code: *mut ()) -> Self {
        debug_assert_eq!(code, self.code());
        // SAFETY: the caller's contract: `code` is this variant's entry,
        // a function pointer of type `EntryFn`, cast to a data pointer of
        // the same size.
        let entry = unsafe { std::mem::transmute::<*mut (), EntryFn>(code) };
        Self { entry, ..self }
    }

    /// This variant, found in a bundle.
    pub(crate) fn bundled(self) -> Self {
        Self {
            source: Source::Bundled,
            ..self
        }
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
        let mut payload = ManuallyDrop::new(None::<Crossed>);
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
            panicked(ManuallyDrop::into_inner(payload), self.entry);
        }
        // SAFETY: status 0 means the entry wrote the result.
        unsafe { out.assume_init() }
    }
}

/// A panic as it crossed from a library: its payload, where in the
/// library's source the hook saw it (line, column), and whether a hook saw
/// it at all (`false` for `resume_unwind`).
struct Crossed {
    payload: Payload,
    line: u32,
    column: u32,
    hooked: bool,
}

/// Added to a payload's kind by a library when no panic hook ran for it
/// (`UNHOOKED` of the library's support code).
const UNHOOKED: u32 = 8;

/// The function and lines of every loaded entry, for panics.
type Origins = Mutex<HashMap<usize, (&'static FnSource, &'static Lines)>>;

fn origins() -> &'static Origins {
    static ORIGINS: OnceLock<Origins> = OnceLock::new();
    ORIGINS.get_or_init(Mutex::default)
}

/// Remembers that `entry` is an entry of a library of `source`, whose
/// variant's lines are `lines`.
pub(crate) fn register(entry: EntryFn, source: &'static FnSource, lines: &'static Lines) {
    origins()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(entry as usize, (source, lines));
}

/// Raises the panic of a variant again, on the caller's side: at the place
/// of the user's source where it happened, when the library said where and
/// the function knows that place, else at the caller. A panic no hook saw
/// in the library (`resume_unwind`) resumes without the program's hook, as
/// it would have in the generic body.
#[cold]
#[inline(never)]
#[track_caller]
fn panicked(crossed: Option<Crossed>, entry: EntryFn) -> ! {
    let Some(Crossed {
        payload,
        line,
        column,
        hooked,
    }) = crossed
    else {
        raise(Payload::Other)
    };
    if !hooked {
        resume(payload)
    }
    let origin = origins()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(entry as usize))
        .copied();
    if let Some((source, lines)) = origin
        && let Some(place) = crate::codegen::place(source, lines, line, column)
    {
        PENDING.with(|p| *p.borrow_mut() = Some(payload));
        (source.raise)(place)
    }
    raise(payload)
}

std::thread_local! {
    /// The payload `raise_pending` raises, set right before the function's
    /// `raise` is called.
    static PENDING: std::cell::RefCell<Option<Payload>> = const { std::cell::RefCell::new(None) };
}

/// Raises the pending payload of this thread at the caller's location (an
/// arm of a function's `raise`, spanned at the user's source).
#[doc(hidden)]
#[track_caller]
pub fn raise_pending() -> ! {
    let payload = PENDING.with(|p| p.borrow_mut().take());
    raise(payload.unwrap_or(Payload::Other))
}

/// Raises the pending payload at the caller's location, whatever the
/// place: for a function that knows no places of its source.
#[doc(hidden)]
#[track_caller]
pub fn raise_at(_place: u16) -> ! {
    raise_pending()
}

/// Raises `payload` as a panic at the caller's location.
#[doc(hidden)]
#[track_caller]
pub fn raise(payload: Payload) -> ! {
    match payload {
        Payload::Static(s) => std::panic::panic_any(s),
        Payload::Owned(s) => std::panic::panic_any(s),
        Payload::Other => std::panic::panic_any(String::from("Box<dyn Any>")),
    }
}

/// Unwinds with `payload` without running the panic hook.
fn resume(payload: Payload) -> ! {
    match payload {
        Payload::Static(s) => std::panic::resume_unwind(Box::new(s)),
        Payload::Owned(s) => std::panic::resume_unwind(Box::new(s)),
        Payload::Other => std::panic::resume_unwind(Box::new(String::from("Box<dyn Any>"))),
    }
}

/// Copies a panic payload from a library into the host's slot.
///
/// # Safety
///
/// `ctx` must be the slot set up by [`Variant::call`]; for kinds 0 and 1,
/// `msg` must point to `len` bytes of UTF-8, which for kind 0 stay valid
/// for the life of the process.
unsafe extern "C" fn write_panic(
    ctx: *mut c_void,
    kind: u32,
    msg: *const u8,
    len: usize,
    line: u32,
    column: u32,
) {
    // SAFETY: the caller's contract.
    let target = unsafe { &mut *ctx.cast::<Option<Crossed>>() };
    let hooked = kind & UNHOOKED == 0;
    let kind = kind & !UNHOOKED;
    let text = || {
        // SAFETY: the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts(msg, len) };
        std::str::from_utf8(bytes).ok()
    };
    let payload = match kind {
        0 => text().map_or(Payload::Other, |s| {
            // SAFETY: a kind-0 payload is a `&'static str` of a library
            // that is never unloaded.
            Payload::Static(unsafe { &*std::ptr::from_ref::<str>(s) })
        }),
        1 => text().map_or(Payload::Other, |s| Payload::Owned(s.to_owned())),
        _ => Payload::Other,
    };
    *target = Some(Crossed {
        payload,
        line,
        column,
        hooked,
    });
}
