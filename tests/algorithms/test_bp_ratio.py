"""The tanh engine's ratio form at extreme confidence: exact parity checks, binary tables, and the
handover to the log-domain engine.

The reference is the log-domain engine (``fast_paths=False, scaled_tables=False``).
Messages are compared as probabilities (within 1e-12), sweep by sweep, with the
residual histories; each test asserts which engine ran (``'tanh'``, ``'tanh+rules'``
after a handover, ``'scaled'``), so that none passes by falling back to the reference.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from engine_checks import REF, assert_same_run, probs

import fgraph
from algorithms import BPConfig, run_bp
from algorithms.bp import binary, flooding_engine
from fgraph.problems import ising_grid, ldpc, regular_ldpc

DAMPINGS = [0.0, 0.1, 0.3, 0.5, 0.8]


def compare(graph, engine, damping, sweeps=(1, 4), tol=1e-9, max_iter=500, converges=True, **kw):
    """Fixed numbers of sweeps, then a run to convergence (or to ``max_iter``): same sweeps,
    messages and results."""
    for n in sweeps:
        fast = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, **kw)
        ref = run_bp(graph, damping=damping, max_iter=n, tol=1e-300, **REF)
        assert fast.engine == engine and fast.n_iter == n
        assert_same_run(fast, ref)
    fast = run_bp(graph, damping=damping, max_iter=max_iter, tol=tol, **kw)
    ref = run_bp(graph, damping=damping, max_iter=max_iter, tol=tol, **REF)
    assert fast.engine == engine and fast.converged == converges
    assert_same_run(fast, ref, atol=1e-10)


# ------------------------------------------------------------------ parity checks
def _exact_odds(E, k, tw, cw1, sgn):
    """The check's message to slot k in exact rational arithmetic from the same float inputs."""
    P = Fraction(1)
    for j, e in enumerate(E):
        if j != k:
            P *= (1 - Fraction(e)) / (1 + Fraction(e))
    D1 = Fraction(cw1) + Fraction(tw) * (1 - abs(P))
    return (2 - D1) / D1 if sgn * P > 0 else D1 / (2 - D1)


def test_parity_kernel_is_exact_to_round_off_at_any_confidence():
    """Cavity odds from e^-320 to e^320 and near 1, soft and hard checks: every output odds
    within a relative 1e-14 of exact rational arithmetic (no cap: a log-odds error of 1e-14)."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        d = int(rng.integers(1, 7))
        w = [0.0, 0.3, 2.0, 20.0, 300.0, math.inf][trial % 6]
        if d == 1 and w > 300.0:
            w = 40.0
        kind = trial % 3
        if kind == 0:
            logE = rng.uniform(-320.0, 320.0, size=d)
        elif kind == 1:
            logE = rng.choice([-1.0, 1.0], size=d) * rng.uniform(20.0, 300.0, size=d)
        else:
            logE = rng.normal(scale=1e-9, size=d)  # T_j near 0
        E = np.exp(logE)
        ew = math.exp(-w)
        tw, cw1 = np.array([(1 - ew) / (1 + ew)]), np.array([2 * ew / (1 + ew)])
        sgn = np.array([-1.0 if trial % 2 else 1.0])
        Ein, S, Xn, res = E.copy(), np.empty(d), np.empty(d), np.zeros(1)
        X = np.ones(d)
        bad = binary.parity_ratio(0, 1, np.array([0, d]), np.array([0]), tw, cw1, sgn, Ein, S, X, Xn, res,
                                  0, 0, 0)
        assert bad == 0
        for k in range(d):
            want = _exact_odds(E, k, tw[0], cw1[0], sgn[0])
            assert abs(Fraction(Xn[k]) / want - 1) < 1e-14, (trial, k, Xn[k], float(want))


def _confident_ldpc(channel):
    H = regular_ldpc(36, 3, 6, seed=4)
    if channel == "bsc":  # crossover 1e-12: channel log-odds of 27.6 nats
        return ldpc(H, "bsc", seed=5, p=1e-12).graph
    return ldpc(H, "awgn", seed=5, sigma=0.25).graph  # log-odds 2 y / sigma^2 of about 32 nats


@pytest.mark.parametrize("channel", ["bsc", "awgn"])
@pytest.mark.parametrize("damping", DAMPINGS)
def test_confident_ldpc_decoding_equals_the_log_domain_engine(channel, damping):
    g = _confident_ldpc(channel)
    compare(g, "tanh", damping, sweeps=(1, 3))


def _mixed_checks(seed):
    """Soft, hard and degree-1 checks (both targets) with fields of 20-40 nats of random sign."""
    rng = np.random.default_rng(seed)
    n = 12
    gb = fgraph.FactorGraph()
    gb.add_variables(n)
    for d, w in ((1, 3.0), (1, 25.0), (2, math.inf), (3, 0.7), (4, math.inf), (5, 12.0), (6, math.inf)):
        gb.add_parity(rng.choice(n, size=d, replace=False), weight=w, target=int(rng.integers(2)))
    gb.add_field(np.arange(n), rng.choice([-1.0, 1.0], size=n) * rng.uniform(20.0, 40.0, size=n))
    gb.add_ising([[0, 1], [2, 3]], J=[0.8, -1.5])
    return gb.compile()


@pytest.mark.parametrize("damping", DAMPINGS)
def test_soft_hard_and_degree_one_checks_with_strong_fields(damping):
    for seed in range(3):
        g = _mixed_checks(seed)
        ref = run_bp(g, damping=damping, max_iter=150, **REF)
        compare(g, "tanh", damping, sweeps=(1, 2, 5), max_iter=150, converges=ref.converged)


def test_degree_one_hard_check_is_declined():
    """A hard check of degree 1 sends infinite log-odds: the graph runs in the log-domain engine."""
    gb = fgraph.FactorGraph()
    gb.add_variables(3)
    gb.add_parity([[0], [0, 1, 2]], target=[1, 0])
    gb.add_field([1, 2], [0.3, -0.4])
    g = gb.compile()
    assert binary.parity_block(g, 0, BPConfig()) is None
    r = run_bp(g, max_iter=20)
    assert r.engine == "rules"


# ------------------------------------------------------------------ handover
def test_handover_when_messages_leave_the_window():
    """After decoding, check messages grow by a factor ~2 in log-odds per sweep; past the
    parity window the engine hands the run to the log-domain engine at the last exact
    messages, and the whole run equals the reference (sweep count, residuals, messages)."""
    g = _confident_ldpc("awgn")
    cfg = BPConfig(max_iter=40, tol=1e-300)
    engine, blocks = flooding_engine(g, cfg)
    f2v = np.full((g.n_edge, 2), -math.log(2.0))
    history, converged, stopped, handover = engine.run(g, blocks, cfg, f2v, lambda *a: False)
    assert handover and 2 <= len(history) < 40 and not converged
    seen = []
    fast = run_bp(g, cfg, callback=lambda p: seen.append((p.iteration, np.array(p.f2v))) and False)
    assert fast.engine == "tanh+rules" and fast.n_iter > len(history)
    assert [k for k, _ in seen] == list(range(1, fast.n_iter + 1))
    ref_seen = []
    ref = run_bp(g, cfg, callback=lambda p: ref_seen.append(np.array(p.f2v)) and False, **REF)
    assert_same_run(fast, ref)
    for (_, a), b in zip(seen, ref_seen):
        np.testing.assert_allclose(probs(a), probs(b), rtol=0, atol=1e-12)
    for damping in (0.5, 0.3):
        fast = run_bp(g, damping=damping, max_iter=80, tol=1e-300)
        ref = run_bp(g, damping=damping, max_iter=80, tol=1e-300, **REF)
        assert fast.engine == "tanh+rules"
        assert_same_run(fast, ref)


def test_initial_messages_outside_the_window_hand_over_before_the_first_sweep():
    g = _confident_ldpc("bsc")
    init = np.zeros((g.n_edge, 2))
    init[:, 0] = -400.0  # check messages certain to 400 nats: beyond the parity window
    cfg = BPConfig(max_iter=6, tol=1e-300)
    engine, blocks = flooding_engine(g, cfg)
    f2v = init.copy()
    assert engine.run(g, blocks, cfg, f2v, lambda *a: False) == ([], False, False, True)
    np.testing.assert_array_equal(f2v, init)
    fast = run_bp(g, cfg, init=init)
    ref = run_bp(g, cfg, init=init, **REF)
    assert fast.engine == "tanh+rules"
    assert_same_run(fast, ref)


# ------------------------------------------------------------------ binary tables
def _tables(seed, n=10, evidence=True, ising=False, scale=2.0):
    """Random positive 2 x 2 tables (some entries e^-69 relative), unary tables, fields; optionally
    an Ising block (then the graph mixes the Ising and the general Moebius edges)."""
    rng = np.random.default_rng(seed)
    gb = fgraph.FactorGraph()
    gb.add_variables(n)
    for _ in range(2 * n):
        lt = rng.normal(scale=scale, size=(2, 2))
        if rng.random() < 0.3:
            lt[rng.integers(2), rng.integers(2)] -= 69.0  # about 1e-30 relative
        gb.add_factor(rng.choice(n, size=2, replace=False), log_table=lt)
    for i in range(3):
        gb.add_unary(int(i), log_table=rng.normal(scale=2.0, size=2))
        gb.add_factor([int(n - 1 - i)], log_table=rng.normal(scale=2.0, size=2))
    if ising:
        gb.add_ising([[0, n - 1], [1, n - 2]], J=[1.2, -0.7])
    if evidence:
        gb.add_field(np.arange(n), rng.normal(size=n))
    return gb.compile()


@pytest.mark.parametrize("damping", DAMPINGS)
def test_binary_tables_equal_the_log_domain_engine(damping):
    for seed in range(2):
        g = _tables(seed)
        assert {b.engine.name for b in (flooding_engine(g, BPConfig(fast_paths=False))[1])} == {"tanh"}
        compare(g, "tanh", damping, sweeps=(1, 4, 15), tol=1e-8, max_iter=1500, fast_paths=False)
        ge = g.with_evidence({0: 1, 3: 0})  # hard evidence: cavity odds 0 or inf, messages finite
        compare(ge, "tanh", damping, sweeps=(1, 4), tol=1e-8, max_iter=1500, fast_paths=False)
    mixed = _tables(2, ising=True)
    plan = binary.ratio_plan(mixed, flooding_engine(mixed, BPConfig())[1], np.zeros(mixed.n_edge))
    assert plan.gen and not plan.check
    compare(mixed, "tanh", damping, sweeps=(1, 4), tol=1e-10, max_iter=300)


def test_tables_beyond_the_static_bounds_run_the_dynamic_plan():
    """A variable with 12 tables of entry ratio e^70 fails the static bound (sum of
    log-odds bounds > 700): the dynamic plan tracks the products.  With messages of
    mixed sign it stays in the ratio form; aligned, the product overflows and the run
    hands over -- both equal the reference."""
    for aligned, engine in ((False, "tanh"), (True, "tanh+rules")):
        gb = fgraph.FactorGraph()
        gb.add_variables(13)
        for j in range(1, 13):
            s = 1.0 if aligned or j % 2 else -1.0
            gb.add_factor([0, j], log_table=[[0.0, 0.0], [0.0, 0.0]])
            gb.add_factor([j], log_table=[0.0, s * 70.0])
            gb.add_factor([0, j], log_table=[[35.0, -35.0], [-35.0, 35.0]])
        g = gb.compile()
        blocks = flooding_engine(g, BPConfig())[1]
        assert binary.ratio_plan(g, blocks, np.zeros(g.n_edge)).check
        fast = run_bp(g, max_iter=4, tol=1e-300)  # a tree: exact from sweep 4 on
        ref = run_bp(g, max_iter=4, tol=1e-300, **REF)
        assert fast.engine == engine
        assert_same_run(fast, ref)


def test_tables_outside_the_ratio_form_run_in_the_scaled_engine():
    base = ising_grid(3, J=0.5, h=0.1).graph
    # a zero entry; a ternary variable; an entry ratio beyond e^K_MAX; a table of arity 3
    zero, tern, wide, arity3 = (fgraph.FactorGraph() for _ in range(4))
    for gb in (zero, wide, arity3):
        gb.add_variables(3)
    tern.add_variables(3, card=[2, 3, 2])
    zero.add_factor([0, 1], log_table=[[0.0, -np.inf], [0.3, 0.0]])
    tern.add_factor([0, 1], log_table=[[0.1, 0.2, -0.3], [0.4, 0.0, 0.2]])
    wide.add_factor([0, 1], log_table=[[0.0, -81.0], [0.0, 0.0]])
    arity3.add_factor([0, 1, 2], log_table=np.arange(8.0).reshape(2, 2, 2) / 7)
    for gb in (zero, tern, wide, arity3):
        gb.add_factor([0, 2], log_table=[[0.5, 0.0], [0.0, 0.5]])
        g = gb.compile()
        fast = run_bp(g, max_iter=1, tol=1e-300, fast_paths=False)
        assert fast.engine == "scaled"
        assert_same_run(fast, run_bp(g, max_iter=1, tol=1e-300, **REF))
    # a unary block with a ternary variable keeps the graph's pair tables in the scaled engine too
    gb = fgraph.FactorGraph()
    gb.add_variables(3, card=[2, 2, 3])
    gb.add_factor([0, 1], log_table=[[0.5, 0.0], [0.0, 0.5]])
    gb.add_unary(2, log_table=[0.0, 1.0, 2.0])
    assert run_bp(gb.compile(), max_iter=3).engine == "scaled"
    assert run_bp(base.to_tables(), max_iter=3, scaled_tables=False).engine == "rules"
    assert run_bp(base.to_tables(), max_iter=3, fast_paths=False).engine == "tanh"
