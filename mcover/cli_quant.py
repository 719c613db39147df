"""The ``mcover quant`` subcommand: the replica theory of quantized-weight regression.

Four actions, each a thin layer over :mod:`algorithms.theory` (docs/theory.md §8):

* ``rs`` -- one replica-symmetric fixed point, :func:`~algorithms.theory.replica.solve_rs`
  (§8.2; zero temperature §8.3; AT eigenvalue §8.4);
* ``phase`` -- the AT eigenvalue over (bits, width) at finite beta,
  :func:`~algorithms.theory.quant_study.phase_diagram` (§8.4, §8.7);
* ``width`` -- the generalization-optimal width omega*,
  :func:`~algorithms.theory.quant_study.optimal_width` (§8.7);
* ``curve`` -- the errors against alpha and the interpolation peak alpha = S,
  :func:`~algorithms.theory.quant_study.error_curve` and
  :func:`~algorithms.theory.quant_study.interpolation_peak` (§8.3, §8.7).

Every action prints a readable table, or with ``--json`` one JSON object whose keys are
documented in docs/cli.md.  JSON has no infinity: ``beta = inf`` and infinite results
(``lambda_at`` at zero temperature, the continuous error at alpha <= 1) are written as ``null``.
Bad options raise ValueError with a one-line message naming the option (exit status 2).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

__all__ = ["add_parser", "KINDS", "LEVEL_RULES", "parse_grid", "parse_range", "levels_of"]

KINDS = ("midrise", "midtread", "cells")
#: How the levels are chosen: uniform_levels(bits, width, kind), Max's uniform, Lloyd-Max, none.
LEVEL_RULES = ("uniform", "max", "lloyd", "continuous")
DEFAULTS = {"alpha": 2.0, "bits": 2, "width": 1.5, "delta": 0.1, "phase_beta": 5.0,
            "widths": "0.1:4:40", "alphas": "0.1:4:40", "bounds": "0.05:5", "n_grid": 40}


# ----------------------------------------------------------------------------- parsing and checks
def _num(x):
    """A float for JSON: ``None`` for inf and nan."""
    x = float(x)
    return x if math.isfinite(x) else None


def _nums(a) -> list:
    import numpy as np

    return [_num(v) if np.ndim(v) == 0 else _nums(v) for v in a]


def parse_grid(text: str, option: str):
    """``"lo:hi:n"`` -> ``numpy.linspace(lo, hi, n)`` (lo, hi > 0, n >= 1)."""
    import numpy as np

    parts = str(text).split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"{option} must be LO:HI:N (e.g. 0.1:4:40), got {text!r}") from None
    if not (0 < lo <= hi and math.isfinite(hi)) or n < 1 or (n > 1 and lo == hi):
        raise ValueError(f"{option} needs 0 < LO < HI finite and N >= 1, got {text!r}")
    return np.linspace(lo, hi, n) if n > 1 else np.array([lo])


def parse_range(text: str, option: str) -> list:
    """``"lo:hi"`` -> ``[lo, ..., hi]`` (integers, inclusive)."""
    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = int(parts[0]), int(parts[1])
    except ValueError:
        raise ValueError(f"{option} must be LO:HI with integers (e.g. 1:8), got {text!r}") from None
    if lo > hi:
        raise ValueError(f"{option} needs LO <= HI, got {text!r}")
    return list(range(lo, hi + 1))


def _check_common(args, beta_default: float = math.inf) -> float:
    """Check the shared options; fill in and return beta (``args.beta``)."""
    if args.beta is None:
        args.beta = beta_default
    if args.kind not in KINDS:
        raise ValueError(f"unknown --kind {args.kind!r}; valid: {', '.join(KINDS)}")
    if getattr(args, "alpha", None) is not None and not (args.alpha > 0 and math.isfinite(args.alpha)):
        raise ValueError(f"--alpha must be > 0 and finite, got {args.alpha}")
    if not (args.delta >= 0 and math.isfinite(args.delta)):
        raise ValueError(f"--delta must be >= 0 and finite, got {args.delta}")
    if args.beta is not None and not args.beta > 0:
        raise ValueError(f"--beta must be > 0 (inf allowed), got {args.beta}")
    if not (args.ridge >= 0 and math.isfinite(args.ridge)):
        raise ValueError(f"--ridge must be >= 0 and finite, got {args.ridge}")
    return float(args.beta)


def _check_bits(bits: int, kind: str, option: str = "--bits") -> None:
    if bits < 1:
        raise ValueError(f"{option} must be >= 1, got {bits}")
    if bits > 16:
        raise ValueError(f"{option} must be <= 16, got {bits}")
    if kind == "midtread" and bits < 2:
        raise ValueError(f"{option} must be >= 2 with --kind midtread (1 bit would be the single level 0), "
                         f"got {bits}")


def _check_width(width: float, option: str = "--width") -> None:
    if not (width > 0 and math.isfinite(width)):
        raise ValueError(f"{option} must be > 0 and finite, got {width}")


def levels_of(rule: str, bits: int, width: float | None, kind: str):
    """The student levels of a level rule (``None`` for continuous weights)."""
    from algorithms.theory.quantizers import lloyd_max, max_uniform, uniform_levels

    if rule == "continuous":
        return None
    if rule == "max":
        return max_uniform(bits).levels
    if rule == "lloyd":
        return lloyd_max(bits).levels
    return uniform_levels(bits, width, kind=kind)


def _levels_args(args):
    """Check --levels, --bits, --width; return (levels, bits or None, width or None)."""
    if args.levels not in LEVEL_RULES:
        raise ValueError(f"unknown --levels {args.levels!r}; valid: {', '.join(LEVEL_RULES)}")
    if args.levels != "uniform" and args.width is not None:
        raise ValueError(f"--width applies to --levels uniform only, not {args.levels}")
    if args.levels == "continuous":
        return None, None, None
    _check_bits(args.bits, args.kind if args.levels == "uniform" else "midrise")
    if args.levels != "uniform":
        return levels_of(args.levels, args.bits, None, args.kind), args.bits, None
    width = DEFAULTS["width"] if args.width is None else args.width
    _check_width(width)
    return levels_of("uniform", args.bits, width, args.kind), args.bits, float(width)


def _settings(args, command: str) -> dict:
    return {"command": command, "delta": float(args.delta), "beta": _num(args.beta),
            "ridge": float(args.ridge), "kind": args.kind}


def _emit(out: dict, args, table, plot) -> int:
    if args.plot is not None:
        plot(out, args.plot)
        out["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(out))
        return 0
    table(out)
    if "plot" in out:
        print(f"figure written to {out['plot']}")
    return 0


def _fmt(x, spec=".6g") -> str:
    """``x`` formatted with ``spec``; ``None`` (an infinite value) as ``inf`` of the same width."""
    if x is None:
        width = "".join(ch for ch in spec.split(".")[0] if ch.isdigit())
        return format("inf", f">{width}") if width else "inf"
    return format(x, spec)


def _beta_text(beta) -> str:
    return "inf (zero temperature)" if beta is None else f"{beta:g}"


def _levels_text(out) -> str:
    rule = out["levels_rule"]
    if rule == "continuous":
        return "continuous weights"
    if rule == "uniform":
        return f"{out['bits']}-bit uniform, {out['kind']} convention, width {out['width']:g}"
    return f"{out['bits']}-bit {'Max uniform' if rule == 'max' else 'Lloyd-Max'} levels"


# ----------------------------------------------------------------------------- rs
RS_KEYS = ("rho0", "m", "q", "Q", "chi_tilde", "chi", "D", "S", "gen_error", "gen_error_mean", "train_error",
           "train_error_mean", "lambda_at")


def _rs(args) -> int:
    from algorithms.theory.replica import solve_rs

    beta = _check_common(args)
    levels, bits, width = _levels_args(args)
    t0 = time.perf_counter()
    res = solve_rs(args.alpha, levels, args.delta, beta=beta, ridge=args.ridge)
    out = {**_settings(args, "rs"), "alpha": float(args.alpha), "levels_rule": args.levels, "bits": bits,
           "width": width, "levels": None if levels is None else [float(v) for v in levels]}
    out.update({k: _num(getattr(res, k)) for k in RS_KEYS})
    out.update({"stable": bool(res.stable), "converged": bool(res.converged), "n_iter": int(res.n_iter),
                "seconds": round(time.perf_counter() - t0, 4)})
    return _emit(out, args, _rs_table, _rs_plot)


def _rs_table(out) -> None:
    print(f"RS fixed point of quantized regression (docs/theory.md §8.2-8.4): {_levels_text(out)}")
    print(f"alpha = {out['alpha']:g}, Delta = {out['delta']:g}, beta = {_beta_text(out['beta'])}, "
          f"ridge = {out['ridge']:g}\n")
    if out["levels"] is not None:
        print("levels  " + ", ".join(f"{v:.4f}" for v in out["levels"]))
    names = {"m": "m = w.w0/N", "q": "q = <w>.<w>/N", "Q": "Q = |w|^2/N", "chi_tilde": "chi~ = Q - q",
             "chi": "chi", "D": "D", "S": "S (response)", "gen_error": "gen error (Gibbs)",
             "gen_error_mean": "gen error (mean)", "train_error": "train error (Gibbs)",
             "train_error_mean": "train error (mean)", "lambda_at": "lambda_AT", "rho0": "rho0"}
    for k in RS_KEYS:
        print(f"{names[k]:<22} {_fmt(out[k])}")
    verdict = "stable" if out["stable"] else "UNSTABLE (lambda_AT >= 1)"
    print(f"{'RS':<22} {verdict}")
    print(f"{'converged':<22} {out['converged']} ({out['n_iter']} iterations, {out['seconds']:.3f} s)")
    if out["beta"] is None and out["levels"] is not None:
        print("\nat beta = inf discrete levels are always RS-unstable (lambda_AT = inf, §8.4): the T = 0 "
              "values are the RS solution, not a prediction")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _rs_plot(out, path) -> None:
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.linspace(-4, 4, 801)
    ax.plot(x, np.exp(-x**2 / 2) / math.sqrt(2 * math.pi), "-", c="0.5", label="teacher N(0, 1)")
    if out["levels"] is not None:
        lev = np.asarray(out["levels"])
        t = (lev[1:] + lev[:-1]) / 2
        ax.vlines(lev, 0, 0.45, colors="C0", label="levels")
        ax.vlines(t, 0, 0.2, colors="C1", linestyles=":", label="rounding thresholds")
    ax.set_xlabel("weight")
    ax.set_title(f"{_levels_text(out)}\nalpha = {out['alpha']:g}, Delta = {out['delta']:g}, "
                 f"beta = {_fmt(out['beta'], 'g')}: gen error {_fmt(out['gen_error'], '.4f')}, "
                 f"lambda_AT {_fmt(out['lambda_at'], '.3f')}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- phase
def _phase(args) -> int:
    import numpy as np

    from algorithms.theory.quant_study import phase_diagram

    beta = _check_common(args, DEFAULTS["phase_beta"])
    if not math.isfinite(beta):
        raise ValueError("--beta must be finite for mcover quant phase (at beta = inf discrete levels "
                         "are always RS-unstable)")
    if args.bits_range is None:
        args.bits_range = "2:8" if args.kind == "midtread" else "1:8"
    bits = parse_range(args.bits_range, "--bits-range")
    for b in bits:
        _check_bits(b, args.kind, "--bits-range")
    widths = parse_grid(args.widths, "--widths")
    t0 = time.perf_counter()
    pd = phase_diagram(bits, widths, alpha=args.alpha, delta=args.delta, beta=beta, kind=args.kind,
                       ridge=args.ridge)
    onset = []
    for i in range(len(bits)):
        j = np.flatnonzero(~pd.stable[i])
        onset.append(float(pd.widths[j[0]]) if j.size else None)
    out = {**_settings(args, "phase"), "beta": float(beta), "alpha": float(args.alpha),
           "bits": [int(b) for b in pd.bits], "widths": [float(w) for w in pd.widths],
           "lambda_at": _nums(pd.lambda_at), "stable": pd.stable.tolist(), "gen_error": _nums(pd.gen_error),
           "converged": pd.converged.tolist(), "unstable_fraction": float(np.mean(~pd.stable)),
           "onset_width": onset, "seconds": round(time.perf_counter() - t0, 4)}
    return _emit(out, args, _phase_table, _phase_plot)


def _phase_table(out) -> None:
    print(f"AT eigenvalue over (bits, width), {out['kind']} convention (docs/theory.md §8.4, §8.7)")
    print(f"alpha = {out['alpha']:g}, Delta = {out['delta']:g}, beta = {out['beta']:g}, "
          f"ridge = {out['ridge']:g}; RS is unstable where lambda_AT >= 1 (marked *)\n")
    w = out["widths"]
    cols = range(len(w)) if len(w) <= 10 else sorted(set(round(k * (len(w) - 1) / 9) for k in range(10)))
    head = " ".join(f"{'w=' + format(w[j], '.3g'):>9}" for j in cols)
    print(f"{'bits':>4} {head} {'onset width':>11}")
    for i, b in enumerate(out["bits"]):
        cells = []
        for j in cols:
            lam = out["lambda_at"][i][j]
            cells.append(f"{_fmt(lam, '.3f') + ('*' if not out['stable'][i][j] else ' '):>9}")
        onset = out["onset_width"][i]
        print(f"{b:>4} " + " ".join(cells) + f" {'-' if onset is None else format(onset, '.3g'):>11}")
    shown = "" if len(cols) == len(w) else f" ({len(cols)} of {len(w)} widths shown)"
    print(f"\nunstable fraction {out['unstable_fraction']:.3f}{shown}; onset width: the smallest width "
          f"with lambda_AT >= 1 ({out['seconds']:.2f} s)")


def _phase_plot(out, path) -> None:
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    lam = np.array([[np.inf if v is None else v for v in row] for row in out["lambda_at"]])
    w, b = np.asarray(out["widths"]), np.asarray(out["bits"])
    im = ax.pcolormesh(w, b, np.log10(np.clip(lam, 1e-4, 1e4)), shading="nearest", cmap="viridis")
    fig.colorbar(im, ax=ax, label="log10 lambda_AT")
    if len(w) > 1 and len(b) > 1:
        ax.contour(w, b, lam, levels=[1.0], colors="w", linewidths=2)
    ax.contourf(w, b, (lam >= 1).astype(float), levels=[0.5, 1.5], colors="none", hatches=["//"])
    ax.set_xlabel(f"width omega ({out['kind']})")
    ax.set_ylabel("bits")
    ax.set_title(f"AT eigenvalue, alpha = {out['alpha']:g}, Delta = {out['delta']:g}, beta = {out['beta']:g}"
                 "\nhatched: RS unstable (lambda_AT >= 1)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- width
def max_width(bits: int, kind: str):
    """The width under ``kind`` whose uniform levels are Max's quantizer (None for mid-tread)."""
    from algorithms.theory.quantizers import max_uniform

    mu = max_uniform(bits)
    if kind == "midrise":
        return float(mu.levels[-1])
    if kind == "cells":
        return float(mu.levels[-1] + mu.step / 2)
    return None  # mid-tread has 2^b - 1 levels, Max's quantizer 2^b


def _width(args) -> int:
    from algorithms.theory.quant_study import optimal_width
    from algorithms.theory.quantizers import max_uniform
    from algorithms.theory.replica import solve_rs

    beta = _check_common(args)
    _check_bits(args.bits, args.kind)
    bounds = parse_grid(args.bounds + ":2", "--bounds") if args.bounds.count(":") == 1 else None
    if bounds is None:
        raise ValueError(f"--bounds must be LO:HI (e.g. 0.05:5), got {args.bounds!r}")
    if args.n_grid < 3:
        raise ValueError(f"--n-grid must be >= 3, got {args.n_grid}")
    t0 = time.perf_counter()
    ow = optimal_width(args.alpha, args.bits, args.delta, kind=args.kind, beta=beta, ridge=args.ridge,
                       bounds=(float(bounds[0]), float(bounds[-1])), n_grid=args.n_grid)
    mres = solve_rs(args.alpha, max_uniform(args.bits).levels, args.delta, beta=beta, ridge=args.ridge)
    out = {**_settings(args, "width"), "alpha": float(args.alpha), "bits": int(args.bits),
           "bounds": [float(bounds[0]), float(bounds[-1])], "n_grid": int(args.n_grid),
           "width": float(ow.width), "gen_error": _num(ow.gen_error), "widths": _nums(ow.widths),
           "errors": _nums(ow.errors), "max_width": max_width(args.bits, args.kind),
           "max_gen_error": _num(mres.gen_error), "seconds": round(time.perf_counter() - t0, 4)}
    return _emit(out, args, _width_table, _width_plot)


def _width_table(out) -> None:
    print(f"optimal width omega* of the {out['bits']}-bit uniform quantizer, {out['kind']} convention "
          "(docs/theory.md §8.7)")
    print(f"alpha = {out['alpha']:g}, Delta = {out['delta']:g}, beta = {_beta_text(out['beta'])}, "
          f"ridge = {out['ridge']:g}\n")
    print(f"{'width':>8} {'gen error':>10}")
    step = max(1, len(out["widths"]) // 10)
    for w, e in list(zip(out["widths"], out["errors"]))[::step]:
        print(f"{w:8.4f} {_fmt(e, '10.5f')}")
    print(f"\n{'omega*':<28} {out['width']:.5f}")
    print(f"{'gen error at omega*':<28} {_fmt(out['gen_error'], '.5f')}")
    mw = "-" if out["max_width"] is None else f"{out['max_width']:.5f}"
    print(f"{'Max uniform width':<28} {mw}   (the alpha -> inf, Delta = 0 optimum)")
    print(f"{'gen error with Max levels':<28} {_fmt(out['max_gen_error'], '.5f')}  ({out['seconds']:.2f} s)")


def _width_plot(out, path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(out["widths"], [float("nan") if e is None else e for e in out["errors"]], ".-", label="RS error")
    ax.plot([out["width"]], [out["gen_error"]], "*", ms=12, label=f"omega* = {out['width']:.3f}")
    if out["max_width"] is not None:
        ax.axvline(out["max_width"], c="0.5", ls=":", label=f"Max uniform ({out['max_width']:.3f})")
    ax.set_xlabel(f"width omega ({out['kind']})")
    ax.set_ylabel("generalization error")
    ax.set_title(f"{out['bits']} bits, alpha = {out['alpha']:g}, Delta = {out['delta']:g}, "
                 f"beta = {_fmt(out['beta'], 'g')}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- curve
def _curve(args) -> int:
    from algorithms.theory.quant_study import error_curve, interpolation_peak

    beta = _check_common(args)
    levels, bits, width = _levels_args(args)
    alphas = parse_grid(args.alphas, "--alphas")
    t0 = time.perf_counter()
    ec = error_curve(alphas, levels, args.delta, beta=beta, ridge=args.ridge)
    peak = None
    if math.isinf(beta) and args.ridge == 0:
        peak = _num(interpolation_peak(levels, args.delta))
    out = {**_settings(args, "curve"), "levels_rule": args.levels, "bits": bits, "width": width,
           "levels": None if levels is None else [float(v) for v in levels], "label": ec.label,
           "alphas": _nums(ec.alphas), "gen_error": _nums(ec.gen_error), "train_error": _nums(ec.train_error),
           "S": _nums(ec.S), "chi": _nums(ec.chi), "lambda_at": _nums(ec.lambda_at), "peak_alpha": peak,
           "seconds": round(time.perf_counter() - t0, 4)}
    return _emit(out, args, _curve_table, _curve_plot)


def _curve_table(out) -> None:
    print(f"errors against alpha (docs/theory.md §8.3, §8.7): {_levels_text(out)}")
    print(f"Delta = {out['delta']:g}, beta = {_beta_text(out['beta'])}, ridge = {out['ridge']:g}\n")
    print(f"{'alpha':>7} {'gen error':>10} {'train error':>11} {'S':>8} {'chi':>9} {'lambda_AT':>9}")
    for i, a in enumerate(out["alphas"]):
        print(f"{a:7.3f} {_fmt(out['gen_error'][i], '10.5f')} {_fmt(out['train_error'][i], '11.5f')} "
              f"{_fmt(out['S'][i], '8.4f')} {_fmt(out['chi'][i], '9.4f')} "
              f"{_fmt(out['lambda_at'][i], '9.4f')}")
    peak = "-" if out["peak_alpha"] is None else f"{out['peak_alpha']:.5f}"
    print(f"\ninterpolation peak alpha = S: {peak}"
          + ("" if out["beta"] is None and out["ridge"] == 0 else " (zero temperature without ridge only)")
          + f"  ({out['seconds']:.2f} s)")


def _curve_plot(out, path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))

    def clean(v):
        return [float("nan") if x is None else x for x in v]

    ax.plot(out["alphas"], clean(out["gen_error"]), "-", label="generalization error")
    ax.plot(out["alphas"], clean(out["train_error"]), "--", label="training error")
    if out["peak_alpha"] is not None:
        ax.axvline(out["peak_alpha"], c="0.5", ls=":", label=f"alpha = S ({out['peak_alpha']:.3f})")
    ax.set_yscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel("error")
    ax.set_title(f"{_levels_text(out)}\nDelta = {out['delta']:g}, beta = {_fmt(out['beta'], 'g')}",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- parser
def add_parser(sub) -> None:
    """Register ``quant`` (with actions rs, phase, width, curve) on the ``mcover`` subparsers."""
    pq = sub.add_parser(
        "quant", help="replica theory of regression with quantized weights (RS, AT, omega*, double descent)",
        description=("The replica-symmetric theory of linear regression with weights on a finite set of "
                     "levels (docs/theory.md §8): one fixed point (rs), the AT phase diagram over bits and "
                     "width (phase), the optimal width (width), the error against alpha (curve)."))
    acts = pq.add_subparsers(dest="quant_command", metavar="ACTION", required=True)

    def common(p, beta_default: str):
        p.add_argument("--kind", default="midrise", metavar="KIND",
                       help="level convention of the uniform quantizer: midrise | midtread | cells "
                            "(default midrise)")
        p.add_argument("--delta", type=float, default=DEFAULTS["delta"],
                       help=f"label-noise variance Delta >= 0 (default {DEFAULTS['delta']:g})")
        p.add_argument("--beta", type=float, default=None,
                       help=f"inverse temperature > 0, 'inf' for zero temperature (default {beta_default})")
        p.add_argument("--ridge", type=float, default=0.0, help="ridge penalty >= 0 (default 0)")
        p.add_argument("--plot", type=Path, default=None, help="save a figure to PNG")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    def alpha(p):
        p.add_argument("--alpha", type=float, default=DEFAULTS["alpha"],
                       help=f"samples per weight M/N > 0 (default {DEFAULTS['alpha']:g})")

    def levels(p):
        p.add_argument("--bits", type=int, default=DEFAULTS["bits"], help=f"bits per weight (default "
                                                                            f"{DEFAULTS['bits']})")
        p.add_argument("--width", type=float, default=None,
                       help=f"width omega > 0 of the uniform levels (default {DEFAULTS['width']:g})")
        p.add_argument("--levels", default="uniform", metavar="RULE",
                       help="uniform (uniform_levels(bits, width, kind)) | max (Max's MSE-optimal uniform) | "
                            "lloyd (Lloyd-Max) | continuous (no quantization) (default uniform)")

    p = acts.add_parser("rs", help="one RS fixed point: overlaps, errors, lambda_AT")
    alpha(p)
    levels(p)
    common(p, "inf")
    p.set_defaults(func=_rs)

    p = acts.add_parser("phase", help="lambda_AT over (bits, width) at finite beta")
    alpha(p)
    p.add_argument("--bits-range", default=None, metavar="LO:HI",
                   help="bits LO..HI inclusive (default 1:8; 2:8 for midtread)")
    p.add_argument("--widths", default=DEFAULTS["widths"], metavar="LO:HI:N",
                   help=f"N widths from LO to HI (default {DEFAULTS['widths']})")
    common(p, f"{DEFAULTS['phase_beta']:g}; must be finite")
    p.set_defaults(func=_phase)

    p = acts.add_parser("width", help="the generalization-optimal width omega*")
    alpha(p)
    p.add_argument("--bits", type=int, default=DEFAULTS["bits"], help=f"bits per weight (default "
                                                                        f"{DEFAULTS['bits']})")
    p.add_argument("--bounds", default=DEFAULTS["bounds"], metavar="LO:HI",
                   help=f"width range searched (default {DEFAULTS['bounds']})")
    p.add_argument("--n-grid", type=int, default=DEFAULTS["n_grid"],
                   help=f"coarse grid points before refinement (default {DEFAULTS['n_grid']})")
    common(p, "inf")
    p.set_defaults(func=_width)

    p = acts.add_parser("curve", help="errors against alpha and the interpolation peak alpha = S")
    p.add_argument("--alphas", default=DEFAULTS["alphas"], metavar="LO:HI:N",
                   help=f"N values of alpha from LO to HI (default {DEFAULTS['alphas']})")
    levels(p)
    common(p, "inf")
    p.set_defaults(func=_curve)
