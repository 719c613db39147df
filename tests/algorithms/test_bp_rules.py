"""BP factor rules (algorithms.bp.rules): the open rule table.

Oracles used here: enumeration of each factor's dense table
(``check_bp_rule`` / ``dense_f2v``, which only read ``graph.log_table``), exact
inference (``fgraph.exact``) on trees, and closed forms for a single parity
check of large degree (products of ``tanh``-like factors, no enumeration).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import algorithms
import fgraph
from algorithms import (
    BPRule,
    TableRule,
    check_bp_rule,
    dense_f2v,
    dense_log_z,
    register_bp_rule,
    run_bp,
)
from algorithms.bp import rules as bp_rules
from fgraph import FactorGraph, FactorType, exact
from fgraph import factors as fg_factors

SCHEDULES = ("parallel", "sequential", "residual")
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def random_table(rng, shape, zeros=0.3):
    t = rng.random(shape) + 0.05
    t = np.where(rng.random(shape) < zeros, 0.0, t)
    if not t.any():
        t.flat[rng.integers(t.size)] = 1.0
    return t


# ================================================== built-in rules vs enumeration
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_table_rule_any_arity_mixed_cards(seed):
    rng = np.random.default_rng(seed)
    n = 6
    g = FactorGraph()
    g.add_variables(card=rng.integers(1, 5, size=n))
    card = g.cards()
    for arity in (1, 2, 3, 4, int(rng.integers(1, 5))):
        scope = rng.choice(n, size=arity, replace=False)
        g.add_factor(scope, random_table(rng, tuple(card[scope])))
    rep = check_bp_rule("table", g.compile(), n_trials=4, seed=seed, tol=1e-10)
    assert rep["n_factors"] == 5


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_pairwise_tables_fast_path_and_generic_path(seed):
    rng = np.random.default_rng(seed)
    n = 5
    g = FactorGraph()
    g.add_variables(card=rng.integers(1, 5, size=n))
    card = g.cards()
    for _ in range(6):
        scope = rng.choice(n, size=2, replace=False)
        g.add_factor(scope, random_table(rng, tuple(card[scope])))
    cg = g.compile()
    assert TableRule()._pairwise(cg, 0, cg.n_fac, True)  # the block takes the fast path
    check_bp_rule("table", cg, n_trials=4, seed=seed, tol=1e-10)

    class Generic(TableRule):  # the same rule with the fast path switched off
        def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
            super().f2v(graph, t, lo, hi, v2f, out, work, max_mode, fast=False)

    check_bp_rule(Generic(), cg, n_trials=4, seed=seed, tol=1e-10)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("mode", ["sum", "max"])
def test_fast_paths_off_gives_the_same_bp(schedule, mode):
    rng = np.random.default_rng(5)
    n = 8
    g = FactorGraph()
    g.add_variables(card=rng.integers(2, 4, size=n))
    card = g.cards()
    for i in range(n):  # a ring plus chords of pairwise tables
        for j in (i + 1, i + 3):
            scope = np.array([i, j % n])
            g.add_factor(scope, random_table(rng, tuple(card[scope]), zeros=0.15))
    cg = g.compile()
    # a fixed number of sweeps (tol is never reached), so rounding cannot change the stopping sweep
    fast = run_bp(cg, schedule=schedule, mode=mode, damping=0.3, max_iter=60, tol=1e-300)
    slow = run_bp(cg, schedule=schedule, mode=mode, damping=0.3, max_iter=60, tol=1e-300, fast_paths=False)
    assert fast.residuals[-1] < 1e-8  # near the fixed point: the two paths agree there
    np.testing.assert_allclose(fast.f2v, slow.f2v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.beliefs, slow.beliefs, rtol=0, atol=1e-12)
    assert abs(fast.log_z - slow.log_z) < 1e-10
    if mode == "max":
        assert np.array_equal(fast.map_state, slow.map_state)


def test_unary_ising_potts_rules():
    rng = np.random.default_rng(0)
    g = FactorGraph()
    g.add_variables(card=[2, 2, 3, 3, 1, 4])
    g.add_unary(0, random_table(rng, (2,)))
    g.add_unary([2, 3], random_table(rng, (2, 3)))
    g.add_unary(4, [1.0])
    g.add_unary(5, [0.0, 1.0, 0.0, 2.0])
    g.add_ising([[0, 1], [1, 0]], J=[0.7, -2.5])
    g.add_potts([[2, 3], [3, 2]], J=[1.5, -4.0])
    cg = g.compile()
    for name in ("unary", "ising", "potts"):
        rep = check_bp_rule(name, cg, n_trials=6, seed=1, tol=1e-11)
        assert rep["n_factors"] == (5 if name == "unary" else 2)


@pytest.mark.parametrize("degree", range(1, 13))
def test_parity_rule_degrees_1_to_12(degree):
    g = FactorGraph()
    g.add_variables(degree + 1)
    rng = np.random.default_rng(degree)
    for target in (0, 1):
        for weight in (math.inf, 0.0, 0.7, 30.0):
            g.add_parity(list(rng.permutation(degree + 1)[:degree]), weight=weight, target=target)
    rep = check_bp_rule("parity", g.compile(), n_trials=4, seed=degree, tol=1e-10)
    assert rep["n_factors"] == 8


# ============================================================ wrong user rules
class ForgetsTable(BPRule):
    """Wrong: passes the cavity through as if the factor were constant."""

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        for a in range(lo, hi):
            for e in range(graph.fac_ptr[a], graph.fac_ptr[a + 1]):
                q = graph.card[graph.edge_var[e]]
                out[e, :] = -np.inf
                out[e, :q] = -np.log(q)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        dense_log_z(graph, lo, hi, v2f, out, max_mode)


class WrongLogZ(BPRule):
    """Right messages, but log Z_a forgets the table."""

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        dense_f2v(graph, lo, hi, v2f, out, max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        out[lo:hi] = 0.0


class Unnormalised(BPRule):
    """Right up to a constant, but not normalised."""

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        dense_f2v(graph, lo, hi, v2f, out, max_mode)
        out[graph.fac_ptr[lo] : graph.fac_ptr[hi]] += 1.0

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        dense_log_z(graph, lo, hi, v2f, out, max_mode)


@pytest.mark.parametrize("rule", [ForgetsTable(), WrongLogZ(), Unnormalised()])
def test_check_bp_rule_rejects_wrong_rules(rule):
    rng = np.random.default_rng(3)
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2])
    g.add_factor([0, 1, 2], random_table(rng, (2, 3, 2)))
    g.add_factor([1, 2], random_table(rng, (3, 2)))
    with pytest.raises(ValueError, match="differ|disagree"):
        check_bp_rule(rule, g.compile(), seed=0)


def test_check_bp_rule_argument_errors():
    g = FactorGraph()
    g.add_variables(2)
    g.add_ising([0, 1])
    g.add_factor([0], [1.0, 2.0])
    cg = g.compile()
    with pytest.raises(ValueError, match="no factors of type 'potts'"):
        check_bp_rule("potts", cg)
    with pytest.raises(ValueError, match="exactly one factor type"):
        check_bp_rule(TableRule(), cg)
    with pytest.raises(TypeError, match="BPRule"):
        register_bp_rule("table", object(), overwrite=True)
    with pytest.raises(ValueError, match="already registered"):
        register_bp_rule("table", TableRule())


# ============================================= user-defined factor types + rules
class AllEqualType(FactorType):
    """``log psi = bonus`` if all arguments are equal, else ``-inf`` (any cardinalities)."""

    name = "test_all_equal"

    def log_table(self, params, row, cards):
        cards = tuple(int(c) for c in cards)
        idx = np.indices(cards).reshape(len(cards), -1)
        ok = (idx == idx[0]).all(axis=0)
        return np.where(ok, float(params["bonus"][row]), -np.inf).reshape(cards)


class AllEqualRule(BPRule):
    """nu_{a->i}(x) = sum_{j != i} mu_j(x) (one allowed joint state per x): linear in the degree."""

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        for a in range(lo, hi):
            edges = range(graph.fac_ptr[a], graph.fac_ptr[a + 1])
            q = int(min(graph.card[graph.edge_var[e]] for e in edges))
            for e in edges:
                row = np.zeros(q)
                for e2 in edges:
                    if e2 != e:
                        row = row + v2f[e2, :q]
                out[e, :] = -np.inf
                out[e, :q] = row
                m = np.max(row)
                if np.isfinite(m):
                    out[e, :q] -= m if max_mode else m + np.log(np.sum(np.exp(row - m)))

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        bonus = graph.params[t]["bonus"]
        for a in range(lo, hi):
            edges = range(graph.fac_ptr[a], graph.fac_ptr[a + 1])
            q = int(min(graph.card[graph.edge_var[e]] for e in edges))
            s = sum(v2f[e, :q] for e in edges)
            m = np.max(s)
            if not np.isfinite(m):
                out[a] = -np.inf
                continue
            out[a] = bonus[graph.fac_param[a]] + (m if max_mode else m + np.log(np.sum(np.exp(s - m))))


class AtMostOneType(FactorType):
    """Binary arguments, at most one of them is 1 (``log psi`` = 0 or -inf)."""

    name = "test_at_most_one"

    def log_table(self, params, row, cards):
        k = len(cards)
        ones = np.indices((2,) * k).sum(axis=0)
        return np.where(ones <= 1, 0.0, -np.inf)


class DenseRule(BPRule):
    """A rule by enumeration of the dense table (correct for any small factor)."""

    def f2v(self, graph, t, lo, hi, v2f, out, work, max_mode, fast=True):
        dense_f2v(graph, lo, hi, v2f, out, max_mode)

    def log_z(self, graph, t, lo, hi, v2f, out, max_mode):
        dense_log_z(graph, lo, hi, v2f, out, max_mode)


class NoRuleType(FactorType):
    name = "test_no_rule_type"

    def log_table(self, params, row, cards):
        return np.zeros(tuple(int(c) for c in cards))


@pytest.fixture(scope="module")
def user_types():
    """Register the user types and rules (through the public API), undone afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fg_factors, "_REGISTRY", dict(fg_factors._REGISTRY))
        mp.setattr(bp_rules, "_RULES", dict(bp_rules._RULES))
        for ft in (AllEqualType(), AtMostOneType(), NoRuleType()):
            fgraph.register_factor_type(ft)
        algorithms.register_bp_rule("test_all_equal", AllEqualRule())
        algorithms.register_bp_rule("test_at_most_one", DenseRule())
        yield


def user_tree(seed):
    """A tree mixing user factors (all-equal, at-most-one) with built-ins, fields and zeros."""
    rng = np.random.default_rng(seed)
    g = FactorGraph()
    g.add_variables(card=[3, 2, 3, 2, 2, 2, 4, 2, 3, 2])
    g.add("test_all_equal", [[0, 2, 1]], bonus=[0.5])  # card 3, 3, 2: states 0, 1 only
    g.add("test_at_most_one", [[1, 3, 4]], bonus=[0.0])
    g.add("test_all_equal", [[4, 5]], bonus=[-1.0])
    g.add_factor([5, 6], random_table(rng, (2, 4)))
    g.add_ising([5, 7], J=1.3)
    g.add_potts([2, 8], J=-0.8)
    g.add("test_at_most_one", [[7, 9]], bonus=[0.0])
    for i in range(10):
        c = int(g.cards()[i])
        g.add_log_evidence(i, rng.normal(size=c))
    return g.compile()


def test_user_rules_pass_check(user_types):
    g = user_tree(0)
    rep = check_bp_rule("test_all_equal", g, n_trials=8, seed=0, tol=1e-11)
    assert rep["n_factors"] == 2
    check_bp_rule("test_at_most_one", g, n_trials=8, seed=0, tol=1e-11)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("damping", [0.0, 0.5])
def test_user_rules_run_and_are_exact_on_a_tree(user_types, schedule, damping):
    for seed in range(3):
        g = user_tree(seed)
        ex = exact.infer(g)
        r = run_bp(g, schedule=schedule, damping=damping, tol=1e-13, max_iter=2000)
        assert r.converged
        assert abs(r.log_z - ex.log_z) < 1e-10 * (1 + abs(ex.log_z))
        for got, want in zip(r.marginals, ex.marginals):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
        rm = run_bp(g, mode="max", schedule=schedule, damping=damping, tol=1e-13, max_iter=2000)
        _, best = exact.map_state(g)
        assert abs(g.log_score(rm.map_state) - best) < 1e-10 * (1 + abs(best))
        assert abs(rm.log_z - best) < 1e-10 * (1 + abs(best))


def test_missing_rule_error_shows_the_stub(user_types):
    g = FactorGraph()
    g.add_variables(3)
    g.add("test_no_rule_type", [[0, 1, 2]], w=[1.0])
    g.add_ising([0, 1])
    cg = g.compile()
    with pytest.raises(ValueError, match="test_no_rule_type") as info:
        run_bp(cg)
    msg = str(info.value)
    for needle in ("register_bp_rule", "def f2v", "def log_z", "TestNoRuleTypeRule", "check_bp_rule"):
        assert needle in msg, needle
    with pytest.raises(ValueError, match="register_bp_rule"):
        algorithms.get_bp_rule("test_no_rule_type")


# ========================================================== parity: linear cost
def parity_closed_form(h, target):
    """Single hard parity check, independent fields log phi_i = (-h_i, +h_i):
    log Z and P(x_i = 1), from products of t_i = tanh(h_i) (no enumeration)."""
    t = np.tanh(h)
    log_norm = float(np.sum(np.log(2 * np.cosh(h))))
    prod = np.prod(t)  # E[(-1)^{sum x}] = prod_i (p0 - p1) = prod_i (-t_i)
    sign = (-1) ** len(h)
    p_target = 0.5 * (1 + (1 if target == 0 else -1) * sign * prod)
    # P(x_i = 1, parity = target) = p1_i * P(parity of the others = target ^ 1)
    p1 = 0.5 * (1 + t)
    cav = np.array([np.prod(np.delete(t, i)) for i in range(len(h))])
    sgn_c = (-1) ** (len(h) - 1)
    want_other = target ^ 1
    p_other = 0.5 * (1 + (1 if want_other == 0 else -1) * sgn_c * cav)
    return log_norm + math.log(p_target), p1 * p_other / p_target


@pytest.mark.parametrize("degree", [200, 5000])
@pytest.mark.parametrize("target", [0, 1])
def test_parity_of_large_degree_is_linear_and_exact(degree, target):
    rng = np.random.default_rng(degree + target)
    h = rng.normal(0, 2.0, size=degree)
    g = FactorGraph()
    g.add_variables(degree)
    g.add_parity(list(range(degree)), target=target)  # no 2^degree table anywhere
    g.add_field(np.arange(degree), h)
    cg = g.compile()
    log_z, p1 = parity_closed_form(h, target)
    for schedule in SCHEDULES:
        r = run_bp(cg, schedule=schedule, tol=1e-13)
        assert r.converged and r.n_iter <= 2
        assert abs(r.log_z - log_z) < 1e-9 * (1 + abs(log_z))
        np.testing.assert_allclose([m[1] for m in r.marginals], p1, rtol=0, atol=1e-10)
        # max-product: the best state is the sign pattern, with the least reliable bit flipped if needed
        rm = run_bp(cg, mode="max", schedule=schedule)
        x = (h > 0).astype(np.int64)
        if x.sum() % 2 != target:
            k = int(np.argmin(np.abs(h)))
            x[k] ^= 1
        assert abs(cg.log_score(rm.map_state) - cg.log_score(x)) < 1e-9 * degree
        assert rm.map_state.sum() % 2 == target


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_parity_chain_matches_exact(schedule):
    """Checks of degree 3-5 chained through one shared variable (a tree), hard and soft, with fields."""
    rng = np.random.default_rng(9)
    g = FactorGraph()
    g.add_variables(40)
    start = 0
    k = 0
    while start < 36:
        d = int(rng.integers(3, 6))
        scope = list(range(start, min(start + d, 40)))
        g.add_parity(scope, weight=math.inf if k % 2 == 0 else 1.5, target=int(rng.integers(2)))
        start = scope[-1]
        k += 1
    g.add_field(np.arange(40), rng.normal(0, 1, size=40))
    cg = g.compile()
    ex = exact.infer(cg)
    r = run_bp(cg, schedule=schedule, tol=1e-13)
    assert r.converged
    assert abs(r.log_z - ex.log_z) < 1e-10 * (1 + abs(ex.log_z))
    for got, want in zip(r.marginals, ex.marginals):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    rm = run_bp(cg, mode="max", schedule=schedule)
    _, best = exact.map_state(cg)
    assert abs(cg.log_score(rm.map_state) - best) < 1e-9
