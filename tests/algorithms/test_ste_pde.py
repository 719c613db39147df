"""Mean-field Fokker–Planck equation of STE training: conservation, stationary law, η → 0 limits."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from algorithms.theory._ste_pde import MeanFieldResult, input_kappas, mean_field, stationary_density
from algorithms.theory.quantizers import quantize, thresholds, uniform_levels


def kappas_quad(levels):
    """(κ₁, κ₂) = (E[xψ(x)], E[ψ²]) by quadrature, cell by cell (ψ is piecewise constant)."""
    t = np.concatenate(([-np.inf], thresholds(levels), [np.inf]))
    cells = list(zip(levels, t[:-1], t[1:], strict=True))
    k1 = sum(c * quad(lambda x: x * norm.pdf(x), a, b)[0] for c, a, b in cells)
    k2 = sum(c**2 * quad(norm.pdf, a, b)[0] for c, a, b in cells)
    return k1, k2


def sliding_error(levels, k1, k2, w=1.0):
    """ε_∞ = ρ*(1 − κ₁²/κ₂) + κ₂ E[(φ − κ₁w*/κ₂)²] for the Filippov sliding mode (Δ = 0)."""
    s = k1 * w / k2
    k = int(np.searchsorted(levels, s)) - 1
    lo, hi = levels[k], levels[k + 1]
    p = (s - lo) / (hi - lo)
    return w**2 * (1.0 - k1**2 / k2) + k2 * ((1 - p) * (lo - s) ** 2 + p * (hi - s) ** 2)


@pytest.mark.parametrize("kind", ["midrise", "midtread", "cells"])
def test_kappas_match_quadrature(kind):
    c = uniform_levels(2, 2.0, kind=kind)
    assert np.allclose(input_kappas(c), kappas_quad(c), rtol=0, atol=1e-10)
    assert input_kappas(None) == (1.0, 1.0)


@pytest.mark.parametrize("clipped", [False, True])
def test_mass_conserved_and_density_nonnegative(clipped):
    c = uniform_levels(2, 2.0, kind="midrise")
    snaps = (0.0, 2.5, 10.0)
    r = mean_field(c, c, eta=0.3, tau=10.0, teacher="gaussian", n_teacher=10, n_points=11,
                   snapshots=snaps, clipped=clipped)
    assert isinstance(r, MeanFieldResult)
    h = np.diff(r.edges)
    assert set(r.densities) == set(snaps) and set(r.conditional_densities) == set(snaps)
    for s in snaps:
        w, dens = r.densities[s]
        assert w.shape == dens.shape == h.shape
        assert abs(np.sum(dens * h) - 1.0) < 1e-12
        assert dens.min() >= 0.0
        cond = r.conditional_densities[s]
        assert cond.shape == (10, h.size)
        assert np.max(np.abs(cond @ h - 1.0)) < 1e-12
        assert cond.min() >= 0.0
    assert np.all(np.isfinite(r.gen_error)) and np.all(r.gen_error >= 0)


def test_initial_error_matches_quadrature():
    # at τ = 0, ŵ ~ N(0, 1) independent of w* ~ N(0, 1): m = 0 and ε = 1 + κ₂ E[φ(ŵ)²]
    c = uniform_levels(2, 2.0, kind="cells")
    k1, k2 = kappas_quad(c)
    eq2 = quad(lambda x: quantize(x, c).item() ** 2 * norm.pdf(x), -12, 12, points=list(thresholds(c)))[0]
    r = mean_field(c, c, eta=0.1, tau=1.0, teacher="gaussian", n_teacher=8, n_points=2)
    assert abs(r.gen_error[0] - (1.0 + k2 * eq2)) < 1e-6


def test_stationary_density_helper_against_closed_form():
    # Oracle: with constant drift b and variance a, the zero-flux density is ∝ exp(2bŵ/a). The
    # fluxes are fitted to each cell's exponential profile, so the cell masses follow it exactly
    # on any grid, however coarse (2bh/a up to 6 here).
    b, a = 0.3, 0.2
    for n in (10, 100, 400):
        e = np.linspace(-1.0, 1.0, n + 1)
        h = e[1] - e[0]
        u = stationary_density(np.full(n, b), np.full(n, a), e)
        assert abs(np.sum(u * h) - 1.0) < 1e-12
        # cell averages of C exp(kŵ): their log-differences are exactly k h
        np.testing.assert_allclose(np.diff(np.log(u)) / h, 2 * b / a, rtol=1e-10)
    # negative drift: the mirror image
    e = np.linspace(0.0, 1.0, 101)
    u = stationary_density(np.full(100, -b), np.full(100, a), e)
    np.testing.assert_allclose(np.diff(np.log(u)) / 0.01, -2 * b / a, rtol=1e-10)
    # two drifts pointing at a common face: cell averages of the two-sided exponential, masses
    # (a / 2|b|)(1 - exp(-2|b|/a)) on each side, so the Filippov split b_L : |b_R| as a -> 0
    bl, br = 0.5, -2.0
    e = np.linspace(-1.0, 1.0, 41)
    drift = np.where(e[:-1] < 0, bl, br)
    for a in (0.5, 1e-3):
        u = stationary_density(drift, np.full(40, a), e)
        m = u * 0.05
        left, right = m[:20].sum(), m[20:].sum()
        exact_l = a / (2 * bl) * (1 - math.exp(-2 * bl / a))
        exact_r = a / (2 * -br) * (1 - math.exp(-2 * -br / a))
        assert left / right == pytest.approx(exact_l / exact_r, rel=1e-10)
    assert left / right == pytest.approx(-br / bl, rel=1e-6)
    with pytest.raises(ValueError, match="variance"):
        stationary_density(drift, np.zeros(40), e)


@pytest.mark.slow
def test_long_time_density_is_exponential_on_constant_drift_interval():
    # Mid-tread, w* = 1: the drift on the zero cell (-1, 1) is η κ₁ > 0 and mass slides on the
    # threshold 1; at large τ the density on (0.4, 1) is the zero-flux law of that interval,
    # ∝ exp(2bŵ/a) with a = η² κ₂ ε_∞, which the fitted fluxes reproduce exactly.
    c = uniform_levels(2, 2.0, kind="midtread")
    k1, k2 = kappas_quad(c)
    eta = 0.5
    r = mean_field(c, c, eta=eta, tau=200.0, teacher=1.0, n_points=3, snapshots=(200.0,), courant=1.0)
    w, dens = r.densities[200.0]
    h = np.diff(r.edges)[0]
    eps = r.gen_error[-1]
    b, a = eta * k1, eta**2 * k2 * eps
    sel = (w > 0.4) & (w < 1.0)
    slope = np.diff(np.log(dens[sel])) / h
    np.testing.assert_allclose(slope, 2 * b / a, rtol=1e-6)


def test_small_eta_follows_deterministic_trajectory():
    # Cells quantizer (levels ±0.5, ±1.5, thresholds 0, ±1), w* = 1, ŵ(0) ≈ -1.3 (narrow law).
    # As η → 0 in τ' = ητ: dŵ/dτ' = κ₁ − κ₂φ(ŵ), i.e. speed κ₁ + 1.5κ₂ up to -1, κ₁ + 0.5κ₂ up to
    # 0, κ₁ − 0.5κ₂ up to 1, then sliding on 1 (κ₁/κ₂ ∈ (0.5, 1.5)). While ŵ is in the cell of
    # level c the error is 1 − 2κ₁c + κ₂c², and after the arrival the sliding-mode value.
    c = uniform_levels(2, 2.0, kind="cells")
    k1, k2 = kappas_quad(c)
    speeds = [k1 + 1.5 * k2, k1 + 0.5 * k2, k1 - 0.5 * k2]
    lengths = [0.3, 1.0, 1.0]
    ends = np.cumsum([ell / v for ell, v in zip(lengths, speeds, strict=True)])
    starts = np.concatenate(([0.0], ends[:-1]))
    # Spread around the point mass: the initial 0.02, the noise √(ηκ₂ετ') and the upwind
    # smearing √(h(1 + C)τ') (h = 0.0025, Courant C = 0.5) stay below 0.1, several standard
    # deviations inside each segment at its midpoint.
    eta = 1e-3
    tmax = ends[-1] + 1.0
    r = mean_field(c, c, eta=eta, tau=tmax / eta, teacher=1.0, init_mean=-1.3, init_std=0.02,
                   grid=(-3.0, 3.0, 2400), n_points=2001, courant=0.5)
    tp = r.tau * eta
    for lev, a, b in zip([-1.5, -0.5, 0.5], starts, ends, strict=True):
        mid = 0.5 * (a + b)
        got = np.interp(mid, tp, r.gen_error)
        assert abs(got - (1 - 2 * k1 * lev + k2 * lev**2)) < 1e-3, (lev, got)
    assert abs(r.gen_error[-1] - sliding_error(c, k1, k2)) < 1e-4


def test_plateau_then_rise_under_midtread():
    # Mid-tread, narrow law at 0: φ = 0 gives the plateau ε = ρ* = 1 until ŵ reaches the
    # threshold 1 at τ' = 1/κ₁; then the sliding mode's larger error 1.460.
    c = uniform_levels(2, 2.0, kind="midtread")
    k1, k2 = kappas_quad(c)
    # (spread below 0.07 at τ' = 0.6/κ₁, where the mass is still 0.4 from the threshold)
    eta = 1e-3
    r = mean_field(c, c, eta=eta, tau=3.0 / eta, teacher=1.0, init_std=0.02, grid=(-3.0, 3.0, 2400),
                   n_points=301, courant=0.5)
    tp = r.tau * eta
    assert np.allclose(r.gen_error[tp < 0.6 / k1], 1.0, atol=1e-4)
    assert np.all(r.gen_error[tp > 1.6 / k1] > 1.4)
    assert abs(r.gen_error[-1] - sliding_error(c, k1, k2)) < 1e-4


def stationary_error(levels, k1, k2, eta, w=1.0):
    """Finite-η stationary error in closed form, solved self-consistently in ε.

    With φ̃' = 1 the drift b_k = η(κ₁w* − κ₂c_k) is constant on each cell of φ and the variance
    a = η²κ₂ε is constant, so the zero-flux density is exp(2 b_k ŵ / a) on cell k, continuous at
    the thresholds; its cell masses give E[φ], E[φ²] and hence ε, iterated to a fixed point.
    """
    c = np.asarray(levels, dtype=float)
    t = thresholds(c)
    b = eta * (k1 * w - k2 * c)
    assert b[0] > 0 > b[-1]                      # normalisable: the outer drifts point inwards
    eps = sliding_error(c, k1, k2, w)
    for _ in range(500):
        a = eta**2 * k2 * eps
        logu = np.concatenate(([0.0], np.cumsum(2 * b[1:-1] * np.diff(t) / a)))   # at thresholds
        logm = np.empty(c.size)                  # log cell masses, up to a common factor
        logm[0] = logu[0] + math.log(a / (2 * b[0]))
        logm[-1] = logu[-1] + math.log(a / (2 * -b[-1]))
        for k in range(1, c.size - 1):           # ∫ over (t_{k-1}, t_k) of exp(2 b_k (s − t_{k-1})/a)
            x = 2 * b[k] * (t[k] - t[k - 1]) / a
            logm[k] = logu[k - 1] + math.log((t[k] - t[k - 1]) * (math.expm1(x) / x if x != 0 else 1.0))
        m = np.exp(logm - logm.max())
        m /= m.sum()
        new = w**2 - 2 * k1 * w * (m @ c) + k2 * (m @ c**2)
        if abs(new - eps) < 1e-14:
            break
        eps = new
    return eps


@pytest.mark.slow
@pytest.mark.parametrize("kind, expected", [("midrise", 0.408), ("cells", 0.340), ("midtread", 1.460)])
def test_long_time_error_reaches_the_finite_eta_stationary_law(kind, expected):
    """η -> 0 gives the sliding-mode error; at finite η the PDE settles at the self-consistent
    closed-form stationary law (the fitted fluxes are exact for it), which rises with η."""
    c = uniform_levels(2, 2.0, kind=kind)
    k1, k2 = kappas_quad(c)
    exact = sliding_error(c, k1, k2)
    assert round(exact, 3) == expected
    finals, closed = [], []
    for eta in (0.05, 0.2, 0.5):
        # the stationary law does not depend on the time step: a coarse one reaches it sooner
        r = mean_field(c, c, eta=eta, tau=60.0 / eta, teacher=1.0, n_points=3, courant=1.0)
        finals.append(r.gen_error[-1])
        closed.append(stationary_error(c, k1, k2, eta))
    np.testing.assert_allclose(finals, closed, rtol=0, atol=2e-6)
    assert abs(closed[0] - exact) < 1e-5
    assert closed[0] < closed[1] < closed[2]


def test_label_noise_adds_delta_at_tau_zero():
    c = uniform_levels(2, 2.0, kind="cells")
    r0 = mean_field(c, c, eta=0.1, tau=1.0, teacher=1.0, n_points=2)
    r1 = mean_field(c, c, eta=0.1, tau=1.0, teacher=1.0, n_points=2, delta=0.25)
    assert abs(r1.gen_error[0] - r0.gen_error[0] - 0.25) < 1e-12


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(eta=0.0, tau=1.0), "eta"),
        (dict(eta=-1.0, tau=1.0), "eta"),
        (dict(eta=0.1, tau=0.0), "tau"),
        (dict(eta=0.1, tau=1.0, grid=(-1.0, 1.0, 100)), "too small"),
        (dict(eta=0.1, tau=1.0, grid=(-5.0, 5.0, 5)), "cells"),
        (dict(eta=0.1, tau=1.0, grid=(5.0, -5.0, 100)), "lo < hi"),
        (dict(eta=0.1, tau=1.0, teacher="uniform"), "teacher"),
        (dict(eta=0.1, tau=1.0, snapshots=(2.0,)), "snapshot"),
        (dict(eta=0.1, tau=1.0, n_points=1), "n_points"),
        (dict(eta=0.1, tau=1.0, delta=-0.1), "delta"),
    ],
)
def test_bad_arguments_rejected(kwargs, match):
    c = uniform_levels(2, 2.0, kind="midrise")
    with pytest.raises(ValueError, match=match):
        mean_field(c, c, **kwargs)


def test_clipped_ste_freezes_weights_beyond_the_clip_range():
    # φ̃' = 0 outside [-2, 2]: no drift, no diffusion there, so the density of cells not touching
    # the clip points never changes; mass only leaks out through the clip faces (Itô form).
    c = uniform_levels(2, 2.0, kind="cells")
    r = mean_field(c, c, eta=0.2, tau=20.0, teacher=1.0, clipped=True, clip=2.0, init_std=1.5,
                   n_points=3, snapshots=(0.0, 20.0))
    w, d0 = r.densities[0.0]
    _, d1 = r.densities[20.0]
    h = np.diff(r.edges)
    far = np.abs(w) > 2.0 + 1.5 * h[0]
    assert far.any()
    assert np.allclose(d1[far], d0[far], rtol=1e-12, atol=1e-300)
    outside = np.abs(w) > 2.0
    assert np.sum(d1[outside] * h[outside]) >= np.sum(d0[outside] * h[outside]) - 1e-15
    assert r.gen_error[-1] < r.gen_error[0]


@pytest.mark.slow
def test_default_time_step_by_teacher_and_its_accuracy():
    # constant teacher: Courant 0.25, whose transient is within 3e-3 of a 20x finer step and 5x
    # finer grid; Gaussian teacher: 1.0 on the outermost node's drift
    c = uniform_levels(2, 2.0, kind="midtread")
    r = mean_field(c, c, eta=0.1, tau=10.0, teacher=1.0, n_points=21)
    assert r.settings["courant"] == 0.25
    fine = mean_field(c, c, eta=0.1, tau=10.0, teacher=1.0, n_points=21, grid=(-9.0, 9.0, 4500), courant=0.05)
    assert np.max(np.abs(r.gen_error - fine.gen_error)) < 3e-3
    g = mean_field(c, c, eta=0.1, tau=1.0, teacher="gaussian", n_teacher=6, n_points=2)
    assert g.settings["courant"] == 1.0
    assert mean_field(c, c, eta=0.1, tau=1.0, teacher=1.0, n_points=2, courant=2.0).settings["courant"] == 2.0
    with pytest.raises(ValueError, match="courant"):
        mean_field(c, c, eta=0.1, tau=1.0, teacher=1.0, courant=0.0)
