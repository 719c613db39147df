"""Generalization of routed binary perceptrons: does mixing the copies along a kernel help?

A teacher-student binary perceptron (N weights, P = alpha N Gaussian examples, sign
labels of a random +-1 teacher) is learned by M copies of a student trained with the
clipped perceptron rule (or SBPI, ``--rule sbpi``) through permutation routing
(docs/theory.md §7.1-7.4): at every example, routed model m takes weight i from copy
pi_{mu,i}(m), drawn once for the run from a kernel Q -- Identity (M independent copies),
Ring(width) of growing width, and Uniform (the uniform random cover).  With one copy
the kernel does not matter (invariant 1 of §7.3), so the M = 1 rows of all kernels
coincide; with the Identity kernel the copies are M independent single runs.

For every (alpha, M, kernel) and over seeds (one problem and one run per seed; all
kernels and M share the problem, the first copy's start and the visiting order, so
differences between kernels are paired) it reports

* the mean generalization error of the copies (exact: arccos(R)/pi, §7.6),
* the error of their majority vote (the ensemble) on a fresh teacher test set,
* the error of freshly routed models (new permutations from the kernel),
* the paired difference of the first two to the Identity kernel (same seed),

each with its standard error over seeds, next to the Bayes-optimal error from state
evolution (§6.5-6.7; 0 above alpha_IT ~ 1.245) as the floor, and the expected number
of short cycles (4 and 6; K_{P,N} has girth 4) per copy of the routed training graph
under each kernel: N_k tr((P P^T)^{k/2}) / M with the kernel's marginal P (§5.5-5.7),
from M N_k / M = N_k (Identity) down to N_k / M (Uniform).  If ``lifts.bp_learner`` is
available, a small panel compares BP copies on the same covers (§7.8) with the
rule's copies and the floor.

Run:  python examples/routing_perceptron.py [--out DIR] [--small] [--rule sbpi]
          [--seeds 10] [--epochs 50] [--N 1001]

The full mode (N = 1001, alpha in {0.5, 1, 1.5, 2, 3}, M in {1, 4, 8, 16}, six
kernels, 10 seeds) takes about 15-20 minutes on two cores and shows a progress
counter on stderr; ``--small`` (N = 101, two alphas, M in {1, 4}, three kernels, two
seeds) runs in seconds.
"""

import argparse
import math
from pathlib import Path

import numpy as np

from algorithms.amp.state_evolution import alpha_it, run_se
from algorithms.denoisers import BinaryPrior, SignChannel
from algorithms.learning import Perceptron, mean_sem, split_rng, train
from fgraph.problems import perceptron
from lifts import Identity, Ring, Uniform, route
from mcover.progress import Progress

FULL = {"N": 1001, "alphas": (0.5, 1.0, 1.5, 2.0, 3.0), "Ms": (1, 4, 8, 16), "seeds": 10, "epochs": 50,
        "widths": (0.5, 1.0, 2.0, 4.0), "n_test": 10_000,
        "bp": {"N": 301, "alphas": (0.5, 1.0, 2.0), "M": 4, "seeds": 2}}
SMALL = {"N": 101, "alphas": (1.0, 2.0), "Ms": (1, 4), "seeds": 2, "epochs": 20,
         "widths": (1.0,), "n_test": 2000,
         "bp": {"N": 61, "alphas": (1.0, 2.0), "M": 2, "seeds": 1}}

HEADER = (f"{'alpha':>5} {'M':>3} {'kernel':<9} {'copy err':>15} {'ensemble err':>15} {'routed err':>15} "
          f"{'d copy vs id':>15} {'d ens vs id':>15} {'E[C4]/copy':>10} {'E[C6]/copy':>10}")


# ----------------------------------------------------------------------------- pieces
def kernel_list(widths) -> list:
    """(name, kernel) pairs: Identity, Ring(width) for each width, Uniform."""
    return [("identity", Identity())] + [(f"ring:{w:g}", Ring(w)) for w in widths] + [("uniform", Uniform())]


def problem_of(N: int, alpha: float, seed: int):
    """The teacher-student problem of one seed (shared by every M and kernel at this alpha)."""
    return perceptron(N, alpha, seed=10_000 * seed + int(round(100 * alpha)))


_ALPHA_IT = None


def se_floor(alpha: float) -> float:
    """Bayes-optimal generalization error of the binary perceptron at this alpha (N -> infinity).

    State evolution from an uninformative overlap gives arccos(sqrt q)/pi at its fixed
    point; above alpha_IT ~ 1.245 the Bayes-optimal (information-theoretic) error is 0
    even where that fixed point is not yet perfect (up to alpha_alg ~ 1.493).
    """
    global _ALPHA_IT
    if _ALPHA_IT is None:
        _ALPHA_IT = alpha_it()
    if alpha > _ALPHA_IT:
        return 0.0
    return float(run_se(BinaryPrior(), SignChannel(), alpha).gen_error[-1])


def base_cycles_KPN(P: int, N: int, k: int) -> int:
    """N_k of the complete bipartite graph K_{P,N}: C(P, l) C(N, l) l! (l-1)! / 2 with k = 2l (§5.7)."""
    ell = k // 2
    return math.comb(P, ell) * math.comb(N, ell) * math.factorial(ell) * math.factorial(ell - 1) // 2


def expected_cycles_per_copy(P: int, N: int, M: int, kernel, k: int) -> float:
    """Expected k-cycles per copy of an M-cover of K_{P,N} drawn from ``kernel``.

    N_k tr((Pbar Pbar^T)^{k/2}) / M with the kernel's exact marginal Pbar (§5.5-5.6;
    exact for k < 2 girth = 8, i.e. k = 4 and 6): the same expectation
    ``lifts.lift_cycle_table(..., P=Pbar)`` reports as ``expected_kernel``, from the
    closed form of N_k instead of enumerating the ~1e12 base cycles.
    """
    Pb = np.asarray(kernel.P(M), dtype=float)
    tr = float(np.trace(np.linalg.matrix_power(Pb @ Pb.T, k // 2)))
    return base_cycles_KPN(P, N, k) * tr / M


def independent_copy_errors(prob, model, M: int, epochs: int, seed: int) -> np.ndarray:
    """Generalization errors of M single models trained alone from the starts ``route`` gives its copies.

    ``route`` draws copy m's start as the m-th draw of the seed's init stream; copy m of
    an Identity-routed run is then ``train(..., init=that start, seed=seed)`` (§7.3).
    """
    init_rng = split_rng(seed)[0]
    starts = [model.init(prob.F.shape[1], init_rng) for _ in range(M)]
    out = []
    for s in starts:
        r = train(prob, model, epochs=epochs, seed=seed, init=s)
        out.append(model.gen_errors({"h": r.params["h"][None]}, prob)[0])
    return np.asarray(out)


# ----------------------------------------------------------------------------- the study
def study(cfg: dict, model, seeds, kernels, epochs: int) -> dict:
    """Copy, ensemble and routed errors, float64 (n_alpha, n_M, n_kernel, n_seed)."""
    A, Ms = cfg["alphas"], cfg["Ms"]
    shape = (len(A), len(Ms), len(kernels), len(seeds))
    err = {k: np.full(shape, np.nan) for k in ("copy", "ensemble", "routed")}
    bar = Progress(int(np.prod(shape)), "routing_perceptron")
    for s_i, s in enumerate(seeds):
        for a_i, alpha in enumerate(A):
            prob = problem_of(cfg["N"], alpha, s)
            for m_i, M in enumerate(Ms):
                for k_i, (name, kern) in enumerate(kernels):
                    run = route(prob, model, M, kern, epochs=epochs, seed=s, n_test=cfg["n_test"])
                    err["copy"][a_i, m_i, k_i, s_i] = run.copy_gen_errors.mean()
                    err["ensemble"][a_i, m_i, k_i, s_i] = run.ensemble_error
                    err["routed"][a_i, m_i, k_i, s_i] = run.routed_error
                    bar.tick(note=f"alpha={alpha:g} M={M} {name}")
    return err


def bp_comparison(bcfg: dict, model, epochs: int, kernels) -> list | None:
    """BP copies on the cover (lifts.bp_learner) against the rule's copies on the same cover and the floor."""
    try:
        from lifts.bp_learner import bp_learn
    except ImportError:
        return None
    rows = []
    M = bcfg["M"]
    bar = Progress(len(bcfg["alphas"]) * len(kernels) * bcfg["seeds"], "BP learner")
    for alpha in bcfg["alphas"]:
        for name, kern in kernels:
            bp_c, bp_e, sg_c, sg_e = [], [], [], []
            for s in range(bcfg["seeds"]):
                prob = problem_of(bcfg["N"], alpha, s)
                b = bp_learn(prob, M, kern, seed=s, n_test=2000)
                r = route(prob, model, M, kern, epochs=epochs, seed=s, n_test=2000)
                bp_c.append(b.copy_gen_errors.mean())
                bp_e.append(b.ensemble_error)
                sg_c.append(r.copy_gen_errors.mean())
                sg_e.append(r.ensemble_error)
                bar.tick(note=f"alpha={alpha:g} {name}")
            rows.append({"alpha": alpha, "kernel": name, "M": M, "N": bcfg["N"],
                         "bp_copy": float(np.mean(bp_c)), "bp_ensemble": float(np.mean(bp_e)),
                         "rule_copy": float(np.mean(sg_c)), "rule_ensemble": float(np.mean(sg_e)),
                         "floor": se_floor(alpha)})
    return rows


def summarize(cfg, err, kernels) -> list:
    """One row per (alpha, M, kernel): means, standard errors, paired differences to Identity, cycles."""
    rows = []
    cm, cs = mean_sem(err["copy"])
    em, es = mean_sem(err["ensemble"])
    rm, rs = mean_sem(err["routed"])
    dcm, dcs = mean_sem(err["copy"] - err["copy"][:, :, :1])  # kernel 0 is Identity
    dem, des = mean_sem(err["ensemble"] - err["ensemble"][:, :, :1])
    for a_i, alpha in enumerate(cfg["alphas"]):
        P = int(round(alpha * cfg["N"]))
        for m_i, M in enumerate(cfg["Ms"]):
            for k_i, (name, kern) in enumerate(kernels):
                i = (a_i, m_i, k_i)
                rows.append({
                    "alpha": alpha, "M": M, "kernel": name,
                    "copy_error": float(cm[i]), "copy_se": float(cs[i]),
                    "ensemble_error": float(em[i]), "ensemble_se": float(es[i]),
                    "routed_error": float(rm[i]), "routed_se": float(rs[i]),
                    "d_copy": float(dcm[i]), "d_copy_se": float(dcs[i]),
                    "d_ensemble": float(dem[i]), "d_ensemble_se": float(des[i]),
                    "cycles4_per_copy": expected_cycles_per_copy(P, cfg["N"], M, kern, 4),
                    "cycles6_per_copy": expected_cycles_per_copy(P, cfg["N"], M, kern, 6),
                })
    return rows


def format_table(rows, floors, alphas) -> str:
    lines = [HEADER]
    pm = "{:.4f}+-{:.4f}".format
    for r in rows:
        lines.append(
            f"{r['alpha']:5g} {r['M']:3d} {r['kernel']:<9} {pm(r['copy_error'], r['copy_se']):>15} "
            f"{pm(r['ensemble_error'], r['ensemble_se']):>15} {pm(r['routed_error'], r['routed_se']):>15} "
            f"{r['d_copy']:+.4f}+-{r['d_copy_se']:.4f} {r['d_ensemble']:+.4f}+-{r['d_ensemble_se']:.4f} "
            f"{r['cycles4_per_copy']:10.3e} {r['cycles6_per_copy']:10.3e}")
    lines.append("")
    lines.append("Bayes-optimal floor (state evolution): "
                 + ", ".join(f"alpha={a:g}: {f:.4f}" for a, f in zip(alphas, floors)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figure
def _figure(path, cfg, rows, floors, bp_rows, kernels, alpha_ref):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, _ in kernels]
    Mmax = max(cfg["Ms"])
    get = {(r["alpha"], r["M"], r["kernel"]): r for r in rows}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = (("copy", "mean copy error"), ("ensemble", "ensemble error"))
    for ax, (key, title) in zip(axes[0, :2], panels):
        for j, name in enumerate(names):
            rr = [get[(a, Mmax, name)] for a in cfg["alphas"]]
            ax.errorbar(np.array(cfg["alphas"]) + 0.01 * (j - len(names) / 2),
                        [r[f"{key}_error"] for r in rr], yerr=[r[f"{key}_se"] for r in rr],
                        fmt="o-", ms=3, capsize=2, label=f"{name}, M={Mmax}")
        r1 = [get[(a, 1, names[0])] for a in cfg["alphas"]]
        ax.errorbar(cfg["alphas"], [r[f"{key}_error"] for r in r1], yerr=[r[f"{key}_se"] for r in r1],
                    fmt="k--", capsize=2, label="M=1 (any kernel)")
        ax.plot(cfg["alphas"], floors, "k:", lw=2, label="Bayes-optimal (SE)")
        ax.set_xlabel(r"$\alpha = P/N$")
        ax.set_ylabel("generalization error")
        ax.set_title(f"{title} vs alpha (N={cfg['N']})")
        ax.legend(fontsize=7)
    x = np.arange(len(names))
    for ax, (key, title) in zip(axes[1, :2], panels):
        for M in cfg["Ms"]:
            rr = [get[(alpha_ref, M, n)] for n in names]
            ax.errorbar(x, [r[f"{key}_error"] for r in rr], yerr=[r[f"{key}_se"] for r in rr],
                        fmt="o-", capsize=2, label=f"M={M}")
        ax.axhline(floors[list(cfg["alphas"]).index(alpha_ref)], c="k", ls=":", label="Bayes-optimal")
        ax.set_xticks(x, names, rotation=30, fontsize=8)
        ax.set_xlabel("kernel (ring width growing to the right)")
        ax.set_title(f"{title} vs kernel at alpha={alpha_ref:g}")
        ax.legend(fontsize=7)
    ax = axes[1, 2]
    P = int(round(alpha_ref * cfg["N"]))
    for M in cfg["Ms"]:
        for k, ls in ((4, "o-"), (6, "s--")):
            Nk = base_cycles_KPN(P, cfg["N"], k)
            rr = [get[(alpha_ref, M, n)][f"cycles{k}_per_copy"] / Nk for n in names]
            ax.semilogy(x, rr, ls, label=f"M={M}, k={k}")
    ax.set_xticks(x, names, rotation=30, fontsize=8)
    ax.set_ylabel(r"E[k-cycles per copy] / $N_k$ of $K_{P,N}$")
    ax.set_title("short cycles per copy of the routed graph")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 2]
    if bp_rows:
        bal = sorted({r["alpha"] for r in bp_rows})
        for j, name in enumerate(dict.fromkeys(r["kernel"] for r in bp_rows)):
            rr = [r for r in bp_rows if r["kernel"] == name]
            ax.plot([r["alpha"] for r in rr], [r["bp_copy"] for r in rr], "o-", c=f"C{j}", label=f"BP {name}")
            ax.plot([r["alpha"] for r in rr], [r["rule_copy"] for r in rr], "x--", c=f"C{j}",
                    label=f"rule {name}")
        ax.plot(bal, [se_floor(a) for a in bal], "k:", lw=2, label="Bayes-optimal")
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel("mean copy error")
        ax.set_title(f"BP copies vs rule copies (N={bp_rows[0]['N']}, M={bp_rows[0]['M']})")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "lifts.bp_learner not available", ha="center", va="center")
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(out: Path, small: bool = False, rule: str = "clipped", seeds=None, epochs=None, N=None,
         bp: bool = True) -> dict:
    """Run the study and the BP comparison, print the tables, save the figure; return the results."""
    cfg = dict(SMALL if small else FULL)
    if N is not None:
        cfg["N"] = int(N)
    seeds = list(range(cfg["seeds"] if seeds is None else int(seeds)))
    epochs = cfg["epochs"] if epochs is None else int(epochs)
    kernels = kernel_list(cfg["widths"])
    model = Perceptron(rule=rule)
    print(f"Routed binary perceptrons: N={cfg['N']}, rule={rule}, epochs={epochs}, {len(seeds)} seeds, "
          f"errors as mean+-standard error over seeds; d = paired difference to the Identity kernel")
    err = study(cfg, model, seeds, kernels, epochs)
    floors = [se_floor(a) for a in cfg["alphas"]]
    rows = summarize(cfg, err, kernels)
    table = format_table(rows, floors, cfg["alphas"])
    print(table)
    bp_rows = bp_comparison(cfg["bp"], model, epochs, kernel_list((1.0,))) if bp else None
    if bp_rows:
        b = cfg["bp"]
        print(f"\nBP copies on the cover vs the {rule} rule's copies (N={b['N']}, M={b['M']}, "
              f"{b['seeds']} seeds; mean copy / ensemble error)")
        print(f"{'alpha':>5} {'kernel':<9} {'BP copy':>8} {'BP ens':>8} {'rule copy':>9} {'rule ens':>9} "
              f"{'floor':>7}")
        for r in bp_rows:
            print(f"{r['alpha']:5g} {r['kernel']:<9} {r['bp_copy']:8.4f} {r['bp_ensemble']:8.4f} "
                  f"{r['rule_copy']:9.4f} {r['rule_ensemble']:9.4f} {r['floor']:7.4f}")
    elif bp:
        print("\n(lifts.bp_learner is not available: no BP comparison)")
    alpha_ref = 2.0 if 2.0 in cfg["alphas"] else cfg["alphas"][-1]
    path = Path(out) / "routing_perceptron.png"
    _figure(path, cfg, rows, floors, bp_rows, kernels, alpha_ref)
    print(f"\nfigure: {path}")
    return {"figure": path, "rows": rows, "errors": err, "alphas": list(cfg["alphas"]), "Ms": list(cfg["Ms"]),
            "kernels": [n for n, _ in kernels], "seeds": seeds, "epochs": epochs, "N": cfg["N"],
            "floors": floors, "bp": bp_rows, "table": table, "rule": rule}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--small", action="store_true", help="the seconds-long mode (what the tests run)")
    ap.add_argument("--rule", choices=("clipped", "sbpi"), default="clipped")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10; --small 2)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default 50; --small 20)")
    ap.add_argument("--N", type=int, default=None, help="number of weights (default 1001; --small 101)")
    ap.add_argument("--no-bp", dest="bp", action="store_false", help="skip the BP learner comparison")
    a = ap.parse_args()
    main(a.out, small=a.small, rule=a.rule, seeds=a.seeds, epochs=a.epochs, N=a.N, bp=a.bp)
