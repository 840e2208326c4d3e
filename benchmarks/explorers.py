"""Benchmark: how fast each interactive explorer answers a move, and how long its runs take to build.

    .venv/bin/python benchmarks/explorers.py            # per-move latency of every explorer
    .venv/bin/python benchmarks/explorers.py --build    # also a fresh build of every grid

For each explorer it moves every control through every value (the others at their defaults), as
a student would, and prints the time from the new value to the new PNG (drawing and encoding; the
kernel-side part of a move, which the issue's 2 s budget is about; the browser adds a round trip
of milliseconds on loopback), the slowest move, and the size of the PNG the notebook stores.
``--build`` rebuilds every grid into a scratch folder the way ``make data`` does (one process per
core) and checks the numbers equal the cached ones. Printed, not asserted: timings depend on the
machine and its load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from kerascourse import explorer_grids, explorers  # noqa: E402

BUDGET_S = 2.0


def moves(explorer: explorers.Explorer) -> list[tuple[float, float]]:
    """Move every control through every value; return each move's (wall, CPU) seconds."""
    defaults = explorer.values
    seconds = []
    for name, control in explorer.controls.items():
        options = getattr(control, "options", None)
        values = [o[1] if isinstance(o, tuple) else o for o in options] if options else [
            not control.value, control.value]
        for value in values:
            if value == explorer.values[name]:
                continue
            wall, cpu = time.perf_counter(), time.process_time()
            explorer.set(**{name: value})
            seconds.append((time.perf_counter() - wall, time.process_time() - cpu))
        explorer.set(**{name: defaults[name]})
    return seconds


def latency() -> None:
    print(f"per move (wall / CPU seconds), budget {BUDGET_S} s")
    print(f"{'explorer':17} {'open':>6} {'moves':>5} {'median':>13} {'slowest':>13}  png")
    for name, make in explorers.EXPLORERS.items():
        start = time.perf_counter()
        explorer = make()
        opened = time.perf_counter() - start
        times = moves(explorer)
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        verdict = "ok" if max(walls) < BUDGET_S else "TOO SLOW"
        print(f"{name:17} {opened:5.2f}s {len(times):5d} {statistics.median(walls):5.2f} / "
              f"{statistics.median(cpus):4.2f}s {max(walls):5.2f} / {max(cpus):4.2f}s  "
              f"{len(explorer.png) / 1024:3.0f} KB  {verdict}")


def build() -> None:
    names = list(explorer_grids.GRIDS)
    with tempfile.TemporaryDirectory(prefix="explorer-grids-") as scratch:
        start = time.perf_counter()
        ok, output = explorer_grids.build_parallel(names, Path(scratch))
        seconds = time.perf_counter() - start
        print(output.strip())
        print(f"fresh build of {len(names)} grids: {seconds:.1f} s wall ({'ok' if ok else 'FAILED'})")
        for name in names:
            fresh = explorer_grids.load_grid(name, Path(scratch))
            cached = explorer_grids.load_grid(name)
            same = all(np.array_equal(fresh[k], cached[k]) for k in cached.arrays)
            print(f"  {name:25} identical to data/explorers: {'yes' if same else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help="also time a fresh build of every grid")
    args = parser.parse_args()
    latency()
    if args.build:
        build()


if __name__ == "__main__":
    main()
