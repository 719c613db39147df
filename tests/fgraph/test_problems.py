"""Tests of fgraph.problems: Ising models and LDPC decoding problems.

Oracles: networkx (grid and regular-graph structure), brute-force enumeration of
log Z through ``CompiledGraph.log_score`` (closed form of the Ising ring),
enumeration of null spaces (GF(2) rank), and the channel laws (erasure / flip
fractions, noise standard deviation).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from fgraph import problems as P
from fgraph.problems import Problem

# ---------------------------------------------------------------- helpers


def all_states(n: int) -> np.ndarray:
    """int64 (2^n, n): every binary configuration."""
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int64)


def brute_log_z(graph) -> float:
    return float(np.logaddexp.reduce(graph.log_score(all_states(graph.n_var))))


def edge_set(edges) -> set:
    return {(min(int(i), int(j)), max(int(i), int(j))) for i, j in np.asarray(edges)}


def ising_edges(graph) -> np.ndarray:
    """The (E, 2) scopes of a graph made of ising factors only, factor order."""
    assert graph.types in ((), ("ising",))
    return np.asarray(graph.edge_var).reshape(-1, 2)


def nx_grid_edges(L1, L2, periodic) -> set:
    G = nx.grid_2d_graph(L1, L2, periodic=periodic)
    return {tuple(sorted((r1 * L2 + c1, r2 * L2 + c2))) for (r1, c1), (r2, c2) in G.edges()}


def spins(x):
    return 2 * np.asarray(x) - 1


# ---------------------------------------------------------------- Problem


def test_problem_is_frozen_and_read_only():
    p = P.ising_grid(3, J=0.5, h=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.truth = np.zeros(9)
    with pytest.raises(TypeError):
        p.meta["beta"] = 2.0
    assert not p.meta["couplings"].flags.writeable
    assert not p.meta["fields"].flags.writeable
    assert p.F is None and p.y is None and p.truth is None
    assert p.kind == "ising_grid"
    r = repr(p)
    assert r.startswith("Problem(kind='ising_grid'") and "n_var=9" in r and "shape=(3, 3)" in r


def test_problem_validates_its_fields():
    g = P.ising_grid(2).graph
    with pytest.raises(TypeError, match="graph"):
        Problem(graph="not a graph")
    with pytest.raises(ValueError, match="truth"):
        Problem(graph=g, truth=np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="meta"):
        Problem(graph=g, meta=[1, 2])
    t = np.zeros(4, dtype=np.int64)
    p = Problem(graph=g, truth=t, meta={"kind": "x", "a": np.ones(2)})
    assert not p.truth.flags.writeable and not p.meta["a"].flags.writeable
    assert "truth <int64 (4,)>" in repr(p)


# ---------------------------------------------------------------- grids


@pytest.mark.parametrize("L", [1, 2, 3, 5, (2, 3), (4, 3), (1, 6)])
def test_open_grid_matches_networkx(L):
    L1, L2 = (L, L) if isinstance(L, int) else L
    p = P.ising_grid(L)
    g = p.graph
    e = ising_edges(g)
    assert g.n_var == L1 * L2
    assert e.shape[0] == L1 * (L2 - 1) + (L1 - 1) * L2
    if L1 == L2:
        assert e.shape[0] == 2 * L1 * (L1 - 1)
    assert edge_set(e) == nx_grid_edges(L1, L2, False)
    assert len(edge_set(e)) == e.shape[0]
    G = nx.grid_2d_graph(L1, L2)
    deg = np.array([G.degree((r, c)) for r in range(L1) for c in range(L2)])
    np.testing.assert_array_equal(g.wiring.var_degree(), deg)
    assert p.meta["shape"] == (L1, L2) and p.meta["n_edges"] == e.shape[0]


@pytest.mark.parametrize("L", [3, 4, (3, 5), (6, 4)])
def test_torus_matches_networkx(L):
    L1, L2 = (L, L) if isinstance(L, int) else L
    g = P.ising_grid(L, periodic=True).graph
    e = ising_edges(g)
    assert e.shape[0] == 2 * L1 * L2
    assert edge_set(e) == nx_grid_edges(L1, L2, True)
    assert np.all(g.wiring.var_degree() == 4)


def test_cylinder_wraps_one_direction():
    e = P.grid_edges((3, 4), periodic=(False, True))  # rows open, columns wrap
    assert edge_set(e) == nx_grid_edges(3, 4, (False, True))
    assert e.shape[0] == 3 * 4 + 2 * 4


@pytest.mark.parametrize("L", [1, 2, (2, 5), (5, 1)])
def test_small_periodic_grid_is_refused(L):
    with pytest.raises(ValueError, match="periodic"):
        P.ising_grid(L, periodic=True)


def test_grid_is_row_major_and_edge_order_documented():
    e = P.grid_edges((2, 3))
    assert e.tolist() == [[0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [1, 4], [2, 5]]
    g = P.ising_grid((2, 3)).graph
    np.testing.assert_array_equal(ising_edges(g), e)


def test_grid_equals_ising_on_networkx_grid():
    L, beta, J, h = 4, 0.6, 0.8, 0.3
    a = P.ising_grid(L, J=J, h=h, beta=beta).graph
    b = P.ising(nx.grid_2d_graph(L, L), J=J, h=h, beta=beta).graph  # nodes (r, c) sorted = row-major
    x = np.random.default_rng(0).integers(0, 2, size=(50, L * L))
    np.testing.assert_allclose(a.log_score(x), b.log_score(x), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a.var_unary, b.var_unary)


# ---------------------------------------------------------------- ising on any graph


def test_ising_on_networkx_equals_ising_on_edges():
    G = nx.petersen_graph()
    rng = np.random.default_rng(3)
    J = rng.normal(size=G.number_of_edges())
    h = rng.normal(size=G.number_of_nodes())
    a = P.ising(G, J=J, h=h, beta=0.7)
    edges = np.array(list(G.edges()))
    b = P.ising(edges, J=J, h=h, beta=0.7)
    np.testing.assert_array_equal(a.graph.edge_var, b.graph.edge_var)
    np.testing.assert_array_equal(a.graph.var_unary, b.graph.var_unary)
    np.testing.assert_array_equal(a.graph.params[0]["J"], b.graph.params[0]["J"])
    assert a.meta["nodes"] == tuple(range(10))


def test_ising_relabels_networkx_nodes_in_sorted_order():
    G = nx.Graph([("b", "c"), ("c", "a"), ("a", "d")])
    p = P.ising(G, J=[1.0, 2.0, 3.0])
    assert p.meta["nodes"] == ("a", "b", "c", "d")
    assert dict(p.meta["node_index"]) == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert p.meta["edges"].tolist() == [[1, 2], [2, 0], [0, 3]]  # G.edges() order, relabelled
    np.testing.assert_array_equal(p.graph.params[0]["J"], [1.0, 2.0, 3.0])


def test_weight_convention_on_random_graph():
    rng = np.random.default_rng(5)
    G = nx.gnm_random_graph(8, 14, seed=5)
    J = rng.normal(size=14)
    h = rng.normal(size=8)
    beta = 0.9
    p = P.ising(G, J=J, h=h, beta=beta)
    e = p.meta["edges"]
    x = all_states(8)
    s = spins(x)
    expected = beta * ((J[None, :] * s[:, e[:, 0]] * s[:, e[:, 1]]).sum(1) + (s * h[None, :]).sum(1))
    np.testing.assert_allclose(p.graph.log_score(x), expected, atol=1e-12)
    # state 1 is s = +1: the all-ones state has log weight beta (sum J + sum h)
    assert p.graph.log_score(np.ones(8, dtype=int)) == pytest.approx(beta * (J.sum() + h.sum()))


@pytest.mark.parametrize("n, beta, J", [(3, 0.5, 1.0), (8, 0.7, 1.0), (10, 1.3, -0.6), (9, 0.4, -1.0)])
def test_ring_log_z_closed_form(n, beta, J):
    p = P.ising(nx.cycle_graph(n), J=J, beta=beta)
    t = math.tanh(beta * J)
    exact = n * math.log(2 * math.cosh(beta * J)) + math.log1p(t**n)
    assert brute_log_z(p.graph) == pytest.approx(exact, abs=1e-12)


def test_zero_fields_add_no_evidence():
    for h in (0.0, np.zeros(9)):
        g = P.ising_grid(3, h=h).graph
        assert np.all(g.var_unary == 0.0)
    g = P.ising_grid(3, h=0.5, beta=0.0).graph
    assert np.all(g.var_unary == 0.0)
    g = P.ising_grid(3, h=0.5, beta=2.0).graph
    np.testing.assert_allclose(g.var_unary, np.tile([-1.0, 1.0], (9, 1)))


def test_isolated_spins_and_explicit_n():
    p = P.ising([[0, 1]], n=4, h=[0.0, 0.0, 1.0, 0.0])
    assert p.graph.n_var == 4 and p.graph.n_fac == 1
    assert p.graph.var_unary[2].tolist() == [-1.0, 1.0]
    p = P.ising(np.zeros((0, 2), dtype=int), n=3)
    assert p.graph.n_fac == 0 and p.graph.n_var == 3


@pytest.mark.parametrize(
    "edges, match",
    [
        ([[0, 1], [1, 1]], "self-loop"),
        ([[0, 1], [1, 2], [1, 0]], "same pair"),
        ([[0, 1], [0, 1]], "same pair"),
        ([0, 1], "shape"),
        ([[0, 1, 2]], "shape"),
        ([[0, -1]], "negative"),
    ],
)
def test_ising_refuses_bad_edges(edges, match):
    with pytest.raises(ValueError, match=match):
        P.ising(edges)


def test_ising_refuses_bad_parameters():
    e = [[0, 1], [1, 2]]
    with pytest.raises(ValueError, match="J"):
        P.ising(e, J=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="h"):
        P.ising(e, h=[1.0, 2.0])
    with pytest.raises(ValueError, match="J"):
        P.ising(e, J=np.inf)
    with pytest.raises(ValueError, match="beta"):
        P.ising(e, beta=-1.0)
    with pytest.raises(TypeError, match="beta"):
        P.ising(e, beta="hot")
    with pytest.raises(ValueError, match="gauss"):
        P.ising(e, J="normal")
    with pytest.raises(ValueError, match="J_scale"):
        P.ising(e, J="gauss", J_scale=-1.0)
    with pytest.raises(ValueError, match="n"):
        P.ising(e, n=2)
    with pytest.raises(ValueError, match="n is required"):
        P.ising(np.zeros((0, 2), dtype=int))
    with pytest.raises(ValueError, match="undirected"):
        P.ising(nx.DiGraph([(0, 1)]))
    with pytest.raises(ValueError, match="same pair"):
        P.ising(nx.MultiGraph([(0, 1), (0, 1)]))
    with pytest.raises(TypeError, match="L"):
        P.ising_grid("big")
    with pytest.raises(ValueError, match="L"):
        P.ising_grid(0)
    with pytest.raises(TypeError, match="periodic"):
        P.ising_grid(3, periodic="yes")
    with pytest.raises(TypeError, match="seed"):
        P.ising_grid(3, J="gauss", seed="abc")


# ---------------------------------------------------------------- random couplings and seeds


def test_random_couplings_and_fields():
    p = P.ising_grid(20, J="pm", h="gauss", J_scale=0.4, h_scale=0.1, seed=7)
    J, h = p.meta["couplings"], p.meta["fields"]
    assert set(np.unique(J).tolist()) == {-0.4, 0.4}
    assert abs(np.mean(J > 0) - 0.5) < 0.1
    assert abs(h.std() - 0.1) < 0.02
    np.testing.assert_allclose(p.graph.params[0]["J"], J)
    np.testing.assert_allclose(p.graph.var_unary[:, 1], h)
    assert p.meta["J"] == "pm" and p.meta["J_scale"] == 0.4 and p.meta["seed"] == 7


@pytest.mark.parametrize(
    "build",
    [
        lambda s: P.ising_grid(6, J="gauss", h="pm", seed=s),
        lambda s: P.ising([[0, 1], [1, 2], [2, 0]], J="gauss", seed=s),
        lambda s: P.random_regular_ising(30, 3, J="gauss", seed=s),
        lambda s: P.sk(12, h="gauss", seed=s),
    ],
)
def test_same_seed_same_problem(build):
    a, b, c = build(11), build(11), build(12)
    np.testing.assert_array_equal(a.graph.edge_var, b.graph.edge_var)
    np.testing.assert_array_equal(a.meta["couplings"], b.meta["couplings"])
    np.testing.assert_array_equal(a.meta["fields"], b.meta["fields"])
    assert not np.array_equal(a.meta["couplings"], c.meta["couplings"])
    # a Generator is accepted and used as is
    d = build(np.random.default_rng(11))
    assert d.meta["couplings"].shape == a.meta["couplings"].shape
    # seed=None records the entropy it drew, so the problem can be rebuilt
    e = build(None)
    f = build(e.meta["seed"])
    np.testing.assert_array_equal(e.meta["couplings"], f.meta["couplings"])
    np.testing.assert_array_equal(e.graph.edge_var, f.graph.edge_var)


def test_deterministic_builders_record_no_seed():
    assert "seed" not in P.ising_grid(3).meta
    assert "seed" not in P.ising([[0, 1]], J=0.5).meta


# ---------------------------------------------------------------- random regular graphs and SK


@pytest.mark.parametrize("n, d", [(50, 3), (40, 4), (31, 6), (10, 9), (12, 8), (6, 0), (2, 1)])
def test_random_regular_graph_is_simple_and_regular(n, d):
    p = P.random_regular_ising(n, d, seed=n + d)
    e = ising_edges(p.graph)
    assert e.shape == (n * d // 2, 2)
    assert len(edge_set(e)) == e.shape[0] and np.all(e[:, 0] != e[:, 1])
    np.testing.assert_array_equal(p.graph.wiring.var_degree(), np.full(n, d))
    G = nx.Graph(e.tolist())
    G.add_nodes_from(range(n))
    assert nx.is_regular(G) and G.number_of_edges() == n * d // 2
    np.testing.assert_array_equal(p.meta["edges"], e)


def test_random_regular_graphs_differ_between_seeds():
    a = P.random_regular_edges(100, 3, seed=1)
    b = P.random_regular_edges(100, 3, seed=2)
    assert edge_set(a) != edge_set(b)
    np.testing.assert_array_equal(a, P.random_regular_edges(100, 3, seed=1))


@pytest.mark.parametrize("n, d, exc", [(5, 3, ValueError), (4, 4, ValueError), (4, -1, ValueError),
                                       (0, 0, ValueError), (4.0, 2, TypeError)])
def test_random_regular_refuses_impossible_degrees(n, d, exc):
    with pytest.raises(exc, match="n|d"):
        P.random_regular_ising(n, d, seed=0)


def test_sk_couplings():
    n = 200
    p = P.sk(n, beta=0.5, seed=3)
    e = ising_edges(p.graph)
    assert e.shape[0] == n * (n - 1) // 2
    i, j = np.triu_indices(n, 1)
    np.testing.assert_array_equal(e, np.stack([i, j], axis=1))
    J = p.meta["couplings"]
    assert abs(J.std() * math.sqrt(n) - 1.0) < 0.03
    assert abs(J.mean()) < 4.0 / math.sqrt(n * J.size)
    np.testing.assert_allclose(p.graph.params[0]["J"], 0.5 * J)
    assert p.meta["J_scale"] == pytest.approx(1 / math.sqrt(n))
    assert np.all(p.graph.var_unary == 0.0)
    q = P.sk(5, h=0.2, seed=0)
    np.testing.assert_allclose(q.graph.var_unary, np.tile([-0.2, 0.2], (5, 1)))
    with pytest.raises(ValueError, match="n"):
        P.sk(1)


# ---------------------------------------------------------------- regular LDPC matrices


@pytest.mark.parametrize("n, dv, dc", [(12, 3, 6), (1000, 3, 6), (999, 4, 6), (300, 2, 3), (64, 5, 10),
                                       (10, 5, 10), (20, 9, 18), (7, 1, 7)])
def test_regular_ldpc_weights_exact_and_no_repeats(n, dv, dc):
    H = P.regular_ldpc(n, dv, dc, seed=n)
    m = n * dv // dc
    assert H.shape == (m, n) and H.dtype == np.uint8 and H.format == "csr"
    assert H.nnz == n * dv and np.all(H.data == 1)
    C = H.tocoo()
    keys = C.row.astype(np.int64) * n + C.col
    assert np.unique(keys).size == keys.size  # no repeated (check, bit) pair
    np.testing.assert_array_equal(np.diff(H.indptr), np.full(m, dc))
    np.testing.assert_array_equal(np.bincount(H.indices, minlength=n), np.full(n, dv))
    for a in range(min(m, 20)):
        row = H.indices[H.indptr[a] : H.indptr[a + 1]]
        assert np.all(np.diff(row) > 0)


def test_regular_ldpc_is_reproducible():
    a = P.regular_ldpc(600, 3, 6, seed=4)
    b = P.regular_ldpc(600, 3, 6, seed=4)
    c = P.regular_ldpc(600, 3, 6, seed=5)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0


def test_regular_ldpc_large_is_fast_enough():
    H = P.regular_ldpc(100_000, 3, 6, seed=0)
    assert H.nnz == 300_000 and np.bincount(H.indices).min() == 3


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((10, 3, 4), ValueError, "divisible"),
        ((10, 0, 5), ValueError, "dv"),
        ((10, 2, 0), ValueError, "dc"),
        ((4, 3, 6), ValueError, "dv = 3 exceeds"),
        ((10.0, 3, 6), TypeError, "n"),
        ((0, 3, 6), ValueError, "n"),
    ],
)
def test_regular_ldpc_refuses_bad_parameters(args, exc, match):
    with pytest.raises(exc, match=match):
        P.regular_ldpc(*args, seed=0)


# ---------------------------------------------------------------- GF(2)


def test_gf2_rank_against_enumeration():
    rng = np.random.default_rng(0)
    for t in range(60):
        m, n = int(rng.integers(1, 6)), int(rng.integers(1, 9))
        A = (rng.random((m, n)) < 0.4).astype(np.int64)
        X = all_states(n)
        n_codewords = int(np.all((A @ X.T) % 2 == 0, axis=0).sum())
        r = P.gf2_rank(A)
        assert 2 ** (n - r) == n_codewords
        assert P.gf2_rank(sp.csr_array(A)) == r
        x = P.random_codeword(A, seed=t)
        assert np.all((A @ x) % 2 == 0)


def test_gf2_rank_wide_matrix_crosses_words():
    # 3 x 200 with repeated rows: columns beyond 64 and 128 matter
    A = np.zeros((3, 200), dtype=np.uint8)
    A[0, [5, 70, 150]] = 1
    A[1, [70, 199]] = 1
    A[2] = A[0] ^ A[1]
    assert P.gf2_rank(A) == 2


def test_random_codeword_is_uniform_on_a_small_code():
    H = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 0, 1]])  # 8 codewords
    rng = np.random.default_rng(1)
    words = Counter(tuple(P.random_codeword(H, seed=rng).tolist()) for _ in range(4000))
    counts = np.array(list(words.values()))
    assert counts.size == 8
    assert np.all(np.abs(counts - 500) < 5 * math.sqrt(500))


@pytest.mark.parametrize("n, dv, dc", [(200, 3, 6), (240, 4, 8), (150, 2, 5), (500, 3, 4)])
def test_random_codewords_of_regular_codes(n, dv, dc):
    H = P.regular_ldpc(n, dv, dc, seed=1)
    for s in range(4):
        x = P.random_codeword(H, seed=s)
        assert x.dtype == np.int64 and x.shape == (n,)
        assert np.all((H @ x) % 2 == 0)
        assert 0.3 < x.mean() < 0.7  # all-zero has probability 2^-(n - rank)
    assert not np.array_equal(P.random_codeword(H, seed=0), P.random_codeword(H, seed=1))


# ---------------------------------------------------------------- LDPC decoding problems


@pytest.fixture(scope="module")
def code():
    return P.regular_ldpc(2000, 3, 6, seed=0)


def test_ldpc_graph_structure(code):
    prob = P.ldpc(code, "bsc", p=0.05, seed=1)
    g = prob.graph
    m, n = code.shape
    assert (g.n_var, g.n_fac, g.types) == (n, m, ("parity",))
    assert np.all(np.isinf(g.params[0]["weight"])) and np.all(g.params[0]["target"] == 0)
    for a in (0, 17, m - 1):
        np.testing.assert_array_equal(g.scope(a), code.indices[code.indptr[a] : code.indptr[a + 1]])
    assert prob.truth.dtype == np.int64 and not prob.truth.flags.writeable
    assert np.all((code @ prob.truth) % 2 == 0)
    assert prob.truth.sum() > 0
    assert np.isfinite(g.log_score(prob.truth))
    meta = prob.meta
    assert meta["n"] == n and meta["m"] == m and meta["rank"] == P.gf2_rank(code)
    assert meta["design_rate"] == 0.5 and meta["rate"] == (n - meta["rank"]) / n
    assert meta["channel"] == "bsc" and meta["p"] == 0.05 and meta["sigma"] is None
    assert (meta["H"] != code).nnz == 0 and not meta["H"].data.flags.writeable
    assert code.data.flags.writeable  # the caller's matrix is copied, not frozen
    assert not meta["y"].flags.writeable


def test_bec(code):
    p = 0.3
    prob = P.ldpc(code, "bec", p=p, seed=2)
    x, y, L = prob.truth, prob.meta["y"], prob.graph.var_unary
    erased = y == -1
    n = x.size
    assert abs(erased.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    assert prob.meta["n_erased"] == erased.sum()
    np.testing.assert_array_equal(y[~erased], x[~erased])
    assert np.all(L[erased] == 0.0)
    kept = np.flatnonzero(~erased)
    assert np.all(L[kept, x[kept]] == 0.0) and np.all(np.isneginf(L[kept, 1 - x[kept]]))
    assert prob.graph.log_score(x) == 0.0


def test_bsc(code):
    p = 0.1
    prob = P.ldpc(code, "bsc", p=p, seed=3)
    x, y, L = prob.truth, prob.meta["y"], prob.graph.var_unary
    flips = x != y
    assert abs(flips.mean() - p) < 5 * math.sqrt(p * (1 - p) / x.size)
    assert prob.meta["n_flipped"] == flips.sum()
    idx = np.arange(x.size)
    np.testing.assert_allclose(L[idx, y], math.log(1 - p))
    np.testing.assert_allclose(L[idx, 1 - y], math.log(p))
    expected = flips.sum() * math.log(p) + (~flips).sum() * math.log(1 - p)
    assert prob.graph.log_score(x) == pytest.approx(expected)


def test_awgn(code):
    sigma = 0.8
    prob = P.ldpc(code, "awgn", sigma=sigma, seed=4)
    x, y, L = prob.truth, prob.meta["y"], prob.graph.var_unary
    s = 1.0 - 2.0 * x
    noise = y - s
    n = x.size
    assert y.dtype == np.float64
    assert abs(noise.std() - sigma) < 5 * sigma / math.sqrt(2 * n)
    assert abs(noise.mean()) < 5 * sigma / math.sqrt(n)
    c = math.log(sigma * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(L[:, 0], -((y - 1) ** 2) / (2 * sigma**2) - c)
    np.testing.assert_allclose(L[:, 1], -((y + 1) ** 2) / (2 * sigma**2) - c)
    assert np.isfinite(prob.graph.log_score(x))


def test_ldpc_extreme_probabilities(code):
    bsc0 = P.ldpc(code, "bsc", p=0.0, seed=0)
    assert np.array_equal(bsc0.meta["y"], bsc0.truth) and bsc0.graph.log_score(bsc0.truth) == 0.0
    bsc1 = P.ldpc(code, "bsc", p=1.0, seed=0)
    assert np.array_equal(bsc1.meta["y"], 1 - bsc1.truth) and bsc1.graph.log_score(bsc1.truth) == 0.0
    bec1 = P.ldpc(code, "bec", p=1.0, seed=0)
    assert np.all(bec1.meta["y"] == -1) and np.all(bec1.graph.var_unary == 0.0)
    half = P.ldpc(code, "bsc", p=0.5, seed=0)
    np.testing.assert_allclose(half.graph.var_unary, math.log(0.5))


def test_ldpc_codeword_options_and_dense_input():
    H = P.regular_ldpc(60, 3, 6, seed=2)
    zero = P.ldpc(H, "bec", p=0.2, seed=1, codeword="zero")
    assert np.all(zero.truth == 0) and zero.meta["codeword"] == "zero"
    x = P.random_codeword(H, seed=9)
    given = P.ldpc(H.toarray(), "bsc", p=0.1, seed=1, codeword=x)
    np.testing.assert_array_equal(given.truth, x)
    assert given.meta["codeword"] == "given" and given.meta["rank"] == P.gf2_rank(H)
    no_rank = P.ldpc(H, "bec", p=0.2, seed=1, codeword="zero", compute_rank=False)
    assert no_rank.meta["rank"] is None and no_rank.meta["rate"] is None
    small = P.ldpc([[1, 1, 0], [0, 1, 1]], "bec", p=0.5, seed=0)
    assert small.meta["rank"] == 2 and small.truth.tolist() in ([0, 0, 0], [1, 1, 1])


def test_ldpc_is_reproducible():
    H = P.regular_ldpc(120, 3, 6, seed=0)
    for ch, kw in (("bec", {"p": 0.4}), ("bsc", {"p": 0.1}), ("awgn", {"sigma": 1.0})):
        a, b = P.ldpc(H, ch, seed=8, **kw), P.ldpc(H, ch, seed=8, **kw)
        np.testing.assert_array_equal(a.truth, b.truth)
        np.testing.assert_array_equal(a.meta["y"], b.meta["y"])
        np.testing.assert_array_equal(a.graph.var_unary, b.graph.var_unary)
        c = P.ldpc(H, ch, seed=9, **kw)
        assert not np.array_equal(a.truth, c.truth)
        d = P.ldpc(H, ch, **kw)
        e = P.ldpc(H, ch, seed=d.meta["seed"], **kw)
        np.testing.assert_array_equal(d.meta["y"], e.meta["y"])


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"channel": "bsx", "p": 0.1}, ValueError, "'bec', 'bsc', 'awgn'"),
        ({"channel": "bsc"}, ValueError, "parameter p"),
        ({"channel": "bec"}, ValueError, "parameter p"),
        ({"channel": "awgn"}, ValueError, "parameter sigma"),
        ({"channel": "bsc", "p": 1.5}, ValueError, "p must lie"),
        ({"channel": "bec", "p": -0.1}, ValueError, "p must lie"),
        ({"channel": "bsc", "p": "x"}, TypeError, "p must"),
        ({"channel": "awgn", "sigma": 0.0}, ValueError, "sigma"),
        ({"channel": "awgn", "sigma": np.inf}, ValueError, "sigma"),
        ({"channel": "awgn", "p": 0.1}, ValueError, "takes sigma, not p"),
        ({"channel": "bsc", "p": 0.1, "sigma": 1.0}, ValueError, "takes p, not sigma"),
        ({"channel": "bsc", "p": 0.1, "codeword": "ones"}, ValueError, "codeword"),
        ({"channel": "bsc", "p": 0.1, "codeword": [1, 0, 0, 0]}, ValueError, "not in the code"),
        ({"channel": "bsc", "p": 0.1, "codeword": [1, 0]}, ValueError, "shape"),
        ({"channel": "bsc", "p": 0.1, "codeword": [2, 0, 0, 0]}, ValueError, "0 and 1"),
        ({"channel": "bsc", "p": 0.1, "seed": -3}, ValueError, "seed"),
    ],
)
def test_ldpc_refuses_bad_inputs(kwargs, exc, match):
    H = np.array([[1, 1, 0, 0], [0, 1, 1, 1]])
    with pytest.raises(exc, match=match):
        P.ldpc(H, **kwargs)


@pytest.mark.parametrize(
    "H, exc, match",
    [
        (np.array([[1, 2, 0]]), ValueError, "only 0 and 1"),
        (np.array([1, 0, 1]), ValueError, "2-dimensional"),
        (np.array([[1, 1, 0], [0, 0, 0]]), ValueError, "row 1 is empty"),
        (np.array([["a", "b"]]), TypeError, "H"),
        (sp.csr_array(np.array([[1.0, 0.5]])), ValueError, "only 0 and 1"),
    ],
)
def test_ldpc_refuses_bad_matrices(H, exc, match):
    with pytest.raises(exc, match=match):
        P.ldpc(H, "bec", p=0.1, seed=0)
