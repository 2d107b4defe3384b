#!/usr/bin/env python3
"""Turn the raw results of bench/run.sh (target/bench/) into the Markdown tables of docs/benchmarks.md."""
import json
import os
import sys

out_dir, ns = sys.argv[1], [int(n) for n in sys.argv[2].split()]


def median(n, name):
    path = os.path.join(out_dir, str(n), f"{name}.json")
    if not os.path.exists(path):
        return None
    return json.load(open(path))["results"][0]["median"]


def read(n, name):
    path = os.path.join(out_dir, str(n), name)
    if not os.path.exists(path):
        return None
    text = open(path).read().strip()
    return int(text) if text else None


def ms(t):
    if t is None:
        return "–"
    if t >= 10:
        return f"{t:.1f} s"
    if t >= 1:
        return f"{t:.2f} s"
    return f"{t * 1000:.1f} ms" if t * 1000 < 100 else f"{t * 1000:.0f} ms"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×" if a / b < 10 else f"{a / b:.0f}×"


machine = dict(
    line.split("=", 1) for line in open(os.path.join(out_dir, "machine.txt")).read().splitlines() if "=" in line
)
print(f"Machine: {machine.get('nproc')} cores, {machine.get('cpu')}, {machine.get('mem')}; "
      f"load average before {machine.get('load')}, after {machine.get('load_after', '?')}; "
      f"kexpose {machine.get('commit')}.\n")

seed = median("seed", "render")
seed_v = median("seed", "validate")
print(f"Seed fixture (`fixtures/seed-client-credentials`), cold process: render {ms(seed)}, validate {ms(seed_v)}"
      + (f"; {read('seed', 'render.ir'):,} instructions for render" if read("seed", "render.ir") else "") + ".\n")

has_check = machine.get("has_check") == "1"
has_diff = machine.get("has_diff") == "1"
cols = ["N", "spec", "files", "validate", "render (cold, writes)", "re-render (up to date)"]
if has_check:
    cols.append("render --check")
if has_diff:
    cols.append("diff")
cols += ["peak RSS", "cp -r OUT", "render / cp", "kubectl kustomize OUT", "kustomize / render"]
print("| " + " | ".join(cols) + " |")
print("|" + "---|" * len(cols))
for n in ns:
    spec = os.path.join(out_dir, str(n), "kexpose.yaml")
    if not os.path.exists(spec):
        continue  # not measured (run interrupted)
    spec_kb = os.path.getsize(spec) / 1024
    render = median(n, "render")
    cp = median(n, "cp")
    kust = median(n, "kustomize")
    rss = read(n, "rss.kb")
    row = [f"{n:,}", f"{spec_kb:,.0f} KiB" if spec_kb < 1024 else f"{spec_kb / 1024:.1f} MiB",
           f"{read(n, 'out.files'):,}" if read(n, "out.files") else "–",
           ms(median(n, "validate")), ms(render), ms(median(n, "rerender"))]
    if has_check:
        row.append(ms(median(n, "check")))
    if has_diff:
        row.append(ms(median(n, "diff")))
    row += [f"{rss / 1024:.0f} MiB" if rss else "–", ms(cp), ratio(render, cp), ms(kust), ratio(kust, render)]
    print("| " + " | ".join(row) + " |")

print()
print("Scaling factor time(10·N)/time(N) (target ≤ 11 from N = 1 000):\n")
print("| N → 10·N | validate | render (cold) | re-render |")
print("|---|---|---|---|")
for n in ns:
    if 10 * n in ns:
        print(f"| {n:,} → {10 * n:,} | " + " | ".join(
            ratio(median(10 * n, k), median(n, k)) for k in ["validate", "render", "rerender"]) + " |")

if any(read(n, "validate.ir") for n in ns):
    print()
    print("Instructions (callgrind, total Ir of the whole process):\n")
    print("| N | validate | render (cold) | render per workload |")
    print("|---|---|---|---|")
    for n in ns:
        v, r = read(n, "validate.ir"), read(n, "render.ir")
        if v or r:
            print(f"| {n:,} | {v or 0:,} | {r or 0:,} | {(r or 0) // max(n, 1):,} |")
