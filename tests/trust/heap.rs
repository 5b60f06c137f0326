//! Heap memory across the boundary (issue 18, item 2). A `#[repr(C)]`
//! module struct holding a `Vec` was accepted as a parameter, and under a
//! program's own `#[global_allocator]` the variant's `push` reached libc's
//! `realloc` with the program's pointer: `realloc(): invalid pointer`, the
//! process aborted. A variant now allocates and frees through the
//! program's allocator, so heap types cross on purpose.
//!
//! This whole test binary runs under [`Tagged`], an allocator that puts a
//! tag before every block and aborts when asked to free or grow a block
//! without it: a block of another allocator, or one freed twice, crashes
//! the binary, as it did.

use std::alloc::{GlobalAlloc, Layout, System};

use proptest::prelude::*;
use staged::specialize;

use super::answers::{assert_runtime, setup};

/// Wraps the system allocator with a tag before each block.
struct Tagged;

const TAG: u64 = 0x5354_4147_4544_2121;

/// Room for the tag before a block of `layout`, keeping its alignment.
fn room(layout: Layout) -> usize {
    layout.align().max(16)
}

/// The system block that holds a block of `layout` and its tag.
fn outer(layout: Layout) -> Layout {
    Layout::from_size_align(layout.size() + room(layout), room(layout)).unwrap()
}

/// The tag of `ptr`, a block of ours; aborts if it is not one.
///
/// # Safety
///
/// `ptr` is a block pointer of `layout` passed to `dealloc`/`realloc`.
unsafe fn check(ptr: *mut u8, layout: Layout) -> *mut u8 {
    // SAFETY: a block of ours has its tag `room` bytes before it; a
    // foreign block has malloc's own bookkeeping there (16 bytes, readable),
    // and no tag.
    let base = unsafe { ptr.sub(room(layout)) };
    // SAFETY: as above.
    if unsafe { base.cast::<u64>().read() } != TAG {
        // Not ours: the crash this test is about, made certain.
        let message = b"tagged allocator: a block of another allocator\n";
        // SAFETY: writing a static buffer to stderr.
        unsafe { libc::write(2, message.as_ptr().cast(), message.len()) };
        std::process::abort();
    }
    base
}

// SAFETY: every block is a system block with the block's alignment and
// `room` bytes (a multiple of that alignment) before the block's pointer,
// whose first word is the tag.
unsafe impl GlobalAlloc for Tagged {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the outer layout is not zero-sized.
        let base = unsafe { System.alloc(outer(layout)) };
        if base.is_null() {
            return base;
        }
        // SAFETY: the block has `room` bytes before the caller's part.
        unsafe {
            base.cast::<u64>().write(TAG);
            base.add(room(layout))
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, checked by the tag.
        let base = unsafe { check(ptr, layout) };
        // SAFETY: `base` came from `System.alloc` with this outer layout;
        // the tag is cleared, so a second free of the block aborts.
        unsafe {
            base.cast::<u64>().write(0);
            System.dealloc(base, outer(layout));
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, checked by the tag.
        let base = unsafe { check(ptr, layout) };
        // SAFETY: `base` came from `System.alloc` with the outer layout; the
        // tag moves with the block.
        let moved = unsafe { System.realloc(base, outer(layout), new_size + room(layout)) };
        if moved.is_null() {
            return moved;
        }
        // SAFETY: as in `alloc`.
        unsafe { moved.add(room(layout)) }
    }
}

#[global_allocator]
static ALLOCATOR: Tagged = Tagged;

/// A row type holding heap memory, from a self-contained module.
#[staged::self_contained]
mod bags {
    #[repr(C)]
    #[derive(Clone, Debug, PartialEq)]
    pub struct Bag {
        pub items: Vec<u64>,
        pub label: String,
    }

    /// Pushes `k` items, each a multiple of `k`: the `Vec` grows in the
    /// variant, the `String` too.
    #[staged::specialize(k)]
    pub fn fill(bag: &mut Bag, k: u64) {
        for i in 0..k {
            bag.items.push(i * k);
        }
        bag.label.push_str(&k.to_string());
    }

    /// A new bag made in the variant, dropped by the caller.
    #[staged::specialize(k)]
    pub fn make(k: u64) -> Bag {
        Bag {
            items: (0..k).collect(),
            label: format!("bag{k}"),
        }
    }
}

/// A `Vec` of the caller that the variant grows.
#[specialize(k)]
fn grow(v: &mut Vec<u64>, k: u64) {
    v.extend((0..k).map(|i| i ^ k));
    v.shrink_to_fit();
}

/// A `Vec` made in the variant.
#[specialize(k)]
fn squares(n: u64, k: u64) -> Vec<u64> {
    (0..n).map(|i| i * i + k).collect()
}

/// A `String` and a `Box` given to the variant, which drops them, and new
/// ones it returns.
#[specialize(k)]
fn rename(s: String, b: Box<[u32]>, k: u32) -> (String, Box<u64>) {
    let total: u64 = b.iter().map(|&x| u64::from(x)).sum();
    (format!("{s}-{k}"), Box::new(total + u64::from(k)))
}

/// `Option` and `Result` results.
#[specialize(k)]
fn find(xs: &[u64], k: u64) -> Option<usize> {
    xs.iter().position(|&x| x == k)
}

#[specialize(sep)]
fn split(s: &str, sep: char) -> Result<Vec<String>, String> {
    if s.is_empty() {
        Err(format!("nothing to split by {sep:?}"))
    } else {
        Ok(s.split(sep).map(str::to_owned).collect())
    }
}

#[test]
fn a_vec_in_a_module_struct_grows_in_the_variant_under_a_custom_allocator() {
    setup();
    for k in [3u64, 5] {
        let h = bags::fill::specialized(k).unwrap();
        assert_runtime(h.origin());
        let mut bag = bags::Bag {
            items: vec![1, 2],
            label: "b".into(),
        };
        let mut want = bag.clone();
        bags::fill::generic(&mut want, k);
        h.call(&mut bag);
        assert_eq!(bag, want);
        // The caller grows and drops what the variant made.
        bag.items.extend(0..100);
        let made = bags::make::specialized(k).unwrap().call();
        assert_eq!(made, bags::make::generic(k));
        // A block freed twice has lost its tag and aborts.
        drop((bag, want, made));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Heap values cross both ways and agree with the generic body.
    #[test]
    fn heap_types_cross_both_ways(
        start in prop::collection::vec(any::<u64>(), 0..40),
        k in 0u64..4,
        n in 0u64..300,
        name in ".{0,20}",
        boxed in prop::collection::vec(any::<u32>(), 0..20),
        text in "[a-c,]{0,12}",
    ) {
        setup();
        let h = grow::specialized(k).unwrap();
        let (mut got, mut want) = (start.clone(), start.clone());
        h.call(&mut got);
        grow::generic(&mut want, k);
        prop_assert_eq!(&got, &want);
        got.push(1);

        prop_assert_eq!(squares::specialized(k).unwrap().call(n), squares::generic(n, k));
        prop_assert_eq!(squares(n, k), squares::generic(n, k));

        let k32 = k as u32;
        let b: Box<[u32]> = boxed.clone().into();
        prop_assert_eq!(
            rename::specialized(k32).unwrap().call(name.clone(), b.clone()),
            rename::generic(name.clone(), b, k32)
        );

        let target = start.first().copied().unwrap_or(k);
        prop_assert_eq!(find::specialized(target).unwrap().call(&start), find::generic(&start, target));
        prop_assert_eq!(find(&start, target), find::generic(&start, target));

        prop_assert_eq!(split::specialized(',').unwrap().call(&text), split::generic(&text, ','));
    }
}
