"""Learning problems as factor graphs: perceptron, committee, quantized regression.

Oracles: the generative model itself (labels recomputed from the teacher and F),
direct numpy evaluation of every joint state of tiny factors, and exact
inference (fgraph.exact) concentrating on the teacher at large alpha.
"""

import itertools
import math

import numpy as np
import pytest
from scipy.special import log_ndtr

import fgraph
from fgraph.glm_factor import (
    CHANNEL_GAUSSIAN,
    CHANNEL_NOISY_SIGN,
    CHANNEL_SIGN,
    MAX_TABLE_ENTRIES,
    add_committee,
    add_glm,
    channel_code,
    glm_log_likelihood,
    sign0,
)
from fgraph.problems.committee import committee
from fgraph.problems.perceptron import perceptron
from fgraph.problems.quantized import quantized_regression


def _states(cards):
    """All joint states, int64 (S, d), in C order (last argument fastest)."""
    return np.array(list(itertools.product(*[range(c) for c in cards])), dtype=np.int64)


def _direct_loglik(code, y, z, noise):
    """log P_out(y | z) straight from the definitions."""
    if code == CHANNEL_GAUSSIAN:
        return -((y - z) ** 2) / (2 * noise) - 0.5 * np.log(2 * np.pi * noise)
    if code == CHANNEL_SIGN:
        return np.array([0.0 if (1.0 if v >= 0 else -1.0) == y else -np.inf for v in z])
    return log_ndtr(y * z / np.sqrt(noise))


# ------------------------------------------------------------------ builders: shapes and meta
@pytest.mark.parametrize(
    "build, n_var, P",
    [
        (lambda: perceptron(10, 2.5, seed=0), 10, 25),
        (lambda: perceptron(10, 1.0, prior=[-1, 0, 2.0], channel="noisy_sign", noise=0.2, seed=0), 10, 10),
        (lambda: committee(4, 1.5, 3, seed=0), 12, 6),
        (lambda: quantized_regression(7, 3.0, [-1.5, -0.5, 0.5, 1.5], seed=0), 7, 21),
    ],
)
def test_shapes_and_meta(build, n_var, P):
    prob = build()
    n = prob.meta["n"]
    assert prob.F.shape == (P, n) and prob.F.dtype == np.float64
    assert prob.y.shape == (P,) and prob.y.dtype == np.float64
    assert prob.truth.shape == (n_var,) and prob.truth.dtype == np.int64
    assert prob.graph.n_var == n_var and prob.graph.n_fac == P
    assert np.all(prob.graph.card == prob.meta["levels"].size)
    assert prob.meta["p"] == P and prob.meta["seed"] == 0
    for key in ("alpha", "prior", "channel", "noise", "levels", "weights", "teacher"):
        assert key in prob.meta
    assert not prob.F.flags.writeable and not prob.y.flags.writeable
    np.testing.assert_array_equal(prob.meta["levels"][prob.truth], np.ravel(prob.meta["teacher"]))
    assert np.all(np.diff(prob.graph.fac_ptr) == n_var)  # every sample sees every weight


def test_binary_levels_convention():
    prob = perceptron(6, 1.0, seed=3)
    np.testing.assert_array_equal(prob.meta["levels"], [-1.0, 1.0])  # state 1 is +1 (s = 2x - 1)
    np.testing.assert_array_equal(prob.meta["teacher"], 2.0 * prob.truth - 1.0)
    assert prob.meta["prior"] == "binary"
    assert np.all(prob.graph.var_unary == 0.0)  # a uniform prior adds no evidence


def test_non_uniform_prior_is_evidence():
    prob = quantized_regression(5, 2.0, [-1.0, 0.0, 1.0], weights=[1.0, 2.0, 1.0], noise=0.1, seed=0)
    np.testing.assert_allclose(prob.meta["weights"], [0.25, 0.5, 0.25])
    np.testing.assert_allclose(prob.graph.var_unary, np.log([[0.25, 0.5, 0.25]] * 5))


# ------------------------------------------------------------------ seeds
@pytest.mark.parametrize(
    "build",
    [
        lambda s: perceptron(12, 2.0, channel="noisy_sign", noise=0.3, seed=s),
        lambda s: committee(3, 2.0, 3, seed=s),
        lambda s: quantized_regression(6, 2.0, [-1.0, 1.0], noise=0.5, seed=s),
    ],
)
def test_seeds_reproducible(build):
    a, b, c = build(5), build(5), build(6)
    for name in ("F", "y", "truth"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.F, c.F)
    fresh = build(None)
    again = build(fresh.meta["seed"])  # seed=None records the entropy it drew
    np.testing.assert_array_equal(fresh.F, again.F)
    np.testing.assert_array_equal(fresh.y, again.y)


def test_generator_seed_not_recorded():
    prob = perceptron(5, 1.0, seed=np.random.default_rng(0))
    assert prob.meta["seed"] is None


# ------------------------------------------------------------------ labels and data statistics
def test_sign_labels_match_teacher():
    prob = perceptron(50, 3.0, seed=1)
    np.testing.assert_array_equal(prob.y, sign0(prob.F @ prob.meta["teacher"]))
    assert set(np.unique(prob.y)) <= {-1.0, 1.0}


def test_noisy_sign_labels_flip_some():
    prob = perceptron(50, 20.0, channel="noisy_sign", noise=0.25, seed=2)
    z = prob.F @ prob.meta["teacher"]
    agree = np.mean(prob.y == sign0(z))
    # P(flip) = E Phi(-|z| / sqrt(Delta)) with z ~ N(0, 1): arctan(sqrt(Delta)) / pi = 0.1476
    assert abs((1 - agree) - math.atan(0.5) / math.pi) < 0.03


def test_gaussian_labels_noise_variance():
    prob = perceptron(40, 50.0, prior=[-1.0, 0.0, 1.0], channel="gaussian", noise=0.3, seed=3)
    resid = prob.y - prob.F @ prob.meta["teacher"]
    assert abs(resid.mean()) < 0.05 and abs(resid.var() - 0.3) < 0.03


def test_committee_labels_majority_vote():
    prob = committee(9, 4.0, 5, seed=4)
    W = prob.meta["teacher"]
    assert W.shape == (5, 9)
    votes = sign0(prob.F @ W.T).sum(axis=1)
    assert np.all(np.abs(votes) % 2 == 1)  # odd K: never a tie
    np.testing.assert_array_equal(prob.y, np.sign(votes))
    np.testing.assert_array_equal(prob.truth.reshape(5, 9), (W > 0).astype(np.int64))  # k-major


def test_F_statistics():
    prob = perceptron(50, 40.0, seed=7)
    F = prob.F
    assert abs(F.mean()) < 0.01
    assert abs(F.var() * 50 - 1.0) < 0.03
    assert abs(np.mean(np.sum(F**2, axis=1)) - 1.0) < 0.02  # rows of squared norm ~ 1


def test_quantized_teacher_frequencies():
    prob = quantized_regression(4000, 0.01, [-1.0, 0.0, 1.0], weights=[0.2, 0.6, 0.2], seed=0, graph=True)
    freq = np.bincount(prob.truth, minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.2, 0.6, 0.2], atol=0.03)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: perceptron(0, 1.0), ValueError, "n must be >= 1, got 0"),
        (lambda: perceptron(2.5, 1.0), TypeError, "n must be an int"),
        (lambda: perceptron(10, 0.0), ValueError, "alpha must be finite and > 0, got 0.0"),
        (lambda: perceptron(10, -1.0), ValueError, "alpha must be finite and > 0"),
        (lambda: perceptron(10, "2"), TypeError, "alpha must be a real number"),
        (lambda: perceptron(10, 0.01), ValueError, "rounds to 0 samples"),
        (lambda: perceptron(10, 1.0, prior="ising"), ValueError, "unknown prior 'ising'"),
        (lambda: perceptron(10, 1.0, prior=[1.0]), ValueError, "at least 2 values"),
        (lambda: perceptron(10, 1.0, prior=[1.0, np.nan]), ValueError, "levels must be finite"),
        (lambda: perceptron(10, 1.0, channel="probit"), ValueError, "unknown channel 'probit'"),
        (lambda: perceptron(10, 1.0, channel="noisy_sign", noise=-0.1), ValueError, "noise must be finite"),
        (lambda: perceptron(10, 1.0, noise=0.1), ValueError, "channel 'sign' is noiseless"),
        (lambda: perceptron(10, 1.0, channel="noisy_sign"), ValueError, "'noisy_sign' needs noise > 0"),
        (lambda: perceptron(10, 1.0, graph="yes"), TypeError, "graph must be True or False"),
        (lambda: perceptron(10, 1.0, seed=-1), ValueError, "seed must be a non-negative integer"),
        (lambda: committee(5, 1.0, 2), ValueError, "k must be odd"),
        (lambda: committee(5, 1.0, 0), ValueError, "k must be >= 1, got 0"),
        (lambda: committee(5, 1.0, 3.0), TypeError, "k must be an int"),
        (lambda: quantized_regression(5, 1.0, [0.0, 0.0]), ValueError, "levels must be distinct"),
        (lambda: quantized_regression(5, 1.0, "midrise"), ValueError, "levels must be an array"),
        (lambda: quantized_regression(5, 1.0, [0.0, 1.0], weights=[1.0]), ValueError, "one per level"),
        (lambda: quantized_regression(5, 1.0, [0.0, 1.0], weights=[-1, 2]), ValueError, "weights must be"),
        (lambda: quantized_regression(5, 1.0, [0.0, 1.0], noise=0.0), ValueError, "needs noise > 0"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ Gaussian prior: no factor graph
def test_gaussian_prior_has_no_graph():
    prob = perceptron(30, 2.0, prior="gaussian", seed=0)
    assert prob.graph is None
    assert prob.truth.dtype == np.float64 and prob.truth.shape == (30,)
    assert prob.meta["levels"] is None and prob.meta["prior"] == "gaussian"
    np.testing.assert_array_equal(prob.y, sign0(prob.F @ prob.truth))
    q = committee(10, 2.0, 3, prior="gaussian", seed=0)
    assert q.graph is None and q.truth.shape == (30,)


def test_graph_false_skips_the_graph_same_data():
    a = perceptron(30, 2.0, seed=4, graph=False)
    b = perceptron(30, 2.0, seed=4)
    assert a.graph is None
    np.testing.assert_array_equal(a.F, b.F)
    np.testing.assert_array_equal(a.truth, b.truth)


# ------------------------------------------------------------------ the glm factor: exact tables
@pytest.mark.parametrize(
    "channel, noise, levels",
    [
        ("sign", 0.0, [-1.0, 1.0]),
        ("noisy_sign", 0.3, [-1.0, 1.0]),
        ("gaussian", 0.2, [-1.0, 1.0]),
        ("gaussian", 0.5, [-1.0, 0.0, 1.0]),
        ("noisy_sign", 1.0, [-2.0, 0.5, 1.0]),
    ],
)
def test_glm_log_table_matches_direct_evaluation(channel, noise, levels):
    n = 6 if len(levels) == 2 else 5
    prior = "binary" if levels == [-1.0, 1.0] else levels
    prob = perceptron(n, 0.6, prior=prior, channel=channel, noise=noise, seed=11)
    g = prob.graph
    lev = np.asarray(levels)
    X = _states(g.scope_cards(0))
    code = channel_code(channel)
    for a in range(g.n_fac):
        z = lev[X] @ prob.F[a]
        want = _direct_loglik(code, prob.y[a], z, noise)
        got = g.log_table(a).ravel()
        assert np.array_equal(np.isneginf(got), np.isneginf(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-12, atol=1e-12)


def test_teacher_satisfies_every_sign_factor():
    prob = perceptron(8, 2.0, seed=5)
    assert prob.graph.log_score(prob.truth) == 0.0
    flipped = prob.truth.copy()
    flipped[:] = 1 - flipped
    assert prob.graph.log_score(flipped) == -np.inf  # -x* disagrees with every label


def test_committee_log_table_matches_direct_evaluation():
    prob = committee(3, 1.5, 3, seed=2)
    g = prob.graph
    X = _states(g.scope_cards(0))  # (512, 9)
    W = (2.0 * X - 1.0).reshape(-1, 3, 3)  # (S, k, n), W_ki at position k*n + i
    for a in range(g.n_fac):
        h = np.einsum("ski,i->sk", W, prob.F[a])
        vote = np.where(h >= 0, 1.0, -1.0).sum(axis=1)
        want = np.where(np.sign(vote) == prob.y[a], 0.0, -np.inf)
        np.testing.assert_array_equal(g.log_table(a).ravel(), want)
    assert g.log_score(prob.truth) == 0.0


def test_log_table_refuses_large_factors():
    prob = perceptron(30, 0.1, seed=0)
    assert 2**30 > MAX_TABLE_ENTRIES
    with pytest.raises(ValueError, match="exact enumeration is for tiny instances only"):
        prob.graph.log_table(0)


def test_mixed_blocks_concatenate():
    """Blocks of different arity and alphabet share one parameter block (F and levels padded)."""
    g = fgraph.FactorGraph()
    g.add_variables(3)  # binary
    g.add_variables(2, card=3)  # ternary
    rng = np.random.default_rng(0)
    F3, F2 = rng.standard_normal((2, 3)), rng.standard_normal((1, 2))
    add_glm(g, F3, [1.0, -1.0], "noisy_sign", 0.5, [-1.0, 1.0], variables=[2, 0, 1])
    add_glm(g, F2, [0.3], "gaussian", 0.2, [-1.0, 0.0, 1.0], variables=[4, 3])
    cg = g.compile()
    cg.validate()
    assert cg.params[0]["F"].shape == (3, 3) and cg.params[0]["levels"].shape == (3, 3)
    assert np.isnan(cg.params[0]["levels"][0, 2])
    X = _states([2, 2, 2])
    want = log_ndtr(-(2.0 * X - 1.0) @ F3[1] / np.sqrt(0.5))
    np.testing.assert_allclose(cg.log_table(1).ravel(), want, rtol=1e-12)
    X = _states([3, 3])
    want = -((0.3 - (X - 1.0) @ F2[0]) ** 2) / 0.4 - 0.5 * np.log(2 * np.pi * 0.2)
    np.testing.assert_allclose(cg.log_table(2).ravel(), want, rtol=1e-12)
    assert cg.describe_factor(2) == "glm(gaussian, y=0.3, noise=0.2)"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y": [0.5]}, "sign channels need labels"),
        ({"channel": 7}, "unknown channel 7"),
        ({"channel": "gaussian", "noise": 0.0}, "needs noise > 0"),
        ({"levels": [-1.0]}, "only 1 levels"),
    ],
)
def test_add_glm_validates(kwargs, match):
    g = fgraph.FactorGraph()
    g.add_variables(3)
    args = {"F": np.ones((1, 3)), "y": [1.0], "channel": "sign", "noise": 0.0, "levels": [-1.0, 1.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        add_glm(g, **args)


def test_add_glm_raw_params_validated():
    g = fgraph.FactorGraph()
    g.add_variables(3)
    with pytest.raises(ValueError, match="arity 3 > F.shape"):
        g.add("glm", [[0, 1, 2]], F=np.ones((1, 2)), y=[1.0], channel=[1], noise=[0.0], levels=[[-1.0, 1.0]])
    with pytest.raises(ValueError, match="missing parameter"):
        g.add("glm", [[0, 1, 2]], F=np.ones((1, 3)), y=[1.0])
    with pytest.raises(ValueError, match="odd positive"):
        add_committee(g, np.ones((1, 1)), [1.0], 2, [-1.0, 1.0], variables=[0, 1])


def test_channel_helpers():
    assert (CHANNEL_GAUSSIAN, CHANNEL_SIGN, CHANNEL_NOISY_SIGN) == (0, 1, 2)
    np.testing.assert_array_equal(glm_log_likelihood(CHANNEL_SIGN, -1.0, [-2.0, 0.0], 0.0), [0.0, -np.inf])
    with pytest.raises(ValueError, match="unknown channel"):
        channel_code(True)


# ------------------------------------------------------------------ exact inference on tiny problems
def test_exact_posterior_concentrates_on_teacher():
    """Large alpha: the posterior of the binary perceptron sits on the teacher."""
    prob = perceptron(8, 5.0, seed=0)  # P = 40
    marg = np.array(fgraph.exact.marginals(prob.graph))
    p_truth = marg[np.arange(8), prob.truth]
    assert np.all(p_truth > 0.9)
    # and it concentrates as alpha grows (same seed: the first rows of F are not shared, so
    # compare averages over a few instances)
    means = []
    for P in (3, 6, 40):
        vals = []
        for s in range(4):
            pr = perceptron(8, P / 8, seed=s)
            m = np.array(fgraph.exact.marginals(pr.graph))
            vals.append(m[np.arange(8), pr.truth].mean())
        means.append(np.mean(vals))
    assert means[0] < means[1] < means[2]
    assert fgraph.exact.log_z(prob.graph) >= 0.0  # the teacher is a solution (uniform prior, Z counts them)


def test_exact_on_quantized_and_committee():
    prob = quantized_regression(6, 8.0, [-1.0, 0.0, 1.0], noise=0.01, seed=1)
    marg = np.array(fgraph.exact.marginals(prob.graph))
    np.testing.assert_array_equal(np.argmax(marg, axis=1), prob.truth)
    com = committee(3, 3.0, 3, seed=0)
    assert np.isfinite(fgraph.exact.log_z(com.graph))


def test_log_values_without_tables():
    """GLMType.log_values (scores at given states, no dense table) agrees with log_table."""
    prob = perceptron(6, 1.0, prior=[-1.0, 0.5, 2.0], channel="noisy_sign", noise=0.4, seed=8)
    g = prob.graph
    ft = g.factor_type(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(7, 6))
    rows = g.fac_param.copy()
    got = ft.log_values(g.params[0], rows, np.broadcast_to(x[:, None, :], (7, g.n_fac, 6)),
                        np.full((g.n_fac, 6), 3))
    want = np.stack([g.log_table(a)[tuple(x.T)] for a in range(g.n_fac)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
