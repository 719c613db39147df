"""The plateau of straight-through (STE) training and what follows it, under three level conventions.

A linear student with 2-bit weights and 2-bit inputs (both quantized with the same width omega)
learns the constant teacher w* = 1 (Delta = 0) online with the plain straight-through estimator
(docs/theory.md §9.1-9.2), starting from latent weights near 0 (init_std = 0.1 by default).  For
each convention of the levels (midtread, midrise, cells; §8.1) and each width omega it draws the
generalization error eps(tau) three ways:

* the online simulation (:func:`algorithms.theory.ste.simulate`, mean over seeds with a min-max
  band over the seeds),
* the finite-eta mean-field Fokker-Planck equation (:func:`~algorithms.theory.ste.mean_field`, §9.3),
* the eta -> 0 ODE on the same time axis (:func:`~algorithms.theory.ste.ode`, §9.3).

Under midtread the student starts at phi = 0 and the error sits on the plateau eps = rho* + Delta = 1
until the weights drift out of the zero cell, after tau_p = s / (2 eta kappa1 |w*|) (§9.5).  What
follows is not always a drop: the eta -> 0 limit is the sliding-mode error eps_inf of §9.4
(:func:`~algorithms.theory.ste.fixed_point`), and when eps_inf > 1 (midtread, omega >= 2) the
error rises after the plateau.  Midrise and cells have no zero level: phi(w) = +-c_1 from the
first step, so there is no plateau at rho*; the table still compares their eps_inf with rho*.

The last panel is the midtread plateau length against omega: :func:`~algorithms.theory.ste.
plateau_length` (the median time at which the weights starting in the zero cell leave it, eta -> 0)
next to the same quantity measured on the simulation: from latent-weight snapshots every
tau_max / (n_snap - 1), each weight's first snapshot outside the zero cell, median over all
weights of all seeds (a weight that never leaves counts as never).  Snapshots are 0.25 apart: a
weight that has reached the sliding threshold chatters across it and is seen back inside the cell at
some snapshots, so coarse snapshots would date its exit late by more than their spacing (at spacing 1
the measured midtread tau_p at omega = 2 was 12 instead of 10.3).  With the inputs quantized at
the same omega, kappa1 changes with omega too, so tau_p is not exactly proportional to omega.

Run:  python examples/ste_plateau.py [--out DIR] [--small] [--eta 0.1] [--init-std 0.1]
          [--seeds 3] [--d 2000]

The full mode (d = 2000, tau up to 100, widths 1, 1.5, 2, 3, 4, three seeds, 15 settings) takes
about 1.5-3 minutes on two cores and shows a progress bar on stderr; ``--small`` (d = 400,
tau = 30, widths 1, 2, 3, two seeds) runs in a few seconds.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.theory.quantizers import uniform_levels
from algorithms.theory.ste import fixed_point, kappas, mean_field, ode, plateau_length, simulate
from mcover.progress import Progress

KINDS = ("midtread", "midrise", "cells")
BITS, TEACHER, DELTA = 2, 1.0, 0.0
FULL = {"d": 2000, "tau": 100.0, "seeds": 3, "widths": (1.0, 1.5, 2.0, 3.0, 4.0), "n_snap": 401}
SMALL = {"d": 400, "tau": 30.0, "seeds": 2, "widths": (1.0, 2.0, 3.0), "n_snap": 121}
TAIL = 0.1  # final errors are averaged over the last 10% of the horizon (the chattering of phi is noisy)


def zero_cell(c) -> tuple[float, float] | None:
    """The cell of phi holding the level 0, as (lo, hi); None when there is no zero level."""
    k = np.flatnonzero(c == 0.0)
    if k.size == 0:
        return None
    k = int(k[0])
    return 0.5 * (c[k - 1] + c[k]), 0.5 * (c[k] + c[k + 1])


def measured_plateau(snaps: dict, cell) -> float:
    """Median over all weights (all seeds) of the first snapshot time at which the weight is out of ``cell``.

    The same definition as :func:`plateau_length`, read on the simulation at the snapshot resolution.
    """
    times = np.array(sorted(snaps))
    w = np.stack([snaps[t].ravel() for t in times])          # (T, S d)
    out = (w < cell[0]) | (w >= cell[1])
    started_in = ~out[0]
    left = out[:, started_in]
    first = np.where(left.any(axis=0), times[np.argmax(left, axis=0)], np.inf)
    return float(np.quantile(first, 0.5, method="inverted_cdf")) if first.size else float("inf")


def tail_mean(tau, err) -> np.ndarray:
    """The error averaged over the last ``TAIL`` of the horizon (last axis)."""
    sel = tau >= (1.0 - TAIL) * tau[-1]
    return np.asarray(err)[..., sel].mean(axis=-1)


def run_one(kind: str, omega: float, cfg: dict, eta: float, init_std: float, seed: int) -> dict:
    """Theory and simulation of one (convention, width)."""
    c = uniform_levels(BITS, omega, kind)
    k1, k2 = kappas(c)
    step = float(c[1] - c[0])
    tau = cfg["tau"]
    snap_t = tuple(np.linspace(0.0, tau, cfg["n_snap"]))
    sim = simulate(c, c, d=cfg["d"], eta=eta, tau=tau, teacher=TEACHER, delta=DELTA, init_std=init_std,
                   seeds=cfg["seeds"], seed=seed, snapshots=snap_t, n_points=201)
    mf = mean_field(c, c, eta=eta, tau=tau, teacher=TEACHER, delta=DELTA, init_std=init_std, n_points=201)
    od = ode(c, c, tau=sim.tau, eta=eta, teacher=TEACHER, delta=DELTA, init_std=init_std)
    fp = fixed_point(c, c, teacher=TEACHER, delta=DELTA)
    plateau_err = TEACHER**2 + DELTA                          # the error of the zero student, phi = 0
    cell = zero_cell(c)
    if cell is not None:
        tp_theory = plateau_length(c, c, eta=eta, teacher=TEACHER, delta=DELTA, init_std=init_std)
        tp_formula = step / (2.0 * eta * k1 * abs(TEACHER))
        tp_sim = measured_plateau(sim.snapshots, cell)
    else:
        tp_theory = tp_formula = tp_sim = float("nan")
    final_seeds = tail_mean(sim.tau, sim.gen_error_seeds)
    return {
        "kind": kind, "omega": omega, "levels": c, "step": step, "kappa1": k1, "kappa2": k2,
        "plateau_error": plateau_err, "eps_inf": fp.gen_error, "sliding": fp.sliding,
        "has_plateau": cell is not None,
        "after": ("drop" if fp.gen_error < plateau_err else "rise") if cell is not None else "no plateau",
        "sim_final": float(final_seeds.mean()),
        "sim_final_sem": float(final_seeds.std(ddof=1) / np.sqrt(final_seeds.size)) if final_seeds.size > 1
        else float("nan"),
        "mf_final": float(tail_mean(mf.tau, mf.gen_error)), "ode_final": float(od.gen_error[-1]),
        "tau_p_theory": tp_theory, "tau_p_formula": tp_formula, "tau_p_sim": tp_sim,
        "tau": sim.tau, "sim": sim.gen_error, "sim_lo": sim.gen_error_seeds.min(axis=0),
        "sim_hi": sim.gen_error_seeds.max(axis=0), "mf_tau": mf.tau, "mf": mf.gen_error, "ode": od.gen_error,
    }


def format_table(rows, eta: float, init_std: float, cfg: dict) -> str:
    res = cfg["tau"] / (cfg["n_snap"] - 1)
    lines = [
        f"STE plateau: b={BITS} bits on weights and inputs (same omega), w*={TEACHER:g}, Delta={DELTA:g}, "
        f"eta={eta:g}, init_std={init_std:g} (weights start near 0), d={cfg['d']}, {cfg['seeds']} seeds, "
        f"tau <= {cfg['tau']:g}",
        "plateau error = rho* + Delta (phi = 0); eps_inf = eta -> 0 sliding-mode limit (fixed_point); "
        f"final = mean over the last {TAIL:.0%} of the horizon",
        "tau_p theory = plateau_length (median exit from the zero cell, eta -> 0); s/(2 eta k1) its formula; "
        f"tau_p sim = median over weights of the first snapshot out of the zero cell (resolution {res:g})",
        f"{'kind':<9}{'omega':>6}{'step':>7}{'kappa1':>8}{'kappa2':>8}{'plateau':>9}{'eps_inf':>9}"
        f"{'ODE end':>9}{'MF end':>9}{'sim end':>16}  {'after plateau':<13}{'tau_p th':>9}{'s/2ek1':>8}"
        f"{'tau_p sim':>10}",
    ]
    for r in rows:
        tp = (f"{r['tau_p_theory']:9.2f}{r['tau_p_formula']:8.2f}{r['tau_p_sim']:10.2f}" if r["has_plateau"]
              else f"{'-':>9}{'-':>8}{'-':>10}")
        sim = f"{r['sim_final']:.3f}+-{r['sim_final_sem']:.3f}"
        lines.append(f"{r['kind']:<9}{r['omega']:6g}{r['step']:7.3f}{r['kappa1']:8.4f}{r['kappa2']:8.4f}"
                     f"{r['plateau_error']:9.3f}{r['eps_inf']:9.3f}{r['ode_final']:9.3f}{r['mf_final']:9.3f}"
                     f"{sim:>16}  {r['after']:<13}{tp}")
    drop = [f"{r['omega']:g}" for r in rows if r["after"] == "drop"]
    rise = [f"{r['omega']:g}" for r in rows if r["after"] == "rise"]
    lines.append(f"midtread: a sharp drop follows the plateau for omega in {{{', '.join(drop)}}} "
                 f"(eps_inf < 1); the error rises after it for omega in {{{', '.join(rise)}}} (eps_inf > 1).")
    other = [r for r in rows if not r["has_plateau"]]
    below = [f"{r['kind']} {r['omega']:g}" for r in other if r["eps_inf"] < r["plateau_error"]]
    above = [f"{r['kind']} {r['omega']:g}" for r in other if r["eps_inf"] >= r["plateau_error"]]
    lines.append("midrise/cells: no zero level, so no plateau (phi = +-c_1 from the first step); eps_inf is "
                 f"below rho* for [{', '.join(below)}] and above it for [{', '.join(above) or 'none'}].")
    return "\n".join(lines)


def _figure(path: Path, rows, widths, eta: float, init_std: float) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(widths)))
    for ax, kind in zip(axes.flat, KINDS):
        for col, om in zip(colours, widths):
            r = next(x for x in rows if x["kind"] == kind and x["omega"] == om)
            ax.fill_between(r["tau"], r["sim_lo"], r["sim_hi"], color=col, alpha=0.2, lw=0)
            ax.plot(r["tau"], r["sim"], color=col, lw=1.2, label=f"omega={om:g}")
            ax.plot(r["mf_tau"], r["mf"], color=col, ls="--", lw=1.0)
            ax.plot(r["tau"], r["ode"], color=col, ls=":", lw=1.0)
        ax.axhline(TEACHER**2 + DELTA, color="grey", lw=0.8)
        ax.set_title(f"{kind}: simulation (band: seeds), -- mean field, : eta->0 ODE")
        ax.set_xlabel("tau = t / d")
        ax.set_ylabel("generalization error")
        ax.legend(fontsize=8)
    ax = axes.flat[3]
    mt = [r for r in rows if r["kind"] == "midtread"]
    om = np.array([r["omega"] for r in mt])
    ax.plot(om, [r["tau_p_theory"] for r in mt], "o-", label="plateau_length (eta -> 0)")
    ax.plot(om, [r["tau_p_formula"] for r in mt], "k:", label="s / (2 eta kappa1 |w*|)")
    ax.plot(om, [r["tau_p_sim"] for r in mt], "s", mfc="none", ms=9, label="simulation: median first exit")
    ax.set_xlabel("width omega (weights and inputs)")
    ax.set_ylabel("plateau length tau_p")
    ax.set_title(f"midtread plateau length, eta={eta:g}, init_std={init_std:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(out, small: bool = False, eta: float = 0.1, init_std: float = 0.1, seeds=None, d=None,
         seed: int = 0) -> dict:
    """Run every (convention, width), print the table, save the figure; return the numbers."""
    cfg = dict(SMALL if small else FULL)
    if seeds is not None:
        cfg["seeds"] = int(seeds)
    if d is not None:
        cfg["d"] = int(d)
    widths = tuple(cfg["widths"])
    bar = Progress(len(KINDS) * len(widths), "ste_plateau")
    rows = []
    for kind in KINDS:
        for om in widths:
            rows.append(run_one(kind, om, cfg, eta, init_std, seed))
            bar.tick(note=f"{kind} omega={om:g}")
    table = format_table(rows, eta, init_std, cfg)
    print(table)
    Path(out).mkdir(parents=True, exist_ok=True)
    path = Path(out) / "ste_plateau.png"
    _figure(path, rows, widths, eta, init_std)
    print(f"\nfigure: {path}")
    return {"figure": path, "rows": rows, "table": table, "widths": widths, "eta": eta, "init_std": init_std,
            "d": cfg["d"], "seeds": cfg["seeds"], "tau": cfg["tau"],
            "snap_resolution": cfg["tau"] / (cfg["n_snap"] - 1)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--small", action="store_true", help="the seconds-long mode (what the tests run)")
    ap.add_argument("--eta", type=float, default=0.1, help="learning rate (default 0.1)")
    ap.add_argument("--init-std", type=float, default=0.1, help="std of the initial weights (default 0.1)")
    ap.add_argument("--seeds", type=int, default=None, help="simulation seeds (default 3; --small 2)")
    ap.add_argument("--d", type=int, default=None, help="dimension (default 2000; --small 400)")
    a = ap.parse_args()
    main(a.out, small=a.small, eta=a.eta, init_std=a.init_std, seeds=a.seeds, d=a.d)
