"""Gaussian-approximation BP on committee factors (algorithms.bp.committee).

Oracles: the GLM rule with the sign channel (K = 1 is the perceptron: equal to
round-off), brute-force Poisson-binomial laws of the votes, exact enumeration of
one factor's messages (the Gaussian relaxation approaches it as N grows), and
teacher recovery of a binary committee machine (K = 3) at a size where the
enumeration rule is impossible (K N = 120 weights per factor).
Small sizes: this file also runs without JIT (the BP recovery test is marked slow).
"""

import itertools

import numpy as np
import pytest

import algorithms
import fgraph
from algorithms.bp.committee import CommitteeRule, _leave_one_out, _vote_tables
from algorithms.bp.glm import EnumerationRule, GLMRule
from fgraph import exact
from fgraph.glm_factor import add_committee, add_glm
from fgraph.problems.committee import committee


def _one_factor(K, N, rng, levels=(-1.0, 1.0), y=None):
    g = fgraph.FactorGraph()
    g.add_variables(K * N, card=len(levels))
    y = rng.choice([-1.0, 1.0]) if y is None else y
    add_committee(g, rng.standard_normal((1, N)) / np.sqrt(N), [y], K, list(levels))
    return g.compile()


def _random_v2f(cg, rng, conc=3.0):
    return np.log(rng.dirichlet(np.full(cg.q_max, conc), size=cg.n_edge))


def _rule(cg, v2f):
    out, z = np.zeros_like(v2f), np.zeros(cg.n_fac)
    CommitteeRule().f2v(cg, 0, 0, cg.n_fac, v2f, out, None, False)
    CommitteeRule().log_z(cg, 0, 0, cg.n_fac, v2f, z, False)
    return out, z


def _factor_error(N, seed, K=3):
    """Largest probability error of the rule's f2v against enumeration, and the log Z_a error."""
    rng = np.random.default_rng(seed)
    cg = _one_factor(K, N, rng)
    v2f = _random_v2f(cg, rng)
    got, zg = _rule(cg, v2f)
    want, zw = np.zeros_like(v2f), np.zeros(1)
    algorithms.dense_f2v(cg, 0, 1, v2f, want, False)
    algorithms.dense_log_z(cg, 0, 1, v2f, zw, False)
    return np.abs(np.exp(got) - np.exp(want)).max(), abs(zg[0] - zw[0])


def test_rule_registered():
    assert isinstance(algorithms.get_bp_rule("committee"), CommitteeRule)


@pytest.mark.parametrize("levels", [(-1.0, 1.0), (-1.0, 0.0, 1.0)])
@pytest.mark.parametrize("y", [1.0, -1.0])
def test_k1_is_the_glm_sign_rule(levels, y):
    """K = 1: messages and log Z_a equal the GLM rule's with the sign channel."""
    rng = np.random.default_rng(5)
    N = 7
    for _ in range(4):
        F = rng.standard_normal((1, N)) / np.sqrt(N)
        g1 = fgraph.FactorGraph()
        g1.add_variables(N, card=len(levels))
        add_committee(g1, F, [y], 1, list(levels))
        g2 = fgraph.FactorGraph()
        g2.add_variables(N, card=len(levels))
        add_glm(g2, F, [y], "sign", 0.0, list(levels))
        c1, c2 = g1.compile(), g2.compile()
        v2f = _random_v2f(c1, rng, conc=1.0)
        got, zg = _rule(c1, v2f)
        want, zw = np.zeros_like(v2f), np.zeros(1)
        GLMRule().f2v(c2, 0, 0, 1, v2f, want, None, False)
        GLMRule().log_z(c2, 0, 0, 1, v2f, zw, False)
        np.testing.assert_allclose(got, want, atol=1e-10, rtol=0)
        assert abs(zg[0] - zw[0]) < 1e-10


@pytest.mark.parametrize("K", [1, 3, 5, 7])
def test_vote_tables_match_brute_force(K):
    """The prefix/suffix leave-one-out laws equal the Poisson-binomial law summed over 2^(K-1) votes."""
    rng = np.random.default_rng(K)
    om, V = rng.standard_normal(K) * 2.0, rng.uniform(0.1, 2.0, K)
    for sy in (1.0, -1.0):
        lp, lq = np.empty(K), np.empty(K)
        pre, suf, tail = np.empty((K + 1, K + 1)), np.empty((K + 1, K + 2)), np.empty((K + 1, K + 2))
        _vote_tables(K, sy, om, V, lp, lq, pre, suf, tail)
        p = np.exp(lp)
        np.testing.assert_allclose(p + np.exp(lq), 1.0, atol=1e-12)
        m = (K + 1) // 2
        full = sum(np.prod(np.where(v, p, 1 - p)) for v in itertools.product([0, 1], repeat=K) if sum(v) >= m)
        assert abs(np.exp(tail[0, m]) - full) < 1e-12
        for k in range(K):
            others = [j for j in range(K) if j != k]
            law = np.zeros(K)
            for v in itertools.product([0, 1], repeat=K - 1):
                law[sum(v)] += np.prod([p[j] if vj else 1 - p[j] for j, vj in zip(others, v)])
            lb, la = _leave_one_out(k, K, m, pre, suf, tail)
            assert abs(np.exp(lb) - law[m:].sum()) < 1e-12
            assert abs(np.exp(la) - law[m - 1]) < 1e-12


def test_gaussian_approximation_approaches_enumeration():
    """K = 3, binary weights, random messages: the f2v error is small and shrinks from N = 3 to N = 5.

    Measured (80 message sets each): mean max probability error 0.099 at N = 3 and 0.061 at N = 5
    (ratio 0.62; a single factor's error fluctuates a lot, hence the many sets).
    """
    e3 = np.array([_factor_error(3, s) for s in range(80)])
    e5 = np.array([_factor_error(5, s) for s in range(80)])
    assert e5[:, 0].mean() < 0.8 * e3[:, 0].mean(), (e3.mean(0), e5.mean(0))
    assert e5[:, 0].mean() < 0.08
    assert e5[:, 1].mean() < 0.1  # the (approximate) Bethe term


def test_outputs_normalised_and_finite():
    rng = np.random.default_rng(3)
    cg = _one_factor(5, 6, rng, levels=(-1.0, 0.0, 1.0))
    got, z = _rule(cg, _random_v2f(cg, rng))
    assert np.all(np.isfinite(got)) and np.isfinite(z[0])
    np.testing.assert_allclose(np.logaddexp.reduce(got, axis=1), 0.0, atol=1e-12)


def test_zero_mass_messages_propagate_like_enumeration():
    rng = np.random.default_rng(1)
    cg = _one_factor(3, 3, rng)
    v2f = _random_v2f(cg, rng)
    v2f[4] = -np.inf  # a contradiction arriving on slot 4 (unit 1, weight 1)
    got, z = _rule(cg, v2f)
    others = np.arange(9) != 4
    assert np.all(np.isneginf(got[others])) and np.all(np.isfinite(got[4]))
    assert z[0] == -np.inf
    v2f[7] = -np.inf  # two: everything is a contradiction
    got, _ = _rule(cg, v2f)
    assert np.all(np.isneginf(got))


def test_hard_cavities_no_nan():
    """Every incoming message hard: zero cavity variances are clipped, never NaN."""
    rng = np.random.default_rng(2)
    cg = _one_factor(3, 3, rng, y=1.0)
    v2f = np.full((9, 2), -np.inf)
    v2f[np.arange(9), rng.integers(0, 2, 9)] = 0.0
    got, z = _rule(cg, v2f)
    assert not np.any(np.isnan(got)) and not np.isnan(z[0])


def test_max_product_refused():
    prob = committee(3, 2.0, 3, seed=0)
    with pytest.raises(ValueError, match="max-product is not available for 'committee'"):
        algorithms.run_bp(prob.graph, mode="max")
    with pytest.raises(ValueError, match="max-product"):
        CommitteeRule().log_z(prob.graph, 0, 0, 1, np.zeros((prob.graph.n_edge, 2)), np.zeros(1), True)


def test_schedules_reach_the_same_fixed_point():
    prob = committee(6, 1.0, 3, seed=4)
    ref = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-11, max_iter=2000, init="random", seed=0)
    assert ref.converged
    r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-11, max_iter=2000, schedule="sequential",
                          init=ref.f2v)
    assert r.converged
    np.testing.assert_allclose(r.beliefs, ref.beliefs, atol=1e-7)


def _best_matched_overlap(beliefs, teacher):
    """Mean over units of the overlap m_k . W*_k / n, maximised over the K! matchings of units.

    The committee is symmetric under permuting hidden units, so BP may find the
    teacher's units in any order.
    """
    K, n = teacher.shape
    m = (beliefs[:, 1] - beliefs[:, 0]).reshape(K, n)  # binary levels (-1, +1): the magnetisation
    C = m @ teacher.T / n
    return max(np.mean(C[np.arange(K), list(p)]) for p in itertools.permutations(range(K)))


@pytest.mark.slow
def test_bp_recovers_teacher_beyond_enumeration():
    """n = 40, alpha = 4, K = 3 (120 weights per factor): converges, no NaN, positive overlap.

    Measured: best-matched overlap 0.54 (seed 0), after 142 sweeps.  The start must break the
    permutation symmetry of the hidden units (``init='random'``): from uniform messages BP stays in
    the symmetric subspace (all units equal), which cannot fit a committee, and ends in a
    contradictory fixed point (overlap ~ -0.1, log Z ~ -1e302).
    """
    prob = committee(40, 4.0, 3, prior="binary", seed=0)
    r = algorithms.run_bp(prob.graph, damping=0.3, tol=1e-7, max_iter=500, init="random", seed=0)
    assert r.converged
    assert not np.any(np.isnan(r.beliefs)) and np.isfinite(r.log_z)
    assert _best_matched_overlap(r.beliefs, prob.meta["teacher"]) > 0.3


@pytest.fixture
def exact_committee_rule():
    """Swap in the exact enumeration rule for 'committee' factors for one test, then restore."""
    from algorithms.bp import rules as bp_rules

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bp_rules, "_RULES", dict(bp_rules._RULES))
        algorithms.register_bp_rule("committee", EnumerationRule(), overwrite=True)
        yield


def test_one_factor_bp_with_the_exact_rule_is_exact(exact_committee_rule):
    """A single committee factor is a tree: BP with the enumeration rule gives the exact marginals."""
    prob = committee(5, 1 / 5, 3, seed=1)  # one example, K = 3 units of 5 binary weights
    g = prob.graph
    assert g.n_fac == 1
    r = algorithms.run_bp(g, tol=1e-13)
    assert r.converged
    np.testing.assert_allclose(r.beliefs, np.array(exact.marginals(g)), atol=1e-10)
    assert abs(r.log_z - exact.log_z(g)) < 1e-10


def _committee_errors(seed):
    prob = committee(4, 1.0, 3, seed=seed)  # 4 examples on K N = 12 binary weights: 4096 states
    g = prob.graph
    ex = np.array(exact.marginals(g))
    r = algorithms.run_bp(g, damping=0.3, tol=1e-10, max_iter=3000, init="random", seed=0)
    assert r.converged
    return np.abs(np.array(r.marginals) - ex).mean(), np.abs(ex - 0.5).mean()


def test_committee_bp_beliefs_against_enumeration():
    """Loopy BP with the Gaussian-approximation rule against exact marginals (6 instances).

    Measured: mean absolute error of the marginals 0.051 (BP with the exact enumeration
    rule: 0.022, so about half of it is loopy BP's own error), against 0.165 for the
    uninformative answer p = 1/2.
    """
    errs = np.array([_committee_errors(s) for s in range(6)])
    err, uninformative = errs.mean(axis=0)
    assert err < 0.07
    assert err < 0.4 * uninformative
