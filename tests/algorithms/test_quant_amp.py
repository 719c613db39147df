"""AMP with quantized student weights against its state evolution and the replica-symmetric theory.

Oracles: ``solve_rs`` (the RS saddle point, by its own continuation and
Gauss–Legendre rules), an independent trapezoidal integration of one
state-evolution step written here, ``run_amp`` called directly with the
ridge-weighted discrete prior, and the direct (un-annealed) run.

Sizes: N = 2000, alpha = 2 (P = 4000), 2-bit mid-rise levels on [-1.5, 1.5],
Delta = 0.1, where RS is stable (lambda_AT 0.41 at beta = 4, 0.82 at beta = 10,
0.32 at beta = 4 with ridge 0.5).
One instance at N = 2000 fluctuates by about 0.007 in q (measured over 12
seeds, against the SE at the teacher's empirical rho0), so the fixed-point
agreement averages seeds 0-5 and compares with the theory at each instance's
``rho0 = |w0|^2 / N``.
"""

import math

import numpy as np
import pytest

from algorithms import DiscretePrior, GaussianChannel, run_amp
from algorithms.theory.quant_amp import anneal_schedule, quantized_amp, quantized_se, site_prior
from algorithms.theory.replica import rs_closure, solve_rs
from fgraph.problems import quantized_regression

LEVELS = np.linspace(-1.5, 1.5, 4)
ALPHA, DELTA, N = 2.0, 0.1, 2000
#: Fixed-point runs: light damping converges fastest here; tol 1e-6 leaves the overlaps within 1e-6.
FAST = dict(damping=0.2, tol=1e-6, n_threads=1)


def _problem(seed, n=N, alpha=ALPHA):
    return quantized_regression(n, alpha, LEVELS, noise=DELTA, teacher="gaussian", seed=seed, graph=False)


# ------------------------------------------------------------------ the state evolution is the RS map
def _trapezoid_step(m, q, V, *, alpha, levels, delta, beta, ridge=0.0, rho0=1.0, n=20001):
    """One SE step by the trapezoidal rule over r ~ N(0, rho0 + tau^2) on a uniform grid."""
    D = rho0 + delta - 2 * m + q
    A = alpha * beta / (1 + beta * V)
    s = math.sqrt(rho0 + D / alpha)
    r = np.linspace(-10 * s, 10 * s, n)
    w = np.exp(-0.5 * (r / s) ** 2)
    w[[0, -1]] *= 0.5
    w /= w.sum()
    e = -0.5 * (A + beta * ridge) * levels[None, :] ** 2 + A * r[:, None] * levels[None, :]
    p = np.exp(e - e.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    mean = p @ levels
    var = p @ levels**2 - mean**2
    return float(w @ (rho0 * r / s**2 * mean)), float(w @ mean**2), float(w @ var)


@pytest.mark.parametrize(
    "m, q, V, beta, ridge",
    [
        (0.0, 0.0, 1.25, 4.0, 0.0),
        (0.5, 0.6, 0.2, 10.0, 0.0),
        (0.7, 0.8, 0.05, 30.0, 0.3),
        (0.3, 0.2, 0.5, 2.0, 1.0),
    ],
)
def test_rs_map_matches_trapezoid(m, q, V, beta, ridge):
    m2, q2, V2 = _trapezoid_step(m, q, V, alpha=ALPHA, levels=LEVELS, delta=DELTA, beta=beta, ridge=ridge)
    got = rs_closure(ALPHA, LEVELS, DELTA, beta, m, q, q + V, ridge)
    np.testing.assert_allclose(got, (m2, q2, q2 + V2), atol=1e-9)


@pytest.mark.parametrize("beta, ridge", [(2.0, 0.0), (4.0, 0.0), (10.0, 0.0), (4.0, 0.5)])
def test_se_fixed_point_is_solve_rs(beta, ridge):
    se = quantized_se(ALPHA, LEVELS, DELTA, beta, ridge)
    rs = solve_rs(ALPHA, LEVELS, DELTA, beta=beta, ridge=ridge)
    assert se.converged and rs.converged and rs.stable and se.stable
    for a, b in [(se.m_final, rs.m), (se.q_final, rs.q), (se.Q_final, rs.Q), (se.gen_error[-1], rs.gen_error),
                 (se.gen_error_mean[-1], rs.gen_error_mean), (se.train_error[-1], rs.train_error),
                 (se.train_error_mean[-1], rs.train_error_mean), (se.lambda_at, rs.lambda_at)]:
        assert a == pytest.approx(b, abs=1e-8)


def test_se_start_and_damping():
    se = quantized_se(ALPHA, LEVELS, DELTA, 4.0)
    assert (se.m[0], se.q[0], se.Q[0]) == (0.0, 0.0, pytest.approx(1.25))  # AMP's start: the prior
    damped = quantized_se(ALPHA, LEVELS, DELTA, 4.0, damping=0.5)
    assert damped.n_iter > se.n_iter
    assert damped.m_final == pytest.approx(se.m_final, abs=1e-8)
    again = quantized_se(ALPHA, LEVELS, DELTA, 4.0, init=(se.m_final, se.q_final, se.Q_final))
    assert again.n_iter <= 2
    assert not se.m.flags.writeable


# ------------------------------------------------------------------ AMP against the theory
@pytest.fixture(scope="module")
def problems():
    return [_problem(seed) for seed in range(6)]


@pytest.mark.slow  # AMP at N = 2000: kept out of the no-JIT run, where it would take minutes
@pytest.mark.parametrize(
    "beta, ridge, anneal, n_seeds",
    [(4.0, 0.0, None, 6), (10.0, 0.0, [2.0, 5.0], 3), (4.0, 0.5, None, 3)],
)
def test_amp_fixed_point_matches_rs(problems, beta, ridge, anneal, n_seeds):
    rows = []
    for prob in problems[:n_seeds]:
        res = quantized_amp(prob, LEVELS, beta, ridge=ridge, anneal=anneal, **FAST)
        assert res.converged
        rs = solve_rs(ALPHA, LEVELS, DELTA, beta=beta, ridge=ridge, rho0=res.rho0)
        assert rs.stable
        rows.append([res.m - rs.m, res.q - rs.q, res.Q - rs.Q, res.gen_error - rs.gen_error,
                     res.gen_error_mean - rs.gen_error_mean, res.train_error_mean - rs.train_error_mean,
                     res.train_error - rs.train_error])
    diff = np.abs(np.mean(rows, axis=0))
    assert np.all(diff < 0.01), diff


@pytest.mark.slow
def test_amp_follows_se_per_iteration(problems):
    prob = problems[0]
    res = quantized_amp(prob, LEVELS, 4.0, damping=0.0, max_iter=12, tol=1e-14, n_threads=1)
    se = quantized_se(ALPHA, LEVELS, DELTA, 4.0, rho0=res.rho0, max_iter=12, tol=1e-14)
    h = res.amp.history
    assert h["overlap"].size == se.n_iter == 12
    np.testing.assert_allclose(h["overlap"], se.m[1:], atol=0.01)
    np.testing.assert_allclose(h["q"], se.q[1:], atol=0.01)
    assert se.m[1] < se.m[3] - 0.05  # a real trajectory, not only its end


@pytest.mark.slow
def test_anneal_reaches_the_direct_fixed_point(problems):
    prob = problems[1]
    opts = dict(FAST, tol=1e-9, max_iter=2000)
    direct = quantized_amp(prob, LEVELS, 6.0, **opts)
    annealed = quantized_amp(prob, LEVELS, 6.0, anneal=3, **opts)
    assert direct.converged and annealed.converged
    assert annealed.betas == anneal_schedule(6.0, 3) and len(annealed.betas) == 3
    assert annealed.n_iter > annealed.amp.n_iter
    np.testing.assert_allclose(annealed.amp.estimate, direct.amp.estimate, atol=1e-5)
    assert annealed.m == pytest.approx(direct.m, abs=1e-6)


def test_ridge_is_the_prior_weights():
    prob = _problem(3, n=200)
    beta, ridge = 4.0, 0.5
    res = quantized_amp(prob, LEVELS, beta, ridge=ridge, tol=1e-10, max_iter=1000)
    w = np.exp(-0.5 * beta * ridge * LEVELS**2)
    ref = run_amp(prob, DiscretePrior(LEVELS, w / w.sum()), GaussianChannel(1 / beta), damping=0.5,
                  tol=1e-10, max_iter=1000)
    np.testing.assert_allclose(res.amp.estimate, ref.estimate, atol=1e-12)
    np.testing.assert_allclose(site_prior(LEVELS, beta, ridge).weights, w / w.sum())
    plain = quantized_amp(prob, LEVELS, beta, tol=1e-10, max_iter=1000)
    assert res.q < plain.q  # the ridge shrinks


def test_result_fields_and_pair_input():
    prob = _problem(4, n=200)
    res = quantized_amp(prob, LEVELS, 4.0)
    assert res.noise == DELTA and res.beta == 4.0 and res.rho0 == pytest.approx(prob.meta["teacher"] @
                                                                                prob.meta["teacher"] / 200)
    w = res.amp.estimate
    assert res.train_error_mean == pytest.approx(np.mean((prob.y - prob.F @ w) ** 2))
    assert res.Q == pytest.approx(res.q + np.mean(res.amp.variances))
    assert res.gen_error - res.gen_error_mean == pytest.approx(res.Q - res.q)
    bare = quantized_amp((prob.F, prob.y), LEVELS, 4.0)
    assert bare.m is None and bare.gen_error is None and bare.q == pytest.approx(res.q)
    given = quantized_amp((prob.F, prob.y), LEVELS, 4.0, truth=prob.meta["teacher"], noise=DELTA)
    assert given.gen_error == pytest.approx(res.gen_error)


# ------------------------------------------------------------------ arguments
def test_anneal_schedule():
    assert anneal_schedule(5.0) == (5.0,) == anneal_schedule(5.0, 1)
    b = anneal_schedule(5.0, 4)
    assert b[0] == pytest.approx(0.5) and b[-1] == 5.0 and np.all(np.diff(b) > 0)
    assert anneal_schedule(5.0, [1, 5]) == (1.0, 5.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(beta=0.0), "beta must be > 0"),
        (dict(beta=-1.0), "beta must be > 0"),
        (dict(beta=math.inf), "beta must be a finite number"),
        (dict(ridge=-0.1), "ridge must be >= 0"),
        (dict(levels=[1.0]), "at least 2 values"),
        (dict(levels=[0.0, 0.0, 1.0]), "distinct"),
        (dict(levels=[0.0, np.nan]), "finite"),
        (dict(levels="binary"), "array of values"),
        (dict(levels=[[0.0, 1.0]]), "1-D"),
        (dict(anneal=0), "anneal"),
        (dict(anneal=[2.0, 1.0]), "strictly increasing"),
        (dict(anneal=[8.0]), "must not exceed"),
        (dict(anneal=[]), "must not be empty"),
        (dict(anneal="fast"), "anneal must be"),
        (dict(damping=1.0), "damping"),
    ],
)
def test_bad_arguments(kwargs, match):
    prob = _problem(0, n=20)
    args = dict(levels=LEVELS, beta=4.0)
    args.update(kwargs)
    levels, beta = args.pop("levels"), args.pop("beta")
    with pytest.raises(ValueError, match=match):
        quantized_amp(prob, levels, beta, **args)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((0.0, LEVELS, DELTA, 4.0), {}, "alpha must be > 0"),
        ((ALPHA, LEVELS, -0.1, 4.0), {}, "delta must be >= 0"),
        ((ALPHA, LEVELS, DELTA, 0.0), {}, "beta must be > 0"),
        ((ALPHA, LEVELS, DELTA, 4.0, -1.0), {}, "ridge must be >= 0"),
        ((ALPHA, [1.0, 1.0], DELTA, 4.0), {}, "distinct"),
        ((ALPHA, LEVELS, DELTA, 4.0), dict(rho0=0.0), "rho0 must be > 0"),
        ((ALPHA, LEVELS, DELTA, 4.0), dict(damping=-0.1), "damping"),
        ((ALPHA, LEVELS, DELTA, 4.0), dict(max_iter=0), "max_iter"),
        ((ALPHA, LEVELS, DELTA, 4.0), dict(init=(0.1, 0.5, 0.2)), "q <= Q"),
        ((ALPHA, LEVELS, DELTA, 4.0), dict(init=(0.1, 0.5)), "init must be"),
    ],
)
def test_se_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        quantized_se(*args, **kwargs)
