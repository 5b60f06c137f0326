//! The CPU: which target features a library was compiled for, and whether
//! this CPU has them. A library built with `-C target-cpu=bdver4` uses TBM
//! instructions an Intel CPU lacks; loading it there would end in SIGILL on
//! the first call, so the loader checks before anything runs.
//!
//! Each library records, for every feature of [`FEATURES`], whether it was
//! compiled with it (`cfg!(target_feature = ..)` in the generated source);
//! the loader refuses a library that needs a feature this CPU does not
//! report.

/// The features checked, for this architecture: each is one the compiler
/// may use on its own when a target CPU enables it, and that the standard
/// library can detect at run time.
#[cfg(target_arch = "x86_64")]
pub(crate) const FEATURES: &[&str] = &[
    "aes",
    "pclmulqdq",
    "rdrand",
    "rdseed",
    "sse",
    "sse2",
    "sse3",
    "ssse3",
    "sse4.1",
    "sse4.2",
    "sse4a",
    "sha",
    "avx",
    "avx2",
    "avx512f",
    "avx512cd",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512ifma",
    "avx512vbmi",
    "avx512vpopcntdq",
    "avx512vbmi2",
    "avx512vnni",
    "avx512bitalg",
    "avx512bf16",
    "avx512vp2intersect",
    "avx512fp16",
    "gfni",
    "vaes",
    "vpclmulqdq",
    "f16c",
    "fma",
    "bmi1",
    "bmi2",
    "lzcnt",
    "tbm",
    "popcnt",
    "fxsr",
    "xsave",
    "xsaveopt",
    "xsaves",
    "xsavec",
    "cmpxchg16b",
    "adx",
    "rtm",
    "movbe",
    "ermsb",
];

#[cfg(target_arch = "aarch64")]
pub(crate) const FEATURES: &[&str] = &[
    "neon", "aes", "pmull", "sha2", "sha3", "crc", "lse", "lse2", "rdm", "fp16", "dotprod", "rcpc",
    "rcpc2", "sve", "sve2", "i8mm", "bf16", "fhm", "frintts", "flagm", "dit", "sm4",
];

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) const FEATURES: &[&str] = &[];

/// Whether this CPU has the feature `name` of [`FEATURES`].
#[cfg(target_arch = "x86_64")]
pub(crate) fn has(name: &str) -> bool {
    macro_rules! detect {
        ($($f:tt)*) => {
            match name {
                $($f => std::arch::is_x86_feature_detected!($f),)*
                _ => false,
            }
        };
    }
    detect!(
        "aes" "pclmulqdq" "rdrand" "rdseed" "sse" "sse2" "sse3" "ssse3" "sse4.1" "sse4.2" "sse4a"
        "sha" "avx" "avx2" "avx512f" "avx512cd" "avx512bw" "avx512dq" "avx512vl" "avx512ifma"
        "avx512vbmi" "avx512vpopcntdq" "avx512vbmi2" "avx512vnni" "avx512bitalg" "avx512bf16"
        "avx512vp2intersect" "avx512fp16" "gfni" "vaes" "vpclmulqdq" "f16c" "fma" "bmi1" "bmi2"
        "lzcnt" "tbm" "popcnt" "fxsr" "xsave" "xsaveopt" "xsaves" "xsavec" "cmpxchg16b" "adx"
        "rtm" "movbe" "ermsb"
    )
}

#[cfg(target_arch = "aarch64")]
pub(crate) fn has(name: &str) -> bool {
    macro_rules! detect {
        ($($f:tt)*) => {
            match name {
                $($f => std::arch::is_aarch64_feature_detected!($f),)*
                _ => false,
            }
        };
    }
    detect!(
        "neon" "aes" "pmull" "sha2" "sha3" "crc" "lse" "lse2" "rdm" "fp16" "dotprod" "rcpc"
        "rcpc2" "sve" "sve2" "i8mm" "bf16" "fhm" "frintts" "flagm" "dit" "sm4"
    )
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn has(_name: &str) -> bool {
    false
}

/// The source of an array with one `0`/`1` per feature of [`FEATURES`]:
/// whether the library being compiled has it.
pub(crate) fn feature_flags_source() -> String {
    let flags: Vec<String> = FEATURES
        .iter()
        .map(|f| format!("::core::cfg!(target_feature = \"{f}\") as u64"))
        .collect();
    format!("[{}]", flags.join(", "))
}

/// The features a library needs that this CPU lacks, from its flags (one
/// per feature of [`FEATURES`], in order).
pub(crate) fn missing(flags: &[u64]) -> Vec<&'static str> {
    FEATURES
        .iter()
        .zip(flags)
        .filter(|&(name, &needed)| needed != 0 && !has(name))
        .map(|(name, _)| *name)
        .collect()
}

/// What `-C target-cpu=native` resolves to on this machine, so that a cache
/// shared between machines never hands one machine's tuning to another (the
/// feature check above guards correctness; this guards speed).
#[cfg(target_arch = "x86_64")]
pub(crate) fn fingerprint() -> String {
    use std::arch::x86_64::{__cpuid_count, CpuidResult};
    // Asked of the CPU (tens of nanoseconds) rather than read from
    // /proc/cpuinfo (tens of microseconds), once per process.
    let ask = |leaf: u32, sub: u32| -> CpuidResult {
        // SAFETY: every x86_64 CPU has CPUID; leaves beyond the highest
        // one it reports are not asked below. (A safe function in recent
        // Rust; `unsafe` for the older releases this crate supports.)
        #[allow(unused_unsafe)]
        unsafe {
            __cpuid_count(leaf, sub)
        }
    };
    let max = ask(0, 0).eax;
    let max_ext = ask(0x8000_0000, 0).eax;
    let mut words = Vec::new();
    let vendor = ask(0, 0);
    words.extend([vendor.ebx, vendor.edx, vendor.ecx]);
    // Family, model, stepping and the feature bits; not the parts of a
    // leaf that differ between the cores of one machine (APIC ids).
    let one = ask(1, 0);
    words.extend([one.eax, one.ecx, one.edx]);
    if max >= 7 {
        let seven = ask(7, 0);
        words.extend([seven.ebx, seven.ecx, seven.edx, ask(7, 1).eax]);
    }
    for leaf in [0x8000_0001, 0x8000_0002, 0x8000_0003, 0x8000_0004] {
        if max_ext >= leaf {
            let r = ask(leaf, 0);
            words.extend([r.eax, r.ebx, r.ecx, r.edx]);
        }
    }
    words.iter().map(|w| format!("{w:08x}")).collect()
}

/// What `-C target-cpu=native` resolves to on this machine, so that a cache
/// shared between machines never hands one machine's tuning to another (the
/// feature check above guards correctness; this guards speed).
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn fingerprint() -> String {
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return std::env::consts::ARCH.to_owned();
    };
    let first = info.split("\n\n").next().unwrap_or("");
    first
        .lines()
        .filter(|l| {
            let key = l.split(':').next().unwrap_or("").trim();
            matches!(
                key,
                "vendor_id"
                    | "cpu family"
                    | "model"
                    | "stepping"
                    | "flags"
                    | "Features"
                    | "CPU implementer"
                    | "CPU part"
                    | "isa"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_is_present_and_flags_line_up() {
        #[cfg(target_arch = "x86_64")]
        assert!(has("sse2"));
        assert!(!has("no-such-feature"));
        let mut flags = vec![0u64; FEATURES.len()];
        assert!(missing(&flags).is_empty());
        if let Some(i) = FEATURES.iter().position(|f| !has(f)) {
            flags[i] = 1;
            assert_eq!(missing(&flags), [FEATURES[i]]);
        }
        assert_eq!(
            feature_flags_source().matches("target_feature").count(),
            FEATURES.len()
        );
    }
}
