#!/usr/bin/env python3
"""Before/after per change: several kexpose binaries measured side by side, in the same rounds.

    python3 bench/stages.py N ROUNDS LABEL=BINARY [LABEL=BINARY ...]

Writes `kexpose-gen N` (target/release/examples/kexpose-gen, or $KEXPOSE_GEN) under /dev/shm
and, for every binary, runs as cold processes, interleaved round by round (the order rotated
each round, one untimed warm-up round): `validate`, `render -o OUT` (OUT removed first), `render
--check` and `diff -o OUT` against an up-to-date OUT, and `diff -o OUT` against an OUT rendered
from the spec with one workload's timeout changed. Prints one markdown table of medians (wall
time, and the first binary's time divided by each one's), plus each binary's peak RSS of the
render. Every binary must accept the same spec; each output tree is rendered by the binary
itself. Used for the per-change table of docs/benchmarks.md; never run by `cargo test`.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

N, ROUNDS = int(sys.argv[1]), int(sys.argv[2])
BINS = [a.split("=", 1) for a in sys.argv[3:]]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.environ.get("KEXPOSE_GEN", os.path.join(ROOT, "target/release/examples/kexpose-gen"))
WORK = f"/dev/shm/kexpose-stages-{os.getpid()}"
DEVNULL = os.open(os.devnull, os.O_RDWR)


def run(argv):
    """One cold process: (wall seconds, peak RSS KiB, exit code)."""
    acts = [(os.POSIX_SPAWN_DUP2, DEVNULL, fd) for fd in (0, 1, 2)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=acts)
    _, status, ru = os.wait4(pid, 0)
    return time.perf_counter() - t0, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def main():
    os.makedirs(WORK)
    try:
        spec = os.path.join(WORK, "kexpose.yaml")
        subprocess.run([GEN, str(N), "-o", spec], check=True, stdout=subprocess.DEVNULL)
        text = open(spec).read()
        changed = os.path.join(WORK, "changed.yaml")
        new = text.replace("    timeout: 120\n", "    timeout: 121\n", 1)
        assert new != text
        open(changed, "w").write(new)
        cmds = []  # (label, command name, argv, prep)
        for label, b in BINS:
            out = os.path.join(WORK, f"out-{label}")
            stale = os.path.join(WORK, f"stale-{label}")
            fresh = os.path.join(WORK, f"fresh-{label}")
            for d, s in ((out, spec), (stale, changed)):
                code = run([b, "render", s, "-o", d])[2]
                assert code == 0, f"{label}: render exited {code}"
            cmds += [
                (label, "validate", [b, "validate", spec], None),
                (label, "render -o", [b, "render", spec, "-o", fresh],
                 lambda d=fresh: shutil.rmtree(d, ignore_errors=True)),
                (label, "render --check", [b, "render", spec, "-o", out, "--check"], None),
                (label, "diff -o OUT (up to date)", [b, "diff", spec, "-o", out], None),
                (label, "diff -o OUT (1 change)", [b, "diff", spec, "-o", stale], None),
            ]
        times = {(c[0], c[1]): [] for c in cmds}
        rss = {label: [] for label, _ in BINS}
        for r in range(ROUNDS + 1):
            order = cmds[r % len(cmds):] + cmds[: r % len(cmds)]
            for label, name, argv, prep in order:
                if prep:
                    prep()
                wall, maxrss, _ = run(argv)
                if r:
                    times[(label, name)].append(wall)
                    if name == "render -o":
                        rss[label].append(maxrss)
        names = [c[1] for c in cmds[:5]]
        first = BINS[0][0]
        print(f"N = {N}, {ROUNDS} rounds, medians; load average {os.getloadavg()}")
        print()
        print("| command | " + " | ".join(label for label, _ in BINS) + " |")
        print("|---|" + "---|" * len(BINS))
        for name in names:
            base = statistics.median(times[(first, name)])
            cells = []
            for label, _ in BINS:
                m = statistics.median(times[(label, name)])
                cells.append(f"{fmt(m)}" + ("" if label == first else f" ({base / m:.2f}×)"))
            print(f"| {name} | " + " | ".join(cells) + " |")
        print("| peak RSS, render | " + " | ".join(
            f"{statistics.median(rss[label]) / 1024:.0f} MiB" for label, _ in BINS) + " |")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


def fmt(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


main()
