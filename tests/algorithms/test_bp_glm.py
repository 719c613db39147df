"""Relaxed BP on GLM factors (algorithms.bp.glm).

Oracles: exact enumeration of one factor's messages (the Gaussian relaxation
converges to it as N grows), exact marginals of tiny perceptrons
(fgraph.exact), and teacher recovery of the binary perceptron above the
algorithmic threshold (alpha = 3 > alpha_alg ~ 1.49: BP finds the teacher).
Small sizes: this file also runs without JIT.
"""

import numpy as np
import pytest

import algorithms
import fgraph
from algorithms.bp.glm import EnumerationRule, GLMRule
from algorithms.denoisers import kernels as DK
from fgraph import glm_factor
from fgraph.glm_factor import add_glm
from fgraph.problems.committee import committee
from fgraph.problems.perceptron import perceptron
from fgraph.problems.quantized import quantized_regression


def _one_factor(N, channel, noise, levels, rng):
    g = fgraph.FactorGraph()
    g.add_variables(N, card=len(levels))
    y = rng.standard_normal() if channel == "gaussian" else rng.choice([-1.0, 1.0])
    add_glm(g, rng.standard_normal((1, N)) / np.sqrt(N), [y], channel, noise, levels)
    return g.compile()


def _random_v2f(cg, rng, conc=3.0):
    q = cg.q_max
    return np.log(rng.dirichlet(np.full(q, conc), size=cg.n_edge))


def _factor_error(N, channel, noise, levels, seed):
    """Largest probability error of the rule's f2v against enumeration, and the log Z_a error."""
    rng = np.random.default_rng(seed)
    cg = _one_factor(N, channel, noise, levels, rng)
    v2f = _random_v2f(cg, rng)
    got, want = np.zeros_like(v2f), np.zeros_like(v2f)
    GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    algorithms.dense_f2v(cg, 0, 1, v2f, want, False)
    zg, zw = np.zeros(1), np.zeros(1)
    GLMRule().log_z(cg, 0, 0, 1, v2f, zg, False)
    algorithms.dense_log_z(cg, 0, 1, v2f, zw, False)
    return np.abs(np.exp(got) - np.exp(want)).max(), abs(zg[0] - zw[0])


def test_codes_agree_with_denoiser_kernels():
    assert glm_factor.CHANNEL_GAUSSIAN == DK.CHANNEL_GAUSSIAN
    assert glm_factor.CHANNEL_SIGN == DK.CHANNEL_SIGN
    assert glm_factor.CHANNEL_NOISY_SIGN == DK.CHANNEL_NOISY_SIGN


def test_rules_registered():
    assert isinstance(algorithms.get_bp_rule("glm"), GLMRule)
    assert isinstance(algorithms.get_bp_rule("committee"), algorithms.CommitteeRule)


@pytest.mark.parametrize(
    "channel, noise, levels",
    [
        ("noisy_sign", 0.5, [-1.0, 1.0]),
        ("sign", 0.0, [-1.0, 1.0]),
        ("gaussian", 0.5, [-1.0, 1.0]),
        ("gaussian", 0.5, [-1.0, 0.0, 1.0]),
    ],
)
def test_gaussian_relaxation_approaches_enumeration(channel, noise, levels):
    """The f2v error against exact enumeration is small at N = 12 and smaller than at N = 6."""
    small = 6 if len(levels) == 2 else 5
    big = 12 if len(levels) == 2 else 9
    e_small = np.array([_factor_error(small, channel, noise, levels, s) for s in range(12)])
    e_big = np.array([_factor_error(big, channel, noise, levels, s) for s in range(12)])
    assert e_big[:, 0].mean() < 0.75 * e_small[:, 0].mean(), (e_small.mean(0), e_big.mean(0))
    assert e_big[:, 0].mean() < 0.04
    assert e_big[:, 1].mean() < 0.1  # the Bethe term, same relaxation


def test_exact_when_other_messages_are_hard():
    """With every other slot fixed, the cavity is a point mass and the rule is exact."""
    rng = np.random.default_rng(0)
    for channel, noise in (("noisy_sign", 0.3), ("gaussian", 0.2)):
        cg = _one_factor(5, channel, noise, [-1.0, 1.0], rng)
        v2f = np.full((5, 2), -np.inf)
        v2f[np.arange(5), rng.integers(0, 2, 5)] = 0.0
        v2f[0] = np.log([0.3, 0.7])
        got, want = np.zeros((5, 2)), np.zeros((5, 2))
        GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
        algorithms.dense_f2v(cg, 0, 1, v2f, want, False)
        np.testing.assert_allclose(got[0], want[0], atol=1e-12)


def test_zero_mass_messages_propagate_like_enumeration():
    rng = np.random.default_rng(1)
    cg = _one_factor(4, "noisy_sign", 0.5, [-1.0, 1.0], rng)
    v2f = _random_v2f(cg, rng)
    v2f[2] = -np.inf  # a contradiction arriving on slot 2
    got = np.zeros_like(v2f)
    GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    assert np.all(np.isneginf(got[[0, 1, 3]])) and np.all(np.isfinite(got[2]))
    z = np.zeros(1)
    GLMRule().log_z(cg, 0, 0, 1, v2f, z, False)
    assert z[0] == -np.inf
    v2f[3] = -np.inf  # two: everything is a contradiction
    GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    assert np.all(np.isneginf(got))


def test_sign_channel_hard_cavity_no_nan():
    """Zero cavity variance (all other slots hard) is clipped, never NaN."""
    rng = np.random.default_rng(2)
    cg = _one_factor(3, "sign", 0.0, [-1.0, 1.0], rng)
    v2f = np.array([[0.0, -np.inf], [-np.inf, 0.0], [-np.inf, 0.0]])
    got = np.zeros((3, 2))
    GLMRule().f2v(cg, 0, 0, 1, v2f, got, None, False)
    assert not np.any(np.isnan(got))
    z = np.zeros(1)
    GLMRule().log_z(cg, 0, 0, 1, v2f, z, False)
    assert not np.isnan(z[0])


def test_max_product_refused():
    prob = perceptron(6, 1.0, seed=0)
    with pytest.raises(ValueError, match="max-product is not available for 'glm'"):
        algorithms.run_bp(prob.graph, mode="max")


def test_bp_matches_exact_marginals_on_tiny_perceptron():
    """N = 8: relaxed BP agrees loosely with exact marginals (noisy sign channel, alpha = 2)."""
    errs, zerr = [], []
    for seed in range(4):
        prob = perceptron(8, 2.0, channel="noisy_sign", noise=0.1, seed=seed)
        exact = np.array(fgraph.exact.marginals(prob.graph))
        r = algorithms.run_bp(prob.graph, damping=0.5, tol=1e-8, max_iter=500)
        assert r.converged
        errs.append(np.abs(r.beliefs - exact))
        zerr.append(abs(r.log_z - fgraph.exact.log_z(prob.graph)))
    errs = np.array(errs)
    assert errs.max() < 0.2 and errs.mean() < 0.05
    assert max(zerr) < 1.0  # the Bethe log Z of the relaxation is approximate


def test_bp_recovers_teacher_small():
    """N = 40, alpha = 3: BP converges and its marginals point to the teacher."""
    prob = perceptron(40, 3.0, seed=3)
    r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-7, max_iter=300)
    assert r.converged
    assert np.mean(np.argmax(r.beliefs, axis=1) == prob.truth) > 0.95


def test_schedules_reach_the_same_fixed_point():
    prob = perceptron(10, 1.0, channel="noisy_sign", noise=0.2, seed=4)
    ref = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-11, max_iter=2000)
    assert ref.converged
    for schedule in ("sequential", "residual"):
        r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-11, max_iter=2000, schedule=schedule)
        assert r.converged
        np.testing.assert_allclose(r.beliefs, ref.beliefs, atol=1e-7)
        assert abs(r.log_z - ref.log_z) < 1e-6


def test_quantized_regression_bp():
    prob = quantized_regression(20, 3.0, [-1.0, 0.0, 1.0], noise=0.01, seed=0)
    r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-7, max_iter=300)
    assert r.converged
    assert np.mean(np.argmax(r.beliefs, axis=1) == prob.truth) > 0.9


def test_committee_enumeration_rule():
    prob = committee(2, 2.0, 3, seed=0)
    report = algorithms.check_bp_rule(EnumerationRule(), prob.graph, seed=0)
    assert report["n_factors"] == 4 and report["max_f2v_error"] == 0.0
    r = algorithms.run_bp(prob.graph, damping=0.5, max_iter=50)
    assert np.all(np.isfinite(r.beliefs)) and r.beliefs.shape == (6, 2)


@pytest.mark.slow
def test_bp_recovers_teacher_n200():
    """N = 200, alpha = 3, binary prior, sign channel: converged, > 95% of signs right, log Z ~ 0.

    Above alpha_alg ~ 1.49 the teacher is the unique solution w.h.p., so the exact
    log Z (uniform prior: log of the number of solutions) is 0.
    """
    prob = perceptron(200, 3.0, seed=0)
    r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-6, max_iter=200)
    assert r.converged
    assert np.mean(np.argmax(r.beliefs, axis=1) == prob.truth) > 0.95
    assert abs(r.log_z) < 1e-3
