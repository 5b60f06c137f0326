// The library's side of the entry protocol (codegen/mod.rs): built once per
// toolchain, target and flags as the crate `staged_support` (an rlib every
// library links, so that each build compiles only its own variants), or,
// when that rlib cannot be had, written into the library as a module of that
// name. It must compile in every edition from 2018 on, both ways; it is not
// compiled as part of staged-runtime itself.

/// The host's table, set by [`__staged_init`].
#[doc(hidden)]
pub static HOST: ::core::sync::atomic::AtomicPtr<__StagedHost> =
    ::core::sync::atomic::AtomicPtr::new(::core::ptr::null_mut());

/// Writes `text` and a newline to the host's `stream` (1 stdout, 2 stderr).
#[doc(hidden)]
pub fn write_line(stream: u32, mut text: ::std::string::String) {
    text.push('\n');
    write(stream, text);
}

/// Writes `text` to the host's `stream` (1 stdout, 2 stderr), or to this
/// library's own before the host lent its streams.
#[doc(hidden)]
pub fn write(stream: u32, text: ::std::string::String) {
    let host = HOST.load(::core::sync::atomic::Ordering::Acquire);
    if host.is_null() {
        let _ = match stream {
            1 => ::std::io::Write::write_all(&mut ::std::io::stdout(), text.as_bytes()),
            _ => ::std::io::Write::write_all(&mut ::std::io::stderr(), text.as_bytes()),
        };
        return;
    }
    // SAFETY: `host` was set by `__staged_init` to the host's table, a
    // static of the host program, and `text` is valid for its length.
    let status = unsafe { ((*host).write)(stream, text.as_ptr(), text.len()) };
    if status != 0 {
        ::core::panic!(
            "failed printing to {}",
            if stream == 1 { "stdout" } else { "stderr" }
        );
    }
}

/// What the host lends the library: its own output streams and its global
/// allocator.
#[repr(C)]
pub struct __StagedHost {
    write: unsafe extern "C" fn(u32, *const u8, usize) -> u32,
    alloc: unsafe extern "C" fn(usize, usize, u32) -> *mut u8,
    dealloc: unsafe extern "C" fn(*mut u8, usize, usize),
    realloc: unsafe extern "C" fn(*mut u8, usize, usize, usize) -> *mut u8,
}

/// The library's global allocator: the host's. A `Vec` made on one side
/// may grow or drop on the other, whatever allocator the program chose.
/// Before `__staged_init` lends the host's table (nothing of this library
/// runs before it but its loader's relocations) it is the system's.
#[doc(hidden)]
pub struct __StagedHostAlloc;

#[global_allocator]
#[doc(hidden)]
pub static __STAGED_ALLOC: __StagedHostAlloc = __StagedHostAlloc;

impl __StagedHostAlloc {
    fn host() -> *mut __StagedHost {
        HOST.load(::core::sync::atomic::Ordering::Acquire)
    }
}

// SAFETY: every method forwards its layout unchanged to the host's global
// allocator (whose `GlobalAlloc` contract is the same) or, before the host
// lent it, to the system allocator; a block is freed by the allocator that
// made it, since the table is set once, before any entry runs.
unsafe impl ::core::alloc::GlobalAlloc for __StagedHostAlloc {
    unsafe fn alloc(&self, layout: ::core::alloc::Layout) -> *mut u8 {
        let host = Self::host();
        if host.is_null() {
            // SAFETY: the caller's contract.
            return unsafe { ::std::alloc::GlobalAlloc::alloc(&::std::alloc::System, layout) };
        }
        // SAFETY: `host` is the host's table, a static of the program.
        unsafe { ((*host).alloc)(layout.size(), layout.align(), 0) }
    }

    unsafe fn alloc_zeroed(&self, layout: ::core::alloc::Layout) -> *mut u8 {
        let host = Self::host();
        if host.is_null() {
            // SAFETY: the caller's contract.
            return unsafe {
                ::std::alloc::GlobalAlloc::alloc_zeroed(&::std::alloc::System, layout)
            };
        }
        // SAFETY: as in `alloc`.
        unsafe { ((*host).alloc)(layout.size(), layout.align(), 1) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: ::core::alloc::Layout) {
        let host = Self::host();
        if host.is_null() {
            // SAFETY: the caller's contract.
            return unsafe { ::std::alloc::GlobalAlloc::dealloc(&::std::alloc::System, ptr, layout) };
        }
        // SAFETY: as in `alloc`.
        unsafe { ((*host).dealloc)(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(
        &self,
        ptr: *mut u8,
        layout: ::core::alloc::Layout,
        new_size: usize,
    ) -> *mut u8 {
        let host = Self::host();
        if host.is_null() {
            // SAFETY: the caller's contract.
            return unsafe {
                ::std::alloc::GlobalAlloc::realloc(&::std::alloc::System, ptr, layout, new_size)
            };
        }
        // SAFETY: as in `alloc`.
        unsafe { ((*host).realloc)(ptr, layout.size(), layout.align(), new_size) }
    }
}

/// Where an entry hands a panic back: `kind` 0 for a `&'static str` (the
/// pointer stays valid: the library is never unloaded), 1 for a `String`
/// (copied before the call returns), 2 for any other payload, plus
/// [`UNHOOKED`] when no panic hook ran for it (`resume_unwind`); and the
/// line and column of this file where it happened (0 when elsewhere).
#[repr(C)]
pub struct __StagedPanicSlot {
    ctx: *mut ::core::ffi::c_void,
    write: unsafe extern "C" fn(*mut ::core::ffi::c_void, u32, *const u8, usize, u32, u32),
}

/// Added to a payload's kind when it unwound without the panic hook, as
/// `std::panic::resume_unwind` does: the host resumes it the same way.
#[doc(hidden)]
pub const UNHOOKED: u32 = 8;

::std::thread_local! {
    /// Where the last panic of this thread happened in this file, once the
    /// hook saw it; `None` when no hook ran since the entry was called.
    static __STAGED_PANICKED_AT: ::core::cell::Cell<::core::option::Option<(u32, u32)>> =
        const { ::core::cell::Cell::new(::core::option::Option::None) };
}

/// Called once by the loader, before any entry: allocations go to the
/// host's allocator from here on; the host raises every
/// panic again with its payload, so this library's own hook only notes
/// where in this file a panic happened;
/// output goes through the host; what the body wrote to this library's own
/// stdout directly is flushed when the process exits.
///
/// # Safety
///
/// `host` points to a table that lives as long as the process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __staged_init(host: *const __StagedHost) {
    // First, so that the hook below is allocated by the host's allocator
    // like everything after it.
    HOST.store(host as *mut __StagedHost, ::core::sync::atomic::Ordering::Release);
    ::std::panic::set_hook(::std::boxed::Box::new(|info| {
        let at = info
            .location()
            .filter(|l| l.file().ends_with("variant.rs"))
            .map_or((0, 0), |l| (l.line(), l.column()));
        __STAGED_PANICKED_AT.with(|cell| cell.set(::core::option::Option::Some(at)));
    }));
    unsafe extern "C" {
        fn atexit(f: extern "C" fn()) -> i32;
    }
    extern "C" fn flush() {
        let _ = ::std::io::Write::flush(&mut ::std::io::stdout());
    }
    // SAFETY: `atexit` has no preconditions; `flush` only uses this
    // library's std, which is torn down after the atexit handlers ran.
    unsafe {
        atexit(flush);
    }
}

/// Runs a variant inside `catch_unwind`: writes its result to `out` and
/// returns 0, or reports its panic to `slot` and returns 1.
///
/// # Safety
///
/// `out` has room for an `R`; `slot` points to the host's slot.
#[inline(always)]
pub unsafe fn __staged_run<R, F: ::core::ops::FnOnce() -> R>(
    out: *mut R,
    slot: *const __StagedPanicSlot,
    f: F,
) -> u32 {
    __STAGED_PANICKED_AT.with(|cell| cell.set(::core::option::Option::None));
    match ::std::panic::catch_unwind(::core::panic::AssertUnwindSafe(f)) {
        ::core::result::Result::Ok(r) => {
            // SAFETY: the caller's contract.
            unsafe { out.write(r) };
            0
        }
        ::core::result::Result::Err(payload) => {
            // SAFETY: the caller's contract.
            unsafe { __staged_report(slot, &*payload) };
            1
        }
    }
}

#[doc(hidden)]
#[cold]
#[inline(never)]
pub unsafe fn __staged_report(
    slot: *const __StagedPanicSlot,
    payload: &(dyn ::core::any::Any + ::core::marker::Send),
) {
    // SAFETY: the host's slot outlives the call.
    let slot = unsafe { &*slot };
    let hooked = __STAGED_PANICKED_AT.with(|cell| cell.replace(::core::option::Option::None));
    let ((line, column), unhooked) = match hooked {
        ::core::option::Option::Some(at) => (at, 0),
        ::core::option::Option::None => ((0, 0), UNHOOKED),
    };
    let (kind, ptr, len) = if let ::core::option::Option::Some(s) = payload.downcast_ref::<&'static str>() {
        (0, s.as_ptr(), s.len())
    } else if let ::core::option::Option::Some(s) = payload.downcast_ref::<::std::string::String>() {
        (1, s.as_ptr(), s.len())
    } else {
        (2, ::core::ptr::null(), 0)
    };
    // SAFETY: `ptr` is valid for `len` bytes for the duration of the call
    // (and for good, for a `&'static str` of a library never unloaded).
    unsafe { (slot.write)(slot.ctx, kind | unhooked, ptr, len, line, column) };
}
