#!/usr/bin/env bash
# Measures the target of the `staged` command (issue 10): `staged cache
# stats` on a cache of 1,000 entries (500 libraries, each with its index
# entry) in under 100 ms, and the same on a cache of 2,200 entries (1,000
# libraries and index entries, 200 const_init! results), with the release
# binary that `cargo install --path cli` builds.
#
# Usage: scripts/cli_targets.sh [workdir]
# Uses hyperfine (apt-get install hyperfine) and prints its median; without
# it, the median of 21 runs timed by bash.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
cd "$repo"
cargo build --release -q -p staged-cli --bin staged --example fill_cache
bin="$repo/target/release/staged"
fill="$repo/target/release/examples/fill_cache"
rm -rf "$work/c1000" "$work/c2200"
"$fill" "$work/c1000" 500
"$fill" "$work/c2200" 1000 200
for cache in "$work/c1000" "$work/c2200"; do
  entries=$("$bin" cache stats --dir "$cache" | awk '$1 == "total" { print $2 }')
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 5 --runs 51 --export-json "$work/hf.json" \
      "$bin cache stats --dir $cache" >/dev/null
    median=$(python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$work/hf.json")
  else
    times=()
    for _ in $(seq 21); do
      start=$(date +%s%N)
      "$bin" cache stats --dir "$cache" >/dev/null
      times+=($(( ($(date +%s%N) - start) / 1000 )))
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 11p | awk '{ printf "%.1f", $1 / 1000 }')
  fi
  echo "staged cache stats, $entries entries: median $median ms"
done
