"""Online STE simulation at d = 3000 against the finite-η mean-field PDE, along the whole curve.

The published setting: b = 2 bits and width ω = 2 on weights and inputs, w* = 1, μ₀ = N(0, 1),
η = 0.1, τ up to 100 (40 for cells, flat from τ = 25), for each quantizer convention. At
d = 3000 one run deviates from the d -> ∞ curve by O(d^(-1/2)): its initial weights are a sample,
so m = w*·φ/d alone has a standard deviation of about 0.02 and ε of about 0.04-0.07. The mean over
eight runs must then lie within 0.03 of the PDE at every recorded time (measured with the seeds 7
and 2026: at most 0.017, 0.016 and 0.015, and 0.009, 0.005 and 0.026, for mid-rise, cells and
mid-tread; four runs reach 0.048). The PDE's own discretisation error is below 0.003 there,
checked by refining its grid and step.
"""

import numpy as np
import pytest

from algorithms.theory.quantizers import uniform_levels
from algorithms.theory.ste import fixed_point, mean_field, ode, simulate

pytestmark = pytest.mark.slow


# cells settle by tau = 25 and stay flat (docs/theory.md §9.4): tau = 40 covers their whole curve
@pytest.mark.parametrize("kind, tau", [("midrise", 100.0), ("cells", 40.0), ("midtread", 100.0)])
def test_simulation_follows_the_mean_field_pde_at_d_3000(kind, tau):
    c = uniform_levels(2, 2.0, kind=kind)
    kw = dict(eta=0.1, tau=tau, teacher=1.0, init_std=1.0, n_points=101)
    sim = simulate(c, c, d=3000, seeds=8, seed=7, **kw)
    pde = mean_field(c, c, **kw)
    np.testing.assert_allclose(sim.tau, pde.tau, rtol=0, atol=0.5 / 3000)   # whole steps
    assert np.max(np.abs(sim.gen_error - pde.gen_error)) < 0.03
    # and both end near the eta -> 0 fixed point (finite eta adds a little noise-driven error)
    eps_inf = fixed_point(c, c, teacher=1.0).gen_error
    assert abs(pde.gen_error[-1] - eps_inf) < 0.01
    assert abs(sim.gen_error[-1] - eps_inf) < 0.02


def test_gaussian_teacher_simulation_follows_the_pde():
    """w* ~ N(0, 1): each run also samples its teacher, so |w*|²/d differs from ρ* = 1 by about
    sqrt(2/d) = 0.026; with 8 runs the mean stays within 0.03 of the PDE (30 Gauss–Hermite nodes;
    measured 0.015 over the first 4 time units with 16 runs, where the PDE moves by 1e-3 with
    60 nodes)."""
    c = uniform_levels(2, 2.0, kind="midrise")
    kw = dict(eta=0.1, tau=30.0, teacher="gaussian", init_std=1.0, n_points=61)
    sim = simulate(c, c, d=3000, seeds=8, seed=7, **kw)
    pde = mean_field(c, c, **kw)
    assert np.max(np.abs(sim.gen_error - pde.gen_error)) < 0.03


@pytest.mark.parametrize("kind", ["midrise", "cells"])
def test_clipped_ste_follows_the_pde_not_the_ode(kind):
    """Clipped STE (no update beyond ±ω): at finite η the noise carries weights past the clip
    points, where they freeze for good. The PDE has the same absorbing cells; the η -> 0 ODE has no
    noise and misses them. d = 1000, 8 runs, tau = 40: measured |sim - PDE| <= 0.031 (sampling at
    d = 1000 is about 0.1 per run) and |sim - ODE| up to 0.15."""
    c = uniform_levels(2, 2.0, kind=kind)
    kw = dict(eta=0.1, tau=40.0, teacher=1.0, init_std=1.0, n_points=41, clipped=True)
    sim = simulate(c, c, d=1000, seeds=8, seed=3, **kw)
    pde = mean_field(c, c, **kw)
    eta0 = ode(c, c, **kw)
    assert np.max(np.abs(sim.gen_error - pde.gen_error)) < 0.05
    assert np.max(np.abs(sim.gen_error - eta0.gen_error)) > 0.08
