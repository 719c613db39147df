"""M-covers of a small model: how a kernel Q shapes the loops, and Vontobel's <Z_M>^(1/M).

Left: the 8-cycles (squares of spins) of 8-covers of an L x L grid, lifted with a
Gaussian ring kernel of growing width.  The measured counts follow the
prediction N_8 tr((P Pt)^4) of docs/theory.md §5.5 (P: the kernel's exact marginal
Pr[pi(m) = m']), from M N_8 (narrow ring: nearly disjoint copies) down to N_8
(wide ring: the uniform random lift).

Right: exact partition functions of covers of an Ising ring, averaged over all
covers, against the exact and Bethe log Z: (1/M) log <Z(cover)> starts at the exact
value (M = 1) and falls toward the Bethe value like 1/M (Vontobel 2013).

Run:  python examples/covers.py [--out DIR]
"""

import argparse
import math
from pathlib import Path

import numpy as np

import lifts
from algorithms import run_bp
from fgraph import exact
from fgraph.problems import ising, ising_grid


def loops(L: int = 6, M: int = 8, widths=(0.2, 0.4, 0.7, 1.0, 1.5, 3.0), n_lifts: int = 12) -> list:
    """Measured and predicted 8-cycle counts of ring-kernel covers of the L x L grid."""
    g = ising_grid(L).graph
    n8 = lifts.count_cycles(g, 8)[8]
    rows = []
    for w in widths:
        kernel = lifts.Ring(w)
        P = kernel.P(M)
        pred = n8 * float(np.trace(np.linalg.matrix_power(P @ P.T, 4)))
        counts = [lifts.count_cycles(lifts.lift(g, M, kernel=kernel, seed=s), 8)[8] for s in range(n_lifts)]
        rows.append({"width": w, "measured": float(np.mean(counts)), "predicted": pred,
                     "stderr": float(np.std(counts, ddof=1) / math.sqrt(n_lifts))})
    return rows, n8


def vontobel(n: int = 5, J: float = 0.9, Ms=(1, 2, 3, 4, 5)) -> dict:
    """(1/M) log <Z(cover)> of the Ising n-ring over all covers, with exact and Bethe log Z."""
    g = ising(np.array([[i, (i + 1) % n] for i in range(n)]), J=J).graph
    vals = [lifts.cover_log_z(g, M).log_z for M in Ms]
    t = math.tanh(J)
    base = n * math.log(2 * math.cosh(J))  # log Z_Bethe of the ring
    closed = [base + math.log(sum(t ** (n * j) for j in range(M + 1))) / M for M in Ms]
    return {"M": list(Ms), "cover": vals, "closed_form": closed, "exact": float(exact.log_z(g)),
            "bethe": float(run_bp(g, tol=1e-13).log_z)}


def main(out: Path, L: int = 6) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, n8 = loops(L)
    print(f"8-cycles of 8-covers of the {L}x{L} grid (base: {n8} squares) under Ring(width) kernels")
    print(f"{'width':>6} {'measured':>9} {'predicted':>10}")
    for r in rows:
        print(f"{r['width']:6.2f} {r['measured']:9.1f} {r['predicted']:10.1f}")
    v = vontobel()
    print(f"\nIsing ring: exact log Z = {v['exact']:.6f}, Bethe = {v['bethe']:.6f}")
    print(f"{'M':>3} {'(1/M) log <Z>':>14} {'closed form':>12}")
    for M, a, b in zip(v["M"], v["cover"], v["closed_form"]):
        print(f"{M:>3} {a:14.6f} {b:12.6f}")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    w = [r["width"] for r in rows]
    ax1.errorbar(w, [r["measured"] for r in rows], yerr=[r["stderr"] for r in rows], fmt="o",
                 label="measured")
    ax1.plot(w, [r["predicted"] for r in rows], "-", label=r"$N_8\,\mathrm{tr}((PP^T)^4)$")
    ax1.axhline(8 * n8, ls=":", c="0.5", label="identity: M N_8")
    ax1.axhline(n8, ls="--", c="0.5", label="uniform: N_8")
    ax1.set_xlabel("ring width")
    ax1.set_ylabel("8-cycles in the 8-cover")
    ax1.legend(fontsize=8)
    ax2.plot(v["M"], v["cover"], "o-", label=r"$(1/M)\log\langle Z_M\rangle$")
    ax2.axhline(v["exact"], ls=":", c="C2", label="exact log Z")
    ax2.axhline(v["bethe"], ls="--", c="C3", label="Bethe log Z")
    ax2.set_xlabel("M")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out) / "covers.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"\nfigure: {path}")
    return {"figure": path, "loops": rows, "n8": n8, "vontobel": v}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("."))
    main(ap.parse_args().out)
