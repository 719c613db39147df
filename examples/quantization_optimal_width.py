"""How wide should a uniform weight quantizer be?  The optimal width omega*(alpha, bits, Delta).

A linear student with weights on the levels of a b-bit uniform quantizer of width omega
learns a Gaussian teacher (variance 1) from P = alpha N examples with label noise Delta
(docs/theory.md §8.2).  At zero temperature (§8.3) a narrow quantizer clips the teacher's
large weights, a wide one rounds coarsely: the generalization error has a minimum at
omega* (:func:`algorithms.theory.quant_study.optimal_width`, finding ii of §8.7).  As
alpha -> infinity with Delta = 0 the student sees the teacher exactly and omega* becomes
the width of Max's MSE-optimal uniform quantizer of N(0, 1) (§8.1;
:func:`algorithms.theory.quantizers.max_uniform`), marked on the figure.

It prints and draws omega* and the error at omega* against alpha for bits 1..4 and
Delta in {0, 0.1}, and the error against omega for a few alphas (2 bits, Delta = 0.1),
where the clipping/granularity trade-off is visible.  Every table and figure names the
level convention (``--kind midrise|midtread|cells``, §8.1).

Run:  python examples/quantization_optimal_width.py [--out DIR] [--small] [--kind midrise]

The full mode (4 bits x 10 alphas x 2 noises) takes about 4 seconds; ``--small``
(2 bits x 3 alphas x 2 noises) about a second.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.theory.quant_study import optimal_width
from algorithms.theory.quantizers import max_uniform, uniform_levels
from algorithms.theory.replica import solve_rs
from mcover.progress import Progress

FULL = {"bits": (1, 2, 3, 4), "alphas": (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 100.0, 1000.0, 1e5),
        "deltas": (0.0, 0.1), "n_grid": 40, "curve_alphas": (0.5, 2.0, 10.0, 1e5), "curve_bits": 2,
        "curve_widths": np.linspace(0.05, 4.0, 80)}
SMALL = {"bits": (1, 2), "alphas": (2.0, 10.0, 1e5), "deltas": (0.0, 0.1), "n_grid": 20,
         "curve_alphas": (2.0, 1e5), "curve_bits": 2, "curve_widths": np.linspace(0.1, 4.0, 12)}
CURVE_DELTA = 0.1


def bits_for(kind: str, bits) -> tuple:
    """Mid-tread needs 2 bits or more (1 bit would be the single level 0)."""
    return tuple(b for b in bits if b >= 2) if kind == "midtread" else tuple(bits)


def max_width(bits: int, kind: str):
    """The width under ``kind`` whose uniform levels are Max's quantizer (None for mid-tread:
    it has 2^b - 1 levels, Max's 2^b)."""
    mu = max_uniform(bits)
    if kind == "midrise":
        return float(mu.levels[-1])
    if kind == "cells":
        return float(mu.levels[-1] + mu.step / 2)
    return None


def main(out, small: bool = False, kind: str = "midrise") -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cfg = SMALL if small else FULL
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bits = bits_for(kind, cfg["bits"])
    alphas = np.asarray(cfg["alphas"], dtype=float)
    shape = (len(cfg["deltas"]), len(bits), alphas.size)
    wstar, estar = np.full(shape, np.nan), np.full(shape, np.nan)
    bar = Progress(int(np.prod(shape)), "optimal widths")
    for d, delta in enumerate(cfg["deltas"]):
        for i, b in enumerate(bits):
            for k, a in enumerate(alphas):
                ow = optimal_width(float(a), b, delta, kind=kind, n_grid=cfg["n_grid"])
                wstar[d, i, k], estar[d, i, k] = ow.width, ow.gen_error
                bar.tick(note=f"Delta {delta:g}, {b} bits, alpha {a:g}")
    bar.close()
    cb = cfg["curve_bits"]
    curves = {}
    for a in cfg["curve_alphas"]:
        curves[a] = np.array([solve_rs(a, uniform_levels(cb, w, kind=kind), CURVE_DELTA).gen_error
                              for w in cfg["curve_widths"]])
    limits = {b: max_width(b, kind) for b in bits}
    max_mse = {b: float(max_uniform(b).mse) for b in bits}

    print(f"optimal width omega* (zero temperature), {kind} convention; Max = the alpha -> inf, "
          "Delta = 0 limit")
    cols = " ".join(f"{'a=' + format(a, 'g'):>9}" for a in alphas)
    head = f"{'Delta':>5} {'bits':>4} {cols} {'Max':>8}"
    print(head)
    for d, delta in enumerate(cfg["deltas"]):
        for i, b in enumerate(bits):
            lim = "-" if limits[b] is None else f"{limits[b]:.4f}"
            row = " ".join(f"{w:9.4f}" for w in wstar[d, i])
            print(f"{delta:5g} {b:>4} {row} {lim:>8}")
    print(f"\ngeneralization error at omega* (label noise Delta included), {kind} convention "
          "(Max: its quantization MSE, the alpha -> inf, Delta = 0 error)")
    print(head)
    for d, delta in enumerate(cfg["deltas"]):
        for i, b in enumerate(bits):
            print(f"{delta:5g} {b:>4} " + " ".join(f"{e:9.4f}" for e in estar[d, i]) + f" {max_mse[b]:8.4f}")
    print(f"\nerror against width, {cb} bits, Delta = {CURVE_DELTA:g}, {kind} convention: the minimum "
          "of each row is omega*")
    for a, e in curves.items():
        j = int(np.argmin(e))
        print(f"  alpha = {a:<8g} best grid width {cfg['curve_widths'][j]:.3f}, error {e[j]:.4f} "
              f"(error {e[0]:.3f} at the narrowest width: clipping; {e[-1]:.3f} at the widest: "
              "coarse rounding)")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    for i, b in enumerate(bits):
        for d, delta in enumerate(cfg["deltas"]):
            ax.semilogx(alphas, wstar[d, i], "o-" if d == 0 else "s--", c=f"C{i}", ms=4,
                        label=f"{b} bits, Delta = {delta:g}")
        if limits[b] is not None:
            ax.axhline(limits[b], c=f"C{i}", ls=":", lw=1)
            ax.annotate(f"Max {limits[b]:.3f}", (alphas[-1], limits[b]), fontsize=7, ha="right", va="bottom")
    ax.set_xlabel("alpha")
    ax.set_ylabel(f"omega* ({kind})")
    ax.set_title("optimal width (dotted: Max's uniform quantizer)", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    for i, b in enumerate(bits):
        for d, delta in enumerate(cfg["deltas"]):
            ax.loglog(alphas, estar[d, i], "o-" if d == 0 else "s--", c=f"C{i}", ms=4,
                      label=f"{b} bits, Delta = {delta:g}")
        ax.axhline(max_mse[b], c=f"C{i}", ls=":", lw=1)
    ax.set_xlabel("alpha")
    ax.set_ylabel("generalization error at omega*")
    ax.set_title("error at omega* (dotted: Max's MSE, the floor at Delta = 0)", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax = axes[2]
    for a, e in curves.items():
        ax.semilogy(cfg["curve_widths"], e, "-", label=f"alpha = {a:g}")
    if max_width(cb, kind) is not None:
        ax.axvline(max_width(cb, kind), c="0.5", ls=":", label="Max's width")
    ax.set_xlabel(f"width omega ({kind})")
    ax.set_ylabel("generalization error")
    ax.set_title(f"{cb} bits, Delta = {CURVE_DELTA:g}: clipping (left) vs granularity (right)", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle(f"optimal quantization width, {kind} levels, zero temperature, Gaussian teacher")
    fig.tight_layout()
    figure = out / f"quantization_optimal_width_{kind}.png"
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    print(f"\nfigure written to {figure}")
    return {"kind": kind, "bits": bits, "alphas": alphas, "deltas": cfg["deltas"], "width": wstar,
            "gen_error": estar, "max_width": limits, "max_mse": max_mse, "curve_widths": cfg["curve_widths"],
            "curves": curves, "figure": figure}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out"), help="folder for the figure (default out)")
    ap.add_argument("--small", action="store_true", help="about a second: 2 bits x 3 alphas")
    ap.add_argument("--kind", default="midrise", choices=("midrise", "midtread", "cells"),
                    help="level convention (default midrise)")
    a = ap.parse_args()
    main(a.out, small=a.small, kind=a.kind)
