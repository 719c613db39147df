"""The tanh-domain fast path for binary Ising models agrees with the log-domain engine."""

import numpy as np
import pytest

import algorithms
from algorithms.bp import binary as bp_binary
from algorithms.bp import flooding_engine
from fgraph import exact
from fgraph.problems import ising, ising_grid, random_regular_ising


def _runs_tanh(graph, config):
    chosen = flooding_engine(graph, config)
    return chosen is not None and chosen[0] is bp_binary.TANH


def _pair(graph, **kw):
    fast = algorithms.run_bp(graph, fast_paths=True, n_threads=1, **kw)
    slow = algorithms.run_bp(graph, fast_paths=False, n_threads=1, **kw)
    return fast, slow


@pytest.mark.parametrize("damping", [0.0, 0.4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_fixed_point_as_log_domain(seed, damping):
    g = random_regular_ising(60, 3, J="gauss", h="gauss", J_scale=0.4, h_scale=0.3, seed=seed).graph
    cfg = algorithms.BPConfig(damping=damping, tol=1e-12, max_iter=2000)
    assert _runs_tanh(g, cfg)
    fast, slow = _pair(g, damping=damping, tol=1e-12, max_iter=2000)
    assert fast.converged and slow.converged
    assert abs(fast.n_iter - slow.n_iter) <= 2
    np.testing.assert_allclose(fast.beliefs, slow.beliefs, atol=1e-10)
    assert fast.log_z == pytest.approx(slow.log_z, abs=1e-9)
    np.testing.assert_allclose(fast.f2v, slow.f2v, atol=1e-9)


def test_same_trajectory_iteration_by_iteration():
    g = ising_grid(7, J="gauss", h="gauss", J_scale=0.6, h_scale=0.2, seed=5).graph
    for n in (1, 2, 5, 17):
        fast, slow = _pair(g, max_iter=n, tol=1e-300)
        assert fast.n_iter == slow.n_iter == n and not fast.converged
        np.testing.assert_allclose(fast.residuals, slow.residuals, atol=1e-12)
        np.testing.assert_allclose(fast.f2v, slow.f2v, atol=1e-10)


def test_exact_on_a_tree_and_ring_bethe():
    rng = np.random.default_rng(3)
    edges = np.array([[0, 1], [1, 2], [1, 3], [3, 4], [4, 5]])
    g = ising(edges, J=rng.normal(size=5), h=rng.normal(size=6)).graph
    r = algorithms.run_bp(g, tol=1e-13)
    np.testing.assert_allclose(np.array(r.marginals), np.array(exact.marginals(g)), atol=1e-10)
    assert r.log_z == pytest.approx(exact.log_z(g), abs=1e-10)
    # single cycle: log Z_Bethe = n log(2 cosh J) (docs/theory.md §3.6)
    n, J = 9, 0.7
    ring = ising(np.array([[k, (k + 1) % n] for k in range(n)]), J=J).graph
    assert algorithms.run_bp(ring, tol=1e-13).log_z == pytest.approx(n * np.log(2 * np.cosh(J)), abs=1e-10)


def test_not_applied_outside_its_domain():
    cfg = algorithms.BPConfig()
    g = ising_grid(3, J=0.5, h=0.1).graph
    assert _runs_tanh(g, cfg)
    assert not _runs_tanh(g, algorithms.BPConfig(mode="max"))
    assert not _runs_tanh(g, algorithms.BPConfig(schedule="sequential"))
    assert not _runs_tanh(g, algorithms.BPConfig(fast_paths=False))
    # dense 2 x 2 tables take the ratio form too, under the table engines' switch (not fast_paths)
    assert _runs_tanh(g.to_tables(), algorithms.BPConfig(fast_paths=False))
    assert not _runs_tanh(g.to_tables(), algorithms.BPConfig(scaled_tables=False))
    # hard evidence next to couplings: the cavity odds are exactly 0 or inf, the messages finite
    ge = g.with_evidence({0: 1, 4: 0})
    assert _runs_tanh(ge, cfg)
    fast, slow = _pair(ge, max_iter=6, tol=1e-300)
    np.testing.assert_allclose(np.exp(fast.f2v), np.exp(slow.f2v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.residuals, slow.residuals, rtol=0, atol=1e-12)


def test_callback_sees_log_messages_and_threads_agree():
    g = ising_grid(12, J=0.4, h=0.05).graph
    seen = []

    def cb(progress):
        seen.append(progress.hard_decision().sum())
        return progress.iteration == 4

    r = algorithms.run_bp(g, callback=cb, tol=1e-300)
    assert r.stopped_early and r.n_iter == 4 and len(seen) == 4
    a = algorithms.run_bp(g, n_threads=1, max_iter=30)
    b = algorithms.run_bp(g, n_threads=2, max_iter=30)
    np.testing.assert_array_equal(a.f2v, b.f2v)


@pytest.mark.parametrize("channel, kw", [("bsc", {"p": 0.05}), ("awgn", {"sigma": 0.8})])
def test_parity_fast_path_matches_log_domain(channel, kw):
    from fgraph.problems import ldpc, regular_ldpc

    H = regular_ldpc(240, 3, 6, seed=4)
    prob = ldpc(H, channel, seed=5, **kw)
    assert _runs_tanh(prob.graph, algorithms.BPConfig())
    for n in (1, 3, 8):
        fast, slow = _pair(prob.graph, max_iter=n, tol=1e-300)
        np.testing.assert_allclose(fast.beliefs, slow.beliefs, atol=1e-9)
        np.testing.assert_allclose(fast.residuals, slow.residuals, atol=1e-9)
    fast, slow = _pair(prob.graph, max_iter=200, damping=0.2)
    np.testing.assert_array_equal(np.argmax(fast.beliefs, 1), np.argmax(slow.beliefs, 1))
    assert fast.log_z == pytest.approx(slow.log_z, rel=1e-9)


def test_soft_parity_and_target_one_on_a_tree():
    import fgraph

    g = fgraph.FactorGraph()
    g.add_variables(5)
    g.add_parity([[0, 1, 2], [2, 3, 4]], weight=[0.7, 2.5], target=[1, 0])
    g.add_field(np.arange(5), [0.3, -0.2, 0.1, 0.5, -0.4])
    cg = g.compile()
    assert _runs_tanh(cg, algorithms.BPConfig())
    r = algorithms.run_bp(cg, tol=1e-13)
    np.testing.assert_allclose(np.array(r.marginals), np.array(exact.marginals(cg)), atol=1e-10)
    assert r.log_z == pytest.approx(exact.log_z(cg), abs=1e-10)
