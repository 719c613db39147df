"""Benchmark: the cost of permutation routing against training single models.

Rows (median of ``--repeat`` timed epochs, each from a fresh copy of the same start, in
paired rounds so that machine drift hits every row alike):

* **perceptron, plain NumPy loop**: one epoch of the clipped perceptron written as the obvious
  Python loop over examples with NumPy dot products (the reference for the single-model kernel);
* **perceptron, single model**: one epoch of ``Perceptron().epoch`` (the Numba kernel) at M = 1;
* **perceptron, routed M**: one routed epoch of M copies, per-weight routing along ``Ring(1)``
  (the table drawn once, as in a static cover), against M single-model epochs;
* **MLP, single model / routed M per neuron**: one epoch of minibatch SGD on the 8x8 digits
  (or the synthetic teacher data when scikit-learn is absent), single model and M routed copies.

Targets: a routed perceptron epoch at M = 8 (N = 1001, P = 2002) costs at most 2x eight
single-model epochs; a per-neuron routed MLP epoch at most 1.3x M single-model epochs.
The first-call compile time of the perceptron kernel is measured in a fresh process with an
empty Numba cache.

Usage::

    python benchmarks/routing.py                  # N = 1001, alpha = 2, M = 8
    python benchmarks/routing.py --M 4 16 --repeat 9

The script prints a table and makes no assertions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from algorithms.learning import Perceptron, Route, data_of  # noqa: E402
from fgraph.problems import perceptron  # noqa: E402
from lifts import Ring  # noqa: E402
from lifts.routing import routing_dtype  # noqa: E402


def numpy_epoch(h, X, y, order, eta=1.0):
    """The clipped perceptron (kappa = 0) as a plain Python loop with NumPy dot products."""
    for f in order:
        x = X[f]
        w = np.where(h >= 0, 1.0, -1.0)
        if y[f] * (w @ x) <= 0:
            h += eta * y[f] * x


def timed(fn, prepare, repeat):
    """Median seconds of ``fn(state)`` over ``repeat`` runs, each on ``prepare()``'s fresh state."""
    ts = []
    for _ in range(repeat):
        state = prepare()
        t = time.perf_counter()
        fn(state)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def perceptron_rows(n, alpha, Ms, repeat, rounds):
    prob = perceptron(n, alpha, seed=0, graph=False)
    X, y = data_of(prob)
    model = Perceptron()
    data = model.prepare(X, y)
    rng = np.random.default_rng(1)
    order = rng.permutation(X.shape[0])
    Mmax = max(Ms)
    h0 = 0.1 * rng.standard_normal((Mmax, n))
    routes = {}
    for M in Ms:
        unit_of, n_units = model.units("weight", n)
        table = Ring(1.0).sample(X.shape[0] * n_units, M, 2).astype(routing_dtype(M))
        routes[M] = Route(table.reshape(X.shape[0], n_units, M), {"h": unit_of["h"]})
    gen = np.random.default_rng(3)

    def single(p):
        model.epoch(p, {}, data, order, None, gen)

    def routed(M):
        return lambda p: model.epoch(p, {}, data, order, routes[M], gen)

    single({"h": h0[:1].copy()})  # compile outside the timings
    for M in Ms:
        routed(M)({"h": h0[:M].copy()})
    res = {"numpy": [], "single": [], **{M: [] for M in Ms}}
    for _ in range(rounds):
        res["numpy"].append(timed(lambda h: numpy_epoch(h, X, y, order), lambda: h0[0].copy(), 1))
        res["single"].append(timed(single, lambda: {"h": h0[:1].copy()}, repeat))
        for M in Ms:
            res[M].append(timed(routed(M), lambda M=M: {"h": h0[:M].copy()}, repeat))
    return {k: float(np.median(v)) for k, v in res.items()}


def mlp_rows(Ms, repeat, rounds):
    try:
        from algorithms.learning import MLP, digits_or_teacher
    except ImportError:
        return None
    d = digits_or_teacher(seed=0)
    model = MLP(hidden=64, n_classes=10)
    rng = np.random.default_rng(0)
    data = model.prepare(d.X_train, d.y_train, rng)
    n_in = d.X_train.shape[1]
    n_fac = model.n_factors(data)
    order = rng.permutation(n_fac)
    inits = [model.init(n_in, rng) for _ in range(max(Ms))]

    def stacked(M):
        params = {k: np.stack([o[k] for o in inits[:M]]) for k in inits[0]}
        return params, model.new_state(params)

    routes = {}
    for M in Ms:
        unit_of, n_units = model.units("neuron", n_in)
        table = Ring(1.0).sample(n_fac * n_units, M, 2).astype(routing_dtype(M))
        routes[M] = Route(table.reshape(n_fac, n_units, M),
                          {k: np.ascontiguousarray(v).ravel() for k, v in unit_of.items()})
    gen = np.random.default_rng(3)
    res = {"single": [], **{M: [] for M in Ms}}
    for _ in range(rounds):
        res["single"].append(timed(lambda ps: model.epoch(ps[0], ps[1], data, order, None, gen),
                                   lambda: stacked(1), repeat))
        for M in Ms:
            res[M].append(timed(lambda ps, M=M: model.epoch(ps[0], ps[1], data, order, routes[M], gen),
                                lambda M=M: stacked(M), repeat))
    return {k: float(np.median(v)) for k, v in res.items()}, d.source


def compile_seconds():
    """First call of the perceptron kernels in a fresh process with an empty Numba cache."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import numpy as np\n"
        "from algorithms.learning import Perceptron, Route\n"
        "t1 = time.perf_counter()\n"
        "m = Perceptron(); X = np.ones((3, 4)) / 2; y = np.ones(3)\n"
        "d = m.prepare(X, y); o = np.arange(3)\n"
        "m.epoch({'h': np.zeros((1, 4))}, {}, d, o, None, np.random.default_rng(0))\n"
        "t2 = time.perf_counter()\n"
        "r = Route(np.zeros((3, 4, 2), np.uint8), {'h': np.arange(4)})\n"
        "m.epoch({'h': np.zeros((2, 4))}, {}, d, o, r, np.random.default_rng(0))\n"
        "t3 = time.perf_counter()\n"
        "print(t1 - t0, t3 - t1)\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             cwd=ROOT, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1001, help="perceptron weights N (default 1001)")
    ap.add_argument("--alpha", type=float, default=2.0, help="examples per weight (default 2: P = 2002)")
    ap.add_argument("--M", type=int, nargs="+", default=[8], help="copies (default 8)")
    ap.add_argument("--repeat", type=int, default=5, help="timed epochs per row and round (default 5)")
    ap.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3)")
    args = ap.parse_args(argv)

    imp, comp = compile_seconds()
    print(f"perceptron kernels, cold Numba cache: import {imp:.2f} s, "
          f"first single + routed call {comp:.2f} s")
    pr = perceptron_rows(args.n, args.alpha, args.M, args.repeat, args.rounds)
    P = int(round(args.alpha * args.n))
    print(f"\nbinary perceptron, clipped rule, N = {args.n}, P = {P}, per-weight routing along Ring(1)")
    print(f"{'row':<34}{'ms/epoch':>10}{'ratio':>10}  {'ratio means'}")
    print(f"{'plain NumPy loop, 1 model':<34}{1e3 * pr['numpy']:>10.2f}{pr['numpy'] / pr['single']:>10.1f}"
          "  NumPy / Numba single model")
    print(f"{'Numba kernel, 1 model':<34}{1e3 * pr['single']:>10.2f}{1.0:>10.2f}")
    for M in args.M:
        r = pr[M] / (M * pr["single"])
        print(f"{f'routed, M = {M}':<34}{1e3 * pr[M]:>10.2f}{r:>10.2f}  routed / ({M} x single); target <= 2")
    ml = mlp_rows(args.M, args.repeat, args.rounds)
    if ml is None:
        print("\nMLP: algorithms.learning.MLP is not available; skipped")
        return
    mr, source = ml
    print(f"\nMLP (hidden 64, batch 32) on {source}, per-neuron routing along Ring(1)")
    print(f"{'row':<34}{'ms/epoch':>10}{'ratio':>10}")
    print(f"{'single model':<34}{1e3 * mr['single']:>10.2f}{1.0:>10.2f}")
    for M in args.M:
        r = mr[M] / (M * mr["single"])
        print(f"{f'routed, M = {M}':<34}{1e3 * mr[M]:>10.2f}{r:>10.2f}"
              f"  routed / ({M} x single); target <= 1.3")


if __name__ == "__main__":
    main()
