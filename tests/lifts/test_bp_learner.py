"""bp_learn: relaxed BP on the M-cover of a binary perceptron (docs/theory.md §7.8)."""

import math

import numpy as np
import pytest

import algorithms
import fgraph
from lifts import Identity, Ring, Uniform, copies, edge_copies, glm_perms, lift
from lifts.bp_learner import BPLearnRun, bayes_error, bp_learn


@pytest.fixture(scope="module")
def small():
    return fgraph.problems.perceptron(41, 2.0, seed=0)


@pytest.fixture(scope="module")
def easy():
    return fgraph.problems.perceptron(201, 3.0, seed=2)


def _base_run(prob, run, m, **kw):
    """BP on the base graph from copy m's starting messages, with the learner's settings."""
    cfg = run.result.config
    return algorithms.run_bp(prob.graph, init=run.initial_messages(m), damping=cfg.damping, **kw)


# ------------------------------------------------------------------ identity kernel and M = 1
@pytest.mark.parametrize("max_iter", [4, 200])
def test_identity_kernel_copy_m_is_base_bp_from_copy_ms_start(small, max_iter):
    run = bp_learn(small, 3, Identity(), seed=5, max_iter=max_iter, n_test=None)
    L = run.lift
    E = edge_copies(L)
    cb = copies(run.result.beliefs, L)
    for m in range(3):
        # same number of sweeps: the cover's residual is the max over the copies
        rb = _base_run(small, run, m, tol=1e-300, max_iter=run.n_iter)
        assert rb.n_iter == run.n_iter
        np.testing.assert_array_equal(run.result.f2v[E[:, m]], rb.f2v)
        np.testing.assert_array_equal(cb[:, m], rb.beliefs)
        np.testing.assert_array_equal(run.magnetizations[m], rb.beliefs[:, 1] - rb.beliefs[:, 0])
    if max_iter == 4:  # mid-trajectory the copies really differ (the check above is not vacuous)
        assert np.abs(run.magnetizations[0] - run.magnetizations[1]).max() > 1e-3


@pytest.mark.parametrize("init", ["random", "uniform"])
def test_one_copy_is_plain_bp_on_the_base_graph(small, init):
    run = bp_learn(small, 1, Uniform(), seed=3, init=init, n_test=None)
    rb = _base_run(small, run, 0, tol=run.result.config.tol, max_iter=run.result.config.max_iter)
    assert (run.n_iter, run.converged) == (rb.n_iter, rb.converged)
    np.testing.assert_array_equal(run.result.f2v, rb.f2v)
    np.testing.assert_array_equal(run.result.beliefs, rb.beliefs)
    if init == "uniform":  # the starting messages are uniform: run_bp's own default start
        ru = algorithms.run_bp(small.graph, damping=run.result.config.damping, tol=run.result.config.tol)
        np.testing.assert_allclose(run.result.beliefs, ru.beliefs, rtol=0, atol=1e-12)


def test_uniform_start_stays_the_lifted_base_run(small):
    """Cover invariance: without random starts every copy is the base run, whatever the kernel."""
    run = bp_learn(small, 4, Ring(1.0), seed=1, init="uniform", n_test=None)
    rb = _base_run(small, run, 0, tol=run.result.config.tol, max_iter=run.result.config.max_iter)
    m_base = rb.beliefs[:, 1] - rb.beliefs[:, 0]
    np.testing.assert_allclose(run.magnetizations, np.tile(m_base, (4, 1)), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(run.init_fields, np.zeros((41, 4)))


# ------------------------------------------------------------------ the cover
def test_perms_are_drawn_from_the_kernel_with_the_seed(small):
    run = bp_learn(small, 3, Ring(1.0), seed=11, n_test=None)
    P, N = small.F.shape
    assert run.lift.perms.shape == (P * N, 3)
    np.testing.assert_array_equal(run.lift.perms, glm_perms(small, 3, Ring(1.0), seed=11))
    again = lift(small.graph, 3, perms=run.lift.perms)
    for name in ("fac_ptr", "edge_var", "edge_fac", "var_ptr", "var_edges"):
        np.testing.assert_array_equal(getattr(again.wiring, name), getattr(run.lift.wiring, name))
    run.lift.validate()
    assert run.lift.base is small.graph and run.lift.kernel == Ring(1.0).identify()
    # explicit perms with the same seed: the same cover and the same starting fields, so the same run
    ex = bp_learn(small, 3, perms=run.lift.perms, seed=11, n_test=None)
    assert ex.lift.kernel == "explicit"
    np.testing.assert_array_equal(ex.init_fields, run.init_fields)
    np.testing.assert_array_equal(ex.magnetizations, run.magnetizations)


def test_starting_messages_put_one_field_on_each_variable_copy(small):
    run = bp_learn(small, 2, Ring(1.0), seed=4, init_scale=0.7, max_iter=1, n_test=None)
    h = run.init_fields
    assert h.shape == (41, 2) and 0.4 < h.std() < 1.0
    msg = run.initial_messages()
    L = run.lift
    # log-odds entering variable copy (i, m): 2 h[i, m] in total, shared evenly by its edges
    tot = np.zeros(L.n_var)
    np.add.at(tot, L.edge_var, msg[:, 1] - msg[:, 0])
    np.testing.assert_allclose(copies(tot, L), 2 * h, rtol=1e-12, atol=1e-12)
    assert BPLearnRun.initial_messages(run, 1).shape == (small.graph.n_edge, 2)
    with pytest.raises(ValueError, match="m must be a copy index"):
        run.initial_messages(2)


# ------------------------------------------------------------------ scores
def test_scores_and_learning_on_an_easy_instance(easy):
    run = bp_learn(easy, 4, Ring(1.0), seed=0, n_test=10_000)
    t = np.asarray(easy.meta["teacher"])
    assert run.weights.dtype == np.float64 and set(np.unique(run.weights)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(run.weights, np.where(run.magnetizations >= 0, 1.0, -1.0))
    R = run.weights @ t / (np.linalg.norm(run.weights, axis=1) * np.linalg.norm(t))
    np.testing.assert_allclose(run.copy_gen_errors, np.arccos(R) / math.pi, rtol=0, atol=1e-15)
    assert run.converged and run.copy_gen_errors.max() < 0.15 and run.ensemble_error < 0.15
    # the test-set errors estimate the exact errors (binomial std < 0.005 at n_test = 10^4)
    np.testing.assert_allclose(run.copy_test_errors, run.copy_gen_errors, atol=0.02)
    pred = np.where(easy.F @ run.weights.T >= 0, 1.0, -1.0)
    np.testing.assert_array_equal(run.train_errors, (pred != easy.y[:, None]).sum(axis=0))
    assert run.bayes_error == bayes_error(3.0) < bayes_error(1.0)
    assert abs(bayes_error(1.0) - 0.2306) < 1e-3  # SE of the binary perceptron at alpha = 1
    assert run.alpha == 3.0 and run.M == 4 and run.n_steps == 1


def test_reinforcement_polarizes_the_copies():
    prob = fgraph.problems.perceptron(101, 1.0, seed=1)
    plain = bp_learn(prob, 2, Ring(1.0), seed=2, n_test=None)
    reinf = bp_learn(prob, 2, Ring(1.0), seed=2, reinforcement=0.05, n_test=None)
    m0, m1 = np.abs(plain.magnetizations).mean(), np.abs(reinf.magnetizations).mean()
    assert m0 < 0.85 and m1 > 0.9 and m1 > m0 + 0.1
    assert reinf.n_steps > 1 and reinf.n_iter <= 200
    # it stopped because every copy fits the training set, or froze (all polarized at a fixed point)
    frozen = reinf.converged and np.abs(reinf.magnetizations).min() > 1 - reinf.result.config.tol
    assert not reinf.train_errors.any() or frozen
    assert reinf.train_errors.max() <= 0.05 * prob.F.shape[0]
    # the last step ran on the cover with reinforced evidence
    assert not np.array_equal(reinf.result.graph.var_unary, reinf.lift.var_unary)


def test_callback_sees_the_step_and_can_stop(small):
    seen = []

    def cb(step, progress):
        seen.append((step, progress.iteration))
        return len(seen) == 3

    run = bp_learn(small, 2, Ring(1.0), seed=0, reinforcement=0.1, reinforcement_sweeps=2, callback=cb,
                   n_test=None)
    assert seen == [(0, 1), (0, 2), (1, 1)] and run.n_iter == 3 and run.result.stopped_early


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"M": 0}, ValueError, r"M \(the number of copies\) must be >= 1"),
        ({"M": 2.0}, TypeError, "M must be an int"),
        ({"perms": np.zeros((5, 2), dtype=np.int64), "kernel": None}, ValueError,
         r"perms must have shape \(P\*N, M\)"),
        ({"perms": np.zeros((41 * 82, 2), dtype=np.int64)}, ValueError, "either kernel or perms"),
        ({"perms": np.zeros((41 * 82, 2), dtype=np.int64), "kernel": None}, ValueError, "not a permutation"),
        ({"reinforcement": -0.1}, ValueError, "reinforcement must be in"),
        ({"reinforcement": 1.0}, ValueError, "reinforcement must be in"),
        ({"reinforcement_growth": 0.0}, ValueError, "reinforcement_growth"),
        ({"reinforcement_sweeps": 0}, ValueError, "reinforcement_sweeps"),
        ({"init": "zeros"}, ValueError, "init must be"),
        ({"init": np.zeros((3, 2))}, ValueError, "init messages must have shape"),
        ({"init_scale": 0.0}, ValueError, "init_scale"),
        ({"damping": 1.0}, ValueError, "damping"),
        ({"tol": -1.0}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"n_test": 0}, ValueError, "n_test"),
        ({"seed": -1}, ValueError, "seed"),
        ({"callback": 3}, TypeError, "callback"),
        ({"kernel": 3}, TypeError, "kernel"),
    ],
)
def test_bad_arguments_are_named(small, kwargs, exc, match):
    args = {"M": 2, "kernel": Ring(1.0), "n_test": None} | kwargs
    M, kernel = args.pop("M"), args.pop("kernel")
    with pytest.raises(exc, match=match):
        bp_learn(small, M, kernel, **args)


def test_problems_without_a_binary_glm_graph_are_refused():
    with pytest.raises(TypeError, match="problem must be a learning problem with a glm factor graph"):
        bp_learn(fgraph.problems.perceptron(20, 1.0, seed=0, graph=False), 2, Ring(1.0))
    with pytest.raises(TypeError, match="problem"):
        bp_learn("not a problem", 2, Ring(1.0))
    with pytest.raises(ValueError, match="glm factors only"):
        bp_learn(fgraph.problems.ising_grid(3), 2, Ring(1.0))
    with pytest.raises(ValueError, match="binary weights"):
        bp_learn(fgraph.problems.perceptron(20, 1.0, prior=[-1.0, 0.0, 1.0], seed=0), 2, Ring(1.0))
    with pytest.raises(ValueError, match="alpha"):
        bayes_error(0.0)
