//! A specialization site: the run-time state of one `#[specialize]` function.
//!
//! The dispatcher's hit path is [`Site::dispatch`]: a multiply to hash the
//! value, an atomic load of the entry at its place in the site's table
//! (rarely a few more, when values share a place), a compare of the key,
//! and (in the caller) an indirect call. It costs the same whether one
//! value is hot or many are, takes no lock and writes nothing shared.
//! Everything else is the cold path: counting a miss (`trigger.rs`), and,
//! by mode, loading, scheduling or running a build.
//!
//! Entries are allocated once and never freed (their libraries are never
//! unloaded either), so a pointer read from the table stays valid forever.
//! The table holds failed values too, so a value that failed is not rebuilt:
//! its calls find its entry and run the generic body.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use staged_build::chain::Chain;
use staged_build::store::Hash32;

use crate::config::{Config, HOT, Mode};
use crate::key::Key;
use crate::source::{FnSource, Value};
use crate::trigger::{Counts, Step, Thresholds, Timer};
use crate::variant::{Source, Variant};
use crate::{Error, at_exit, engine, profile, worker};

/// Failed values remembered per function, beyond the variant cap.
const REMEMBERED_FAILURES: usize = 64;

/// What the dispatcher does with one call.
#[derive(Debug)]
pub enum Dispatch {
    /// Calls the variant.
    Variant(Variant),
    /// Runs the generic body.
    Generic,
    /// Runs the generic body, timed: the timer is dropped after the call
    /// (the expansion binds it in the match arm that makes the call).
    Timed(Timer),
}

/// The counters of a site, as `stats()` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Variants built by rustc in this process.
    pub compiled: u64,
    /// Variants loaded from the disk cache.
    pub cached: u64,
    /// Variants loaded from a bundle.
    pub bundled: u64,
    /// Values whose variant could not be built or loaded.
    pub failed: u64,
    /// Calls that ran the generic body for a value without a variant.
    pub generic_calls: u64,
    /// Values waiting for a background builder.
    pub pending: u64,
    /// Values being built or loaded right now.
    pub building: u64,
    /// Why the last build or load failed.
    pub last_error: Option<String>,
    /// What is wrong with the settings in effect (a value out of range and
    /// clamped, one that cannot be read), if anything.
    pub warnings: Option<String>,
    /// What the last variant gave up that costs speed, not answers: loops
    /// kept past `STAGED_UNROLL_MAX`.
    pub notes: Option<String>,
}

/// The run-time state of one function, held in a `static` by the expansion.
///
/// `K` is the tuple of the specialized parameter types, with `'static` for
/// any `&str`.
pub struct Site<K: Key> {
    source: &'static FnSource,
    table: OnceLock<Table<K>>,
    fingerprint: OnceLock<Hash32>,
    compiled: AtomicU64,
    cached: AtomicU64,
    bundled: AtomicU64,
    failed: AtomicU64,
    generic_calls: AtomicU64,
    last_error: Mutex<Option<String>>,
    notes: Mutex<Option<String>>,
    key: PhantomData<fn(K) -> K>,
}

// A site lives in a `static`, so it must be `Sync`, and it is without an
// `unsafe impl`: its counters are atomics, its table is built once
// (`OnceLock`), entries are reached through `AtomicPtr`s to entries leaked
// once written and never changed but for atomic counters, and what changes
// otherwise sits behind a `Mutex`. If a field ever breaks that, this stops
// compiling instead of the expansion's `static`s.
const _: () = {
    fn assert_sync<T: Sync>() {}
    let _ = assert_sync::<Site<(u32,)>>;
    let _ = assert_sync::<Site<(&'static str, u64)>>;
};

struct Entry<O> {
    key: O,
    /// The variant, or why the value has none.
    outcome: Result<Variant, Error>,
    /// Whether calls are counted, for the profile (only when one is kept:
    /// the hit path then also stores a count).
    counting: bool,
    /// The calls of the value, and how many of them were already written
    /// to the profile.
    calls: AtomicU64,
    written: AtomicU64,
}

impl<O> Entry<O> {
    fn new(key: O, outcome: Result<Variant, Error>) -> Self {
        Self {
            key,
            outcome,
            counting: false,
            calls: AtomicU64::new(0),
            written: AtomicU64::new(0),
        }
    }

    /// Counts one more call of the value (a load and a store: a count
    /// lost to a race does not matter to a profile).
    #[inline]
    fn count(&self) {
        let n = self.calls.load(Ordering::Relaxed);
        self.calls.store(n.wrapping_add(1), Ordering::Relaxed);
    }

    /// The variant, if the value has one.
    #[inline]
    fn variant(&self) -> Option<Variant> {
        self.outcome.as_ref().ok().copied()
    }
}

/// The entries of a site, in the order they came and by value.
struct Table<K: Key> {
    /// Append-only; the first `len` are set.
    slots: Box<[AtomicPtr<Entry<K::Owned>>]>,
    len: AtomicUsize,
    /// The same entries, each at the first empty place from its home (the
    /// high bits of `K::table_hash`) on, going round. Twice as many places as
    /// `slots` or more, so at most half are set and a search ends at an empty
    /// place within a step or two. A place is set once, under `state`'s lock,
    /// and never changes again.
    places: Box<[Place<K::Owned>]>,
    /// `64 - log2(places.len())`: a hash shifted right by it is a place.
    shift: u32,
    /// Entries holding a variant.
    ready: AtomicUsize,
    /// The calls of values without an entry, for `Background` mode.
    counts: Counts,
    state: Mutex<State<K::Owned>>,
    /// Signalled whenever a build ends.
    built: Condvar,
}

struct State<O> {
    /// Values being built, by any thread, with the process that builds them:
    /// a child forked while a thread of its parent was building must not
    /// wait for that thread, which it does not have.
    building: HashMap<O, u32>,
    /// Values waiting for a background builder.
    queued: HashSet<O>,
}

/// The id of this process, to tell a forked child from its parent.
fn pid() -> u32 {
    std::process::id()
}

/// `n` empty entry pointers.
fn nulls<O>(n: usize) -> Box<[AtomicPtr<Entry<O>>]> {
    (0..n).map(|_| AtomicPtr::new(ptr::null_mut())).collect()
}

/// A place of the table: an entry, and its variant's code beside it, so
/// that the hit path finds the call's target in one load after the hash
/// (when the target changes from call to call, the processor learns it only
/// when that load completes). Both are set once, `call` first.
struct Place<O> {
    entry: AtomicPtr<Entry<O>>,
    /// The entry's [`Variant::code`], or null when it holds no variant.
    call: AtomicPtr<()>,
}

impl<O> Place<O> {
    fn empty() -> Self {
        Self {
            entry: AtomicPtr::new(ptr::null_mut()),
            call: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

impl<K: Key> Table<K> {
    fn new() -> Self {
        Self::with_capacity(HOT.max_variants() + REMEMBERED_FAILURES)
    }

    /// A table that remembers up to `capacity` values.
    fn with_capacity(capacity: usize) -> Self {
        let places = (2 * capacity).max(2).next_power_of_two();
        Self {
            slots: nulls(capacity),
            len: AtomicUsize::new(0),
            places: (0..places).map(|_| Place::empty()).collect(),
            shift: 64 - places.trailing_zeros(),
            ready: AtomicUsize::new(0),
            counts: Counts::new(),
            state: Mutex::new(State {
                building: HashMap::new(),
                queued: HashSet::new(),
            }),
            built: Condvar::new(),
        }
    }

    /// The entry of the values `key`, if they have one.
    #[inline]
    fn get<B: Key<Owned = K::Owned>>(&self, key: &B) -> Option<&'static Entry<K::Owned>> {
        self.get_hashed(key, key.table_hash())
    }

    /// [`get`](Self::get), with `key`'s table hash given.
    #[inline]
    fn get_hashed<B: Key<Owned = K::Owned>>(
        &self,
        key: &B,
        hash: u64,
    ) -> Option<&'static Entry<K::Owned>> {
        self.search(hash, |o| key.matches(o))
            .map(|(entry, _)| entry)
    }

    /// The variant of the values `key`, whose table hash is `hash`, if
    /// they have one: the hit path.
    #[inline]
    fn hit<B: Key<Owned = K::Owned>>(
        &self,
        key: &B,
        hash: u64,
    ) -> Option<(&'static Entry<K::Owned>, Variant)> {
        let (entry, call) = self.search(hash, |o| key.matches(o))?;
        let variant = entry.variant()?;
        // SAFETY: `call` was read from the entry's place, where `push` set
        // it to this very variant's code.
        Some((entry, unsafe { variant.with_code(call) }))
    }

    /// The entry of the owned values `key`, if they have one.
    fn get_owned(&self, key: &K::Owned) -> Option<&'static Entry<K::Owned>> {
        self.search(K::table_hash_owned(key), |o| o == key)
            .map(|(entry, _)| entry)
    }

    /// The entry whose key satisfies `matches`, among those whose hash is
    /// `hash`: from the hash's home place on, up to an empty one; and the
    /// code of its variant, read from its place (null for none).
    #[inline]
    fn search(
        &self,
        hash: u64,
        matches: impl Fn(&K::Owned) -> bool,
    ) -> Option<(&'static Entry<K::Owned>, *mut ())> {
        let mask = self.places.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        // Bounded by the places, though an empty one always comes first.
        for _ in 0..self.places.len() {
            let place = &self.places[at];
            let entry = place.entry.load(Ordering::Acquire);
            if entry.is_null() {
                return None;
            }
            // Set before the entry (Release), so seen by the Acquire above.
            let call = place.call.load(Ordering::Relaxed);
            // SAFETY: a place is only ever set (with Release, by `push`,
            // which this Acquire load pairs with, so the entry's fields are
            // seen as written) to an entry leaked there, which is never freed.
            let entry = unsafe { &*entry };
            if matches(&entry.key) {
                return Some((entry, call));
            }
            at = (at + 1) & mask;
        }
        None
    }

    fn state(&self) -> MutexGuard<'_, State<K::Owned>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many more values may start building, with `pending` of them
    /// already under way: bounded by the variant cap and by the slots left to
    /// remember outcomes in, and the error that the tighter bound gives.
    fn room(&self, pending: usize) -> (usize, Error) {
        let max = HOT.max_variants();
        let variants = max.saturating_sub(self.ready.load(Ordering::Relaxed) + pending);
        let slots = self
            .slots
            .len()
            .saturating_sub(self.len.load(Ordering::Relaxed) + pending);
        if variants <= slots {
            (variants, Error::Cap { limit: max })
        } else {
            (
                slots,
                Error::TooManyFailures {
                    limit: REMEMBERED_FAILURES,
                },
            )
        }
    }

    /// Whether no more values may start building: [`room`](Self::room)
    /// is 0, with nothing under way (checked on every counted call, so
    /// without making the error).
    #[inline]
    fn full(&self) -> bool {
        let variants = HOT
            .max_variants()
            .saturating_sub(self.ready.load(Ordering::Relaxed));
        let slots = self
            .slots
            .len()
            .saturating_sub(self.len.load(Ordering::Relaxed));
        variants.min(slots) == 0
    }

    /// Appends an entry; `None` when the table is full (the outcome is then
    /// not remembered). The lock held (`_state`) orders pushes, so a place
    /// read empty here stays empty until this push sets it.
    fn push(
        &self,
        _state: &MutexGuard<'_, State<K::Owned>>,
        entry: Entry<K::Owned>,
    ) -> Option<&'static Entry<K::Owned>> {
        let len = self.len.load(Ordering::Relaxed);
        let slot = self.slots.get(len)?;
        debug_assert!(self.get_owned(&entry.key).is_none(), "pushed twice");
        if entry.outcome.is_ok() {
            self.ready.fetch_add(1, Ordering::Relaxed);
        }
        let hash = K::table_hash_owned(&entry.key);
        let entry: &'static Entry<K::Owned> = Box::leak(Box::new(entry));
        let entry_ptr = ptr::from_ref(entry).cast_mut();
        // Fewer than `slots.len()` places are set, under half of them: an
        // empty one comes before the search goes round.
        let mask = self.places.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        while !self.places[at].entry.load(Ordering::Relaxed).is_null() {
            at = (at + 1) & mask;
        }
        let code = entry.variant().map_or(ptr::null_mut(), |v| v.code());
        self.places[at].call.store(code, Ordering::Relaxed);
        // Release: a search that reads the pointer sees the entry (and the
        // code beside it) written.
        self.places[at].entry.store(entry_ptr, Ordering::Release);
        slot.store(entry_ptr, Ordering::Release);
        self.len.store(len + 1, Ordering::Release);
        Some(entry)
    }
}

impl<K: Key> Site<K> {
    /// A site with nothing loaded.
    pub const fn new(source: &'static FnSource) -> Self {
        Self {
            source,
            table: OnceLock::new(),
            fingerprint: OnceLock::new(),
            compiled: AtomicU64::new(0),
            cached: AtomicU64::new(0),
            bundled: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            generic_calls: AtomicU64::new(0),
            last_error: Mutex::new(None),
            notes: Mutex::new(None),
            key: PhantomData,
        }
    }

    /// What to do with a call with the values `key`: call their variant,
    /// or run the generic body, timed or not (the call is counted, and by
    /// mode the value is scheduled or built).
    #[inline]
    pub fn dispatch<B: Key<Owned = K::Owned>>(&'static self, key: &B) -> Dispatch {
        let hash = key.table_hash();
        if let Some((entry, variant)) = self.table.get().and_then(|t| t.hit(key, hash)) {
            if entry.counting {
                entry.count();
            }
            return Dispatch::Variant(variant);
        }
        self.dispatch_slow(key, hash)
    }

    /// The variant for `key`, if one is loaded; `None` means the caller runs
    /// the generic body (as [`dispatch`](Self::dispatch), untimed).
    #[inline]
    pub fn lookup<B: Key<Owned = K::Owned>>(&'static self, key: &B) -> Option<Variant> {
        match self.dispatch(key) {
            Dispatch::Variant(variant) => Some(variant),
            Dispatch::Generic | Dispatch::Timed(_) => None,
        }
    }

    #[cold]
    #[inline(never)]
    fn dispatch_slow<B: Key<Owned = K::Owned>>(&'static self, key: &B, hash: u64) -> Dispatch {
        // A value that failed: its entry holds no variant. (A variant
        // published since the caller looked is served.)
        if let Some(entry) = self.table.get().and_then(|t| t.get_hashed(key, hash)) {
            if let Some(variant) = entry.variant() {
                if entry.counting {
                    entry.count();
                }
                return Dispatch::Variant(variant);
            }
            self.count_generic();
            return Dispatch::Generic;
        }
        let dispatch = match HOT.mode() {
            Mode::Off => Dispatch::Generic,
            Mode::Background => self.count_miss(key, hash),
            // The call that built the variant runs it: not a generic call.
            Mode::Sync => self
                .obtain(key.to_owned_key(), 1, false)
                .map_or(Dispatch::Generic, Dispatch::Variant),
        };
        if !matches!(dispatch, Dispatch::Variant(_)) {
            self.count_generic();
        }
        dispatch
    }

    fn count_generic(&self) {
        // A load and a store, not a locked add: a generic call should cost
        // what the generic body costs. Concurrent calls may lose counts.
        let n = self.generic_calls.load(Ordering::Relaxed);
        self.generic_calls
            .store(n.wrapping_add(1), Ordering::Relaxed);
    }

    /// Counts a call of a value without a variant, in `Background` mode.
    /// A variant that the cache or a bundle holds serves the value's first
    /// call; a value that reaches a threshold (calls or time) is loaded if
    /// it has one by then, else queued for a background builder.
    fn count_miss<B: Key<Owned = K::Owned>>(&'static self, key: &B, hash: u64) -> Dispatch {
        let table = self.table();
        if table.full() {
            return Dispatch::Generic;
        }
        let limits = Thresholds::new(HOT.threshold(), HOT.threshold_ms());
        let mut step = table.counts.count(hash, limits);
        if let Step::New = step {
            if let Some(variant) = self.first_call(key) {
                return Dispatch::Variant(variant);
            }
            step = table.counts.enter(hash, limits);
        }
        match step {
            Step::Handed | Step::New => Dispatch::Generic,
            Step::Counted(timer) => timer.map_or(Dispatch::Generic, Dispatch::Timed),
            Step::Due(seen) => self
                .hand_over(key.to_owned_key(), seen)
                .map_or(Dispatch::Generic, Dispatch::Variant),
        }
    }

    /// The first call of a value new to the site: its variant, loaded now
    /// if the cache or a bundle has it. Whether they have it is known
    /// without touching the disk (the engine keeps the keys their indexes
    /// hold), so a value they do not have costs a hash of its literals.
    fn first_call<B: Key<Owned = K::Owned>>(&'static self, key: &B) -> Option<Variant> {
        let owned = key.to_owned_key();
        // Too large to write out: it runs generic.
        if K::too_long(&owned) {
            return None;
        }
        let mut literals = Vec::new();
        K::bake_owned(&owned, &mut literals);
        let value = Value {
            literals,
            lens: K::lens_owned(&owned),
        };
        let engine = engine::current();
        if !engine.holds(self.source, self.fingerprint(), &value) {
            return None;
        }
        let table = self.table();
        if !self.start_loading(&owned) {
            return None;
        }
        match self
            .materialize(std::slice::from_ref(&owned), engine::Reach::CacheOnly)
            .pop()
        {
            Some(Ok(variant)) => {
                self.publish(owned, Ok(variant), 1);
                Some(variant)
            }
            _ => {
                // Gone, or unusable: the value is counted from here on,
                // and the disk is not asked about it again before its
                // threshold.
                engine.dismiss(self.source, self.fingerprint(), &value);
                table.state().building.remove(&owned);
                table.built.notify_all();
                None
            }
        }
    }

    /// Marks `owned` as being loaded by this thread, unless it is being
    /// built or loaded already, or queued; whether it was marked.
    fn start_loading(&self, owned: &K::Owned) -> bool {
        let mut state = self.table().state();
        state.forget_builds_of_other_processes();
        if state.building.contains_key(owned) || state.queued.contains(owned) {
            return false;
        }
        state.building.insert(owned.clone(), pid());
        true
    }

    /// Hands over a value that reached a threshold after `seen` calls: its
    /// variant if the cache or a bundle has it by now (it serves this
    /// call), else it is queued for a background builder.
    fn hand_over(&'static self, owned: K::Owned, seen: u64) -> Option<Variant> {
        let table = self.table();
        if !self.start_loading(&owned) {
            return None;
        }
        let found = self
            .materialize(std::slice::from_ref(&owned), engine::Reach::CacheOnly)
            .pop();
        match found {
            Some(Ok(variant)) => {
                self.publish(owned, Ok(variant), seen);
                Some(variant)
            }
            _ => {
                let mut state = table.state();
                state.building.remove(&owned);
                state.queued.insert(owned.clone());
                drop(state);
                at_exit::remember(self);
                table.built.notify_all();
                worker::submit(move || {
                    let _ = self.obtain(owned, seen, true);
                });
                None
            }
        }
    }

    fn table(&self) -> &Table<K> {
        self.table.get_or_init(Table::new)
    }

    fn fingerprint(&self) -> &Hash32 {
        self.fingerprint.get_or_init(|| fingerprint(self.source))
    }

    /// The variant for `key`, built now if need be.
    ///
    /// # Errors
    ///
    /// [`Error::Off`] in `Off` mode; otherwise why the value could not be
    /// built or loaded (a failure is remembered, and returned again).
    pub fn specialize<B: Key<Owned = K::Owned>>(&'static self, key: &B) -> Result<Variant, Error> {
        if let Some(entry) = self.table.get().and_then(|t| t.get(key)) {
            return entry.outcome.clone();
        }
        if HOT.mode() == Mode::Off {
            return Err(Error::Off);
        }
        self.obtain(key.to_owned_key(), 0, false)
    }

    /// Builds the variants of many values in one rustc run, into one library.
    /// Values already loaded, failed or being built are left as they are.
    ///
    /// # Errors
    ///
    /// [`Error::Off`] in `Off` mode; [`Error::Cap`] when not all values fit
    /// under the variant cap; otherwise the first value's failure.
    pub fn prepare<B: Key<Owned = K::Owned>>(
        &'static self,
        keys: impl IntoIterator<Item = B>,
    ) -> Result<(), Error> {
        let keys: Vec<K::Owned> = keys.into_iter().map(|k| k.to_owned_key()).collect();
        if keys.is_empty() {
            return Ok(());
        }
        if HOT.mode() == Mode::Off {
            return Err(Error::Off);
        }
        let table = self.table();
        let mut fresh: Vec<K::Owned> = Vec::new();
        let mut result = Ok(());
        {
            let mut state = table.state();
            state.forget_builds_of_other_processes();
            let (room, bound) = table.room(state.building.len());
            for key in keys {
                if let Some(entry) = table.get_owned(&key) {
                    if let Err(e) = &entry.outcome {
                        result = result.and(Err(e.clone()));
                    }
                } else if !state.building.contains_key(&key) && !fresh.contains(&key) {
                    if fresh.len() < room {
                        state.building.insert(key.clone(), pid());
                        fresh.push(key);
                    } else {
                        self.refuse(&state, key, &bound);
                        result = result.and(Err(bound.clone()));
                    }
                }
            }
        }
        let outcomes = self.materialize(&fresh, engine::Reach::Build);
        for (key, outcome) in fresh.into_iter().zip(outcomes) {
            if let Err(e) = &outcome {
                result = result.and(Err(e.clone()));
            }
            self.publish(key, outcome, 0);
        }
        result
    }

    /// The outcome for `owned`: its entry if it has one, else the outcome of
    /// a build by another thread (waiting for it), else of a build by this
    /// one. `seen` calls of the value ran before (for the profile). A
    /// value `queued` for a background builder leaves the queue as it
    /// starts building, at once, so that no call sees it neither queued
    /// nor building and queues it again.
    fn obtain(&'static self, owned: K::Owned, seen: u64, queued: bool) -> Result<Variant, Error> {
        let table = self.table();
        let mut state = table.state();
        if queued {
            state.queued.remove(&owned);
        }
        loop {
            if let Some(entry) = table.get_owned(&owned) {
                return entry.outcome.clone();
            }
            state.forget_builds_of_other_processes();
            if !state.building.contains_key(&owned) {
                break;
            }
            state = table.built.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let (room, bound) = table.room(state.building.len());
        if room == 0 {
            self.refuse(&state, owned, &bound);
            return Err(bound);
        }
        state.building.insert(owned.clone(), pid());
        drop(state);
        let outcome = self
            .materialize(std::slice::from_ref(&owned), engine::Reach::Build)
            .pop()
            .unwrap_or(Err(Error::Panicked));
        self.publish(owned, outcome.clone(), seen);
        outcome
    }

    /// Records that `key` was refused for `bound` (the variant cap, or too
    /// many failures): remembered, where a slot is left, so that it counts
    /// as one failed value and is not tried again on every call.
    fn refuse(&self, state: &MutexGuard<'_, State<K::Owned>>, key: K::Owned, bound: &Error) {
        let table = self.table();
        if table
            .push(state, Entry::new(key, Err(bound.clone())))
            .is_some()
        {
            self.record_failure(Chain(bound));
        } else {
            self.note_error(&Chain(bound).to_string());
        }
    }

    /// Builds or loads `keys` (or only loads, by `reach`) and updates the
    /// counters.
    fn materialize(&self, keys: &[K::Owned], reach: engine::Reach) -> Vec<Result<Variant, Error>> {
        if keys.is_empty() {
            return Vec::new();
        }
        // A value too large to write out runs generic; the others go to
        // the engine.
        let too_large = Error::ValueTooLarge {
            limit: HOT.value_max_bytes(),
        };
        let (fitting, values): (Vec<usize>, Vec<Value>) = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| !K::too_long(k))
            .map(|(i, k)| {
                let mut literals = Vec::new();
                K::bake_owned(k, &mut literals);
                let lens = K::lens_owned(k);
                (i, Value { literals, lens })
            })
            .unzip();
        for value in &values {
            let copies = crate::codegen::copies(self.source.variant, value);
            if copies > HOT.unroll_max() as u64 {
                let note = format!(
                    "a variant keeps its `#[staged::unroll]` loops: unrolled, they would make {copies} copies, more than STAGED_UNROLL_MAX ({})",
                    HOT.unroll_max()
                );
                log::info!("staged: `{}`: {note}", self.source.path);
                *self.notes.lock().unwrap_or_else(|e| e.into_inner()) = Some(note);
            }
        }
        // Waiting callers block until every value of this batch is published:
        // a bug that panics here must not leave them waiting.
        let (built, repaired) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if values.is_empty() {
                return engine::Materialized {
                    outcomes: Vec::new(),
                    repaired: Vec::new(),
                };
            }
            engine::current().materialize(self.source, self.fingerprint(), &values, reach)
        }))
        .map_or_else(
            |_| {
                (
                    values.iter().map(|_| Err(Error::Panicked)).collect(),
                    Vec::new(),
                )
            },
            |m| (m.outcomes, m.repaired),
        );
        let mut built = built.into_iter();
        let mut fitting = fitting.into_iter().peekable();
        let outcomes: Vec<Result<Variant, Error>> = (0..keys.len())
            .map(|i| {
                if fitting.next_if_eq(&i).is_some() {
                    built.next().unwrap_or(Err(Error::Panicked))
                } else {
                    Err(too_large.clone())
                }
            })
            .collect();
        for problem in &repaired {
            self.note_error(&Chain(problem).to_string());
        }
        // What was refused on the way (a bad bundle, a damaged entry)
        // stays in the reason of a failure that follows.
        let refused: Vec<String> = repaired.iter().map(|e| Chain(e).to_string()).collect();
        for outcome in &outcomes {
            match outcome {
                Ok(v) => {
                    let counter = match v.source() {
                        Source::Compiled => &self.compiled,
                        Source::Cached => &self.cached,
                        Source::Bundled => &self.bundled,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                // Not in the cache is no failure: a build follows.
                Err(Error::NotCached) => {}
                Err(e) if refused.is_empty() => self.record_failure(Chain(e)),
                Err(e) => self.record_failure(format!(
                    "{}; before that: {}",
                    Chain(e),
                    refused.join("; ")
                )),
            }
        }
        outcomes
    }

    /// Remembers the outcome of `key` and wakes the threads waiting for it;
    /// `seen` calls of the value ran before. With a profile, a variant's
    /// value is written to it.
    fn publish(&'static self, key: K::Owned, outcome: Result<Variant, Error>, seen: u64) {
        let profile = outcome.is_ok().then(profile::current).flatten();
        let mut entry = Entry::new(key.clone(), outcome);
        if profile.is_some() {
            entry.counting = true;
            entry.calls.store(seen, Ordering::Relaxed);
            entry.written.store(seen, Ordering::Relaxed);
        }
        let table = self.table();
        let mut state = table.state();
        state.building.remove(&key);
        let pushed = if table.get_owned(&key).is_none() {
            let pushed = table.push(&state, entry);
            if pushed.is_none() {
                log::warn!(
                    "staged: `{}` remembers no more values; others run the generic body",
                    self.source.name
                );
            }
            pushed
        } else {
            None
        };
        drop(state);
        table.built.notify_all();
        if let (Some(path), Some(entry)) = (profile, pushed) {
            profile::write(&path, &self.profile_line(&entry.key, seen));
            at_exit::remember(self);
        }
    }

    /// The profile line of the value `key`, with `calls` calls.
    fn profile_line(&self, key: &K::Owned, calls: u64) -> String {
        let mut values = Vec::new();
        K::bake_owned(key, &mut values);
        staged_build::profile::Entry {
            krate: self.source.krate.to_owned(),
            function: self.source.path.to_owned(),
            fingerprint: self.source.fingerprint.to_owned(),
            values,
        }
        .line(calls)
    }

    /// Counts one value that failed, and says why.
    fn record_failure(&self, error: impl std::fmt::Display) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let error = error.to_string();
        log::warn!(
            "staged: `{}` runs its generic body: {error}",
            self.source.path
        );
        self.note_error(&error);
    }

    fn note_error(&self, error: &str) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_owned());
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let (pending, building) = self.table.get().map_or((0, 0), |t| {
            let mut state = t.state();
            state.forget_builds_of_other_processes();
            (state.queued.len() as u64, state.building.len() as u64)
        });
        Stats {
            pending,
            building,
            compiled: self.compiled.load(Ordering::Relaxed),
            cached: self.cached.load(Ordering::Relaxed),
            bundled: self.bundled.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            generic_calls: self.generic_calls.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            warnings: {
                let config = Config::current();
                (!config.warnings.is_empty()).then(|| config.warnings.join("; "))
            },
            notes: self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

impl<K: Key> at_exit::Site for Site<K> {
    fn leave_builds_behind(&'static self) {
        let Some(table) = self.table.get() else {
            return;
        };
        let wanted: Vec<K::Owned> = {
            let mut state = table.state();
            state.forget_builds_of_other_processes();
            let state = &*state;
            // Queued, or taken by a builder that may not have started
            // rustc (one that has holds the lock, and is left alone).
            state
                .queued
                .iter()
                .chain(state.building.keys())
                .filter(|k| table.get_owned(k).is_none())
                .take(HOT.max_variants())
                .cloned()
                .collect()
        };
        let mut unique: Vec<K::Owned> = Vec::with_capacity(wanted.len());
        for key in wanted {
            if !unique.contains(&key) {
                unique.push(key);
            }
        }
        if !unique.is_empty() {
            let _ = self.materialize(&unique, engine::Reach::LeaveBehind);
        }
    }

    fn unwritten(&self) -> String {
        let Some(table) = self.table.get() else {
            return String::new();
        };
        let len = table.len.load(Ordering::Acquire);
        table.slots[..len]
            .iter()
            .map(|slot| {
                // SAFETY: slots below `len` hold leaked entries, never freed.
                let entry = unsafe { &*slot.load(Ordering::Acquire) };
                let calls = entry.calls.load(Ordering::Relaxed);
                let written = entry.written.swap(calls, Ordering::Relaxed);
                if entry.counting && calls > written {
                    self.profile_line(&entry.key, calls - written)
                } else {
                    String::new()
                }
            })
            .collect()
    }
}

/// Everything about a function that its variants depend on: its text (the
/// macro's digest of it) and the settings of the crate that defines it.
fn fingerprint(s: &FnSource) -> Hash32 {
    let on = |b: bool| {
        if b {
            b"on".as_slice()
        } else {
            b"off".as_slice()
        }
    };
    let mut parts: Vec<&[u8]> = vec![
        s.fingerprint.as_bytes(),
        s.module.as_bytes(),
        s.edition.as_bytes(),
        on(s.debug_assertions),
        on(s.overflow_checks),
    ];
    let mut templates = String::new();
    crate::source::Piece::describe(s.variant, &mut templates);
    crate::source::Piece::describe(s.entry, &mut templates);
    parts.push(templates.as_bytes());
    Hash32::of_parts(parts)
}

impl<O: Eq + std::hash::Hash> State<O> {
    /// Drops the builds started by the parent of a forked child: their
    /// threads did not survive the fork, so this process builds on its own.
    fn forget_builds_of_other_processes(&mut self) {
        let me = pid();
        self.building.retain(|_, builder| *builder == me);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MAX_VARIANTS_LIMIT;
    use std::sync::atomic::AtomicU8;

    /// What a test entry holds besides its key, in two of its fields, so
    /// that a wrong or torn entry shows.
    fn payload(key: u32) -> u64 {
        u64::from(key).wrapping_mul(0x2545_F491_4F6C_DD1D) | 1
    }

    fn test_entry(key: u32) -> Entry<(u32,)> {
        let limit = payload(key) as usize;
        let entry = Entry::new((key,), Err(Error::Cap { limit }));
        entry.calls.store(payload(key), Ordering::Relaxed);
        entry
    }

    /// Checks that `entry` is the one `test_entry(key)` made, whole.
    fn assert_entry_of(entry: &Entry<(u32,)>, key: u32) {
        assert_eq!(entry.key, (key,), "the entry of another value");
        assert_eq!(entry.calls.load(Ordering::Relaxed), payload(key), "torn");
        let limit = payload(key) as usize;
        assert!(
            matches!(entry.outcome, Err(Error::Cap { limit: l }) if l == limit),
            "torn"
        );
    }

    /// A xorshift generator: the test needs spread, not quality.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// `n` distinct values, none of them in `not`.
    fn distinct(n: usize, seed: &mut u64, not: &[u32]) -> Vec<u32> {
        let mut seen: HashSet<u32> = not.iter().copied().collect();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            // Small values too, which sit close together.
            let v = next(seed) as u32 >> (next(seed) % 24);
            if seen.insert(v) {
                out.push(v);
            }
        }
        out
    }

    const OFFERED: u8 = 0;
    const IN: u8 = 1;
    const REFUSED: u8 = 2;

    /// Writers push more values than a table of `capacity` holds while
    /// readers look values up, by borrowed and by owned key.
    fn insert_and_look_up_concurrently(capacity: usize, round: u64) {
        const WRITERS: usize = 3;
        const READERS: usize = 3;
        let table: Table<(u32,)> = Table::with_capacity(capacity);
        let mut seed = 0x9E37_79B9 ^ (capacity as u64) << 8 ^ round;
        let keys = distinct(capacity + capacity / 2 + 2, &mut seed, &[]);
        let absent = distinct(capacity / 2 + 1, &mut seed, &keys);
        // What became of each key, stored after its push returned.
        let fate: Vec<AtomicU8> = keys.iter().map(|_| AtomicU8::new(OFFERED)).collect();
        let taken = AtomicUsize::new(0);
        let writing = AtomicUsize::new(WRITERS);
        let (table, keys, absent, fate) = (&table, &keys, &absent, &fate);
        let (taken, writing) = (&taken, &writing);
        std::thread::scope(|s| {
            for _ in 0..WRITERS {
                s.spawn(|| {
                    loop {
                        let i = taken.fetch_add(1, Ordering::Relaxed);
                        let Some(&key) = keys.get(i) else { break };
                        let state = table.state();
                        let pushed = table.push(&state, test_entry(key));
                        drop(state);
                        if let Some(entry) = pushed {
                            assert_entry_of(entry, key);
                        }
                        let fated = if pushed.is_some() { IN } else { REFUSED };
                        fate[i].store(fated, Ordering::Release);
                    }
                    writing.fetch_sub(1, Ordering::Release);
                });
            }
            for reader in 0..READERS {
                s.spawn(move || {
                    let mut seed = 0x5851_F42D ^ (reader as u64) << 8 ^ round;
                    loop {
                        let last_round = writing.load(Ordering::Acquire) == 0;
                        for _ in 0..64 {
                            let i = next(&mut seed) as usize % keys.len();
                            let before = fate[i].load(Ordering::Acquire);
                            for found in [table.get(&(keys[i],)), table.get_owned(&(keys[i],))] {
                                match found {
                                    Some(entry) => {
                                        assert_entry_of(entry, keys[i]);
                                        assert_ne!(before, REFUSED, "a refused value found");
                                    }
                                    None => assert_ne!(before, IN, "a value lost"),
                                }
                            }
                            let key = absent[next(&mut seed) as usize % absent.len()];
                            assert!(table.get(&(key,)).is_none(), "a value never offered");
                        }
                        if last_round {
                            break;
                        }
                    }
                });
            }
        });
        // Full: every value that went in is there, whole, and no other.
        assert_eq!(table.len.load(Ordering::Relaxed), capacity);
        let mut inside = 0;
        for (key, fate) in keys.iter().zip(fate) {
            match fate.load(Ordering::Relaxed) {
                IN => {
                    inside += 1;
                    assert_entry_of(table.get(&(*key,)).expect("a value lost"), *key);
                }
                fated => {
                    assert_eq!(fated, REFUSED);
                    assert!(table.get(&(*key,)).is_none(), "a refused value found");
                }
            }
        }
        assert_eq!(inside, capacity);
        assert!(absent.iter().all(|k| table.get(&(*k,)).is_none()));
    }

    #[test]
    fn threads_inserting_and_looking_up_always_get_the_right_entry() {
        // Tables of one place in use, of a few (values share places and
        // searches go round), of the default size and of the largest.
        // Many rounds of the small ones, for many interleavings.
        for capacity in [1, 2, 7, 128, MAX_VARIANTS_LIMIT + REMEMBERED_FAILURES] {
            for round in 0..(4096 / capacity as u64).clamp(2, 100) {
                insert_and_look_up_concurrently(capacity, round);
            }
        }
    }

    #[test]
    fn values_sharing_a_place_each_find_their_own_entry() {
        let table: Table<(u32,)> = Table::with_capacity(8);
        let last = table.places.len() - 1;
        // Nine values whose home is the last place: searches go round.
        let homed: Vec<u32> = (0u32..)
            .filter(|&k| (<(u32,)>::table_hash_owned(&(k,)) >> table.shift) as usize == last)
            .take(9)
            .collect();
        let state = table.state();
        for &key in &homed[..8] {
            assert!(table.push(&state, test_entry(key)).is_some());
        }
        assert!(table.push(&state, test_entry(homed[8])).is_none(), "full");
        drop(state);
        assert!(
            !table.places[0].entry.load(Ordering::Relaxed).is_null(),
            "wrapped"
        );
        for &key in &homed[..8] {
            assert_entry_of(table.get(&(key,)).unwrap(), key);
        }
        assert!(table.get(&(homed[8],)).is_none());
    }

    #[test]
    fn keys_of_every_kind_find_their_own_entry() {
        type K = (&'static str, f64, i128, char);
        let keys: Vec<K> = vec![
            ("", 0.0, 0, 'a'),
            ("", -0.0, 0, 'a'),
            ("", f64::NAN, 0, 'a'),
            ("", f64::from_bits(f64::NAN.to_bits() | 1), 0, 'a'),
            ("abcdefgh", 0.0, 0, 'a'),
            ("abcdefgh\0", 0.0, 0, 'a'),
            ("abcdefghi", 0.0, 0, 'a'),
            ("a", 0.0, -1, 'a'),
            ("a", 0.0, i128::MIN, 'a'),
            ("a", 0.0, 1 << 64, 'a'),
            ("a", 0.0, 1, 'a'),
            ("a", 0.0, 1, '\u{10FFFF}'),
        ];
        let table: Table<K> = Table::with_capacity(keys.len());
        let state = table.state();
        for (i, key) in keys.iter().enumerate() {
            let entry = Entry::new(key.to_owned_key(), Err(Error::Cap { limit: i }));
            assert!(table.push(&state, entry).is_some());
        }
        drop(state);
        for (i, key) in keys.iter().enumerate() {
            let owned = key.to_owned_key();
            for found in [table.get(key), table.get_owned(&owned)] {
                let entry = found.expect("found");
                assert_eq!(entry.key, owned);
                assert!(matches!(entry.outcome, Err(Error::Cap { limit }) if limit == i));
            }
        }
        let borrowed = String::from("abcdefgh");
        assert!(table.get(&(borrowed.as_str(), 0.0, 0i128, 'a')).is_some());
        assert!(table.get(&("abcdefgh", 0.0, 1i128, 'a')).is_none());
    }

    #[test]
    fn room_is_bounded_by_the_cap_and_by_remembered_failures() {
        let table: Table<(u32,)> = Table::new();
        let max = HOT.max_variants();
        let (room, bound) = table.room(0);
        assert_eq!(room, max);
        assert!(matches!(bound, Error::Cap { .. }));
        assert!(!table.full());
        assert_eq!(table.room(max).0, 0, "values being built count");
        // Failed values use slots, not variants: past the remembered ones,
        // nothing more starts.
        let state = table.state();
        for key in 0..(max + REMEMBERED_FAILURES) as u32 {
            assert!(
                table
                    .push(&state, Entry::new((key,), Err(Error::Off)))
                    .is_some()
            );
        }
        drop(state);
        let (room, bound) = table.room(0);
        assert_eq!(room, 0);
        assert!(table.full());
        assert!(matches!(bound, Error::TooManyFailures { .. }), "{bound}");
        assert!(
            table
                .push(&table.state(), Entry::new((u32::MAX,), Err(Error::Off)))
                .is_none()
        );
        assert!(table.get(&(3u32,)).is_some_and(|e| e.outcome.is_err()));
    }
}
