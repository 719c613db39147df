"""Damped flooding BP: the tanh and scaled engines against the log-domain engine.

Damping mixes normalised log-messages, ``m <- (1 - g) m_new + g m_old`` renormalised
(libDAI, PGMax, :func:`algorithms.bp.kernels.damp_commit`).  The reference is the
log-domain engine (``fast_paths=False, scaled_tables=False``: the generic rule
kernels); every engine must give the same messages, residuals, beliefs and log Z to
round-off, sweep by sweep, and stop at the same sweep.  Each test also asserts which
engine ran, so that none can pass by falling back to the reference.  Exactness of the
ratio form's parity checks and tables at extreme confidence, and its handover to the
log-domain engine: test_bp_ratio.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from engine_checks import REF, assert_same_run, probs

import fgraph
from algorithms import BPConfig, run_bp
from algorithms.bp import binary
from fgraph.factors import freeze_params
from fgraph.problems import ising, ising_grid, ldpc, random_regular_ising, regular_ldpc

DAMPINGS = [0.1, 0.3, 0.5, 0.8]
def compare(graph, engine, damping, sweeps=(1, 3, 12), tol=1e-9, max_iter=3000, atol=1e-12):
    """Fixed numbers of sweeps (tol 1e-300), then a run to convergence: same iteration, same result."""
    for n in sweeps:
        fast = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, n_threads=1)
        ref = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, n_threads=1, **REF)
        assert fast.engine == engine
        assert fast.n_iter == n
        assert_same_run(fast, ref, atol)
    fast = run_bp(graph, damping=damping, max_iter=max_iter, tol=tol, n_threads=1)
    ref = run_bp(graph, damping=damping, max_iter=max_iter, tol=tol, n_threads=1, **REF)
    assert fast.engine == engine and fast.converged
    assert_same_run(fast, ref, atol=1e-10)


# ------------------------------------------------------------------ tanh engine: Ising
@pytest.mark.parametrize("damping", DAMPINGS)
def test_tanh_engine_ising_grid(damping):
    g = ising_grid(6, J="gauss", h="gauss", J_scale=0.6, h_scale=0.2, seed=5).graph
    compare(g, "tanh", damping)


@pytest.mark.parametrize("damping", DAMPINGS)
def test_tanh_engine_mixed_ising_graph_with_random_fields(damping):
    # a random regular graph plus a chain with strong couplings (|J| up to 8) and fields
    rng = np.random.default_rng(11)
    base = random_regular_ising(24, 3, J="gauss", h="gauss", J_scale=0.5, h_scale=0.4, seed=3).graph
    edges = np.array([[k, k + 1] for k in range(9)])
    chain = ising(edges, J=rng.normal(scale=4.0, size=9), h=rng.normal(scale=1.0, size=10)).graph
    compare(base, "tanh", damping)
    compare(chain, "tanh", damping)


@pytest.mark.slow
@pytest.mark.parametrize("damping", DAMPINGS)
def test_tanh_engine_ising_grid_large(damping):
    g = ising_grid(40, J="gauss", h="gauss", J_scale=0.5, h_scale=0.1, seed=2).graph
    compare(g, "tanh", damping, sweeps=(5, 40))


def test_tanh_engine_log_odds_fallback_outside_the_range_bounds():
    # a field of 800 nats breaks the ratio form's range bound: the log-odds form takes
    # over, exact as well (still the tanh engine)
    gb = fgraph.FactorGraph()
    gb.add_variables(6)
    gb.add_ising([[0, 1], [1, 2], [2, 0], [2, 3], [3, 4], [4, 5], [5, 3]],
                 J=[0.4, -0.7, 0.3, 1.1, 0.2, -0.5, 0.6])
    gb.add_field(np.arange(6), [800.0, 0.1, -0.2, 0.3, -0.4, 0.5])
    g = gb.compile()
    blocks = [binary.ising_block(g, 0, BPConfig())]
    assert binary.ratio_plan(g, blocks, np.zeros(g.n_edge)) is None
    for damping in (0.0, 0.5, 0.3):
        compare(g, "tanh", damping, sweeps=(2, 9))


# ------------------------------------------------------------------ parity checks
@pytest.mark.parametrize("channel, kw", [("bsc", {"p": 0.05}), ("awgn", {"sigma": 0.8})])
@pytest.mark.parametrize("damping", DAMPINGS)
def test_tanh_engine_damped_parity_checks(channel, kw, damping):
    """Damped parity checks run in the tanh engine: the ratio form's checks are exact (no
    log-odds cap), so damping mixes exact messages (binary.parity_ratio)."""
    H = regular_ldpc(48, 3, 6, seed=4)
    g = ldpc(H, channel, seed=5, **kw).graph
    compare(g, "tanh", damping, sweeps=(1, 4), max_iter=300)


@pytest.mark.parametrize("damping", DAMPINGS)
def test_tanh_engine_damped_mixed_ising_and_parity_graph(damping):
    gb = fgraph.FactorGraph()
    gb.add_variables(8)
    gb.add_ising([[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [6, 7], [3, 4]],
                 J=[0.5, -0.3, 0.8, 0.2, -0.6, 0.4, 0.7])
    gb.add_parity([[0, 2, 4, 6], [1, 3, 5, 7]], weight=[2.0, 1.0], target=[0, 1])
    gb.add_field(np.arange(8), np.linspace(-0.5, 0.5, 8))
    compare(gb.compile(), "tanh", damping, sweeps=(1, 7), tol=1e-10)


# ------------------------------------------------------------------ scaled engine
def random_tables(seed, scale=1.0, zeros=0.2, max_arity=4, card_max=4):
    """Loopy graph of dense tables of mixed arity (1..4) and cardinality (1..4), hard zeros, evidence."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 9))
    card = rng.integers(1, card_max + 1, size=n)
    g = fgraph.FactorGraph()
    g.add_variables(card=card)
    for _ in range(int(rng.integers(n, 2 * n + 1))):
        d = int(rng.integers(1, min(max_arity, n) + 1))
        scope = rng.choice(n, size=d, replace=False)
        logt = scale * rng.normal(size=tuple(card[scope]))
        logt = np.where(rng.random(logt.shape) < zeros, -np.inf, logt)
        if not np.isfinite(logt).any():
            logt.flat[0] = 0.0
        g.add_factor(scope, log_table=logt)
    for i in range(n):
        g.add_log_evidence(i, scale * rng.normal(size=int(card[i])))
    return g.compile()


def with_zero_entry(tables, k):
    """A copy of a one-block table graph with entry k of the concatenated log-tables set to -inf."""
    logp = np.array(tables.params[0]["logp"])
    logp[k] = -np.inf
    params = freeze_params({"ptr": tables.params[0]["ptr"], "logp": logp})
    return dataclasses.replace(tables, params=(params,))


def trajectory(graph, **kw):
    out = []
    r = run_bp(graph, callback=lambda p: out.append((np.array(p.f2v), p.residual)), **kw)
    return out, r


@pytest.mark.parametrize("damping", DAMPINGS)
@pytest.mark.parametrize("seed", range(6))
def test_scaled_engine_random_tables_with_hard_zeros_and_evidence(seed, damping):
    g = random_tables(seed)
    n_obs = min(2, int(g.n_var))
    allowed = {i: int(np.flatnonzero(np.isfinite(g.var_unary[i, : g.card[i]]))[0]) for i in range(n_obs)}
    for graph in (g, g.with_evidence(allowed)):
        for n in (1, 4, 15):
            fast = run_bp(graph, damping=damping, max_iter=n, tol=1e-300)
            ref = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, **REF)
            assert fast.engine == "scaled"
            # linear arithmetic may reach an exact fixed point (residual 0) a sweep early
            if fast.n_iter == ref.n_iter:
                assert_same_run(fast, ref)
            else:
                assert fast.residuals[-1] == 0.0 and ref.residuals[-1] < 1e-15
        fast = run_bp(graph, damping=damping, max_iter=3000, tol=1e-9)
        ref = run_bp(graph, damping=damping, max_iter=3000, tol=1e-9, **REF)
        assert fast.engine == "scaled"
        assert_same_run(fast, ref, atol=1e-10)


@pytest.mark.parametrize("damping", DAMPINGS)
@pytest.mark.parametrize("seed", range(4))
def test_scaled_engine_messages_below_tiny(seed, damping):
    """Log-potentials of +-800: products underflow; the exact log-domain fallback and
    log-domain mixing must keep every message.  Compared sweep by sweep, as
    probabilities (the log-domain engine's own round-off on values of hundreds of
    nats reaches 1e-13 in probability)."""
    g = random_tables(200 + seed, scale=800.0, zeros=0.1)
    fast, rf = trajectory(g, damping=damping, max_iter=12, tol=1e-300)
    ref, rr = trajectory(g, damping=damping, max_iter=12, tol=1e-300, **REF)
    assert rf.engine == "scaled" and rr.engine == "rules"
    assert min(len(fast), len(ref)) >= 2
    for (a, ra), (b, rb) in zip(fast, ref):
        np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
        np.testing.assert_allclose(probs(a), probs(b), rtol=0, atol=1e-12)
        assert abs(ra - rb) <= 1e-12
    # a chain with a field of 800 nats: every message certain to hundreds of nats
    gb = fgraph.FactorGraph()
    gb.add_variables(3)
    gb.add_log_evidence(0, [0.0, 800.0])
    gb.add_factor([0, 1], log_table=[[0.0, -1.0], [-1.0, 0.0]])
    gb.add_factor([1, 2], log_table=[[0.0, -800.0], [-800.0, 0.0]])
    gb.add_factor([0, 2], log_table=[[0.0, -1000.0], [-1000.0, 0.0]])
    c = gb.compile()
    fast = run_bp(c, damping=damping, max_iter=10, tol=1e-300)
    ref = run_bp(c, damping=damping, max_iter=10, tol=1e-300, **REF)
    assert fast.engine == "scaled" and np.all(np.isfinite(fast.f2v)) and fast.f2v.min() < -300
    np.testing.assert_allclose(fast.f2v, ref.f2v, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("damping", DAMPINGS)
def test_binary_pairwise_tables_run_in_the_tanh_engine_and_with_a_zero_in_the_scaled_one(damping):
    """``to_tables()`` of a grid: 2 x 2 positive tables take the ratio form (tanh engine,
    without fast_paths); one zero entry sends the same grid to the scaled engine."""
    g = ising_grid(6, J="gauss", h="gauss", J_scale=0.6, h_scale=0.2, seed=5).graph.to_tables()
    zero = with_zero_entry(g, 5)  # factor 1, entry (0, 1)
    for graph, engine in ((g, "tanh"), (zero, "scaled")):
        for n in (1, 3, 12):
            fast = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, fast_paths=False)
            ref = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, **REF)
            assert fast.engine == engine
            assert_same_run(fast, ref)
        fast = run_bp(graph, damping=damping, max_iter=3000, fast_paths=False)
        ref = run_bp(graph, damping=damping, max_iter=3000, **REF)
        assert fast.engine == engine and fast.converged
        assert_same_run(fast, ref, atol=1e-10)


# ------------------------------------------------------------------ stopping
def test_damped_engines_stop_and_report_converged_as_the_log_domain_engine():
    """Converged runs stop at the same sweep; capped runs report converged=False;
    a callback stop is reported the same way."""
    g = ising_grid(5, J="gauss", h="gauss", J_scale=0.8, h_scale=0.2, seed=9).graph
    t = g.to_tables()
    zero = with_zero_entry(t, 0)
    cases = [(g, "tanh", {}), (t, "tanh", {"fast_paths": False}), (zero, "scaled", {"fast_paths": False})]
    for graph, engine, extra in cases:
        for damping in (0.3, 0.5):
            for tol, cap in ((1e-6, 3000), (1e-12, 5)):
                fast = run_bp(graph, damping=damping, tol=tol, max_iter=cap, **extra)
                ref = run_bp(graph, damping=damping, tol=tol, max_iter=cap, **REF)
                assert fast.engine == engine
                assert fast.converged == ref.converged == (cap > 5)
                assert fast.n_iter == ref.n_iter
                assert fast.residuals[-1] < tol if fast.converged else fast.residuals[-1] >= tol
            stop = run_bp(graph, damping=damping, tol=1e-300, max_iter=50,
                          callback=lambda p: p.iteration == 4, **extra)
            assert stop.engine == engine and stop.stopped_early and stop.n_iter == 4 and not stop.converged


def test_scaled_engine_general_damping_of_messages_flipping_certainty():
    """Binary graphs keep one odds quotient per edge for non-dyadic damping; a message that
    flips from 500 nats one way to 500 nats the other (quotient e^1000, out of range) takes
    the exact fallback.  A zero entry keeps the graph in the scaled engine."""
    gb = fgraph.FactorGraph()
    gb.add_variables(3)
    gb.add_log_evidence(0, [0.0, 500.0])
    gb.add_factor([0, 1], log_table=[[0.0, -500.0], [-500.0, 0.0]])
    gb.add_factor([1, 2], log_table=[[0.0, -np.inf], [-0.5, 0.0]])
    gb.add_factor([0, 2], log_table=[[0.2, -0.3], [0.1, 0.0]])
    g = gb.compile()
    init = np.full((g.n_edge, 2), -np.log(2.0))
    init[1] = [0.0, -500.0]  # factor 0 -> variable 1: certain of x1 = 0; the update says x1 = 1
    for damping in (0.3, 0.1):
        fast, rf = trajectory(g, damping=damping, max_iter=6, tol=1e-300, init=init)
        ref, rr = trajectory(g, damping=damping, max_iter=6, tol=1e-300, init=init, **REF)
        assert rf.engine == "scaled"
        for (a, ra), (b, rb) in zip(fast, ref):
            np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
            np.testing.assert_allclose(probs(a), probs(b), rtol=0, atol=1e-12)
            np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
            assert abs(ra - rb) <= 1e-12
