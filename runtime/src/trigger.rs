//! When `Background` mode builds a value: after `STAGED_THRESHOLD` calls
//! that ran the generic body, or after `STAGED_THRESHOLD_MS` milliseconds
//! spent in it, whichever comes first.
//!
//! A site counts the values without a variant in a small table of fixed
//! size, [`Counts`], not one entry per value: a million values seen once
//! each cost no memory. A value's home is a bucket of two ways, chosen by
//! its table hash; a way holds 32 more bits of the hash (its tag), the
//! value's calls and an estimate of the time they spent in the generic
//! body. A value found in neither way is new to the site, as far as the
//! table knows: the site asks the store about it (once, unless the value
//! was pushed out meanwhile), then it takes the way with fewer calls (an
//! empty way first, then one whose value was handed over).
//!
//! Time is sampled: reading the clock around every call would cost a tiny
//! function more than its body. Calls 1, 2, 4, 8, … of a value are timed,
//! each standing for the calls since the one before; once a timed call is
//! long ([`LONG`]), every call is timed, until one is short again. So the
//! time of slow bodies, the ones whose time decides, is measured call by
//! call, and that of fast bodies is estimated within a factor of two.
//!
//! Counts are read and written with plain loads and stores, not locked
//! adds: threads calling one value at once may lose counts, and a way taken
//! by another value during a timed call may get that call's time; either
//! only moves a build a little.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Buckets of a site's table (two ways each).
const BUCKETS: usize = 128;
/// The calls of a way whose value was handed over: it is no longer counted.
const HANDED: u32 = u32::MAX;
/// A timed call at least this long makes the next call timed too: its
/// clock reads cost it about 1%.
pub(crate) const LONG: Duration = Duration::from_micros(4);
/// The bit of [`Way::work`] that says the last timed call was long.
const LONG_BIT: u64 = 1 << 63;

/// One value's counts: `head` is its tag (high half) and calls (low half;
/// 0: the way is empty), `work` the nanoseconds its generic calls took
/// (estimated) and [`LONG_BIT`].
#[derive(Default)]
pub(crate) struct Way {
    head: AtomicU64,
    work: AtomicU64,
}

impl Way {
    #[inline]
    fn calls(head: u64) -> u32 {
        head as u32
    }

    #[inline]
    fn tag(head: u64) -> u32 {
        (head >> 32) as u32
    }

    #[inline]
    fn set(&self, tag: u32, calls: u32) {
        self.head
            .store(u64::from(tag) << 32 | u64::from(calls), Ordering::Relaxed);
    }

    /// The nanoseconds counted so far.
    #[inline]
    fn nanos(&self) -> u64 {
        self.work.load(Ordering::Relaxed) & !LONG_BIT
    }
}

/// The call counts of a site's values without a variant.
pub(crate) struct Counts {
    ways: Box<[Way]>,
}

/// What to do with a call of a value without a variant.
pub(crate) enum Step {
    /// Nothing: the value was handed over already (to a builder, or to a
    /// load under way).
    Handed,
    /// The value is new to the table: ask the store, then [`Counts::enter`].
    New,
    /// Counted; time the call with the timer, if one is given.
    Counted(Option<Timer>),
    /// The value reached a threshold with this many calls, this one
    /// included: hand it over. It is no longer counted.
    Due(u64),
}

/// The thresholds in effect.
#[derive(Clone, Copy)]
pub(crate) struct Thresholds {
    /// Calls.
    pub(crate) calls: u32,
    /// Nanoseconds of generic calls; 0: time is not counted.
    pub(crate) nanos: u64,
}

impl Thresholds {
    #[inline]
    pub(crate) fn new(calls: u32, ms: u32) -> Self {
        Self {
            calls: calls.max(1),
            nanos: u64::from(ms) * 1_000_000,
        }
    }
}

impl Counts {
    pub(crate) fn new() -> Self {
        Self {
            ways: (0..2 * BUCKETS).map(|_| Way::default()).collect(),
        }
    }

    /// The two ways of `hash`'s bucket (its high bits, as the site's
    /// table uses) and its tag (its low half).
    #[inline]
    fn bucket(&self, hash: u64) -> (&[Way], u32) {
        let at = (hash >> (64 - BUCKETS.trailing_zeros())) as usize * 2;
        (&self.ways[at..at + 2], hash as u32)
    }

    /// Counts a call of the value whose table hash is `hash`.
    #[inline]
    pub(crate) fn count(&'static self, hash: u64, limits: Thresholds) -> Step {
        let (ways, tag) = self.bucket(hash);
        for way in ways {
            let head = way.head.load(Ordering::Relaxed);
            let calls = Way::calls(head);
            if Way::tag(head) != tag || calls == 0 {
                continue;
            }
            if calls == HANDED {
                return Step::Handed;
            }
            // Below `HANDED`: the call threshold is far lower.
            let calls = calls.saturating_add(1).min(HANDED - 1);
            return Self::after(way, tag, calls, limits);
        }
        Step::New
    }

    /// Makes the value of `hash` known to the table, with this call its
    /// first: in the way it has, if another thread gave it one meanwhile
    /// (or handed it over while this one looked for its variant, which is
    /// then counted again), else in an empty way of its bucket, else in
    /// place of a value handed over, else of the one with fewer calls.
    pub(crate) fn enter(&'static self, hash: u64, limits: Thresholds) -> Step {
        let (ways, tag) = self.bucket(hash);
        let rank = |way: &Way| {
            let head = way.head.load(Ordering::Relaxed);
            match Way::calls(head) {
                0 => 1,
                _ if Way::tag(head) == tag => 0,
                HANDED => 2,
                calls => u64::from(calls) + 2,
            }
        };
        let way = if rank(&ways[1]) < rank(&ways[0]) {
            &ways[1]
        } else {
            &ways[0]
        };
        way.work.store(0, Ordering::Relaxed);
        Self::after(way, tag, 1, limits)
    }

    /// The step after the value's `calls`-th call, counted in `way`.
    #[inline]
    fn after(way: &'static Way, tag: u32, calls: u32, limits: Thresholds) -> Step {
        let work = way.work.load(Ordering::Relaxed);
        let timing = limits.nanos != 0;
        if calls >= limits.calls || (timing && work & !LONG_BIT >= limits.nanos) {
            way.set(tag, HANDED);
            return Step::Due(u64::from(calls));
        }
        way.set(tag, calls);
        let timed = timing && (work & LONG_BIT != 0 || calls.is_power_of_two());
        Step::Counted(timed.then(|| Timer {
            way,
            // Each sampled call stands for those since the last one.
            weight: if work & LONG_BIT != 0 {
                1
            } else {
                u64::from(calls - calls / 2)
            },
            start: Instant::now(),
        }))
    }
}

/// Times one generic call: made right before it, dropped right after it
/// (or when it unwinds), adding its time to the value's count.
#[must_use]
pub struct Timer {
    way: &'static Way,
    /// How many calls this one stands for.
    weight: u64,
    start: Instant,
}

impl Timer {
    /// Adds a call that took `took`.
    fn record(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let total = self
            .way
            .nanos()
            .saturating_add(nanos.saturating_mul(self.weight))
            .min(!LONG_BIT);
        let long = if took >= LONG { LONG_BIT } else { 0 };
        self.way.work.store(total | long, Ordering::Relaxed);
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.record(self.start.elapsed());
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer")
            .field("weight", &self.weight)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> &'static Counts {
        Box::leak(Box::new(Counts::new()))
    }

    /// A hash whose bucket is `bucket` and tag `tag`.
    fn hash(bucket: u64, tag: u32) -> u64 {
        bucket << (64 - BUCKETS.trailing_zeros()) | u64::from(tag)
    }

    /// Counts `timer`'s call as taking `took`, whatever the clock says.
    fn took(timer: Timer, took: Duration) {
        timer.record(took);
        std::mem::forget(timer);
    }

    const CALLS: Thresholds = Thresholds { calls: 4, nanos: 0 };

    /// Counts `n` calls of `h` as a site does, entering it when new; the
    /// step of the last.
    fn calls(c: &'static Counts, h: u64, n: u32, limits: Thresholds) -> Step {
        let mut last = Step::Handed;
        for _ in 0..n {
            last = match c.count(h, limits) {
                Step::New => c.enter(h, limits),
                step => step,
            };
        }
        last
    }

    #[test]
    fn a_value_is_new_once_then_due_at_the_threshold_then_handed() {
        let c = counts();
        let h = hash(5, 77);
        assert!(matches!(c.count(h, CALLS), Step::New));
        assert!(matches!(c.enter(h, CALLS), Step::Counted(None)));
        assert!(matches!(c.count(h, CALLS), Step::Counted(None)));
        assert!(matches!(c.count(h, CALLS), Step::Counted(None)));
        assert!(matches!(c.count(h, CALLS), Step::Due(4)));
        for _ in 0..10 {
            assert!(matches!(c.count(h, CALLS), Step::Handed));
        }
        // A threshold of one call: due at the first.
        let one = Thresholds { calls: 1, nanos: 0 };
        assert!(matches!(calls(c, hash(6, 1), 1, one), Step::Due(1)));
    }

    #[test]
    fn values_sharing_a_bucket_keep_their_own_counts() {
        let c = counts();
        let (a, b) = (hash(9, 1), hash(9, 2));
        calls(c, a, 2, CALLS);
        calls(c, b, 2, CALLS);
        assert!(matches!(c.count(a, CALLS), Step::Counted(_)));
        assert!(matches!(c.count(b, CALLS), Step::Counted(_)));
        assert!(matches!(c.count(a, CALLS), Step::Due(4)));
        assert!(matches!(c.count(b, CALLS), Step::Due(4)));
        // Another bucket, another tag: the same values elsewhere are new.
        assert!(matches!(c.count(hash(10, 1), CALLS), Step::New));
    }

    #[test]
    fn a_new_value_takes_the_way_of_a_handed_value_then_the_least_called() {
        let c = counts();
        let (hot, handed) = (hash(3, 1), hash(3, 2));
        calls(c, hot, 3, CALLS);
        assert!(matches!(calls(c, handed, 4, CALLS), Step::Due(4)));
        // A stream of values seen once each: each takes the handed way,
        // then the way of the one before; the hot value keeps its count.
        for tag in 10..100 {
            assert!(matches!(c.count(hash(3, tag), CALLS), Step::New));
            c.enter(hash(3, tag), CALLS);
        }
        assert!(matches!(c.count(hot, CALLS), Step::Due(4)));
        // The handed value was pushed out: new again.
        assert!(matches!(c.count(handed, CALLS), Step::New));
    }

    #[test]
    fn a_value_entered_again_takes_its_own_way_and_is_counted_afresh() {
        let c = counts();
        let (a, b) = (hash(7, 1), hash(7, 2));
        calls(c, b, 3, CALLS);
        assert!(matches!(calls(c, a, 4, CALLS), Step::Due(4)));
        // Handed over while another thread looked for its variant, which
        // it did not find: counted again, in its own way.
        assert!(matches!(c.enter(a, CALLS), Step::Counted(_)));
        assert!(matches!(c.count(b, CALLS), Step::Due(4)));
        assert!(matches!(calls(c, a, 3, CALLS), Step::Due(4)));
    }

    #[test]
    fn without_a_time_threshold_nothing_is_timed() {
        let c = counts();
        let limits = Thresholds::new(1_000, 0);
        for _ in 0..100 {
            match calls(c, hash(1, 1), 1, limits) {
                Step::Counted(None) => {}
                _ => panic!("timed, or due"),
            }
        }
    }

    /// Which of a value's first `n` calls are timed, when each timed call
    /// takes `each`; and the time counted after them.
    fn timed_calls(n: u32, each: Duration) -> (Vec<u32>, u64) {
        let c = counts();
        let h = hash(2, 9);
        let limits = Thresholds::new(1_000_000, 1_000_000);
        let mut timed = Vec::new();
        for call in 1..=n {
            let step = match c.count(h, limits) {
                Step::New => c.enter(h, limits),
                step => step,
            };
            match step {
                Step::Counted(Some(timer)) => {
                    timed.push(call);
                    took(timer, each);
                }
                Step::Counted(None) => {}
                _ => panic!("due"),
            }
        }
        (timed, c.bucket(h).0[0].nanos())
    }

    #[test]
    fn short_calls_are_timed_by_sample_each_standing_for_those_before() {
        let each = Duration::from_nanos(100);
        let (timed, nanos) = timed_calls(100, each);
        assert_eq!(timed, [1, 2, 4, 8, 16, 32, 64]);
        // 1 + 1 + 2 + 4 + 8 + 16 + 32 calls of 100 ns.
        assert_eq!(nanos, 6_400);
    }

    #[test]
    fn once_a_call_is_long_every_call_is_timed() {
        let each = LONG * 2;
        let (timed, nanos) = timed_calls(10, each);
        assert_eq!(timed, (1..=10).collect::<Vec<_>>());
        assert_eq!(nanos, 10 * each.as_nanos() as u64);
    }

    #[test]
    fn the_time_threshold_makes_a_value_due_at_the_call_after_it() {
        let c = counts();
        let h = hash(4, 4);
        // 20 ms, or 32 calls; each call takes 5 ms.
        let limits = Thresholds::new(32, 20);
        let each = Duration::from_millis(5);
        let mut due_at = None;
        for call in 1..=32u32 {
            let step = match c.count(h, limits) {
                Step::New => c.enter(h, limits),
                step => step,
            };
            match step {
                Step::Counted(Some(timer)) => took(timer, each),
                Step::Counted(None) => panic!("call {call} of a slow value not timed"),
                Step::Due(n) => {
                    due_at = Some((call, n));
                    break;
                }
                _ => panic!("handed"),
            }
        }
        // Calls 1 to 4 took 20 ms: the fifth finds it due.
        assert_eq!(due_at, Some((5, 5)));
    }
}
