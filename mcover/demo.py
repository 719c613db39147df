"""``mcover demo``: BP vs exact inference, LDPC decoding, a model vs its M-covers, routed training."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np

import fgraph
from fgraph import exact

__all__ = ["run"]


def _bp_vs_exact(L: int) -> list:
    import algorithms
    from fgraph.problems import ising_grid

    print(f"mcover demo 1/4: belief propagation vs exact inference, {L}x{L} Ising grid (J = 1, h = 0.1)\n")
    print(f"{'beta':>6} {'log Z/n exact':>14} {'log Z/n Bethe':>14} {'max|p_BP - p|':>14} {'sweeps':>7} "
          f"{'MAP ok':>7}")
    rows = []
    for beta in (0.1, 0.3, 0.4407, 0.6, 1.0):
        g = ising_grid(L, J=1.0, h=0.1, beta=beta).graph
        ex = exact.infer(g)
        bp = algorithms.run_bp(g, damping=0.3, max_iter=2000)
        err = max(float(np.max(np.abs(bp.marginals[i] - ex.marginals[i]))) for i in range(g.n_var))
        mp = algorithms.run_bp(g, mode="max", damping=0.3, max_iter=2000)
        _, best = exact.map_state(g)
        map_ok = bool(abs(g.log_score(mp.map_state) - best) < 1e-9)
        rows.append({
            "beta": beta, "log_z": float(ex.log_z), "bethe_log_z": float(bp.log_z), "max_marginal_error": err,
            "iterations": int(bp.n_iter), "converged": bool(bp.converged), "map_ok": map_ok,
        })
        print(f"{beta:6.4g} {ex.log_z / g.n_var:14.6f} {bp.log_z / g.n_var:14.6f} {err:14.2e} "
              f"{bp.n_iter:7d} {'yes' if map_ok else 'no':>7}")
    print("\nBethe is exact on trees; on the grid its short loops cost accuracy near beta_c = 0.4407 "
          "(Onsager),\nwhile deep in either phase BP is accurate and max-product finds the MAP state.")
    return rows


def _ldpc(n: int) -> list:
    import algorithms
    from fgraph.problems import ldpc, regular_ldpc

    print(f"\nmcover demo 2/4: BP decoding of a random (3,6)-regular LDPC code, n = {n}, erasure channel\n")
    print(f"{'erasure p':>10} {'erased':>8} {'left after BP':>14} {'sweeps':>7}")
    H = regular_ldpc(n, 3, 6, seed=1)
    codes = []
    for p in (0.30, 0.40, 0.45, 0.50):
        prob = ldpc(H, "bec", p=p, seed=2)
        res = algorithms.run_bp(prob.graph, max_iter=500)
        erased = int(np.sum(prob.meta["y"] < 0))
        left = int(np.sum(np.max(res.beliefs, axis=1) < 1 - 1e-9))
        codes.append({"p": p, "erased": erased, "unresolved": left, "iterations": int(res.n_iter)})
        print(f"{p:10.2f} {erased:8d} {left:14d} {res.n_iter:7d}")
    print("\nDensity evolution puts the BP threshold of (3,6) codes at p = 0.4294: below it BP recovers")
    print("every erased bit, above it decoding stalls.")
    return codes


#: Kernels of the cover part, from independent copies to full mixing.
DEMO_KERNELS = ("identity", "ring:0.8", "ring:2.0", "uniform")


def _covers(L: int, M: int, plot) -> dict:
    import lifts
    from algorithms import BPConfig, run_bp
    from fgraph.problems import ising, ising_grid

    J = 0.6
    print(f"\nmcover demo 3/4: a {L}x{L} ferromagnet (J = {J}, h = 0) against its {M}-covers\n")
    g = ising_grid(L, J=J, h=0.0).graph
    cfg = BPConfig(damping=0.3, max_iter=1000, tol=1e-9)
    print("cover messages start 'asymmetric': copy m is tilted 1 nat toward spin (+1 if m odd, else -1);")
    print("cycles are counted on the factor graph (a square of spins is an 8-cycle)\n")
    print(f"{'kernel':<16} {'8-cycles':>9} {'12-cycles':>9} {'spread':>8} {'overlap':>8} "
          f"{'|proj - base|':>14} {'log Z/copy':>11} {'sweeps':>7}")
    comps, rows = [], []
    base_8 = base_12 = None
    for k in DEMO_KERNELS:
        c = lifts.compare(g, M=M, kernel=k, seed=1, init="asymmetric", config=cfg, max_length=12)
        comps.append(c)
        d = c.to_dict()
        base_8, base_12 = c.cycles["base"][8], c.cycles["base"][12]
        rows.append({
            "kernel": d["kernel"], "cycles_8": int(c.cycles["lift"][8]),
            "cycles_12": int(c.cycles["lift"][12]), "mean_spread": d["mean_spread"],
            "overlap": d["overlap"], "distance_to_base": d["distance_to_base"],
            "log_z_per_copy": float(np.mean(c.log_z_per_copy)), "iterations": d["cover"]["iterations"],
            "converged": d["cover"]["converged"],
        })
        r = rows[-1]
        print(f"{d['kernel']:<16} {r['cycles_8']:>9d} {r['cycles_12']:>9d} {r['mean_spread']:>8.3f} "
              f"{r['overlap']:>8.3f} {r['distance_to_base']:>14.3f} {r['log_z_per_copy']:>11.4f} "
              f"{r['iterations']:>7d}")
    base_lz = comps[0].log_z_base
    print(f"{'base graph':<16} {base_8:>9d} {base_12:>9d} {'':>8} {'':>8} {'':>14} {base_lz:>11.4f} "
          f"{comps[0].base_result.n_iter:>7d}")
    print(f"\nIdentity keeps {M} separate copies ({M} x {base_8} squares): each keeps its tilt, the copies "
          "disagree\n(spread, negative overlap) and their average is the base run's paramagnet. Any "
          "mixing kernel\nwires copies into each other's loops: they agree on one magnetised state, "
          "whose Bethe log Z\nexceeds the base run's, and short cycles thin out from "
          f"{M} x {base_8} toward {base_8} (uniform).")
    # Vontobel: exact partition functions of covers approach Bethe as M grows
    n, Jr = 5, 0.9
    ring = ising(np.array([[i, (i + 1) % n] for i in range(n)]), J=Jr).graph
    lz, bethe = float(exact.log_z(ring)), float(run_bp(ring, tol=1e-13).log_z)
    print(f"\nVontobel: Ising ring of {n} spins, J = {Jr}: exact log Z = {lz:.6f}, Bethe log Z = {bethe:.6f}")
    print(f"{'M':>3} {'(1/M) log <Z(cover)>':>22} {'covers':>7} {'minus Bethe':>12}")
    vont = []
    for M_ in (1, 2, 3, 4, 5):
        r = lifts.cover_log_z(ring, M_)
        vont.append({"M": M_, "log_z": r.log_z, "n_covers": r.n_covers})
        print(f"{M_:>3} {r.log_z:>22.6f} {r.n_covers:>7d} {r.log_z - bethe:>12.6f}")
    t = math.tanh(Jr)
    print(f"The gap is (1/M) log sum_(j<=M) t^(nj), t = tanh J: it closes like "
          f"{math.log(1 / (1 - t**n)):.4f}/M (docs/theory.md §3.6).")
    out = {"L": L, "M": M, "rows": rows, "base_log_z": base_lz, "vontobel": vont,
           "ring": {"n": n, "J": Jr, "log_z": lz, "bethe_log_z": bethe}}
    if plot is not None:
        from lifts.plot import plot_comparisons

        plot_comparisons(comps, path=plot, title=f"{L}x{L} ferromagnet, J = {J}: base vs {M}-covers")
        print(f"\nfigure (cycle counts, spread between copies): {plot}")
        out["plot"] = str(plot)
    return out


def _routing(n: int, alpha: float, M: int, epochs: int) -> dict:
    """Routed binary perceptrons under three kernels, a single model, BP copies and the SE floor."""
    from algorithms.learning import Perceptron, train
    from fgraph.problems import perceptron
    from lifts import Identity, Ring, Uniform, bayes_error, bp_learn, route

    print(f"\nmcover demo 4/4: routed training of {M} binary perceptrons (clipped rule), "
          f"N = {n}, alpha = {alpha:g}, {epochs} epochs\n")
    prob = perceptron(n, alpha, seed=0)
    model = Perceptron()
    single = train(prob, model, epochs=epochs, seed=1)
    single_err = float(model.gen_errors({"h": single.params["h"][None]}, prob)[0])
    print(f"{'learner':<22} {'copy error':>11} {'ensemble':>9}")
    print(f"{'single model':<22} {single_err:>11.3f} {'':>9}")
    rows = []
    for kernel in (Identity(), Ring(1.0), Uniform()):
        run = route(prob, model, M, kernel, epochs=epochs, seed=1, n_test=4000)
        rows.append({"kernel": kernel.identify(), "copy_error": float(run.copy_gen_errors.mean()),
                     "ensemble_error": float(run.ensemble_error)})
        print(f"{'routed, ' + kernel.identify():<22} {rows[-1]['copy_error']:>11.3f} "
              f"{rows[-1]['ensemble_error']:>9.3f}")
    bp = bp_learn(prob, 2, Ring(1.0), seed=1, n_test=4000)
    floor = bayes_error(alpha)
    print(f"{'BP on the 2-cover':<22} {float(bp.copy_gen_errors.mean()):>11.3f} {bp.ensemble_error:>9.3f}")
    print(f"{'Bayes floor (SE)':<22} {floor:>11.3f}")
    ident, mixed = rows[0]["ensemble_error"], min(r["ensemble_error"] for r in rows[1:])
    verdict = ("mixing the copies beat independent ones" if mixed < ident - 0.01 else
               "mixing the copies did not beat independent ones")
    vote = "improves on" if ident < single_err - 0.01 else "does not improve on"
    print(f"\nEach copy's local rule runs on a model routed across the copies by the kernel's permutations."
          f"\nIn this one seed {verdict};\nthe vote of {M} copies {vote} a single model; "
          f"BP messages on the same construction\nreach {float(bp.copy_gen_errors.mean()):.3f} against "
          f"the floor {floor:.3f}. With error bars: examples/routing_perceptron.py.")
    return {"n": n, "alpha": alpha, "M": M, "epochs": epochs, "single_error": single_err, "rows": rows,
            "bp_error": float(bp.copy_gen_errors.mean()), "bayes_error": float(floor)}


def run(args) -> int:
    """Run the four parts of the demo; ``args`` from the ``mcover demo`` parser."""
    t0 = time.perf_counter()
    rows = _bp_vs_exact(args.size)
    codes = _ldpc(args.code_length)
    covers = _covers(args.size + 2, args.M, None if args.no_plot else args.plot)
    routing = _routing(401, 2.0, args.M, 30)
    example = _shown_path(fgraph.example_path("spinglass4x4.fg"))
    print(f"\ndone in {time.perf_counter() - t0:.1f} s.  Next, on a model of your own or an example "
          f"that ships with mcover:\n  mcover info {example}\n  mcover bp {example} --schedule sequential\n"
          f"  mcover compare {example} --M 4 --kernel ring:1.0 --init asymmetric\n"
          f"  mcover route --M 8 --kernel ring:1 --alpha 2 --n 1001 --seeds 3")
    if args.json:
        print(json.dumps({"L": args.size, "rows": rows, "ldpc": codes, "covers": covers, "routing": routing}))
    return 0


def _shown_path(path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
