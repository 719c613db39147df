"""Routed training: the three invariants, the routed training graph, evaluation and errors."""

import numpy as np
import pytest

import lifts
from algorithms.learning import Committee, Perceptron, data_of, teacher_test_set, train
from fgraph.problems import committee, perceptron
from lifts import FromMatrix, Identity, Ring, Uniform, route

MODELS = [Perceptron(), Perceptron(rule="sbpi", theta=1.0, p_s=0.5), Committee(3)]


def problem_for(model, n=21, alpha=2.0, seed=0, graph=False):
    if model.name == "committee":
        return committee(n, alpha, 3, seed=seed, graph=graph)
    return perceptron(n, alpha, seed=seed, graph=graph)


def starts(model, n, M, seed):
    rng = np.random.default_rng(seed)
    ones = [model.init(n, rng) for _ in range(M)]
    return {k: np.stack([o[k] for o in ones]) for k in ones[0]}


# -- invariant 1: identity kernel or M = 1 gives independent runs, bit for bit ------------------
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.identify()[:30])
@pytest.mark.parametrize("granularity", ["weight", "neuron"])
def test_identity_routing_is_independent_training_bit_for_bit(model, granularity):
    prob = problem_for(model)
    W0 = starts(model, 21, 3, 7)
    run = route(prob, model, 3, Identity(), epochs=4, seed=11, init=W0, granularity=granularity)
    for m in range(3):
        single = train(prob, model, epochs=4, seed=11, init={k: v[m] for k, v in W0.items()})
        for k in W0:
            np.testing.assert_array_equal(run.params[k][m], single.params[k])
        np.testing.assert_array_equal(run.history["errors"][:, m], single.history["errors"])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.identify()[:30])
def test_one_copy_under_any_kernel_is_a_single_model(model):
    prob = problem_for(model)
    W0 = starts(model, 21, 1, 3)
    run = route(prob, model, 1, Ring(2.0), epochs=3, seed=5, init=W0, dynamic=True)
    single = train(prob, model, epochs=3, seed=5, init={k: v[0] for k, v in W0.items()})
    for k in W0:
        np.testing.assert_array_equal(run.params[k][0], single.params[k])


def test_default_copy_zero_equals_train_with_the_same_seed():
    prob = perceptron(31, 2.0, seed=0, graph=False)
    run = route(prob, Perceptron(), 4, Identity(), epochs=3, seed=9)
    np.testing.assert_array_equal(run.params["h"][0], train(prob, Perceptron(), epochs=3, seed=9).params["h"])


# -- invariant 2: one message per parameter copy per example per sweep ---------------------------
@pytest.mark.parametrize("granularity", ["weight", "neuron"])
@pytest.mark.parametrize("dynamic", [False, True])
def test_each_copy_receives_one_message_per_example(granularity, dynamic):
    """With kappa huge every routed model steps at every example, so after one sweep each
    parameter copy has moved by exactly sum_f eta y_f x_f, whatever the routing."""
    prob = perceptron(17, 3.0, seed=1, graph=False)
    X, y = data_of(prob)
    model = Perceptron(kappa=1e9, eta=0.5)
    W0 = starts(model, 17, 5, 2)
    run = route(prob, model, 5, Uniform(), epochs=1, seed=3, init=W0, granularity=granularity,
                dynamic=dynamic)
    expected = W0["h"] + 0.5 * (y @ X)[None, :]
    np.testing.assert_allclose(run.params["h"], expected, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(run.history["updates"], np.ones((1, 5)))
    if not dynamic:  # every routing row is a permutation of the copies
        assert np.all(np.sort(run.perms, axis=1) == np.arange(5))


# -- invariant 3: identical starts and a deterministic rule keep the copies equal ------------------
@pytest.mark.parametrize("model", [Perceptron(), Perceptron(kappa=0.2, h_max=0.3), Committee(3)],
                         ids=lambda m: m.identify()[:30])
@pytest.mark.parametrize("kernel", [Ring(1.0), Uniform()], ids=str)
@pytest.mark.parametrize("granularity", ["weight", "neuron", "tensor"])
def test_identical_starts_stay_identical_under_any_kernel(model, kernel, granularity):
    prob = problem_for(model)
    one = model.init(21, np.random.default_rng(0))
    W0 = {k: np.repeat(v[None], 4, axis=0) for k, v in one.items()}
    run = route(prob, model, 4, kernel, epochs=3, seed=1, init=W0, granularity=granularity)
    for k in W0:
        assert np.all(run.params[k] == run.params[k][:1])
        assert not np.array_equal(run.params[k][0], one[k])  # and they did learn


def test_diverse_starts_make_the_kernel_matter():
    prob = perceptron(21, 2.0, seed=0, graph=False)
    W0 = starts(Perceptron(), 21, 4, 1)
    a = route(prob, Perceptron(), 4, Identity(), epochs=3, seed=1, init=W0)
    b = route(prob, Perceptron(), 4, Uniform(), epochs=3, seed=1, init=W0)
    assert not np.array_equal(a.params["h"], b.params["h"])


# -- the routed training graph ----------------------------------------------------------------------
def test_the_lift_is_wired_by_the_training_permutations():
    prob = perceptron(9, 2.0, seed=0)
    run = route(prob, Perceptron(), 4, Ring(1.0), epochs=2, seed=0)
    assert run.perms.shape == (prob.graph.n_edge, 4)
    np.testing.assert_array_equal(run.lift.perms, run.perms)
    ref = lifts.lift(prob.graph, 4, perms=run.perms.astype(np.int64))
    np.testing.assert_array_equal(run.lift.wiring.edge_var, ref.wiring.edge_var)
    # the same seed draws the same permutations from the kernel
    again = route(prob, Perceptron(), 4, Ring(1.0), epochs=1, seed=0)
    np.testing.assert_array_equal(again.perms, run.perms)


def test_per_neuron_lift_repeats_one_permutation_per_unit():
    prob = committee(5, 2.0, 3, seed=0)
    run = route(prob, Committee(3), 3, Uniform(), epochs=1, seed=0, granularity="neuron")
    P = prob.F.shape[0]
    assert run.perms.shape == (P * 3, 3)
    edge_perms = run.lift.perms.reshape(P, 3, 5, 3)
    assert np.all(edge_perms == edge_perms[:, :, :1, :])
    np.testing.assert_array_equal(edge_perms[:, :, 0, :].reshape(-1, 3), run.perms)
    # a committee lift with its cycles: girth of K_{P, 3N} lifted is even and >= 4
    assert lifts.girth(run.lift) % 2 == 0


def test_explicit_perms_are_used_and_dynamic_has_none():
    prob = perceptron(7, 2.0, seed=0)
    P = prob.F.shape[0]
    perms = np.tile(np.array([1, 2, 0]), (P * 7, 1))
    run = route(prob, Perceptron(), 3, Identity(), epochs=1, seed=0, perms=perms)
    np.testing.assert_array_equal(run.perms, perms)
    dyn = route(prob, Perceptron(), 3, Ring(1.0), epochs=2, seed=0, dynamic=True)
    assert dyn.perms is None and dyn.lift is None and dyn.dynamic


def test_dynamic_routing_redraws_every_epoch():
    """Dynamic with a 2-epoch run differs from the static cover drawn from the same stream."""
    prob = perceptron(21, 2.0, seed=0, graph=False)
    W0 = starts(Perceptron(), 21, 4, 1)
    st = route(prob, Perceptron(), 4, Uniform(), epochs=2, seed=1, init=W0)
    dy = route(prob, Perceptron(), 4, Uniform(), epochs=2, seed=1, init=W0, dynamic=True)
    one_st = route(prob, Perceptron(), 4, Uniform(), epochs=1, seed=1, init=W0)
    one_dy = route(prob, Perceptron(), 4, Uniform(), epochs=1, seed=1, init=W0, dynamic=True)
    np.testing.assert_array_equal(one_st.params["h"], one_dy.params["h"])  # first epoch: same draw
    assert not np.array_equal(st.params["h"], dy.params["h"])             # second epoch: redrawn


# -- evaluation ---------------------------------------------------------------------------------------
def test_scores_copies_ensemble_and_fresh_routes():
    prob = perceptron(41, 2.0, seed=0, graph=False)
    run = route(prob, Perceptron(), 5, Ring(1.0), epochs=5, seed=0, n_test=3000)
    w = np.where(run.params["h"] >= 0, 1.0, -1.0)
    t = prob.meta["teacher"]
    R = w @ t / (np.linalg.norm(w, axis=1) * np.linalg.norm(t))
    np.testing.assert_allclose(run.copy_gen_errors, np.arccos(R) / np.pi, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(run.history["gen_error"][-1], run.copy_gen_errors)
    X, y = teacher_test_set(prob, 500, seed=3)
    ev = run.evaluate(X, y, n_routed=2, seed=0)
    fields = w @ X.T
    np.testing.assert_array_equal(ev["copy_errors"], (np.where(fields >= 0, 1, -1) != y).mean(axis=1))
    vote = np.where(np.where(fields >= 0, 1, -1).sum(axis=0) >= 0, 1, -1)
    assert ev["ensemble_error"] == np.mean(vote != y)
    assert ev["routed_errors"].shape == (2, 5) and np.all(ev["routed_errors"] <= 0.5)


def test_fresh_identity_routes_are_the_copies():
    prob = committee(15, 2.0, 3, seed=0, graph=False)
    run = route(prob, Committee(3), 3, Identity(), epochs=2, seed=0, n_test=500)
    X, y = teacher_test_set(prob, 400, seed=1)
    ev = run.evaluate(X, y, n_routed=1)
    np.testing.assert_array_equal(ev["routed_errors"][0], ev["copy_errors"])
    assert run.copy_gen_errors.shape == (3,) and run.routed_error is not None


def test_held_out_data_scores_problems_without_a_teacher():
    prob = perceptron(21, 2.0, seed=0, graph=False)
    X, y = teacher_test_set(prob, 300, seed=1)
    run = route((prob.F, prob.y), Perceptron(), 2, Uniform(), epochs=2, seed=0, test=(X, y))
    ev = run.evaluate(X, y)
    np.testing.assert_array_equal(run.copy_gen_errors, ev["copy_errors"])
    assert run.ensemble_error == ev["ensemble_error"] and run.lift is None
    none = route((prob.F, prob.y), Perceptron(), 2, Uniform(), epochs=1, seed=0)
    assert none.copy_gen_errors is None and none.ensemble_error is None


# -- bad input ------------------------------------------------------------------------------------------
def test_bad_input_is_named():
    prob = perceptron(7, 2.0, seed=0, graph=False)
    P = prob.F.shape[0]
    with pytest.raises(ValueError, match="M"):
        route(prob, Perceptron(), 0, Identity(), epochs=1)
    with pytest.raises(ValueError, match="cannot be used with M=8"):
        route(prob, Perceptron(), 8, FromMatrix(np.ones((4, 4))), epochs=1)
    with pytest.raises(ValueError, match="n_blocks=3"):
        route(prob, Perceptron(), 8, "block:3:0.1", epochs=1)
    with pytest.raises(ValueError, match="granularity 'layer'"):
        route(prob, Perceptron(), 2, Identity(), epochs=1, granularity="layer")
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        route(prob, Perceptron(), 2, Identity(), epochs=0)
    with pytest.raises(ValueError, match=r"init\['h'\] must have shape \(2, 7\)"):
        route(prob, Perceptron(), 2, Identity(), epochs=1, init={"h": np.zeros((3, 7))})
    with pytest.raises(ValueError, match="labels y must have shape"):
        route((prob.F, prob.y[:-1]), Perceptron(), 2, Identity(), epochs=1)
    with pytest.raises(ValueError, match="perms must have shape"):
        route(prob, Perceptron(), 2, Identity(), epochs=1, perms=np.zeros((P, 2), dtype=int))
    with pytest.raises(ValueError, match="not a permutation"):
        route(prob, Perceptron(), 2, Identity(), epochs=1, perms=np.zeros((P * 7, 2), dtype=int))
    with pytest.raises(ValueError, match="dynamic=True"):
        route(prob, Perceptron(), 2, Identity(), epochs=1, dynamic=True, perms=np.zeros((P * 7, 2), int))
    with pytest.raises(TypeError, match="kernel must be"):
        route(prob, Perceptron(), 2, 3.0, epochs=1)
    with pytest.raises(TypeError, match="model must be"):
        route(prob, None, 2, Identity(), epochs=1)


# -- the MLP through route(): invariants 1 and 3, and the test split as the score ---------------------
def mlp_data():
    from algorithms.learning import teacher_classification

    return teacher_classification(120, 60, d=8, n_classes=3, hidden=6, seed=0)


@pytest.mark.parametrize("granularity", ["weight", "neuron", "tensor"])
def test_mlp_identity_routing_is_independent_training(granularity):
    from algorithms.learning import MLP

    d = mlp_data()
    model = MLP(hidden=5, n_classes=3, momentum=0.5, batch_size=16)
    W0 = starts(model, 8, 3, 4)
    run = route(d.train, model, 3, Identity(), epochs=3, seed=2, init=W0, granularity=granularity,
                test=d.test)
    for m in range(3):
        single = train(d.train, model, epochs=3, seed=2, init={k: v[m] for k, v in W0.items()})
        for k in W0:
            np.testing.assert_array_equal(run.params[k][m], single.params[k])
    errs = model.errors(run.params, *d.test) / len(d.test[1])
    np.testing.assert_array_equal(run.copy_gen_errors, errs)


@pytest.mark.parametrize("granularity", ["weight", "neuron", "tensor"])
def test_mlp_identical_starts_stay_identical(granularity):
    from algorithms.learning import MLP

    d = mlp_data()
    model = MLP(hidden=5, n_classes=3, momentum=0.9, batch_size=16)
    one = model.init(8, np.random.default_rng(0))
    W0 = {k: np.repeat(v[None], 4, axis=0) for k, v in one.items()}
    run = route(d.train, model, 4, Uniform(), epochs=2, seed=1, init=W0, granularity=granularity)
    for k in W0:
        assert np.all(run.params[k] == run.params[k][:1])
        assert not np.array_equal(run.params[k][0], one[k])
