"""The scaled-linear table engine (algorithms.bp.scaled) against the log-domain engine.

The log-domain engine is itself checked against exact inference and libDAI in
test_bp.py; here the scaled engine must reproduce it to round-off on every
kind of input, including the regimes where it has to fall back to log-domain
arithmetic (hard zeros, messages certain to hundreds of nats, contradictions).
"""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import BPConfig, run_bp
from algorithms.bp import flooding_engine
from algorithms.bp import scaled as bp_scaled
from fgraph import FactorGraph
from fgraph.jit import threads


def _runs_scaled(graph, config):
    chosen = flooding_engine(graph, config)
    return chosen is not None and chosen[0] is bp_scaled.SCALED


def random_tables(seed, scale=1.0, zeros=0.2, max_arity=4, card_max=4, evidence=True):
    """Loopy graph of dense tables: arity 1..max_arity, cards 1..card_max, random zeros.

    ``scale`` multiplies the log-potentials (large values push messages far
    beyond the range of linear arithmetic).
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    card = rng.integers(1, card_max + 1, size=n)
    g = FactorGraph()
    g.add_variables(card=card)
    for _ in range(int(rng.integers(n, 2 * n + 1))):
        d = int(rng.integers(1, min(max_arity, n) + 1))
        scope = rng.choice(n, size=d, replace=False)
        logt = scale * rng.normal(size=tuple(card[scope]))
        logt = np.where(rng.random(logt.shape) < zeros, -np.inf, logt)
        if not np.isfinite(logt).any():
            logt.flat[0] = 0.0
        g.add_factor(scope, log_table=logt)
    if evidence:
        for i in range(n):
            lv = scale * rng.normal(size=int(card[i]))
            g.add_log_evidence(i, lv)
    return g.compile()


def assert_same_messages(a, b, rtol=1e-9, atol=1e-9):
    """Same -inf pattern; finite entries equal to round-off (relative for large magnitudes)."""
    assert not np.any(np.isnan(a)) and not np.any(np.isnan(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(a)
    np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=atol)


def both(graph, **kw):
    kw.setdefault("tol", 1e-300)
    kw.setdefault("max_iter", 25)
    fast = run_bp(graph, **kw)
    ref = run_bp(graph, scaled_tables=False, **kw)
    return fast, ref


@pytest.mark.parametrize("seed", range(12))
def test_matches_log_domain_engine_on_random_loopy_tables(seed):
    g = random_tables(seed)
    assert _runs_scaled(g, BPConfig())
    fast, ref = both(g)
    assert_same_messages(fast.f2v, ref.f2v)
    # linear arithmetic may reach an exact fixed point (residual 0 < tol) a few
    # sweeps before the log-domain round-off noise would let it stop
    n = min(fast.n_iter, ref.n_iter)
    assert n >= 2
    np.testing.assert_allclose(fast.residuals[:n], ref.residuals[:n], atol=1e-12)
    if np.isfinite(ref.log_z):
        assert abs(fast.log_z - ref.log_z) < 1e-9 * max(1.0, abs(ref.log_z))
    else:  # a contradiction found by BP
        assert fast.log_z == ref.log_z == -np.inf


def trajectory(graph, **kw):
    """The log-messages after every sweep (copied from the callback)."""
    out = []
    run_bp(graph, callback=lambda p: out.append(np.array(p.f2v)), **kw)
    return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("scale", [60.0, 400.0, 2000.0])
def test_extreme_potentials_fall_back_to_exact_log_arithmetic(seed, scale):
    """Log-potentials of hundreds of nats: linear products would underflow to 0 and
    claim hard zeros; the fallbacks must keep every finite log-message exactly.

    Compared sweep by sweep: the residual is measured on probabilities, so an
    engine may stop while entries of probability e^-8000 still move by hundreds
    of nats (the log-domain engine's round-off can keep it going a sweep longer).
    """
    g = random_tables(100 + seed, scale=scale)
    fast = trajectory(g, tol=1e-300, max_iter=15)
    ref = trajectory(g, tol=1e-300, max_iter=15, scaled_tables=False)
    assert min(len(fast), len(ref)) >= 2
    for a, b in zip(fast, ref):
        assert_same_messages(a, b, rtol=1e-10, atol=1e-7)


def test_message_certain_to_800_nats_is_not_a_hard_zero():
    # a chain 0 - 1 - 2 with a field of 800 nats on variable 0: every message
    # carries an entry near -800 (exp underflows), which must stay finite
    g = FactorGraph()
    g.add_variables(3)
    g.add_log_evidence(0, [0.0, 800.0])
    g.add_factor([0, 1], log_table=[[0.0, -1.0], [-1.0, 0.0]])
    g.add_factor([1, 2], log_table=[[0.0, -2.0], [-2.0, 0.0]])
    g.add_factor([0, 1], log_table=[[0.0, -1000.0], [-1000.0, 0.0]])
    c = g.compile()
    fast, ref = both(c, max_iter=10)
    assert np.all(np.isfinite(fast.f2v))
    assert fast.f2v.min() < -700
    assert_same_messages(fast.f2v, ref.f2v, rtol=1e-12, atol=1e-9)


def test_hard_zeros_and_contradictions_match_without_nan():
    # x0 == x1 and x1 == x2 and x0 != x2 on binary variables: unsatisfiable
    eq = np.eye(2)
    g = FactorGraph()
    g.add_variables(3)
    g.add_factor([0, 1], eq)
    g.add_factor([1, 2], eq)
    g.add_factor([0, 2], 1 - eq)
    c = g.compile()
    fast, ref = both(c, max_iter=10)
    assert_same_messages(fast.f2v, ref.f2v)
    # and a satisfiable system with hard zeros everywhere
    g2 = random_tables(7, zeros=0.5)
    fast, ref = both(g2)
    assert_same_messages(fast.f2v, ref.f2v)


def test_evidence_and_card_one_variables():
    g = random_tables(3, card_max=3)
    allowed = {i: int(np.flatnonzero(np.isfinite(g.var_unary[i, : g.card[i]]))[0]) for i in range(2)}
    ge = g.with_evidence(allowed)
    fast, ref = both(ge)
    assert_same_messages(fast.f2v, ref.f2v)


def test_callback_sees_the_current_log_messages():
    g = random_tables(5)
    seen = {}

    def cb(progress):
        seen[progress.iteration] = np.array(progress.f2v)
        return progress.iteration == 4

    r = run_bp(g, tol=1e-300, max_iter=50, callback=cb)
    assert r.stopped_early and r.n_iter == 4
    for it in (1, 3, 4):
        again = run_bp(g, tol=1e-300, max_iter=it)
        np.testing.assert_array_equal(seen[it], again.f2v)


def test_warm_start_and_random_init_match():
    g = random_tables(9)
    ref0 = run_bp(g, max_iter=3, tol=1e-300)
    for init in ("random", ref0.f2v):
        fast = run_bp(g, init=init, seed=4, max_iter=12, tol=1e-300)
        ref = run_bp(g, init=init, seed=4, max_iter=12, tol=1e-300, scaled_tables=False)
        assert_same_messages(fast.f2v, ref.f2v)


def test_threads_give_identical_messages():
    g = random_tables(11)
    a = run_bp(g, n_threads=1, max_iter=20, tol=1e-300)
    b = run_bp(g, n_threads=2, max_iter=20, tol=1e-300)
    np.testing.assert_array_equal(a.f2v, b.f2v)


def test_applies_only_to_sum_product_flooding_on_tables():
    g = random_tables(1)
    assert _runs_scaled(g, BPConfig())
    assert _runs_scaled(g, BPConfig(damping=0.3))  # damping: test_bp_damping.py
    for cfg in (BPConfig(mode="max"), BPConfig(schedule="sequential"), BPConfig(scaled_tables=False)):
        assert not _runs_scaled(g, cfg)
    gi = FactorGraph()
    gi.add_variables(2)
    gi.add_ising([0, 1], J=0.5)
    assert not _runs_scaled(gi.compile(), BPConfig())
    assert "scaled_tables=False" in BPConfig(scaled_tables=False).identify()
    with pytest.raises(TypeError, match="scaled_tables"):
        BPConfig(scaled_tables=1)


def test_shape_groups_cover_every_factor_once_with_uniform_shapes():
    g = random_tables(21)
    sg = bp_scaled.shape_groups(g.fac_ptr, g.edge_var, g.card, 0, g.n_fac, chunk=2)
    np.testing.assert_array_equal(np.sort(sg.ids), np.arange(g.n_fac))
    covered = np.zeros(g.n_fac, dtype=int)
    for lo, hi, gi in zip(sg.task_lo, sg.task_hi, sg.task_group):
        assert 0 < hi - lo <= 2
        d = sg.arity[gi]
        for a in sg.ids[lo:hi]:
            covered[a] += 1
            e = np.arange(g.fac_ptr[a], g.fac_ptr[a + 1])
            assert len(e) == d
            np.testing.assert_array_equal(g.card[g.edge_var[e]], sg.cards[gi, :d])
    assert np.all(covered == 1)


def test_kernels_flag_underflow_instead_of_returning_it():
    # one factor whose messages are products below TINY: flagged for the exact
    # fallback, never normalised from underflowed values
    g = FactorGraph()
    g.add_variables(2)
    g.add_factor([0, 1], log_table=[[0.0, -700.0], [-700.0, -1.0]])
    c = g.compile()
    block = bp_scaled.table_block(c, 0, BPConfig())
    # each incoming message certain to 600 nats: c(1) = e^-700 + e^-1 1e-260 < TINY
    W = np.array([[1.0, 1e-260], [1.0, 1e-260]])
    m = _messages(c, prob=np.full((2, 2), 0.5), W=W)
    with threads(1):
        n = bp_scaled.scaled_update(_graph(c), block.arrays, m, 0, 0, 0, 0.0)
    assert n == 1 and m.flag[0]
    np.testing.assert_array_equal(m.prob, 0.5)  # untouched: the fallback owns this factor

    # a variable whose product of messages underflows takes log-domain sums
    g = FactorGraph()
    g.add_variables(4)
    for j in (1, 2, 3):
        g.add_factor([0, j], np.ones((2, 2)))
    c = g.compile()
    probs = np.tile([0.5, 0.5], (c.n_edge, 1))
    to0 = c.var_edges[c.var_ptr[0] : c.var_ptr[1]]
    probs[to0] = [1.0, 1e-200]  # each message to variable 0 certain to 460 nats
    m = _messages(c, prob=probs)
    with threads(1):
        bp_scaled.var_linear(_graph(c), m)
    assert m.vexact[to0].all() and not np.delete(m.vexact, to0).any()
    # the product of two messages is 1e-400: exact in the log domain, 0 in W
    np.testing.assert_allclose(m.v2f[to0, 1], 2 * np.log(1e-200), rtol=1e-14)
    np.testing.assert_array_equal(m.v2f[to0, 0], 0.0)
    np.testing.assert_array_equal(m.W[to0], [[1.0, 0.0]] * 3)


def _graph(c):
    ulin, vlog = bp_scaled.exact_unary(c.var_unary, c.card)
    return bp_scaled.ScaledGraph(c.var_ptr, c.var_edges, c.fac_ptr, c.edge_var, c.card, c.fac_param,
                                 c.var_unary, ulin, vlog)


def _messages(c, prob, W=None):
    shape = (c.n_edge, c.q_max)
    return bp_scaled.ScaledMessages(
        prob=prob, logx=np.log(prob), eflag=np.zeros(c.n_edge, dtype=bool),
        W=np.zeros(shape) if W is None else W, v2f=np.full(shape, -np.inf),
        vexact=np.zeros(c.n_edge, dtype=bool), lnew=np.full(shape, -np.inf), work=np.zeros(shape),
        res=np.zeros(c.n_fac), flag=np.zeros(c.n_fac, dtype=bool))
