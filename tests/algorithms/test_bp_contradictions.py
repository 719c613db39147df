"""BP results say when they describe no state of the model (BPResult.consistent / contradiction).

Oracles: exact inference (log Z = -inf exactly when the model has no state of
positive weight) and brute-force enumeration of small parity systems.
"""

import dataclasses
import itertools

import numpy as np
import pytest

import fgraph
from algorithms import run_bp
from fgraph import exact
from fgraph.problems import ldpc, regular_ldpc


def contradictory_parity():
    g = fgraph.FactorGraph()
    g.add_variables(3)
    g.add_parity([[0, 1], [1, 2]], target=0)
    g.add_parity([0, 2], target=1)  # x0 = x1 = x2 and x0 != x2
    return g.compile()


@pytest.mark.parametrize("schedule", ["parallel", "sequential", "residual"])
@pytest.mark.parametrize("fast", [True, False])
def test_sum_product_on_a_contradictory_parity_system_says_so(schedule, fast):
    g = contradictory_parity()
    assert exact.log_z(g) == -np.inf
    r = run_bp(g, schedule=schedule, fast_paths=fast)
    assert r.converged  # BP itself sees nothing: uniform messages are a fixed point
    assert not r.consistent
    assert "GF(2)" in r.contradiction and "Z = 0" in r.contradiction
    assert "CONTRADICTION" in r.summary()


@pytest.mark.parametrize("schedule", ["parallel", "sequential", "residual"])
def test_max_product_with_z_zero_flags_its_map_state(schedule):
    g = fgraph.FactorGraph()
    g.add_variables(2)
    g.add_factor([0, 1], [[1.0, 0.0], [0.0, 1.0]])  # x0 == x1
    g.add_factor([0, 1], [[0.0, 1.0], [1.0, 0.0]])  # x0 != x1
    cg = g.compile()
    assert exact.log_z(cg) == -np.inf
    r = run_bp(cg, mode="max", schedule=schedule)
    assert r.map_state is not None and cg.log_score(r.map_state) == -np.inf
    assert not r.consistent and "decoded MAP state has zero weight" in r.contradiction


def test_evidence_that_breaks_a_parity_check_and_a_variable_without_states():
    g = fgraph.FactorGraph()
    g.add_variables(3)
    g.add_parity([0, 1, 2], target=0)
    cg = g.compile()
    assert run_bp(cg).consistent
    bad = cg.with_evidence({0: 1, 1: 0, 2: 0})
    assert exact.log_z(bad) == -np.inf
    r = run_bp(bad)
    assert not r.consistent
    # the builder refuses evidence that is zero in every state; a compiled graph can still carry it
    h = fgraph.FactorGraph()
    h.add_variables(2)
    h.add_ising([0, 1], J=0.5)
    cg = h.compile()
    unary = np.array(cg.var_unary)
    unary[0] = -np.inf
    r = run_bp(dataclasses.replace(cg, var_unary=unary))
    assert not r.consistent and "variable 0 has no allowed state" in r.contradiction


def test_consistent_results_say_so():
    H = regular_ldpc(48, 3, 6, seed=2)
    for channel, kw in (("bec", {"p": 0.3}), ("bsc", {"p": 0.05})):
        prob = ldpc(H, channel, seed=3, **kw)
        r = run_bp(prob.graph, max_iter=100)
        assert r.consistent and r.contradiction is None
        assert "CONTRADICTION" not in r.summary()
    r = run_bp(fgraph.problems.ising_grid(3, J=0.4).graph, mode="max")
    assert r.consistent


def test_a_contradiction_bp_finds_is_reported():
    """Hard evidence propagated by BP through hard tables empties a belief."""
    g = fgraph.FactorGraph()
    g.add_variables(3)
    g.add_factor([0, 1], [[1.0, 0.0], [0.0, 1.0]])  # x0 == x1
    g.add_factor([1, 2], [[1.0, 0.0], [0.0, 1.0]])  # x1 == x2
    cg = g.compile().with_evidence({0: 0, 2: 1})
    r = run_bp(cg, schedule="sequential")
    assert exact.log_z(cg) == -np.inf
    assert not r.consistent


def _brute_force_solvable(n, checks, targets, fixed):
    for x in itertools.product([0, 1], repeat=n):
        if any(x[i] != v for i, v in fixed.items()):
            continue
        if all(sum(x[i] for i in c) % 2 == t for c, t in zip(checks, targets)):
            return True
    return False


def test_hard_parity_consistent_against_brute_force():
    rng = np.random.default_rng(0)
    seen = {True: 0, False: 0}
    for _ in range(150):
        n = int(rng.integers(2, 8))
        m = int(rng.integers(1, 7))
        checks = [sorted(rng.choice(n, size=int(rng.integers(1, min(n, 4) + 1)), replace=False).tolist())
                  for _ in range(m)]
        targets = rng.integers(0, 2, m).tolist()
        fixed = {int(i): int(rng.integers(0, 2)) for i in rng.choice(n, size=int(rng.integers(0, 3)),
                                                                        replace=False)}
        g = fgraph.FactorGraph()
        g.add_variables(n)
        for c, t in zip(checks, targets):
            g.add_parity(c, target=t)
        g.add_parity([0, 1], weight=1.0, target=1)  # a soft check never makes the system inconsistent
        cg = g.compile().with_evidence(fixed) if fixed else g.compile()
        want = _brute_force_solvable(n, checks, targets, fixed)
        assert exact.hard_parity_consistent(cg) == want, (n, checks, targets, fixed)
        seen[want] += 1
    assert min(seen.values()) > 20  # both answers exercised
