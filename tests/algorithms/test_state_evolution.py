"""State evolution: generic SE against closed forms, quadrature, thresholds and a teacher–student run."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, optimize

from algorithms.amp.state_evolution import (
    SEResult,
    alpha_alg,
    alpha_it,
    graded_gauss_rule,
    perceptron_free_entropy,
    perceptron_q,
    perceptron_qhat,
    run_se,
    se_step,
)
from algorithms.denoisers import (
    BinaryPrior,
    DiscretePrior,
    GaussBernoulli,
    GaussianChannel,
    GaussianPrior,
    NoisySignChannel,
    Prior,
    SignChannel,
)
from algorithms.denoisers import kernels as dk


def _gauss_quad(h, lo=-12.0, hi=12.0, points=None):
    """E h(xi), xi ~ N(0, 1), by scipy quad (an oracle independent of the SE rules)."""
    val, _ = integrate.quad(
        lambda t: math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi) * h(t), lo, hi,
        points=points, limit=200, epsabs=1e-14, epsrel=1e-12,
    )
    return val


# ----------------------------------------------------------------- closed forms
def test_linear_regression_matches_scalar_recursion():
    # Gaussian prior N(0, rho), Gaussian channel Delta: V = mse, qhat = alpha / (mse + Delta),
    # so with D = (mse + Delta) / alpha: mse' = rho D / (rho + D); fixed point
    # mse^2 + (alpha rho + Delta - rho) mse - rho Delta = 0.
    rho, delta, alpha = 2.0, 0.3, 0.7
    res = run_se(GaussianPrior(rho), GaussianChannel(delta), alpha, init=0.1, tol=1e-14)
    mse = [rho - 0.1]
    for _ in range(res.n_iter):
        d = (mse[-1] + delta) / alpha
        mse.append(rho * d / (rho + d))
    np.testing.assert_allclose(res.mse, mse, rtol=1e-12)
    np.testing.assert_allclose(res.qhat, alpha / (np.array(mse[:-1]) + delta), rtol=1e-12)
    b = alpha * rho + delta - rho
    assert res.converged
    assert res.mse_final == pytest.approx((-b + math.sqrt(b * b + 4 * rho * delta)) / 2, rel=1e-10)
    assert res.gen_error is None


def test_gaussian_prior_sign_channel_fixed_point():
    # q = qhat / (1 + qhat), qhat from the quad formula of docs/theory.md §6.7: an independent fixed point
    alpha = 2.0
    q_star = optimize.brentq(
        lambda q: q - perceptron_qhat(q, alpha) / (1 + perceptron_qhat(q, alpha)), 1e-9, 1 - 1e-9, xtol=1e-14
    )
    res = run_se(GaussianPrior(), SignChannel(), alpha, tol=1e-13)
    assert res.converged
    assert res.q_final == pytest.approx(q_star, rel=1e-9)
    np.testing.assert_allclose(res.q[1:], res.qhat / (1 + res.qhat), rtol=1e-13)
    assert res.gen_error[-1] == pytest.approx(math.acos(math.sqrt(q_star)) / math.pi, rel=1e-8)


@pytest.mark.parametrize("q", [0.0, 1e-6, 0.3, 0.8, 0.95, 0.999, 1 - 1e-7])
def test_perceptron_step_matches_quadrature(q):
    # channel side and Rademacher prior side of the generic SE vs the closed forms by quad,
    # up to q -> 1 where the sign channel's feature in xi has width sqrt((1 - q) / q)
    qhat, q1 = se_step(BinaryPrior(), SignChannel(), 1.3, q)
    assert qhat == pytest.approx(perceptron_qhat(q, 1.3), rel=1e-11)
    assert q1 == pytest.approx(perceptron_q(qhat), rel=1e-10, abs=1e-14)


def test_rademacher_prior_side_by_direct_quadrature():
    for qhat in (0.5, 3.0, 7.0, 30.0):
        s = math.sqrt(qhat)
        ref = _gauss_quad(lambda t, s=s, a=qhat: math.tanh(s * t + a), points=[-s])
        assert perceptron_q(qhat) == pytest.approx(ref, rel=1e-11)


# ----------------------------------------------------------------- generic pairs vs quad
@pytest.mark.parametrize("prior", [DiscretePrior([-1, 0, 1], [0.25, 0.5, 0.25]), GaussBernoulli(0.3)],
                         ids=lambda p: p.identify())
def test_prior_side_of_generic_se_by_quad(prior):
    # Gaussian channel: qhat = alpha / (rho - q + Delta); q' = E_x E_xi [x f_in(x + xi/sqrt(qhat), 1/qhat)]
    # integrated by quad (atoms summed, continuous part by quad over x) with the validated f_in
    alpha, delta, q = 1.5, 0.05, 0.2
    rho = prior.second_moment
    qhat, q1 = se_step(prior, GaussianChannel(delta), alpha, q)
    assert qhat == pytest.approx(alpha / (rho - q + delta), rel=1e-12)
    s = math.sqrt(qhat)
    code, params = prior.kernel_spec()

    def inner(x):
        return x * _gauss_quad(lambda t: dk.prior_fin(code, params, x + t / s, 1 / qhat)[0])

    atoms, masses = prior.atoms()
    ref = sum(m * inner(a) for a, m in zip(atoms, masses) if m > 0)
    if np.isfinite(prior.log_density(np.zeros(1))[0]):
        ref += integrate.quad(lambda x: math.exp(prior.log_density(np.array([x]))[0]) * inner(x), -12, 12,
                              epsrel=1e-10)[0]
    assert q1 == pytest.approx(ref, rel=1e-9)


def test_spike_and_slab_near_recovery_by_quad():
    # qhat ~ 2e4: the posterior mean jumps from the spike to the slab at r* ~ 3.4 sqrt(Sigma),
    # which the r-rule resolves; oracle: int Z_in f_in^2 dr by quad with the jump as a hint
    prior, q, delta = GaussBernoulli(0.3), 0.2999, 1e-5
    qhat, q1 = se_step(prior, GaussianChannel(delta), 2.0, q)
    Sigma = 1 / qhat
    roots, _ = prior.features(Sigma)
    # at the boundary the spike and the slab are equally likely: f_in = slab posterior mean / 2
    np.testing.assert_allclose(prior.f_in(roots, Sigma)[0], 0.5 * roots / (1 + Sigma), rtol=1e-10)
    code, params = prior.kernel_spec()

    def h(r):
        f, _, logz = dk.prior_fin(code, params, r, Sigma)
        return math.exp(logz) * f * f

    s0 = math.sqrt(Sigma)
    pts = sorted([0.0, *roots, *(roots + 3 * s0), *(roots - 3 * s0), 10 * s0, -10 * s0])
    ref = sum(integrate.quad(h, a, b, points=p, limit=500, epsabs=0, epsrel=1e-12)[0]
              for a, b, p in [(-1, 1, pts), (-13, -1, None), (1, 13, None)])
    assert prior.second_moment - q1 == pytest.approx(prior.second_moment - ref, rel=1e-8)


def test_channel_side_of_generic_se_by_quad():
    # noisy sign: qhat = alpha E_xi sum_y Phi(y omega / sqrt(V + Delta)) g_out(y, omega, V)^2
    alpha, delta, q = 0.8, 0.1, 0.97
    ch = NoisySignChannel(delta)
    V = 1 - q

    def h(t):
        w = math.sqrt(q) * t
        total = 0.0
        for y in (-1.0, 1.0):
            g, _, logz = ch.g_out(y, w, V)
            total += math.exp(logz) * g * g
        return total

    ref = alpha * _gauss_quad(h, points=[0.0])
    assert se_step(BinaryPrior(), ch, alpha, q)[0] == pytest.approx(ref, rel=1e-10)


PAIRS = [(p, c) for p in (GaussianPrior(), BinaryPrior(0.7), DiscretePrior([-1, 0, 2]), GaussBernoulli(0.2))
         for c in (GaussianChannel(0.1), SignChannel(), NoisySignChannel(0.2))]


@pytest.mark.parametrize("prior, channel", PAIRS, ids=lambda d: d.identify())
def test_every_pair_runs_and_stays_in_range(prior, channel):
    res = run_se(prior, channel, 1.0, max_iter=8, n_nodes=40)
    assert np.all(np.isfinite(res.q)) and np.all(np.isfinite(res.qhat))
    assert np.all(res.q >= 0) and np.all(res.q <= res.rho)
    assert np.all(res.mse >= 0)


# ----------------------------------------------------------------- perfect recovery and thresholds
def test_perfect_recovery_has_no_nan():
    res = run_se(BinaryPrior(), GaussianChannel(1e-4), 1.0)
    assert res.converged and res.q_final == pytest.approx(1.0, abs=1e-11) and res.mse_final > 0
    res = run_se(DiscretePrior([-1, 0, 1]), NoisySignChannel(0.0), 3.0, init=0.5)
    assert np.all(np.isfinite(res.q)) and np.all(np.isfinite(res.qhat)) and np.all(res.mse > 0)
    # starting at q = rho is clipped to rho (1 - 1e-12)
    res = run_se(BinaryPrior(), SignChannel(), 2.0, init=1.0, max_iter=3)
    assert np.all(np.isfinite(res.q)) and np.all(np.isfinite(res.gen_error))


@pytest.mark.slow
def test_binary_perceptron_algorithmic_threshold():
    # alpha_alg ~ 1.493: SE from q0 = 1e-6 reaches 1 at alpha = 1.50, stays stuck at alpha = 1.48
    above = run_se(BinaryPrior(), SignChannel(), 1.50, init=1e-6)
    assert above.converged and above.q_final > 1 - 1e-6
    assert above.gen_error[-1] < 1e-3
    below = run_se(BinaryPrior(), SignChannel(), 1.48, init=1e-6)
    assert below.converged and below.q_final < 0.9


@pytest.mark.slow
def test_threshold_bisections():
    a_alg = alpha_alg(1.48, 1.50, xtol=0.006)
    assert 1.49 < a_alg < 1.495
    a_it = alpha_it(1.20, 1.30, xtol=1e-4)
    assert 1.24 < a_it < 1.255
    with pytest.raises(ValueError, match="not bracketed"):
        alpha_alg(1.50, 1.60, xtol=0.05)


def test_free_entropy_limits_and_stationarity():
    assert perceptron_free_entropy(1.0, 1.3) == pytest.approx(-math.log(2), abs=1e-14)
    assert perceptron_free_entropy(1 - 1e-12, 1.3) == pytest.approx(-math.log(2), abs=1e-4)
    assert perceptron_free_entropy(0.0, 0.0) == pytest.approx(0.0, abs=1e-14)
    # at an SE fixed point both partial derivatives of f(q, qhat) vanish
    alpha = 1.1
    res = run_se(BinaryPrior(), SignChannel(), alpha, tol=1e-14)
    q, qh, h = res.q_final, float(res.qhat[-1]), 1e-5
    dq = (perceptron_free_entropy(q + h, alpha, qh) - perceptron_free_entropy(q - h, alpha, qh)) / (2 * h)
    dqh = (perceptron_free_entropy(q, alpha, qh + h) - perceptron_free_entropy(q, alpha, qh - h)) / (2 * h)
    assert abs(dq) < 1e-7 and abs(dqh) < 1e-7


# ----------------------------------------------------------------- Monte-Carlo teacher / student
def _amp(F, y, prior, channel, n_iter=25):
    """Plain GAMP of docs/theory.md §6.4 on the shared kernels (an independent check of SE)."""
    P, N = F.shape
    F2 = F * F
    pc, pp = prior.kernel_spec()
    cc, cp = channel.kernel_spec()
    xh, v, g = np.full(N, prior.mean), np.full(N, prior.var), np.zeros(P)
    gn, dg, f, vv = np.empty(P), np.empty(P), np.empty(N), np.empty(N)
    for _ in range(n_iter):
        V = F2 @ v
        dk.channel_gout_array(cc, cp, y, F @ xh - V * g, V, gn, dg)
        g = gn.copy()
        S = 1.0 / (-(F2.T @ dg))
        dk.prior_fin_array(pc, pp, xh + S * (F.T @ g), S, f, vv)
        xh, v = f.copy(), vv.copy()
    return xh


@pytest.mark.slow
def test_bayes_generalisation_error_teacher_student():
    # binary perceptron at alpha = 1: AMP's estimate predicts fresh labels with error ~ arccos(sqrt q)/pi
    alpha, N = 1.0, 800
    se = run_se(BinaryPrior(), SignChannel(), alpha)
    errs, overlaps = [], []
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        x = BinaryPrior().sample(N, rng)
        F = rng.standard_normal((int(alpha * N), N)) / math.sqrt(N)
        y = SignChannel().sample(F @ x)
        xh = _amp(F, y, BinaryPrior(), SignChannel())
        overlaps.append(xh @ x / N)
        Ft = rng.standard_normal((4000, N))
        errs.append(np.mean(np.sign(Ft @ xh) != np.sign(Ft @ x)))
    assert np.mean(overlaps) == pytest.approx(se.q_final, abs=0.03)
    assert np.mean(errs) == pytest.approx(se.gen_error[-1], abs=0.02)
    assert se.gen_error[-1] == pytest.approx(math.acos(math.sqrt(se.q_final)) / math.pi, rel=1e-12)


# ----------------------------------------------------------------- result, options, validation
def test_result_is_frozen_and_consistent():
    res = run_se(GaussianPrior(), SignChannel(), 1.0, init=0.01)
    assert isinstance(res, SEResult)
    assert res.q.shape == (res.n_iter + 1,) and res.qhat.shape == (res.n_iter,) and res.q[0] == 0.01
    assert res.q.dtype == np.float64 and not res.q.flags.writeable and not res.mse.flags.writeable
    np.testing.assert_allclose(res.mse, res.rho - res.q)
    assert (res.prior, res.channel, res.alpha) == ("gaussian", "sign", 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 2.0


def test_damping_reaches_the_same_fixed_point():
    a = run_se(BinaryPrior(), SignChannel(), 1.0, tol=1e-13)
    b = run_se(BinaryPrior(), SignChannel(), 1.0, tol=1e-13, damping=0.5)
    assert b.converged and b.n_iter > a.n_iter
    assert b.q_final == pytest.approx(a.q_final, abs=1e-10)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(alpha=-1.0), "alpha must be"),
        (dict(damping=1.0), "damping"),
        (dict(init=2.0), "init must be in"),
        (dict(tol=0.0), "tol"),
        (dict(max_iter=-1), "max_iter"),
    ],
)
def test_bad_arguments(kw, match):
    args = dict(alpha=1.0) | kw
    with pytest.raises(ValueError, match=match):
        run_se(BinaryPrior(), SignChannel(), **args)


def test_user_prior_without_kernel_runs_in_se():
    # open extension: a prior that only overrides f_in (numpy) gives the built-in SE trajectory
    class MyGaussian(Prior):
        mean, var = 0.0, 1.0

        def f_in(self, r, Sigma):
            r, S = np.broadcast_arrays(np.asarray(r, float), np.asarray(Sigma, float))
            return r / (1 + S), S / (1 + S), -0.5 * r**2 / (1 + S) - 0.5 * np.log(2 * np.pi * (1 + S))

        def quadrature(self, n_nodes=100):
            return GaussianPrior().quadrature(n_nodes)

    a = run_se(MyGaussian(), SignChannel(), 1.5)
    b = run_se(GaussianPrior(), SignChannel(), 1.5)
    np.testing.assert_allclose(a.q, b.q, rtol=1e-13)
    assert a.prior == "MyGaussian"


def test_graded_rule_resolves_narrow_features():
    t, w = graded_gauss_rule([0.3], 1e-7)
    # E[Phi((xi - 0.3) / 1e-7)] = Phi(-0.3 / sqrt(1 + 1e-14))
    assert float(w @ (0.5 * (1 + np.vectorize(math.erf)((t - 0.3) / 1e-7 / math.sqrt(2))))) == pytest.approx(
        0.5 * math.erfc(0.3 / math.sqrt(2)), rel=1e-12
    )
