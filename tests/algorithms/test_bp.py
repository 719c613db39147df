"""Belief propagation (algorithms.run_bp): oracle tests.

Oracles used here:

* exact inference (``fgraph.exact``: variable elimination and brute-force
  enumeration, an independent code path) -- BP is exact on trees, for every
  schedule, with and without damping; max-product gives the exact max-marginals
  and a jointly optimal MAP state, also when maxima tie;
* libDAI's own regression output ``testfast.out`` for ``testfast.fg`` (marginals,
  variable/factor total-variation errors, log Z error of BP and max-product);
* published numbers for the Asia network (external README: loopy BP is exact
  except for dysp);
* the Bethe free energy F_B computed here, independently, from the beliefs
  (docs/theory.md §2.3): log Z from the message form equals -F_B at fixed points;
* closed forms (long chains, where a linear-domain computation over/underflows).
"""

import dataclasses
import itertools
import json
import math
import re
from functools import cache

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fgraph
from algorithms import BPConfig, BPProgress, BPResult, bethe_log_z, run_bp
from fgraph import FactorGraph, exact
from fgraph.jit import jit_disabled

SCHEDULES = ("parallel", "sequential", "residual")
TOL = 1e-10
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# =================================================================== helpers
def close_log(a, b, tol=TOL):
    """Equal log-values: both -inf, or within tol * (1 + |a|)."""
    if a == -math.inf or b == -math.inf:
        return a == b
    return abs(a - b) <= tol * (1.0 + abs(a))


def assert_no_nan(r: BPResult):
    for arr in (r.beliefs, r.f2v, r.v2f, r.residuals):
        assert not np.any(np.isnan(arr))
    assert not math.isnan(r.log_z)
    for m in r.marginals:
        assert not np.any(np.isnan(m))
    for a in range(r.graph.n_fac):
        assert not np.any(np.isnan(r.factor_belief(a)))


def max_marginals(bf, graph, scope):
    """Exact max-marginal of ``scope`` (argument order) from brute-force log-weights, max 1."""
    lw = bf.log_weights.reshape(tuple(int(c) for c in graph.card))
    scope = [int(v) for v in scope]
    m = lw.max(axis=tuple(j for j in range(graph.n_var) if j not in scope))
    m = np.transpose(m, np.argsort(np.argsort(scope)))
    return np.exp(m - m.max())


def random_tree(rng, n_max=12, zeros=0.25, ties=False, max_states=4096):
    """A random factor-graph tree (or None if the draw has no valid compile).

    Variables 2..n_max with cardinalities 1-4 (mixed); factors of arity 2-3 grow
    a spanning tree (each new factor joins one variable already in the tree and
    1-2 new ones, arguments shuffled); unary factors and soft/hard evidence on
    top.  Factor types: ising, potts, parity (hard or soft, target 0/1), table
    (random zeros); ``ties`` makes every potential 1 or 2 (many tied maxima).
    """
    n = int(rng.integers(2, n_max + 1))
    card = rng.integers(1, 5, size=n)
    while np.prod(card) > max_states:
        card[np.argmax(card)] -= 1

    def table(shape):
        if ties:
            t = rng.choice([1.0, 2.0], size=shape) if rng.random() < 0.5 else np.ones(shape)
        else:
            t = rng.random(shape) + 0.05
        if zeros and t.size > 1:
            t = np.where(rng.random(shape) < zeros, 0.0, t)
        if not np.any(t > 0):
            t.flat[rng.integers(t.size)] = 1.0
        return t

    g = FactorGraph()
    g.add_variables(card=card)
    order = [int(v) for v in rng.permutation(n)]
    inside, k = [order[0]], 1
    while k < n:
        arity = int(rng.integers(2, 4)) if n - k >= 2 else 2
        new = order[k : k + arity - 1]
        k += arity - 1
        scope = [int(rng.choice(inside))] + new
        rng.shuffle(scope)
        cs = card[scope]
        kind = int(rng.integers(5))
        if kind == 0 and len(scope) == 2 and np.all(cs == 2):
            g.add_ising(scope, J=0.0 if ties else float(rng.normal(0, 1.5)))
        elif kind == 1 and len(scope) == 2 and cs[0] == cs[1]:
            g.add_potts(scope, J=0.0 if ties else float(rng.normal(0, 1.5)))
        elif kind == 2 and np.all(cs == 2):
            w = math.inf if rng.random() < 0.5 else float(rng.exponential(1.0))
            g.add_parity(scope, weight=w, target=int(rng.integers(2)))
        else:
            g.add_factor(scope, table(tuple(int(c) for c in cs)))
        inside += new
    for i in range(n):
        if rng.random() < 0.3:
            g.add_unary(i, table((int(card[i]),)))
        if rng.random() < 0.3:
            with np.errstate(divide="ignore"):
                lv = np.log(table((int(card[i]),)))
            g.add_log_evidence(i, lv)
    try:
        cg = g.compile()
    except ValueError:  # a variable without any allowed state
        return None
    if rng.random() < 0.5:
        i = int(rng.integers(n))
        allowed = np.flatnonzero(np.isfinite(cg.var_unary[i, : card[i]]))
        cg = cg.with_evidence({i: int(rng.choice(allowed))})
    return cg


# ============================================================ 1. exact on trees
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_sum_product_is_exact_on_random_trees(seed, ties):
    g = random_tree(np.random.default_rng(seed), ties=ties)
    if g is None:
        return
    bf = exact.brute_force(g)
    for schedule in SCHEDULES:
        for damping in (0.0, 0.5):
            r = run_bp(g, schedule=schedule, damping=damping, tol=1e-13, max_iter=3000)
            assert r.converged
            assert_no_nan(r)
            if bf.marginals is None:  # Z = 0: BP on a tree finds the contradiction
                assert r.log_z == -math.inf
                continue
            assert close_log(r.log_z, bf.log_z), (schedule, damping, r.log_z, bf.log_z)
            for got, want in zip(r.marginals, bf.marginals):
                np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
            for a in range(g.n_fac):
                np.testing.assert_allclose(r.factor_belief(a), bf.factor_marginals[a], rtol=0, atol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), ties=st.booleans())
def test_max_product_is_exact_on_random_trees(seed, ties):
    g = random_tree(np.random.default_rng(seed), ties=ties)
    if g is None:
        return
    bf = exact.brute_force(g)
    if bf.marginals is None:
        return
    for schedule in SCHEDULES:
        for damping in (0.0, 0.5):
            r = run_bp(g, mode="max", schedule=schedule, damping=damping, tol=1e-13, max_iter=3000)
            assert r.converged
            assert_no_nan(r)
            for i in range(g.n_var):
                np.testing.assert_allclose(r.marginals[i], max_marginals(bf, g, [i]), rtol=0, atol=TOL)
            # the decoded state is a maximiser (jointly consistent on ties)
            assert close_log(g.log_score(r.map_state), bf.map_score), (schedule, damping)
            # on trees the max-form Bethe expression is the MAP log-score
            assert close_log(r.log_z, bf.map_score)


def chain(n, pair_table, unary=None):
    g = FactorGraph()
    g.add_variables(n, card=np.shape(pair_table)[0])
    g.add_factors(np.stack([np.arange(n - 1), np.arange(1, n)], axis=1), np.asarray(pair_table))
    if unary is not None:
        g.add_unary(np.arange(n), unary)
    return g.compile()


@pytest.mark.parametrize(
    "name, graph",
    [
        # x0 = x1 != x2 = x3 != x4 ...: every max-marginal ties, argmax per variable is invalid
        ("eq-neq chain", None),
        ("uniform tables", chain(6, np.ones((3, 3)))),
        ("anti-ferro Potts chain", chain(7, 1.0 + np.ones((3, 3)) - np.eye(3))),
        ("inequality chain", chain(8, 1.0 - np.eye(2))),
    ],
)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_max_product_ties_on_trees_decode_a_joint_maximiser(name, graph, schedule):
    if graph is None:
        g = FactorGraph()
        g.add_variables(9)
        for i in range(8):
            g.add_factor([i, i + 1], np.eye(2) if i % 2 == 0 else 1.0 - np.eye(2))
        graph = g.compile()
    r = run_bp(graph, mode="max", schedule=schedule)
    assert r.converged
    _, best = exact.map_state(graph)
    # every variable's max-marginal is tied ...
    assert all(np.allclose(m, 1.0) for m in r.marginals)
    # ... yet the decoded state is a maximiser (a per-variable argmax would give all zeros)
    assert close_log(graph.log_score(r.map_state), best)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_libdai_tie_and_zero_files(external, schedule):
    ev = json.loads((external / "expected_values.json").read_text())
    # jtreemapbug.fg: one factor [1, 2, 2, 1]; MAP value 2 at (1, 0) or (0, 1)
    g = fgraph.read(external / "libdai" / "jtreemapbug.fg")
    r = run_bp(g, mode="max", schedule=schedule)
    assert r.map_state.tolist() in ([1, 0], [0, 1])
    assert close_log(g.log_score(r.map_state), math.log(ev["libdai/jtreemapbug.fg"]["map_value"]))
    # maxprodbug.fg: a 3-cycle whose max-marginals all tie; MAP value 1
    g = fgraph.read(external / "libdai" / "maxprodbug.fg")
    r = run_bp(g, mode="max", schedule=schedule)
    states = [[s[f"x{k}"] for k in (1, 2, 3)] for s in ev["libdai/maxprodbug.fg"]["map_states"]]
    assert r.map_state.tolist() in states
    # zeroes1.fg: a chain with a hard unary and zeros (a tree): Z = 9, MAP (1, 0, 1) with value 4
    want = ev["libdai/zeroes1.fg"]
    g = fgraph.read(external / "libdai" / "zeroes1.fg")
    r = run_bp(g, schedule=schedule, tol=1e-13)
    assert close_log(r.log_z, want["lnZ"])
    for k in range(3):
        assert abs(r.marginals[k][0] - want["p0"][f"x{k}"]) < 1e-9
    r = run_bp(g, mode="max", schedule=schedule)
    assert r.map_state.tolist() == [want["map_state"][f"x{k}"] for k in range(3)]
    assert close_log(r.log_z, math.log(want["map_value"]))


# ==================================================== 2. libDAI testfast.fg/.out
def parse_libdai_out(text):
    """Blocks of libDAI's testall output: name -> (error columns as strings, {label: (p0, p1)})."""
    blocks = {}
    name = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# ("):
            m = re.match(r"# \(\{x(\d+)\}, \(([^,]+), ([^)]+)\)\)", line)
            blocks[name][1][int(m.group(1))] = (m.group(2).strip(), m.group(3).strip())
        elif line.startswith("#"):
            continue
        else:
            cols = line.split("\t")
            name = cols[0].strip()
            errs = [c.strip() for c in cols[1:] if c.strip()]
            blocks[name] = (errs, {})
    return blocks


def printed_close(value, printed):
    """``value`` agrees with a '%.3e' string to its printed precision (libDAI clips at 1e-9)."""
    want = float(printed)
    exp10 = int(printed.lower().split("e")[1])
    return abs(max(value, 1e-9) - want) <= 0.5 * 10.0 ** (exp10 - 3) * (1 + 1e-9)


def tv(p, q):
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


@pytest.fixture(scope="module")
def testfast(external):
    g = fgraph.read(external / "libdai" / "testfast.fg")
    blocks = parse_libdai_out((external / "libdai" / "testfast.out").read_text())
    ex = exact.infer(g, factors=True)
    bf = exact.brute_force(g)
    var_of = {int(name): i for i, name in enumerate(g.var_names)}  # libDAI label -> our id
    return g, blocks, ex, bf, var_of


@cache
def _testfast_run(path, schedule, mode):
    return run_bp(fgraph.read(path), schedule=schedule, mode=mode, tol=1e-9, max_iter=10000, damping=0.0)


BP_BLOCKS = ["BP", "BP_SEQFIX", "BP_SEQRND", "BP_SEQMAX", "BP_PARALL"]
BP_BLOCKS += [b + "_LOG" for b in BP_BLOCKS[1:]]


def test_testfast_reference_blocks_parse(testfast, external):
    g, blocks, ex, _, var_of = testfast
    for name in BP_BLOCKS + ["EXACT", "MP_SEQFIX", "MP_PARALL", "JTREE_MINFILL_HUGIN_MAP"]:
        assert name in blocks and len(blocks[name][1]) == 16, name
    # our exact marginals reproduce libDAI's EXACT block (checks the label mapping too)
    for label, (p0, p1) in blocks["EXACT"][1].items():
        np.testing.assert_allclose(ex.marginals[var_of[label]], [float(p0), float(p1)], atol=5e-5, rtol=0)
    want = json.loads((external / "expected_values.json").read_text())["libdai/testfast.fg"]
    assert close_log(ex.log_z, want["exact_lnZ"])


@pytest.mark.parametrize("block", BP_BLOCKS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_testfast_bp_matches_libdai(testfast, external, block, schedule):
    g, blocks, ex, _, var_of = testfast
    r = _testfast_run(str(external / "libdai" / "testfast.fg"), schedule, "sum")
    assert r.converged
    errs, margs = blocks[block]
    for label, (p0, p1) in margs.items():
        np.testing.assert_allclose(r.marginals[var_of[label]], [float(p0), float(p1)], atol=5e-5, rtol=0)
    var_err = [tv(r.marginals[i], ex.marginals[i]) for i in range(g.n_var)]
    fac_err = [tv(r.factor_belief(a), ex.factor_marginals[a]) for a in range(g.n_fac)]
    max_var, avg_var, max_fac, avg_fac, logz_err, maxdiff = errs
    assert printed_close(max(var_err), max_var)
    assert printed_close(float(np.mean(var_err)), avg_var)
    assert printed_close(max(fac_err), max_fac)
    assert printed_close(float(np.mean(fac_err)), avg_fac)
    assert logz_err.startswith("+") and printed_close(r.log_z - ex.log_z, logz_err)
    assert printed_close(r.residuals[-1], maxdiff)  # both below tol: printed as the clip 1e-9


MP_BLOCKS = ["MP_SEQFIX", "MP_SEQRND", "MP_PARALL", "MP_SEQFIX_LOG", "MP_SEQRND_LOG", "MP_PARALL_LOG"]


@pytest.mark.parametrize("block", MP_BLOCKS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_testfast_max_product_matches_libdai(testfast, external, block, schedule):
    """libDAI prints max-product beliefs normalised to sum 1; errors are against JTREE's exact
    max-marginals (the first block of the MAP section).  Its LOGZ column is not checked: for
    max-product it compares two normalisation-dependent sums (libDAI's JTree accumulates the
    logs of sum-normalisations of max-marginals along its own junction tree), which have no
    counterpart here."""
    g, blocks, _, bf, var_of = testfast
    if block not in blocks:
        pytest.fail(f"{block} not in testfast.out: the reference output changed")
    r = _testfast_run(str(external / "libdai" / "testfast.fg"), schedule, "max")
    assert r.converged
    errs, margs = blocks[block]
    for label, (p0, p1) in margs.items():
        m = r.marginals[var_of[label]]
        np.testing.assert_allclose(m / m.sum(), [float(p0), float(p1)], atol=5e-5, rtol=0)

    def unit(p):
        return p / p.sum()

    # libDAI's JTREE max-marginals are our brute-force max-marginals
    for label, (p0, _) in blocks["JTREE_MINFILL_HUGIN_MAP"][1].items():
        assert abs(unit(max_marginals(bf, g, [var_of[label]]))[0] - float(p0)) < 5e-5
    var_err = [tv(unit(r.marginals[i]), unit(max_marginals(bf, g, [i]))) for i in range(g.n_var)]
    fac_err = [tv(unit(r.factor_belief(a)), unit(max_marginals(bf, g, g.scope(a)))) for a in range(g.n_fac)]
    assert printed_close(max(var_err), errs[0])
    assert printed_close(float(np.mean(var_err)), errs[1])
    assert printed_close(max(fac_err), errs[2])
    assert printed_close(float(np.mean(fac_err)), errs[3])
    want = json.loads((external / "expected_values.json").read_text())["libdai/testfast.fg"]
    assert r.map_state.tolist() == want["map_state"]
    assert abs(g.log_score(r.map_state) - want["map_ln_score"]) < 1e-7
    assert r.map_state.tolist() == bf.map_state.tolist()


# ======================================================================= 3. Asia
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_asia_bp_exact_except_dysp(external, schedule):
    ev = json.loads((external / "expected_values.json").read_text())["asia/asia.uai"]
    g = fgraph.read(external / "asia" / "asia.uai")
    ex = exact.marginals(g)
    r = run_bp(g, schedule=schedule, tol=1e-13, max_iter=10000)
    assert r.converged
    dysp = ev["vars"].index("dysp")
    for i in range(g.n_var):
        if i != dysp:
            np.testing.assert_allclose(r.marginals[i], ex[i], rtol=0, atol=1e-9)
    # state 0 = yes
    assert abs(r.marginals[dysp][0] - ev["BP_no_evidence_P(dysp=yes)_COMP"]) < 1e-6
    assert abs(ex[dysp][0] - ev["P(dysp=yes)"]) < 1e-6
    assert abs(r.marginals[dysp][0] - ex[dysp][0]) > 3e-3  # the loop is visible


# ===================================================== 4. Bethe free energy
def _xlogy(x, logy):
    """x * logy with 0 * (anything) = 0; x > 0 with logy = -inf is a broken belief."""
    x = np.asarray(x, dtype=float)
    logy = np.broadcast_to(logy, x.shape)
    pos = x > 0
    assert not np.any(pos & np.isneginf(logy)), "belief puts mass where the potential is zero"
    return float(np.sum(x[pos] * logy[pos]))


def _log0(p):
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, -np.inf)
    out[p > 0] = np.log(p[p > 0])
    return out


def bethe_free_energy(r: BPResult) -> float:
    """F_B = sum_a sum b_a log(b_a/psi_a) - sum_i (d_i - 1) sum b_i log b_i - sum_i sum b_i log phi_i.

    Computed from the beliefs alone (docs/theory.md §2.3), with 0 log 0 = 0; b_a = 0
    where psi_a = 0 contributes nothing.
    """
    g = r.graph
    F = 0.0
    for a in range(g.n_fac):
        b = r.factor_belief(a)
        F += _xlogy(b, _log0(b)) - _xlogy(b, g.log_table(a))
    deg = np.diff(g.var_ptr)
    for i in range(g.n_var):
        b = r.marginals[i]
        F -= (deg[i] - 1) * _xlogy(b, _log0(b))
        F -= _xlogy(b, g.var_unary[i, : g.card[i]])
    return F


def random_loopy(seed):
    """Small loopy graph: 3-7 variables (card 2-3), n..2n tables of arity 1-3 with 20% zeros, evidence."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    card = rng.integers(2, 4, size=n)
    g = FactorGraph()
    g.add_variables(card=card)
    for _ in range(int(rng.integers(n, 2 * n))):
        scope = rng.choice(n, size=int(rng.integers(1, 4)), replace=False)
        t = rng.random(tuple(card[scope])) + 0.1
        t = np.where(rng.random(t.shape) < 0.2, 0.0, t)
        if not t.any():
            t.flat[0] = 1.0
        g.add_factor(scope, t)
    for i in range(n):
        g.add_log_evidence(i, rng.normal(size=int(card[i])))
    return g.compile()


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_bethe_log_z_equals_minus_free_energy_at_fixed_points(schedule):
    n_checked = 0
    for seed in range(40):
        g = random_loopy(seed)
        if exact.log_z(g) == -math.inf:
            continue
        r = run_bp(g, schedule=schedule, tol=1e-13, max_iter=200)
        if not r.converged:
            continue
        n_checked += 1
        F = bethe_free_energy(r)
        assert abs(r.log_z + F) <= 1e-10 * (1 + abs(F)), (seed, r.log_z, -F)
        assert abs(bethe_log_z(g, r.f2v) - r.log_z) <= 1e-12 * (1 + abs(F))
        # graph-level consistency: b_a sums to b_i on every edge
        for a in range(g.n_fac):
            b = r.factor_belief(a)
            for k, i in enumerate(g.scope(a)):
                other = tuple(j for j in range(b.ndim) if j != k)
                np.testing.assert_allclose(b.sum(axis=other), r.marginals[i], rtol=0, atol=1e-8)
    assert n_checked >= 30


def test_bethe_free_energy_oracle_on_a_tree_is_minus_log_z():
    """The test's own F_B is right: on a tree -F_B(exact marginals) = log Z."""
    g = random_tree(np.random.default_rng(7), zeros=0.3)
    r = run_bp(g, tol=1e-13)
    assert close_log(-bethe_free_energy(r), exact.log_z(g))


# =================================================================== 6. numerics
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("mode", ["sum", "max"])
def test_many_hard_zeros_never_give_nan(schedule, mode):
    for seed in range(15):
        rng = np.random.default_rng(1000 + seed)
        n = 8
        g = FactorGraph()
        g.add_variables(card=rng.integers(1, 4, size=n))
        card = g.cards()
        for _ in range(12):
            scope = rng.choice(n, size=int(rng.integers(1, 4)), replace=False)
            t = (rng.random(tuple(card[scope])) < 0.4) * rng.random(tuple(card[scope]))
            t.flat[rng.integers(t.size)] = 1.0
            g.add_factor(scope, t)
        g.set_evidence({int(rng.integers(n)): 0})
        try:
            cg = g.compile()
        except ValueError:
            continue
        r = run_bp(cg, schedule=schedule, mode=mode, max_iter=50)
        assert_no_nan(r)
        assert r.log_z < math.inf
        assert np.all((r.beliefs >= 0) & (r.beliefs <= 1 + 1e-12))
        assert all(m.shape == (c,) for m, c in zip(r.marginals, cg.card))
        if mode == "max":
            assert np.all((r.map_state >= 0) & (r.map_state < cg.card))


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("mode", ["sum", "max"])
def test_contradiction_found_by_bp_gives_minus_inf_and_zero_beliefs(schedule, mode):
    """Z = 0 that BP sees (a hard parity against evidence; a tree of (in)equalities):
    log_z = -inf and the beliefs are all-zero rows, never NaN."""
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity([0, 1, 2], target=1)
    g.set_evidence({0: 0, 1: 0, 2: 0})
    h = FactorGraph()
    h.add_variables(3)
    h.add_factor([0, 1], np.eye(2))
    h.add_factor([1, 2], 1.0 - np.eye(2))
    h.set_evidence({0: 0, 2: 0})
    for cg in (g.compile(), h.compile()):
        assert exact.log_z(cg) == -math.inf
        r = run_bp(cg, schedule=schedule, mode=mode)
        assert r.log_z == -math.inf
        assert_no_nan(r)
        assert np.all(r.beliefs == 0.0)
        assert all(np.all(r.factor_belief(a) == 0.0) for a in range(cg.n_fac))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_contradiction_unseen_by_bp_stays_finite(schedule):
    """A frustrated cycle of hard parities (x0+x1 = 0, x1+x2 = 0, x0+x2 = 1): Z = 0 but every
    local view is consistent, so BP stays at the uniform fixed point with finite Bethe log Z."""
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity([[0, 1], [1, 2]], target=0)
    g.add_parity([0, 2], target=1)
    cg = g.compile()
    assert exact.log_z(cg) == -math.inf
    r = run_bp(cg, schedule=schedule)
    assert r.converged and math.isfinite(r.log_z)
    assert_no_nan(r)
    np.testing.assert_allclose(r.beliefs, 0.5)


def test_long_chain_no_overflow():
    """log Z ~ 1e5: any linear-domain product overflows; log-domain BP is exact on the chain."""
    n = 2000
    rng = np.random.default_rng(3)
    g = FactorGraph()
    g.add_variables(n)
    g.add_ising(np.stack([np.arange(n - 1), np.arange(1, n)], axis=1), J=rng.normal(0, 10, size=n - 1))
    g.add_field(np.arange(n), rng.normal(0, 10, size=n))
    cg = g.compile()
    want = exact.log_z(cg)
    assert want > 1e4
    for schedule in ("parallel", "sequential"):
        r = run_bp(cg, schedule=schedule, tol=1e-12, max_iter=n + 10)
        assert r.converged
        assert abs(r.log_z - want) <= 1e-10 * want
        assert np.allclose(r.beliefs.sum(axis=1), 1.0)


@pytest.mark.slow
def test_million_variable_grid_three_sweeps():
    g = fgraph.problems.ising_grid(1000, J=0.2, h=0.1).graph
    assert g.n_var == 10**6
    r = run_bp(g, max_iter=3)
    assert r.n_iter == 3 and not r.converged
    assert math.isfinite(r.log_z)
    # per-site Bethe log Z is between the decoupled value and a crude upper bound
    assert math.log(2 * math.cosh(0.1)) < r.log_z / g.n_var < 2 * 0.2 + math.log(2 * math.cosh(0.1)) + 0.2
    assert not np.any(np.isnan(r.beliefs))
    np.testing.assert_allclose(r.beliefs.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(r.marginals[500_500] > 0)


def antiferro_k4():
    g = FactorGraph()
    g.add_variables(4)
    g.add_ising(list(itertools.combinations(range(4), 2)), J=-2.0)
    g.add_field(np.arange(4), 0.1)
    return g.compile()


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_non_convergence_is_reported(schedule, external):
    # a frustrated antiferromagnet at low temperature: the messages oscillate
    r = run_bp(antiferro_k4(), schedule=schedule, max_iter=200)
    assert not r.converged
    assert r.n_iter == 200 == r.residuals.size
    assert r.residuals[-1] > 0.5
    assert_no_nan(r)
    np.testing.assert_allclose(r.beliefs.sum(axis=1), 1.0)
    # too few sweeps on a loopy graph
    g = fgraph.read(external / "libdai" / "testfast.fg")
    r = run_bp(g, schedule=schedule, max_iter=2)
    assert not r.converged and r.n_iter == 2


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_converged_iff_last_residual_below_tol(schedule):
    # damping makes the oscillating antiferromagnet converge; converged is then honest
    r = run_bp(antiferro_k4(), schedule=schedule, damping=0.5, max_iter=3000)
    assert r.converged and r.residuals[-1] < r.config.tol
    for seed in range(25):
        g = random_loopy(seed)
        for tol in (1e-3, 1e-9):
            r = run_bp(g, schedule=schedule, tol=tol, max_iter=300)
            assert r.converged == bool(r.residuals[-1] < tol), (seed, tol, r.residuals[-3:])
            assert r.n_iter == r.residuals.size
            if r.converged and r.log_z > -math.inf:
                # one more parallel sweep from the returned messages moves them by < tol (+ slack)
                again = run_bp(g, init=r.f2v, schedule="parallel", tol=tol, max_iter=1)
                assert again.residuals[0] < 10 * tol + 1e-12


# ======================================================================== 7. API
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"mode": "min"}, "mode"),
        ({"schedule": "random"}, "schedule"),
        ({"damping": 1.0}, "damping"),
        ({"damping": -0.1}, "damping"),
        ({"damping": float("nan")}, "damping"),
        ({"damping": True}, "damping"),
        ({"tol": 0.0}, "tol"),
        ({"tol": math.inf}, "tol"),
        ({"tol": "1e-9"}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 10.0}, "max_iter"),
        ({"n_threads": 0}, "n_threads"),
        ({"n_threads": 1.5}, "n_threads"),
        ({"fast_paths": 1}, "fast_paths"),
    ],
)
def test_config_validation_names_the_field(kwargs, field):
    with pytest.raises((ValueError, TypeError), match=field):
        BPConfig(**kwargs)
    g = antiferro_k4()
    with pytest.raises((ValueError, TypeError), match=field):
        run_bp(g, **kwargs)


def test_config_identify_and_overrides():
    assert BPConfig().identify() == "BP[mode=sum,schedule=parallel,damping=0,tol=1e-09,max_iter=1000]"
    c = BPConfig(mode="max", damping=0.25, tol=1e-6, max_iter=50, schedule="residual", n_threads=1,
                 fast_paths=False)
    assert c.identify() == (
        "BP[mode=max,schedule=residual,damping=0.25,tol=1e-06,max_iter=50,n_threads=1,fast_paths=False]"
    )
    assert c == BPConfig(mode="max", damping=0.25, tol=1e-6, max_iter=50, schedule="residual", n_threads=1,
                         fast_paths=False)
    assert hash(c) == hash(dataclasses.replace(c))
    g = antiferro_k4()
    r = run_bp(g, c, damping=0.5, max_iter=7)
    assert r.config == dataclasses.replace(c, damping=0.5, max_iter=7)
    assert r.config.identify() in r.summary()
    with pytest.raises(TypeError, match="bogus"):
        run_bp(g, c, bogus=1)
    with pytest.raises(TypeError, match="BPConfig"):
        run_bp(g, {"damping": 0.5})
    with pytest.raises(TypeError, match="compile"):
        run_bp(FactorGraph())
    with pytest.raises(TypeError, match="callable"):
        run_bp(g, callback=3)


def small_tree():
    return random_tree(np.random.default_rng(11), zeros=0.0)


def test_init_uniform_random_and_seed():
    tree = small_tree()
    a = run_bp(tree)
    b = run_bp(tree, init="uniform")
    assert np.array_equal(a.f2v, b.f2v) and a.log_z == b.log_z
    loopy = random_loopy(2)
    r1 = run_bp(loopy, init="random", seed=5, max_iter=1)
    r2 = run_bp(loopy, init="random", seed=5, max_iter=1)
    r3 = run_bp(loopy, init="random", seed=6, max_iter=1)
    assert np.array_equal(r1.f2v, r2.f2v)
    assert not np.array_equal(r1.f2v, r3.f2v)  # different starting points
    r4 = run_bp(loopy, init="random", seed=np.random.default_rng(5), max_iter=1)
    assert np.array_equal(r1.f2v, r4.f2v)
    # same fixed point on a tree from any start
    ex = exact.marginals(tree)
    for seed in (1, 2, 3):
        r = run_bp(tree, init="random", seed=seed, tol=1e-13)
        assert r.converged
        for got, want in zip(r.marginals, ex):
            np.testing.assert_allclose(got, want, atol=TOL, rtol=0)
    with pytest.raises(ValueError, match="init"):
        run_bp(tree, init="zeros")


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_warm_start(schedule, external):
    g = fgraph.read(external / "libdai" / "testfast.fg")
    cold = run_bp(g, schedule=schedule, tol=1e-10, max_iter=1000)
    assert cold.converged and cold.n_iter > 3
    warm = run_bp(g, init=cold.f2v, schedule=schedule, tol=1e-10)
    assert warm.converged and warm.n_iter <= 2
    np.testing.assert_allclose(warm.beliefs, cold.beliefs, atol=1e-9)
    # an unnormalised (shifted) warm start is accepted and normalised
    shifted = np.where(np.isneginf(cold.f2v), -np.inf, cold.f2v + 3.0)
    assert run_bp(g, init=shifted, schedule=schedule, tol=1e-10).n_iter <= 2


def test_init_array_rejected():
    g = random_loopy(3)
    good = run_bp(g).f2v
    with pytest.raises(ValueError, match="shape"):
        run_bp(g, init=good[:-1])
    with pytest.raises(ValueError, match="shape"):
        run_bp(g, init=good.ravel())
    for bad_value in (np.nan, np.inf):
        bad = good.copy()
        bad[0, 0] = bad_value
        with pytest.raises(ValueError, match="NaN"):
            run_bp(g, init=bad)
    bad = good.copy()
    bad[1, :] = -np.inf
    with pytest.raises(ValueError, match="edge 1"):
        run_bp(g, init=bad)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_callback_progress_and_early_stop(schedule, external):
    g = fgraph.read(external / "libdai" / "testfast.fg")
    seen = []

    def cb(p):
        assert isinstance(p, BPProgress)
        assert p.graph is g
        assert not p.f2v.flags.writeable
        assert p.f2v.shape == (g.n_edge, g.q_max)
        x = p.hard_decision()
        assert x.dtype == np.int64 and x.shape == (g.n_var,)
        assert np.all((x >= 0) & (x < g.card))
        lb = p.log_beliefs()
        np.testing.assert_allclose(np.exp(lb).sum(axis=1), 1.0)
        seen.append((p.iteration, p.residual))
        return p.iteration == 3

    r = run_bp(g, schedule=schedule, callback=cb, max_iter=100)
    assert r.stopped_early and r.n_iter == 3 and not r.converged
    assert [s[0] for s in seen] == [1, 2, 3]
    np.testing.assert_array_equal(r.residuals, [s[1] for s in seen])
    # a callback that never stops changes nothing
    full = run_bp(g, schedule=schedule, callback=lambda p: None, max_iter=100)
    plain = run_bp(g, schedule=schedule, max_iter=100)
    assert not full.stopped_early and full.converged
    assert np.array_equal(full.f2v, plain.f2v) and full.n_iter == plain.n_iter


def test_results_are_read_only():
    r = run_bp(small_tree(), mode="max")
    for arr in (r.f2v, r.v2f, r.beliefs, r.residuals, r.map_state):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 0
    f2v, v2f = r.messages
    assert f2v is r.f2v and v2f is r.v2f
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.log_z = 0.0
    # marginals are copies: editing one does not touch the result
    m = r.marginals[0]
    m[...] = -1
    assert np.all(r.beliefs >= 0)


def test_messages_are_normalised_with_minus_inf_padding():
    g = random_tree(np.random.default_rng(30), zeros=0.3)
    for mode in ("sum", "max"):
        r = run_bp(g, mode=mode)
        card_e = g.card[g.edge_var]
        pad = np.arange(g.q_max)[None, :] >= card_e[:, None]
        assert np.all(np.isneginf(r.f2v[pad])) and np.all(np.isneginf(r.v2f[pad]))
        assert np.all(r.beliefs[np.arange(g.q_max)[None, :] >= g.card[:, None]] == 0.0)
        with np.errstate(under="ignore"):
            p = np.exp(r.f2v)
        if mode == "sum":
            np.testing.assert_allclose(p.sum(axis=1), 1.0)
            np.testing.assert_allclose(r.beliefs.sum(axis=1), 1.0)
        else:
            np.testing.assert_allclose(p.max(axis=1), 1.0)
            np.testing.assert_allclose(r.beliefs.max(axis=1), 1.0)


def test_marginals_format_matches_exact():
    g = random_tree(np.random.default_rng(4))
    r = run_bp(g)
    ex = exact.marginals(g)
    assert isinstance(r.marginals, list) and len(r.marginals) == len(ex) == g.n_var
    for got, want in zip(r.marginals, ex):
        assert type(got) is type(want) is np.ndarray
        assert got.ndim == 1 and got.shape == want.shape and got.dtype == want.dtype == np.float64
    assert r.map_state is None
    assert len(r.factor_beliefs()) == g.n_fac
    with pytest.raises(IndexError):
        r.factor_belief(g.n_fac)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_threads_do_not_change_results(schedule):
    L = 24 if schedule == "parallel" else 12
    g = fgraph.problems.ising_grid(L, J="gauss", h="gauss", J_scale=0.5, h_scale=0.3, seed=1).graph
    r1 = run_bp(g, schedule=schedule, n_threads=1, max_iter=20)
    r2 = run_bp(g, schedule=schedule, n_threads=2, max_iter=20)
    assert np.array_equal(r1.f2v, r2.f2v)  # bitwise: each thread owns whole rows
    assert np.array_equal(r1.residuals, r2.residuals)
    assert r1.log_z == r2.log_z or abs(r1.log_z - r2.log_z) < 1e-12 * abs(r1.log_z)
    if not jit_disabled():
        with pytest.raises(ValueError, match="n_threads"):
            run_bp(g, n_threads=numba.config.NUMBA_NUM_THREADS + 1)
