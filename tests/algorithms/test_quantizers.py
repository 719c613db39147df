"""Weight quantizers: level conventions, Round_C, the Gaussian MSE, Lloyd-Max and Max's uniform quantizer."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from algorithms.theory.quantizers import (
    LloydMaxResult,
    MaxUniformResult,
    lloyd_max,
    max_uniform,
    power_of_two_levels,
    quantize,
    quantizer_mse,
    ste_grad,
    thresholds,
    uniform_levels,
)

# Max (IRE Trans. IT 6:7, 1960), Tables I (non-uniform) and II (uniform), N(0, 1) source:
# levels N -> (published MSE, published digits) and for the uniform table the step.
MAX_NONUNIFORM_MSE = {2: 0.3634, 4: 0.1175, 8: 0.03454}
MAX_NONUNIFORM_LEVELS = {2: [0.7980], 4: [0.4528, 1.510], 8: [0.2451, 0.7560, 1.344, 2.152]}
MAX_NONUNIFORM_THRESHOLDS = {4: [0.9816], 8: [0.5006, 1.050, 1.748]}
MAX_UNIFORM = {2: (1.596, 0.3634), 4: (0.9957, 0.1188), 8: (0.5860, 0.03744)}


def _published(value, ref):
    """Agreement to the published 4 significant digits, within 1.5 units of the last printed place.

    Max's 1960 tables are good to about one unit in the last digit: the 1-bit level is printed
    0.7980 (exactly sqrt(2/pi) = 0.79788) and the 8-level MSE 0.03454 (0.034548).
    """
    digits = 4 - int(math.floor(math.log10(abs(ref)))) - 1
    return abs(value - ref) <= 1.5 * 10.0 ** (-digits)


def _quad_mse(levels):
    """E[(x - Round_C(x))^2], x ~ N(0, 1), by adaptive quadrature split at the thresholds."""
    c = np.asarray(levels, dtype=float)
    edges = np.concatenate([[-np.inf], thresholds(c), [np.inf]])
    total = 0.0
    for k, ck in enumerate(c):
        val, _ = quad(
            lambda x, ck=ck: (x - ck) ** 2 * norm.pdf(x),
            edges[k],
            edges[k + 1],
            epsabs=1e-14,
            epsrel=1e-13,
            limit=200,
        )
        total += val
    return total


# ---------------------------------------------------------------------------------------------
# level conventions
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bits, width, expected",
    [
        (1, 1.0, [-1.0, 1.0]),
        (2, 3.0, [-3.0, -1.0, 1.0, 3.0]),
        (3, 7.0, [-7.0, -5.0, -3.0, -1.0, 1.0, 3.0, 5.0, 7.0]),
    ],
)
def test_midrise_levels(bits, width, expected):
    c = uniform_levels(bits, width, kind="midrise")
    assert c.dtype == np.float64 and c.shape == (2**bits,)
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-15)
    assert 0.0 not in c


@pytest.mark.parametrize(
    "bits, width, expected",
    [
        (2, 2.0, [-2.0, 0.0, 2.0]),
        (3, 3.0, [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]),
    ],
)
def test_midtread_levels(bits, width, expected):
    c = uniform_levels(bits, width, kind="midtread")
    assert c.dtype == np.float64 and c.shape == (2**bits - 1,)
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-15)
    assert 0.0 in c
    assert c[-1] == width


def test_midtread_contains_zero_and_step():
    for bits in range(2, 9):
        c = uniform_levels(bits, 1.7, kind="midtread")
        assert np.count_nonzero(c == 0.0) == 1
        np.testing.assert_allclose(np.diff(c), 1.7 / (2 ** (bits - 1) - 1), rtol=1e-12)
        np.testing.assert_allclose(c, -c[::-1], atol=1e-15)


@pytest.mark.parametrize(
    "bits, width, expected",
    [
        (1, 2.0, [-1.0, 1.0]),
        (2, 2.0, [-1.5, -0.5, 0.5, 1.5]),
        (3, 4.0, [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5]),
    ],
)
def test_cells_levels_are_cell_centres(bits, width, expected):
    c = uniform_levels(bits, width, kind="cells")
    assert c.dtype == np.float64 and c.shape == (2**bits,)
    np.testing.assert_allclose(c, expected, rtol=0, atol=1e-15)
    # the cells of Round_C are the 2^b equal cells of [-width, width]
    edges = np.linspace(-width, width, 2**bits + 1)
    np.testing.assert_allclose(thresholds(c), edges[1:-1], atol=1e-14)
    np.testing.assert_allclose(c, 0.5 * (edges[1:] + edges[:-1]), atol=1e-14)


def test_cells_clip_beyond_range():
    c = uniform_levels(2, 2.0, kind="cells")
    out = quantize([-100.0, -2.0, -1.99, 1.99, 2.0, 100.0, np.inf, -np.inf], c)
    np.testing.assert_array_equal(out, [-1.5, -1.5, -1.5, 1.5, 1.5, 1.5, 1.5, -1.5])


def test_power_of_two_levels():
    np.testing.assert_array_equal(power_of_two_levels(2, 2.0), [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(power_of_two_levels(2, 2.0), uniform_levels(2, 2.0, kind="midtread"))
    np.testing.assert_array_equal(power_of_two_levels(3), [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])
    c = power_of_two_levels(4, 3.0)
    assert c.shape == (15,) and c.dtype == np.float64
    pos = c[c > 0]
    np.testing.assert_allclose(pos, 3.0 * 2.0 ** -np.arange(7)[::-1])


def test_thresholds():
    t = thresholds([-2.0, 0.0, 1.0, 5.0])
    assert t.dtype == np.float64 and t.shape == (3,)
    np.testing.assert_array_equal(t, [-1.0, 0.5, 3.0])


# ---------------------------------------------------------------------------------------------
# Round_C and the STE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["midrise", "midtread", "cells"])
def test_quantize_matches_brute_force(kind):
    rng = np.random.default_rng(0)
    c = uniform_levels(3, 1.3, kind=kind)
    x = rng.normal(scale=1.5, size=(40, 25))
    got = quantize(x, c)
    brute = c[np.argmin(np.abs(x[..., None] - c), axis=-1)]
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_array_equal(got, brute)


def test_quantize_non_uniform_brute_force():
    rng = np.random.default_rng(1)
    c = np.sort(rng.normal(size=11))
    x = rng.normal(scale=2.0, size=1000)
    np.testing.assert_array_equal(quantize(x, c), c[np.argmin(np.abs(x[:, None] - c), axis=1)])


def test_quantize_ties_scalar_nan():
    c = [-1.0, 0.0, 1.0]
    np.testing.assert_array_equal(quantize([-0.5, 0.5], c), [0.0, 1.0])  # ties to the upper level
    out = quantize(0.3, c)
    assert isinstance(out, np.ndarray) and out.shape == () and float(out) == 0.0
    got = quantize([np.nan, 2.0], c)
    assert np.isnan(got[0]) and got[1] == 1.0
    assert quantize(np.arange(6, dtype=np.int64).reshape(2, 3), c).shape == (2, 3)


def test_ste_grad():
    c = uniform_levels(2, 2.0, kind="midrise")
    x = np.array([-5.0, -2.0, -1.0, 0.0, 2.0, 2.0001])
    g = ste_grad(x, c)
    assert g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_array_equal(g, 1.0)
    np.testing.assert_array_equal(ste_grad(x, c, clipped=True), [0, 1, 1, 1, 1, 0])
    cells = uniform_levels(2, 2.0, kind="cells")  # outer level 1.5, range 2
    np.testing.assert_array_equal(ste_grad(x, cells, clipped=True), [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(ste_grad(x, cells, clipped=True, clip_range=2.0), [0, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(
        ste_grad(x, cells, clipped=True, clip_range=(-1.0, 5.0)), [0, 0, 1, 1, 1, 1]
    )
    np.testing.assert_array_equal(ste_grad(x, cells, clipped=False, clip_range=0.1), 1.0)


# ---------------------------------------------------------------------------------------------
# the Gaussian MSE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "levels",
    [
        uniform_levels(1, 0.8),
        uniform_levels(2, 1.5, kind="midrise"),
        uniform_levels(3, 2.0, kind="midtread"),
        uniform_levels(3, 2.5, kind="cells"),
        power_of_two_levels(3, 2.0),
        np.array([-3.0, -0.2, 0.1, 4.0]),
        np.array([5.0, 6.0]),  # one-sided: nearly the whole mass in the lowest cell
    ],
)
def test_quantizer_mse_matches_quadrature(levels):
    assert abs(quantizer_mse(levels) - _quad_mse(levels)) < 1e-10


def test_quantizer_mse_one_bit_closed_form():
    b = math.sqrt(2 / math.pi)
    assert abs(quantizer_mse([-b, b]) - (1 - 2 / math.pi)) < 1e-15
    # any 2-level symmetric quantizer: 1 - 2 b sqrt(2/pi) + b^2
    for b in (0.3, 1.0, 2.5):
        assert abs(quantizer_mse([-b, b]) - (1 - 2 * b * math.sqrt(2 / math.pi) + b * b)) < 1e-14


# ---------------------------------------------------------------------------------------------
# Lloyd-Max and Max uniform against Max (1960)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_lloyd_max_published(bits):
    r = lloyd_max(bits)
    n = 2**bits
    assert isinstance(r, LloydMaxResult) and r.kind == "lloyd-max" and r.prior == "gaussian"
    assert r.converged and r.bits == bits
    assert r.levels.shape == (n,) and r.thresholds.shape == (n - 1,) and r.levels.dtype == np.float64
    assert _published(r.mse, MAX_NONUNIFORM_MSE[n])
    for got, ref in zip(r.levels[n // 2 :], MAX_NONUNIFORM_LEVELS[n]):
        assert _published(got, ref), (got, ref)
    for got, ref in zip(r.thresholds[n // 2 :], MAX_NONUNIFORM_THRESHOLDS.get(n, [])):
        assert _published(got, ref), (got, ref)


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 6])
def test_lloyd_max_optimality_conditions(bits):
    r = lloyd_max(bits)
    c, t = r.levels, r.thresholds
    np.testing.assert_allclose(t, 0.5 * (c[1:] + c[:-1]), atol=1e-15)
    edges = np.concatenate([[-np.inf], t, [np.inf]])
    mass = norm.cdf(edges[1:]) - norm.cdf(edges[:-1])
    cond_mean = (norm.pdf(edges[:-1]) - norm.pdf(edges[1:])) / mass
    np.testing.assert_allclose(c, cond_mean, atol=1e-10)
    np.testing.assert_allclose(c, -c[::-1], atol=1e-15)
    assert abs(r.mse - _quad_mse(c)) < 1e-10
    # perturbing the levels can only raise the MSE
    rng = np.random.default_rng(bits)
    for _ in range(5):
        d = 1e-3 * rng.normal(size=c.size)
        assert quantizer_mse(np.sort(c + d)) > r.mse


def test_lloyd_max_many_bits_and_result_frozen():
    r = lloyd_max(8)
    assert r.converged and r.mse < 5e-5
    # Panter-Dite high-resolution limit: mse ~ (sqrt(3) pi / 2) 4^-b
    assert abs(r.mse / (math.sqrt(3) * math.pi / 2 * 4.0**-8) - 1) < 0.05
    with pytest.raises(ValueError):
        r.levels[0] = 0.0
    with pytest.raises(AttributeError):
        r.mse = 0.0


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_max_uniform_published(bits):
    n = 2**bits
    r = max_uniform(bits)
    assert isinstance(r, MaxUniformResult) and r.kind == "midrise" and r.prior == "gaussian"
    step_ref, mse_ref = MAX_UNIFORM[n]
    assert _published(r.step, step_ref), r.step
    assert _published(r.mse, mse_ref), r.mse
    assert r.levels.shape == (n,) and r.thresholds.shape == (n - 1,)
    np.testing.assert_allclose(r.levels, uniform_levels(bits, r.width, kind="midrise"), atol=1e-14)
    assert abs(r.width - (n - 1) * r.step / 2) < 1e-15


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 8])
def test_max_uniform_optimality(bits):
    r = max_uniform(bits)
    n = 2**bits
    grid = np.arange(n) - (n - 1) / 2

    def mse(step):
        return quantizer_mse(grid * step)

    h = 1e-5 * r.step
    deriv = (mse(r.step + h) - mse(r.step - h)) / (2 * h)
    assert abs(deriv) < 1e-6 * max(1.0, r.mse / r.step)
    assert mse(1.01 * r.step) > r.mse and mse(0.99 * r.step) > r.mse
    assert abs(r.mse - _quad_mse(r.levels)) < 1e-10


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_non_uniform_beats_uniform(bits):
    assert lloyd_max(bits).mse < max_uniform(bits).mse
    # and both beat the same-count uniform conventions at any width
    for w in (0.5, 1.0, 2.0, 3.0):
        assert max_uniform(bits).mse <= quantizer_mse(uniform_levels(bits, w, kind="cells")) + 1e-15


def test_one_bit_lloyd_equals_uniform():
    assert abs(lloyd_max(1).mse - max_uniform(1).mse) < 1e-14
    assert abs(lloyd_max(1).levels[1] - math.sqrt(2 / math.pi)) < 1e-14


def test_many_bits_limit():
    assert max_uniform(8).mse < 1e-4
    assert lloyd_max(8).mse < max_uniform(8).mse
    assert quantizer_mse(uniform_levels(8, 4.0, kind="cells")) < 2e-4


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: uniform_levels(0, 1.0), ValueError, "bits"),
        (lambda: uniform_levels(-3, 1.0), ValueError, "bits"),
        (lambda: uniform_levels(2.0, 1.0), TypeError, "bits"),
        (lambda: uniform_levels(True, 1.0), TypeError, "bits"),
        (lambda: uniform_levels(99, 1.0), ValueError, "bits"),
        (lambda: uniform_levels(2, 0.0), ValueError, "width"),
        (lambda: uniform_levels(2, -1.0), ValueError, "width"),
        (lambda: uniform_levels(2, np.inf), ValueError, "width"),
        (lambda: uniform_levels(2, np.nan), ValueError, "width"),
        (lambda: uniform_levels(2, "1"), TypeError, "width"),
        (lambda: uniform_levels(2, 1.0, kind="midpoint"), ValueError, "kind"),
        (lambda: uniform_levels(1, 1.0, kind="midtread"), ValueError, "single level 0"),
        (lambda: power_of_two_levels(1), ValueError, "bits"),
        (lambda: power_of_two_levels(3, 0.0), ValueError, "width"),
        (lambda: thresholds([1.0]), ValueError, "at least 2"),
        (lambda: thresholds([1.0, 0.0]), ValueError, "sorted"),
        (lambda: thresholds([0.0, 0.0, 1.0]), ValueError, "distinct"),
        (lambda: thresholds([0.0, np.nan]), ValueError, "finite"),
        (lambda: thresholds([[0.0, 1.0]]), ValueError, "1-D"),
        (lambda: thresholds(["a", "b"]), TypeError, "levels"),
        (lambda: quantize([0.0], [1.0, -1.0]), ValueError, "levels"),
        (lambda: quantize(["x"], [-1.0, 1.0]), TypeError, "x"),
        (lambda: quantizer_mse([-1.0, 1.0], prior="laplace"), ValueError, "prior"),
        (lambda: quantizer_mse([-1.0, np.inf]), ValueError, "finite"),
        (lambda: lloyd_max(0), ValueError, "bits"),
        (lambda: lloyd_max(2, prior="uniform"), ValueError, "prior"),
        (lambda: lloyd_max(2, tol=0.0), ValueError, "tol"),
        (lambda: lloyd_max(2, max_iter=0), ValueError, "max_iter"),
        (lambda: max_uniform(0), ValueError, "bits"),
        (lambda: max_uniform(1.5), TypeError, "bits"),
        (lambda: max_uniform(2, prior=None), ValueError, "prior"),
        (
            lambda: ste_grad([0.0], [-1.0, 1.0], clipped=True, clip_range=(1.0, -1.0)),
            ValueError,
            "clip_range",
        ),
        (lambda: ste_grad([0.0], [-1.0, 1.0], clipped=True, clip_range=-2.0), ValueError, "clip_range"),
        (lambda: ste_grad([0.0], [-1.0, 1.0], clipped=True, clip_range="ab"), TypeError, "clip_range"),
    ],
)
def test_bad_arguments_rejected(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_lloyd_max_not_converged_reported():
    r = lloyd_max(6, max_iter=2)
    assert not r.converged and r.n_iter == 2
