"""Benchmark: build + compile an L x L Ising grid in mcover and in PGMax.

For each side ``L`` the script times, each in a fresh Python subprocess (so that
imports and earlier runs do not count, and memory starts cold for both):

* **mcover**: ``fgraph.problems.ising_grid(L, J, h)`` -- edge arrays, one batched
  ``add_ising``, one ``add_field``, ``compile()`` -- and, separately,
  ``CompiledGraph.validate()`` on the result;
* **PGMax** (0.6.1): the same model built the PGMax way -- a
  ``vgroup.NDVarArray(num_states=2, shape=(L, L))``, a ``fgraph.FactorGraph``,
  the couplings as one ``fgroup.PairwiseFactorGroup`` with log-potential matrix
  ``[[J, -J], [-J, J]]`` -- then its compilation: ``fg.bp_state`` (offsets,
  flat log-potentials and the per-type wiring, ``fg.fg_state.wiring``),
  ``infer.BP(bp_state)`` (the inferer context that concatenates the wiring)
  and ``bp.init(evidence_updates=...)`` with the unary evidence ``(-h, h)``,
  i.e. everything before the first BP iteration, which is what mcover's
  ``compile()`` produces.

PGMax runs with ``XLA_FLAGS=--xla_cpu_use_thunk_runtime=false`` and is warmed up
on a 3 x 3 grid first (JAX start-up is not counted; compiling XLA code for the
new array shapes is, as it is part of PGMax's cost for every new model).  A PGMax run is
skipped when the time extrapolated from the previous size (quadratic in L)
exceeds ``--pgmax-timeout``, and killed when it actually exceeds it.

Usage::

    python benchmarks/build.py                      # L = 100, 300, 1000
    python benchmarks/build.py --sizes 100 200 --no-pgmax

The script prints a table and makes no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

XLA_FLAGS = "--xla_cpu_use_thunk_runtime=false"


# ---------------------------------------------------------------- workers (run in a subprocess)
def _worker_mcover(L: int, J: float, h: float) -> dict:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from fgraph.problems import ising_grid

    t0 = time.perf_counter()
    p = ising_grid(L, J=J, h=h)
    t1 = time.perf_counter()
    p.graph.validate()
    t2 = time.perf_counter()
    return {"n_var": p.graph.n_var, "n_fac": p.graph.n_fac, "total": t1 - t0, "validate": t2 - t1}


def _pgmax_grid(L: int, J: float, h: float) -> dict:
    """Build and compile the grid in PGMax; return the timings."""
    import jax
    import numpy as np
    from pgmax import fgraph, fgroup, infer, vgroup

    t0 = time.perf_counter()
    variables = vgroup.NDVarArray(num_states=2, shape=(L, L))
    fg = fgraph.FactorGraph(variable_groups=variables)
    pairs = []
    for r in range(L):  # same edges and order as mcover's grid_edges: horizontal, then vertical
        for c in range(L - 1):
            pairs.append([variables[r, c], variables[r, c + 1]])
    for r in range(L - 1):
        for c in range(L):
            pairs.append([variables[r, c], variables[r + 1, c]])
    group = fgroup.PairwiseFactorGroup(
        variables_for_factors=pairs,
        log_potential_matrix=J * np.array([[1.0, -1.0], [-1.0, 1.0]]),
    )
    fg.add_factors(group)
    t1 = time.perf_counter()
    bp = infer.BP(fg.bp_state, temperature=1.0)  # fg_state: offsets, flat potentials, wiring
    evidence = np.broadcast_to(np.array([-h, h]), (L, L, 2)).copy()
    arrays = bp.init(evidence_updates={variables: evidence})
    jax.block_until_ready((arrays.log_potentials, arrays.ftov_msgs, arrays.evidence))
    t2 = time.perf_counter()
    return {"n_var": L * L, "n_fac": len(pairs), "build": t1 - t0, "compile": t2 - t1, "total": t2 - t0}


def _worker_pgmax(L: int, J: float, h: float) -> dict:
    os.environ["XLA_FLAGS"] = XLA_FLAGS  # before jax is imported
    # Warm up outside the timing: JAX backend start-up and PGMax's one-time tracing machinery.
    _pgmax_grid(3, J, h)
    return _pgmax_grid(L, J, h)


def _run_worker(lib: str, L: int, J: float, h: float, timeout: float) -> dict:
    """Run one measurement in a fresh interpreter; return its dict or {'error': text}."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, "--L", str(L)]
    cmd += ["--J", repr(J), "--h", repr(h)]
    env = dict(os.environ)
    env["XLA_FLAGS"] = XLA_FLAGS
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"> {timeout:g} s (timeout)"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        if "No module named 'pgmax'" in out.stderr or "No module named 'jax'" in out.stderr:
            return {"error": "not installed"}
        return {"error": f"failed: {last[:60]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _pgmax_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("pgmax") is not None and importlib.util.find_spec("jax") is not None


# ---------------------------------------------------------------- the table
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000], help="grid sides L")
    ap.add_argument("--J", type=float, default=1.0, help="coupling (default 1.0)")
    ap.add_argument("--h", type=float, default=0.1, help="field (default 0.1)")
    ap.add_argument("--no-pgmax", action="store_true", help="time mcover only")
    ap.add_argument(
        "--pgmax-timeout", type=float, default=300.0,
        help="seconds per PGMax run, interpreter start-up included (default 300)",
    )
    ap.add_argument("--worker", choices=["mcover", "pgmax"], help=argparse.SUPPRESS)
    ap.add_argument("--L", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        fn = _worker_mcover if args.worker == "mcover" else _worker_pgmax
        print(json.dumps(fn(args.L, args.J, args.h)))
        return

    use_pgmax = not args.no_pgmax
    pgmax_note = None
    if use_pgmax and not _pgmax_available():
        use_pgmax, pgmax_note = False, "not installed"
    elif not use_pgmax:
        pgmax_note = "skipped"

    print(f"build + compile of ising_grid(L, J={args.J:g}, h={args.h:g}); each run in a fresh process")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; XLA_FLAGS={XLA_FLAGS} for PGMax")
    head = (
        f"{'L':>6} {'n_var':>10} {'n_fac':>10} {'mcover s':>9} {'validate s':>10} "
        f"{'PGMax s':>22} {'(build + compile)':>20} {'PGMax/mcover':>12}"
    )
    print(head)
    print("-" * len(head))
    last = None  # (L, PGMax seconds) of the previous size, for extrapolation
    for L in args.sizes:
        mc = _run_worker("mcover", L, args.J, args.h, timeout=max(args.pgmax_timeout, 600.0))
        if "error" in mc:
            print(f"{L:>6} mcover {mc['error']}")
            continue
        pg_text, split, ratio = pgmax_note or "", "", ""
        if use_pgmax:
            est = None if last is None else last[1] * (L / last[0]) ** 2
            if est is not None and est > args.pgmax_timeout:
                pg_text = f"skipped (est. {est:.0f} s)"
            else:
                pg = _run_worker("pgmax", L, args.J, args.h, timeout=args.pgmax_timeout)
                if "error" in pg:
                    pg_text = pg["error"]
                else:
                    pg_text = f"{pg['total']:.3f}"
                    split = f"{pg['build']:.2f} + {pg['compile']:.2f}"
                    ratio = f"{pg['total'] / mc['total']:.1f}x"
                    last = (L, pg["total"])
        print(
            f"{L:>6} {mc['n_var']:>10} {mc['n_fac']:>10} {mc['total']:>9.3f} {mc['validate']:>10.3f} "
            f"{pg_text:>22} {split:>20} {ratio:>12}",
            flush=True,
        )


if __name__ == "__main__":
    main()
