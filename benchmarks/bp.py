"""Benchmark: belief propagation throughput against PGMax, NumPy and the ``ldpc`` package.

One run prints three tables (no assertions):

1. **Flooding BP on L x L Ising grids** (``--sizes``, default 100 200 1000).
   The instance is ``fgraph.problems.ising_grid(L, J="gauss", J_scale=0.5,
   h="gauss", h_scale=0.1, seed=...)``: an Edwards-Anderson spin glass with random
   fields, on which sum-product BP converges slowly (column ``last res``: the
   largest message change in the last sweep), so every sweep does real work.
   Every tool runs the same fixed number of parallel (flooding) sweeps
   (``--iters``; default 200 for L <= 200 and 50 above) from uniform messages,
   damping 0, on the same couplings, orientation and unary evidence:

   * mcover, ``ising`` rule (the closed-form pairwise fast path), 1 and 2 threads;
   * mcover, generic ``table`` rule: ``graph.to_tables()`` with
     ``fast_paths=False``, so no Ising-specific code runs: every coupling is a
     dense 2 x 2 table.  Binary tables of arity <= 2 with positive entries are
     run by the tanh engine's ratio form (:mod:`algorithms.bp.binary`: each
     table a Moebius map of the odds, decided from the tables' shapes and
     values), 1 and 2 threads.  The row "table rule, scaled engine" sets one
     entry of one table to 0 (a hard zero, which the odds form cannot take), so
     the same grid runs in the any-arity table engine (:mod:`algorithms.bp.scaled`:
     factors batched by shape, sums in scaled linear arithmetic, exact
     log-domain fallbacks); one more row with ``scaled_tables=False`` times the
     log-domain enumeration kernel;
   * PGMax 0.6.1 (CPU JAX, float32 as PGMax defaults; one more single-thread row
     with ``jax_enable_x64``, float64 like mcover): a ``PairwiseFactorGroup``
     with one log-potential matrix ``[[J, -J], [-J, J]]`` per coupling, evidence
     ``(-h, h)``, ``temperature=1.0`` (sum-product), ``bp.run`` jitted for the
     fixed number of sweeps; single-threaded (``XLA_FLAGS`` adds
     ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``) and
     with JAX's default threads.  ``--xla_cpu_use_thunk_runtime=false`` is always
     set: without it PGMax runs 16-24x slower, which would flatter mcover;
   * a vectorised NumPy implementation of the same flooding BP (log domain,
     binary pairwise Ising factors; :func:`numpy_flooding_bp` below).

   The same run repeats the mcover rows and PGMax with damping 0.5 (PGMax:
   ``damping=0.5`` in ``bp.run``; mcover: ``BPConfig(damping=0.5)``, log-domain
   mixing, done by the tanh and scaled engines with one square root per entry),
   and mcover with damping 0.3 (not dyadic: the engines' exp/log path); the
   column ``max|dp|`` of damped rows is against mcover's damped ising rule (the
   scaled-engine rows solve a slightly different model: one table has a zero).

   **Message updates per second** = ``2 * n_edge * sweeps / seconds``, where
   ``n_edge`` is the number of factor-variable edges (2 per coupling): one sweep
   updates one variable-to-factor and one factor-to-variable message per edge.
   The timed seconds are the wall time of the whole call that performs the
   sweeps (for mcover, ``run_bp`` including its final beliefs and Bethe log Z;
   for PGMax, the compiled ``bp.run``; for NumPy, the loop and the marginals).
   JIT/XLA compilation is excluded from throughput and reported separately
   (column ``first s``): each tool first runs a short warm-up on the same graph
   (mcover: 2 sweeps, including Numba's cache load or compilation; PGMax: the jit
   of a 2-sweep run plus the ahead-of-time XLA compilation of the timed
   program; NumPy: 2 sweeps).  The last column is the largest difference of any
   marginal probability from mcover's (ising rule, 1 thread) after the same
   number of sweeps.  Each configuration runs in a fresh subprocess (XLA flags
   are read at JAX import, Numba threads start once).

2. **LDPC decoding** of a (3,6)-regular code of length ``--ldpc-n`` (10^4) over
   the BSC(``--p``) for ``--frames`` frames (random codewords, independent
   noise): mcover's ``run_bp`` (parity rule, parallel schedule, a callback that
   stops as soon as the hard decision satisfies every check, ``max_iter`` = the
   cap; once more with damping 0.5 and 0.3: the tanh engine's checks are exact,
   so damped checks run there too) against ``ldpc.BpDecoder`` 2.4.1 (C++; ``bp_method='product_sum'``,
   ``schedule='parallel'``, the same cap, ``input_vector_type='received_vector'``,
   which returns the codeword estimate; it too stops as soon as the syndrome is
   matched).  The received words are the same; the decoded words are compared
   frame by frame.  The package's syndrome mode (the error pattern ``e`` for the
   syndrome ``H y``) is run as well, untimed, to check that ``y xor e`` is the
   same word.  Per frame, mcover's time includes swapping the channel evidence
   into the compiled graph (``dataclasses.replace``).  Both decoders are warmed
   up on one frame first.

3. **Start-up**: a fresh interpreter imports mcover's engine and runs BP on a
   3 x 3 grid in sum and in max mode, first with an empty Numba cache
   (``NUMBA_CACHE_DIR`` pointing at a new temporary directory: every kernel is
   compiled), then again with that (now warm) cache.

Usage::

    python benchmarks/bp.py                         # everything (about 10 minutes on 2 cores)
    python benchmarks/bp.py --sizes 100 200 --no-ldpc --no-startup
    python benchmarks/bp.py --no-pgmax --frames 10

The targets (L = 200, single thread unless said): mcover's ising fast path >=
3x PGMax's throughput, the generic table rule >= 3x (undamped) and >= 3x
PGMax damped (damping 0.5 both); the ising path damped >= 4x PGMax damped; a
damped sweep <= 1.3x an undamped one of the same path (damping 0.5 and 0.3:
ising, table, the scaled engine, and the parity checks of section 2); 2
threads >= 1.4x faster than 1; LDPC frames/s >= 1.5x ``ldpc``; warm start-up
< 2 s.  The script prints each ratio next to
its target, and the load average at the start and the end (other processes on
the machine distort every number).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XLA_BASE = "--xla_cpu_use_thunk_runtime=false"
XLA_ONE_THREAD = XLA_BASE + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
WARMUP_SWEEPS = 2


def _path():
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


# ---------------------------------------------------------------- the Ising instance
def ising_instance(L: int, seed: int, J_scale: float, h_scale: float):
    """The benchmark grid: (compiled graph, edges (E, 2), couplings (E,), unary (n, 2), checksum)."""
    _path()
    from fgraph.problems import ising_grid

    prob = ising_grid(L, J="gauss", J_scale=J_scale, h="gauss", h_scale=h_scale, seed=seed)
    g = prob.graph
    edges = np.asarray(g.edge_var).reshape(-1, 2)  # factor a joins edges[a, 0] and edges[a, 1]
    J = np.asarray(g.params[0]["J"])[np.asarray(g.fac_param)]  # beta * J of factor a
    unary = np.asarray(g.var_unary)  # (-beta h_i, +beta h_i)
    digest = hashlib.sha1()
    for arr in (edges, J, unary):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return g, edges, J, unary, digest.hexdigest()[:12]


def numpy_flooding_bp(edge_var, J, unary, n_sweeps):
    """Flooding sum-product BP on binary pairwise Ising factors, vectorised NumPy, log domain.

    Edges are factor-major as in mcover: factor ``a`` (coupling ``J[a]``, weight
    ``exp(J s_u s_v)`` with ``s = 2x - 1``) has edge ``2a`` to ``edge_var[2a]`` and
    ``2a + 1`` to ``edge_var[2a + 1]``.  One sweep: ``v2f = unary + sum of incoming
    f2v - own f2v`` (messages are finite here, so the cavity may subtract),
    normalised to log-sum-exp 0; then ``f2v(x) = LSE_y (J s(x) s(y) + v2f_other(y))``,
    normalised; the largest change of a message probability is computed as by
    the other tools.

    Parameters
    ----------
    edge_var : ndarray of int64, shape (2E,)
    J : ndarray of float64, shape (E,)
    unary : ndarray of float64, shape (n, 2)
    n_sweeps : int

    Returns
    -------
    marginals : ndarray of float64, shape (n, 2)
    residual : float
        Largest message change of the last sweep.
    """
    n = unary.shape[0]
    n_edge = edge_var.size
    Je = np.repeat(J, 2)  # coupling seen from each edge
    f2v = np.full((n_edge, 2), -np.log(2.0))
    residual = np.nan
    for _ in range(n_sweeps):
        tot = unary + np.stack(
            [np.bincount(edge_var, weights=f2v[:, 0], minlength=n),
             np.bincount(edge_var, weights=f2v[:, 1], minlength=n)], axis=1)
        v2f = tot[edge_var] - f2v
        v2f -= np.logaddexp(v2f[:, 0], v2f[:, 1])[:, None]
        src = v2f.reshape(-1, 2, 2)[:, ::-1, :].reshape(n_edge, 2)  # the other endpoint's message
        out0 = np.logaddexp(Je + src[:, 0], -Je + src[:, 1])
        out1 = np.logaddexp(-Je + src[:, 0], Je + src[:, 1])
        z = np.logaddexp(out0, out1)
        new = np.stack([out0 - z, out1 - z], axis=1)
        residual = float(np.max(np.abs(np.exp(new) - np.exp(f2v))))
        f2v = new
    tot = unary + np.stack(
        [np.bincount(edge_var, weights=f2v[:, 0], minlength=n),
         np.bincount(edge_var, weights=f2v[:, 1], minlength=n)], axis=1)
    tot -= np.logaddexp(tot[:, 0], tot[:, 1])[:, None]
    return np.exp(tot), residual


# ---------------------------------------------------------------- workers (each in a fresh process)
def _worker_mcover(a: dict) -> dict:
    _path()
    from algorithms import BPConfig, run_bp

    g, _, _, _, digest = ising_instance(a["L"], a["seed"], a["J_scale"], a["h_scale"])
    fast = a["rule"] == "ising"
    if not fast:
        g = g.to_tables()
    if a["rule"] == "table_zero":  # one hard zero: the odds form cannot run it, the scaled engine does
        g = with_zero_entry(g)
    cfg = BPConfig(tol=1e-300, max_iter=a["iters"], n_threads=a["threads"], fast_paths=fast,
                   scaled_tables=a["rule"] != "table_log", damping=a.get("damping", 0.0))
    t0 = time.perf_counter()
    run_bp(g, cfg, max_iter=WARMUP_SWEEPS)
    first = time.perf_counter() - t0
    best, r = np.inf, None
    for _ in range(a["repeat"]):
        t0 = time.perf_counter()
        r = run_bp(g, cfg)
        best = min(best, time.perf_counter() - t0)
    np.save(a["out"], r.beliefs)
    return {"n_edge": g.n_edge, "first": first, "run": best, "sweeps": r.n_iter,
            "residual": float(r.residuals[-1]), "dtype": "float64", "checksum": digest, "engine": r.engine}


def with_zero_entry(tables):
    """``tables`` (one block of dense tables) with entry (0, 1) of factor 0's table set to 0."""
    import dataclasses

    from fgraph.factors import freeze_params

    logp = np.array(tables.params[0]["logp"])
    logp[int(tables.params[0]["ptr"][int(tables.fac_param[0])]) + 1] = -np.inf
    params = freeze_params({"ptr": tables.params[0]["ptr"], "logp": logp})
    return dataclasses.replace(tables, params=(params,))


def _worker_numpy(a: dict) -> dict:
    g, _, J, unary, digest = ising_instance(a["L"], a["seed"], a["J_scale"], a["h_scale"])
    edge_var = np.asarray(g.edge_var)
    t0 = time.perf_counter()
    numpy_flooding_bp(edge_var, J, unary, WARMUP_SWEEPS)
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(a["repeat"]):
        t0 = time.perf_counter()
        marg, res = numpy_flooding_bp(edge_var, J, unary, a["iters"])
        best = min(best, time.perf_counter() - t0)
    np.save(a["out"], marg)
    return {"n_edge": g.n_edge, "first": first, "run": best, "sweeps": a["iters"], "residual": res,
            "dtype": "float64", "checksum": digest}


def _worker_pgmax(a: dict) -> dict:
    os.environ["XLA_FLAGS"] = XLA_ONE_THREAD if a["threads"] == 1 else XLA_BASE  # before jax loads
    import functools

    import jax

    if a.get("x64"):
        jax.config.update("jax_enable_x64", True)
    from pgmax import fgraph, fgroup, infer, vgroup

    g, edges, J, unary, digest = ising_instance(a["L"], a["seed"], a["J_scale"], a["h_scale"])
    n = unary.shape[0]
    t0 = time.perf_counter()
    variables = vgroup.NDVarArray(num_states=2, shape=(n,))
    fg = fgraph.FactorGraph(variable_groups=variables)
    pairs = [[variables[int(u)], variables[int(v)]] for u, v in edges]  # same orientation as mcover
    # log psi(x_u, x_v) = J s_u s_v: [[J, -J], [-J, J]] indexed by (x_u, x_v)
    mats = J[:, None, None] * np.array([[1.0, -1.0], [-1.0, 1.0]])[None]
    fg.add_factors(fgroup.PairwiseFactorGroup(variables_for_factors=pairs, log_potential_matrix=mats))
    bp = infer.BP(fg.bp_state, temperature=1.0)
    arrays = bp.init(evidence_updates={variables: unary})
    args = (arrays.log_potentials, arrays.ftov_msgs, arrays.evidence)
    jax.block_until_ready(args)
    build = time.perf_counter() - t0

    def sweeps(k, log_potentials, ftov_msgs, evidence):
        out = bp.run(infer.BPArrays(log_potentials=log_potentials, ftov_msgs=ftov_msgs, evidence=evidence),
                     num_iters=k, damping=a.get("damping", 0.0), temperature=1.0)
        return out.ftov_msgs

    t0 = time.perf_counter()
    jax.block_until_ready(jax.jit(functools.partial(sweeps, WARMUP_SWEEPS))(*args))
    timed = jax.jit(functools.partial(sweeps, a["iters"])).lower(*args).compile()
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(a["repeat"]):
        t0 = time.perf_counter()
        msgs = jax.block_until_ready(timed(*args))
        best = min(best, time.perf_counter() - t0)
    final = infer.BPArrays(log_potentials=args[0], ftov_msgs=msgs, evidence=args[2])
    marg = np.asarray(infer.get_marginals(bp.get_beliefs(final))[variables])
    np.save(a["out"], marg)
    return {"n_edge": 2 * len(pairs), "first": first, "run": best, "sweeps": a["iters"], "build": build,
            "dtype": str(marg.dtype), "checksum": digest}


def _worker_ldpc(a: dict) -> dict:
    _path()
    import dataclasses

    import ldpc as ldpc_pkg
    import scipy.sparse as sp

    from algorithms import BPConfig, run_bp
    from fgraph.problems import ldpc, regular_ldpc

    H = regular_ldpc(a["n"], 3, 6, seed=a["seed"])
    frames = [ldpc(H, "bsc", p=a["p"], seed=a["seed"] + 1 + f) for f in range(a["frames"])]
    base = frames[0].graph
    n_edge = base.n_edge
    cap = a["cap"]

    def check(progress):  # stop as soon as the hard decision satisfies every check
        return not np.any(H @ progress.hard_decision() % 2)

    def mcover_decode(unary, threads, damping=0.0):
        graph = dataclasses.replace(base, var_unary=unary)
        cfg = BPConfig(tol=1e-300, max_iter=cap, n_threads=threads, damping=damping)
        r = run_bp(graph, cfg, callback=check)
        return np.argmax(r.beliefs, axis=1), r.n_iter, r.engine

    dec = ldpc_pkg.BpDecoder(pcm=sp.csr_matrix(H), error_rate=a["p"], max_iter=cap, bp_method="product_sum",
                             schedule="parallel", input_vector_type="received_vector")
    ys = [np.asarray(fr.meta["y"], dtype=np.uint8) for fr in frames]
    unaries = [fr.graph.var_unary for fr in frames]
    out = {"n": a["n"], "m": H.shape[0], "n_edge": n_edge, "frames": a["frames"],
           "flipped": float(np.mean([fr.meta["n_flipped"] for fr in frames]))}

    t0 = time.perf_counter()
    dec.decode(ys[0])
    out["ldpc_first"] = time.perf_counter() - t0
    words, iters = [], 0
    t0 = time.perf_counter()
    for y in ys:
        words.append(dec.decode(y))
        iters += dec.iter
    out["ldpc"] = {"seconds": time.perf_counter() - t0, "iters": iters,
                   "correct": sum(bool(np.array_equal(w, fr.truth)) for w, fr in zip(words, frames))}
    ldpc_words = words
    syn = ldpc_pkg.BpDecoder(pcm=sp.csr_matrix(H), error_rate=a["p"], max_iter=cap, bp_method="product_sum",
                             schedule="parallel", input_vector_type="syndrome")
    out["ldpc"]["syndrome_same"] = sum(
        bool(np.array_equal(y ^ syn.decode((H @ y % 2).astype(np.uint8)), w)) for y, w in zip(ys, words))

    for threads, damping, key in ((1, 0.0, "mcover1"), (2, 0.0, "mcover2"), (1, 0.5, "mcover1_damped"),
                                  (1, 0.3, "mcover1_damped03")):
        t0 = time.perf_counter()
        mcover_decode(unaries[0], threads, damping)
        first = time.perf_counter() - t0
        words, iters = [], 0
        t0 = time.perf_counter()
        for u in unaries:
            w, k, engine = mcover_decode(u, threads, damping)
            words.append(w)
            iters += k
        secs = time.perf_counter() - t0
        out[key] = {
            "seconds": secs, "iters": iters, "first": first, "engine": engine,
            "correct": sum(bool(np.array_equal(w, fr.truth)) for w, fr in zip(words, frames)),
            "identical": sum(bool(np.array_equal(w, lw)) for w, lw in zip(words, ldpc_words)),
        }
    return out


_STARTUP = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from algorithms import run_bp
from fgraph.problems import ising_grid
t1 = time.perf_counter()
g = ising_grid(3, J=0.5, h=0.1).graph
run_bp(g, mode="sum", max_iter=10)
t2 = time.perf_counter()
run_bp(g, mode="max", max_iter=10)
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "sum": t2 - t1, "max": t3 - t2, "total": t3 - t0}}))
"""


def _run(cmd, env=None, timeout=None) -> dict:
    """Run a worker; return its JSON line or {'error': text}."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout (> {timeout:g} s)"}
    if out.returncode != 0:
        err = out.stderr.strip().splitlines() or ["failed"]
        if any("No module named" in line for line in err):
            return {"error": "not installed: " + next(x for x in err if "No module named" in x).split()[-1]}
        return {"error": "failed: " + err[-1][:100]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _worker(kind: str, args: dict, timeout: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--worker-args", json.dumps(args)]
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    return _run(cmd, env=env, timeout=timeout)


# ---------------------------------------------------------------- printing helpers
def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def _versions() -> str:
    from importlib import metadata

    parts = [f"python {platform.python_version()}"]
    for name in ("numpy", "numba", "jax", "pgmax", "ldpc"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def _ratio_line(label: str, num, den, target: float, at_most: bool = False) -> str:
    """``num / den`` against a target: at least ``target``, or at most when ``at_most``."""
    if num is None or den is None:
        return f"  {label:<52} n/a"
    r = num / den
    ok = r <= target if at_most else r >= target
    sign = "<=" if at_most else ">="
    return f"  {label:<52} {r:6.2f}x   (target {sign} {target:g}x: {'met' if ok else 'MISSED'})"


# ---------------------------------------------------------------- 1. Ising grids
CONFIGS = [  # (label, worker kind, extra args); "damping" absent means 0
    ("mcover ising rule (fast path)", "mcover", {"rule": "ising", "threads": 1}),
    ("mcover ising rule (fast path)", "mcover", {"rule": "ising", "threads": 2}),
    ("mcover generic table rule", "mcover", {"rule": "table", "threads": 1}),
    ("mcover generic table rule", "mcover", {"rule": "table", "threads": 2}),
    ("mcover table rule, log kernel", "mcover", {"rule": "table_log", "threads": 1}),
    ("table rule, scaled engine", "mcover", {"rule": "table_zero", "threads": 1}),
    ("PGMax 0.6.1", "pgmax", {"threads": 1}),
    ("PGMax 0.6.1", "pgmax", {"threads": "default"}),
    ("PGMax 0.6.1, jax_enable_x64", "pgmax", {"threads": 1, "x64": True}),
    ("NumPy (vectorised)", "numpy", {"threads": 1}),
    ("mcover ising rule, damping 0.5", "mcover", {"rule": "ising", "threads": 1, "damping": 0.5}),
    ("mcover ising rule, damping 0.5", "mcover", {"rule": "ising", "threads": 2, "damping": 0.5}),
    ("mcover ising rule, damping 0.3", "mcover", {"rule": "ising", "threads": 1, "damping": 0.3}),
    ("mcover table rule, damping 0.5", "mcover", {"rule": "table", "threads": 1, "damping": 0.5}),
    ("mcover table rule, damping 0.5", "mcover", {"rule": "table", "threads": 2, "damping": 0.5}),
    ("mcover table rule, damping 0.3", "mcover", {"rule": "table", "threads": 1, "damping": 0.3}),
    ("table rule, scaled, damping 0.5", "mcover", {"rule": "table_zero", "threads": 1, "damping": 0.5}),
    ("table rule, scaled, damping 0.3", "mcover", {"rule": "table_zero", "threads": 1, "damping": 0.3}),
    ("PGMax 0.6.1, damping 0.5", "pgmax", {"threads": 1, "damping": 0.5}),
    ("PGMax 0.6.1, damping 0.5", "pgmax", {"threads": "default", "damping": 0.5}),
]


def ising_section(args, tmp) -> None:
    print("\n== 1. Flooding BP on L x L Ising grids ==")
    print("message updates/s = 2 * n_edge * sweeps / seconds; n_edge = factor-variable edges (2 per "
          "coupling): each sweep updates one v2f and one f2v message per edge")
    print(f"instance: ising_grid(L, J ~ N(0, {args.J_scale:g}^2), h ~ N(0, {args.h_scale:g}^2), beta = 1, "
          f"open boundaries, seed = {args.seed}); uniform initial messages, damping 0, tol 1e-300 "
          "(all sweeps run)")
    print("first s = warm-up (JIT/XLA compilation or cache load + 2 sweeps; PGMax: + AOT compile of the "
          "timed program), not in the throughput; max|dp| = largest marginal difference from the reference")
    head = (f"{'tool':<31} {'threads':>7} {'dtype':>7} {'sweeps':>6} {'last res':>8} {'first s':>8} "
            f"{'run s':>8} {'M msg/s':>8} {'max|dp|':>9}")
    for L in args.sizes:
        iters = args.iters or (200 if L <= 200 else 50)
        repeat = args.repeat or (3 if L <= 200 else 1)
        print(f"\nL = {L}: {L * L} variables, {2 * L * (L - 1)} couplings, n_edge = {4 * L * (L - 1)}, "
              f"{iters} sweeps, best of {repeat} timed run(s); {_load()}")
        print(head)
        print("-" * len(head))
        ref, rates, digests, refd = None, {}, set(), None
        for label, kind, extra in CONFIGS:
            if kind == "pgmax" and args.no_pgmax:
                continue
            out = os.path.join(tmp, f"marg-{kind}-{L}-{len(rates)}.npy")
            wargs = {"L": L, "seed": args.seed, "J_scale": args.J_scale, "h_scale": args.h_scale,
                     "iters": iters, "repeat": repeat, "out": out, **extra}
            res = _worker(kind, wargs, timeout=args.timeout)
            thr = str(extra["threads"])
            if "error" in res:
                print(f"{label:<31} {thr:>7} {res['error']}", flush=True)
                continue
            digests.add(res["checksum"])
            marg = np.load(out)
            rate = 2 * res["n_edge"] * res["sweeps"] / res["run"] / 1e6
            damping = extra.get("damping", 0.0)
            rates[(kind, extra.get("rule"), extra["threads"], extra.get("x64", False), damping)] = rate
            if damping == 0.5 and refd is None:  # damped runs: against mcover's damped ising 1 thread
                refd, diff = marg, "ref"
            elif damping == 0.0 and ref is None:
                ref, diff = marg, "ref"
            elif damping in (0.0, 0.5):
                diff = f"{np.max(np.abs(marg.astype(np.float64) - (ref if damping == 0.0 else refd))):.1e}"
            else:
                diff = "-"
            extra_note = f"   (PGMax build + init {res['build']:.1f} s)" if "build" in res else ""
            if res.get("engine") not in (None, "tanh", "scaled", "rules"):
                extra_note += f"   engine {res['engine']}"
            if kind == "mcover" and res.get("engine") == "rules" and extra["rule"] != "table_log":
                extra_note += "   (ran the log-domain engine!)"
            last = f"{res['residual']:.1e}" if "residual" in res else "-"
            print(f"{label:<31} {thr:>7} {res['dtype']:>7} {res['sweeps']:>6} {last:>8} {res['first']:>8.2f} "
                  f"{res['run']:>8.3f} {rate:>8.1f} {diff:>9}{extra_note}", flush=True)
        if len(digests) > 1:
            print(f"WARNING: the workers built different instances (checksums {sorted(digests)})")
        _print_ratios(L, rates)


def _print_ratios(L, rates) -> None:
    def rate(kind, rule, threads, damping=0.0, x64=False):
        return rates.get((kind, rule, threads, x64, damping))

    mc1, mc2 = rate("mcover", "ising", 1), rate("mcover", "ising", 2)
    tb1, tb2 = rate("mcover", "table", 1), rate("mcover", "table", 2)
    pg1, pgd, pg64 = rate("pgmax", None, 1), rate("pgmax", None, "default"), rate("pgmax", None, 1, x64=True)
    npy = rate("numpy", None, 1)
    mcd1, mcd2 = rate("mcover", "ising", 1, 0.5), rate("mcover", "ising", 2, 0.5)
    tbd1, tbd2 = rate("mcover", "table", 1, 0.5), rate("mcover", "table", 2, 0.5)
    mcg1, tbg1 = rate("mcover", "ising", 1, 0.3), rate("mcover", "table", 1, 0.3)
    pgd1, pgdd = rate("pgmax", None, 1, 0.5), rate("pgmax", None, "default", 0.5)
    tag = " (the targets apply at L = 200)" if L == 200 else ""
    print(f"ratios at L = {L}{tag}:")
    print(_ratio_line("mcover ising 1 thread / PGMax 1 thread", mc1, pg1, 3.0))
    print(_ratio_line("mcover table 1 thread / PGMax 1 thread", tb1, pg1, 3.0))
    print(_ratio_line("mcover ising 2 threads / 1 thread", mc2, mc1, 1.4))
    print(_ratio_line("mcover table 2 threads / 1 thread", tb2, tb1, 1.4))
    print("damping 0.5 (sweep-time ratios: damped / undamped of the same path, lower is better):")
    print(_ratio_line("ising damped / undamped sweep time, 1 thread", mc1, mcd1, 1.3, at_most=True))
    print(_ratio_line("table damped / undamped sweep time, 1 thread", tb1, tbd1, 1.3, at_most=True))
    print(_ratio_line("mcover ising damped 1 thread / PGMax damped 1 thread", mcd1, pgd1, 4.0))
    print(_ratio_line("mcover table damped 1 thread / PGMax damped 1 thread", tbd1, pgd1, 3.0))
    sc1, scd1, scg1 = (rate("mcover", "table_zero", 1, d) for d in (0.0, 0.5, 0.3))
    print("damping 0.3 (not dyadic: exp/log), damped / undamped sweep time of the same path, 1 thread:")
    print(_ratio_line("ising damping 0.3 / undamped sweep time", mc1, mcg1, 1.3, at_most=True))
    print(_ratio_line("table damping 0.3 / undamped sweep time", tb1, tbg1, 1.3, at_most=True))
    print("the scaled engine (the same grid with one zero entry: the odds form cannot run it), 1 thread:")
    print(_ratio_line("scaled damping 0.5 / undamped sweep time", sc1, scd1, 1.3, at_most=True))
    print(_ratio_line("scaled damping 0.3 / undamped sweep time", sc1, scg1, 1.3, at_most=True))
    tlog = rate("mcover", "table_log", 1)
    for label, num, den in (("mcover ising 2 threads / PGMax default threads", mc2, pgd),
                            ("mcover table 2 threads / PGMax default threads", tb2, pgd),
                            ("mcover table 1 thread / its log-domain kernel", tb1, tlog),
                            ("mcover ising 1 thread / PGMax float64 1 thread", mc1, pg64),
                            ("mcover ising 1 thread / NumPy", mc1, npy),
                            ("PGMax damped / undamped sweep time, 1 thread", pg1, pgd1),
                            ("mcover ising damped 2 threads / PGMax damped default", mcd2, pgdd),
                            ("mcover table damped 2 threads / PGMax damped default", tbd2, pgdd),
                            ("mcover table, scaled engine 1 thread / PGMax 1 thread", sc1, pg1),
                            ("mcover table, scaled damped 1 thread / PGMax damped 1", scd1, pgd1),
                            ("mcover table 1 thread / its scaled engine", tb1, sc1)):
        if num is not None and den is not None:
            print(f"  {label:<52} {num / den:6.2f}x")


# ---------------------------------------------------------------- 2. LDPC
def ldpc_section(args) -> None:
    print("\n== 2. LDPC decoding: (3,6)-regular code over the BSC, mcover vs ldpc (C++) ==")
    wargs = {"n": args.ldpc_n, "p": args.p, "frames": args.frames, "cap": args.cap, "seed": args.seed}
    res = _worker("ldpc", wargs, timeout=args.timeout)
    if "error" in res:
        print(f"ldpc comparison: {res['error']}")
        return
    print(f"n = {res['n']}, m = {res['m']}, n_edge = {res['n_edge']}, p = {args.p:g} "
          f"({res['flipped']:.0f} flipped bits per frame on average), {res['frames']} frames, "
          f"iteration cap {args.cap}, parallel schedule, early stop on a zero syndrome; {_load()}")
    head = (f"{'decoder':<34} {'threads':>7} {'first s':>8} {'frames/s':>9} {'iters':>6} "
            f"{'M msg/s':>8} {'correct':>8} {'same as ldpc':>13}")
    print(head)
    print("-" * len(head))
    rows = [("ldpc 2.4.1 BpDecoder product_sum", 1, res["ldpc"], res["ldpc_first"])]
    for t in (1, 2):
        rows.append(("mcover run_bp (parity rule)", t, res[f"mcover{t}"], res[f"mcover{t}"]["first"]))
    for key, d in (("mcover1_damped", 0.5), ("mcover1_damped03", 0.3)):
        if key in res:
            rows.append((f"mcover parity rule, damping {d:g}", 1, res[key], res[key]["first"]))
    fps = {}
    F = res["frames"]
    for label, thr, r, first in rows:
        fps[(label, thr)] = F / r["seconds"]
        rate = 2 * res["n_edge"] * r["iters"] / r["seconds"] / 1e6
        same = f"{r['identical']}/{F}" if "identical" in r else "-"
        note = f"   engine {r['engine']}" if "engine" in r else ""
        print(f"{label:<34} {thr:>7} {first:>8.3f} {F / r['seconds']:>9.1f} {r['iters']:>6} {rate:>8.1f} "
              f"{r['correct']:>5}/{F:<2} {same:>13}{note}")
    lp = fps[rows[0][0], 1]
    print(f"ldpc's syndrome mode (y xor e) gives the received-vector mode's word in "
          f"{res['ldpc']['syndrome_same']}/{F} frames")
    print("ratios:")
    print(_ratio_line("mcover 1 thread / ldpc (frames/s)", fps[rows[1][0], 1], lp, 1.5))
    print(_ratio_line("mcover 2 threads / ldpc (frames/s)", fps[rows[2][0], 2], lp, 1.5))
    und = res["mcover1"]
    per_und = und["seconds"] / max(und["iters"], 1)
    for key, d in (("mcover1_damped", 0.5), ("mcover1_damped03", 0.3)):
        dmp = res.get(key)
        if dmp is not None:
            per_dmp = dmp["seconds"] / max(dmp["iters"], 1)
            print(_ratio_line(f"parity damping {d:g} / undamped sweep time, 1 thread", per_dmp, per_und, 1.3,
                              at_most=True))


# ---------------------------------------------------------------- 3. start-up
def startup_section(args) -> None:
    print("\n== 3. Start-up: fresh interpreter, import + BP on a 3 x 3 grid (sum, then max mode) ==")
    cache = tempfile.mkdtemp(prefix="mcover-numba-cache-")
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = cache
    env.pop("NUMBA_DISABLE_JIT", None)
    head = (f"{'Numba cache':<12} {'import s':>9} {'sum run s':>10} {'max run s':>10} {'in-process s':>13} "
            f"{'process s':>10}")
    print(head)
    print("-" * len(head))
    try:
        for label in ("cold (empty)", "warm"):
            t0 = time.perf_counter()
            res = _run([sys.executable, "-c", _STARTUP.format(root=ROOT)], env=env, timeout=args.timeout)
            wall = time.perf_counter() - t0
            if "error" in res:
                print(f"{label:<12} {res['error']}")
                continue
            print(f"{label:<12} {res['import']:>9.2f} {res['sum']:>10.2f} {res['max']:>10.3f} "
                  f"{res['total']:>13.2f} {wall:>10.2f}")
            if label == "warm":
                verdict = "met" if res["total"] < 2.0 else "MISSED"
                print(f"warm start (import + both runs, in-process) {res['total']:.2f} s: target < 2 s: "
                      f"{verdict} (the process column adds interpreter start-up)")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


# ---------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 1000], help="grid sides L")
    ap.add_argument("--iters", type=int, default=None,
                    help="sweeps for every size (default 200 for L <= 200, 50 above)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs per configuration, best kept (default 3 for L <= 200, 1 above)")
    ap.add_argument("--J-scale", type=float, default=0.5, help="coupling std (default 0.5)")
    ap.add_argument("--h-scale", type=float, default=0.1, help="field std (default 0.1)")
    ap.add_argument("--seed", type=int, default=2024, help="instance seed (default 2024)")
    ap.add_argument("--no-pgmax", action="store_true", help="skip PGMax")
    ap.add_argument("--no-ising", action="store_true", help="skip section 1")
    ap.add_argument("--no-ldpc", action="store_true", help="skip section 2")
    ap.add_argument("--no-startup", action="store_true", help="skip section 3")
    ap.add_argument("--ldpc-n", type=int, default=10_000, help="code length (default 10^4)")
    ap.add_argument("--p", type=float, default=0.06, help="BSC crossover probability (default 0.06)")
    ap.add_argument("--frames", type=int, default=30, help="frames to decode (default 30)")
    ap.add_argument("--cap", type=int, default=100, help="iteration cap of both decoders (default 100)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per worker process (default 3600)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-args", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        fn = {"mcover": _worker_mcover, "numpy": _worker_numpy, "pgmax": _worker_pgmax,
              "ldpc": _worker_ldpc}[args.worker]
        print(json.dumps(fn(json.loads(args.worker_args))))
        return

    print("mcover BP benchmark (benchmarks/bp.py)")
    print(f"{_versions()}; {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    print(f"XLA_FLAGS for PGMax: {XLA_BASE!r} (+ single thread: {XLA_ONE_THREAD[len(XLA_BASE) + 1:]!r})")
    print(f"start: {_load()}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mcover-bench-") as tmp:
        if not args.no_ising:
            ising_section(args, tmp)
    if not args.no_ldpc:
        ldpc_section(args)
    if not args.no_startup:
        startup_section(args)
    print(f"\nend: {_load()}; total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
