#!/usr/bin/env bash
# Hostile inputs, measured: how long `kexpose validate` takes and how much memory it uses on the
# inputs tests/hostile.rs feeds it, each at two sizes ten times apart, so that the ratio shows
# whether the cost grows linearly (about 10x) or worse (about 100x for quadratic work).
#
#   bench/hostile.sh                         # release build, best of 3 wall times, peak RSS
#   BENCH_INSTRUCTIONS=1 bench/hostile.sh    # also callgrind's instruction count (exact, slow)
#   KEXPOSE=target/debug/kexpose bench/hostile.sh
#
# tests/hostile.rs asserts what must hold on these inputs (the finding, its place, the exit code,
# a memory bound); the speed is measured here, not asserted in a timed test. Results and how to
# read them: docs/benchmarks.md, section "Hostile inputs".
#
# Needs: GNU time (/usr/bin/time), python3; optional: valgrind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
INSTR=${BENCH_INSTRUCTIONS:-0}
OUTDIR=${BENCH_DIR:-$ROOT/target/bench-hostile}
command -v /usr/bin/time >/dev/null || { echo "bench/hostile.sh needs GNU time (apt-get install -y time)" >&2; exit 2; }
if [[ -z "${KEXPOSE:-}" ]]; then
  cargo build --release --quiet --bin kexpose
  KEXPOSE=$ROOT/target/release/kexpose
fi
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR"

# gen KIND SIZE > FILE: the inputs of tests/hostile.rs, with the size as a parameter.
gen() {
  python3 - "$1" "$2" <<'EOF'
import sys
kind, n = sys.argv[1], int(sys.argv[2])
head = "apiVersion: kexpose.dev/v1alpha1\nkind: Exposure\n"
out = sys.stdout
if kind == "long-line":          # n flow items on one line (unknown field: one finding)
    out.write(head + "metadata: {a: [" + ", ".join(["x"] * n) + "]}\n")
elif kind == "duplicate-keys":   # n duplicates of one key: n - 1 findings pointing at one place
    out.write(head + "cluster:\n" + "  domain: a.example.com\n" * n)
elif kind == "rules":            # one workload with n rules (valid: the path-conflict check)
    rules = "".join("      - {path: /p%d, methods: [GET], noAuth: true}\n" % i for i in range(n))
    out.write(head + "cluster: {domain: a.example.com}\nworkloads:\n  - name: w\n    namespace: n\n"
              "    host: h\n    service: {port: 80}\n    rules:\n" + rules)
elif kind == "deep-nesting":     # n nested flow sequences
    out.write(head + "metadata: " + "[" * n + "]" * n + "\n")
elif kind == "alias-bomb":       # n levels of ten aliases (10^n nodes if expanded)
    out.write(head + 'metadata:\n  name: &a "lol"\n')
    prev = "a"
    for i in range(n):
        c = "l%d" % i
        out.write("  %s: &%s [%s]\n" % (c, c, ", ".join(["*" + prev] * 10)))
        prev = c
EOF
}

# measure KIND SIZE: best wall time of 3 runs, peak RSS, optionally instructions.
measure() {
  local kind=$1 n=$2 f="$OUTDIR/$1-$2.yaml"
  gen "$kind" "$n" >"$f"
  local best="" rss=0
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$OUTDIR/time" "$KEXPOSE" validate "$f" >/dev/null 2>&1 || true
    read -r secs kib < <(tail -n 1 "$OUTDIR/time")
    if [[ -z $best ]] || python3 -c "import sys; sys.exit(not float('$secs') < float('$best'))"; then best=$secs; fi
    ((kib > rss)) && rss=$kib
  done
  local ir="-"
  if [[ $INSTR == 1 ]] && command -v valgrind >/dev/null; then
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$KEXPOSE" validate "$f" >/dev/null 2>"$OUTDIR/cg.log" || true
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$OUTDIR/cg.log")
  fi
  printf "| %s | %s | %s | %s s | %s MiB | %s |\n" "$kind" "$n" "$(wc -c <"$f")" "$best" "$((rss / 1024))" "$ir"
}

echo "kexpose=$KEXPOSE load=$(cut -d' ' -f1-3 /proc/loadavg) commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "| input | size | bytes | wall (best of 3) | peak RSS | instructions |"
echo "|---|---|---|---|---|---|"
measure long-line 10000
measure long-line 100000
measure duplicate-keys 1000
measure duplicate-keys 10000
measure rules 2000
measure rules 20000
measure deep-nesting 1000
measure deep-nesting 10000
measure alias-bomb 6
measure alias-bomb 9
