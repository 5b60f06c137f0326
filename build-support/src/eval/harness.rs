//! The evaluator program's own code: compiled into every program that
//! evaluates a `const_init!` block (as source, next to `bake.rs`), and into
//! staged-build for its tests. It turns each initializer's result into the
//! declared type, renders it, and reports on descriptor [`RECORD_FD`], one
//! record per item:
//!
//! ```text
//! start <item>
//! baked <item> <text-len> <blobs> <usize-max> <isize-min> <isize-max>
//! <text>(blob <kind> <type-len> <len>\n<type><bytes>)*
//! panic <item> <line> <column> <message-len>
//! <message>
//! uses <item> <used-item>
//! skip <item>
//! oom <bytes>
//! done
//! ```
//!
//! Records are written as they happen, so that when the program is killed
//! (a time-out) or dies (a stack overflow, an abort) the engine still knows
//! which items were done and which one was running. `oom` says that an
//! allocation of that many bytes failed (the program's memory is limited):
//! the program's [`Allocator`] writes it just before Rust aborts the
//! program, so the engine need not read the program's stderr for it.
//!
//! What an initializer prints goes to stdout and stderr, which the engine
//! keeps (bounded) but never parses; the records have a descriptor of their
//! own, which the harness takes before any initializer runs and keeps
//! close-on-exec, so that neither a `println!` nor a process an initializer
//! starts can write a record.
//!
//! Like `bake.rs`, this file depends on nothing but `std`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

use super::bake::{Bake, Baker, BlobKind};

/// The name of the program's source file, as panic locations report it.
pub const SOURCE_FILE: &str = "main.rs";

/// The descriptor the engine gives the program for its records.
pub const RECORD_FD: i32 = 3;

/// The record channel, taken from [`RECORD_FD`] when the program starts.
static RECORDS: OnceLock<Option<File>> = OnceLock::new();

/// Stack of the thread that runs the initializers: deep recursion on the
/// build host should not fail where the same code at run time would not.
const STACK_BYTES: usize = 256 << 20;

/// What the program takes beside the initializers' own memory, which the
/// engine adds to their limit: the initializers' stack (reserved whole,
/// which counts against a limit on private memory even where it is not
/// touched), the main thread's, and the runtime's own allocations.
pub const RESERVED_BYTES: u64 = STACK_BYTES as u64 + (64 << 20);

/// Turns what an initializer returns into its item's declared type:
/// `Vec<T>` becomes `&'static [T]` (leaked: the program ends right after),
/// `String` becomes `&'static str`, and arrays, tuples and `Option`s convert
/// element-wise.
#[diagnostic::on_unimplemented(
    message = "an initializer of type `{Self}` cannot be baked as `{T}`",
    label = "this produces `{Self}`",
    note = "a `&'static [T]` item takes a `Vec<T>`, an array or a `&'static [T]`; a `&'static str` item takes a `String` or a `&'static str`"
)]
pub trait BakeAs<T> {
    /// The value as a `T`.
    fn bake_as(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => {$(
        impl BakeAs<$t> for $t {
            #[inline]
            fn bake_as(self) -> $t {
                self
            }
        }
    )*};
}
identity!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
    &'static str
);

fn leak<A: BakeAs<B>, B: 'static>(items: impl Iterator<Item = A>) -> &'static [B] {
    items.map(BakeAs::bake_as).collect::<Vec<B>>().leak()
}

impl<A: BakeAs<B>, B, const N: usize> BakeAs<[B; N]> for [A; N] {
    fn bake_as(self) -> [B; N] {
        self.map(BakeAs::bake_as)
    }
}

impl<A: BakeAs<B>, B> BakeAs<Option<B>> for Option<A> {
    fn bake_as(self) -> Option<B> {
        self.map(BakeAs::bake_as)
    }
}

impl<A: BakeAs<B>, B: 'static> BakeAs<&'static [B]> for Vec<A> {
    fn bake_as(self) -> &'static [B] {
        leak(self.into_iter())
    }
}

impl<A: BakeAs<B>, B: 'static> BakeAs<&'static [B]> for Box<[A]> {
    fn bake_as(self) -> &'static [B] {
        leak(self.into_vec().into_iter())
    }
}

impl<A: BakeAs<B>, B: 'static, const N: usize> BakeAs<&'static [B]> for [A; N] {
    fn bake_as(self) -> &'static [B] {
        leak(self.into_iter())
    }
}

impl<A: BakeAs<B> + Copy, B: 'static> BakeAs<&'static [B]> for &'static [A] {
    fn bake_as(self) -> &'static [B] {
        leak(self.iter().copied())
    }
}

impl<A: BakeAs<B> + Copy, B: 'static, const N: usize> BakeAs<&'static [B]> for &'static [A; N] {
    fn bake_as(self) -> &'static [B] {
        leak(self.iter().copied())
    }
}

impl<A: BakeAs<B>, B, const N: usize> BakeAs<[B; N]> for Vec<A> {
    fn bake_as(self) -> [B; N] {
        let len = self.len();
        let items: Vec<B> = self.into_iter().map(BakeAs::bake_as).collect();
        items.try_into().unwrap_or_else(|_| {
            panic!("the initializer produced {len} elements for an array of {N}")
        })
    }
}

impl BakeAs<&'static str> for String {
    fn bake_as(self) -> &'static str {
        self.leak()
    }
}

impl BakeAs<&'static str> for Box<str> {
    fn bake_as(self) -> &'static str {
        Box::leak(self)
    }
}

macro_rules! tuples {
    ($(($($a:ident $b:ident $i:tt),*))*) => {$(
        impl<$($a: BakeAs<$b>, $b),*> BakeAs<($($b,)*)> for ($($a,)*) {
            #[allow(clippy::unused_unit)]
            fn bake_as(self) -> ($($b,)*) {
                ($(self.$i.bake_as(),)*)
            }
        }
    )*};
}
tuples! {
    (A1 B1 0)
    (A1 B1 0, A2 B2 1)
    (A1 B1 0, A2 B2 1, A3 B3 2)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9, A11 B11 10)
    (A1 B1 0, A2 B2 1, A3 B3 2, A4 B4 3, A5 B5 4, A6 B6 5, A7 B7 6, A8 B8 7, A9 B9 8, A10 B10 9, A11 B11 10, A12 B12 11)
}

/// What a later initializer sees of an item marked `#[fallback(lazy)]`:
/// the crate gives it the type `staged::Staged<T>`, so the build host does
/// too, and an initializer that type-checks here type-checks there.
pub struct Staged<T: 'static>(&'static T);

impl<T: 'static> Clone for Staged<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Staged<T> {}

impl<T: 'static> Staged<T> {
    /// Always true on the build host.
    pub fn is_baked(&self) -> bool {
        true
    }

    /// The value.
    pub fn get(&self) -> &T {
        self.0
    }
}

impl<T: 'static> std::ops::Deref for Staged<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
    }
}

impl<T: std::fmt::Debug + 'static> std::fmt::Debug for Staged<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What unwinds out of an initializer that uses an item without a value.
/// Not a panic message: the type is private to the harness, so nothing an
/// initializer writes can pass for it (a message can be anything).
struct UsesFailed(usize);

/// The value of the earlier item `index`, for a later initializer.
pub fn dep<T>(value: Option<T>, index: usize) -> T {
    match value {
        Some(v) => v,
        // `resume_unwind` skips the panic hook: this is no panic of the
        // user's.
        None => panic::resume_unwind(Box::new(UsesFailed(index))),
    }
}

/// The value of the earlier `#[fallback(lazy)]` item `index`.
pub fn dep_staged<T: 'static>(value: Option<T>, index: usize) -> Staged<T> {
    Staged(Box::leak(Box::new(dep(value, index))))
}

/// The last panic's message and place (line and column in
/// [`SOURCE_FILE`], 0 when elsewhere).
static LAST_PANIC: Mutex<Option<(String, u32, u32)>> = Mutex::new(None);

fn record_panics() {
    panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_owned(),
            None => match info.payload().downcast_ref::<String>() {
                Some(s) => s.clone(),
                None => "a panic without a message".to_owned(),
            },
        };
        let (line, column) = match info.location() {
            Some(l) if l.file().ends_with(SOURCE_FILE) => (l.line(), l.column()),
            _ => (0, 0),
        };
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some((message, line, column));
        }
    }));
}

/// Evaluates the items `items` asks for and reports them on the record
/// channel. The program's arguments are the indices of items to skip (they
/// timed out or crashed in an earlier run).
pub fn run(items: fn(&mut Session)) {
    RECORDS.get_or_init(take_records);
    record_panics();
    let skip = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let mut session = Session { skip };
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || items(&mut session));
    let finished = match worker {
        Ok(handle) => handle.join().is_ok(),
        Err(_) => false,
    };
    if finished {
        emit(b"done\n");
    }
}

/// The state of one run.
pub struct Session {
    skip: Vec<usize>,
}

impl Session {
    /// Evaluates item `index` with `init`, reports it, and returns its value
    /// for later initializers (`None` if it failed or was skipped).
    pub fn item<T: Bake + Copy + 'static>(
        &mut self,
        index: usize,
        init: impl FnOnce() -> T,
    ) -> Option<T> {
        if self.skip.contains(&index) {
            emit(format!("skip {index}\n").as_bytes());
            return None;
        }
        emit(format!("start {index}\n").as_bytes());
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            let value = init();
            let mut baker = Baker::new();
            value.bake_into(&mut baker);
            (value, baker)
        }));
        match result {
            Ok((value, baker)) => {
                let pieces = baked_pieces(index, &baker);
                emit_pieces(&pieces);
                Some(value)
            }
            Err(payload) => {
                if let Some(UsesFailed(used)) = payload.downcast_ref() {
                    emit(format!("uses {index} {used}\n").as_bytes());
                    return None;
                }
                let (message, line, column) = LAST_PANIC
                    .lock()
                    .ok()
                    .and_then(|mut p| p.take())
                    .unwrap_or_else(|| ("a panic without a message".to_owned(), 0, 0));
                let mut record =
                    format!("panic {index} {line} {column} {}\n", message.len()).into_bytes();
                record.extend_from_slice(message.as_bytes());
                emit(&record);
                None
            }
        }
    }
}

/// The `baked` record of item `index`, as the pieces to write in order:
/// the value's text and bytes are not copied, so that sending a value takes
/// no memory beside it, and every small piece is made before the first is
/// written, so that a failed allocation (an `oom` record) cannot land in
/// the middle of this record.
fn baked_pieces(index: usize, baker: &Baker) -> Vec<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    let mut pieces = Vec::with_capacity(2 + 3 * baker.blobs.len());
    let head = format!(
        "baked {index} {} {} {} {} {}\n",
        baker.text.len(),
        baker.blobs.len(),
        baker.usize_max,
        baker.isize_min,
        baker.isize_max
    );
    pieces.push(Cow::Owned(head.into_bytes()));
    pieces.push(Cow::Borrowed(baker.text.as_bytes()));
    for blob in &baker.blobs {
        let (kind, ty) = match &blob.kind {
            BlobKind::Plain { scalar, ty } => (scalar.name(), ty.as_str()),
            BlobKind::Str => ("str", ""),
        };
        let head = format!("blob {kind} {} {}\n", ty.len(), blob.bytes.len());
        pieces.push(Cow::Owned(head.into_bytes()));
        pieces.push(Cow::Borrowed(ty.as_bytes()));
        pieces.push(Cow::Borrowed(&blob.bytes));
    }
    pieces
}

/// The `baked` record of item `index`, in one piece.
pub fn baked_record(index: usize, baker: &Baker) -> Vec<u8> {
    baked_pieces(index, baker).concat()
}

/// Takes descriptor [`RECORD_FD`] as a close-on-exec copy, so that the
/// processes an initializer starts do not inherit it, and closes the
/// original. `None` if it is not open (the program was started by hand).
fn take_records() -> Option<File> {
    use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
    // SAFETY: nothing in the program has opened or closed a descriptor yet
    // (this runs first in `main`), so descriptor 3 is the engine's record
    // pipe or not open at all; duplicating a descriptor that is not open
    // fails with EBADF and touches nothing.
    let copy = unsafe { BorrowedFd::borrow_raw(RECORD_FD) }
        .try_clone_to_owned()
        .ok()?;
    // SAFETY: descriptor 3 is open (it was just duplicated) and nothing else
    // owns it: the engine gave it to this program for the harness alone.
    drop(unsafe { OwnedFd::from_raw_fd(RECORD_FD) });
    Some(File::from(copy))
}

fn emit(record: &[u8]) {
    emit_pieces(&[record]);
}

/// Writes one record made of `pieces`. Only the initializers' thread
/// writes records while they run (and the main thread once they are done),
/// so records do not interleave.
fn emit_pieces(pieces: &[impl AsRef<[u8]>]) {
    if let Some(mut out) = RECORDS.get().and_then(Option::as_ref) {
        for piece in pieces {
            // If the channel is gone the engine is gone too; there is no
            // one to tell.
            if out.write_all(piece.as_ref()).is_err() {
                return;
            }
        }
    }
}

/// The evaluator program's global allocator: the system's, which writes an
/// `oom` record when an allocation fails (the program's memory is
/// limited), before Rust aborts the program.
pub struct Allocator;

// SAFETY: every method hands its arguments to `System`, whose contract is
// the same, and returns what it returned; the record written on a failure
// allocates nothing.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps `alloc`'s contract, which is `System`'s.
        reported(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        reported(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with
        // `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's to keep
        // valid, as `System` requires.
        reported(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}

/// `ptr`, after writing an `oom` record if it is null. Runs inside the
/// allocator, so it allocates nothing: the number is written by hand into
/// a buffer on the stack. A fallible allocation (`try_reserve`) that fails
/// writes one too; the engine only heeds it if the item then dies.
fn reported(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        // `oom `, at most 20 digits and a newline, written from the end.
        let mut line = [0u8; 25];
        let mut start = line.len() - 1;
        line[start] = b'\n';
        let mut n = size;
        loop {
            start -= 1;
            line[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        start -= 4;
        line[start..start + 4].copy_from_slice(b"oom ");
        emit(&line[start..]);
    }
    ptr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_results_become_declared_types() {
        let names: &'static [&'static str] = vec!["a".to_string()].bake_as();
        assert_eq!(names, ["a"]);
        let nested: (Option<[u8; 2]>, &'static [&'static [u16]]) =
            (Some([1u8, 2]), vec![vec![3u16]]).bake_as();
        assert_eq!(nested.1[0], [3]);
        let array: [u32; 2] = vec![1u32, 2].bake_as();
        assert_eq!(array, [1, 2]);
        let slice: &'static [u8] = [1u8, 2, 3].bake_as();
        assert_eq!(slice.len(), 3);
    }

    #[test]
    fn a_vector_of_the_wrong_length_is_a_panic_with_both_lengths() {
        let err = panic::catch_unwind(|| {
            let _: [u8; 3] = vec![1u8].bake_as();
        })
        .unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert_eq!(
            message,
            "the initializer produced 1 elements for an array of 3"
        );
    }

    #[test]
    fn a_failed_dependency_unwinds_with_the_item_not_a_message() {
        let err = panic::catch_unwind(|| dep::<u8>(None, 4)).unwrap_err();
        assert!(matches!(err.downcast_ref(), Some(UsesFailed(4))));
        assert!(err.downcast_ref::<String>().is_none());
    }
}
