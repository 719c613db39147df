"""Benchmark: girth and short-cycle counts of factor graphs, mcover (lifts.cycles) vs networkx.

Graphs (the bipartite factor graph: variables + factors, one edge per factor-variable edge):

* **LDPC**: random (3, 6)-regular codes from ``fgraph.problems.regular_ldpc`` (n bits,
  n / 2 checks, 3 n edges); n = 33336 gives 100008 edges;
* **grid**: ``fgraph.problems.ising_grid(L)`` (L^2 spins, 2 L (L - 1) couplings, twice as
  many edges); L = 158 gives 49612 couplings and 99224 edges.

Tasks, each timed as the best of ``--repeat`` runs after a warm-up on a small graph (so
that Numba's compilation or cache loading is not counted; it is printed once):

* ``girth``: ``lifts.cycles.girth`` vs ``networkx.girth`` (BFS from every node);
* ``cycles<=8``: the numbers of 4-, 6- and 8-cycles, ``lifts.cycles.count_cycles(g, 8)``
  vs ``networkx.simple_cycles(G, length_bound=8)`` counted by length (networkx >= 3.1);
* ``local_girth``: ``lifts.cycles.local_girth`` (no networkx counterpart; shown for scale).

networkx runs on the same graph (``Wiring.to_networkx``) and is skipped when the time
extrapolated from the previous size of the family (quadratic in the number of edges, as
measured) exceeds ``--nx-budget`` seconds.  The ``agree`` column compares the results.

Usage::

    python benchmarks/cycles.py                     # default sizes, networkx budget 60 s
    python benchmarks/cycles.py --ldpc 600 33336 --grid 20 158 --nx-budget 10

The script prints a table and makes no assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import networkx as nx  # noqa: E402
import numba  # noqa: E402

from fgraph import FactorGraph, problems  # noqa: E402
from lifts.cycles import count_cycles, girth, local_girth  # noqa: E402


def ldpc_graph(n: int, seed: int = 0):
    H = problems.regular_ldpc(n, 3, 6, seed=seed)
    g = FactorGraph()
    g.add_variables(H.shape[1])
    g.add_parity_checks(H)
    return g.compile()


def best_of(fn, fn_args: tuple, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*fn_args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def nx_counts(G, max_length: int) -> dict:
    c = Counter(len(cyc) for cyc in nx.simple_cycles(G, length_bound=max_length))
    return {k: c.get(k, 0) for k in range(4, max_length + 1, 2)}


def fmt_t(t) -> str:
    return "-" if t is None else f"{t:.3g}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ldpc", type=int, nargs="*", default=[300, 600, 1200, 33336], help="code lengths n")
    ap.add_argument("--grid", type=int, nargs="*", default=[10, 20, 40, 158], help="grid sides L")
    ap.add_argument("--max-length", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--nx-budget", type=float, default=60.0, help="skip networkx runs predicted above (s)")
    args = ap.parse_args(argv)
    L = args.max_length

    t0 = time.perf_counter()
    small = ldpc_graph(60)
    girth(small), count_cycles(small, L), local_girth(small)
    print(f"Numba threads: {numba.get_num_threads()}; kernel compile/cache load: "
          f"{time.perf_counter() - t0:.2f} s (not counted below)")
    print(f"networkx {nx.__version__}; times are seconds, best of {args.repeat} (networkx: 1 run)\n")

    head = (f"{'graph':<14}{'nodes':>8}{'edges':>8}  {'task':<12}{'mcover':>9}{'networkx':>10}{'ratio':>9}"
            "  agree  result")
    print(head)
    print("-" * len(head))
    families = [("ldpc", n, lambda n=n: ldpc_graph(n)) for n in args.ldpc]
    families += [("grid", Lg, lambda Lg=Lg: problems.ising_grid(Lg).graph) for Lg in args.grid]
    prev: dict = {}  # (family, task) -> (edges, networkx seconds)
    for fam, size, build in families:
        cg = build()
        G = cg.wiring.to_networkx()
        name = f"{fam} {size}"
        E = cg.n_edge
        tasks = [
            ("girth", girth, (cg,), nx.girth, (G,)),
            (f"cycles<={L}", count_cycles, (cg, L), nx_counts, (G, L)),
            ("local_girth", local_girth, (cg,), None, ()),
        ]
        for task, ours, a_ours, theirs, a_nx in tasks:
            t_ours, r_ours = best_of(ours, a_ours, args.repeat)
            t_nx, agree = None, ""
            if theirs is not None:
                pe = prev.get((fam, task))
                predicted = 0.0 if pe is None else pe[1] * (E / pe[0]) ** 2
                if predicted <= args.nx_budget:
                    t_nx, r_nx = best_of(theirs, a_nx, 1)
                    prev[(fam, task)] = (E, t_nx)
                    agree = "yes" if r_nx == r_ours else f"NO: {r_nx}"
                else:
                    agree = f"networkx skipped (~{predicted:.0f} s predicted)"
                shown = r_ours
            else:
                agree = f"min = girth: {r_ours.min() == girth(cg)}"
                shown = f"max {r_ours.max()}"
            ratio = "-" if t_nx is None else f"{t_nx / t_ours:.0f}x"
            print(f"{name:<14}{G.number_of_nodes():>8}{E:>8}  {task:<12}{fmt_t(t_ours):>9}{fmt_t(t_nx):>10}"
                  f"{ratio:>9}  {agree}  {shown}")
    print("\nratio = networkx time / mcover time on the same graph.")


if __name__ == "__main__":
    main()
