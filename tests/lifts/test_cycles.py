"""Cycle statistics (lifts.cycles) against networkx, brute force, closed forms and the cover itself."""

import json
import math
import time
import types
from collections import Counter
from itertools import combinations

import networkx as nx
import numpy as np
import pytest

import fgraph
from fgraph import FactorGraph, Wiring, problems
from lifts.cycles import (
    base_cycles,
    count_cycles,
    cycle_table,
    cycle_types,
    girth,
    holonomy,
    lift_cycle_table,
    local_girth,
    nonbacktracking_counts,
)


# ------------------------------------------------------------------------------------- helpers
def pairwise(G):
    """Ising model whose variable graph is the simple graph G (nodes relabelled 0..n-1)."""
    return fgraph.from_networkx(nx.convert_node_labels_to_integers(G))


def random_wiring(seed, n_var=7, n_fac=6, max_arity=3):
    rng = np.random.default_rng(seed)
    scopes = [rng.choice(n_var, size=rng.integers(1, max_arity + 1), replace=False) for _ in range(n_fac)]
    fac_ptr = np.concatenate([[0], np.cumsum([len(s) for s in scopes])])
    return Wiring.from_edges(n_var, fac_ptr, np.concatenate(scopes))


def ldpc_graph(n, dv=3, dc=6, seed=0):
    H = problems.regular_ldpc(n, dv, dc, seed=seed)
    g = FactorGraph()
    g.add_variables(H.shape[1])
    g.add_parity_checks(H)
    return g.compile()


def perceptron_graph(P, N):
    """K_{P,N}: P parity factors, each on all N variables."""
    g = FactorGraph()
    g.add_variables(N)
    g.add_parity([list(range(N))] * P)
    return g.compile()


def factor_nx(g):
    """The factor graph as networkx, with node ids as in lifts.cycles (variables, then n_var + a)."""
    w = g if isinstance(g, Wiring) else g.wiring
    G = nx.Graph()
    G.add_nodes_from(range(w.n_var + w.n_fac))
    G.add_edges_from(zip(w.edge_var.tolist(), (w.n_var + w.edge_fac).tolist()))
    return G


def variable_nx(g):
    w = g.wiring if not isinstance(g, Wiring) else g
    G = nx.Graph()
    G.add_nodes_from(range(w.n_var))
    for a in range(w.n_fac):
        G.add_edges_from(combinations(w.scope(a).tolist(), 2))
    return G


def nx_counts(G, max_length, lengths):
    c = Counter(len(cyc) for cyc in nx.simple_cycles(G, length_bound=max_length))
    return {k: c.get(k, 0) for k in lengths}


def nx_girth(G):
    return nx.girth(G)


def cover_wiring(w, perms):
    """The M-cover from its definition (docs/theory.md §3.2), independently of lifts.cycles."""
    M = perms.shape[1]
    fac_ptr, edge_var = [0], []
    for a in range(w.n_fac):
        for m in range(M):
            for e in range(w.fac_ptr[a], w.fac_ptr[a + 1]):
                edge_var.append(w.edge_var[e] * M + perms[e, m])
            fac_ptr.append(len(edge_var))
    return Wiring.from_edges(w.n_var * M, fac_ptr, edge_var)


def uniform_perms(rng, n_edge, M):
    return np.argsort(rng.random((n_edge, M)), axis=1)


def lift_of(base, perms):
    return types.SimpleNamespace(base=base, M=perms.shape[1], perms=perms)


# ------------------------------------------------------------------------------------- girth
@pytest.mark.parametrize(
    ("G", "g_var", "g_fac"),
    [
        (nx.petersen_graph(), 5, 10),
        (nx.heawood_graph(), 6, 12),
        (nx.cycle_graph(7), 7, 14),
        (nx.complete_graph(4), 3, 6),
        (nx.grid_2d_graph(4, 5), 4, 8),
        (nx.path_graph(6), math.inf, math.inf),
    ],
)
def test_girth_known_graphs(G, g_var, g_fac):
    cg = pairwise(G)
    assert girth(cg, on="variables") == g_var == nx_girth(G)
    assert girth(cg) == g_fac == nx_girth(factor_nx(cg))
    assert girth(cg.wiring) == g_fac


def test_girth_of_grids_and_tori():
    assert girth(problems.ising_grid(5).graph) == 8
    assert girth(problems.ising_grid(5).graph, on="variables") == 4
    torus = problems.ising_grid((3, 4), periodic=True).graph  # rows of 3 spins wrap: triangles
    assert girth(torus, on="variables") == 3
    assert girth(torus) == 6


@pytest.mark.parametrize("seed", range(6))
def test_girth_random_regular_and_trees_vs_networkx(seed):
    G = nx.random_regular_graph(3, 16 + 2 * seed, seed=seed)
    cg = pairwise(G)
    assert girth(cg, on="variables") == nx_girth(G)
    assert girth(cg) == nx_girth(factor_nx(cg))
    T = nx.random_labeled_tree(12 + seed, seed=seed)
    assert girth(pairwise(T)) == math.inf
    assert girth(pairwise(T), on="variables") == math.inf
    w = random_wiring(seed, n_var=9, n_fac=8)
    assert girth(w) == nx_girth(factor_nx(w))
    assert girth(w, on="variables") == nx_girth(variable_nx(w))


@pytest.mark.parametrize("seed", range(3))
def test_girth_ldpc_vs_networkx(seed):
    cg = ldpc_graph(60, seed=seed)
    assert girth(cg) == nx_girth(factor_nx(cg))


def test_girth_pure_ring_component_beside_a_denser_one():
    # a 4-ring (every degree 2: found without BFS) beside a Petersen graph, joined by a bridge path
    G = nx.disjoint_union(nx.petersen_graph(), nx.cycle_graph(4))
    G.add_edges_from([(0, 20), (20, 21), (21, 10)])
    cg = pairwise(G)
    assert girth(cg, on="variables") == 4
    assert girth(cg) == 8
    assert girth(pairwise(nx.petersen_graph()), on="variables") == 5


def test_empty_and_edgeless_graphs():
    w = Wiring.from_edges(3, [0], [])
    assert girth(w) == math.inf
    assert local_girth(w).tolist() == [math.inf] * 3
    assert count_cycles(w, 8) == {4: 0, 6: 0, 8: 0}
    assert nonbacktracking_counts(w, 6) == {4: 0.0, 6: 0.0}
    assert base_cycles(w, 6)[6].shape == (0, 6)


# ------------------------------------------------------------------------------------- local girth
def brute_local_girth(G):
    best = dict.fromkeys(G.nodes, math.inf)
    for cyc in nx.simple_cycles(G):
        for v in cyc:
            best[v] = min(best[v], len(cyc))
    return np.array([best[v] for v in sorted(G.nodes)], dtype=float)


@pytest.mark.parametrize("seed", range(8))
def test_local_girth_vs_brute_force(seed):
    w = random_wiring(seed, n_var=7, n_fac=6, max_arity=3)
    np.testing.assert_array_equal(local_girth(w), brute_local_girth(factor_nx(w)))
    np.testing.assert_array_equal(local_girth(w, on="variables"), brute_local_girth(variable_nx(w)))
    G = nx.gnm_random_graph(10, 13, seed=seed)
    cg = pairwise(G)
    np.testing.assert_array_equal(local_girth(cg, on="variables"), brute_local_girth(G))
    lg = local_girth(cg)
    assert lg.min() == girth(cg)


def test_local_girth_dumbbell_and_pendants():
    # triangle - path - square, plus pendant nodes: path and pendants lie on no cycle
    G = nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 4), (0, 8)])
    lg = local_girth(pairwise(G), on="variables")
    assert lg.tolist() == [3, 3, 3, math.inf, 4, 4, 4, 4, math.inf]
    np.testing.assert_array_equal(lg, brute_local_girth(G))


def test_local_girth_grid_corner_and_bulk():
    cg = problems.ising_grid(4).graph
    lg = local_girth(cg)
    assert lg.shape == (cg.n_var + cg.n_fac,)
    assert set(lg.tolist()) == {8.0}
    np.testing.assert_array_equal(lg, brute_local_girth(factor_nx(cg)))


# ------------------------------------------------------------------------------------- counts
@pytest.mark.parametrize("seed", range(10))
def test_count_cycles_vs_networkx_factor_graph(seed):
    w = random_wiring(seed, n_var=8, n_fac=7, max_arity=4)
    got = count_cycles(w, 12)
    assert list(got) == [4, 6, 8, 10, 12]
    assert got == nx_counts(factor_nx(w), 12, got)


@pytest.mark.parametrize("seed", range(6))
def test_count_cycles_vs_networkx_variable_graph(seed):
    G = nx.gnm_random_graph(11, 18, seed=seed)
    cg = pairwise(G)
    got = count_cycles(cg, 8, on="variables")
    assert list(got) == [3, 4, 5, 6, 7, 8]
    assert got == nx_counts(G, 8, got)
    # a pairwise model: each variable k-cycle is a factor-graph 2k-cycle
    assert count_cycles(cg, 16) == {2 * k: got.get(k, 0) for k in range(2, 9)}


def test_count_cycles_higher_arity_variable_graph_and_short_max_length():
    w = Wiring.from_edges(4, [0, 3, 5, 7, 9], [0, 1, 2, 2, 3, 3, 0, 1, 0])  # last factor repeats pair (0, 1)
    assert count_cycles(w, 4, on="variables") == {3: 2, 4: 1}
    assert count_cycles(w, 3) == {}
    assert count_cycles(w, 2, on="variables") == {}


@pytest.mark.parametrize("seed", range(3))
def test_count_cycles_vs_nonbacktracking_below_twice_the_girth(seed):
    cg = ldpc_graph(300, seed=seed)
    g = girth(cg)
    nb = nonbacktracking_counts(cg, 2 * g)
    cc = count_cycles(cg, 2 * g)
    for k in cc:
        if k < 2 * g:
            assert nb[k] == cc[k]
    assert nb[2 * g] >= cc[2 * g]
    G = nx.random_regular_graph(3, 40, seed=seed)
    rr = pairwise(G)
    gv = girth(rr, on="variables")
    nb = nonbacktracking_counts(rr, 2 * gv - 1, on="variables")
    assert nb == {k: float(v) for k, v in count_cycles(rr, 2 * gv - 1, on="variables").items()}


@pytest.mark.parametrize(("P", "N"), [(3, 4), (4, 5), (5, 6)])
def test_perceptron_graph_counts(P, N):
    cg = perceptron_graph(P, N)
    c = count_cycles(cg, 8)
    C = math.comb
    assert girth(cg) == (4 if P >= 2 and N >= 2 else math.inf)
    assert c[4] == C(P, 2) * C(N, 2)
    assert c[6] == 6 * C(P, 3) * C(N, 3)
    assert c[8] == C(P, 4) * C(N, 4) * math.factorial(4) * math.factorial(3) // 2
    assert nonbacktracking_counts(cg, 6)[6] == c[6]  # 6 < 2 g = 8


def test_cycle_table_is_json_ready():
    t = cycle_table(pairwise(nx.petersen_graph()), 10)
    assert t == {"on": "factor", "n_nodes": 25, "n_edges": 30, "girth": 10, "max_length": 10,
                 "counts": {4: 0, 6: 0, 8: 0, 10: 12}}
    json.dumps(t)
    assert cycle_table(pairwise(nx.path_graph(3)), 5, on="variables")["girth"] is None


# ------------------------------------------------------------------------------------- base cycles
@pytest.mark.parametrize("seed", range(5))
def test_base_cycles_are_the_simple_cycles(seed):
    w = random_wiring(seed, n_var=8, n_fac=7, max_arity=4)
    cyc = base_cycles(w, 10)
    G = factor_nx(w)
    expect = Counter()
    for c in nx.simple_cycles(G, length_bound=10):
        expect[frozenset(frozenset(p) for p in zip(c, c[1:] + c[:1]))] += 1
    got = Counter()
    for k, arr in cyc.items():
        assert arr.shape == (count_cycles(w, 10)[k], k)
        for row in arr:
            # closed alternating walk from a variable, no repeated node
            assert row[0] >= 0 and w.edge_fac[row[0]] == w.edge_fac[row[1]]
            nodes = []
            for t, e in enumerate(row):
                nodes.append(int(w.edge_var[e]) if t % 2 == 0 else int(w.n_var + w.edge_fac[e]))
            assert len(set(nodes)) == k
            assert w.edge_var[row[-1]] == w.edge_var[row[0]]
            got[frozenset(frozenset((int(w.edge_var[e]), int(w.n_var + w.edge_fac[e]))) for e in row)] += 1
    assert got == expect


def test_base_cycles_deterministic_order():
    cg = ldpc_graph(120, seed=1)
    a, b = base_cycles(cg, 8), base_cycles(cg, 8)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert a[k].shape[0] == count_cycles(cg, 8)[k]


# ------------------------------------------------------------------------------------- holonomy
def walk_in_cover(w, perms, cycle, m):
    """Follow the lifts of the cycle's edges through the reference cover from variable copy m."""
    M = perms.shape[1]
    C = factor_nx(cover_wiring(w, perms))
    nv = w.n_var * M
    node = int(w.edge_var[cycle[0]]) * M + m
    for t, e in enumerate(cycle):
        if t % 2 == 0:  # variable copy -> the copy of factor edge_fac[e] adjacent to it
            a = int(w.edge_fac[e])
            (node,) = [x for x in C[node] if nv + a * M <= x < nv + (a + 1) * M]
        else:
            i = int(w.edge_var[e])
            (node,) = [x for x in C[node] if i * M <= x < (i + 1) * M]
    return node - int(w.edge_var[cycle[0]]) * M


@pytest.mark.parametrize("seed", range(4))
def test_holonomy_is_the_walk_in_the_cover(seed):
    rng = np.random.default_rng(seed)
    cg = problems.ising_grid(3).graph
    M = 5
    perms = uniform_perms(rng, cg.n_edge, M)
    cyc = base_cycles(cg, 12)
    W = holonomy((cg, perms), cyc[12])
    assert W.shape == (cyc[12].shape[0], M)
    for c, wrow in zip(cyc[12], W):
        assert [walk_in_cover(cg.wiring, perms, c, m) for m in range(M)] == wrow.tolist()
    np.testing.assert_array_equal(holonomy(lift_of(cg, perms), cyc[8][0]), holonomy((cg, perms), cyc[8])[0])


def test_holonomy_reversed_walk_is_the_inverse():
    rng = np.random.default_rng(0)
    cg = problems.ising_grid(3).graph
    perms = uniform_perms(rng, cg.n_edge, 6)
    c = base_cycles(cg, 8)[8][0]
    rev = c[::-1]  # the same cycle backwards, from the same variable
    w, wr = holonomy((cg, perms), c), holonomy((cg, perms), rev)
    assert wr[w].tolist() == list(range(6))


@pytest.mark.parametrize("seed", range(4))
def test_quasi_cyclic_lift_fossorier(seed):
    rng = np.random.default_rng(seed)
    cg = ldpc_graph(24, seed=seed)
    M = 12
    s = rng.integers(0, M, size=cg.n_edge)
    perms = (np.arange(M) + s[:, None]) % M
    cyc = base_cycles(cg, 8)
    tys = cycle_types((cg, perms), 8, cycles=cyc)
    g = girth(cg)
    for k, arr in cyc.items():
        signs = np.where(np.arange(k) % 2 == 0, -1, 1)
        S = (s[arr] * signs).sum(axis=1) % M
        W = holonomy((cg, perms), arr)
        np.testing.assert_array_equal(W, (np.arange(M) + S[:, None]) % M)
        for row, Sc in zip(tys[k], S):
            gcd = math.gcd(int(Sc), M)
            expect = np.zeros(M, dtype=int)
            expect[M // gcd - 1] = gcd
            np.testing.assert_array_equal(row, expect)
    cover = count_cycles(cover_wiring(cg.wiring, perms), 8)
    for k in cyc:
        if k < 2 * g:
            S = (s[cyc[k]] * np.where(np.arange(k) % 2 == 0, -1, 1)).sum(axis=1) % M
            assert cover[k] == M * int((S == 0).sum())


# ------------------------------------------------------------------------------------- lifted counts
@pytest.mark.parametrize("M", [1, 2, 4])
def test_identity_lift_has_M_copies_of_every_cycle(M):
    cg = pairwise(nx.petersen_graph())
    perms = np.tile(np.arange(M), (cg.n_edge, 1))
    cover = count_cycles(cover_wiring(cg.wiring, perms), 14)
    base = count_cycles(cg, 14)
    assert cover == {k: M * v for k, v in base.items()}
    table = lift_cycle_table(lift_of(cg, perms), 14, P=np.eye(M))
    for k, row in table.items():
        assert row["lifted_k"] == row["cover"] == row["expected_identity"] == M * base[k]
        assert row["expected_kernel"] == M * base[k]
        assert row["expected_uniform"] == base[k]


@pytest.mark.parametrize("seed", range(5))
def test_uniform_lift_short_cycles_are_fixed_points_of_holonomies(seed):
    rng = np.random.default_rng(seed)
    cg = ldpc_graph(30, seed=seed)
    M = 3
    perms = uniform_perms(rng, cg.n_edge, M)
    g = girth(cg)
    L = 2 * g
    cover = count_cycles(cover_wiring(cg.wiring, perms), L)
    cyc = base_cycles(cg, L)
    tys = cycle_types(lift_of(cg, perms), L, cycles=cyc)
    table = lift_cycle_table(lift_of(cg, perms), L)
    for k in cyc:
        assert (tys[k] * np.arange(1, M + 1)).sum(axis=1).tolist() == [M] * cyc[k].shape[0]
        assert table[k]["cover"] == cover[k]
        assert table[k]["lifted_k"] == int(tys[k][:, 0].sum())
        if k < 2 * g:
            assert table[k]["exact"] and cover[k] == table[k]["lifted_k"]
        assert cover[k] >= table[k]["lifted_k"] + table[k]["wrapped"]


def test_ring_lift_counts_are_exactly_the_cycle_types():
    # on a ring every closed non-backtracking walk winds around the one cycle: the cover's
    # cycles are given by the cycle type of its holonomy at every length
    cg = pairwise(nx.cycle_graph(3))
    rng = np.random.default_rng(3)
    M = 7
    for _ in range(5):
        perms = uniform_perms(rng, cg.n_edge, M)
        L = 6 * M
        t = lift_cycle_table(lift_of(cg, perms), L)
        (ty,) = cycle_types((cg, perms), 6)[6]
        for k, row in t.items():
            assert row["cover"] == row["lifted_k"] + row["wrapped"]
            expect = ty[k // 6 - 1] if k % 6 == 0 else 0
            assert row["cover"] == expect
        assert sum(row["cover"] * k for k, row in t.items()) == 6 * M  # the cover is a union of rings


def test_real_lift_agrees_with_the_stand_in():
    from lifts.cover import lift

    cg = ldpc_graph(24, seed=2)
    rng = np.random.default_rng(5)
    perms = uniform_perms(rng, cg.n_edge, 4)
    L = lift(cg, 4, perms=perms)
    assert lift_cycle_table(L, 8) == lift_cycle_table(lift_of(cg, perms), 8)
    assert count_cycles(L, 8) == count_cycles(cover_wiring(cg.wiring, perms), 8)


def test_uniform_mean_fixed_points_is_one_monte_carlo():
    rng = np.random.default_rng(11)
    cg = problems.ising_grid(3).graph
    M, n_lifts = 6, 3000
    cyc = base_cycles(cg, 12)
    ident = np.tile(np.arange(M), (cg.n_edge, 1))
    for k in (8, 12):
        arr = cyc[k]
        fix = np.empty((n_lifts, arr.shape[0]))
        for r in range(n_lifts):
            W = holonomy((cg, uniform_perms(rng, cg.n_edge, M)), arr)
            fix[r] = (W == np.arange(M)).sum(axis=1)
        mean, se = fix.mean(axis=0), fix.std(axis=0) / math.sqrt(n_lifts)
        assert np.all(np.abs(mean - 1.0) < 5 * se)
        assert (holonomy((cg, ident), arr) == np.arange(M)).sum(axis=1).tolist() == [M] * arr.shape[0]


def test_kernel_expectation_monte_carlo_and_per_edge_marginals():
    # lazy kernel: identity w.p. 1/2, else uniform; marginal P = I/2 + J/(2M), symmetric
    rng = np.random.default_rng(4)
    cg = perceptron_graph(3, 4)
    M, n_lifts = 4, 1500
    P = 0.5 * np.eye(M) + 0.5 / M
    cyc = base_cycles(cg, 6)
    tot = {4: 0.0, 6: 0.0}
    for _ in range(n_lifts):
        perms = uniform_perms(rng, cg.n_edge, M)
        lazy = rng.random(cg.n_edge) < 0.5
        perms[lazy] = np.arange(M)
        for k in (4, 6):
            tot[k] += (holonomy((cg, perms), cyc[k]) == np.arange(M)).sum()
    table = lift_cycle_table(lift_of(cg, perms), 6, P=P, cover=False)
    for k in (4, 6):
        expect = table[k]["expected_kernel"]
        assert expect == pytest.approx(table[k]["base"] * np.trace(np.linalg.matrix_power(P, k)))
        mean = tot[k] / n_lifts
        assert abs(mean - expect) < 0.05 * expect
    # per-edge one-hot marginals: the expectation is the realised count
    onehot = np.zeros((cg.n_edge, M, M))
    onehot[np.arange(cg.n_edge)[:, None], np.arange(M), perms] = 1.0
    t = lift_cycle_table(lift_of(cg, perms), 6, P=onehot)
    for k in (4, 6):
        assert t[k]["expected_kernel"] == t[k]["lifted_k"]


def test_shift_kernel_expectation_cancels_the_drift():
    # a common pure shift: every holonomy of an even cycle is the identity, tr((P P^T)^{k/2}) = M
    cg = problems.ising_grid(3).graph
    M = 5
    perms = (np.arange(M) + 2 * np.ones((cg.n_edge, 1), dtype=int)) % M
    shift = np.eye(M)[(np.arange(M) + 2) % M]
    t = lift_cycle_table(lift_of(cg, perms), 8, P=shift)
    assert t[8]["lifted_k"] == t[8]["expected_kernel"] == M * t[8]["base"] == t[8]["cover"]


@pytest.mark.parametrize("M", [2, 3])
def test_perceptron_lift_expectations(M):
    cg = perceptron_graph(3, 3)
    N4 = math.comb(3, 2) ** 2
    ident = np.tile(np.arange(M), (cg.n_edge, 1))
    t = lift_cycle_table(lift_of(cg, ident), 6)
    assert t[4]["base"] == N4 and t[4]["cover"] == M * N4 == t[4]["expected_identity"]
    assert t[6]["base"] == 6 and t[6]["cover"] == 6 * M


# ------------------------------------------------------------------------------------- errors
def test_errors():
    cg = problems.ising_grid(3).graph
    for bad in (1, 0, 2.5, True, "8", None):
        with pytest.raises(ValueError, match="max_length"):
            count_cycles(cg, bad)
    with pytest.raises(ValueError, match="max_length"):
        base_cycles(cg, 1)
    with pytest.raises(ValueError, match="on"):
        girth(cg, on="primal")
    with pytest.raises(ValueError, match="on"):
        count_cycles(cg, 6, on="edges")
    with pytest.raises(TypeError, match="CompiledGraph"):
        girth(nx.petersen_graph())
    with pytest.raises(TypeError, match="CompiledGraph"):
        local_girth(np.zeros((3, 3)))
    with pytest.raises(TypeError):
        holonomy(np.zeros((cg.n_edge, 3), dtype=int), [0, 1])
    rep = Wiring.from_edges(2, [0, 3], [0, 1, 0], check=False)
    with pytest.raises(ValueError, match="more than once"):
        girth(rep)
    perms = np.tile(np.arange(3), (cg.n_edge, 1))
    with pytest.raises(ValueError, match="perms"):
        holonomy((cg, perms[:-1]), base_cycles(cg, 8)[8][0])
    bad = perms.copy()
    bad[0] = [0, 0, 1]
    with pytest.raises(ValueError, match="permutation"):
        holonomy((cg, bad), base_cycles(cg, 8)[8][0])
    c = base_cycles(cg, 8)[8][0]
    with pytest.raises(ValueError, match="closed walk"):
        holonomy((cg, perms), np.roll(c, 1))
    with pytest.raises(ValueError, match="even"):
        holonomy((cg, perms), c[:3])
    with pytest.raises(ValueError, match="P must"):
        lift_cycle_table((cg, perms), 8, P=np.eye(4))


# ------------------------------------------------------------------------------------- speed
@pytest.mark.slow
def test_large_ldpc_counts_in_seconds():
    cg = ldpc_graph(33336, seed=0)  # (3, 6) code, 100008 edges
    assert cg.n_edge > 10**5
    count_cycles(ldpc_graph(60), 8)  # warm the kernels
    t0 = time.perf_counter()
    c = count_cycles(cg, 8)
    g = girth(cg)
    dt = time.perf_counter() - t0
    assert dt < 30, dt
    assert g in (4, 6, 8) and set(c) == {4, 6, 8}
    # a random (3, 6) code has about ((dv-1)(dc-1))^k / (2k) cycles of length 2k
    assert 5 < c[4] < 80 and 80 < c[6] < 300 and 900 < c[8] < 1700
