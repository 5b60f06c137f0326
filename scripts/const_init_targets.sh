#!/usr/bin/env bash
# Measures the targets of `const_init!` (issue 4) on this machine:
#
#   1. a 1,000,000-entry u32 table: macro expansion + rustc compile time and
#      peak memory, with a cold evaluator cache and a warm one, next to the
#      same table as a plain array literal and as a `const fn` loop;
#   2. a cached expansion of an unchanged block (the build of a crate whose
#      only work is that expansion);
#   3. first access of a baked table vs the same table behind LazyLock
#      (`cargo bench -p staged-bench --bench const_init`).
#
# Usage: scripts/const_init_targets.sh [workdir]   (needs GNU time)
# Each figure is the median of 3 builds of the crate alone (dependencies
# built beforehand); peak memory is the largest process of the build
# (cargo, rustc, or the evaluator and its rustc).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
export CARGO_TARGET_DIR="$work/target"
N=1000000

crate() { # name [lib.rs|main.rs], then the source on stdin
    local file="${2:-lib.rs}"
    mkdir -p "$work/$1/src"
    cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
[dependencies]
staged = { path = "$repo", default-features = false }
[profile.release]
strip = true
[workspace]
TOML
    cat > "$work/$1/src/$file"
}

crate table_const_init <<RS
#![no_std]
staged::const_init! {
    pub static TABLE: [u32; $N] = {
        let mut x = 0x9E37_79B9u32;
        std::array::from_fn(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x })
    };
}
RS

const_fn_crate() { # name; entries: $N
crate "$1" <<RS
#![no_std]
const fn table() -> [u32; $N] {
    let mut t = [0u32; $N];
    let mut x = 0x9E37_79B9u32;
    let mut i = 0;
    while i < $N {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        t[i] = x;
        i += 1;
    }
    t
}
pub static TABLE: [u32; $N] = table();
RS
}
const_fn_crate table_const_fn
N=4000000 const_fn_crate table_const_fn_4m

crate small_const_init <<RS
#![no_std]
staged::const_init! {
    fn crc_entry(i: u32) -> u32 {
        let mut c = i;
        for _ in 0..8 { c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 }; }
        c
    }
    pub static CRC32: [u32; 256] = std::array::from_fn(|i| crc_entry(i as u32));
}
RS

crate empty_const_init <<RS
#![no_std]
staged::const_init! {}
RS

python3 - "$work/literal.rs" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
x, out = 0x9E3779B9, []
for _ in range(n):
    x ^= (x << 13) & 0xFFFFFFFF; x ^= x >> 17; x ^= (x << 5) & 0xFFFFFFFF
    out.append(str(x))
with open(path, "w") as f:
    f.write("#![no_std]\npub static TABLE: [u32; %d] = [%s];\n" % (n, ", ".join(out)))
PY
crate table_literal < "$work/literal.rs"

measure() { # crate, cache dir -> "seconds peak_mb status"
    local dir="$work/$1"
    touch "$dir/src/lib.rs"
    /usr/bin/time -o "$work/$1.time" -f '%e %M' env STAGED_CACHE_DIR="$2" \
        cargo build --release --quiet --manifest-path "$dir/Cargo.toml" 2>"$work/$1.log" || true
    local secs kb
    read -r secs kb < <(tail -1 "$work/$1.time")
    if grep -q '^error' "$work/$1.log"; then
        echo "$secs $((kb / 1024)) failed"
    else
        echo "$secs $((kb / 1024)) ok"
    fi
}

median() { sort -n | sed -n 2p; }

echo "building dependencies..." >&2
(cd "$work/table_const_init" && cargo build --release --quiet 2>/dev/null) || true
for c in table_literal table_const_fn table_const_fn_4m; do
    sed -i 's/^pub static/\/\/ pub static/' "$work/$c/src/lib.rs"
    cargo build --release --quiet --manifest-path "$work/$c/Cargo.toml" 2>/dev/null || true
    sed -i 's/^\/\/ pub static/pub static/' "$work/$c/src/lib.rs"
done

report() { # label, crate, cache-mode
    local rows=() i
    for i in 1 2 3; do
        local cache="$work/cache-warm"
        if [ "$3" = cold ]; then cache="$work/cache-cold-$i-$RANDOM"; fi
        rows+=("$(measure "$2" "$cache")")
    done
    local secs mb status
    secs="$(printf '%s\n' "${rows[@]}" | awk '{print $1}' | median)"
    mb="$(printf '%s\n' "${rows[@]}" | awk '{print $2}' | median)"
    status="$(printf '%s\n' "${rows[@]}" | awk '{print $3}' | sort -u | tr '\n' ' ')"
    printf '%-44s %8ss %8s MB  %s\n' "$1" "$secs" "$mb" "$status"
}

measure table_const_init "$work/cache-warm" >/dev/null # fill the warm cache
printf '%-44s %9s %11s  %s\n' "1,000,000 x u32, cargo build --release" "time" "peak RSS" "result"
report "const_init!, cold cache (evaluator built)" table_const_init cold
report "const_init!, warm cache (unchanged block)" table_const_init warm
report "plain array literal" table_literal warm
report "const fn loop" table_const_fn warm
report "const fn loop, 4,000,000 entries" table_const_fn_4m warm

# rustc's own timing of macro expansion (-Z time-passes, read on stable
# with RUSTC_BOOTSTRAP=1), warm cache: the expansion of an unchanged block.
expansion() { # crate -> median milliseconds of macro_expand_crate
    local i
    for i in 1 2 3 4 5; do
        touch "$work/$1/src/lib.rs"
        (cd "$work/$1" && RUSTC_BOOTSTRAP=1 STAGED_CACHE_DIR="$work/cache-warm" \
            cargo rustc --release --quiet -- -Z time-passes 2>&1 |
            grep -P '\tmacro_expand_crate$' | awk '{printf "%.1f\n", $2 * 1000}')
    done | sort -n | sed -n 3p
}
(cd "$work/empty_const_init" && RUSTC_BOOTSTRAP=1 cargo rustc --release --quiet -- -Z time-passes >/dev/null 2>&1) || true
for c in small_const_init table_const_init; do
    STAGED_CACHE_DIR="$work/cache-warm" measure "$c" "$work/cache-warm" >/dev/null
done
echo
echo "macro expansion of the crate (rustc -Z time-passes), warm cache, median of 5:"
printf '  %-52s %6s ms\n' "empty block (loading the macro; baseline)" "$(expansion empty_const_init)"
printf '  %-52s %6s ms\n' "CRC-32 block (256 entries, inline)" "$(expansion small_const_init)"
printf '  %-52s %6s ms\n' "1,000,000-entry block (include_bytes! of 4 MB)" "$(expansion table_const_init)"
echo
for c in table_const_fn table_const_fn_4m; do
    echo "$c, rustc says:"
    grep -E '^(error|warning)' "$work/$c.log" | sort -u | head -3 || true
done

# Binary size and start-up: a program printing one entry of the 1M table,
# with the table baked by const_init! or computed at first access
# (LazyLock), as the program would otherwise do.
crate size_baked main.rs <<RS
staged::const_init! {
    static TABLE: [u32; $N] = {
        let mut x = 0x9E37_79B9u32;
        std::array::from_fn(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x })
    };
}
fn main() { println!("{}", TABLE[std::env::args().count() * 7919 % $N]); }
RS
crate size_lazy main.rs <<RS
static TABLE: std::sync::LazyLock<Vec<u32>> = std::sync::LazyLock::new(|| {
    let mut x = 0x9E37_79B9u32;
    (0..$N).map(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x }).collect()
});
fn main() { println!("{}", TABLE[std::env::args().count() * 7919 % $N]); }
RS
echo
echo "a program printing one entry of the 1,000,000-entry table (stripped release binary):"
for c in size_baked size_lazy; do
    STAGED_CACHE_DIR="$work/cache-warm" cargo build --release --quiet --manifest-path "$work/$c/Cargo.toml" 2>"$work/$c.log"
    bin="$work/target/release/$c"
    rss="$(/usr/bin/time -f '%M' "$bin" 2>&1 >/dev/null | tail -1)"
    start=$EPOCHREALTIME
    for i in $(seq 50); do "$bin" >/dev/null; done
    ms="$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a) * 1000 / 50 }')"
    printf '  %-12s %9s bytes, whole run %5.2f ms (mean of 50), peak RSS %6s KB, prints %s\n' \
        "$c" "$(stat -c %s "$bin")" "$ms" "$rss" "$("$bin")"
done

echo
echo "logs and crates in $work"
