"""lifts.glm_perms: permutations of M-covers of dense learning problems, as lifted AMP reads them."""

import numpy as np
import pytest

from algorithms import run_amp
from fgraph.problems import perceptron
from lifts import Ring, from_spec, glm_perms, lift


def test_draws_the_kernel_sample_in_edge_order():
    prob = perceptron(20, 1.5, seed=18, graph=False)
    P, N = prob.F.shape
    got = glm_perms(prob, 3, "ring:1.0", seed=19)
    assert got.dtype == np.int64 and got.shape == (P * N, 3)
    np.testing.assert_array_equal(got, from_spec("ring:1.0").sample(P * N, 3, 19))
    np.testing.assert_array_equal(got, glm_perms((prob.F, prob.y), 3, Ring(1.0), seed=19))
    np.testing.assert_array_equal(got, glm_perms((P, N), 3, Ring(1.0), seed=19))
    assert np.all(np.sort(got, axis=1) == np.arange(3))  # every row a permutation


def test_run_amp_reads_them_as_edge_mu_times_n_plus_i():
    prob = perceptron(20, 1.5, seed=18, graph=False)
    P, N = prob.F.shape
    perms = glm_perms(prob, 3, "uniform", seed=5)
    kw = dict(prior="binary", channel="sign", init="random", seed=20, max_iter=6, tol=1e-300)
    np.testing.assert_array_equal(run_amp(prob, lift=perms, **kw).estimate,
                                  run_amp(prob, lift=perms.reshape(P, N, 3), **kw).estimate)


def test_a_lift_of_the_problem_graph_is_read_in_its_edge_order():
    prob = perceptron(12, 2.0, seed=21)
    P, N = prob.F.shape
    L = lift(prob.graph, 3, from_spec("uniform"), seed=22)
    base = L.base
    perm3 = np.empty((P, N, 3), dtype=np.int64)
    perm3[base.edge_fac, base.edge_var] = L.perms
    kw = dict(prior="binary", channel="sign", init="random", seed=23, max_iter=8, tol=1e-300)
    got = run_amp(prob, lift=L, **kw).estimate
    np.testing.assert_array_equal(got, run_amp(prob, lift=perm3, **kw).estimate)


def test_bad_input():
    prob = perceptron(10, 2.0, seed=1, graph=False)
    with pytest.raises(ValueError, match="M .* must be an int >= 1, got 0"):
        glm_perms(prob, 0, "uniform")
    with pytest.raises(TypeError, match="kernel must be"):
        glm_perms(prob, 3, 1.0)
    with pytest.raises(TypeError, match="problem must be"):
        glm_perms("perceptron", 3, "uniform")
    with pytest.raises(ValueError, match="must be 2-D"):
        glm_perms((np.zeros(5), np.zeros(5)), 3, "uniform")
