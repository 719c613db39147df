"""The density of the latent weights during STE training: simulation against the mean-field PDE.

The published figure of online straight-through (STE) training of a quantized linear student
(docs/theory.md §9.1-9.3): the constant teacher w* = 1 (Delta = 0), latent weights started from
mu_0 = N(0, 1), weights and inputs both quantized with b = 2 bits and width omega = 2, learning rate
eta = 0.1.  For each level convention (midtread, midrise, cells; one row each) and at
tau in {10, 25, 50, 100} it overlays the histogram of the simulated latent weights w
(:func:`algorithms.theory.ste.simulate`, d = 3000) on the density of the mean-field Fokker-Planck
equation (:func:`~algorithms.theory.ste.mean_field`).  The thresholds of phi are marked (dotted),
and so is the eta -> 0 fixed point (dashed, §9.4): kappa1 w*/kappa2 lies between two levels, the
drift points into their threshold from both sides and the weights slide on it -- at 1 for midtread
and cells, at 4/3 for midrise.  At eta = 0.1 the noise (variance eta^2 kappa2 eps) spreads the
weights around that threshold, with the exponential profile of §9.3 on each side.

For every convention and time it prints the mode of the PDE density and of the histogram, the L1
distance between the histogram's and the PDE's masses on the same bins (unions of PDE cells,
about 0.1 wide), the L1 distance expected from sampling alone (sum over bins of
sqrt(2 p (1 - p) / (pi n)) with n the number of simulated weights, the mean absolute deviation of
a binomial count for a normal approximation), and the simulated and PDE errors at that time
(both exact for the weights at hand: eps = rho* - 2 kappa1 E[w* phi] + kappa2 E[phi^2]).

Run:  python examples/ste_density.py [--out DIR] [--small] [--eta 0.1] [--seeds 2] [--d 3000]

The full mode (d = 3000, tau up to 100, two seeds per convention) takes about a minute on two
cores; ``--small`` (d = 500, tau in {5, 10, 20, 30}, one seed) runs in a few seconds.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.theory.quantizers import quantize, thresholds, uniform_levels
from algorithms.theory.ste import fixed_point, kappas, mean_field, simulate
from mcover.progress import Progress

KINDS = ("midtread", "midrise", "cells")
BITS, OMEGA, TEACHER, DELTA, INIT_STD = 2, 2.0, 1.0, 0.0, 1.0
FULL = {"d": 3000, "times": (10.0, 25.0, 50.0, 100.0), "seeds": 2}
SMALL = {"d": 500, "times": (5.0, 10.0, 20.0, 30.0), "seeds": 1}
MERGE = 5  # PDE cells (0.02 wide) per histogram bin


def sliding_point(c, k1: float, k2: float) -> float:
    """Where the latent weights end as eta -> 0: the threshold they slide on, or the outer level."""
    a = k1 * TEACHER / k2
    k = np.searchsorted(c, a)
    if 0 < k < c.size and c[k - 1] < a < c[k]:
        return 0.5 * (c[k - 1] + c[k])
    return float(c[0] if a <= c[0] else c[-1])


def error_of(w, c, k1: float, k2: float) -> float:
    """The exact error of weights ``w`` (constant w*): rho* - 2 kappa1 w* E[phi] + kappa2 E[phi^2] + Delta."""
    phi = quantize(w, c)
    return float(TEACHER**2 - 2.0 * k1 * TEACHER * phi.mean() + k2 * np.mean(phi**2) + DELTA)


def compare(w, centres, density, edges, c, k1, k2) -> dict:
    """Modes, L1 distance of the masses on merged bins, its sampling-only expectation, and both errors."""
    masses = density * np.diff(edges)
    bins = edges[::MERGE] if (edges.size - 1) % MERGE == 0 else np.append(edges[::MERGE], edges[-1])
    idx = np.searchsorted(bins, centres, side="right") - 1
    p_pde = np.bincount(idx, weights=masses, minlength=bins.size - 1)
    counts, _ = np.histogram(np.clip(w, bins[0], bins[-1]), bins=bins)
    n = w.size
    p_sim = counts / n
    width = np.diff(bins)
    mid = 0.5 * (bins[1:] + bins[:-1])
    phi_c = c[np.searchsorted(thresholds(c), centres, side="right")]
    return {
        "mode_pde": float(centres[np.argmax(density)]),
        "mode_sim": float(mid[np.argmax(p_sim / width)]),
        "l1": float(np.abs(p_sim - p_pde).sum()),
        "l1_noise": float(np.sum(np.sqrt(2.0 * p_pde * (1.0 - p_pde) / (np.pi * n)))),
        "err_sim": error_of(w, c, k1, k2),
        "err_pde": float(TEACHER**2 - 2.0 * k1 * TEACHER * np.sum(masses * phi_c)
                         + k2 * np.sum(masses * phi_c**2) + DELTA),
        "bins": bins, "hist": p_sim / width,
    }


def run_kind(kind: str, cfg: dict, eta: float, seed: int) -> dict:
    c = uniform_levels(BITS, OMEGA, kind)
    k1, k2 = kappas(c)
    times = tuple(cfg["times"])
    tau = max(times)
    sim = simulate(c, c, d=cfg["d"], eta=eta, tau=tau, teacher=TEACHER, delta=DELTA, init_std=INIT_STD,
                   seeds=cfg["seeds"], seed=seed, snapshots=times)
    mf = mean_field(c, c, eta=eta, tau=tau, teacher=TEACHER, delta=DELTA, init_std=INIT_STD, snapshots=times)
    fp = fixed_point(c, c, teacher=TEACHER, delta=DELTA)
    per_time = {}
    for t in times:
        centres, dens = mf.densities[t]
        per_time[t] = compare(sim.snapshots[t].ravel(), np.asarray(centres), np.asarray(dens),
                              np.asarray(mf.edges), c, k1, k2)
        per_time[t]["centres"], per_time[t]["density"] = centres, dens
    return {"kind": kind, "levels": c, "kappa1": k1, "kappa2": k2, "thresholds": thresholds(c),
            "w_fixed": sliding_point(c, k1, k2), "eps_inf": fp.gen_error, "sliding": fp.sliding,
            "times": per_time, "n_weights": sim.snapshots[times[0]].size}


def format_table(res: dict, eta: float, cfg: dict) -> str:
    lines = [
        f"STE latent-weight density: b={BITS}, omega={OMEGA:g} on weights and inputs, w*={TEACHER:g}, "
        f"Delta={DELTA:g}, mu_0=N(0,{INIT_STD:g}), eta={eta:g}, d={cfg['d']}, {cfg['seeds']} seed(s)",
        f"L1 = sum |histogram mass - PDE mass| on bins of {MERGE} PDE cells; L1 noise = its expectation from "
        "sampling alone; errors exact for the weights / the PDE density at that time",
        f"{'kind':<9}{'tau':>6}{'mode PDE':>9}{'mode sim':>9}{'L1':>7}{'L1 noise':>9}{'err sim':>9}"
        f"{'err PDE':>9}{'w fixed':>9}{'eps_inf':>9}",
    ]
    for kind in KINDS:
        r = res[kind]
        for t, v in r["times"].items():
            lines.append(f"{kind:<9}{t:6g}{v['mode_pde']:9.3f}{v['mode_sim']:9.3f}{v['l1']:7.3f}{v['l1_noise']:9.3f}"
                         f"{v['err_sim']:9.4f}{v['err_pde']:9.4f}{r['w_fixed']:9.3f}{r['eps_inf']:9.3f}")
    return "\n".join(lines)


def _figure(path: Path, res: dict, times, eta: float) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(KINDS), len(times), figsize=(4 * len(times), 3.2 * len(KINDS)), sharex=True)
    for i, kind in enumerate(KINDS):
        r = res[kind]
        for j, t in enumerate(times):
            ax = axes[i, j]
            v = r["times"][t]
            ax.stairs(v["hist"], v["bins"], fill=True, alpha=0.35, color="C0", label="simulation")
            ax.plot(v["centres"], v["density"], color="C3", lw=1.2, label="mean-field PDE")
            for th in r["thresholds"]:
                ax.axvline(th, color="grey", ls=":", lw=0.8)
            ax.axvline(r["w_fixed"], color="k", ls="--", lw=1.0, label="eta -> 0 fixed point")
            ax.set_xlim(-3.5, 3.5)
            ax.set_title(f"{kind}, tau={t:g}: eps sim {v['err_sim']:.3f}, PDE {v['err_pde']:.3f}", fontsize=9)
            if j == 0:
                ax.set_ylabel("density of latent w")
            if i == len(KINDS) - 1:
                ax.set_xlabel("latent weight w")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"b={BITS}, omega={OMEGA:g}, w*={TEACHER:g}, mu_0=N(0,1), eta={eta:g}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(out, small: bool = False, eta: float = 0.1, seeds=None, d=None, seed: int = 0) -> dict:
    """Simulate and solve the PDE per convention, print the table, save the figure; return the numbers."""
    cfg = dict(SMALL if small else FULL)
    if seeds is not None:
        cfg["seeds"] = int(seeds)
    if d is not None:
        cfg["d"] = int(d)
    bar = Progress(len(KINDS), "ste_density")
    res = {}
    for kind in KINDS:
        res[kind] = run_kind(kind, cfg, eta, seed)
        bar.tick(note=kind)
    table = format_table(res, eta, cfg)
    print(table)
    Path(out).mkdir(parents=True, exist_ok=True)
    path = Path(out) / "ste_density.png"
    _figure(path, res, tuple(cfg["times"]), eta)
    print(f"\nfigure: {path}")
    return {"figure": path, "results": res, "table": table, "times": tuple(cfg["times"]), "eta": eta,
            "d": cfg["d"], "seeds": cfg["seeds"]}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--small", action="store_true", help="the seconds-long mode (what the tests run)")
    ap.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    ap.add_argument("--seeds", type=int, default=None, help="simulation seeds (default 2; --small 1)")
    ap.add_argument("--d", type=int, default=None, help="dimension (default 3000; --small 500)")
    a = ap.parse_args()
    main(a.out, small=a.small, eta=a.eta, seeds=a.seeds, d=a.d)
