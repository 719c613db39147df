"""quantized_regression(teacher=...): the grid teacher unchanged, the Gaussian teacher's statistics.

Oracles: the generative model (labels recomputed from the teacher and F), the
moments of N(0, 1) and of N(0, 1/n) at sizes where the sampling error is small
against the tolerances, and the default call (the grid teacher) for bit-identity.
"""

import numpy as np
import pytest

from fgraph.problems.quantized import TEACHERS, quantized_regression

LEVELS = np.linspace(-1.5, 1.5, 4)


def test_grid_is_the_default_and_unchanged():
    a = quantized_regression(30, 2.0, LEVELS, noise=0.1, seed=4)
    b = quantized_regression(30, 2.0, LEVELS, noise=0.1, seed=4, teacher="grid")
    for name in ("F", "y", "truth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.meta["teacher_kind"] == "grid" and a.truth.dtype == np.int64
    np.testing.assert_array_equal(a.meta["levels"][a.truth], a.meta["teacher"])


def test_gaussian_teacher_statistics():
    n, alpha, noise = 4000, 0.5, 0.1
    prob = quantized_regression(n, alpha, LEVELS, noise=noise, seed=1, teacher="gaussian", graph=False)
    w0 = prob.meta["teacher"]
    assert prob.meta["teacher_kind"] == "gaussian" and prob.graph is None
    assert prob.truth.dtype == np.float64 and prob.truth.shape == (n,)
    np.testing.assert_array_equal(prob.truth, w0)
    # N(0, 1): sampling sd of the mean 1/sqrt(n) = 0.016, of the variance sqrt(2/n) = 0.022
    assert abs(w0.mean()) < 0.06 and abs(w0.var() - 1.0) < 0.08
    assert np.unique(w0).size == n  # continuous, not on the levels
    # F i.i.d. N(0, 1/n): mean square entry 1/n, rows of squared norm ~ 1
    P = prob.F.shape[0]
    assert P == 2000
    assert abs(np.mean(prob.F**2) * n - 1.0) < 0.01
    assert abs(np.mean(np.sum(prob.F**2, axis=1)) - 1.0) < 0.01
    # noise: y - F w0 ~ N(0, noise)
    resid = prob.y - prob.F @ w0
    assert abs(resid.var() / noise - 1.0) < 0.1
    # the pre-activations have variance rho_0 = |w0|^2 / n ~ 1
    assert abs(np.var(prob.F @ w0) - 1.0) < 0.1


def test_gaussian_teacher_graph_is_over_the_student_levels():
    prob = quantized_regression(6, 2.0, LEVELS, noise=0.2, seed=0, teacher="gaussian")
    assert prob.graph.n_var == 6 and prob.graph.n_fac == 12
    assert np.all(prob.graph.card == LEVELS.size)
    np.testing.assert_array_equal(prob.meta["levels"], LEVELS)
    assert prob.truth.dtype == np.float64


def test_gaussian_teacher_seeds():
    a = quantized_regression(8, 2.0, LEVELS, seed=7, teacher="gaussian")
    b = quantized_regression(8, 2.0, LEVELS, seed=7, teacher="gaussian")
    c = quantized_regression(8, 2.0, LEVELS, seed=8, teacher="gaussian")
    for name in ("F", "y", "truth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.truth, c.truth)
    fresh = quantized_regression(8, 2.0, LEVELS, teacher="gaussian")
    again = quantized_regression(8, 2.0, LEVELS, seed=fresh.meta["seed"], teacher="gaussian")
    np.testing.assert_array_equal(fresh.y, again.y)


@pytest.mark.parametrize("teacher", ["Gaussian", "normal", "", None, 1, ("grid",)])
def test_bad_teacher_rejected(teacher):
    with pytest.raises(ValueError, match="unknown teacher"):
        quantized_regression(5, 1.0, LEVELS, teacher=teacher)


def test_teachers_constant():
    assert TEACHERS == ("grid", "gaussian")
