"""Benchmark: permutation sampling and DP tables of the kernels Q (lifts.kernels).

Prints two tables (no assertions):

1. **Sampling**: wall time of ``kernel.sample(n_edge, M, seed)`` for
   ``--n-edge`` edges (default 10^6) at M = 4, 8 and 16 (exact subset DP for
   structured kernels, direct samplers for Identity/Uniform/CyclicShift) and at
   M = 32 (MCMC with the default ``MCMC_SWEEPS`` sweeps; the direct kernels stay
   direct).  The DP table (built once per kernel and M, then cached) and the
   Numba compilation/cache load are excluded by a warm-up call on a few edges;
   the timed call includes drawing the per-edge random streams.  Columns give
   the best of ``--repeat`` runs, in seconds, and the rate in edges per second
   for M = 8.
2. **DP tables**: time to build the subset-DP table g (2^M entries) and the exact
   marginal (tables f, g and the O(M 2^M) marginal sums) at M = 12, 16, 18, 20,
   for a fresh kernel each time (no cache).

Run: ``python benchmarks/kernels.py [--n-edge 1000000] [--repeat 3] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from fgraph.jit import threads  # noqa: E402
from lifts import _perm_kernels as pk  # noqa: E402
from lifts import kernels  # noqa: E402
from lifts.kernels import (  # noqa: E402
    EXACT_MAX_M,
    MCMC_SWEEPS,
    Band,
    Block,
    CyclicShift,
    Directional,
    FromMatrix,
    Identity,
    Ring,
    Uniform,
)


def kernels_for(M: int):
    rng = np.random.default_rng(0)
    return [
        Identity(),
        Uniform(),
        CyclicShift(),
        Ring(1.0),
        Block(4 if M % 4 == 0 else 2, 0.1),
        Band(1, 0.5),
        Directional(1.0, 0.5, 1),
        FromMatrix(rng.lognormal(size=(M, M)), name="lognormal"),
    ]


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def sampling_table(n_edge: int, repeat: int, sizes=(4, 8, 16, 32)):
    names = [k.identify().split("(")[0] for k in kernels_for(8)]
    rows = {name: {} for name in names}
    for M in sizes:
        for name, k in zip(names, kernels_for(M)):
            k.sample(16, M, seed=0)  # warm-up: Numba cache, DP table / MCMC start
            rows[name][M] = best_time(lambda k=k, M=M: k.sample(n_edge, M, seed=1), repeat)
    path = {M: ("DP" if M <= EXACT_MAX_M else f"MCMC {MCMC_SWEEPS} sw") for M in sizes}
    head = f"{'kernel':<12}" + "".join(f"{f'M={M} ({path[M]})':>20}" for M in sizes) + f"{'edges/s M=8':>14}"
    print(f"\nSampling {n_edge:.0e} edges: seconds (best of {repeat}); "
          "Identity/Uniform/CyclicShift always use their direct samplers")
    print(head)
    print("-" * len(head))
    for name in names:
        cells = "".join(f"{rows[name][M]:>20.3f}" for M in sizes)
        rate = n_edge / rows[name][8] if 8 in rows[name] else float("nan")
        print(f"{name:<12}{cells}{rate:>14.2e}")


def table_table(repeat: int, sizes=(12, 16, 18, 20)):
    print(f"\nSubset DP (cache cleared before each run): seconds (best of {repeat})")
    head = f"{'M':>4}{'2^M':>10}{'g table':>12}{'exact marginal':>16}{'MB per table':>14}"
    print(head)
    print("-" * len(head))
    pk.g_table(np.ones((3, 3)))  # Numba cache load
    Ring(1.0).marginal(5)
    for M in sizes:
        Q = Ring(1.0).Q(M)
        t_g = best_time(lambda Q=Q: pk.g_table(Q), repeat)
        t_m = best_time(lambda M=M: (kernels._CACHE.clear(), Ring(1.0).marginal(M)), repeat)
        print(f"{M:>4}{2 ** M:>10}{t_g:>12.4f}{t_m:>16.4f}{8 * 2 ** M / 1e6:>14.1f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-edge", type=int, default=10**6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    args = ap.parse_args(argv)
    print(f"numba {numba.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"threads={args.threads or numba.config.NUMBA_NUM_THREADS}, EXACT_MAX_M={EXACT_MAX_M}")
    with threads(args.threads):
        sampling_table(args.n_edge, args.repeat)
        table_table(args.repeat)


if __name__ == "__main__":
    main()
