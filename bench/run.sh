#!/usr/bin/env bash
# kexpose benchmark harness: one command, results in target/bench/ (see BENCHMARKS.md).
#
#   bench/run.sh                  # full run: N = 1 100 1000 2000 5000 10000 20000
#   BENCH_NS="1 100 1000" bench/run.sh          # a subset
#   BENCH_INSTRUCTIONS=1 bench/run.sh           # also count instructions with callgrind
#   BENCH_DIR=/dev/shm/kexpose-bench bench/run.sh   # outputs on tmpfs: CPU cost without the disk
#   KEXPOSE=/path/to/kexpose bench/run.sh       # measure another build (skips cargo build;
#                                               # BENCH_LABEL names it in the table)
#
# For each N it generates a synthetic spec with `kexpose-gen N` and measures, each as a cold
# process with hyperfine (median of several runs):
#   validate         kexpose validate SPEC
#   render           kexpose render SPEC -o OUT, OUT removed before every run (includes writing)
#   re-render        kexpose render SPEC -o OUT into an up-to-date OUT (nothing to write)
#   check / diff     kexpose render SPEC -o OUT --check, kexpose diff SPEC -o OUT (when the
#                    binary has them; skipped otherwise)
#   cp -r            cp -r OUT COPY (COPY removed before every run): the I/O floor
#   kustomize        kubectl kustomize OUT, for N <= KUSTOMIZE_MAX (default 2000)
#   peak RSS         /usr/bin/time -f %M of the cold render (median of 3)
#   instructions     (BENCH_INSTRUCTIONS=1, N <= INSTR_MAX) callgrind's total Ir of validate and
#                    of the cold render: stable where wall time on a shared machine is not
# plus the seed fixture's cold render. The table is written to target/bench/results.md and
# printed; raw hyperfine JSON stays in target/bench/N/.
#
# Needs: hyperfine, GNU time (/usr/bin/time), python3; optional: kubectl, valgrind.
# The benchmark never runs in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NS=${BENCH_NS:-"1 100 1000 2000 5000 10000 20000"}
KUSTOMIZE_MAX=${KUSTOMIZE_MAX:-2000}
INSTR=${BENCH_INSTRUCTIONS:-0}
INSTR_MAX=${INSTR_MAX:-5000}
OUTDIR=${BENCH_DIR:-$ROOT/target/bench}

for tool in hyperfine python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool (apt-get install -y hyperfine time python3)" >&2; exit 2; }
done

if [[ -z "${KEXPOSE:-}" ]]; then
  cargo build --release --quiet --bin kexpose --example kexpose-gen
  KEXPOSE=$ROOT/target/release/kexpose
fi
GEN=${KEXPOSE_GEN:-$ROOT/target/release/examples/kexpose-gen}
[[ -x $GEN ]] || cargo build --release --quiet --example kexpose-gen

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"

# Subcommands that may not exist yet on this branch.
HAS_CHECK=0
HAS_DIFF=0
"$KEXPOSE" render --help 2>/dev/null | grep -q -- '--check' && HAS_CHECK=1
"$KEXPOSE" diff --help >/dev/null 2>&1 && HAS_DIFF=1

# Median-of-runs settings by size: warmup, runs.
runs_for() {
  local n=$1
  if ((n <= 1000)); then echo "3 15"
  elif ((n <= 5000)); then echo "2 10"
  else echo "1 5"; fi
}

# bench NAME N WARMUP RUNS [hyperfine options...] -- COMMAND...
bench() {
  local name=$1 dir=$2 warmup=$3 runs=$4
  shift 4
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  hyperfine -N --style basic --warmup "$warmup" --runs "$runs" "${opts[@]}" \
    --export-json "$dir/$name.json" --command-name "$name" -- "$*" >"$dir/$name.log" 2>&1 ||
    { echo "  $name failed, see $dir/$name.log" >&2; return 0; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("  %-12s median %10.2f ms  (min %.2f, max %.2f, %d runs)" % (sys.argv[2], r["median"]*1000, r["min"]*1000, r["max"]*1000, len(r["times"])))' "$dir/$name.json" "$name"
}

instructions() { # N NAME COMMAND... -> total Ir
  local dir=$1 name=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >/dev/null 2>"$dir/$name.callgrind.log" || true
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/$name.callgrind.log" >"$dir/$name.ir"
  echo "  $name instructions $(cat "$dir/$name.ir")"
}

{
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "mem=$(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "kernel=$(uname -r)"
  echo "kexpose=$KEXPOSE"
  echo "commit=${BENCH_LABEL:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo +dirty)}"
  echo "hyperfine=$(hyperfine --version | cut -d' ' -f2)"
  echo "kubectl=$({ kubectl version --client 2>/dev/null || echo none; } | head -1)"
  echo "has_check=$HAS_CHECK"
  echo "has_diff=$HAS_DIFF"
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
} >"$OUTDIR/machine.txt"
cat "$OUTDIR/machine.txt"

# The seed fixture, as a cold process.
SEED=$OUTDIR/seed
mkdir -p "$SEED"
cp fixtures/seed-client-credentials/kexpose.yaml "$SEED/kexpose.yaml"
echo "== seed fixture"
bench render "$SEED" 10 100 --prepare "rm -rf $SEED/out" -- "$KEXPOSE" render "$SEED/kexpose.yaml" -o "$SEED/out"
bench validate "$SEED" 10 100 -- "$KEXPOSE" validate "$SEED/kexpose.yaml"
if [[ $INSTR == 1 ]] && command -v valgrind >/dev/null; then
  rm -rf "$SEED/out"
  instructions "$SEED" render "$KEXPOSE" render "$SEED/kexpose.yaml" -o "$SEED/out"
fi

for n in $NS; do
  D=$OUTDIR/$n
  mkdir -p "$D"
  "$GEN" "$n" -o "$D/kexpose.yaml"
  read -r warmup runs < <(runs_for "$n")
  echo "== N=$n ($(wc -c <"$D/kexpose.yaml") bytes of spec)"
  SPEC=$D/kexpose.yaml
  OUT=$D/out
  bench validate "$D" "$warmup" "$runs" -- "$KEXPOSE" validate "$SPEC"
  bench render "$D" "$warmup" "$runs" --prepare "rm -rf $OUT" -- "$KEXPOSE" render "$SPEC" -o "$OUT"
  rm -rf "$OUT"
  "$KEXPOSE" render "$SPEC" -o "$OUT" >/dev/null
  du -sk "$OUT" | cut -f1 >"$D/out.kb"
  find "$OUT" -type f | wc -l >"$D/out.files"
  bench rerender "$D" "$warmup" "$runs" -- "$KEXPOSE" render "$SPEC" -o "$OUT"
  if ((HAS_CHECK)); then
    bench check "$D" "$warmup" "$runs" -- "$KEXPOSE" render "$SPEC" -o "$OUT" --check
  fi
  if ((HAS_DIFF)); then
    bench diff "$D" "$warmup" "$runs" -i -- "$KEXPOSE" diff "$SPEC" -o "$OUT"
  fi
  bench cp "$D" "$warmup" "$runs" --prepare "rm -rf $D/copy" -- cp -r "$OUT" "$D/copy"
  rm -rf "$D/copy"
  if ((n <= KUSTOMIZE_MAX)) && command -v kubectl >/dev/null; then
    if ((n <= 1000)); then k="1 5"; else k="0 3"; fi
    read -r kw kr <<<"$k"
    bench kustomize "$D" "$kw" "$kr" -- kubectl kustomize "$OUT"
  fi
  for i in 1 2 3; do
    rm -rf "$D/rss-out"
    /usr/bin/time -f %M "$KEXPOSE" render "$SPEC" -o "$D/rss-out" 2>&1 >/dev/null | tail -1
  done | sort -n | sed -n 2p >"$D/rss.kb"
  rm -rf "$D/rss-out"
  echo "  peak RSS     $(($(cat "$D/rss.kb") / 1024)) MiB"
  if [[ $INSTR == 1 ]] && ((n <= INSTR_MAX)) && command -v valgrind >/dev/null; then
    instructions "$D" validate "$KEXPOSE" validate "$SPEC"
    rm -rf "$D/instr-out"
    instructions "$D" render "$KEXPOSE" render "$SPEC" -o "$D/instr-out"
    rm -rf "$D/instr-out"
  fi
done
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUTDIR/machine.txt"

python3 bench/report.py "$OUTDIR" "$NS" | tee "$OUTDIR/results.md"
