//! Stage 3 latency and speed, each figure next to its baseline:
//!
//! - `cold_build`: a new value of a small function, from `specialized` to a
//!   callable handle (rustc run, publish, verify, load), in a store that has
//!   the support library (as after its first build); `bare_rustc`, rustc
//!   alone on the same source; `cold_build_inline_support`, the library
//!   carrying the support code (the path before it, and when it cannot be
//!   built); `cold_build_first_in_store`, an empty store (the support
//!   library built first); and the function in a
//!   `#[staged::self_contained]` module of twenty helpers it does not use;
//! - `cache_load_new_process`: the same, in a fresh process that finds the
//!   library in the disk cache (timed inside the child, from the call to the
//!   handle, so process start-up is not counted); `further_cache_load`,
//!   a second library loaded by that process after the first (the engine
//!   set up already); the same from a bundle; and the floor, a bare
//!   `dlopen` + `dlsym` of the library;
//! - `hit`: the dispatcher on a loaded run-time variant vs the handle (one
//!   indirect call) vs a direct call of a static variant with the same body;
//!   and the dispatcher over 1, 2, 8 and 64 hot values in turn vs their
//!   handles in the same turns;
//! - `miss`: background mode's generic path for a tiny function, a value
//!   still being counted (the thresholds out of reach), with the time
//!   trigger on and off, vs the generic body called directly; the first
//!   call of a value the store does not hold (a new value every call);
//!   and, in `stage3`, the first dispatched call of a value the cache
//!   holds, in a fresh process (`first_call_cached_new_process`) and for
//!   a second value of that process (`further_first_call_cached`);
//! - `prepare`: 1, 8 and 32 new values in one rustc run;
//! - `sum_div`: sum of `x / d` over 1M `u64` with `d` known only at run time:
//!   generic body vs run-time variant vs static variant.
//!
//! `cargo bench -p staged-bench --bench runtime`; quote medians and their ratios.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use staged::runtime::{Config, Mode};
use staged::specialize;

/// `x` to the power `n`.
#[specialize(n = [13])]
fn power(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

/// The same body, specialized only at run time.
#[specialize(n)]
fn power_rt(x: u64, n: u32) -> u64 {
    let mut p = 1u64;
    for _ in 0..n {
        p = p.wrapping_mul(x);
    }
    p
}

/// A small function for build latency.
#[specialize(k)]
fn small(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

/// `small` again, for `prepare/32`: a site holds at most 4096 variants,
/// fewer than the iterations of all three `prepare` benches take.
#[specialize(k)]
fn small_twin(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

/// The same small function in a `#[staged::self_contained]` module with
/// twenty helpers (and a row type) it does not use: what the whole module
/// costs a cold build.
#[staged::self_contained]
mod twenty {
    /// A row of the kind kernels take.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Row {
        pub a: u64,
        pub b: u64,
    }

    pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

    /// Helper 0.
    pub fn h00(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(0u64, |acc, &x| {
            acc.rotate_left(1).wrapping_add(x ^ k.wrapping_mul(3))
        })
    }

    /// Helper 1.
    pub fn h01(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(1u64, |acc, &x| {
            acc.rotate_left(2).wrapping_add(x ^ k.wrapping_mul(5))
        })
    }

    /// Helper 2.
    pub fn h02(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(2u64, |acc, &x| {
            acc.rotate_left(3).wrapping_add(x ^ k.wrapping_mul(7))
        })
    }

    /// Helper 3.
    pub fn h03(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(3u64, |acc, &x| {
            acc.rotate_left(4).wrapping_add(x ^ k.wrapping_mul(9))
        })
    }

    /// Helper 4.
    pub fn h04(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(4u64, |acc, &x| {
            acc.rotate_left(5).wrapping_add(x ^ k.wrapping_mul(11))
        })
    }

    /// Helper 5.
    pub fn h05(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(5u64, |acc, &x| {
            acc.rotate_left(6).wrapping_add(x ^ k.wrapping_mul(13))
        })
    }

    /// Helper 6.
    pub fn h06(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(6u64, |acc, &x| {
            acc.rotate_left(7).wrapping_add(x ^ k.wrapping_mul(15))
        })
    }

    /// Helper 7.
    pub fn h07(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(7u64, |acc, &x| {
            acc.rotate_left(8).wrapping_add(x ^ k.wrapping_mul(17))
        })
    }

    /// Helper 8.
    pub fn h08(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(8u64, |acc, &x| {
            acc.rotate_left(9).wrapping_add(x ^ k.wrapping_mul(19))
        })
    }

    /// Helper 9.
    pub fn h09(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(9u64, |acc, &x| {
            acc.rotate_left(10).wrapping_add(x ^ k.wrapping_mul(21))
        })
    }

    /// Helper 10.
    pub fn h10(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(10u64, |acc, &x| {
            acc.rotate_left(11).wrapping_add(x ^ k.wrapping_mul(23))
        })
    }

    /// Helper 11.
    pub fn h11(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(11u64, |acc, &x| {
            acc.rotate_left(12).wrapping_add(x ^ k.wrapping_mul(25))
        })
    }

    /// Helper 12.
    pub fn h12(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(12u64, |acc, &x| {
            acc.rotate_left(13).wrapping_add(x ^ k.wrapping_mul(27))
        })
    }

    /// Helper 13.
    pub fn h13(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(13u64, |acc, &x| {
            acc.rotate_left(1).wrapping_add(x ^ k.wrapping_mul(29))
        })
    }

    /// Helper 14.
    pub fn h14(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(14u64, |acc, &x| {
            acc.rotate_left(2).wrapping_add(x ^ k.wrapping_mul(31))
        })
    }

    /// Helper 15.
    pub fn h15(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(15u64, |acc, &x| {
            acc.rotate_left(3).wrapping_add(x ^ k.wrapping_mul(33))
        })
    }

    /// Helper 16.
    pub fn h16(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(16u64, |acc, &x| {
            acc.rotate_left(4).wrapping_add(x ^ k.wrapping_mul(35))
        })
    }

    /// Helper 17.
    pub fn h17(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(17u64, |acc, &x| {
            acc.rotate_left(5).wrapping_add(x ^ k.wrapping_mul(37))
        })
    }

    /// Helper 18.
    pub fn h18(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(18u64, |acc, &x| {
            acc.rotate_left(6).wrapping_add(x ^ k.wrapping_mul(39))
        })
    }

    /// Helper 19.
    pub fn h19(xs: &[u64], k: u64) -> u64 {
        xs.iter().fold(19u64, |acc, &x| {
            acc.rotate_left(7).wrapping_add(x ^ k.wrapping_mul(41))
        })
    }

    /// The function of `cold_build`.
    #[staged::specialize(k)]
    pub fn small(x: u64, k: u32) -> u64 {
        x.rotate_left(k) ^ u64::from(k)
    }
}

/// Sum of `x / d`, with a static variant for 7.
#[specialize(d = [7])]
fn sum_div(xs: &[u64], d: u64) -> u64 {
    xs.iter().fold(0u64, |acc, x| acc.wrapping_add(x / d))
}

/// The same body, specialized only at run time.
#[specialize(d)]
fn sum_div_rt(xs: &[u64], d: u64) -> u64 {
    xs.iter().fold(0u64, |acc, x| acc.wrapping_add(x / d))
}

/// A store of its own for this run.
fn store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("staged-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = Command::new("chmod").arg("700").arg(&dir).status();
    dir.join(name)
}

fn install(store: PathBuf) {
    Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(store)
        .max_variants(100_000)
        .install();
}

/// Values never built before by this process: a counter that also differs
/// between runs.
fn fresh() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = (std::process::id() % 1000) * 1_000_000;
    base + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A stand-in for rustc that runs the real one; `fail_rlib` makes it fail
/// the support library's build, so that libraries carry the support code
/// themselves (the path of a build without it). Each library build's
/// source, support library and arguments are copied to `capture`, for the
/// bare rustc run of the same source.
fn wrapper(name: &str, fail_rlib: bool, capture: &Path) -> PathBuf {
    let path = store(name);
    let refuse = if fail_rlib {
        "case \"$*\" in *rlib*) exit 1;; esac\n"
    } else {
        ""
    };
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = -vV ]; then exec '{real}' -vV; fi\n{refuse}\
         case \"$*\" in *cdylib*) cp variant.rs '{cap}/' ; cp libstaged_support.rlib '{cap}/' 2>/dev/null; printf '%s\\n' \"$@\" > '{cap}/args';; esac\n\
         exec '{real}' \"$@\"\n",
        real = staged::__private::TOOLCHAIN.rustc,
        cap = capture.display(),
    );
    std::fs::write(&path, script).unwrap();
    let _ = Command::new("chmod").arg("755").arg(&path).status();
    path
}

fn install_with(store: PathBuf, rustc: Option<&Path>) {
    let config = Config::from_env()
        .mode(Mode::Sync)
        .cache_dir(store)
        .max_variants(100_000);
    match rustc {
        Some(rustc) => config.rustc(rustc).install(),
        None => config.install(),
    }
}

/// A new value of `small` built and loaded, timed, by the engine installed.
fn one_cold_build() -> Duration {
    let k = fresh();
    let start = Instant::now();
    let h = small::specialized(k).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(h.call(3), small::generic(3, k));
    elapsed
}

fn cold_build(c: &mut Criterion) {
    let capture = store("cold-capture");
    std::fs::create_dir_all(&capture).unwrap();
    let capturing = wrapper("rustc-capturing", false, &capture);
    let inline = wrapper("rustc-inline", true, &capture);
    let mut g = c.benchmark_group("stage3");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    // The first build in an empty store: the support library, then the
    // library (once per toolchain and flags).
    g.bench_function("cold_build_first_in_store", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    install_with(store(&format!("cold-first-{}", fresh())), None);
                    one_cold_build()
                })
                .sum()
        })
    });
    // Every later build: the store has the support library. One engine,
    // as in a process building one value after another (the recorded
    // rustc, so no `rustc -vV` either).
    let warm = store("cold-warm");
    install_with(warm.clone(), Some(&capturing));
    one_cold_build();
    install_with(warm.clone(), None);
    one_cold_build();
    g.bench_function("cold_build", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| one_cold_build()).sum())
    });
    g.bench_function("cold_build_in_module_of_20_helpers", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let k = fresh();
                let start = Instant::now();
                let h = twenty::small::specialized(k).unwrap();
                total += start.elapsed();
                assert_eq!(h.call(3), twenty::small::generic(3, k));
            }
            total
        });
    });
    // The floor: rustc alone on the source and support library of a build
    // of the same function.
    let args: Vec<String> = std::fs::read_to_string(capture.join("args"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    g.bench_function("bare_rustc", |b| {
        b.iter(|| {
            let status = Command::new(staged::__private::TOOLCHAIN.rustc)
                .args(&args)
                .current_dir(&capture)
                .status()
                .unwrap();
            assert!(status.success());
        })
    });
    // Without the support library (a rustc that fails on it): each library
    // carries its code, the path of every build before it existed. Its
    // stand-in for rustc adds a shell's start (about a millisecond).
    install_with(store("cold-inline"), Some(&inline));
    one_cold_build();
    g.bench_function("cold_build_inline_support", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| one_cold_build()).sum())
    });
    g.finish();
}

const CHILD: &str = "STAGED_BENCH_CHILD";

/// In the child, what the parent measures, named by `STAGED_BENCH_DLOPEN`:
/// unset, loads `power_rt` for the value the parent built (from the cache
/// or a bundle) and prints how long `specialized` took, in nanoseconds;
/// set to a library's path, the peer: how long a bare `dlopen` of that
/// library and a `dlsym` of its entry take.
fn child(value: u32) {
    if let Some(library) = read_var(DLOPEN) {
        let path = std::ffi::CString::new(library).unwrap();
        let start = Instant::now();
        // SAFETY: the library is one the parent's run built and verified;
        // its initializers are those every variant library has.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null());
        // SAFETY: `handle` was just opened; the name is NUL-terminated.
        let entry = unsafe { libc::dlsym(handle, c"__staged_entry_0".as_ptr()) };
        let elapsed = start.elapsed();
        assert!(!entry.is_null());
        println!("{}", elapsed.as_nanos());
        return;
    }
    // The first load sets up the engine (the cache opened and checked from
    // `/`, the CPU's fingerprint); a further one, of another library, pays
    // only for that library.
    let mut times = Vec::new();
    if read_var(FIRST_CALL).is_some() {
        // The dispatcher's first call of each value, in background mode:
        // it finds the value in the cache and runs its variant.
        for v in [value, value + 1] {
            let start = Instant::now();
            let y = power_rt(black_box(3), black_box(v));
            times.push(start.elapsed().as_nanos().to_string());
            assert_eq!(y, power_rt::generic(3, v));
        }
        let s = power_rt::stats();
        assert_eq!((s.cached, s.generic_calls), (2, 0), "{s:?}");
        println!("{}", times.join(" "));
        return;
    }
    for v in [value, value + 1] {
        let start = Instant::now();
        let h = power_rt::specialized(v).unwrap();
        times.push(start.elapsed().as_nanos().to_string());
        assert_eq!(h.origin(), staged::Origin::Cached);
        assert_eq!(h.call(3), power_rt::generic(3, v));
    }
    println!("{}", times.join(" "));
}

const DLOPEN: &str = "STAGED_BENCH_DLOPEN";
/// Set: the child times the dispatcher's first calls instead.
const FIRST_CALL: &str = "STAGED_BENCH_FIRST_CALL";

/// Runs this binary as a child with `envs`, and reads the nanoseconds it
/// printed first.
fn timed_child(exe: &Path, value: u32, envs: &[(&str, &Path)]) -> Duration {
    timed_child_all(exe, value, envs)[0]
}

/// Runs this binary as a child with `envs`, and reads every time it printed.
fn timed_child_all(exe: &Path, value: u32, envs: &[(&str, &Path)]) -> Vec<Duration> {
    let mut cmd = Command::new(exe);
    cmd.env(CHILD, value.to_string())
        .env("STAGED_MODE", "sync")
        .env("STAGED_RUSTC", "/nonexistent/rustc")
        .env_remove("STAGED_BUNDLE")
        .env_remove(FIRST_CALL)
        .env_remove(DLOPEN);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|n| Duration::from_nanos(n.parse().unwrap()))
        .collect()
}

fn cache_load(c: &mut Criterion) {
    let store = store("cache-load");
    install(store.clone());
    // Small, so that the child's check against the generic body is quick.
    let value = 1000 + fresh() % 1000;
    // Two libraries: the child loads the second after the first.
    power_rt::specialized(value).unwrap();
    power_rt::specialized(value + 1).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut g = c.benchmark_group("stage3");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(10));
    g.bench_function("cache_load_new_process", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_child(&exe, value, &[("STAGED_CACHE_DIR", &store)]))
                .sum()
        });
    });
    g.bench_function("further_cache_load", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_child_all(&exe, value, &[("STAGED_CACHE_DIR", &store)])[1])
                .sum()
        });
    });
    // The dispatcher's first call of a cached value, in background mode.
    let first_call = |n: usize| {
        let envs = [
            ("STAGED_CACHE_DIR", store.as_path()),
            ("STAGED_MODE", Path::new("background")),
            (FIRST_CALL, Path::new("1")),
        ];
        let exe = &exe;
        move |b: &mut criterion::Bencher| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timed_child_all(exe, value, &envs)[n])
                    .sum()
            });
        }
    };
    g.bench_function("first_call_cached_new_process", first_call(0));
    g.bench_function("further_first_call_cached", first_call(1));
    // The same library from a bundle, the process's own cache empty (as
    // on a host deployed with the bundle: made by the first run).
    let empty = store.with_file_name("bundle-load-cache");
    g.bench_function("bundle_load_new_process", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    timed_child(
                        &exe,
                        value,
                        &[("STAGED_CACHE_DIR", &empty), ("STAGED_BUNDLE", &store)],
                    )
                })
                .sum()
        });
    });
    // The floor: a bare dlopen and dlsym of one of those libraries.
    let library = std::fs::read_dir(store.join("obj"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "so"))
        .unwrap();
    g.bench_function("bare_dlopen_new_process", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed_child(&exe, value, &[(DLOPEN, &library)]))
                .sum()
        });
    });
    g.finish();
}

/// The variant's code written by hand, called directly.
#[inline(never)]
fn power13_direct(x: u64) -> u64 {
    let mut p = 1u64;
    for _ in 0..13 {
        p = p.wrapping_mul(x);
    }
    p
}

/// A function whose variants all cost the same, whatever the value: for
/// dispatch over many hot values.
#[specialize(k)]
fn hot(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

fn hit(c: &mut Criterion) {
    install(store("hit"));
    let n = black_box(13u32);
    let handle = power_rt::specialized(n).unwrap();
    assert_eq!(power_rt(3, n), power::generic(3, 13));
    // 64 values of `hot`, built in one rustc run.
    let values: Vec<u32> = (1..=64).collect();
    hot::prepare(values.iter().copied()).unwrap();
    let handles: Vec<hot::Specialized> = values
        .iter()
        .map(|&k| hot::specialized(k).unwrap())
        .collect();
    assert!(values.iter().all(|&k| hot(3, k) == hot::generic(3, k)));
    assert_eq!(hot::stats().generic_calls, 0);
    let mut g = c.benchmark_group("hit");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("dispatcher_runtime_variant", |b| {
        b.iter(|| power_rt(black_box(3), black_box(n)))
    });
    g.bench_function("handle_runtime_variant", |b| {
        b.iter(|| handle.call(black_box(3)))
    });
    g.bench_function("direct_hand_written", |b| {
        b.iter(|| power13_direct(black_box(3)))
    });
    g.bench_function("generic", |b| b.iter(|| power::generic(black_box(3), n)));
    // The dispatcher and the handles over `count` values in turn: both pay
    // the same turn-taking, so their difference is the lookup.
    for count in [1usize, 2, 8, 64] {
        let mask = count - 1;
        g.bench_function(format!("dispatcher_{count}_hot_values"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & mask;
                hot(black_box(3), black_box(values[i]))
            })
        });
        g.bench_function(format!("handle_{count}_hot_values"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) & mask;
                black_box(&handles[i]).call(black_box(3))
            })
        });
    }
    g.finish();
}

/// A tiny function, for the cost of the generic path around its body.
#[specialize(k)]
fn tiny(x: u64, k: u32) -> u64 {
    x.rotate_left(k) ^ u64::from(k)
}

/// Background mode with `threshold_ms` (clamped to a day) and a call
/// threshold out of reach (clamped to its limit).
fn install_counting(store: PathBuf, threshold_ms: u32) {
    Config::from_env()
        .mode(Mode::Background)
        .cache_dir(store)
        .threshold(u32::MAX)
        .threshold_ms(threshold_ms)
        .max_variants(100_000)
        .install();
}

fn miss(c: &mut Criterion) {
    let store = store("miss");
    let k = black_box(fresh() % 60 + 4);
    let mut g = c.benchmark_group("miss");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // A value being counted: the time trigger on (a day, so it never
    // fires) and off.
    install_counting(store.clone(), u32::MAX);
    g.bench_function("counted_value", |b| b.iter(|| tiny(black_box(3), k)));
    install_counting(store.clone(), 0);
    g.bench_function("counted_value_time_off", |b| {
        b.iter(|| tiny(black_box(3), k))
    });
    g.bench_function("generic_direct", |b| {
        b.iter(|| tiny::generic(black_box(3), k))
    });
    // A new value on every call, none of them in the store.
    install_counting(store, u32::MAX);
    let mut next = fresh().wrapping_mul(1024);
    g.bench_function("first_call_not_in_store", |b| {
        b.iter(|| {
            next = next.wrapping_add(1);
            tiny(black_box(3), black_box(next))
        })
    });
    let s = tiny::stats();
    assert_eq!(s.compiled + s.cached + s.failed, 0, "{s:?}");
    g.finish();
}

fn prepare(c: &mut Criterion) {
    let warm = store("prepare-warm");
    install(warm.clone());
    small::prepare([fresh()]).unwrap();
    let mut g = c.benchmark_group("prepare");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(8));
    for count in [1usize, 8, 32] {
        g.bench_function(format!("{count}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A store with the support library, as after its first
                    // build.
                    install(warm.clone());
                    let values: Vec<u32> = (0..count).map(|_| fresh()).collect();
                    let start = Instant::now();
                    if count == 32 {
                        small_twin::prepare(values.iter().copied()).unwrap();
                    } else {
                        small::prepare(values.iter().copied()).unwrap();
                    }
                    total += start.elapsed();
                }
                total
            });
        });
    }
    g.finish();
}

fn sum_div_kernel(c: &mut Criterion) {
    install(store("sum-div"));
    let xs: Vec<u64> = (0..1_000_000u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .collect();
    let d = black_box(7u64);
    let runtime = sum_div_rt::specialized(d).unwrap();
    let fixed = sum_div::specialized(7).unwrap();
    assert_eq!(runtime.call(&xs), sum_div::generic(&xs, d));
    let mut g = c.benchmark_group("sum_div_1M");
    g.sample_size(30);
    g.bench_function("generic", |b| {
        b.iter(|| sum_div::generic(black_box(&xs), d))
    });
    g.bench_function("runtime_variant", |b| {
        b.iter(|| runtime.call(black_box(&xs)))
    });
    g.bench_function("static_variant", |b| b.iter(|| fixed.call(black_box(&xs))));
    g.finish();
}

criterion_group!(
    benches,
    hit,
    miss,
    sum_div_kernel,
    cold_build,
    cache_load,
    prepare
);

fn main() {
    if let Some(value) = std::env::args().next().and(read_child()) {
        child(value);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

#[allow(clippy::disallowed_methods)] // the parent passes the value through the environment
fn read_child() -> Option<u32> {
    std::env::var(CHILD).ok()?.parse().ok()
}

#[allow(clippy::disallowed_methods)] // the parent passes the library through the environment
fn read_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
