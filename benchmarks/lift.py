"""Benchmark: lifting an L x L Ising grid to its M-cover (``lifts.lift``).

For each side ``L`` and cover degree ``M`` the script runs, in a fresh Python
subprocess (so earlier runs and their memory do not count):

* **sample**: ``lifts.kernels.Uniform().sample(n_edge, M, seed)`` -- the uniform
  random permutations (skipped if ``lifts.kernels`` is missing);
* **lift (cold)**: the first ``lift(graph, M, perms=P)`` in the process (fresh pages
  for every output array);
* **lift (warm)**: the best of ``--repeat`` further calls;
* **lift + kernel**: ``lift(graph, M, seed=0)``, sampling included;
* **baseline**: a plain NumPy construction of the same cover through
  ``Wiring.from_edges`` -- lifted ``edge_var`` by a fancy-index scatter, then the
  variable-major index by a stable argsort -- the obvious way to build it;
* **validate**: ``Lift.validate()`` (re-derives the wiring and sorts; for reference).

``L = 500`` gives ~10^6 base edges; the target is a lift at ``M = 8`` in under 2 s.

Usage::

    python benchmarks/lift.py                       # L = 500, M = 2, 4, 8, 16
    python benchmarks/lift.py --sizes 300 700 --M 8 --no-validate

The script prints a table and makes no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- worker (run in a subprocess)
def _baseline(graph, P, M):
    """Sort-based construction of the same cover (plain NumPy + Wiring.from_edges)."""
    import numpy as np

    from fgraph import Wiring

    w = graph.wiring
    fdeg = np.diff(w.fac_ptr)
    fac_ptr = np.concatenate([[0], np.cumsum(np.repeat(fdeg, M))])
    slot = np.arange(w.n_edge) - w.fac_ptr[w.edge_fac]
    pos = (M * w.fac_ptr[w.edge_fac] + slot)[:, None] + fdeg[w.edge_fac][:, None] * np.arange(M)
    edge_var = np.empty(M * w.n_edge, dtype=np.int64)
    edge_var[pos] = w.edge_var[:, None] * M + P
    return Wiring.from_edges(w.n_var * M, fac_ptr, edge_var, check=False)


def _worker(L: int, M: int, repeat: int, validate: bool) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np

    from fgraph.problems import ising_grid
    from lifts.cover import lift

    graph = ising_grid(L, J=0.3).graph
    out = {"L": L, "M": M, "n_edge": graph.n_edge}
    try:
        from lifts.kernels import Uniform

        t = time.perf_counter()
        P = Uniform().sample(graph.n_edge, M, 0)
        out["sample"] = time.perf_counter() - t
        have_kernels = True
    except ImportError:
        P = np.argsort(np.random.default_rng(0).random((graph.n_edge, M)), axis=1)
        have_kernels = False
    t = time.perf_counter()
    lf = lift(graph, M, perms=P)
    out["cold"] = time.perf_counter() - t
    del lf
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        lf = lift(graph, M, perms=P)
        warm.append(time.perf_counter() - t)
        del lf
    out["warm"] = min(warm) if warm else float("nan")
    if have_kernels:
        t = time.perf_counter()
        lf = lift(graph, M, seed=0)
        out["with_kernel"] = time.perf_counter() - t
        del lf
    t = time.perf_counter()
    ref = _baseline(graph, P, M)
    out["baseline"] = time.perf_counter() - t
    lf = lift(graph, M, perms=P)
    out["same"] = bool(
        np.array_equal(ref.var_edges, lf.var_edges) and np.array_equal(ref.edge_var, lf.edge_var)
    )
    if validate:
        t = time.perf_counter()
        lf.validate()
        out["validate"] = time.perf_counter() - t
    return out


# ---------------------------------------------------------------- driver
def _run(L: int, M: int, repeat: int, validate: bool) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(L), str(M), str(repeat),
           "1" if validate else "0"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"L": L, "M": M, "error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def _fmt(x) -> str:
    return "-" if x is None else f"{x:8.3f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500])
    ap.add_argument("--M", type=int, nargs="+", default=[2, 4, 8, 16])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        L, M, repeat, validate = (int(v) for v in args.worker)
        print(json.dumps(_worker(L, M, repeat, bool(validate))))
        return
    print(f"lifts.lift on L x L Ising grids (seconds; {os.cpu_count()} cores; fresh process per row)")
    head = (f"{'L':>5} {'M':>3} {'base edges':>11} {'lift edges':>11} {'sample':>8} {'cold':>8} "
            f"{'warm':>8} {'+kernel':>8} {'baseline':>8} {'speedup':>8} {'validate':>8}  same")
    print(head)
    print("-" * len(head))
    for L in args.sizes:
        for M in args.M:
            r = _run(L, M, args.repeat, not args.no_validate)
            if "error" in r:
                print(f"{L:>5} {M:>3}  error: {r['error']}")
                continue
            speed = r["baseline"] / r["warm"] if r.get("warm") else float("nan")
            print(
                f"{L:>5} {M:>3} {r['n_edge']:>11,} {r['n_edge'] * M:>11,} {_fmt(r.get('sample'))} "
                f"{_fmt(r['cold'])} {_fmt(r['warm'])} {_fmt(r.get('with_kernel'))} {_fmt(r['baseline'])} "
                f"{speed:7.1f}x {_fmt(r.get('validate'))}  {r['same']}"
            )


if __name__ == "__main__":
    main()
