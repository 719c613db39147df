"""Benchmark: time per GAMP iteration against two textbook mat-vecs and the memory-bandwidth limit.

One run prints a table (no assertions) for each thread count in ``--threads``
(default 1 and 2).  Every thread count runs in a fresh subprocess with
``OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = NUMBA_NUM_THREADS``
set to it, so BLAS and Numba use the same number of threads.

Instance: the teacher-student perceptron with ``N = --n`` (2000) weights,
``P = --alpha * N`` (2 N) samples, F i.i.d. N(0, 1/N) (float64, 64 MB at the
default size), Rademacher teacher, sign channel; AMP with the binary prior from
the prior mean (``run_amp(..., max_iter=--iters, tol=1e-300)``: a fixed number
of iterations in the recovery transient, where every iteration does real work).

Rows: milliseconds per iteration, the minimum and the median (the machine may
be shared: the minimum is the cleaner figure).  An AMP iteration is the wall
time between consecutive callbacks over ``--repeats`` runs (it includes the
driver's per-iteration bookkeeping; JIT compilation is excluded by a warm-up
run); the textbook products and the read of F are timed as many times as
there are timed iterations:

* ``textbook 2 mat-vecs``: ``F @ a`` plus ``F.T @ g`` with numpy's BLAS, the
  cost of the two products a textbook AMP iteration needs (scalar variances),
  float64 and float32 F;
* ``textbook 4 mat-vecs``: the same plus ``F^2 @ v`` and ``F^2.T @ d`` (``F^2``
  formed once), the products of a textbook GAMP iteration with full variances;
* ``mcover fused``: the default one-pass Numba operator (F read once per
  iteration, full variances), float64 and float32 (F stored in float32);
* ``mcover fused, scalar variance``: the same with ``variance='scalar'`` (the
  textbook iteration: the same two products, read from one pass over F),
  float64 and float32;
* ``mcover unfused (BLAS)``: ``fused=False``, four BLAS mat-vecs per iteration
  (``F``, ``F.T``, ``F^2``, ``F^2.T``; ``F^2`` formed once), the reference;
* ``lifted M=8 fused`` / ``lifted M=8 reference``: one iteration on an 8-cover
  with uniform random permutations (``uint8`` (P, N, 8), 64 MB; copies started
  at different random points), the fused gather/scatter operator and the
  reference (row gathers, then the transpose by inverse-permutation gathers,
  one thread per variable block).  Compared with 8 base iterations (fused,
  float64): the work of running the 8 copies one after the other.

Columns: ``vs 2 mat-vecs`` divides by the float64 textbook time, min by min and
median by median (float32 rows: also by the float32 textbook time); the two
``of which`` rows time the sign channel on P rows and the binary prior on N
weights alone (the log Z they return included), and the next row subtracts them
from the fused iteration; ``vs limit`` divides the minimum by the one-pass
bandwidth limit ``bytes(F) / bandwidth``, where the bandwidth is the best of a
numpy ``sum`` and a Numba ``prange`` sum over a float64 array four times as large
as the float64 F (so that no part of it stays cached; the limit is printed as
``read F once``).  A float32 F (32 MB)
may sit partly in a last-level cache of that size, so its limit is a DRAM
figure the kernel can beat.

The ``targets`` lines divide like for like: the scalar-variance iteration by
the two products of the textbook iteration it computes, the full-variance
iteration by the four products a textbook full-variance iteration needs (and,
stricter, by the two), and each float32 iteration by its float64 twin.

What bounds the fused iteration (measured on a 2-core AMD EPYC with AVX-512,
about 30 GB/s from one core): the first pass over a block of 8 rows streams
them from memory (about the ``read F once`` time), the second reads the same
128 KB again from L2 (about 0.6 ms over F; software prefetch, finer
interleaving of the two passes, 4- and 16-row blocks and a pass pipelined
one block ahead were all slower).  With full variances each element costs
six floating-point operations (``f x``, ``f^2``, ``f^2 v``; ``e g``, ``e^2``,
``e^2 d``): 6 million 512-bit operations per iteration, about 2 ms at one per
cycle and 3 GHz, so that iteration is compute-bound as much as memory-bound
on this machine.

Usage: ``python benchmarks/amp.py [--n 2000] [--alpha 2] [--threads 1 2] [--M 8]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(args):
    import numba
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from algorithms.amp import run_amp
    from algorithms.denoisers import BinaryPrior, SignChannel
    from algorithms.denoisers.kernels import channel_gout_array, prior_fin_array

    @numba.njit(parallel=True, fastmath=True, cache=False)
    def par_sum(a):
        s = 0.0
        for i in numba.prange(a.shape[0]):
            s += a[i]
        return s

    def stats(times):
        return [float(np.min(times)), float(np.median(times))]

    def timed(fn, repeats):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return stats(times)

    threads = args.threads[0]
    rng = np.random.default_rng(0)
    N = args.n
    P = int(round(args.alpha * N))
    teacher = rng.choice([-1.0, 1.0], N)
    F = rng.standard_normal((P, N)) / np.sqrt(N)
    y = np.where(F @ teacher >= 0, 1.0, -1.0)
    F32 = F.astype(np.float32)
    a, g = rng.standard_normal(N), rng.standard_normal(P)
    a32, g32 = a.astype(np.float32), g.astype(np.float32)
    out = {"threads": threads, "N": N, "P": P, "F_MB": F.nbytes / 1e6}

    F2 = F * F  # a textbook full-variance iteration also multiplies by F^2 and its transpose
    data, data32 = (F, y), (F32, y)
    products = {
        "textbook64": lambda: (F @ a, F.T @ g),
        "textbook32": lambda: (F32 @ a32, F32.T @ g32),
        "textbook4": lambda: (F @ a, F.T @ g, F2 @ a, F2.T @ g),
    }
    iterations = {
        "fused64": (data, {}),
        "fused32": (data32, {"dtype": "float32"}),
        "fused64_scalar": (data, {"variance": "scalar"}),
        "fused32_scalar": (data32, {"variance": "scalar", "dtype": "float32"}),
        "unfused64": (data, {"fused": False}),
        "unfused32": (data32, {"fused": False, "dtype": "float32"}),
    }

    def amp_iters(data, iters, **kw):
        """Wall times between consecutive iterations of one run (callback timestamps)."""
        stamps = []
        run_amp(data, "binary", "sign", max_iter=iters + 1, tol=1e-300, n_threads=threads,
                callback=lambda p: stamps.append(time.perf_counter()), **kw)
        return np.diff(stamps).tolist()

    for d, kw in iterations.values():
        amp_iters(d, 1, **kw)  # compile
    # Rounds: every measurement once per round, so that each ratio can be taken
    # between measurements minutes apart at most (the machine's bandwidth drifts).
    samples = {k: [] for k in (*products, *iterations)}
    rounds = {k: [] for k in samples}
    for _ in range(args.repeats):
        for key, fn in products.items():
            ts = [timed(fn, 1)[0] for _ in range(args.iters)]
            samples[key] += ts
            rounds[key].append(float(np.median(ts)))
        time.sleep(0.5)  # let BLAS's threads stop spinning before Numba's start (and vice versa)
        for key, (d, kw) in iterations.items():
            if key.startswith("unfused"):
                time.sleep(0.5)
            ts = amp_iters(d, args.iters, **kw)
            samples[key] += ts
            rounds[key].append(float(np.median(ts)))
        time.sleep(0.5)
    for key, ts in samples.items():
        out[key] = stats(ts)
    out["rounds"] = rounds
    F2 = products = None  # free the 64 MB of F^2

    reps = 4 * args.repeats * args.iters
    big = np.ones(4 * F.size)  # 4x F: no part of it survives in the caches between reads
    par_sum(big[:64])
    t_big = min(timed(big.sum, args.repeats)[0], timed(lambda: par_sum(big), args.repeats)[0])
    bw = 4 * F.nbytes / t_big
    out["bandwidth_GBs"] = bw / 1e9
    out["limit64"] = [F.nbytes / bw] * 2
    out["limit32"] = [F32.nbytes / bw] * 2

    # the denoisers alone, as the kernels call them (one thread)
    (cc, cp), (pc, pp) = SignChannel().kernel_spec(), BinaryPrior().kernel_spec()
    om, V, gg, dd = rng.standard_normal(P), np.full(P, 0.3), np.empty(P), np.empty(P)
    r, S, f, v = rng.standard_normal(N), np.full(N, 0.5), np.empty(N), np.empty(N)
    out["channel"] = timed(lambda: channel_gout_array(cc, cp, y, om, V, gg, dd), reps)
    out["prior"] = timed(lambda: prior_fin_array(pc, pp, r, S, f, v), reps)

    def per_iter(data, repeats, iters, **kw):
        """Minimum and median wall time per iteration over several runs."""
        times = []
        for _ in range(repeats):
            times += amp_iters(data, iters, **kw)
        return stats(times)

    M = args.M
    perms = rng.permuted(np.tile(np.arange(M, dtype=np.uint8), (P * N, 1)), axis=1).reshape(P, N, M)
    x0 = 0.1 * rng.standard_normal((N, M))
    for name, fused in (("lifted_fused", True), ("lifted_ref", False)):
        kw = dict(lift=perms, init=x0, fused=fused)
        run_amp((F[:64], y[:64]), "binary", "sign", max_iter=1, n_threads=threads,
                lift=perms[:64], init=x0, fused=fused)  # compile on a slice
        out[name] = per_iter(data, 1, 4, **kw)
    print(json.dumps(out))


def _table(res, M):
    rows = []
    t64, t32 = res["textbook64"], res["textbook32"]
    l64, l32 = res["limit64"][0], res["limit32"][0]

    def row(name, key_or_val, lim, f32=False):
        mn, md = res[key_or_val] if isinstance(key_or_val, str) else key_or_val
        ratio = f"{mn / t64[0]:5.2f} {md / t64[1]:5.2f}"
        if f32:
            ratio += f"   ({mn / t32[0]:.2f} {md / t32[1]:.2f} of f32)"
        rows.append((name, f"{mn * 1e3:8.2f} {md * 1e3:8.2f}", ratio, f"{mn / lim:6.2f}" if lim else ""))

    row("textbook 2 mat-vecs, float64", "textbook64", l64)
    row("textbook 2 mat-vecs, float32", "textbook32", l32, f32=True)
    row("textbook 4 mat-vecs (full variances), float64", "textbook4", l64)
    row("read F once (bandwidth limit), float64", "limit64", l64)
    row("read F once (bandwidth limit), float32", "limit32", l32, f32=True)
    row("mcover fused, float64", "fused64", l64)
    row("  of which sign channel x P (1 thread)", "channel", None)
    row("  of which binary prior x N (1 thread)", "prior", None)
    op = [res["fused64"][k] - res["channel"][k] - res["prior"][k] for k in (0, 1)]
    row("  fused float64 minus the denoisers", op, l64)
    row("mcover fused, float32", "fused32", l32, f32=True)
    row("mcover fused, scalar variance, float64", "fused64_scalar", l64)
    row("mcover fused, scalar variance, float32", "fused32_scalar", l32, f32=True)
    row("mcover unfused (4 BLAS mat-vecs), float64", "unfused64", l64)
    row("mcover unfused (4 BLAS mat-vecs), float32", "unfused32", l32, f32=True)
    base = [M * res["fused64"][k] for k in (0, 1)]
    row(f"{M} base iterations (fused, float64)", base, None)
    for key, label in (("lifted_fused", "fused"), ("lifted_ref", "reference")):
        mn, md = res[key]
        rows.append((f"lifted M={M}, {label}: 1 iteration", f"{mn * 1e3:8.2f} {md * 1e3:8.2f}",
                     f"{mn / t64[0]:5.2f} {md / t64[1]:5.2f}   ({mn / base[0]:.2f} {md / base[1]:.2f} "
                     f"of {M} base)", ""))
    w0 = max(len(r[0]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    head = f"{'operation':<{w0}}  {'ms: min':>8} {'median':>8}  {'vs 2 mat-vecs':<{w2}}  {'vs limit':>8}"
    lines = [head, "-" * len(head)]
    lines += [f"{a:<{w0}}  {b}  {c:<{w2}}  {d:>8}" for a, b, c, d in rows]
    lines += ["", "targets: min / min, median / median, and the median over rounds of the ratio of "
              "the round medians (paired: the fairest figure on a shared machine)"]
    rounds = res["rounds"]
    for num, den, label, target in (
        ("fused64_scalar", "textbook64", "scalar-variance AMP (textbook iteration) / 2 mat-vecs", "<= 0.75"),
        ("fused64", "textbook4", "full-variance GAMP / the 4 mat-vecs it needs", "<= 0.75"),
        ("fused64", "textbook64", "full-variance GAMP / 2 mat-vecs", "(stricter)"),
        ("fused32_scalar", "fused64_scalar", "float32 / float64, scalar variance", "~ 0.5"),
        ("fused32", "fused64", "float32 / float64, full variances", "~ 0.5"),
    ):
        (n0, n1), (d0, d1) = res[num], res[den]
        mid = statistics.median(x / z for x, z in zip(rounds[num], rounds[den]))
        lines.append(f"  {label:<58} {target:>10}: {n0 / d0:.2f} {n1 / d1:.2f}  paired {mid:.2f}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--alpha", type=float, default=2.0)
    p.add_argument("--iters", type=int, default=6, help="iterations per timed run")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--M", type=int, default=8)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args)
        return
    for t in args.threads:
        env = dict(os.environ)
        for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[k] = str(t)
        cmd = [sys.executable, __file__, "--child", "--n", str(args.n), "--alpha", str(args.alpha),
               "--iters", str(args.iters), "--repeats", str(args.repeats), "--threads", str(t),
               "--M", str(args.M)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"child with {t} thread(s) failed")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"\nGAMP, binary prior, sign channel: N={res['N']}, P={res['P']}, F {res['F_MB']:.0f} MB "
              f"(float64); {t} thread(s); bandwidth {res['bandwidth_GBs']:.1f} GB/s")
        print(_table(res, args.M))


if __name__ == "__main__":
    main()
