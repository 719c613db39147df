"""The baselines of routed training: independent copies, replicated SGD, EASGD (docs/theory.md §7.7)."""

import math

import numpy as np
import pytest

from algorithms.learning import Committee, Perceptron, train
from algorithms.learning._base import split_rng
from algorithms.learning.baselines import (
    ReplicaResult,
    _couple_free,
    _couple_mean,
    _easgd_step,
    _spread,
    easgd,
    independent,
    replicated,
)
from fgraph.problems import committee, perceptron

N = 61


@pytest.fixture(scope="module")
def prob():
    return perceptron(N, 1.5, seed=3, graph=False)


@pytest.fixture(scope="module")
def cprob():
    return committee(N, 1.5, 3, seed=4, graph=False)


def _init(model, n, M, seed):
    rng = np.random.default_rng(seed)
    one = model.init(n, rng)
    return {k: np.stack([model.init(n, rng)[k] for _ in range(M)]) for k in one}


def _init_mean(p, model, seed, M=3):
    """The mean of the M initial copies drawn from ``seed`` (copy m the m-th draw of the init stream)."""
    init_rng = split_rng(seed)[0]
    return np.mean([model.init(p.F.shape[1], init_rng)["h"] for _ in range(M)], axis=0)


def _same(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------- independent
@pytest.mark.parametrize("model", [Perceptron(), Perceptron(rule="sbpi", h_max=2.0), Committee(3)])
def test_independent_copy_m_is_train_from_its_start(prob, cprob, model):
    p = cprob if isinstance(model, Committee) else prob
    M = 3
    W0 = _init(model, N, M, seed=11)
    run = independent(p, model, M, epochs=4, seed=5, init=W0)
    assert isinstance(run, ReplicaResult) and run.method == "independent" and run.center is None
    assert run.history["errors"].shape == (4, M) and run.history["spread"].shape == (4,)
    for m in range(M):
        single = train(p, model, epochs=4, seed=5, init={k: v[m] for k, v in W0.items()})
        for k in W0:
            assert np.array_equal(run.params[k][m], single.params[k])
        assert np.array_equal(run.history["errors"][:, m], single.history["errors"])
        assert np.array_equal(run.history["updates"][:, m], single.history["updates"])


def test_independent_draws_copy_zero_as_train_does(prob):
    run = independent(prob, Perceptron(), 4, epochs=3, seed=7)
    single = train(prob, Perceptron(), epochs=3, seed=7)
    assert np.array_equal(run.params["h"][0], single.params["h"])
    # the other copies start elsewhere
    assert not np.array_equal(run.params["h"][1], run.params["h"][0])


def test_independent_init_is_copied_and_callback_stops(prob):
    W0 = _init(Perceptron(), N, 2, seed=1)
    keep = W0["h"].copy()
    seen = []
    run = independent(prob, Perceptron(), 2, epochs=10, seed=0, init=W0,
                      callback=lambda e, p, s: seen.append((e, p["h"].shape, s["spread"])) or e == 2)
    assert np.array_equal(W0["h"], keep)
    assert run.epochs == 3 and run.history["errors"].shape == (3, 2)
    assert [s[:2] for s in seen] == [(0, (2, N)), (1, (2, N)), (2, (2, N))]


# ----------------------------------------------------------------------------- gamma = 0 limit
@pytest.mark.parametrize("center", ["mean", "free"])
@pytest.mark.parametrize("period", [1, 7])
@pytest.mark.parametrize("model", [Perceptron(rule="sbpi"), Committee(3)])
def test_replicated_without_coupling_is_independent(prob, cprob, model, center, period):
    p = cprob if isinstance(model, Committee) else prob
    ind = independent(p, model, 3, epochs=3, seed=9)
    rep = replicated(p, model, 3, epochs=3, seed=9, gamma=0.0, gamma_growth=2.0, period=period,
                     center=center)
    assert _same(rep.params, ind.params)
    for key in ("errors", "updates"):
        assert np.array_equal(rep.history[key], ind.history[key]), key
    if center == "mean":  # a free centre stays at the initial mean: the spread is measured elsewhere
        assert np.array_equal(rep.history["spread"], ind.history["spread"])
    else:
        np.testing.assert_array_equal(rep.center["h"], _init_mean(p, model, 9))
    assert rep.history["gamma"].tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------------------- elastic maps, directly
def _random_params(M, seed):
    rng = np.random.default_rng(seed)
    return {"a": rng.standard_normal((M, 5)), "b": rng.standard_normal((M, 2, 3))}


def test_mean_coupling_closed_form():
    M, gamma = 5, 0.3
    params = _random_params(M, 0)
    mean0 = {k: v.mean(axis=0) for k, v in params.items()}
    s0 = _spread(params)
    for t in range(1, 8):
        _couple_mean(params, gamma)
        assert _spread(params) == pytest.approx(s0 * (1 - gamma) ** (2 * t), rel=1e-12)
        for k in params:
            np.testing.assert_allclose(params[k].mean(axis=0), mean0[k], rtol=0, atol=1e-14)


def test_free_coupling_closed_form():
    M, gamma = 4, 0.2
    params = _random_params(M, 1)
    center = {k: np.random.default_rng(2).standard_normal(v.shape[1:]) for k, v in params.items()}
    m0 = {k: v.mean(axis=0) for k, v in params.items()}
    dev0 = {k: v - m0[k] for k, v in params.items()}
    c0 = {k: v.copy() for k, v in center.items()}
    for t in range(1, 6):
        _couple_free(params, center, gamma)
        for k in params:
            m = params[k].mean(axis=0)
            np.testing.assert_allclose(m + center[k], m0[k] + c0[k], atol=1e-13)  # conserved
            np.testing.assert_allclose(m - center[k], (1 - 2 * gamma) ** t * (m0[k] - c0[k]), atol=1e-13)
            np.testing.assert_allclose(params[k] - m, (1 - gamma) ** t * dev0[k], atol=1e-13)


def test_easgd_step_follows_its_linear_recursion():
    M, alpha = 4, 0.15
    params = _random_params(M, 3)
    center = {k: np.random.default_rng(4).standard_normal(v.shape[1:]) for k, v in params.items()}
    mass0 = {k: v.sum(axis=0) + center[k] for k, v in params.items()}
    m0 = {k: v.mean(axis=0) for k, v in params.items()}
    dev0 = {k: v - m0[k] for k, v in params.items()}
    c0 = {k: v.copy() for k, v in center.items()}
    # (m, c) <- A (m, c): m' = (1 - alpha) m + alpha c, c' = M alpha m + (1 - M alpha) c
    A = np.array([[1 - alpha, alpha], [M * alpha, 1 - M * alpha]])
    lam = 1 - (M + 1) * alpha  # the eigenvalue of m - c; the other is 1 (the mass)
    for t in range(1, 7):
        _easgd_step(params, center, alpha)
        At = np.linalg.matrix_power(A, t)
        for k in params:
            m = params[k].mean(axis=0)
            np.testing.assert_allclose(params[k].sum(axis=0) + center[k], mass0[k], atol=1e-13)
            np.testing.assert_allclose(m, At[0, 0] * m0[k] + At[0, 1] * c0[k], atol=1e-13)
            np.testing.assert_allclose(center[k], At[1, 0] * m0[k] + At[1, 1] * c0[k], atol=1e-13)
            np.testing.assert_allclose(m - center[k], lam**t * (m0[k] - c0[k]), atol=1e-13)
            np.testing.assert_allclose(params[k] - m, (1 - alpha) ** t * dev0[k], atol=1e-13)


# ----------------------------------------------------------------------------- end to end, no learning step
def _fitted_start(prob, M, seed):
    """Copies h = 5 teacher + noise in (-4, 4): sign(h) is the teacher, so the clipped rule never steps."""
    teacher = prob.meta["teacher"]
    rng = np.random.default_rng(seed)
    return {"h": 5.0 * teacher[None] + rng.uniform(-4, 4, (M, teacher.size))}


def test_replicated_spread_decays_exactly_without_errors(prob):
    M, gamma, period, epochs = 4, 0.05, 10, 3
    W0 = _fitted_start(prob, M, 0)
    run = replicated(prob, Perceptron(), M, epochs=epochs, seed=1, gamma=gamma, period=period, init=W0)
    assert np.all(run.history["updates"] == 0)
    steps = math.ceil(prob.F.shape[0] / period)  # couplings per epoch
    s0 = _spread(W0)
    want = [s0 * (1 - gamma) ** (2 * steps * (e + 1)) for e in range(epochs)]
    np.testing.assert_allclose(run.history["spread"], want, rtol=1e-10)
    np.testing.assert_allclose(run.params["h"].mean(axis=0), W0["h"].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(run.center["h"], run.params["h"].mean(axis=0), atol=0)


def test_replicated_gamma_growth_schedule(prob):
    M, gamma, growth = 3, 0.01, 3.0
    W0 = _fitted_start(prob, M, 1)
    run = replicated(prob, Perceptron(), M, epochs=4, seed=1, gamma=gamma, gamma_growth=growth,
                     period=prob.F.shape[0], init=W0)  # one coupling per epoch
    gammas = [min(1.0, gamma * growth**e) for e in range(4)]
    assert run.history["gamma"].tolist() == gammas
    want = _spread(W0) * np.cumprod([(1 - g) ** 2 for g in gammas])
    np.testing.assert_allclose(run.history["spread"], want, rtol=1e-10)


def test_easgd_end_to_end_without_errors(prob):
    M, alpha, period, epochs = 3, 0.1, 25, 2
    W0 = _fitted_start(prob, M, 2)
    run = easgd(prob, Perceptron(), M, epochs=epochs, seed=0, alpha=alpha, period=period, init=W0)
    assert np.all(run.history["updates"] == 0) and run.method == "easgd"
    t = epochs * math.ceil(prob.F.shape[0] / period)
    m0 = W0["h"].mean(axis=0)  # the centre starts at the mean: m - c = 0 stays 0
    np.testing.assert_allclose(run.center["h"], m0, atol=1e-12)
    np.testing.assert_allclose(run.params["h"] - m0, (1 - alpha) ** t * (W0["h"] - m0), atol=1e-12)
    np.testing.assert_allclose(run.history["spread"][-1], _spread(W0) * (1 - alpha) ** (2 * t), rtol=1e-10)


# ------------------------------------------------------------------- coupling brings copies together
@pytest.mark.parametrize("method", ["mean", "free", "easgd"])
def test_coupling_makes_copies_closer_than_independent(prob, method):
    M, epochs = 4, 6
    ind = independent(prob, Perceptron(), M, epochs=epochs, seed=2)
    if method == "easgd":
        run = easgd(prob, Perceptron(), M, epochs=epochs, seed=2, alpha=0.05)
    else:
        run = replicated(prob, Perceptron(), M, epochs=epochs, seed=2, gamma=0.05, center=method)
    assert run.history["spread"][-1] < 0.2 * ind.history["spread"][-1]

    def hamming(h):
        w = np.where(h >= 0, 1, -1)
        return np.mean([np.mean(w[a] != w[b]) for a in range(M) for b in range(a)])

    assert hamming(run.params["h"]) < hamming(ind.params["h"])
    assert run.history["errors"].shape == (epochs, M)


def test_committee_replicated_runs(cprob):
    run = replicated(cprob, Committee(3), 3, epochs=3, seed=0, gamma=0.1, center="free", period=5)
    assert run.params["h"].shape == (3, 3, N) and run.center["h"].shape == (3, N)
    assert run.settings == {"M": 3, "gamma": 0.1, "gamma_growth": 1.0, "period": 5, "center": "free"}


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn, kwargs, match", [
    (independent, {"M": 0}, "M must be >= 1"),
    (independent, {"epochs": 0}, "epochs must be >= 1"),
    (replicated, {"M": 0}, "M must be >= 1"),
    (replicated, {"gamma": -0.1}, "gamma must be >= 0"),
    (replicated, {"gamma": 1.5}, "gamma must be <= 1"),
    (replicated, {"gamma_growth": 0.0}, "gamma_growth must be > 0"),
    (replicated, {"period": 0}, "period must be >= 1"),
    (replicated, {"epochs": 0}, "epochs must be >= 1"),
    (replicated, {"center": "median"}, "center must be one of"),
    (easgd, {"alpha": 0.0}, "alpha must be > 0"),
    (easgd, {"alpha": -1.0}, "alpha must be > 0"),
    (easgd, {"alpha": 0.25, "M": 4}, "alpha must satisfy M \\* alpha < 1"),
    (easgd, {"period": 0}, "period must be >= 1"),
    (easgd, {"M": 0}, "M must be >= 1"),
    (easgd, {"epochs": 0}, "epochs must be >= 1"),
])
def test_bad_input_is_rejected(prob, fn, kwargs, match):
    args = {"M": 2, "epochs": 1, **kwargs}
    M = args.pop("M")
    with pytest.raises(ValueError, match=match):
        fn(prob, Perceptron(), M, **args)


def test_bad_types_are_rejected(prob):
    with pytest.raises(TypeError, match="model must be"):
        replicated(prob, "perceptron", 2, epochs=1)
    with pytest.raises(TypeError, match="M must be an int"):
        independent(prob, Perceptron(), 2.0, epochs=1)
    with pytest.raises(TypeError, match="gamma must be a real number"):
        replicated(prob, Perceptron(), 2, epochs=1, gamma="0.1")
    with pytest.raises(ValueError, match=r"init\['h'\] must have shape \(3, 61\)"):
        replicated(prob, Perceptron(), 3, epochs=1, init={"h": np.zeros((2, N))})


# ----------------------------------------------------------------------------- the MLP, when present
def _mlp_or_skip():
    try:
        from algorithms.learning.mlp import MLP
    except ImportError:  # pragma: no cover - the MLP is optional here
        pytest.skip("algorithms.learning.mlp is not available")
    return MLP(hidden=4, n_classes=3, lr=0.1, momentum=0.5, batch_size=10)


@pytest.fixture(scope="module")
def mlp_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5))
    return X, np.argmax(X[:, :3], axis=1)


def test_mlp_independent_is_train_and_uncoupled_replicated_is_independent(mlp_data):
    model = _mlp_or_skip()
    M = 3
    W0 = _init(model, 5, M, seed=2)
    ind = independent(mlp_data, model, M, epochs=3, seed=4, init=W0)
    for m in range(M):
        single = train(mlp_data, model, epochs=3, seed=4, init={k: v[m] for k, v in W0.items()})
        assert _same({k: v[m] for k, v in ind.params.items()}, single.params)
    rep = replicated(mlp_data, model, M, epochs=3, seed=4, gamma=0.0, period=2, init=W0)
    assert _same(rep.params, ind.params)
    # per-epoch float statistics are sums of the chunks' sums: equal up to rounding
    np.testing.assert_allclose(rep.history["errors"], ind.history["errors"], rtol=1e-12)
    run = easgd(mlp_data, model, M, epochs=3, seed=4, alpha=0.1, period=2, init=W0)
    assert set(run.center) == set(W0) and run.history["spread"][-1] < ind.history["spread"][-1]
