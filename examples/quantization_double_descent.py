"""Double descent with and without quantized weights: where does the interpolation peak land?

A ridgeless linear student learns a Gaussian teacher from P = alpha N examples with label
noise Delta = 0.1, at zero temperature (the least-squares / rounded minimiser;
docs/theory.md §8.2-8.3).  With continuous weights the generalization error
``Delta alpha / (alpha - 1)`` diverges at the interpolation threshold alpha = 1.  With
weights on the levels of a b-bit uniform quantizer the error stays finite: the rounding
error is bounded, and the susceptibility ``chi = S / (alpha - S)`` diverges where alpha
meets the response S < 1 of the rounded estimator, so the interpolation peak moves to
alpha = S < 1 (:func:`algorithms.theory.quant_study.interpolation_peak`, finding iii of
§8.7).  The example prints and draws the generalization and training errors against alpha
(0.1..4) for continuous weights and bits 1..4 at a few widths, marks each peak, and adds
one finite-temperature curve (beta = 10, 2 bits) where the peak is smoothed.

AMP is not run here: at beta = inf the Gibbs measure of discrete weights is not a
replica-symmetric object (lambda_AT = inf, §8.4), so there is no AMP fixed point to
compare with; the phase-diagram example puts AMP against RS at finite beta.

Every table and figure names the level convention (``--kind midrise|midtread|cells``, §8.1).

Run:  python examples/quantization_double_descent.py [--out DIR] [--small] [--kind midrise]

The full mode (4 bits x 3 widths x 40 alphas) takes a few seconds; ``--small`` (2 bits,
one width, 9 alphas) about a second.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.theory.quant_study import error_curve, interpolation_peak
from algorithms.theory.quantizers import uniform_levels
from mcover.progress import Progress

DELTA = 0.1
FULL = {"alphas": np.linspace(0.1, 4.0, 40), "bits": (1, 2, 3, 4), "widths": (1.0, 1.5, 2.5), "beta": 10.0}
SMALL = {"alphas": np.linspace(0.25, 4.0, 9), "bits": (1, 2), "widths": (1.5,), "beta": 10.0}


def bits_for(kind: str, bits) -> tuple:
    """Mid-tread needs 2 bits or more (1 bit would be the single level 0)."""
    return tuple(b for b in bits if b >= 2) if kind == "midtread" else tuple(bits)


def alpha_grid(alphas) -> np.ndarray:
    """The grid with alpha = 1 itself in it (rounded, so that 1 is exactly 1.0)."""
    return np.unique(np.round(np.r_[np.asarray(alphas, dtype=float), 1.0], 12))


def main(out, small: bool = False, kind: str = "midrise") -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cfg = SMALL if small else FULL
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    alphas = alpha_grid(cfg["alphas"])
    bits = bits_for(kind, cfg["bits"])
    continuous = error_curve(alphas, None, DELTA)
    curves, peaks = {}, {}
    bar = Progress(len(bits) * len(cfg["widths"]), "error curves")
    for b in bits:
        for w in cfg["widths"]:
            levels = uniform_levels(b, w, kind=kind)
            curves[(b, w)] = error_curve(alphas, levels, DELTA, label=f"{b} bits, width {w:g}")
            peaks[(b, w)] = interpolation_peak(levels, DELTA)
            bar.tick(note=f"{b} bits, width {w:g}")
    bar.close()
    fb, fw = (2, cfg["widths"][0]) if 2 in bits else (bits[0], cfg["widths"][0])
    finite = error_curve(alphas, uniform_levels(fb, fw, kind=kind), DELTA, beta=cfg["beta"],
                         label=f"{fb} bits, width {fw:g}, beta = {cfg['beta']:g}")

    i1 = int(np.flatnonzero(alphas == 1.0)[0])
    print(f"interpolation peak alpha = S, zero temperature, Delta = {DELTA:g}, {kind} convention "
          "(continuous weights: alpha = 1)")
    print(f"{'bits':>4} {'width':>6} {'peak alpha':>10} {'error at alpha=1':>16} {'train err at 1':>14} "
          f"{'error at alpha=' + format(alphas[-1], 'g'):>16}")
    print(f"{'cont':>4} {'-':>6} {1.0:10.4f} {'inf':>16} {continuous.train_error[i1]:14.4f} "
          f"{continuous.gen_error[-1]:16.4f}")
    for (b, w), ec in curves.items():
        print(f"{b:>4} {w:6g} {peaks[(b, w)]:10.4f} {ec.gen_error[i1]:16.4f} "
              f"{ec.train_error[i1]:14.4f} {ec.gen_error[-1]:16.4f}")
    print(f"\n{finite.label}: error at alpha = 1 {finite.gen_error[i1]:.4f} "
          "(finite temperature smooths the peak)")

    fig, (a, b_ax) = plt.subplots(1, 2, figsize=(12, 4.4))
    a.semilogy(alphas[alphas > 1], continuous.gen_error[alphas > 1], "k-", lw=2, label="continuous")
    a.axvline(1.0, c="k", ls=":", lw=1)
    b_ax.plot(alphas, continuous.train_error, "k-", lw=2, label="continuous")
    styles = ["-", "--", "-.", ":"]
    for (bb, w), ec in curves.items():
        c = f"C{bits.index(bb)}"
        ls = styles[cfg["widths"].index(w) % len(styles)]
        a.semilogy(alphas, ec.gen_error, ls, c=c, label=f"{ec.label} (peak {peaks[(bb, w)]:.2f})")
        if np.isfinite(peaks[(bb, w)]):
            a.axvline(peaks[(bb, w)], c=c, ls=ls, lw=0.7, alpha=0.6)
        b_ax.plot(alphas, ec.train_error, ls, c=c, label=ec.label)
    a.semilogy(alphas, finite.gen_error, "o", c="0.4", ms=3, label=finite.label)
    a.set_xlabel("alpha = P / N")
    a.set_ylabel("generalization error (Delta included)")
    a.set_title(f"zero temperature, Delta = {DELTA:g}, {kind} levels: vertical lines = peaks alpha = S",
                fontsize=9)
    a.legend(fontsize=6)
    b_ax.set_xlabel("alpha = P / N")
    b_ax.set_ylabel("training error")
    b_ax.set_title("training error: zero below the peak (interpolation)", fontsize=9)
    b_ax.legend(fontsize=6)
    fig.suptitle(f"double descent with quantized weights ({kind} convention)")
    fig.tight_layout()
    figure = out / f"quantization_double_descent_{kind}.png"
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    print(f"\nfigure written to {figure}")
    return {"kind": kind, "alphas": alphas, "bits": bits, "widths": cfg["widths"], "continuous": continuous,
            "curves": curves, "peaks": peaks, "finite_beta": finite, "figure": figure}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out"), help="folder for the figure (default out)")
    ap.add_argument("--small", action="store_true", help="about a second: 2 bits, one width")
    ap.add_argument("--kind", default="midrise", choices=("midrise", "midtread", "cells"),
                    help="level convention (default midrise)")
    a = ap.parse_args()
    main(a.out, small=a.small, kind=a.kind)
