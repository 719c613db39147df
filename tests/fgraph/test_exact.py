"""Exact inference (fgraph.exact): the oracle of the project.

Oracles used here: brute-force enumeration through ``CompiledGraph.log_score``
(an independent code path), closed forms (Ising ring and chain), the identity
``p(x_i = s) = Z(x_i = s) / Z`` (backward pass against forward pass), and files
with externally known answers (UAI 2014, libDAI, Asia; the external oracle folder of
tests/conftest.py).
"""

import functools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fgraph
from fgraph import FactorGraph, exact

TOL = 1e-10
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# =================================================================== helpers
def close(a, b, tol=TOL):
    """Equal log-values: both -inf, or within tol * (1 + |a|)."""
    if a == -math.inf or b == -math.inf:
        return a == b
    return abs(a - b) <= tol * (1.0 + abs(a))


def assert_all_close(xs, ys, tol=TOL):
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        assert x.shape == y.shape
        assert x.dtype == np.float64
        np.testing.assert_allclose(x, y, rtol=0, atol=tol)


def ising_ring(n, J, h=None):
    g = FactorGraph()
    g.add_variables(n)
    g.add_ising(np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1), J)
    if h is not None:
        g.add_field(np.arange(n), h)
    return g.compile()


def log_2cosh(b):
    return abs(b) + math.log1p(math.exp(-2 * abs(b)))


# ======================================================== random graphs (hypothesis)
@st.composite
def random_models(draw, max_states=3000):
    """A random compiled graph (mixed cardinalities, arities 1-3, zeros) and random evidence."""
    n = draw(st.sampled_from(range(1, 11)))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.3, 2.0, 40.0]))
    p_zero = draw(st.sampled_from([0.0, 0.15, 0.5]))
    rng = np.random.default_rng(seed)
    cards = []
    for _ in range(n):
        top = 3 if math.prod(cards) * 3 <= max_states else 2 if math.prod(cards) * 2 <= max_states else 1
        cards.append(int(rng.choice([1, 2, 2, 2, 3][: 1 + 3 * (top > 1) + (top > 2)])))
    g = FactorGraph()
    g.add_variables(card=cards)
    binary = [i for i in range(n) if cards[i] == 2]
    for _ in range(int(rng.integers(0, 2 * n + 2))):
        kind = rng.choice(["table", "table", "ising", "potts", "parity", "unary"])
        if kind == "ising" and len(binary) >= 2:
            g.add_ising(rng.choice(binary, 2, replace=False), J=rng.normal(scale=scale))
        elif kind == "potts" and n >= 2:
            i = int(rng.integers(n))
            same = [j for j in range(n) if j != i and cards[j] == cards[i]]
            if same:
                g.add_potts([i, int(rng.choice(same))], J=rng.normal(scale=scale))
        elif kind == "parity" and binary:
            k = int(rng.integers(1, min(4, len(binary)) + 1))
            w = math.inf if rng.random() < 0.5 else float(rng.exponential(scale))
            g.add_parity(rng.choice(binary, k, replace=False), weight=w, target=int(rng.integers(2)))
        else:
            k = 1 if kind == "unary" else int(rng.integers(1, min(n, 3) + 1))
            scope = rng.choice(n, size=k, replace=False)
            shape = tuple(cards[i] for i in scope)
            t = rng.normal(scale=scale, size=shape)
            t[rng.random(shape) < p_zero] = -np.inf
            t.flat[rng.integers(t.size)] = rng.normal()  # never all zero
            if kind == "unary":
                g.add_unary(int(scope[0]), log_table=t)
            else:
                g.add_factor(scope, log_table=t)
    hard = {}
    if rng.random() < 0.2:  # hard evidence stored in the graph
        i = int(rng.integers(n))
        hard[i] = int(rng.integers(cards[i]))
        g.set_evidence(hard)
    for i in range(n):  # soft evidence, with zeros
        if rng.random() < 0.4:
            lv = rng.normal(scale=scale, size=cards[i])
            lv[rng.random(cards[i]) < p_zero] = -np.inf
            lv[hard.get(i, rng.integers(cards[i]))] = 0.0
            g.add_log_evidence(i, lv)
    cg = g.compile()
    evidence = {}
    for i in range(n):
        if rng.random() < 0.15:
            evidence[i] = int(rng.integers(cards[i]))
    return cg, evidence


@SETTINGS
@given(random_models())
def test_ve_matches_brute_force(model):
    g, ev = model
    bf = exact.brute_force(g, ev)
    lz = exact.log_z(g, ev, method="ve")
    assert isinstance(lz, float) and not math.isnan(lz)
    assert close(lz, bf.log_z), (lz, bf.log_z)
    if bf.log_z == -math.inf:
        for f in (exact.marginals, exact.factor_marginals, exact.map_state):
            for method in ("ve", "auto", "brute"):
                with pytest.raises(ValueError, match="Z = 0"):
                    f(g, ev, method=method)
        return
    res = exact.infer(g, ev, factors=True, method="ve")
    assert close(res.log_z, bf.log_z)
    assert_all_close(res.marginals, bf.marginals)
    assert_all_close(res.factor_marginals, bf.factor_marginals)
    for i, p in enumerate(res.marginals):
        assert p.shape == (g.card[i],) and abs(p.sum() - 1) < 1e-12 and np.all(p >= 0)
    for i, s in ev.items():
        assert res.marginals[i][s] == 1.0
    x, score = exact.map_state(g, ev, method="ve")
    assert x.dtype == np.int64 and x.shape == (g.n_var,)
    assert score == g.log_score(x)
    assert close(score, bf.map_score)
    assert all(x[i] == s for i, s in ev.items())


@SETTINGS
@given(random_models(max_states=600))
def test_public_functions_agree_with_each_other(model):
    """marginals/factor_marginals equal infer; method='brute' equals brute_force; evidence = with_evidence."""
    g, ev = model
    lz = exact.log_z(g, ev)
    assert close(exact.log_z(g, ev, method="brute"), lz)
    try:
        ge = g.with_evidence(ev)
    except ValueError:  # evidence on a zero-weight state
        assert lz == -math.inf
        return
    assert close(exact.log_z(ge), lz)
    if lz == -math.inf:
        return
    assert_all_close(exact.marginals(g, ev), exact.marginals(ge))
    assert_all_close(exact.marginals(g, ev, method="brute"), exact.marginals(g, ev))
    assert_all_close(exact.factor_marginals(g, ev, method="brute"), exact.factor_marginals(g, ev))
    # factor marginals sum to the variable marginals
    fm, vm = exact.factor_marginals(g, ev), exact.marginals(g, ev)
    for a in range(g.n_fac):
        for ax, i in enumerate(g.scope(a)):
            other = tuple(j for j in range(fm[a].ndim) if j != ax)
            np.testing.assert_allclose(fm[a].sum(axis=other), vm[i], atol=1e-12)
    x, s = exact.map_state(g, ev, method="brute")
    assert close(exact.map_state(g, ev)[1], s)


# ============================================================== closed forms
@pytest.mark.parametrize("n", [3, 4, 7, 12])
@pytest.mark.parametrize("beta", [0.3, -0.8, 1.5])
def test_ising_ring_closed_form(n, beta):
    # Z = (2 cosh b)^n (1 + tanh(b)^n)   (transfer matrix of the ring)
    want = n * log_2cosh(beta) + math.log1p(math.tanh(beta) ** n)
    assert close(exact.log_z(ising_ring(n, beta)), want, 1e-12)
    m = exact.marginals(ising_ring(n, beta))
    assert_all_close(m, [np.array([0.5, 0.5])] * n, 1e-12)


def test_ising_ring_huge_couplings_stay_finite():
    # log Z = n J + log(1 + e^{-2J})^n (1 + tanh^n) ~ n J + log 2: far outside exp's range
    n, J = 20, 500.0
    g = ising_ring(n, J)
    assert close(exact.log_z(g), n * log_2cosh(J) + math.log1p(math.tanh(J) ** n), 1e-14)
    assert close(exact.log_z(g), n * J + math.log(2), 1e-14)
    x, s = exact.map_state(g)
    assert len(set(x.tolist())) == 1 and s == n * J
    fm = exact.factor_marginals(g)[0]
    np.testing.assert_allclose(fm, [[0.5, 0], [0, 0.5]], atol=1e-12)


def test_open_chain_closed_form_and_long_chain():
    # open Ising chain: Z = 2 (2 cosh b)^(n-1); 2000 variables (no recursion, linear cost)
    for n in (2, 5, 2000):
        g = FactorGraph()
        g.add_variables(n)
        g.add_ising(np.stack([np.arange(n - 1), np.arange(1, n)], axis=1), 0.7)
        want = math.log(2) + (n - 1) * log_2cosh(0.7)
        assert close(exact.log_z(g.compile()), want, 1e-12)


def test_random_chain_against_forward_algorithm():
    # A 400-variable chain with mixed cardinalities and random tables: HMM forward recursion.
    rng = np.random.default_rng(5)
    n = 400
    cards = rng.integers(1, 5, size=n)
    g = FactorGraph()
    g.add_variables(card=cards)
    tabs = []
    for i in range(n - 1):
        t = rng.normal(scale=3, size=(cards[i], cards[i + 1]))
        tabs.append(t)
        g.add_factor([i, i + 1], log_table=t)
    alpha = np.zeros(cards[0])
    for t in tabs:
        m = alpha[:, None] + t
        alpha = np.log(np.exp(m - m.max()).sum(axis=0)) + m.max()
    want = float(np.log(np.exp(alpha - alpha.max()).sum()) + alpha.max())
    cg = g.compile()
    assert close(exact.log_z(cg), want, 1e-12)
    assert exact.elimination_order(cg).width == 1


def test_backward_pass_matches_conditioned_log_z():
    # p(x_i = s) = Z(x_i = s) / Z on a 5x5 torus with fields: the backward pass against
    # independent forward passes (no brute force possible at 2^25 states... at reasonable cost).
    rng = np.random.default_rng(0)
    L = 5
    idx = np.arange(L * L).reshape(L, L)
    edges = np.concatenate([
        np.stack([idx.ravel(), np.roll(idx, 1, axis=0).ravel()], 1),
        np.stack([idx.ravel(), np.roll(idx, 1, axis=1).ravel()], 1),
    ])
    g = FactorGraph()
    g.add_variables(L * L)
    g.add_ising(edges, rng.normal(size=len(edges)))
    g.add_field(np.arange(L * L), rng.normal(size=L * L))
    cg = g.compile()
    res = exact.infer(cg, factors=True)
    for i in range(0, L * L, 3):
        p1 = math.exp(exact.log_z(cg, {i: 1}) - res.log_z)
        assert abs(res.marginals[i][1] - p1) < 1e-12
    a = 7
    i, j = cg.scope(a)
    pij = math.exp(exact.log_z(cg, {int(i): 0, int(j): 1}) - res.log_z)
    assert abs(res.factor_marginals[a][0, 1] - pij) < 1e-12


# ================================================== parity systems (GF(2))
@st.composite
def parity_systems(draw):
    """Hard parity checks on binary variables, uniform soft evidence, random hard evidence."""
    n = draw(st.sampled_from(range(1, 13)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    g = FactorGraph()
    g.add_variables(n)
    for _ in range(int(rng.integers(0, n + 3))):
        k = int(rng.integers(1, min(n, 4) + 1))
        scope = rng.choice(n, k, replace=False)
        if rng.random() < 0.8:
            g.add_parity(scope, target=int(rng.integers(2)))
        else:  # the same constraint as a table, with a constant weight c
            par = np.indices((2,) * k).sum(axis=0) % 2
            g.add_factor(scope, log_table=np.where(par == 1, rng.normal(), -np.inf))
    for i in range(n):
        if rng.random() < 0.3:
            g.add_log_evidence(i, np.full(2, rng.normal()))
    ev = {int(i): int(rng.integers(2)) for i in range(n) if rng.random() < 0.2}
    return g.compile(), ev


@SETTINGS
@given(parity_systems())
def test_gf2_matches_brute_force(model):
    g, ev = model
    bf = exact.brute_force(g, ev)
    assert close(exact.log_z(g, ev, method="gf2"), bf.log_z)
    if bf.log_z == -math.inf:
        with pytest.raises(ValueError, match="Z = 0"):
            exact.marginals(g, ev, method="gf2")
        with pytest.raises(ValueError, match="Z = 0"):
            exact.map_state(g, ev, method="gf2")
        return
    assert_all_close(exact.marginals(g, ev, method="gf2"), bf.marginals)
    x, s = exact.map_state(g, ev, method="gf2")
    assert close(s, bf.map_score) and s == g.log_score(x)
    assert all(x[i] == v for i, v in ev.items())
    assert_all_close(exact.marginals(g, ev), bf.marginals)  # 'auto' takes the GF(2) path


def test_gf2_refuses_what_it_cannot_do():
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity([0, 1, 2])
    g.add_field(0, 0.5)  # non-uniform evidence
    with pytest.raises(ValueError, match="method='gf2' needs every factor to be a hard parity"):
        exact.log_z(g.compile(), method="gf2")
    assert close(exact.log_z(g.compile()), math.log(4 * math.cosh(0.5)), 1e-14)  # auto: VE
    h = FactorGraph()
    h.add_variables(3)
    h.add_parity([0, 1, 2], weight=2.0)  # soft check
    with pytest.raises(ValueError, match="gf2"):
        exact.marginals(h.compile(), method="gf2")
    with pytest.raises(ValueError, match="no factor marginals"):
        exact.factor_marginals(g.compile(), method="gf2")


def test_ldpc_code_counts_codewords(external):
    # MacKay's (96, 48) Gallager code: GF(2) rank 48, so 2^48 codewords; min-fill width 58.
    g = read(external, "ldpc/96.33.964.alist")
    assert exact.elimination_order(g).width > 40
    assert close(exact.log_z(g), 48 * math.log(2), 1e-14)
    with pytest.raises(ValueError, match="max_width"):
        exact.log_z(g, method="ve")
    x, s = exact.map_state(g)
    assert s == 0.0
    # BEC: the all-zero codeword with 30 erasures.  Exact bitwise posteriors are 0/1 or 1/2;
    # with the received bits as evidence the width is small, so elimination checks them.
    rng = np.random.default_rng(3)
    erased = rng.choice(96, 30, replace=False)
    ev = {int(i): 0 for i in range(96) if i not in set(erased.tolist())}
    m = exact.marginals(g, ev)
    assert_all_close(m, exact.marginals(g, ev, method="ve"))
    assert all(p[0] in (0.5, 1.0) for p in m)
    assert close(exact.log_z(g, ev), exact.log_z(g, ev, method="ve"))


# ============================================================ special inputs
def test_isolated_and_single_state_variables():
    g = FactorGraph()
    g.add_variables(card=[2, 1, 3, 2])
    g.add_factor([0, 1], [[1.0], [3.0]])  # var 1 has one state
    g.add_log_evidence(2, np.log([1.0, 2.0, 1.0]))  # var 2 in no factor
    cg = g.compile()
    m = exact.marginals(cg)
    assert_all_close(m, [np.array([0.25, 0.75]), np.array([1.0]), np.array([0.25, 0.5, 0.25]),
                         np.array([0.5, 0.5])], 1e-15)
    assert close(exact.log_z(cg), math.log(4 * 4 * 2), 1e-14)
    x, s = exact.map_state(cg)
    assert x.tolist() == [1, 0, 1, 0] and close(s, math.log(3 * 2), 1e-14)
    fm = exact.factor_marginals(cg)
    assert fm[0].shape == (2, 1)
    one = FactorGraph()
    one.add_variable(1)
    assert exact.log_z(one.compile()) == 0.0
    assert exact.marginals(one.compile())[0].tolist() == [1.0]
    assert exact.map_state(one.compile())[0].tolist() == [0]


def test_fully_observed_graph():
    g = FactorGraph()
    g.add_variables(3)
    g.add_factor([0, 1, 2], np.arange(1.0, 9.0).reshape(2, 2, 2))
    cg = g.compile()
    ev = {0: 1, 1: 0, 2: 1}
    assert close(exact.log_z(cg, ev), math.log(6.0), 1e-15)
    assert exact.factor_marginals(cg, ev)[0][1, 0, 1] == 1.0
    x, s = exact.map_state(cg, ev)
    assert x.tolist() == [1, 0, 1] and close(s, math.log(6.0), 1e-15)


def test_evidence_by_name_and_zero_states_pruned():
    g = FactorGraph()
    g.add_variables(card=[2, 3], names=["rain", "wet"])
    g.add_factor([0, 1], [[1.0, 0.0, 1.0], [0.0, 0.0, 2.0]])  # wet = 1 is impossible
    cg = g.compile()
    m = exact.marginals(cg, {"rain": 1})
    assert m[1].tolist() == [0.0, 0.0, 1.0]
    assert exact.marginals(cg)[1][1] == 0.0
    assert exact.elimination_order(cg).log2_size == 2.0  # 2 x 2 after pruning wet = 1


def test_hard_constraints_with_zero_z():
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity([[0, 1], [1, 2], [0, 2]], target=[0, 0, 1])  # x0=x1, x1=x2, x0!=x2: impossible
    cg = g.compile()
    assert exact.log_z(cg) == -math.inf
    assert exact.log_z(cg, method="brute") == -math.inf
    for f in (exact.marginals, exact.factor_marginals, exact.map_state, exact.infer):
        with pytest.raises(ValueError, match="Z = 0"):
            f(cg)


def test_contradictory_evidence_gives_zero_z():
    g = FactorGraph()
    g.add_variables(2)
    g.add_parity([0, 1])  # x0 = x1
    g.add_log_evidence(0, [0.0, -np.inf])  # x0 = 0
    cg = g.compile()
    assert exact.log_z(cg, {1: 1}) == -math.inf  # propagated through the hard check
    assert exact.log_z(cg, {0: 1}) == -math.inf  # evidence on a zero-weight state
    with pytest.raises(ValueError, match="Z = 0"):
        exact.marginals(cg, {0: 1})
    with pytest.raises(ValueError, match="Z = 0"):
        exact.map_state(cg, {1: 1})
    assert exact.map_state(cg)[0].tolist() == [0, 0]


def test_map_ties_are_jointly_consistent():
    # libDAI maxprodbug: x1 = x2 (equality), constant, x2 != x3 (inequality) on a 3-cycle;
    # every max-marginal ties, and an independent argmax gives an invalid state.
    g = FactorGraph()
    g.add_variables(3)
    g.add_factor([0, 1], [[1, 0], [0, 1]])
    g.add_factor([0, 2], [[1, 1], [1, 1]])
    g.add_factor([1, 2], [[0, 1], [1, 0]])
    cg = g.compile()
    x, s = exact.map_state(cg)
    assert s == 0.0 and x.tolist() in ([0, 0, 1], [1, 1, 0])
    assert exact.log_z(cg) == math.log(2)
    # the same in every order of construction
    for perm in ([2, 1, 0], [1, 2, 0]):
        h = FactorGraph()
        h.add_variables(3)
        inv = np.argsort(perm)
        h.add_factor([inv[0], inv[1]], [[1, 0], [0, 1]])
        h.add_factor([inv[1], inv[2]], [[0, 1], [1, 0]])
        x, s = exact.map_state(h.compile())
        assert s == 0.0 and math.isfinite(h.compile().log_score(x))


def test_brute_force_result_fields():
    g = FactorGraph()
    g.add_variables(card=[2, 3])
    t = np.arange(1.0, 7.0).reshape(2, 3)
    g.add_factor([1, 0], t.T)
    bf = exact.brute_force(g.compile())
    assert bf.log_weights.shape == (6,) and not bf.log_weights.flags.writeable
    np.testing.assert_allclose(bf.log_weights, np.log(t.ravel()), atol=1e-15)
    assert bf.map_state.tolist() == [1, 2] and close(bf.map_score, math.log(6), 1e-15)
    np.testing.assert_allclose(bf.factor_marginals[0], t.T / 21, atol=1e-15)


def test_elimination_order():
    L = 6
    idx = np.arange(L * L).reshape(L, L)
    edges = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])
    g = FactorGraph()
    g.add_variables(L * L)
    g.add_ising(edges, 0.1)
    cg = g.compile()
    for h in exact.HEURISTICS:
        order, width = exact.elimination_order(cg, h)
        assert sorted(order.tolist()) == list(range(L * L)) and order.dtype == np.int64
        assert L <= width <= 2 * L
        again = exact.elimination_order(cg, h)
        assert np.array_equal(again.order, order)  # deterministic
        assert again.log2_size == width + 1
    assert exact.elimination_order(cg).width == L  # min-fill finds the optimum on a grid
    # observed variables come first and do not count
    eo = exact.elimination_order(cg, evidence={0: 1, 7: 0})
    assert eo.order[:2].tolist() == [0, 7]
    # a tree has width 1; a graph without factors width 0
    assert exact.elimination_order(ising_ring(5, 1.0), "min-degree").width == 2
    empty = FactorGraph()
    empty.add_variables(3)
    assert exact.elimination_order(empty.compile()).width == 0


def _min_fill_reference(n, edges, cards):
    """Greedy min-fill from scratch at every step (ties: weight, then index)."""
    adj = {v: set() for v in range(n)}
    for i, j in edges:
        adj[i].add(j)
        adj[j].add(i)
    order = []
    while adj:
        def key(v):
            nb = adj[v]
            fill = (sum(len(nb - adj[u]) for u in nb) - len(nb)) // 2
            return (fill, math.prod(int(cards[u]) for u in nb | {v}), v)
        v = min(adj, key=key)
        nb = adj.pop(v)
        order.append(v)
        for u in nb:
            adj[u].discard(v)
            adj[u].update(nb - {u})
    return order


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_min_fill_matches_reference(seed):
    # the incremental fill bookkeeping of elimination_order against recomputation from scratch
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    p = rng.random() * 0.4
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    cards = rng.integers(2, 4, size=n)
    g = FactorGraph()
    g.add_variables(card=cards)
    for i, j in edges:
        g.add_factor([i, j], np.ones((cards[i], cards[j])))
    order, _ = exact.elimination_order(g.compile())
    assert order.tolist() == _min_fill_reference(n, edges, cards)


# ============================================================== bad input
def test_bad_input_errors():
    g = FactorGraph()
    g.add_variables(3)
    g.add_ising([[0, 1], [1, 2]], 1.0)
    cg = g.compile()
    with pytest.raises(TypeError, match=r"\.compile\(\)"):
        exact.log_z(g)
    with pytest.raises(TypeError, match="CompiledGraph"):
        exact.marginals(np.zeros(3))
    with pytest.raises(TypeError, match="mapping"):
        exact.log_z(cg, [0, 1])
    with pytest.raises(ValueError, match="unknown variable 5"):
        exact.marginals(cg, {5: 0})
    with pytest.raises(ValueError, match="outside 0..1"):
        exact.map_state(cg, {0: 2})
    with pytest.raises(TypeError, match="must be an int"):
        exact.log_z(cg, {0: True})
    with pytest.raises(ValueError, match="method"):
        exact.log_z(cg, method="bp")
    with pytest.raises(ValueError, match="heuristic"):
        exact.elimination_order(cg, "min-foo")
    with pytest.raises(ValueError, match="max_width"):
        exact.log_z(cg, max_width=-1)
    with pytest.raises(TypeError, match="max_width"):
        exact.log_z(cg, max_width="big")
    with pytest.raises(ValueError, match="max_states"):
        exact.brute_force(cg, max_states=0)


def test_width_limit_is_clear_and_settable():
    L = 12
    idx = np.arange(L * L).reshape(L, L)
    edges = np.concatenate([np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
                            np.stack([idx[:-1].ravel(), idx[1:].ravel()], 1)])
    g = FactorGraph()
    g.add_variables(L * L)
    g.add_ising(edges, 0.1)
    cg = g.compile()
    order, width = exact.elimination_order(cg)
    assert width >= L  # the treewidth of the grid
    k = width + 1
    msg = rf"2\^{k}\.0 entries \({k} variables; induced width {width} .*max_width={k} "
    for f in (exact.log_z, exact.marginals, exact.map_state):
        with pytest.raises(ValueError, match=msg):
            f(cg, max_width=10)
    assert math.isfinite(exact.log_z(cg, max_width=width + 1))
    assert math.isfinite(exact.log_z(cg, max_width=None))
    big = FactorGraph()
    big.add_variables(40 * 40)
    i2 = np.arange(1600).reshape(40, 40)
    big.add_ising(np.stack([i2[:, :-1].ravel(), i2[:, 1:].ravel()], 1), 0.1)
    big.add_ising(np.stack([i2[:-1].ravel(), i2[1:].ravel()], 1), 0.1)
    with pytest.raises(ValueError, match="max_width=25"):  # the default refuses width 40
        exact.log_z(big.compile())


def test_brute_force_refuses_large_graphs():
    g = FactorGraph()
    g.add_variables(23)
    with pytest.raises(ValueError, match=r"8388608 joint states .*max_states=4194304"):
        exact.brute_force(g.compile())
    with pytest.raises(ValueError, match="max_states=100"):
        exact.brute_force(g.compile(), max_states=100)
    with pytest.raises(ValueError, match="max_states"):
        exact.log_z(g.compile(), method="brute")
    assert exact.log_z(g.compile()) == pytest.approx(23 * math.log(2), abs=1e-12)


# ============================================================ external files
@functools.cache
def _read_cached(path, evid):
    return fgraph.read(path, evidence=evid) if evid else fgraph.read(path)


def read(external, rel, evid=False):
    path = external / rel
    if not path.exists():
        pytest.fail(f"{path} not found: the external oracle files are incomplete")
    ev = str(path) + ".evid" if evid else None
    return _read_cached(str(path), ev)


@pytest.fixture(scope="module")
def expected(external):
    return json.loads((external / "expected_values.json").read_text())


def label_index(g, label):
    """Index of the variable labelled ``label`` in a libDAI file (var_names, else sorted labels)."""
    if g.var_names is not None and str(label) in g.var_names:
        return g.var_names.index(str(label))
    return int(label)


UAI = ["Grids_12", "Segmentation_11", "Promedus_34", "ObjectDetection_11",
       pytest.param("Grids_11", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", UAI)
def test_uai2014_log_z(external, expected, name):
    g = read(external, f"uai2014/{name}.uai", evid=name == "Promedus_34")
    exp = expected[f"uai2014/{name}"]
    lz = exact.log_z(g)
    assert abs(lz - exp["lnZ"]) < 1e-9 * abs(exp["lnZ"])
    assert abs(lz / math.log(10) - exp["log10Z_official"]) < 1e-3  # the official UAI'14 PR value


@pytest.mark.parametrize("name", ["Grids_12", "Segmentation_11", "Promedus_34",
                                  pytest.param("ObjectDetection_11", marks=pytest.mark.slow),
                                  pytest.param("Grids_11", marks=pytest.mark.slow)])
def test_uai2014_map_and_marginals(external, expected, name):
    g = read(external, f"uai2014/{name}.uai", evid=name == "Promedus_34")
    exp = expected[f"uai2014/{name}"]
    want = exp.get("map_ln_score_COMP", exp.get("map_ln_score_with_evidence_COMP"))
    x, score = exact.map_state(g)
    assert abs(score - want) < 1e-9 * abs(want) and score == g.log_score(x)
    res = exact.infer(g)
    assert abs(res.log_z - exp["lnZ"]) < 1e-9 * abs(exp["lnZ"])
    for i, p in enumerate(res.marginals):
        assert p.shape == (g.card[i],) and np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-12
    for i, s in g.evidence().items():
        assert res.marginals[i][s] == 1.0


def test_promedus_34_marginals_match_mar_file(external):
    g = read(external, "uai2014/Promedus_34.uai", evid=True)
    assert g.evidence() == {29: 1, 16: 1, 173: 1}
    tok = (external / "uai2014/Promedus_34.uai.MAR").read_text().split()
    assert tok[0] == "MAR" and int(tok[1]) == g.n_var
    pos, ref = 2, []
    for _ in range(g.n_var):
        k = int(tok[pos])
        ref.append(np.array([float(t) for t in tok[pos + 1 : pos + 1 + k]]))
        pos += 1 + k
    assert_all_close(exact.marginals(g), ref, 1e-6)


def test_object_detection_zeros_give_no_nan(external):
    g = read(external, "uai2014/ObjectDetection_11.uai")
    assert any(np.any(np.isneginf(g.log_table(a))) for a in range(g.n_fac))  # hard zeros
    assert math.isfinite(exact.log_z(g))


def test_libdai_testfast(external, expected):
    g = read(external, "libdai/testfast.fg")
    exp = expected["libdai/testfast.fg"]
    assert close(exact.log_z(g), exp["exact_lnZ"], 1e-12)
    m = exact.marginals(g)
    p0 = np.array([m[label_index(g, k)][0] for k in range(16)])
    np.testing.assert_allclose(p0, exp["exact_p0"], atol=exp["marginal_tol"])
    x, s = exact.map_state(g)
    assert close(s, exp["map_ln_score"], 1e-12)
    assert [int(x[label_index(g, k)]) for k in range(16)] == exp["map_state"]
    bf = exact.brute_force(g)
    assert close(bf.log_z, exp["exact_lnZ"], 1e-12) and close(bf.map_score, s, 1e-12)
    assert_all_close(exact.factor_marginals(g), bf.factor_marginals)  # what BP beliefs are compared to


@pytest.mark.parametrize("name", ["alarm", "hoi1", "hoi2", "hoi3", "hoi4", "twofactors", "zeroes1"])
def test_libdai_log_z(external, expected, name):
    g = read(external, f"libdai/{name}.fg")
    want = expected[f"libdai/{name}.fg"]["lnZ"]
    assert close(exact.log_z(g), want, 1e-9)
    if math.prod(int(c) for c in g.card) <= 2**16:
        assert close(exact.brute_force(g).log_z, want, 1e-9)
    else:
        m = exact.marginals(g)
        assert all(abs(p.sum() - 1) < 1e-12 for p in m)


def test_libdai_zeroes1(external, expected):
    g = read(external, "libdai/zeroes1.fg")
    exp = expected["libdai/zeroes1.fg"]
    m = exact.marginals(g)
    for label, p0 in exp["p0"].items():
        assert abs(m[label_index(g, label[1:])][0] - p0) < 1e-10
    x, s = exact.map_state(g)
    assert close(s, math.log(exp["map_value"]), 1e-12)
    assert {f"x{k}": int(x[label_index(g, k)]) for k in range(3)} == exp["map_state"]


@pytest.mark.parametrize("name", ["maxprodbug", "jtreemapbug"])
def test_libdai_map_ties(external, expected, name):
    g = read(external, f"libdai/{name}.fg")
    exp = expected[f"libdai/{name}.fg"]
    assert close(exact.log_z(g), math.log(exp["Z"]), 1e-12)
    x, s = exact.map_state(g)
    assert close(s, math.log(exp["map_value"]), 1e-12) and s == g.log_score(x)
    decoded = {f"x{lab}": int(x[label_index(g, lab)]) for lab in
               (int(k[1:]) for k in exp["map_states"][0])}
    assert decoded in exp["map_states"]


def test_asia(external, expected):
    g = read(external, "asia/asia.uai")
    exp = expected["asia/asia.uai"]
    v = {name: k for k, name in enumerate(exp["vars"])}
    yes = 0
    assert abs(exact.marginals(g)[v["dysp"]][yes] - exp["P(dysp=yes)"]) < 1e-7
    assert abs(exact.marginals(g)[v["either"]][yes] - exp["P(either=yes)"]) < 1e-6
    m = exact.marginals(g, {v["smoke"]: yes})
    assert abs(m[v["dysp"]][yes] - exp["P(dysp=yes|smoke=yes)"]) < 1e-6
    m = exact.marginals(g, {v["dysp"]: yes})
    assert abs(m[v["smoke"]][yes] - exp["P(smoke=yes|dysp=yes)"]) < 1e-10
    m = exact.marginals(g, {v["dysp"]: yes, v["asia"]: yes})
    assert abs(m[v["smoke"]][yes] - exp["P(smoke=yes|dysp=yes,asia=yes)"]) < 1e-10
    # README (COMP): P(lung=yes | xray=yes), P(dysp=yes, xray=yes)
    m = exact.marginals(g, {v["xray"]: yes})
    assert abs(m[v["lung"]][yes] - 0.4887114013) < 1e-9
    lz = exact.log_z(g)
    assert abs(math.exp(exact.log_z(g, {v["dysp"]: yes, v["xray"]: yes}) - lz) - 0.0706701044) < 1e-9
    assert_all_close(exact.marginals(g), exact.brute_force(g).marginals)
