//! Which extra rustc flags run-time builds accept. A flag that changes what
//! a body computes (`-C overflow-checks`, `--cfg`), how a panic travels
//! (`-C panic`), which instructions may run (`-C target-feature`) or what
//! the library is (`--crate-type`, `-o`) would break the promise that a
//! variant answers like the generic body; the runtime's own flags stay
//! authoritative. So flags are taken from a list of those that only change
//! how well the code is optimized or how it is linked, and any other flag
//! is refused with the reason.

use crate::Error;

/// `-C` options that change only how the code is optimized, what debug
/// information it carries, or how it is linked.
const CODEGEN_ALLOWED: &[&str] = &[
    "opt-level",
    "llvm-args",
    "codegen-units",
    "lto",
    "embed-bitcode",
    "debuginfo",
    "strip",
    "force-frame-pointers",
    "force-unwind-tables",
    "inline-threshold",
    "linker",
    "linker-flavor",
    "link-arg",
    "link-args",
    "link-dead-code",
    "no-vectorize-loops",
    "no-vectorize-slp",
    "passes",
    "remark",
    "split-debuginfo",
];

/// LLVM options `-C llvm-args` may pass: those that tune unrolling,
/// inlining and vectorization. Others can change what the code computes
/// (`-enable-unsafe-fp-math`, `-fp-contract=fast`, `-enable-no-nans-fp-math`
/// make float results differ from the generic body's).
const LLVM_ALLOWED: &[&str] = &[
    "-unroll-",
    "-inline-threshold=",
    "-inlinehint-threshold=",
    "-force-vector-width=",
    "-force-vector-interleave=",
];

/// Why a `-C` option is refused, for the ones users reach for.
fn codegen_refusal(key: &str) -> &'static str {
    match key {
        "panic" => {
            "a variant must unwind so that its panic reaches the caller; the runtime builds with `-C panic=unwind`"
        }
        "overflow-checks" | "debug-assertions" => {
            "variants get the overflow-check and debug-assertion settings of the crate that defines the function, so that they answer like its generic body"
        }
        "target-feature" => {
            "it would change which instructions run without the loader being able to check them; set STAGED_TARGET_CPU instead"
        }
        "target-cpu" => "set STAGED_TARGET_CPU instead",
        _ => {
            "it may change the answer or the ABI of the variant; only flags that tune optimization or linking are taken"
        }
    }
}

/// Checks every flag of `flags`, as split on whitespace.
///
/// # Errors
///
/// [`Error::RefusedFlag`] for the first flag that is not taken.
pub(crate) fn check(flags: &[String]) -> Result<(), Error> {
    let refuse = |flag: &str, why: &'static str| Error::RefusedFlag {
        flag: flag.to_owned(),
        why,
    };
    let mut i = 0;
    while i < flags.len() {
        let flag = flags[i].as_str();
        // `-C key=value`, `-Ckey=value`, `--codegen key=value`, `--codegen=key=value`.
        let (option, used) = match flag {
            "-C" | "--codegen" => (flags.get(i + 1).map(String::as_str), 2),
            _ => match flag
                .strip_prefix("--codegen=")
                .or_else(|| flag.strip_prefix("-C"))
            {
                Some(rest) if !rest.is_empty() => (Some(rest), 1),
                _ => (None, 1),
            },
        };
        let shown = flags[i..(i + used).min(flags.len())].join(" ");
        if flag.starts_with("-C") || flag.starts_with("--codegen") {
            let Some(option) = option else {
                return Err(refuse(&shown, "it lacks its `key=value`"));
            };
            let key = option.split('=').next().unwrap_or("");
            if !CODEGEN_ALLOWED.contains(&key) {
                return Err(refuse(&shown, codegen_refusal(key)));
            }
            if key == "llvm-args" {
                let args = option.split_once('=').map_or("", |(_, v)| v);
                let tunes = |arg: &str| LLVM_ALLOWED.iter().any(|p| arg.starts_with(p));
                if !args.split_whitespace().all(tunes) {
                    return Err(refuse(
                        &shown,
                        "only LLVM options that tune unrolling, inlining or vectorization are taken (`-unroll-*`, `-inline-threshold`, `-inlinehint-threshold`, `-force-vector-width`, `-force-vector-interleave`); others may change float results",
                    ));
                }
            }
            i += used;
            continue;
        }
        // Lint levels only change what is reported (and lints are capped).
        let lint = ["-A", "-W", "-D", "-F"]
            .iter()
            .find(|l| flag == **l || flag.starts_with(**l));
        if let Some(&level) = lint {
            i += if flag == level { 2 } else { 1 };
            continue;
        }
        let why = if flag.starts_with("--cfg") {
            "a `--cfg` can make the variant's body select other code than the generic body's"
        } else if flag.starts_with("--target") {
            "variants are built for the program's own target"
        } else if flag == "-O" {
            "write `-C opt-level=2` instead"
        } else if flag.starts_with("-Z") {
            "unstable options may change the answer or the ABI"
        } else {
            "it may change the answer or the ABI of the variant; only `-C` options that tune optimization or linking, and lint levels, are taken"
        };
        return Err(refuse(flag, why));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    fn flags(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn optimization_and_linking_flags_are_taken() {
        for ok in [
            "-C llvm-args=-unroll-threshold=1000",
            "-C llvm-args=-unroll-threshold=1000 -C llvm-args=-inline-threshold=500",
            "-Copt-level=2 -C codegen-units=1",
            "--codegen=lto=fat -W unused",
            "-C link-arg=-s -Aunused",
        ] {
            assert!(check(&flags(ok)).is_ok(), "{ok}");
        }
    }

    #[test]
    fn flags_that_change_the_answer_or_the_abi_are_refused() {
        for (bad, why) in [
            ("-C panic=abort", "unwind"),
            ("-Cpanic=abort", "unwind"),
            ("--codegen overflow-checks=on", "overflow-check"),
            ("-C debug-assertions=on", "debug-assertion"),
            ("-C target-feature=+avx2", "STAGED_TARGET_CPU"),
            ("-C target-cpu=native", "STAGED_TARGET_CPU"),
            ("--cfg debug_assertions", "--cfg"),
            ("--cfg=feature=\"x\"", "--cfg"),
            ("--target x86_64-unknown-linux-musl", "program's own target"),
            ("-Zshare-generics", "unstable"),
            ("-C", "key=value"),
            ("-C llvm-args=-enable-unsafe-fp-math", "float results"),
            ("-C llvm-args=-fp-contract=fast", "float results"),
            (
                "--codegen llvm-args=-enable-no-nans-fp-math",
                "float results",
            ),
            ("-o elsewhere", "only `-C` options"),
        ] {
            let err = check(&flags(bad)).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
