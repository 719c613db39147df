"""The MLP model of algorithms.learning: backprop, SGD/momentum, routing, data sets."""

import sys

import numpy as np
import pytest

from algorithms.learning import Route, train
from algorithms.learning._base import split_rng
from algorithms.learning.datasets import (
    ClassificationData,
    digits,
    digits_or_teacher,
    teacher_classification,
)
from algorithms.learning.mlp import MLP, _backward, _forward, _loss_grad, class_labels
from algorithms.learning.train import epoch_loop

COMBOS = [(a, loss) for a in ("relu", "tanh") for loss in ("cross_entropy", "squared")]


def tiny_problem(P=23, D=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((P, D))
    y = rng.integers(0, C, size=P)
    return X, y


def stack(copies):
    return {k: np.stack([c[k] for c in copies]) for k in copies[0]}


# -- reference implementation: one example at a time, explicit loops -----------------
def ref_grads(params, X, y, activation, loss):
    """Mean loss, misclassified fraction and gradients of one model, example by example."""
    L = len(params) // 2
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    total = 0.0
    wrong = 0
    for x, c in zip(X, y):
        hs, acts = [], [x]
        for layer in range(1, L + 1):
            h = params[f"W{layer}"] @ acts[-1] + params[f"b{layer}"]
            hs.append(h)
            if layer < L:
                acts.append(np.maximum(h, 0.0) if activation == "relu" else np.tanh(h))
        z = hs[-1]
        wrong += int(np.argmax(z) != c)
        t = np.zeros_like(z)
        t[c] = 1.0
        if loss == "cross_entropy":
            p = np.exp(z - z.max())
            p /= p.sum()
            total += -np.log(p[c])
            d = p - t
        else:
            total += 0.5 * np.sum((z - t) ** 2)
            d = z - t
        for layer in range(L, 0, -1):
            grads[f"W{layer}"] += np.outer(d, acts[layer - 1])
            grads[f"b{layer}"] += d
            if layer > 1:
                da = params[f"W{layer}"].T @ d
                deriv = (hs[layer - 2] > 0) if activation == "relu" else 1.0 - np.tanh(hs[layer - 2]) ** 2
                d = da * deriv
    B = len(y)
    return total / B, wrong / B, {k: g / B for k, g in grads.items()}


def ref_routed_epoch(model, params, state, data, order, table, unit_of):
    """Slow reference of a routed epoch: entry-by-entry gather and scatter, then per-copy SGD."""
    M = next(iter(params.values())).shape[0]
    errors = np.zeros(M)
    losses = np.zeros(M)
    for f in order:
        idx = data.batch_idx[data.batch_ptr[f]:data.batch_ptr[f + 1]]
        X, y = data.X[idx], data.y[idx]
        sent = {k: np.zeros(v.shape[0], dtype=int) for k, v in params.items()}
        received = {k: np.zeros_like(v) for k, v in params.items()}
        recv_count = {k: np.zeros(v.shape, dtype=int) for k, v in params.items()}
        for m in range(M):
            routed = {}
            for k, v in params.items():
                flat = np.empty(v[0].size)
                for j in range(flat.size):
                    flat[j] = v[table[f, unit_of[k][j], m]].flat[j]
                routed[k] = flat.reshape(v.shape[1:])
            lo, err, g = ref_grads(routed, X, y, model.activation, model.loss)
            losses[m] += lo
            errors[m] += err
            for k in params:
                sent[k][m] += 1
                for j in range(g[k].size):
                    c = table[f, unit_of[k][j], m]
                    received[k][c].flat[j] += g[k].flat[j]
                    recv_count[k][c].flat[j] += 1
        for k in params:
            assert np.all(recv_count[k] == 1)            # one gradient per entry of every copy
            g = received[k]
            if model.weight_decay and k[0] == "W":
                g = g + model.weight_decay * params[k]
            if model.momentum:
                state[k] = model.momentum * state[k] + g
                g = state[k]
            params[k] -= model.lr * g
    return {"errors": errors, "loss": losses}


# -- backprop ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation,loss", COMBOS)
def test_backprop_matches_central_differences(activation, loss):
    model = MLP(hidden=(5, 3), n_classes=3, activation=activation, loss=loss)
    rng = np.random.default_rng(1)
    p = model.init(4, rng)
    p = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in p.items()}   # nonzero biases
    X, y = tiny_problem(P=6)
    names = list(p)
    L = model.n_layers

    def mean_loss(q):
        pres, _ = _forward([q[f"W{i}"] for i in range(1, L + 1)], [q[f"b{i}"] for i in range(1, L + 1)],
                           X, activation)
        return _loss_grad(pres[-1], y, loss)[0].mean()

    Ws = [p[f"W{i}"] for i in range(1, L + 1)]
    bs = [p[f"b{i}"] for i in range(1, L + 1)]
    pres, acts = _forward(Ws, bs, X, activation)
    _, dz = _loss_grad(pres[-1], y, loss)
    gW = [np.empty_like(W) for W in Ws]
    gb = [np.empty_like(b) for b in bs]
    _backward(Ws, pres, acts, dz, activation, gW, gb)
    analytic = {f"W{i + 1}": gW[i] for i in range(L)} | {f"b{i + 1}": gb[i] for i in range(L)}
    eps = 1e-6
    for k in names:
        num = np.empty_like(p[k])
        for j in range(p[k].size):
            q = {n: v.copy() for n, v in p.items()}
            q[k].flat[j] += eps
            up = mean_loss(q)
            q[k].flat[j] -= 2 * eps
            num.flat[j] = (up - mean_loss(q)) / (2 * eps)
        np.testing.assert_allclose(analytic[k], num, rtol=1e-6, atol=1e-9, err_msg=k)
    # and the independent per-example reference agrees to rounding
    _, _, ref = ref_grads(p, X, y, activation, loss)
    for k in names:
        np.testing.assert_allclose(analytic[k], ref[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    per, g = _loss_grad(z, np.array([0, 0]), "cross_entropy")
    np.testing.assert_allclose(per, [0.0, 800.0])
    assert np.all(np.isfinite(g))


def test_one_sgd_step_by_hand():
    # one example x = (1, 2), class 0; W1 = [[.5, .25]], b1 = .1 -> h = 1.1 (relu: a = 1.1)
    # z = W2 a + b2 = (1.1, -0.6); squared loss vs (1, 0): dz = (0.1, -0.6)
    # gW2 = dz a = (.11, -.66), gb2 = dz; da = W2^T dz = 0.7; gW1 = 0.7 x, gb1 = 0.7
    init = {"W1": np.array([[0.5, 0.25]]), "b1": np.array([0.1]),
            "W2": np.array([[1.0], [-1.0]]), "b2": np.array([0.0, 0.5])}
    model = MLP(hidden=1, n_classes=2, loss="squared", lr=0.1, batch_size=1)
    run = train((np.array([[1.0, 2.0]]), np.array([0])), model, epochs=1, seed=0, init=init)
    want = {"W1": [[0.43, 0.11]], "b1": [0.03], "W2": [[0.989], [-0.934]], "b2": [-0.01, 0.56]}
    for k, v in want.items():
        np.testing.assert_allclose(run.params[k], v, rtol=1e-14, atol=1e-15, err_msg=k)
    assert run.history["loss"][0] == pytest.approx(0.5 * (0.1**2 + 0.6**2), rel=1e-14)
    assert run.history["errors"][0] == 0.0


def test_momentum_and_weight_decay_follow_the_recurrence():
    X, y = tiny_problem(P=17)
    model = MLP(hidden=4, n_classes=3, activation="tanh", lr=0.2, momentum=0.9, batch_size=5,
                weight_decay=0.01)
    p0 = model.init(4, np.random.default_rng(3))
    data = model.prepare(X, y, np.random.default_rng(4))
    assert model.n_factors(data) == 4
    params = {k: v[None].copy() for k, v in p0.items()}
    state = model.new_state(params)
    order = np.array([2, 0, 3, 1, 0])
    model.epoch(params, state, data, order, None, np.random.default_rng(0))
    ref = {k: v.copy() for k, v in p0.items()}
    vel = {k: np.zeros_like(v) for k, v in p0.items()}
    for f in order:
        idx = data.batch_idx[data.batch_ptr[f]:data.batch_ptr[f + 1]]
        _, _, g = ref_grads(ref, X[idx], y[idx], "tanh", "cross_entropy")
        for k in ref:
            gk = g[k] + (0.01 * ref[k] if k[0] == "W" else 0.0)
            vel[k] = 0.9 * vel[k] + gk
            ref[k] = ref[k] - 0.2 * vel[k]
    for k in ref:
        np.testing.assert_allclose(params[k][0], ref[k], rtol=1e-12, atol=1e-14, err_msg=k)
        np.testing.assert_allclose(state[k][0], vel[k], rtol=1e-12, atol=1e-14, err_msg=k)
    assert MLP().new_state(params) == {}


# -- copies and routing ---------------------------------------------------------------------
def run_copies(model, X, y, inits, epochs, seed, route_of_epoch=None):
    """M copies through epoch_loop with the seed streams train() uses."""
    order_rng = split_rng(seed)[1]
    data = model.prepare(X, y, order_rng)
    params = stack(inits)
    state = model.new_state(params)
    history, _ = epoch_loop(model, params, state, data, epochs, order_rng, route_of_epoch=route_of_epoch)
    return params, history, data


@pytest.mark.parametrize("granularity", [None, "weight", "neuron", "tensor"])
def test_identity_copies_equal_single_runs_bit_for_bit(granularity):
    X, y = tiny_problem(P=70, D=6, C=3)
    model = MLP(hidden=(8, 5), n_classes=3, lr=0.1, momentum=0.5, batch_size=8, weight_decay=1e-3)
    M, seed, E = 3, 7, 3
    inits = [model.init(6, np.random.default_rng(10 + m)) for m in range(M)]
    route_of_epoch = None
    if granularity is not None:
        unit_shaped, n_units = model.units(granularity, 6)
        unit_of = {k: v.ravel() for k, v in unit_shaped.items()}
        n_fac = -(-70 // 8)
        table = np.broadcast_to(np.arange(M, dtype=np.uint8), (n_fac, n_units, M)).copy()

        def route_of_epoch(e):
            return Route(table, unit_of)

    params, history, _ = run_copies(model, X, y, inits, E, seed, route_of_epoch)
    for m in range(M):
        single = train((X, y), model, epochs=E, seed=seed, init=inits[m])
        for k in params:
            assert np.array_equal(params[k][m], single.params[k]), (m, k)
        for k in ("errors", "loss"):
            assert np.array_equal(history[k][:, m], single.history[k]), (m, k)


@pytest.mark.parametrize("granularity", ["weight", "neuron", "tensor"])
def test_routed_epoch_matches_entrywise_reference(granularity):
    X, y = tiny_problem(P=19, D=3, C=3, seed=5)
    model = MLP(hidden=(4, 3), n_classes=3, activation="tanh", lr=0.3, momentum=0.6, batch_size=6,
                weight_decay=0.02)
    M = 3
    rng = np.random.default_rng(11)
    params = stack([model.init(3, rng) for _ in range(M)])
    data = model.prepare(X, y, rng)
    unit_shaped, n_units = model.units(granularity, 3)
    unit_of = {k: v.ravel() for k, v in unit_shaped.items()}
    n_fac = model.n_factors(data)
    table = np.array([[rng.permutation(M) for _ in range(n_units)] for _ in range(n_fac)], dtype=np.uint8)
    assert not np.all(table == np.arange(M))
    order = np.array([1, 3, 0, 2, 1])
    ref_params = {k: v.copy() for k, v in params.items()}
    ref_state = {k: np.zeros_like(v) for k, v in params.items()}
    state = model.new_state(params)
    stats = model.epoch(params, state, data, order, Route(table, unit_of), rng)
    ref_stats = ref_routed_epoch(model, ref_params, ref_state, data, order, table, unit_of)
    for k in params:
        np.testing.assert_allclose(params[k], ref_params[k], rtol=1e-12, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(state[k], ref_state[k], rtol=1e-12, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(stats["loss"], ref_stats["loss"], rtol=1e-12)
    np.testing.assert_allclose(stats["errors"], ref_stats["errors"], rtol=1e-12)
    assert stats["errors"].dtype == np.float64 and stats["errors"].shape == (M,)


def test_routing_mixes_neurons_between_copies():
    # two copies with a per-neuron swap of hidden neuron 0 only: after one step,
    # copy 0's neuron 0 moved by the gradient computed with copy 1's other rows.
    X, y = tiny_problem(P=4, D=3, C=2)
    model = MLP(hidden=2, n_classes=2, lr=0.5, batch_size=4)
    rng = np.random.default_rng(2)
    inits = [model.init(3, rng) for _ in range(2)]
    params = stack(inits)
    data = model.prepare(X, y, rng)
    unit_shaped, n_units = model.units("neuron", 3)
    table = np.tile(np.arange(2, dtype=np.uint8), (1, n_units, 1))
    table[0, 0] = [1, 0]
    model.epoch(params, {}, data, np.array([0]), Route(table, {k: v.ravel() for k, v in unit_shaped.items()}),
                rng)
    hybrid = {k: v.copy() for k, v in inits[0].items()}
    hybrid["W1"][0], hybrid["b1"][0] = inits[1]["W1"][0], inits[1]["b1"][0]
    _, _, g = ref_grads(hybrid, X, y, "relu", "cross_entropy")
    np.testing.assert_allclose(params["W1"][1, 0], inits[1]["W1"][0] - 0.5 * g["W1"][0], rtol=1e-12)
    np.testing.assert_allclose(params["W2"][0], inits[0]["W2"] - 0.5 * g["W2"], rtol=1e-12)


def test_units_per_granularity():
    model = MLP(hidden=(3, 2), n_classes=2)
    shapes = model.param_shapes(4)
    assert list(shapes) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for g, n_want in (("weight", 12 + 3 + 6 + 2 + 4 + 2), ("neuron", 3 + 2 + 2), ("tensor", 6)):
        unit_of, n = model.units(g, 4)
        assert n == n_want
        assert {k: v.shape for k, v in unit_of.items()} == shapes
        assert all(v.dtype == np.int64 for v in unit_of.values())
        allu = np.concatenate([v.ravel() for v in unit_of.values()])
        assert set(allu.tolist()) == set(range(n))
    w, _ = model.units("weight", 4)
    assert w["W1"][0].tolist() == [0, 1, 2, 3] and w["b1"].tolist() == [12, 13, 14] and w["W2"][0, 0] == 15
    nu, _ = model.units("neuron", 4)
    assert nu["W1"][:, 0].tolist() == nu["b1"].tolist() == [0, 1, 2]
    assert np.all(nu["W2"] == np.array([[3], [4]])) and nu["b3"].tolist() == [5, 6]
    t, _ = model.units("tensor", 4)
    assert [int(v.flat[0]) for v in t.values()] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="granularity"):
        model.units("layer", 4)


# -- data handling and evaluation -------------------------------------------------------------
def test_prepare_batches_and_labels():
    X, _ = tiny_problem(P=10, D=2)
    model = MLP(hidden=3, n_classes=2, batch_size=4)
    data = model.prepare(X, np.array([-1, 1] * 5), np.random.default_rng(0))
    assert data.y.dtype == np.int64 and data.y.tolist() == [0, 1] * 5
    assert data.batch_ptr.tolist() == [0, 4, 8, 10] and model.n_factors(data) == 3
    assert sorted(data.batch_idx.tolist()) == list(range(10))
    assert np.array_equal(data.Xb, X[data.batch_idx]) and np.array_equal(data.yb, data.y[data.batch_idx])
    assert class_labels([0, 1, 1], 2).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="class label 3"):
        MLP(hidden=3, n_classes=3).prepare(X, np.array([0, 1, 2, 3] + [0] * 6), np.random.default_rng())
    with pytest.raises(ValueError, match="-1"):
        MLP(hidden=3, n_classes=3).prepare(X, np.array([-1, 1] * 5), np.random.default_rng())
    with pytest.raises(ValueError, match="integer"):
        model.prepare(X, np.full(10, 0.5), np.random.default_rng())
    with pytest.raises(ValueError, match="2-D"):
        model.prepare(X[:, 0], np.zeros(10, dtype=int), np.random.default_rng())


def test_scores_errors_vote():
    X, y = tiny_problem(P=12, D=3, C=4)
    model = MLP(hidden=5, n_classes=4)
    params = stack([model.init(3, np.random.default_rng(m)) for m in range(3)])
    z = model.scores(params, X)
    assert z.shape == (3, 12, 4) and z.dtype == np.float64
    err = model.errors(params, X, y)
    assert err.dtype == np.int64 and err.tolist() == (z.argmax(axis=2) != y).sum(axis=1).tolist()
    v = model.vote(params, X)
    assert v.dtype == np.int64 and v.tolist() == z.mean(axis=0).argmax(axis=1).tolist()
    assert model.gen_errors(params, (X, y)) is None
    with pytest.raises(ValueError, match="columns"):
        model.scores(params, X[:, :2])
    with pytest.raises(ValueError, match="2-D"):
        model.scores(params, X[0])


def test_learning_beats_chance():
    data = digits_or_teacher(seed=0)
    model = MLP(hidden=32)
    run = train(data.train, model, epochs=5, seed=0)
    err = model.errors({k: v[None] for k, v in run.params.items()}, *data.test)[0] / data.y_test.size
    # chance is 0.9; the teacher's labels are harder than the digits for 1347 examples
    assert err < (0.2 if data.source == "sklearn-digits" else 0.65), (data.source, err)
    assert run.history["loss"][-1] < run.history["loss"][0]


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"hidden": 0}, ValueError, "hidden"),
    ({"hidden": (4, -1)}, ValueError, "hidden"),
    ({"hidden": ()}, TypeError, "hidden"),
    ({"hidden": 2.5}, TypeError, "hidden"),
    ({"n_classes": 1}, ValueError, "n_classes"),
    ({"activation": "sigmoid"}, ValueError, "activation 'sigmoid'"),
    ({"loss": "hinge"}, ValueError, "loss 'hinge'"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"lr": -1}, ValueError, "lr"),
    ({"momentum": 1.0}, ValueError, "momentum"),
    ({"momentum": -0.1}, ValueError, "momentum"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.0}, TypeError, "batch_size"),
    ({"weight_init": "zeros"}, ValueError, "weight_init 'zeros'"),
    ({"weight_decay": -1e-3}, ValueError, "weight_decay"),
])
def test_bad_arguments_rejected(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MLP(**kwargs)


def test_hidden_list_becomes_tuple():
    model = MLP(hidden=[4, 3])
    assert model.hidden == (4, 3) and model.n_layers == 3 and hash(model)
    assert MLP(hidden=4).sizes == (4,)


# -- data sets -------------------------------------------------------------------------------
def test_teacher_classification():
    a = teacher_classification(200, 50, d=8, n_classes=4, hidden=6, seed=3)
    b = teacher_classification(200, 50, d=8, n_classes=4, hidden=6, seed=3)
    assert isinstance(a, ClassificationData) and a.source == "teacher-mlp" and a.n_classes == 4
    assert a.X_train.shape == (200, 8) and a.X_test.shape == (50, 8)
    assert a.y_train.dtype == np.int64 and set(a.y_train.tolist()) <= set(range(4))
    assert all(np.array_equal(x, z) for x, z in zip(a[:4], b[:4]))
    assert np.bincount(a.y_train, minlength=4).min() > 0
    with pytest.raises(ValueError, match="n_classes"):
        teacher_classification(10, 10, n_classes=1)


def test_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits(seed=0)
    data = digits_or_teacher(seed=1)
    assert data.source == "teacher-mlp"
    assert data.X_train.shape == (1347, 64) and data.X_test.shape == (450, 64)


def test_digits_split():
    pytest.importorskip("sklearn")
    a = digits(seed=0)
    assert a.source == "sklearn-digits" and a.n_classes == 10
    assert a.X_train.shape == (1347, 64) and a.X_test.shape == (450, 64)
    assert a.y_train.dtype == np.int64 and a.X_train.dtype == np.float64
    assert np.array_equal(a.X_test, digits(seed=0).X_test)
    assert not np.array_equal(a.y_test, digits(seed=1).y_test)
    full = np.bincount(np.concatenate([a.y_train, a.y_test]))
    np.testing.assert_allclose(np.bincount(a.y_test), full * 450 / 1797, atol=1.0)   # stratified
    np.testing.assert_allclose(a.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = a.X_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    const = std == 0
    assert const.any() and np.all(a.X_test[:, const] == 0) and np.all(np.isfinite(a.X_test))
    raw = digits(seed=0, standardize=False)
    assert raw.X_train.max() == 16.0 and np.array_equal(raw.y_train, a.y_train)
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.0)
