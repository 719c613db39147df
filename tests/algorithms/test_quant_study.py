"""The findings functions against the RS solver point by point and against known quantizers."""

import numpy as np
import pytest

from algorithms.theory.quant_study import (
    compare_levels,
    error_curve,
    interpolation_peak,
    optimal_width,
    phase_diagram,
)
from algorithms.theory.quantizers import lloyd_max, max_uniform, uniform_levels
from algorithms.theory.replica import solve_rs


@pytest.mark.parametrize("kind", ["midrise", "cells"])
def test_phase_diagram_equals_cold_solves(kind):
    bits, widths = [1, 2, 3], np.linspace(0.3, 3.0, 5)
    pd = phase_diagram(bits, widths, alpha=2.0, delta=0.1, beta=5.0, kind=kind)
    assert pd.kind == kind and pd.lambda_at.shape == (3, 5) and pd.converged.all()
    for i, b in enumerate(bits):
        for j, w in enumerate(widths):
            r = solve_rs(2.0, uniform_levels(b, w, kind=kind), 0.1, beta=5.0)
            assert pd.lambda_at[i, j] == pytest.approx(r.lambda_at, rel=1e-7, abs=1e-10)
            assert pd.gen_error[i, j] == pytest.approx(r.gen_error, rel=1e-7)
    np.testing.assert_array_equal(pd.stable, pd.lambda_at < 1)


def test_few_bits_and_a_large_width_are_unstable():
    pd = phase_diagram([1, 4], [0.5, 4.0], alpha=2.0, delta=0.1, beta=5.0)
    assert not pd.stable[0, 1] and pd.stable[1, 1] and pd.stable[0, 0]


@pytest.mark.parametrize("bits", [2, 3])
def test_optimal_width_at_infinite_alpha_is_max_quantizer(bits):
    mu = max_uniform(bits)
    ow = optimal_width(1e7, bits, 0.0, bounds=(0.3, 4.0))
    assert ow.width == pytest.approx(float(mu.levels[-1]), abs=2e-3)
    assert ow.gen_error == pytest.approx(mu.mse, abs=1e-5)
    assert ow.gen_error <= ow.errors.min() + 1e-12


def test_continuous_curve_is_the_ridgeless_formula_and_quantization_stays_finite():
    alphas = [0.5, 1.0, 1.5, 3.0]
    ec = error_curve(alphas, None, 0.2)
    assert np.all(np.isinf(ec.gen_error[:2]))
    np.testing.assert_allclose(ec.gen_error[2:], [0.2 * 1.5 / 0.5, 0.2 * 3 / 2], rtol=1e-12)
    q = error_curve(alphas, uniform_levels(2, 1.5), 0.2)
    assert np.all(np.isfinite(q.gen_error)) and np.all(q.S < 1)


def test_interpolation_peak_solves_alpha_equals_S():
    levels = uniform_levels(2, 1.5)
    a = interpolation_peak(levels, 0.1)
    assert 0 < a < 1
    assert a == pytest.approx(solve_rs(a, levels, 0.1).S, abs=1e-8)
    fine = interpolation_peak(uniform_levels(10, 6.0), 0.1)
    assert a < fine <= 1.0 and fine > 0.95


def test_lloyd_max_beats_max_uniform_and_reaches_its_mse():
    cmp = compare_levels([2, 3], alpha=1e7, delta=0.0, beta=np.inf)
    np.testing.assert_allclose(cmp.uniform_error, [max_uniform(2).mse, max_uniform(3).mse], atol=1e-5)
    np.testing.assert_allclose(cmp.lloyd_error, [lloyd_max(2).mse, lloyd_max(3).mse], atol=1e-5)
    assert np.all(cmp.lloyd_error < cmp.uniform_error)


def test_bad_arguments():
    with pytest.raises(ValueError, match="bits must be integers >= 1"):
        phase_diagram([0, 2], [1.0], alpha=2.0, delta=0.1, beta=5.0)
    with pytest.raises(ValueError, match="widths must be finite and > 0"):
        phase_diagram([2], [0.0], alpha=2.0, delta=0.1, beta=5.0)
    with pytest.raises(ValueError, match="beta must be > 0"):
        phase_diagram([2], [1.0], alpha=2.0, delta=0.1, beta=np.inf)
    with pytest.raises(ValueError, match="alphas must be finite and > 0"):
        error_curve([0.0, 1.0], None, 0.1)
    with pytest.raises(ValueError, match="bounds"):
        optimal_width(2.0, 2, 0.1, bounds=(1.0, 0.5))
    with pytest.raises(ValueError, match="alpha"):
        phase_diagram([2], [1.0], alpha=-1.0, delta=0.1, beta=5.0)
