#!/usr/bin/env bash
# Every ratio of issue 15's Goal in one run, each against its goal (see docs/benchmarks.md).
#
#   bench/ratios.sh                                   # build (release) and measure this tree
#   KEXPOSE=/work/wt/bin/kexpose-base bench/ratios.sh # measure another binary (no build)
#   RATIO_ROUNDS=11 bench/ratios.sh                   # more rounds per group (default 7)
#   RATIO_N=20000 bench/ratios.sh                     # another N for the main group (default 5000)
#   RATIO_QUICK=1 bench/ratios.sh                     # small sizes, to try the harness out
#   BENCH_INSTRUCTIONS=1 bench/ratios.sh              # also callgrind instruction counts
#
# Outputs go to tmpfs (/dev/shm/kexpose-ratios-PID, removed at the end). The floor program
# (bench/floor, its own cargo project) is built in release into target/floor. Needs python3,
# git and cp; valgrind for BENCH_INSTRUCTIONS. Never run by `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [[ -z "${KEXPOSE:-}" ]]; then
  cargo build --release --locked --quiet --bin kexpose --example kexpose-gen
  KEXPOSE=$ROOT/target/release/kexpose
fi
GEN=${KEXPOSE_GEN:-$ROOT/target/release/examples/kexpose-gen}
if [[ ! -x $GEN ]] || ! "$GEN" --help 2>&1 | grep -q -- --shared-domain; then
  cargo build --release --locked --quiet --example kexpose-gen
  GEN=$ROOT/target/release/examples/kexpose-gen
fi
CARGO_TARGET_DIR=$ROOT/target/floor cargo build --release --locked --quiet \
  --manifest-path bench/floor/Cargo.toml
FLOOR=$ROOT/target/floor/release/kexpose-floor

WORK=${BENCH_DIR:-/dev/shm/kexpose-ratios-$$}
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo +dirty); $(date -u +%Y-%m-%dT%H:%MZ)"
python3 bench/ratios.py "$KEXPOSE" "$GEN" "$FLOOR" "$WORK"

if [[ ${BENCH_INSTRUCTIONS:-0} == 1 ]]; then
  command -v valgrind >/dev/null || { echo "BENCH_INSTRUCTIONS=1 needs valgrind" >&2; exit 2; }
  # Instructions are deterministic where wall time on a shared machine is not: N = 1 000.
  D=$WORK/instr
  mkdir -p "$D"
  "$GEN" 1000 -o "$D/kexpose.yaml"
  "$KEXPOSE" render "$D/kexpose.yaml" -o "$D/out" >/dev/null
  ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  echo
  echo "Instructions (callgrind, whole process, N = 1 000):"
  echo "  render          $(rm -rf "$D/r"; ir "$KEXPOSE" render "$D/kexpose.yaml" -o "$D/r")"
  echo "  floor           $(rm -rf "$D/f"; ir "$FLOOR" "$D/kexpose.yaml" -o "$D/f")"
  echo "  validate        $(ir "$KEXPOSE" validate "$D/kexpose.yaml")"
  echo "  render --check  $(ir "$KEXPOSE" render "$D/kexpose.yaml" -o "$D/out" --check)"
  echo "  diff -o OUT     $(ir "$KEXPOSE" diff "$D/kexpose.yaml" -o "$D/out")"
  echo "  --version       $(ir "$KEXPOSE" --version)"
fi
