"""Routed committee machines: copy and ensemble errors under per-weight and per-neuron routing.

A teacher committee machine (K binary hidden units, K = 3 by default or ``--K 5``, N
inputs each, majority-vote output; P = alpha N Gaussian examples, so alpha counts
examples per *input*, i.e. alpha / K per weight) is learned by M student copies with the
least-action rule (docs/theory.md §7.4) through permutation routing along a kernel Q:
Identity (independent copies), Ring(width) and Uniform.  Two routing units are compared
(§7.5): *per weight* (every h_ki moves between copies on its own, so a routed model mixes
the hidden units of several copies inside one unit) and *per neuron* (a hidden unit's
whole weight vector moves, so routed models are assembled from whole units of different
copies, whose hidden units are labelled independently).

For every (alpha, M, kernel, granularity), over seeds (paired: every setting of one seed
shares the problem, the first copy's start and the visiting order), it reports the mean
copy error and the majority-vote ensemble error on a fresh teacher test set (there is no
closed form for K > 1, §7.6), and the error of freshly routed models, with standard errors.
With M = 1 the kernel and the unit do not matter (invariant 1 of §7.3).

Run:  python examples/routing_committee.py [--out DIR] [--small] [--K 5] [--seeds 10]

The full mode (N = 201, alpha in {1, 2, 4, 8}, M in {1, 4, 8}, six kernels, two units,
10 seeds) takes about seven minutes with a progress counter on stderr; ``--small`` (N = 61,
two alphas, M in {1, 4}, three kernels, two seeds) runs in seconds.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.learning import Committee, mean_sem
from fgraph.problems import committee
from lifts import Identity, Ring, Uniform, route
from mcover.progress import Progress

FULL = {"N": 201, "alphas": (1.0, 2.0, 4.0, 8.0), "Ms": (1, 4, 8), "seeds": 10, "epochs": 50,
        "widths": (0.5, 1.0, 2.0, 4.0), "n_test": 10_000}
SMALL = {"N": 61, "alphas": (2.0, 4.0), "Ms": (1, 4), "seeds": 2, "epochs": 15,
         "widths": (1.0,), "n_test": 2000}
GRANULARITIES = ("weight", "neuron")

HEADER = (f"{'alpha':>5} {'M':>3} {'kernel':<9} {'unit':<7} {'copy err':>15} {'ensemble err':>15} "
          f"{'routed err':>15} {'d ens vs id':>15}")


def kernel_list(widths) -> list:
    """(name, kernel) pairs: Identity, Ring(width) for each width, Uniform."""
    return [("identity", Identity())] + [(f"ring:{w:g}", Ring(w)) for w in widths] + [("uniform", Uniform())]


def problem_of(N: int, alpha: float, K: int, seed: int):
    """The teacher committee problem of one seed (no factor graph: it is only usable for tiny N)."""
    return committee(N, alpha, K, seed=10_000 * seed + int(round(100 * alpha)), graph=False)


def study(cfg: dict, model, seeds, kernels, epochs: int) -> dict:
    """Errors float64 (n_alpha, n_M, n_kernel, n_granularity, n_seed) for copy, ensemble, routed."""
    A, Ms = cfg["alphas"], cfg["Ms"]
    shape = (len(A), len(Ms), len(kernels), len(GRANULARITIES), len(seeds))
    err = {k: np.full(shape, np.nan) for k in ("copy", "ensemble", "routed")}
    bar = Progress(int(np.prod(shape)), "routing_committee")
    for s_i, s in enumerate(seeds):
        for a_i, alpha in enumerate(A):
            prob = problem_of(cfg["N"], alpha, model.K, s)
            for m_i, M in enumerate(Ms):
                for k_i, (name, kern) in enumerate(kernels):
                    for g_i, gran in enumerate(GRANULARITIES):
                        run = route(prob, model, M, kern, epochs=epochs, seed=s, granularity=gran,
                                    n_test=cfg["n_test"])
                        i = (a_i, m_i, k_i, g_i, s_i)
                        err["copy"][i] = run.copy_gen_errors.mean()
                        err["ensemble"][i] = run.ensemble_error
                        err["routed"][i] = run.routed_error
                        bar.tick(note=f"alpha={alpha:g} M={M} {name} {gran}")
    return err


def summarize(cfg, err, kernels) -> list:
    """One row per (alpha, M, kernel, unit) with means, standard errors and the paired ensemble gain."""
    cm, cs = mean_sem(err["copy"])
    em, es = mean_sem(err["ensemble"])
    rm, rs = mean_sem(err["routed"])
    dem, des = mean_sem(err["ensemble"] - err["ensemble"][:, :, :1])  # kernel 0 is Identity
    rows = []
    for a_i, alpha in enumerate(cfg["alphas"]):
        for m_i, M in enumerate(cfg["Ms"]):
            for k_i, (name, _) in enumerate(kernels):
                for g_i, gran in enumerate(GRANULARITIES):
                    i = (a_i, m_i, k_i, g_i)
                    rows.append({"alpha": alpha, "M": M, "kernel": name, "granularity": gran,
                                 "copy_error": float(cm[i]), "copy_se": float(cs[i]),
                                 "ensemble_error": float(em[i]), "ensemble_se": float(es[i]),
                                 "routed_error": float(rm[i]), "routed_se": float(rs[i]),
                                 "d_ensemble": float(dem[i]), "d_ensemble_se": float(des[i])})
    return rows


def format_table(rows) -> str:
    pm = "{:.4f}+-{:.4f}".format
    lines = [HEADER]
    for r in rows:
        ens = pm(r["ensemble_error"], r["ensemble_se"])
        lines.append(f"{r['alpha']:5g} {r['M']:3d} {r['kernel']:<9} {r['granularity']:<7} "
                     f"{pm(r['copy_error'], r['copy_se']):>15} {ens:>15} "
                     f"{pm(r['routed_error'], r['routed_se']):>15} "
                     f"{r['d_ensemble']:+.4f}+-{r['d_ensemble_se']:.4f}")
    return "\n".join(lines)


def _figure(path, cfg, rows, kernels, K):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, _ in kernels]
    get = {(r["alpha"], r["M"], r["kernel"], r["granularity"]): r for r in rows}
    Mmax = max(cfg["Ms"])
    alpha_ref = cfg["alphas"][-1]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    for col, gran in enumerate(GRANULARITIES):
        ax = axes[0, col]
        for j, name in enumerate(names):
            rr = [get[(a, Mmax, name, gran)] for a in cfg["alphas"]]
            ax.errorbar(cfg["alphas"], [r["copy_error"] for r in rr], yerr=[r["copy_se"] for r in rr],
                        fmt="o-", c=f"C{j}", ms=3, capsize=2, label=f"copies, {name}")
            ax.errorbar(cfg["alphas"], [r["ensemble_error"] for r in rr], yerr=[r["ensemble_se"] for r in rr],
                        fmt="s--", c=f"C{j}", ms=3, capsize=2, label=f"ensemble, {name}")
        r1 = [get[(a, 1, names[0], gran)] for a in cfg["alphas"]]
        ax.errorbar(cfg["alphas"], [r["copy_error"] for r in r1], yerr=[r["copy_se"] for r in r1],
                    fmt="k:", capsize=2, label="M=1")
        ax.set_xlabel(r"$\alpha = P/N$ (per input)")
        ax.set_ylabel("test error")
        ax.set_title(f"per-{gran} routing, M={Mmax} (K={K}, N={cfg['N']})")
        ax.legend(fontsize=6, ncol=2)
    x = np.arange(len(names))
    for col, key in enumerate(("copy", "ensemble")):
        ax = axes[1, col]
        for M in cfg["Ms"]:
            for gran, ls in zip(GRANULARITIES, ("o-", "s--")):
                rr = [get[(alpha_ref, M, n, gran)] for n in names]
                ax.errorbar(x, [r[f"{key}_error"] for r in rr], yerr=[r[f"{key}_se"] for r in rr], fmt=ls,
                            capsize=2, label=f"M={M}, per {gran}")
        ax.set_xticks(x, names, rotation=30, fontsize=8)
        ax.set_title(f"{key} error vs kernel at alpha={alpha_ref:g}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(out: Path, small: bool = False, K: int = 3, seeds=None, epochs=None, N=None) -> dict:
    """Run the study, print the table, save the figure; return the results."""
    cfg = dict(SMALL if small else FULL)
    if N is not None:
        cfg["N"] = int(N)
    seeds = list(range(cfg["seeds"] if seeds is None else int(seeds)))
    epochs = cfg["epochs"] if epochs is None else int(epochs)
    kernels = kernel_list(cfg["widths"])
    model = Committee(K)
    print(f"Routed committee machines: K={K}, N={cfg['N']} inputs, epochs={epochs}, {len(seeds)} seeds; "
          f"test errors on {cfg['n_test']} fresh teacher examples, mean+-standard error over seeds; "
          f"d = paired difference to the Identity kernel")
    err = study(cfg, model, seeds, kernels, epochs)
    rows = summarize(cfg, err, kernels)
    table = format_table(rows)
    print(table)
    path = Path(out) / "routing_committee.png"
    _figure(path, cfg, rows, kernels, K)
    print(f"\nfigure: {path}")
    return {"figure": path, "rows": rows, "errors": err, "alphas": list(cfg["alphas"]), "Ms": list(cfg["Ms"]),
            "kernels": [n for n, _ in kernels], "granularities": list(GRANULARITIES), "seeds": seeds,
            "epochs": epochs, "N": cfg["N"], "K": K, "table": table}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--small", action="store_true", help="the seconds-long mode (what the tests run)")
    ap.add_argument("--K", type=int, default=3, choices=(3, 5), help="hidden units")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10; --small 2)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default 50; --small 15)")
    ap.add_argument("--N", type=int, default=None, help="inputs per hidden unit (default 201; --small 61)")
    a = ap.parse_args()
    main(a.out, small=a.small, K=a.K, seeds=a.seeds, epochs=a.epochs, N=a.N)
