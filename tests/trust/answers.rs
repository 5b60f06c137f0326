//! One answer at every stage, under odd builds and odd bodies (issue 8,
//! items 2-5, 7, 8, 10, 12).

use std::sync::Once;
use std::time::Duration;

use staged::runtime::{Config, Mode};
use staged::{Origin, specialize};

use super::child::{Child, VALUE, fresh_dir, real_rustc, script};

/// In-process tests share one store and sync mode.
pub(super) fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let store = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("trust-store");
        Config::from_env()
            .mode(Mode::Sync)
            .cache_dir(store)
            .install();
    });
}

pub(super) fn assert_runtime(origin: Origin) {
    assert!(
        matches!(origin, Origin::Compiled | Origin::Cached),
        "{origin:?}"
    );
}

/// A profile with `overflow-checks = true` and `debug-assertions = false`:
/// the generic body panicked on `u64::MAX + 5` and the variant returned 4.
#[test]
fn variants_get_the_overflow_checks_of_the_defining_crate() {
    let dir = fresh_dir("hardened");
    let r = Child::new("hardened", &dir.join("store")).run().ok();
    assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    assert_eq!(r.get("generic_panics"), "true", "{r:#?}");
    assert_eq!(r.get("variant_panics"), "true", "{r:#?}");
    assert_eq!(r.get("dispatch_panics"), "true", "{r:#?}");
    assert_eq!(r.get("variant_adds"), "true", "{r:#?}");
    assert_eq!(r.get("debug_assertions"), "(false, 3) (false, 3)", "{r:#?}");
}

/// `STAGED_RUSTFLAGS` came after the runtime's flags: `-C panic=abort`
/// made a variant's panic abort the host, and the others changed answers.
/// They are refused, with the reason in `stats()`.
#[test]
fn rustflags_that_would_change_the_answer_are_refused() {
    let dir = fresh_dir("rustflags");
    for flags in [
        "-C panic=abort",
        "-C overflow-checks=on",
        "-Cdebug-assertions=on",
        "-C target-feature=+avx2",
        "--cfg debug_assertions",
    ] {
        let r = Child::new("payloads", &dir.join("store"))
            .env("STAGED_RUSTFLAGS", flags)
            .run()
            .ok();
        assert!(r.get("variant0").starts_with("error"), "{flags}: {r:#?}");
        assert!(r.get("last_error").contains("refused"), "{flags}: {r:#?}");
        assert_eq!(r.get("compiled"), "0", "{flags}: {r:#?}");
    }
}

/// The body's own `mod f64` captured the rendered `f64::from_bits(..)` and
/// the binding's type: values and their types are written fully qualified.
#[specialize(c = [2.5])]
fn shadowed(x: f64, c: f64) -> f64 {
    #[allow(dead_code, non_camel_case_types)]
    mod f64 {
        pub fn from_bits(_: u64) -> f64 {
            42.0
        }
    }
    x * c
}

#[test]
fn a_body_cannot_capture_the_rendered_values() {
    setup();
    for c in [2.5, -0.75, 1e300] {
        let h = shadowed::specialized(c).unwrap();
        for x in [0.0, 1.0, -3.5, 7e-3] {
            assert_eq!(h.call(x).to_bits(), shadowed::generic(x, c).to_bits());
            assert_eq!(shadowed(x, c).to_bits(), (x * c).to_bits());
        }
    }
    assert_runtime(shadowed::specialized(-0.75).unwrap().origin());
}

/// `print!` without a newline from a variant sat in the library's own copy
/// of std and was lost at exit.
#[test]
fn nothing_a_variant_prints_is_lost() {
    let dir = fresh_dir("output");
    let r = Child::new("output", &dir.join("store")).run().ok();
    assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    assert!(r.stdout.contains("routed-7"), "{r:#?}");
    assert!(r.stdout.contains("raw-bytes-without-newline"), "{r:#?}");
}

/// What a variant does not share with the program, item by item as the
/// crate docs list it (`specialize`'s "What a run-time variant does not
/// share with the program"), so that a change of behaviour shows the list
/// is stale: threads, statics of the body, module statics, module types,
/// the body's own stdout, exit; what is shared (the command
/// line, the environment). Elsewhere: `print!` in
/// `nothing_a_variant_prints_is_lost`, panics in
/// `panic_payloads_keep_their_type` and
/// `resume_unwind_from_a_variant_does_not_run_the_panic_hook`, the
/// allocator in `trust/heap.rs`, `Location::caller()` (refused) in
/// `trust/isolation.rs` and `tests/ui/`.
#[test]
fn the_process_state_a_variant_does_not_share_is_as_documented() {
    let dir = fresh_dir("state");
    let store = dir.join("store");
    let r = Child::new("process_state", &store).run().ok();
    assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    // Threads: no name, and ids of the library's own numbering.
    assert_eq!(r.get("generic_named"), "true", "{r:#?}");
    assert_eq!(r.get("variant_named"), "false", "{r:#?}");
    assert_eq!(
        r.get("variant_thread_ids"),
        "ThreadId(1) ThreadId(2)",
        "{r:#?}"
    );
    assert_eq!(r.get("program_thread_ids_differ"), "true", "{r:#?}");
    // Statics and thread-locals of the body: the library's copies count on
    // their own (one call of each before the statics' counts, three before
    // the thread-locals').
    assert_eq!(r.get("generic_counts"), "[1, 2]", "{r:#?}");
    assert_eq!(r.get("variant_counts"), "[1, 2]", "{r:#?}");
    assert_eq!(r.get("local_counts"), "4 4", "{r:#?}");
    // Module statics: the same values at other addresses.
    assert_eq!(r.get("table_values"), "7 7", "{r:#?}");
    assert_eq!(r.get("generic_table_at"), "true", "{r:#?}");
    assert_eq!(r.get("variant_table_at"), "false", "{r:#?}");
    // Module types: named after the library's crate, other `TypeId`s;
    // `std`'s types keep theirs.
    assert_eq!(
        r.get("generic_row_name"),
        "trust::scenarios::copies::__staged::Row",
        "{r:#?}"
    );
    assert_eq!(
        r.get("variant_row_name"),
        "staged_variant::__staged::Row",
        "{r:#?}"
    );
    assert_eq!(r.get("row_type_id"), "false", "{r:#?}");
    assert_eq!(r.get("string_type_id"), "true", "{r:#?}");
    // Shared: the command line and the environment.
    assert_eq!(r.get("same_args"), "true", "{r:#?}");
    assert_eq!(r.get("same_env"), "true", "{r:#?}");

    // The body's own stdout: the generic body's bytes leave with the
    // program's flush, the variant's when the process exits.
    let r = Child::new("raw_stdout", &store).run().ok();
    assert_eq!(r.get("origin"), "Compiled", "{r:#?}");
    let at = |s: &str| r.stdout.find(s).unwrap_or_else(|| panic!("no {s}: {r:#?}"));
    assert!(at("raw-1") < at("flushed=true"), "{r:#?}");
    assert!(at("flushed=true") < at("raw-2"), "{r:#?}");

    // `std::process::exit`: the program's buffered output is lost when a
    // variant exits.
    for (body, kept) in [("0", true), ("1", false)] {
        let r = Child::new("exit", &store).env(VALUE, body).run().ok();
        assert!(r.get("origin").starts_with('C'), "{r:#?}");
        assert_eq!(r.stdout.contains("pending-output"), kept, "{body}: {r:#?}");
    }
}

/// `STAGED_TARGET_CPU` naming features this CPU lacks (`bdver4`'s TBM, on
/// anything but an AMD Piledriver): SIGILL on the first call. The loader
/// refuses the library before loading it, and says why.
#[test]
fn a_library_needing_features_this_cpu_lacks_is_never_loaded() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("tbm") {
            eprintln!("skipped: this CPU has TBM, which bdver4 needs");
            return;
        }
        let dir = fresh_dir("features");
        let store = dir.join("store");
        // The second process has no compiler: it finds the library and
        // refuses it, unbuilt and unloaded.
        for rustc in [real_rustc(), "/nonexistent/rustc"] {
            let r = Child::new("specialize", &store)
                .env("STAGED_TARGET_CPU", "bdver4")
                .env("STAGED_RUSTC", rustc)
                .run()
                .ok();
            assert_eq!(r.get("origin"), "none", "{r:#?}");
            assert_eq!(r.get("dispatch_correct"), "true", "{r:#?}");
            assert_eq!(r.get("maps_store"), "false", "{r:#?}");
            assert!(r.get("last_error").contains("tbm"), "{r:#?}");
            assert_eq!(r.get("compiled"), "0", "{r:#?}");
        }
    }
}

/// `STAGED_MAX_VARIANTS=99999999999` allocated 800 GB and aborted;
/// `u64::MAX` overflowed.
#[test]
fn settings_out_of_range_are_clamped_not_fatal() {
    let dir = fresh_dir("settings");
    for (value, shown) in [
        ("99999999999", "99999999999"),
        ("18446744073709551615", "18446744073709551615"),
        ("999999999999999999999999999999999999999999", "out of range"),
    ] {
        let r = Child::new("specialize", &dir.join("store"))
            .env("STAGED_MAX_VARIANTS", value)
            .run()
            .ok();
        assert_eq!(r.get("correct"), "true", "{value}: {r:#?}");
        assert!(r.get("warnings").contains(shown), "{value}: {r:#?}");
    }
    let r = Child::new("specialize", &dir.join("store"))
        .env("STAGED_THRESHOLD", "-4")
        .env("STAGED_MODE", "synch")
        .run()
        .ok();
    assert!(r.get("warnings").contains("STAGED_MODE"), "{r:#?}");
    assert!(r.get("warnings").contains("STAGED_THRESHOLD"), "{r:#?}");
}

/// `fork()` while another thread built a value made the child's call of
/// that value wait forever, for a thread the child does not have.
#[test]
fn a_fork_while_a_thread_builds_does_not_hang_the_child() {
    let dir = fresh_dir("fork");
    let marker = dir.join("build-started");
    let rustc = script(
        &dir,
        "slow-rustc",
        &format!(
            "if [ \"$1\" = -vV ]; then exec '{real}' -vV; fi\ntouch '{m}'\nsleep 2\nexec '{real}' \"$@\"",
            real = real_rustc(),
            m = marker.display()
        ),
    );
    let r = Child::new("fork", &dir.join("store"))
        .env("STAGED_RUSTC", &rustc)
        .env("STAGED_TEST_MARKER", &marker)
        .env(VALUE, "9")
        .limit(Duration::from_secs(90))
        .run()
        .ok();
    assert_eq!(r.get("forked_exited"), "true", "{r:#?}");
    assert_eq!(r.get("forked_signal"), "0", "{r:#?}");
    assert_eq!(r.get("forked_correct"), "true", "{r:#?}");
    // The parent's variant: its own build, or the child's, which may finish
    // first (the parent builds the support library before the variant).
    let parent = r.get("parent_origin");
    assert!(
        parent.contains("Compiled") || parent.contains("Cached"),
        "{r:#?}"
    );
}

/// `panic_any(42)` reached the caller as a `String` "Box<dyn Any>", and a
/// `&str` payload as a `String`: `&str` and `String` keep their type; other
/// payloads arrive as the documented `String`.
#[test]
fn panic_payloads_keep_their_type() {
    let dir = fresh_dir("payloads");
    let r = Child::new("payloads", &dir.join("store")).run().ok();
    assert_eq!(r.get("generic0"), "&str:a literal message", "{r:#?}");
    assert_eq!(r.get("variant0"), "&str:a literal message", "{r:#?}");
    assert_eq!(r.get("generic1"), "String:a formatted message 1", "{r:#?}");
    assert_eq!(r.get("variant1"), "String:a formatted message 1", "{r:#?}");
    assert_eq!(r.get("generic2"), "i32:42", "{r:#?}");
    assert_eq!(r.get("variant2"), "String:Box<dyn Any>", "{r:#?}");
}

/// `resume_unwind` in a variant ran the program's panic hook (at a
/// made-up location), which plain Rust never does: a variant's unwind now
/// reaches the hook exactly as the generic body's does.
#[test]
fn resume_unwind_from_a_variant_does_not_run_the_panic_hook() {
    let dir = fresh_dir("hook");
    let r = Child::new("hook", &dir.join("store")).run().ok();
    assert_eq!(r.get("generic0"), "&str:quiet hooks=0", "{r:#?}");
    assert_eq!(r.get("variant0"), "&str:quiet hooks=0", "{r:#?}");
    assert_eq!(r.get("generic1"), "&str:loud hooks=1", "{r:#?}");
    assert_eq!(r.get("variant1"), "&str:loud hooks=1", "{r:#?}");
    assert_eq!(r.get("generic2"), "&str:caught hooks=1", "{r:#?}");
    assert_eq!(r.get("variant2"), "&str:caught hooks=1", "{r:#?}");
}

/// `fn f(s: &str) -> &str` specialized on `s` never built: the variant,
/// without `s`, had an elided lifetime left to nothing (E0106).
#[specialize(s)]
fn echo(s: &str) -> &str {
    s
}

#[specialize(s = ["ab"])]
fn prefix<'a>(x: &'a str, s: &str) -> &'a str {
    &x[..s.len().min(x.len())]
}

#[test]
fn elided_lifetimes_of_specialized_strings_build() {
    setup();
    let h = echo::specialized("a \"quoted\" value").unwrap();
    assert_runtime(h.origin());
    assert_eq!(h.call(), "a \"quoted\" value");
    let h = prefix::specialized("abc").unwrap();
    assert_runtime(h.origin());
    assert_eq!(h.call("hello"), "hel");
    assert_eq!(prefix("hello", "ab"), "he");
}

/// `failed` counted calls rather than values, and sync mode counted the
/// call that built and ran the variant as a generic call.
#[test]
fn failed_counts_values_and_the_call_that_built_is_no_generic_call() {
    let dir = fresh_dir("counts");
    let r = Child::new("counts", &dir.join("store"))
        .env("STAGED_MAX_VARIANTS", "1")
        .run()
        .ok();
    assert_eq!(r.get("generic_after_first"), "0", "{r:#?}");
    assert_eq!(r.get("failed"), "1", "{r:#?}");
    assert_eq!(r.get("generic_calls"), "50", "{r:#?}");
    assert!(
        r.get("last_error").contains("STAGED_MAX_VARIANTS"),
        "{r:#?}"
    );
}

/// Arguments crossed as a `repr(Rust)` tuple, whose field order the
/// language does not promise and a size check cannot see. They cross in a
/// `#[repr(C)]` block the macro declares once for both sides, and every
/// size, alignment and field offset is compared before a library is used.
#[specialize(k)]
fn mixed(a: u8, b: (u16, u64, u8), k: u32, c: &[(u8, u32)], d: u128) -> (u8, u128, (u16, u8)) {
    let sum: u32 = c
        .iter()
        .map(|&(x, y)| u32::from(x) ^ y)
        .fold(k, u32::wrapping_add);
    (
        a ^ b.2,
        d.wrapping_mul(u128::from(b.1))
            .wrapping_add(u128::from(sum)),
        (b.0.wrapping_add(k as u16), a),
    )
}

#[test]
fn arguments_cross_in_one_repr_c_block() {
    setup();
    let rows: Vec<(u8, u32)> = (0..40).map(|i| (i as u8, i * 7919)).collect();
    for k in [0u32, 7, u32::MAX] {
        let h = mixed::specialized(k).unwrap();
        assert_runtime(h.origin());
        for (a, b, d) in [
            (0u8, (0u16, 0u64, 0u8), 0u128),
            (255, (65535, u64::MAX, 3), u128::MAX),
            (17, (3, 1 << 40, 200), 1 << 100),
        ] {
            assert_eq!(h.call(a, b, &rows, d), mixed::generic(a, b, k, &rows, d));
        }
    }
}

mod probes {
    //! A library whose layout probes differ from the caller's: refused
    //! before it is loaded. The site is written out by hand, as the macro
    //! would, with probes that cannot match.
    use staged::__private::{FnSource, Piece, Site};

    pub static SOURCE: FnSource = FnSource {
        name: "probed",
        krate: "trust",
        path: "trust::probes::probed",
        module: "pub const __LAYOUT: [usize; 2] = [::core::mem::size_of::<u32>(), 4];",
        variant: &[
            Piece::Text("pub fn "),
            Piece::Name,
            Piece::Text("(x: u32) -> u32 { let n: u32 = "),
            Piece::Value(0),
            Piece::Text("; x + n }"),
        ],
        entry: &[],
        layout: &[4, 8],
        layout_path: "__staged::__LAYOUT",
        edition: "2021",
        debug_assertions: false,
        overflow_checks: false,
        fingerprint: "probes",
        module_marks: &[],
        variant_marks: &[],
        raise: staged::__private::raise_at,
    };
    pub static SITE: Site<(u32,)> = Site::new(&SOURCE);
}

#[test]
fn a_library_laid_out_otherwise_is_refused_before_loading() {
    setup();
    let err = probes::SITE.specialize(&(5u32,)).unwrap_err().to_string();
    assert!(err.contains("laid out as [4, 4]"), "{err}");
    assert!(probes::SITE.lookup(&(5u32,)).is_none());
}
