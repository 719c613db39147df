"""Timings of the replica theory of quantized regression (docs/theory.md §8.2-8.5, §8.7).

Prints a table (no assertions):

* one ``solve_rs`` at finite beta (alpha = 2, 2 bits, width 1.5, Delta = 0.1, beta = 10): the
  cold first call (imports done, caches empty) separately, then the median of repeats;
* one ``solve_rs`` at zero temperature (same settings, beta = inf);
* the user-facing phase diagram, bits 1..8 x 40 widths at beta = 5 (``phase_diagram``);
* a literal 40 x 40 grid: 40 widths x 40 betas (1..20) for 2 bits, as 40 ``phase_diagram``
  calls, one per beta (target: under a minute on two cores);
* ``optimal_width`` (40-point grid and refinement) and ``interpolation_peak``.

Run:  python benchmarks/theory.py [--repeats 20]
"""

import argparse
import statistics
import time

import numpy as np

from algorithms.theory.quant_study import interpolation_peak, optimal_width, phase_diagram
from algorithms.theory.quantizers import uniform_levels
from algorithms.theory.replica import solve_rs

ALPHA, BITS, WIDTH, DELTA, BETA = 2.0, 2, 1.5, 0.1, 10.0


def timed(fn, repeats: int = 1) -> tuple:
    """(median seconds, list of seconds, last result)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, out


def main(repeats: int = 20) -> list:
    levels = uniform_levels(BITS, WIDTH)
    rows = []
    cold, _, r = timed(lambda: solve_rs(ALPHA, levels, DELTA, beta=BETA))
    rows.append(("solve_rs, beta = 10, cold first call", cold, 1, f"lambda_AT = {r.lambda_at:.4f}"))
    med, _, r = timed(lambda: solve_rs(ALPHA, levels, DELTA, beta=BETA), repeats)
    rows.append((f"solve_rs, beta = 10, median of {repeats}", med, 1, f"gen error = {r.gen_error:.4f}"))
    med, _, r = timed(lambda: solve_rs(ALPHA, levels, DELTA), repeats)
    rows.append((f"solve_rs, beta = inf, median of {repeats}", med, 1, f"gen error = {r.gen_error:.4f}"))
    widths = np.linspace(0.1, 4.0, 40)
    sec, _, pd = timed(lambda: phase_diagram(range(1, 9), widths, alpha=ALPHA, delta=DELTA, beta=5.0))
    rows.append(("phase_diagram, bits 1..8 x 40 widths, beta = 5", sec, pd.lambda_at.size,
                 f"unstable fraction {np.mean(~pd.stable):.3f}"))
    betas = np.linspace(1.0, 20.0, 40)

    def grid40():
        return np.array([phase_diagram([BITS], widths, alpha=ALPHA, delta=DELTA, beta=float(b)).lambda_at[0]
                         for b in betas])

    sec, _, lam = timed(grid40)
    rows.append(("40 widths x 40 betas (1..20), 2 bits", sec, lam.size,
                 f"unstable fraction {np.mean(lam >= 1):.3f}"))
    sec, _, ow = timed(lambda: optimal_width(ALPHA, BITS, DELTA))
    rows.append(("optimal_width, 40-point grid + refinement", sec, 1, f"omega* = {ow.width:.4f}"))
    sec, _, pk = timed(lambda: interpolation_peak(levels, DELTA))
    rows.append(("interpolation_peak (brentq on alpha = S)", sec, 1, f"alpha = {pk:.4f}"))

    print(f"replica theory of quantized regression: alpha = {ALPHA:g}, {BITS} bits, width {WIDTH:g} "
          f"(midrise), Delta = {DELTA:g}")
    print(f"{'what':<48} {'seconds':>9} {'points':>7} {'ms/point':>9}  result")
    for what, s, n, note in rows:
        print(f"{what:<48} {s:9.4f} {n:>7} {1000 * s / n:9.3f}  {note}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20, help="repeats of the single solves (default 20)")
    main(ap.parse_args().repeats)
