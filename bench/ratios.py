#!/usr/bin/env python3
"""Every ratio of issue 15's Goal in one run (driven by bench/ratios.sh; see docs/benchmarks.md).

Each ratio is measured pairwise: the commands of a group run interleaved, round after round
(A B A B …, the order rotated every round), so that a change in the machine's load hits both
sides alike; each figure is the median over the rounds. Every run is a cold process started with
posix_spawn and reaped with wait4, which also gives its CPU time (user + system) and peak RSS.
The preparation of a run (removing the output directory it creates) is not timed.

With KEXPOSE_BASE set to another kexpose binary, every kexpose command also runs with it, in
the same rounds, and a before/after table (base → KEXPOSE) follows the goals: the way to make a
row of docs/benchmarks.md's per-change table on a shared machine.

Usage: ratios.py KEXPOSE GEN FLOOR WORKDIR
Environment: RATIO_ROUNDS, RATIO_N, RATIO_QUICK, KEXPOSE_BASE
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

KEXPOSE, GEN, FLOOR, WORK = sys.argv[1:5]
N = int(os.environ.get("RATIO_N", "5000"))
ROUNDS = int(os.environ.get("RATIO_ROUNDS", "7"))
QUICK = os.environ.get("RATIO_QUICK") == "1"  # smaller sizes, for trying the harness out
BASE = os.environ.get("KEXPOSE_BASE") or None
DEVNULL = os.open(os.devnull, os.O_RDWR)


def rm(path):
    shutil.rmtree(path, ignore_errors=True)


def run_once(argv, cwd=None):
    """One cold process: (wall seconds, cpu seconds, peak RSS KiB, exit code)."""
    actions = [
        (os.POSIX_SPAWN_DUP2, DEVNULL, 0),
        (os.POSIX_SPAWN_DUP2, DEVNULL, 1),
        (os.POSIX_SPAWN_DUP2, DEVNULL, 2),
    ]
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
    finally:
        os.chdir(old)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


class Cmd:
    def __init__(self, name, argv, prep=None, codes=(0,), cwd=None):
        self.name, self.argv, self.prep, self.codes, self.cwd = name, argv, prep, codes, cwd
        self.wall, self.cpu, self.rss = [], [], []

    def once(self, record=True):
        if self.prep:
            self.prep()
        wall, cpu, rss, code = run_once(self.argv, self.cwd)
        if code not in self.codes:
            sys.exit(f"{self.name}: exit code {code} (expected {self.codes}): {' '.join(self.argv)}")
        if record:
            self.wall.append(wall)
            self.cpu.append(cpu)
            self.rss.append(rss)

    @property
    def median(self):
        return statistics.median(self.wall)

    @property
    def cpu_median(self):
        return statistics.median(self.cpu)

    @property
    def rss_median(self):
        return statistics.median(self.rss)


TWINS = []  # (command, the same command with KEXPOSE_BASE)


def twin(c):
    """The same command run by the base binary (its output directory its own)."""
    if BASE is None or c.argv[0] != KEXPOSE:
        return None
    argv = [BASE if a == KEXPOSE else a for a in c.argv]
    # render's output directory: give the base its own, removed before each run as well
    for i, a in enumerate(argv):
        if i > 0 and argv[i - 1] == "-o" and c.prep is not None:
            argv[i] = a + "-base"
    t = Cmd(c.name + " [base]", argv, codes=c.codes, cwd=c.cwd)
    if c.prep is not None:
        out = argv[argv.index("-o") + 1]
        t.prep = lambda: rm(out)
    TWINS.append((c, t))
    return t


def group(cmds, rounds=ROUNDS):
    """Run the commands interleaved: one untimed warm-up round, then `rounds` timed ones."""
    cmds = cmds + [t for t in map(twin, cmds) if t is not None]
    for c in cmds:
        c.once(record=False)
    for r in range(rounds):
        k = r % len(cmds)
        for c in cmds[k:] + cmds[:k]:
            c.once()
    return cmds


def ms(t):
    return f"{t * 1000:.1f} ms" if t < 0.1 else f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


ROWS = []


def ratio(label, a, b, goal, note=""):
    """A row: a/b (wall medians) against its goal, plus the CPU-time ratio."""
    r = a.median / b.median
    rc = a.cpu_median / b.cpu_median if b.cpu_median > 0 else float("nan")
    ROWS.append((label, r, goal, f"{ms(a.median)} / {ms(b.median)}; cpu {rc:.2f}×{note}"))


def value(label, v, goal, detail):
    ROWS.append((label, v, goal, detail))


def gen(path, *args):
    with open(path, "wb") as f:
        subprocess.run([GEN, *map(str, args)], stdout=f, check=True)
    return path


def spec_dir(name, *args):
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    return d, gen(os.path.join(d, "kexpose.yaml"), *args)


def render_cmd(name, spec, out, extra=()):
    return Cmd(name, [KEXPOSE, "render", spec, "-o", out, *extra], prep=lambda: rm(out))


def same_tree_files(floor_out, kexpose_out):
    """Every file the floor wrote is byte-identical to kexpose's: (count, mismatches, not written)."""
    same, bad = 0, []
    for root, _, files in os.walk(floor_out):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, floor_out)
            q = os.path.join(kexpose_out, rel)
            if os.path.exists(q) and open(p, "rb").read() == open(q, "rb").read():
                same += 1
            else:
                bad.append(rel)
    missing = []
    for root, _, files in os.walk(kexpose_out):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), kexpose_out)
            if not os.path.exists(os.path.join(floor_out, rel)):
                missing.append(rel)
    return same, bad, sorted(missing)


def main():
    load_before = open("/proc/loadavg").read().split()[:3]
    n1, n10 = (100, 1000) if QUICK else (1000, 10000)
    print(f"kexpose {KEXPOSE}; N = {N}; {ROUNDS} rounds per group; outputs in {WORK}")
    print(f"load average before: {' '.join(load_before)}; {os.cpu_count()} cores")

    # --- N: render, cp -r, floor, validate, check, diff -o, diffs with diagnostics.
    d, spec = spec_dir(f"n{N}", N)
    out, copy, fout = (os.path.join(d, x) for x in ("out", "copy", "floor-out"))
    rm(out)
    subprocess.run([KEXPOSE, "render", spec, "-o", out], stdout=DEVNULL, check=True)
    rm(fout)
    subprocess.run([FLOOR, spec, "-o", fout], check=True)
    same, bad, missing = same_tree_files(fout, out)
    floor_ok = not bad
    spec_bytes = os.path.getsize(spec)

    # One warning (a public catch-all) and one error (an unknown authorizer), each in one more
    # workload at the end of the spec: the lazy pointer table re-reads the whole spec for it.
    text = open(spec).read()
    warn = os.path.join(d, "warning.yaml")
    open(warn, "w").write(text + "  - name: public-zz\n    namespace: team-00\n    host: public-zz\n"
                          "    service: {name: public, port: 80}\n    rules:\n      - path: /*\n        methods: [GET]\n        noAuth: true\n")
    err = os.path.join(d, "error.yaml")
    open(err, "w").write(text + "  - name: broken-zz\n    namespace: team-00\n    host: broken-zz\n"
                         "    service: {name: broken, port: 80}\n    rules:\n      - path: /*\n        methods: [GET]\n        extAuth:\n"
                         "          authorizers: [no-such-authorizer]\n")
    # diff --base REV in a temporary git repository: the spec committed, then one workload
    # changed in the working tree (a rule timeout), as in a pull request.
    repo = os.path.join(d, "repo")
    rm(repo)
    os.makedirs(repo)
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q", repo], check=True)
    shutil.copy(spec, os.path.join(repo, "kexpose.yaml"))
    subprocess.run([*git, "add", "kexpose.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "spec"], check=True)
    changed = text.replace("    timeout: 120\n", "    timeout: 121\n", 1)
    assert changed != text
    open(os.path.join(repo, "kexpose.yaml"), "w").write(changed)
    rspec = os.path.join(repo, "kexpose.yaml")
    # diff -o OUT against a tree with that one change (not up to date), for information.
    out1 = os.path.join(d, "out-one-change")
    rm(out1)
    subprocess.run([KEXPOSE, "render", rspec, "-o", out1], stdout=DEVNULL, check=True)

    cp = Cmd("cp -r", ["/bin/cp", "-r", out, copy], prep=lambda: rm(copy))
    render = render_cmd("render", spec, os.path.join(d, "r"))
    floor = Cmd("floor", [FLOOR, spec, "-o", fout], prep=lambda: rm(fout))
    validate = Cmd("validate", [KEXPOSE, "validate", spec])
    check = Cmd("render --check", [KEXPOSE, "render", spec, "-o", out, "--check"])
    diff = Cmd("diff -o OUT", [KEXPOSE, "diff", spec, "-o", out])
    diff1 = Cmd("diff -o OUT (1 change)", [KEXPOSE, "diff", spec, "-o", out1], codes=(1,))
    base = Cmd("diff --base HEAD", [KEXPOSE, "diff", rspec, "--base", "HEAD"], codes=(1,))
    vwarn = Cmd("validate, 1 warning", [KEXPOSE, "validate", warn])
    verr = Cmd("validate, 1 error", [KEXPOSE, "validate", err], codes=(1,))
    print(f"== N = {N} ({spec_bytes / 1048576:.1f} MiB of spec)", flush=True)
    group([cp, render, floor, validate, check, diff, diff1, base, vwarn, verr])
    for c in (cp, render, floor, validate, check, diff, diff1, base, vwarn, verr):
        print(f"  {c.name:<24} {ms(c.median):>9}  cpu {ms(c.cpu_median):>9}  rss {c.rss_median // 1024} MiB")
    ratio(f"render / cp -r (N={N})", render, cp, 2.5)
    ratio("render / floor", render, floor, 1.3,
          "" if floor_ok else f"; FLOOR OUTPUT DIFFERS in {len(bad)} files: {bad[:3]}")
    ratio("floor / cp -r", floor, cp, None)
    ratio("validate / cp -r", validate, cp, 2.0)
    ratio("diff -o OUT (up to date) / render", diff, render, 1.2)
    ratio("render --check / render", check, render, 1.2)
    ratio("diff --base REV (1 change) / render", base, render, 2.2)
    ratio("diff -o OUT (1 change) / render", diff1, render, None)
    ratio("validate: 1 warning / clean", vwarn, validate, 1.1)
    ratio("validate: 1 error / clean", verr, validate, 1.1)
    value("peak RSS / spec size (render)", render.rss_median * 1024 / spec_bytes, 20.0,
          f"{render.rss_median // 1024} MiB / {spec_bytes / 1048576:.2f} MiB")
    value("peak RSS / spec size (1 warning)", vwarn.rss_median * 1024 / spec_bytes, 20.0,
          f"{vwarn.rss_median // 1024} MiB / {spec_bytes / 1048576:.2f} MiB")

    # --- Seed fixture, cold, against `kexpose --version`.
    seed_dir = os.path.join(WORK, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    seed = os.path.join(seed_dir, "kexpose.yaml")
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "fixtures", "seed-client-credentials",
                             "kexpose.yaml"), seed)
    srender = render_cmd("seed render", seed, os.path.join(seed_dir, "out"))
    version = Cmd("kexpose --version", [KEXPOSE, "--version"])
    print("== seed fixture", flush=True)
    group([srender, version], rounds=ROUNDS * 6)
    ratio("seed render (cold) / --version (cold)", srender, version, 2.0)

    # --- Scaling from N = 1 000: time(10·N) / time(N).
    print(f"== scaling {n1} → {n10}", flush=True)
    pairs = []
    for label, a_args, b_args, note in [
        ("render N", (n1,), (n10,), ""),
        ("rules in one workload", (1, "--rules", 2 * n1), (1, "--rules", 2 * n10), ""),
        ("workloads under one domain", (n1, "--shared-domain"), (n10, "--shared-domain"), ""),
        ("identity providers", (n1, "--idps", n1 // 4), (n10, "--idps", n10 // 4), ""),
    ]:
        da, sa = spec_dir(f"scale-{label.replace(' ', '-')}-a", *a_args)
        db, sb = spec_dir(f"scale-{label.replace(' ', '-')}-b", *b_args)
        a = render_cmd(f"{label} small", sa, os.path.join(da, "out"))
        b = render_cmd(f"{label} large", sb, os.path.join(db, "out"))
        pairs.append((label, a, b, a_args, b_args))
    for label, a, b, a_args, b_args in pairs:
        group([a, b], rounds=max(3, ROUNDS - 2))
        args = lambda xs: " ".join(map(str, xs))
        ratio(f"{label}: time(10x)/time(x)", b, a, 10.5,
              f"; kexpose-gen {args(a_args)} → {args(b_args)}")
        print(f"  {label}: {ms(a.median)} → {ms(b.median)}", flush=True)

    load_after = open("/proc/loadavg").read().split()[:3]
    print()
    print(f"Floor program: {same} files byte-identical to kexpose's"
          + (f", {len(bad)} DIFFER: {bad[:5]}" if bad else "")
          + f"; not written by the floor: {len(missing)} ({', '.join(missing)})")
    print(f"load average before: {' '.join(load_before)}, after: {' '.join(load_after)}")
    print()
    print(f"| ratio | value | goal | | medians (wall A / B; cpu = ratio of CPU times) |")
    print("|---|---|---|---|---|")
    met_n = total = 0
    for label, v, goal, detail in ROWS:
        if goal is None:
            status = "(info)"
        else:
            total += 1
            met = v <= goal
            met_n += met
            status = "met" if met else "**not met**"
        g = "" if goal is None else f"≤ {goal:g}×"
        print(f"| {label} | {v:.2f}× | {g} | {status} | {detail} |")
    print(f"\n{met_n} of {total} goals met.")
    if TWINS:
        print()
        print(f"Before/after, pairwise in the same rounds: before = {BASE}, after = {KEXPOSE}")
        print()
        print("| command | before | after | after / before (wall) | (cpu) | peak RSS before → after |")
        print("|---|---|---|---|---|---|")
        for c, t in TWINS:
            print(f"| {c.name} | {ms(t.median)} | {ms(c.median)} | {c.median / t.median:.2f}× "
                  f"| {c.cpu_median / t.cpu_median:.2f}× | {t.rss_median // 1024} → {c.rss_median // 1024} MiB |")


main()
