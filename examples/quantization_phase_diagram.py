"""Where is replica symmetry stable for a quantized regression student?  The AT phase diagram.

A linear student with weights on the 2^b levels of a uniform quantizer of width omega
learns a Gaussian teacher from P = alpha N noisy examples (label noise Delta), sampling
the Gibbs measure at inverse temperature beta (docs/theory.md §8.2).  The replica-symmetric
(RS) solution is trustworthy only where the AT (replicon) eigenvalue lambda_AT is below 1
(§8.4).  This example maps lambda_AT over bits (1..8; 2..8 for the mid-tread convention)
and 40 widths (0.1..4) at alpha = 2, Delta = 0.1 and beta = 5 and 10
(:func:`algorithms.theory.quant_study.phase_diagram`, finding i of §8.7), draws the
lambda_AT = 1 contour with the RS-unstable region hatched, and compares Max's MSE-optimal
uniform levels with Lloyd-Max levels bit by bit (error and lambda_AT,
:func:`~algorithms.theory.quant_study.compare_levels`).

If :func:`algorithms.theory.quant_amp.quantized_amp` is available, a third panel puts AMP
on one instance (N = 1000, 2 bits, beta = 5, annealed in 3 stages; §8.6) against the RS
generalization error along the width.

Every table and figure names the level convention (``--kind midrise|midtread|cells``;
docs/theory.md §8.1), so the figure can be redrawn under each.

Run:  python examples/quantization_phase_diagram.py [--out DIR] [--small] [--kind midrise]
          [--no-amp]

The full mode (8 bits x 40 widths x 2 betas, six AMP points) takes about 10 seconds
on two cores; ``--small`` (3 bits x 8 widths, one beta, two small AMP points) runs in a
couple of seconds.
"""

import argparse
from pathlib import Path

import numpy as np

from algorithms.theory.quant_study import compare_levels, phase_diagram
from algorithms.theory.quantizers import uniform_levels
from algorithms.theory.replica import solve_rs
from mcover.progress import Progress

ALPHA, DELTA = 2.0, 0.1
FULL = {"bits": tuple(range(1, 9)), "widths": np.linspace(0.1, 4.0, 40), "betas": (5.0, 10.0),
        "amp": {"N": 1000, "bits": 2, "beta": 5.0, "widths": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)}}
SMALL = {"bits": (1, 2, 3), "widths": np.linspace(0.1, 4.0, 8), "betas": (5.0,),
         "amp": {"N": 200, "bits": 2, "beta": 5.0, "widths": (1.0, 2.5)}}


def bits_for(kind: str, bits) -> tuple:
    """Mid-tread needs 2 bits or more (1 bit would be the single level 0)."""
    return tuple(b for b in bits if b >= 2) if kind == "midtread" else tuple(bits)


def onset_widths(pd) -> list:
    """Per bits, the smallest width of the grid where RS is unstable (None if nowhere)."""
    out = []
    for row in pd.stable:
        j = np.flatnonzero(~row)
        out.append(float(pd.widths[j[0]]) if j.size else None)
    return out


def amp_points(cfg: dict, kind: str) -> list | None:
    """AMP (one instance) against RS along the width; None if quantized_amp is not available."""
    try:
        from algorithms.theory.quant_amp import quantized_amp
        from fgraph.problems import quantized_regression
    except ImportError:
        return None
    rows = []
    bar = Progress(len(cfg["widths"]), "AMP points")
    for s, w in enumerate(cfg["widths"]):
        levels = uniform_levels(cfg["bits"], w, kind=kind)
        prob = quantized_regression(cfg["N"], ALPHA, levels, noise=DELTA, teacher="gaussian", seed=s,
                                    graph=False)
        res = quantized_amp(prob, levels, beta=cfg["beta"], anneal=3)
        rs = solve_rs(ALPHA, levels, DELTA, beta=cfg["beta"])
        rows.append({"width": float(w), "amp_gen_error": float(res.gen_error),
                     "rs_gen_error": float(rs.gen_error), "rs_lambda_at": float(rs.lambda_at),
                     "converged": bool(res.converged), "N": cfg["N"]})
        bar.tick(note=f"width {w:g}")
    bar.close()
    return rows


def format_table(pd, onset) -> str:
    w = pd.widths
    cols = sorted(set(round(k * (len(w) - 1) / 7) for k in range(8)))
    lines = [f"lambda_AT, {pd.kind} convention, alpha = {pd.alpha:g}, Delta = {pd.delta:g}, "
             f"beta = {pd.beta:g} (* = RS unstable)",
             f"{'bits':>4} " + " ".join(f"{'w=' + format(w[j], '.2f'):>9}" for j in cols) + f" {'onset':>7}"]
    for i, b in enumerate(pd.bits):
        cells = " ".join(f"{format(pd.lambda_at[i, j], '.3f') + ('*' if not pd.stable[i, j] else ' '):>9}"
                         for j in cols)
        lines.append(f"{b:>4} {cells} {'-' if onset[i] is None else format(onset[i], '.2f'):>7}")
    return "\n".join(lines)


def main(out, small: bool = False, kind: str = "midrise", amp: bool = True) -> dict:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cfg = SMALL if small else FULL
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bits = bits_for(kind, cfg["bits"])
    diagrams, onsets, comparisons = {}, {}, {}
    bar = Progress(len(cfg["betas"]), "phase diagrams")
    for beta in cfg["betas"]:
        pd = phase_diagram(bits, cfg["widths"], alpha=ALPHA, delta=DELTA, beta=beta, kind=kind)
        diagrams[beta], onsets[beta] = pd, onset_widths(pd)
        comparisons[beta] = compare_levels(bits, alpha=ALPHA, delta=DELTA, beta=beta)
        bar.tick(note=f"beta {beta:g}")
    bar.close()
    amp_rows = amp_points(cfg["amp"], kind) if amp else None

    for beta in cfg["betas"]:
        print(format_table(diagrams[beta], onsets[beta]))
        print()
    print(f"Max uniform vs Lloyd-Max levels (alpha = {ALPHA:g}, Delta = {DELTA:g}; these levels do not "
          f"depend on the convention)")
    print(f"{'beta':>5} {'bits':>4} {'err Max':>9} {'err Lloyd':>9} {'lam Max':>8} {'lam Lloyd':>9}")
    for beta, c in comparisons.items():
        for i, b in enumerate(c.bits):
            print(f"{beta:5g} {b:>4} {c.uniform_error[i]:9.4f} {c.lloyd_error[i]:9.4f} "
                  f"{c.uniform_lambda_at[i]:8.3f} {c.lloyd_lambda_at[i]:9.3f}")
    if amp_rows is None:
        print("\nAMP points: algorithms.theory.quant_amp is not available, skipped")
    else:
        a = cfg["amp"]
        print(f"\nAMP (N = {a['N']}, one instance per width) vs RS: {a['bits']} bits, {kind} convention, "
              f"beta = {a['beta']:g}")
        print(f"{'width':>6} {'AMP err':>8} {'RS err':>8} {'RS lambda_AT':>12}")
        for r in amp_rows:
            print(f"{r['width']:6.2f} {r['amp_gen_error']:8.4f} {r['rs_gen_error']:8.4f} "
                  f"{r['rs_lambda_at']:12.3f}")

    n = len(cfg["betas"])
    fig, axes = plt.subplots(1, n + 2, figsize=(4.6 * (n + 2), 4))
    for ax, beta in zip(axes, cfg["betas"]):
        pd = diagrams[beta]
        lam = np.clip(pd.lambda_at, 1e-4, 1e4)
        im = ax.pcolormesh(pd.widths, pd.bits, np.log10(lam), shading="nearest", cmap="viridis")
        fig.colorbar(im, ax=ax, label="log10 lambda_AT")
        if len(pd.bits) > 1:
            ax.contour(pd.widths, pd.bits, pd.lambda_at, levels=[1.0], colors="w", linewidths=2)
        ax.contourf(pd.widths, pd.bits, (~pd.stable).astype(float), levels=[0.5, 1.5], colors="none",
                    hatches=["//"])
        ax.set_xlabel(f"width omega ({kind})")
        ax.set_ylabel("bits")
        ax.set_title(f"beta = {beta:g}: hatched = RS unstable\nwhite line: lambda_AT = 1", fontsize=9)
    ax = axes[n]
    for k, (beta, c) in enumerate(comparisons.items()):
        ax.semilogy(c.bits, c.uniform_lambda_at, "o-", c=f"C{k}", label=f"Max uniform, beta {beta:g}")
        ax.semilogy(c.bits, c.lloyd_lambda_at, "s--", c=f"C{k}", label=f"Lloyd-Max, beta {beta:g}")
    ax.axhline(1.0, c="0.4", ls=":")
    ax.set_xlabel("bits")
    ax.set_ylabel("lambda_AT")
    ax.set_title("MSE-optimal levels: uniform vs Lloyd-Max", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[n + 1]
    a = cfg["amp"]
    pd = diagrams[a["beta"]] if a["beta"] in diagrams else diagrams[cfg["betas"][0]]
    if a["bits"] in pd.bits:
        i = int(np.flatnonzero(pd.bits == a["bits"])[0])
        ax.plot(pd.widths, pd.gen_error[i], "-", label=f"RS, {a['bits']} bits")
        ax.plot(pd.widths[~pd.stable[i]], pd.gen_error[i][~pd.stable[i]], "x", c="C3", label="RS unstable")
    if amp_rows:
        ax.plot([r["width"] for r in amp_rows], [r["amp_gen_error"] for r in amp_rows], "o", c="k",
                label=f"AMP, N = {a['N']}")
    ax.set_xlabel(f"width omega ({kind})")
    ax.set_ylabel("generalization error (Gibbs)")
    ax.set_title(f"{a['bits']} bits, beta = {pd.beta:g}" + ("" if amp_rows else " (no AMP)"), fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle(f"AT stability of quantized regression, {kind} levels, alpha = {ALPHA:g}, Delta = {DELTA:g}")
    fig.tight_layout()
    figure = out / f"quantization_phase_diagram_{kind}.png"
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    print(f"\nfigure written to {figure}")
    return {"kind": kind, "bits": bits, "widths": np.asarray(cfg["widths"]), "betas": cfg["betas"],
            "diagrams": diagrams, "lambda_at": {b: d.lambda_at for b, d in diagrams.items()},
            "onset": onsets, "compare": comparisons, "amp": amp_rows, "figure": figure}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("out"), help="folder for the figure (default out)")
    ap.add_argument("--small", action="store_true", help="a few seconds: 3 bits x 8 widths, one beta")
    ap.add_argument("--kind", default="midrise", choices=("midrise", "midtread", "cells"),
                    help="level convention (default midrise)")
    ap.add_argument("--no-amp", action="store_true", help="skip the AMP points")
    a = ap.parse_args()
    main(a.out, small=a.small, kind=a.kind, amp=not a.no_amp)
