"""The ``mcover ste`` subcommand: online STE training of a quantized linear model against its theory.

A thin layer over :mod:`algorithms.theory.ste` (docs/theory.md §9). The weights and the inputs are
rounded to the same levels, ``quantizers.uniform_levels(bits, width, kind)``, and with the same
arguments the subcommand runs

* :func:`~algorithms.theory.ste.simulate` -- the online dynamics in dimension d, over seeds (§9.2);
* :func:`~algorithms.theory.ste.mean_field` -- the finite-η mean-field (Fokker-Planck) PDE (§9.3);
* :func:`~algorithms.theory.ste.ode` -- its η -> 0 limit, integrated exactly by events (§9.3);
* :func:`~algorithms.theory.ste.fixed_point` -- the limiting error and its sliding mode (§9.4);
* :func:`~algorithms.theory.ste.plateau_length` -- the plateau length τ_p (§9.5);
* :func:`~algorithms.theory.ste.kappas` -- the input-quantizer constants κ₁, κ₂ (§9.1).

It prints a table of the three error curves at a few times, the fixed point, the plateau, the
largest gap between the simulation and the PDE and a verdict computed from these numbers, or with
``--json`` one JSON object whose keys are documented in docs/cli.md. JSON has no infinity: an
infinite plateau and the NaN fields of the fixed point are written as ``null``. Bad options raise
ValueError with a one-line message naming the option (exit status 2). A progress bar (one tick per
stage) is drawn on standard error when it is a terminal.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from .cli_quant import KINDS, _check_bits, _check_width, _fmt, _num, _nums, _plt
from .progress import Progress

__all__ = ["add_parser", "DEFAULTS", "parse_teacher", "run_ste"]

DEFAULTS = {"bits": 2, "width": 2.0, "kind": "midrise", "eta": 0.1, "d": 3000, "tau": 100.0, "seeds": 1,
            "seed": 0, "teacher": "1.0", "delta": 0.0, "init_std": 1.0, "points": 101}
#: Relative margin between the plateau error and ε_∞ below which the verdict calls them equal.
DROP_MARGIN = 0.05
#: Rows of the table (times spread over the simulated curve).
TABLE_ROWS = 9


# ----------------------------------------------------------------------------- parsing and checks
def parse_teacher(text):
    """``"gaussian"`` or a finite float w* (the ``teacher`` argument of the library)."""
    if str(text).strip().lower() == "gaussian":
        return "gaussian"
    try:
        w = float(text)
    except ValueError:
        raise ValueError(f"--teacher must be a number w* or 'gaussian', got {text!r}") from None
    if not math.isfinite(w):
        raise ValueError(f"--teacher must be finite, got {text!r}")
    return w


def _check_args(args) -> None:
    """Validate the options; ValueError with a one-line message naming the option."""
    if args.kind not in KINDS:
        raise ValueError(f"unknown --kind {args.kind!r}; valid: {', '.join(KINDS)}")
    _check_bits(args.bits, args.kind)
    _check_width(args.width)
    if not (args.eta > 0 and math.isfinite(args.eta)):
        raise ValueError(f"--eta must be > 0 and finite, got {args.eta}")
    if args.d < 1:
        raise ValueError(f"--d must be >= 1, got {args.d}")
    if not (args.tau > 0 and math.isfinite(args.tau)):
        raise ValueError(f"--tau must be > 0 and finite, got {args.tau}")
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if not (args.delta >= 0 and math.isfinite(args.delta)):
        raise ValueError(f"--delta must be >= 0 and finite, got {args.delta}")
    if not (args.init_std > 0 and math.isfinite(args.init_std)):
        raise ValueError(f"--init-std must be > 0 and finite (the mean-field PDE starts from a density), "
                         f"got {args.init_std}")
    if args.points < 2:
        raise ValueError(f"--points must be >= 2, got {args.points}")
    args.teacher_value = parse_teacher(args.teacher)


def _interp(x, xp, fp):
    import numpy as np

    return np.interp(np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float))


# ----------------------------------------------------------------------------- the run
def run_ste(args) -> dict:
    """Run the simulation and the theory for checked ``args``; the JSON object (without ``plot``)."""
    import numpy as np

    from algorithms.theory import ste
    from algorithms.theory.quantizers import uniform_levels

    levels = uniform_levels(args.bits, args.width, kind=args.kind)
    teacher = args.teacher_value
    common = dict(teacher=teacher, delta=float(args.delta), clipped=bool(args.clipped),
                  init_std=float(args.init_std))
    bar = Progress(4, "ste")
    timings = {}
    t_all = time.perf_counter()
    try:
        t0 = time.perf_counter()
        bar.tick(0, note="simulate")
        sim = ste.simulate(levels, levels, d=int(args.d), eta=float(args.eta), tau=float(args.tau),
                           seeds=int(args.seeds), seed=int(args.seed), n_points=int(args.points), **common)
        timings["simulate"] = round(time.perf_counter() - t0, 4)
        bar.tick(note="mean-field PDE")
        t0 = time.perf_counter()
        mf = ste.mean_field(levels, levels, eta=float(args.eta), tau=float(args.tau),
                            n_points=int(args.points), **common)
        timings["mean_field"] = round(time.perf_counter() - t0, 4)
        bar.tick(note="eta -> 0 ODE")
        t0 = time.perf_counter()
        od = ste.ode(levels, levels, tau=float(args.tau), eta=float(args.eta), n_points=int(args.points),
                     **common)
        timings["ode"] = round(time.perf_counter() - t0, 4)
        bar.tick(note="fixed point, plateau")
        t0 = time.perf_counter()
        k1, k2 = ste.kappas(levels)
        fp = ste.fixed_point(levels, levels, **common)
        tau_p = ste.plateau_length(levels, levels, eta=float(args.eta), **common)
        plateau_error = plateau_change = None
        if math.isfinite(tau_p):  # the eta -> 0 error at tau_p/4, tau_p/2, 3 tau_p/4
            e = ste.ode(levels, levels, tau=[tau_p / 4, tau_p / 2, 3 * tau_p / 4], eta=float(args.eta),
                        **common).gen_error
            plateau_error, plateau_change = float(e[1]), float(e[2] - e[0])
        timings["theory"] = round(time.perf_counter() - t0, 4)
        bar.tick(note="done")
    finally:
        bar.close()
    seconds = round(time.perf_counter() - t_all, 4)

    sim_err = sim.gen_error
    mf_at_sim = _interp(sim.tau, mf.tau, mf.gen_error)
    ode_at_sim = _interp(sim.tau, od.tau, od.gen_error)
    sem = None
    if args.seeds > 1:
        sem = sim.gen_error_seeds.std(axis=0, ddof=1) / math.sqrt(args.seeds)
    out = {
        "bits": int(args.bits), "width": float(args.width), "kind": args.kind, "eta": float(args.eta),
        "d": int(args.d), "tau": float(args.tau), "seeds": int(args.seeds), "seed": int(args.seed),
        "teacher": teacher, "delta": float(args.delta), "clipped": bool(args.clipped),
        "clip": float(sim.settings["clip"]), "init_std": float(args.init_std), "points": int(args.points),
        "levels": [float(v) for v in levels], "kappa1": float(k1), "kappa2": float(k2),
        "simulation": {"tau": _nums(sim.tau), "gen_error": _nums(sim_err),
                       "gen_error_seeds": _nums(sim.gen_error_seeds),
                       "sem": None if sem is None else _nums(sem)},
        "mean_field": {"tau": _nums(mf.tau), "gen_error": _nums(mf.gen_error)},
        "ode": {"tau": _nums(od.tau), "gen_error": _nums(od.gen_error), "m": _nums(od.m), "q": _nums(od.q)},
        "fixed_point": {"gen_error": _num(fp.gen_error), "sliding": bool(fp.sliding), "p": _num(fp.p),
                        "mean_phi": _num(fp.mean_phi)},
        "plateau_length": _num(tau_p), "plateau_error": plateau_error,
        "plateau_change": plateau_change,
        "max_deviation": float(np.max(np.abs(sim_err - mf_at_sim))),
        "max_deviation_ode": float(np.max(np.abs(sim_err - ode_at_sim))),
        "final_error": float(sim_err[-1]),
    }
    out["verdict"] = verdict(out)
    out["timings"] = timings
    out["seconds"] = seconds
    return out


def verdict(out: dict) -> str:
    """One line computed from the plateau, the fixed point and the simulated curve."""
    tp, ep, einf = out["plateau_length"], out["plateau_error"], out["fixed_point"]["gen_error"]
    if tp is None or ep is None:
        text = "no plateau exit: the weights starting in the cell nearest 0 never leave it (eta -> 0)"
    elif abs(out["plateau_change"]) > DROP_MARGIN * ep:
        text = (f"no plateau: the eta -> 0 error already moves by {out['plateau_change']:+.4g} between "
                f"tau_p/4 and 3 tau_p/4 (tau_p = {tp:.4g}, error {ep:.4g} at tau_p/2), then tends to "
                f"eps_inf = {einf:.4g}")
    elif einf < ep * (1 - DROP_MARGIN):
        text = (f"a drop follows the plateau: the eta -> 0 error falls from {ep:.4g} (at tau_p/2) to "
                f"eps_inf = {einf:.4g} ({einf / ep:.0%} of it)")
    elif einf > ep * (1 + DROP_MARGIN):
        text = (f"no drop after the plateau: eps_inf = {einf:.4g} is above the plateau error {ep:.4g} "
                f"({einf / ep:.0%} of it)")
    else:
        text = (f"no marked drop: eps_inf = {einf:.4g} is within {DROP_MARGIN:.0%} of the plateau error "
                f"{ep:.4g}")
    ode_err, ode_tau = out["ode"]["gen_error"], out["ode"]["tau"]
    k = min(range(len(ode_err)), key=lambda i: ode_err[i])
    after = tp is None or ode_tau[k] > tp  # a dip after the plateau, not the plateau itself
    if after and ode_err[k] < einf * (1 - DROP_MARGIN) and k < len(ode_err) - 1:
        text += (f"; the eta -> 0 error dips to {ode_err[k]:.4g} at tau = {ode_tau[k]:.4g} before rising "
                 f"to eps_inf")
    if tp is not None and tp > out["tau"]:
        text += f"; the run ends on the plateau (tau_p = {tp:.4g} > tau = {out['tau']:g})"
    else:
        gap = out["final_error"] - einf
        text += f"; simulation at tau = {out['tau']:g} is {gap:+.3g} from eps_inf"
    return text


# ----------------------------------------------------------------------------- output
def _teacher_text(teacher) -> str:
    return "w* ~ N(0, 1)" if teacher == "gaussian" else f"w* = {teacher:g}"


def _table(out: dict) -> None:
    clip = f"clipped STE (omega = {out['clip']:g})" if out["clipped"] else "plain STE"
    print(f"online STE training of a quantized linear model (docs/theory.md §9): {out['bits']}-bit "
          f"{out['kind']} levels of width {out['width']:g} on weights and inputs")
    print(f"{clip}, eta = {out['eta']:g}, d = {out['d']}, tau = {out['tau']:g}, {out['seeds']} seed(s) from "
          f"seed {out['seed']}, {_teacher_text(out['teacher'])}, Delta = {out['delta']:g}, "
          f"init_std = {out['init_std']:g}")
    print("levels  " + ", ".join(f"{v:.4f}" for v in out["levels"])
          + f";  kappa1 = {out['kappa1']:.5f}, kappa2 = {out['kappa2']:.5f}\n")
    sim, mf, od = out["simulation"], out["mean_field"], out["ode"]
    n = len(sim["tau"])
    rows = sorted(set(round(k * (n - 1) / (TABLE_ROWS - 1)) for k in range(TABLE_ROWS)))
    pde = _interp(sim["tau"], mf["tau"], mf["gen_error"])
    ode = _interp(sim["tau"], od["tau"], od["gen_error"])
    sem = sim["sem"]
    print(f"{'tau':>9} {'simulation':>11}" + (f" {'± sem':>8}" if sem is not None else "")
          + f" {'PDE (eta)':>10} {'ODE (eta->0)':>12}")
    for i in rows:
        line = f"{sim['tau'][i]:9.3f} {sim['gen_error'][i]:11.5f}"
        if sem is not None:
            line += f" {sem[i]:8.5f}"
        print(line + f" {pde[i]:10.5f} {ode[i]:12.5f}")
    fp = out["fixed_point"]
    slide = "no"
    if fp["sliding"]:
        slide = "yes" + (f" (p = {fp['p']:.4f} on the upper level)" if fp["p"] is not None else "")
    print(f"\n{'fixed point eps_inf (eta -> 0)':<34} {_fmt(fp['gen_error'], '.5f')}")
    print(f"{'  sliding mode':<34} {slide}")
    if fp["mean_phi"] is not None:
        print(f"{'  E[phi] at the fixed point':<34} {fp['mean_phi']:.5f}")
    print(f"{'plateau length tau_p (eta -> 0)':<34} {_fmt(out['plateau_length'], '.4f')}")
    ep = "-" if out["plateau_error"] is None else f"{out['plateau_error']:.5f}"
    print(f"{'plateau error (ODE at tau_p/2)':<34} {ep}")
    if out["plateau_change"] is not None:
        print(f"{'  its change, tau_p/4 -> 3 tau_p/4':<34} {out['plateau_change']:+.5f}")
    print(f"{'max |simulation - PDE|':<34} {out['max_deviation']:.5f}")
    print(f"{'max |simulation - ODE|':<34} {out['max_deviation_ode']:.5f}")
    t = out["timings"]
    print(f"{'seconds':<34} {out['seconds']:.2f} (simulate {t['simulate']:.2f}, PDE {t['mean_field']:.2f}, "
          f"ODE {t['ode']:.2f}, fixed point and plateau {t['theory']:.2f})")
    print(f"\nverdict: {out['verdict']}")
    if "plot" in out:
        print(f"figure written to {out['plot']}")


def _plot(out: dict, path) -> None:
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sim = out["simulation"]
    tau, err = np.asarray(sim["tau"]), np.asarray(sim["gen_error"])
    if sim["sem"] is not None:
        sem = np.asarray(sim["sem"])
        ax.fill_between(tau, err - sem, err + sem, color="C0", alpha=0.25, lw=0)
    ax.plot(tau, err, "-", c="C0", lw=1.5, label=f"simulation, d = {out['d']} ({out['seeds']} seed(s))")
    ax.plot(out["mean_field"]["tau"], out["mean_field"]["gen_error"], "--", c="C1",
            label=f"mean-field PDE, eta = {out['eta']:g}")
    ax.plot(out["ode"]["tau"], out["ode"]["gen_error"], ":", c="C2", lw=2, label="eta -> 0 ODE")
    einf = out["fixed_point"]["gen_error"]
    if einf is not None:
        ax.axhline(einf, c="0.4", ls="-.", lw=1, label=f"eps_inf = {einf:.4f}")
    tp = out["plateau_length"]
    if tp is not None and tp <= out["tau"]:
        ax.axvline(tp, c="0.6", ls=":", lw=1, label=f"tau_p = {tp:.3g}")
    ax.set_xlabel("tau = t / d")
    ax.set_ylabel("generalization error")
    ax.set_title(f"{out['bits']}-bit {out['kind']}, width {out['width']:g}, "
                 f"{'clipped' if out['clipped'] else 'plain'} STE, {_teacher_text(out['teacher'])}, "
                 f"Delta = {out['delta']:g}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ste(args) -> int:
    _check_args(args)
    out = run_ste(args)
    if args.plot is not None:
        _plot(out, args.plot)
        out["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(out))
        return 0
    _table(out)
    return 0


# ----------------------------------------------------------------------------- parser
def add_parser(sub) -> None:
    """Register ``ste`` on the subparsers of the ``mcover`` parser."""
    p = sub.add_parser(
        "ste", help="online STE training of a quantized linear model against its mean-field theory",
        description=(
            "Online training with the straight-through estimator of a linear student whose weights and "
            "inputs are rounded to the same uniform levels (docs/theory.md §9): the simulation in "
            "dimension d over seeds, the finite-eta mean-field PDE, its eta -> 0 ODE, the fixed point "
            "with its sliding mode and the plateau length, all with the same arguments. A progress "
            "bar is drawn on standard error when it is a terminal."))
    p.add_argument("--bits", type=int, default=DEFAULTS["bits"],
                   help=f"bits b of the weight and input quantizers (default {DEFAULTS['bits']})")
    p.add_argument("--width", type=float, default=DEFAULTS["width"],
                   help=f"width omega > 0 of the levels (default {DEFAULTS['width']:g})")
    p.add_argument("--kind", default=DEFAULTS["kind"], metavar="KIND",
                   help="level convention: midrise | midtread | cells (default midrise)")
    p.add_argument("--eta", type=float, default=DEFAULTS["eta"],
                   help=f"learning rate eta > 0 (default {DEFAULTS['eta']:g})")
    p.add_argument("--d", type=int, default=DEFAULTS["d"], help=f"dimension d (default {DEFAULTS['d']})")
    p.add_argument("--tau", type=float, default=DEFAULTS["tau"],
                   help=f"horizon tau = t/d > 0 (default {DEFAULTS['tau']:g})")
    p.add_argument("--seeds", type=int, default=DEFAULTS["seeds"],
                   help=f"independent simulation runs (default {DEFAULTS['seeds']})")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"],
                   help=f"seed of the simulation's streams (default {DEFAULTS['seed']})")
    p.add_argument("--teacher", default=DEFAULTS["teacher"], metavar="W",
                   help="constant teacher weight w*, or 'gaussian' for w* ~ N(0, 1) (default 1.0)")
    p.add_argument("--delta", type=float, default=DEFAULTS["delta"],
                   help=f"label-noise variance Delta >= 0 (default {DEFAULTS['delta']:g})")
    p.add_argument("--clipped", action="store_true",
                   help="clipped STE (weights beyond the outer level get no update) instead of plain STE")
    p.add_argument("--init-std", type=float, default=DEFAULTS["init_std"],
                   help=f"initial latent weights N(0, init_std^2), init_std > 0 (default "
                        f"{DEFAULTS['init_std']:g})")
    p.add_argument("--points", type=int, default=DEFAULTS["points"],
                   help=f"recorded times over [0, tau], >= 2 (default {DEFAULTS['points']})")
    p.add_argument("--plot", type=Path, default=None, help="save the three error curves to PNG")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_ste)
