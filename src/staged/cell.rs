//! The cell behind a lazy [`Staged`](super::Staged): `std`'s `LazyLock` when
//! `std` is linked, else a once cell built on one atomic byte, so that
//! `#[fallback(lazy)]` also works in `#![no_std]` crates.

#[cfg(feature = "std")]
pub use with_std::Lazy;

#[cfg(all(not(feature = "std"), target_has_atomic = "8"))]
pub use without_std::Lazy;

#[cfg(feature = "std")]
mod with_std {
    use std::sync::LazyLock;

    /// A value computed by `init` on first access; what `const_init!` emits.
    pub struct Lazy<T>(LazyLock<T, fn() -> T>);

    impl<T> Lazy<T> {
        /// A cell that will run `init`.
        pub const fn new(init: fn() -> T) -> Self {
            Self(LazyLock::new(init))
        }

        /// The value, computed now if need be.
        #[inline]
        pub fn force(&self) -> &T {
            LazyLock::force(&self.0)
        }
    }
}

// Also compiled for the tests, which link std, so that the cell `no_std`
// builds use is exercised by many threads.
#[cfg(any(test, all(not(feature = "std"), target_has_atomic = "8")))]
mod without_std {
    use core::cell::UnsafeCell;
    use core::mem::MaybeUninit;
    use core::sync::atomic::{AtomicU8, Ordering};

    const EMPTY: u8 = 0;
    const RUNNING: u8 = 1;
    const READY: u8 = 2;
    const POISONED: u8 = 3;

    /// A value computed by `init` on first access. One thread runs `init`;
    /// threads arriving meanwhile spin until it is done (there is no OS to
    /// park them on), then all see the same value.
    pub struct Lazy<T> {
        state: AtomicU8,
        value: UnsafeCell<MaybeUninit<T>>,
        init: fn() -> T,
    }

    // SAFETY: the value is written once, by the thread that moved `state`
    // from EMPTY to RUNNING, before it publishes READY with Release; readers
    // only read it after seeing READY with Acquire. So `&Lazy<T>` hands out
    // only `&T` across threads (needs `T: Sync`), and the value may be
    // created on one thread and dropped on another (needs `T: Send`).
    unsafe impl<T: Send + Sync> Sync for Lazy<T> {}

    impl<T> Lazy<T> {
        /// A cell that will run `init`.
        pub const fn new(init: fn() -> T) -> Self {
            Self {
                state: AtomicU8::new(EMPTY),
                value: UnsafeCell::new(MaybeUninit::uninit()),
                init,
            }
        }

        /// The value, computed now if need be.
        ///
        /// # Panics
        ///
        /// When `init` panicked, now or on an earlier access.
        #[inline]
        pub fn force(&self) -> &T {
            if self.state.load(Ordering::Acquire) == READY {
                // SAFETY: READY is published only after the value is written.
                return unsafe { (*self.value.get()).assume_init_ref() };
            }
            self.force_slow()
        }

        #[cold]
        fn force_slow(&self) -> &T {
            loop {
                match self.state.compare_exchange(
                    EMPTY,
                    RUNNING,
                    Ordering::Acquire,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        // If `init` unwinds, later accesses panic instead of
                        // spinning forever.
                        let poison = Poison(&self.state);
                        let value = (self.init)();
                        // SAFETY: this thread won the EMPTY -> RUNNING race,
                        // so no other thread reads or writes the value until
                        // READY is stored below.
                        unsafe { (*self.value.get()).write(value) };
                        core::mem::forget(poison);
                        self.state.store(READY, Ordering::Release);
                    }
                    Err(READY) => {
                        // SAFETY: as in `force`: READY follows the write.
                        return unsafe { (*self.value.get()).assume_init_ref() };
                    }
                    Err(POISONED) => panic!("the run-time initializer of this `Staged` panicked"),
                    Err(_) => core::hint::spin_loop(),
                }
            }
        }
    }

    impl<T> Drop for Lazy<T> {
        fn drop(&mut self) {
            if *self.state.get_mut() == READY {
                // SAFETY: READY means the value was written, and `&mut self`
                // means no one else can see it any more.
                unsafe { self.value.get_mut().assume_init_drop() };
            }
        }
    }

    struct Poison<'a>(&'a AtomicU8);

    impl Drop for Poison<'_> {
        fn drop(&mut self) {
            self.0.store(POISONED, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_std::Lazy as Spin;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use std::vec::Vec;

    static RUNS: AtomicUsize = AtomicUsize::new(0);

    fn slow_init() -> [u64; 64] {
        RUNS.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        core::array::from_fn(|i| (i * i) as u64)
    }

    #[test]
    fn the_spin_cell_runs_its_initializer_once_under_contention() {
        static CELL: Spin<[u64; 64]> = Spin::new(slow_init);
        let threads: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| CELL.force()[63]))
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 63 * 63);
        }
        assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    }

    fn panicking_init() -> u8 {
        panic!("no value")
    }

    #[test]
    fn a_panicking_initializer_poisons_the_spin_cell() {
        static CELL: Spin<u8> = Spin::new(panicking_init);
        assert!(std::panic::catch_unwind(|| *CELL.force()).is_err());
        let again = std::panic::catch_unwind(|| *CELL.force()).unwrap_err();
        let message = again.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("panicked"), "{message}");
    }
}
