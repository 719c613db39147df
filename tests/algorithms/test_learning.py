"""Perceptron and committee rules against plain-Python references; train() and its errors."""

import math

import numpy as np
import pytest

from algorithms.learning import Committee, Perceptron, Route, data_of, teacher_test_set, train
from fgraph.problems import committee, perceptron


def sgn(v):
    return 1.0 if v >= 0 else -1.0


def ref_perceptron_epoch(model, h, X, y, order, table=None, unit_of=None, coins=None):
    """Routed epoch written out in Python: all M routed fields first, then the messages."""
    M, N = h.shape
    for t, f in enumerate(order):
        src = [[(table[f, unit_of[i], m] if table is not None else m) for i in range(N)] for m in range(M)]
        fields = []
        for m in range(M):
            acc = 0.0
            for i in range(N):
                acc += X[f, i] if h[src[m][i], i] >= 0 else -X[f, i]
            fields.append(acc)
        for m in range(M):
            stab = y[f] * fields[m]
            if model.rule == "clipped":
                mode = 1 if stab <= model.kappa else 0
            elif stab <= 0:
                mode = 1
            elif stab <= model.theta and coins[t] < model.p_s:
                mode = 2
            else:
                mode = 0
            for i in range(N if mode else 0):
                d = model.eta * y[f] * X[f, i]
                s = src[m][i]
                if mode == 2 and sgn(h[s, i]) != sgn(d):
                    continue
                h[s, i] = min(max(h[s, i] + d, -model.h_max), model.h_max)


def ref_committee_epoch(model, h, X, y, order, table=None, unit_of=None):
    M, K, N = h.shape
    for f in order:
        src = np.array([[[(table[f, unit_of[k * N + i], m] if table is not None else m) for i in range(N)]
                         for k in range(K)] for m in range(M)])
        fields = np.zeros((M, K))
        for m in range(M):
            for k in range(K):
                acc = 0.0
                for i in range(N):
                    acc += X[f, i] if h[src[m, k, i], k, i] >= 0 else -X[f, i]
                fields[m, k] = acc
        for m in range(M):
            if y[f] * sum(sgn(v) for v in fields[m]) > 0:
                continue
            wrong = [k for k in range(K) if sgn(fields[m, k]) != y[f]]
            k = min(wrong, key=lambda k: (abs(fields[m, k]), k))
            for i in range(N):
                s = src[m, k, i]
                h[s, k, i] = min(max(h[s, k, i] + model.eta * y[f] * X[f, i], -model.h_max), model.h_max)


def random_route(model, granularity, n_in, n_fac, M, seed):
    rng = np.random.default_rng(seed)
    unit_of, n_units = model.units(granularity, n_in)
    table = np.array([[rng.permutation(M) for _ in range(n_units)] for _ in range(n_fac)], dtype=np.uint8)
    return Route(table, {k: np.ascontiguousarray(v).ravel() for k, v in unit_of.items()})


@pytest.mark.parametrize("model", [
    Perceptron(), Perceptron(kappa=0.3, h_max=0.2), Perceptron(rule="sbpi", theta=2.0, p_s=0.5),
])
@pytest.mark.parametrize("granularity", ["weight", "neuron"])
def test_perceptron_epoch_matches_the_python_reference(model, granularity):
    prob = perceptron(13, 3.0, seed=2, graph=False)
    X, y = data_of(prob)
    M = 4
    rng = np.random.default_rng(0)
    h0 = 0.1 * rng.standard_normal((M, 13))
    route = random_route(model, granularity, 13, X.shape[0], M, 1)
    order = rng.permutation(X.shape[0])
    h = h0.copy()
    stats = model.epoch({"h": h}, {}, model.prepare(X, y), order, route, np.random.default_rng(5))
    coins = np.random.default_rng(5).random(order.size)
    ref = h0.copy()
    ref_perceptron_epoch(model, ref, X, y, order, route.table, route.unit_of["h"], coins)
    np.testing.assert_array_equal(h, ref)
    assert stats["updates"].sum() > 0


@pytest.mark.parametrize("granularity", ["weight", "neuron", "tensor"])
def test_committee_epoch_matches_the_python_reference(granularity):
    model = Committee(3, eta=0.7, h_max=0.5)
    prob = committee(7, 3.0, 3, seed=4, graph=False)
    X, y = data_of(prob)
    M = 3
    rng = np.random.default_rng(1)
    h0 = 0.1 * rng.standard_normal((M, 3, 7))
    route = random_route(model, granularity, 7, X.shape[0], M, 2)
    order = rng.permutation(X.shape[0])
    h = h0.copy()
    stats = model.epoch({"h": h}, {}, model.prepare(X, y), order, route, None)
    ref = h0.copy()
    ref_committee_epoch(model, ref, X, y, order, route.table, route.unit_of["h"])
    np.testing.assert_array_equal(h, ref)
    assert stats["updates"].sum() > 0


def test_train_is_reproducible_and_learns():
    prob = perceptron(201, 3.0, seed=0, graph=False)
    a = train(prob, Perceptron(), epochs=30, seed=3)
    b = train(prob, Perceptron(), epochs=30, seed=3)
    c = train(prob, Perceptron(), epochs=30, seed=4)
    np.testing.assert_array_equal(a.params["h"], b.params["h"])
    assert not np.array_equal(a.params["h"], c.params["h"])
    gen = Perceptron().gen_errors({"h": a.params["h"][None]}, prob)[0]
    assert gen < 0.25  # chance is 0.5; the clipped perceptron at alpha = 3 reaches about 0.18
    assert a.history["errors"][-1] < a.history["errors"][0]


def test_gen_error_is_the_test_error_of_the_teacher():
    """arccos(R)/pi against the error on 200k fresh teacher examples (binomial sd 1e-3)."""
    prob = perceptron(101, 1.0, seed=1, graph=False)
    run = train(prob, Perceptron(), epochs=5, seed=0)
    params = {"h": run.params["h"][None]}
    exact = Perceptron().gen_errors(params, prob)[0]
    X, y = teacher_test_set(prob, 200_000, seed=2)
    mc = Perceptron().errors(params, X, y)[0] / y.size
    assert abs(mc - exact) < 5e-3
    w = np.where(run.params["h"] >= 0, 1.0, -1.0)
    t = prob.meta["teacher"]
    R = w @ t / (np.linalg.norm(w) * np.linalg.norm(t))
    assert exact == pytest.approx(math.acos(R) / math.pi, abs=1e-15)


def test_callback_stops_and_sees_every_epoch():
    prob = perceptron(31, 1.0, seed=0, graph=False)
    seen = []
    run = train(prob, Committee(3), epochs=10, seed=0, callback=lambda e, p, s: seen.append(e) or e == 3)
    assert seen == [0, 1, 2, 3] and run.epochs == 4 and run.history["errors"].shape == (4,)


def test_committee_learns_its_teacher():
    prob = committee(101, 3.0, 3, seed=0, graph=False)
    run = train(prob, Committee(3), epochs=30, seed=0)
    X, y = teacher_test_set(prob, 4000, seed=1)
    err = Committee(3).errors({"h": run.params["h"][None]}, X, y)[0] / y.size
    assert err < 0.35  # chance 0.5


@pytest.mark.parametrize("kw, msg", [
    ({"rule": "hebb"}, "unknown perceptron rule 'hebb'"),
    ({"eta": 0.0}, "eta must be > 0"),
    ({"h_max": -1.0}, "h_max must be > 0"),
    ({"p_s": 1.5}, "p_s must be <= 1"),
])
def test_bad_perceptron_settings(kw, msg):
    with pytest.raises(ValueError, match=msg):
        Perceptron(**kw)


def test_bad_training_input():
    prob = perceptron(11, 1.0, seed=0, graph=False)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train(prob, Perceptron(), epochs=0)
    with pytest.raises(ValueError, match=r"init\['h'\] must have shape \(11,\)"):
        train(prob, Perceptron(), epochs=1, init={"h": np.zeros(12)})
    with pytest.raises(ValueError, match="init must have the keys"):
        train(prob, Perceptron(), epochs=1, init={"w": np.zeros(11)})
    with pytest.raises(ValueError, match=r"labels y must have shape \(11,\)"):
        train((prob.F, prob.y[:5]), Perceptron(), epochs=1)
    with pytest.raises(ValueError, match="labels y must be -1 or \\+1"):
        train((prob.F, np.zeros(11)), Perceptron(), epochs=1)
    with pytest.raises(TypeError, match="model must be an algorithms.learning model"):
        train(prob, "perceptron", epochs=1)
    with pytest.raises(ValueError, match="K must be odd"):
        Committee(2)
    with pytest.raises(ValueError, match="granularity 'layer' is not one"):
        Committee(3).units("layer", 5)
