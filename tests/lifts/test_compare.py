"""lifts.compare: cover invariance, symmetry breaking between copies, per-copy Bethe log Z,
cycle tables, and exact partition functions of covers (Vontobel).

Oracles: the base BP run (cover invariance is exact), base BP from a biased start (each
copy of a disjoint cover is an independent base run), the closed form of the Ising ring's
average cover partition function (docs/theory.md §3.5), fgraph.exact on small graphs, and
Z_Bethe = Z on trees.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fgraph
import lifts
from algorithms import BPConfig, run_bp
from fgraph import FactorGraph
from fgraph.problems import ising, ising_grid


def ring(n: int, J: float):
    return ising(np.array([[i, (i + 1) % n] for i in range(n)]), J=J).graph


@pytest.mark.parametrize("kernel", ["identity", "uniform", "ring:1.0", "shift", "block:2:0.1"])
def test_uniform_start_stays_lifted(kernel):
    g = ising_grid(4, J="gauss", J_scale=0.6, h="gauss", h_scale=0.2, seed=3).graph
    c = lifts.compare(g, M=4, kernel=kernel, seed=5)
    assert c.invariance_error < 1e-10
    assert c.distance_to_base < 1e-10 and float(c.spread.max()) < 1e-10
    np.testing.assert_allclose(c.log_z_per_copy, c.log_z_base, rtol=0, atol=1e-9)
    assert abs(c.cover_result.log_z - 4 * c.log_z_base) < 1e-9
    assert c.cover_result.n_iter == c.base_result.n_iter


def test_base_fixed_point_lifted_is_a_fixed_point():
    g = ising_grid(4, J=0.3, h=0.1, seed=0).graph
    c = lifts.compare(g, M=3, kernel="uniform", seed=2, init="base", config=BPConfig(tol=1e-12))
    assert c.cover_result.n_iter == 1 and c.invariance_error < 1e-10


def test_disjoint_copies_break_symmetry_like_independent_base_runs():
    """A ferromagnet below its BP critical point, zero field: from uniform messages BP stays
    paramagnetic; a copy tilted toward + (or -) reaches the magnetised fixed point.  With the
    identity kernel each copy is a separate base graph, so each copy's beliefs and Bethe
    log Z must equal a base run started with the same tilt."""
    g = ising_grid(4, J=1.0, h=0.0, seed=0).graph
    M = 4
    c = lifts.compare(g, M=M, kernel="identity", init="asymmetric", tilt=2.0, seed=0,
                      config=BPConfig(tol=1e-12, max_iter=2000))
    assert c.cover_result.converged
    up = np.zeros((g.n_edge, 2))
    up[:, 0], up[:, 1] = 0.0, 2.0
    plus = run_bp(g, init=up, tol=1e-12, max_iter=2000)
    minus = run_bp(g, init=up[:, ::-1].copy(), tol=1e-12, max_iter=2000)
    m_plus = plus.beliefs[:, 1] - plus.beliefs[:, 0]
    assert m_plus.min() > 0.5  # magnetised
    for m in range(M):  # copy m was tilted toward state m mod 2
        ref = plus if m % 2 == 1 else minus
        np.testing.assert_allclose(c.copy_beliefs[:, m], ref.beliefs, atol=1e-8)
        assert abs(c.log_z_per_copy[m] - ref.log_z) < 1e-8
    # copies disagree: half up, half down -> spread, negative overlap, projection at 0
    assert float(c.spread.min()) > 0.4
    assert c.overlap < -0.2
    assert np.allclose(c.projected[:, 1], 0.5, atol=1e-8)
    # the magnetised states have a larger Bethe log Z than the paramagnetic base run
    assert c.log_z_per_copy.min() > c.log_z_base + 1e-3


def test_copy_log_z_sums_to_the_cover_log_z_from_random_messages():
    g = ising_grid(3, J="gauss", J_scale=1.0, seed=4).graph
    c = lifts.compare(g, M=3, kernel="ring:0.7", init="random", seed=9, config=BPConfig(max_iter=50))
    assert abs(c.log_z_per_copy.sum() - c.cover_result.log_z) < 1e-9


def test_cycle_tables_identity_and_uniform():
    g = ising_grid(5, seed=0).graph  # girth 8 on the factor graph (4-cycles of spins)
    ci = lifts.compare(g, M=3, kernel="identity", seed=0, max_length=12)
    base = ci.cycles["base"]
    assert base[8] == 16 and base[4] == 0 and base[6] == 0
    assert ci.cycles["lift"] == {k: 3 * v for k, v in base.items()}
    cu = lifts.compare(g, M=3, kernel="uniform", seed=0, max_length=8)
    expect = int(lifts.lift_cycle_table(cu.lift, 8)[8]["lifted_k"])
    assert cu.cycles["lift"][8] == expect


def test_to_dict_is_json_and_table_mentions_the_numbers():
    g = ising_grid(3, J=0.5, seed=0).graph
    c = lifts.compare(g, M=2, kernel="ring:1.0", seed=1, init="asymmetric")
    d = json.loads(json.dumps(c.to_dict()))
    assert d["M"] == 2 and d["kernel"] == c.lift.kernel and d["init"] == "asymmetric"
    assert set(d["cycles"]) == {"base", "lift"} and len(d["cover"]["log_z_per_copy"]) == 2
    text = c.table()
    assert "Bethe log Z" in text and "spread" in text and c.lift.kernel in text


def test_compare_accepts_an_existing_lift_and_checks_it():
    g = ising_grid(3, seed=0).graph
    L = lifts.lift(g, 2, seed=0)
    c = lifts.compare(g, L, max_length=None)
    assert c.lift is L and c.cycles == {}
    other = ising_grid(4, seed=0).graph
    with pytest.raises(ValueError, match="not a lift"):
        lifts.compare(other, L)
    with pytest.raises(TypeError, match="Lift"):
        lifts.compare(g, g)
    with pytest.raises(TypeError, match="CompiledGraph"):
        lifts.compare("graph.uai")
    with pytest.raises(ValueError, match="init"):
        lifts.compare(g, M=2, init="sideways")
    with pytest.raises(ValueError, match="sum-product"):
        lifts.compare(g, M=2, config=BPConfig(mode="max"))
    with pytest.raises(ValueError, match="M"):
        lifts.compare(g, M=0)


# ------------------------------------------------------------------ Vontobel
@pytest.mark.parametrize("n, M, J", [(4, 2, 0.7), (4, 3, 0.5), (5, 2, 1.2), (3, 4, 0.4)])
def test_cover_log_z_matches_the_ising_ring_closed_form(n, M, J):
    t = math.tanh(J)
    expect = (n * M * math.log(2 * math.cosh(J)) + math.log(sum(t ** (n * j) for j in range(M + 1)))) / M
    r = lifts.cover_log_z(ring(n, J), M)
    assert r.exhaustive and r.n_covers == math.factorial(M)  # one free edge after gauge fixing
    assert abs(r.log_z - expect) < 1e-10 and r.stderr == 0.0


def test_cover_log_z_sampled_agrees_with_enumeration_within_error():
    g = ising_grid(3, J=0.6, h=0.2, seed=1).graph
    full = lifts.cover_log_z(g, 2)  # cycle rank 4: 2!^4 = 16 covers
    assert full.exhaustive and full.n_covers == 16
    est = lifts.cover_log_z(g, 2, max_covers=1, n_samples=300, seed=3)
    assert not est.exhaustive and est.stderr > 0
    assert abs(est.log_z - full.log_z) < 5 * est.stderr


def test_vontobel_covers_interpolate_between_exact_and_bethe():
    """Z_{B,1} = Z exactly; on the Ising ring <Z_M>^(1/M) decreases toward Z_Bethe."""
    g = ring(5, 0.9)
    lz = fgraph.exact.log_z(g)
    bethe = run_bp(g, tol=1e-13).log_z
    vals = [lifts.cover_log_z(g, M).log_z for M in (1, 2, 3, 4)]
    assert abs(vals[0] - lz) < 1e-10
    assert all(a > b for a, b in zip(vals, vals[1:])) and vals[-1] > bethe
    # the gap to Bethe is (1/M) log sum_{j<=M} t^(5j): it shrinks like 1/M
    t = math.tanh(0.9)
    for M, v in zip((1, 2, 3, 4), vals):
        assert abs((v - bethe) - math.log(sum(t ** (5 * j) for j in range(M + 1))) / M) < 1e-9


def test_cover_log_z_on_a_tree_is_exact_and_checks_arguments():
    g = FactorGraph()
    g.add_variables(4)
    g.add_ising([[0, 1], [1, 2], [1, 3]], J=[0.3, -0.8, 1.1])
    c = g.compile()
    r = lifts.cover_log_z(c, 3)
    assert r.n_covers == 1 and abs(r.log_z - fgraph.exact.log_z(c)) < 1e-12
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="M"):
            lifts.cover_log_z(c, bad)
    with pytest.raises(ValueError, match="n_samples"):
        lifts.cover_log_z(c, 2, n_samples=0)
