"""Timings of the STE learning-dynamics tools (docs/theory.md §9), at the published setting.

b = 2 bits and width 2 on weights and inputs (mid-rise), w* = 1, mu_0 = N(0, 1), eta = 0.1.
Prints a table (no assertions):

* ``simulate`` at d = 3000 up to tau = 100 (3·10⁵ steps, 9·10⁸ input draws): its first call in a
  fresh process with an empty Numba cache (compile included) and with a warm cache, then one run
  and two runs (one per core);
* the anchor: the same online dynamics written as a plain NumPy loop (inputs from
  ``Generator.standard_normal``, one vectorised step per example), timed over tau = 2 and scaled
  to tau = 100, and the ratio;
* ``mean_field`` (constant and Gaussian teacher), ``ode``, ``fixed_point`` and
  ``plateau_length`` over the same horizon.

Run:  python benchmarks/ste.py [--tau-numpy 2]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from algorithms.theory.quantizers import quantize, uniform_levels
from algorithms.theory.ste import fixed_point, mean_field, ode, plateau_length, simulate

D, ETA, TAU = 3000, 0.1, 100.0
LEVELS = uniform_levels(2, 2.0, kind="midrise")
SETTINGS = dict(eta=ETA, teacher=1.0, init_std=1.0)

_FIRST_CALL = (
    "import time; t = time.perf_counter();"
    "from algorithms.theory.quantizers import uniform_levels;"
    "from algorithms.theory.ste import simulate;"
    "c = uniform_levels(2, 2.0, kind='midrise');"
    "simulate(c, c, d=50, eta=0.1, tau=1.0, teacher=1.0, seed=0);"
    "print(time.perf_counter() - t)"
)


def first_call(cache_dir: str) -> float:
    """Seconds for import + a tiny simulate in a fresh interpreter using ``cache_dir``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def numpy_reference(d: int, tau: float, seed: int = 0) -> float:
    """The online STE dynamics as a plain NumPy loop; returns the final exact error."""
    rng = np.random.default_rng(seed)
    c = LEVELS
    w = rng.standard_normal(d)
    ws = np.ones(d)
    k1 = 0.9693  # only for the returned error; the dynamics do not use it
    k2 = 1.0931
    scale = 1.0 / np.sqrt(d)
    for _ in range(int(round(tau * d))):
        x = rng.standard_normal(d)
        psi = quantize(x, c)
        phi = quantize(w, c)
        r = (ws @ x - phi @ psi) * scale
        w += ETA * scale * r * psi
    phi = quantize(w, c)
    return float(np.mean(ws**2) - 2 * k1 * np.mean(ws * phi) + k2 * np.mean(phi**2))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(tau_numpy: float = 2.0) -> list:
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        cold = first_call(cache)
        warm = first_call(cache)
    rows.append(("simulate: import + first call, empty Numba cache", cold, ""))
    rows.append(("simulate: import + first call, warm cache", warm, ""))
    c = LEVELS
    sec1, r = timed(lambda: simulate(c, c, d=D, tau=TAU, seeds=1, seed=0, **SETTINGS))
    rows.append((f"simulate d={D}, tau={TAU:g}, 1 run", sec1, f"final error {r.gen_error[-1]:.4f}"))
    sec2, r = timed(lambda: simulate(c, c, d=D, tau=TAU, seeds=2, seed=0, **SETTINGS))
    rows.append((f"simulate d={D}, tau={TAU:g}, 2 runs", sec2, f"final error {r.gen_error[-1]:.4f}"))
    secn, err = timed(lambda: numpy_reference(D, tau_numpy))
    scaled = secn * TAU / tau_numpy
    rows.append((f"NumPy loop, tau={tau_numpy:g} scaled to tau={TAU:g}", scaled,
                 f"{scaled / sec1:.1f}x the kernel (1 run)"))
    sec, r = timed(lambda: mean_field(c, c, tau=TAU, **SETTINGS))
    rows.append(("mean_field, w* = 1", sec, f"{r.settings['n_steps']} steps, final {r.gen_error[-1]:.4f}"))
    sec, r = timed(lambda: mean_field(c, c, tau=TAU, **dict(SETTINGS, teacher="gaussian")))
    rows.append(("mean_field, Gaussian teacher (30 nodes)", sec,
                 f"{r.settings['n_steps']} steps, final {r.gen_error[-1]:.4f}"))
    sec, r = timed(lambda: ode(c, c, tau=TAU, **SETTINGS))
    rows.append(("ode (eta -> 0), w* = 1", sec, f"final {r.gen_error[-1]:.4f}"))
    sec, r = timed(lambda: ode(c, c, tau=TAU, **dict(SETTINGS, teacher="gaussian")))
    rows.append(("ode (eta -> 0), Gaussian teacher", sec, f"final {r.gen_error[-1]:.4f}"))
    sec, r = timed(lambda: fixed_point(c, c, teacher=1.0))
    rows.append(("fixed_point, w* = 1", sec, f"eps_inf {r.gen_error:.4f}"))
    sec, r = timed(lambda: plateau_length(c, c, eta=ETA))
    rows.append(("plateau_length, w* = 1", sec, f"tau_p {r:.2f}"))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tau-numpy", type=float, default=2.0, help="horizon of the NumPy anchor (scaled)")
    args = ap.parse_args()
    print(f"{'what':<52} {'seconds':>9}  note")
    for name, sec, note in main(args.tau_numpy):
        print(f"{name:<52} {sec:9.3f}  {note}")
