"""Benchmark: exact sampling, DP tables and certified Markov chains of the kernels Q (lifts.kernels).

Prints four tables (no assertions):

1. **Sampling** (exact or direct): wall time of ``kernel.sample(n_edge, M, seed)``
   for ``--n-edge`` edges (default 10^6) at M = 4, 8 and 16 (exact subset DP
   for structured kernels, direct samplers for Identity/Uniform/CyclicShift).
   The DP table (built once per kernel and M, then cached) and the Numba
   compilation/cache load are excluded by a warm-up call on a few edges; the
   timed call includes drawing the per-edge random streams.  Columns give the
   best of ``--repeat`` runs, in seconds, and the rate in edges per second for
   M = 8.
2. **DP tables**: time to build the subset-DP table g (2^M entries) and the exact
   marginal (tables f, g and the O(M 2^M) marginal sums) at M = 12, 16, 18, 20,
   for a fresh kernel each time (no cache).
3. **Certified MCMC** at M = 24 and 64 (``method="mcmc"``, adaptive length): for
   ``--n-mcmc`` edges (default 20000; the diagnostic population is the edges
   themselves, so larger samples are held to a finer resolution and may need
   more sweeps) the sweeps the two-start diagnostic chose, whether it
   certified, its final max |z|, the wall time, the **cost per edge** (microseconds
   per permutation) and per proposal (nanoseconds), best of ``--repeat``; then
   the cost of a small call (100 edges, run with ``MCMC_MIN_CHAINS`` chains).
4. **Block(4, 0.05) against the block tables** at M = 24 and 64: the exact
   off-block entry of Pbar (block-table DP, with its time) next to the
   certified Monte-Carlo estimate (mean of the off-block entries, its standard
   error from the chains' own off-block counts, and the z-score), and the largest
   |z| over all M^2 entries (exact binomial tails; under an exact sampler about
   3.5 for M = 24 and 3.9 for M = 64).

Run: ``python benchmarks/kernels.py [--n-edge 1000000] [--n-mcmc 20000] [--repeat 3] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from fgraph.jit import threads  # noqa: E402
from lifts import _perm_kernels as pk  # noqa: E402
from lifts import kernels  # noqa: E402
from lifts.kernels import (  # noqa: E402
    EXACT_MAX_M,
    MCMC_MIN_CHAINS,
    Band,
    Block,
    CyclicShift,
    Directional,
    FromMatrix,
    Identity,
    Ring,
    SamplingWarning,
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


def sampling_table(n_edge: int, repeat: int, sizes=(4, 8, 16)):
    names = [k.identify().split("(")[0] for k in kernels_for(8)]
    rows = {name: {} for name in names}
    for M in sizes:
        for name, k in zip(names, kernels_for(M)):
            k.sample(16, M, seed=0)  # warm-up: Numba cache, DP table / MCMC start
            rows[name][M] = best_time(lambda k=k, M=M: k.sample(n_edge, M, seed=1), repeat)
    path = {M: "DP" for M in sizes}
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


def mcmc_kernels(M: int):
    rng = np.random.default_rng(M)
    return [
        ("Block(4, 0.05)", Block(4, 0.05)),
        ("Ring(1)", Ring(1.0)),
        ("Ring(0.5)", Ring(0.5)),
        ("Ring(inf)", Ring(np.inf)),  # uniform-like: Q = 1 + EPS through the chains
        ("lognormal s=1", FromMatrix(np.exp(rng.standard_normal((M, M))), name="lognormal1")),
        ("lognormal s=2", FromMatrix(np.exp(2 * rng.standard_normal((M, M))), name="lognormal2")),
    ]


def mcmc_table(n: int, repeat: int, sizes=(24, 64)):
    print(f"\nCertified MCMC, {n} edges (method='mcmc', adaptive length): sweeps chosen, certified, final "
          f"max |z|, seconds (best of {repeat}),\nus per edge, ns per proposal; then one call of 100 edges "
          f"({MCMC_MIN_CHAINS} chains)")
    head = (f"{'kernel':<15}{'M':>4}{'sweeps':>8}{'cert.':>7}{'max|z|':>8}{'seconds':>9}{'us/edge':>9}"
            f"{'ns/prop':>9}{'100 edges s':>13}")
    print(head)
    print("-" * len(head))
    for M in sizes:
        for name, k in mcmc_kernels(M):
            with warnings.catch_warnings():  # warm-up (tables, Numba cache load): too short to certify
                warnings.simplefilter("ignore", SamplingWarning)
                k.sample(8, M, seed=0, method="mcmc", mcmc_sweeps=2)
            diag = None

            def run(k=k, M=M):
                nonlocal diag
                diag = k.sample(n, M, seed=1, method="mcmc", diagnostic=True)[1]

            t = best_time(run, repeat)
            t_small = best_time(lambda k=k, M=M: k.sample(100, M, seed=1, method="mcmc"), repeat)
            print(f"{name:<15}{M:>4}{diag.sweeps:>8}{'yes' if diag.certified else 'NO':>7}{diag.max_z:>8.2f}"
                  f"{t:>9.3f}{1e6 * t / n:>9.1f}{1e9 * t / (n * diag.sweeps * M):>9.1f}{t_small:>13.3f}")


def block_table(n: int, sizes=(24, 64)):
    from scipy import stats

    print(f"\nBlock(4, 0.05) against the block tables: exact off-block entry of Pbar (block-table DP) vs the "
          f"certified chains ({n} edges)")
    head = (f"{'M':>4}{'exact off':>12}{'DP s':>8}{'MC off':>12}{'SE':>10}{'z':>7}{'sweeps':>8}"
            f"{'max|z| all':>12}")
    print(head)
    print("-" * len(head))
    for M in sizes:
        k = Block(4, 0.05)
        L = M // 4
        t0 = time.perf_counter()
        kernels._CACHE.clear()
        exact = k.P(M)
        t_dp = time.perf_counter() - t0
        perms, diag = k.sample(n, M, seed=2, method="mcmc", diagnostic=True)
        off = perms // L != np.arange(M) // L  # (n, M): row m sent off its block
        n_off_entries = M * (M - L)
        per_chain = off.sum(axis=1) / n_off_entries  # each chain's mean over the off-block entries
        mc, se = per_chain.mean(), per_chain.std(ddof=1) / np.sqrt(n)
        counts = np.bincount((perms + M * np.arange(M)).ravel(), minlength=M * M).reshape(M, M)
        tail = 2 * np.minimum(stats.binom.cdf(counts, n, exact), stats.binom.sf(counts - 1, n, exact))
        zmax = float(stats.norm.isf(np.minimum(tail, 1.0) / 2).max())
        print(f"{M:>4}{exact[0, L]:>12.6f}{t_dp:>8.3f}{mc:>12.6f}{se:>10.2e}{(mc - exact[0, L]) / se:>7.2f}"
              f"{diag.sweeps:>8}{zmax:>12.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-edge", type=int, default=10**6)
    ap.add_argument("--n-mcmc", type=int, default=20000, help="edges of the certified-MCMC tables")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    args = ap.parse_args(argv)
    print(f"numba {numba.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"threads={args.threads or numba.config.NUMBA_NUM_THREADS}, EXACT_MAX_M={EXACT_MAX_M}")
    with threads(args.threads):
        sampling_table(args.n_edge, args.repeat)
        table_table(args.repeat)
        mcmc_table(args.n_mcmc, args.repeat)
        block_table(args.n_mcmc)


if __name__ == "__main__":
    main()
