"""Wiring: CSR invariants, checked against networkx and against hand-built cases."""

import networkx as nx
import numpy as np
import pytest

from fgraph import FactorGraph, Wiring


def test_chain_by_hand():
    w = Wiring.from_edges(3, [0, 2, 4], [0, 1, 1, 2])
    assert w.edge_fac.tolist() == [0, 0, 1, 1]
    assert w.var_ptr.tolist() == [0, 1, 3, 4]
    assert w.var_edges.tolist() == [0, 1, 2, 3]
    assert w.edge_slot().tolist() == [0, 1, 0, 1]
    w.validate()


def test_arrays_are_read_only():
    w = Wiring.from_edges(2, [0, 2], [0, 1])
    for name in ("edge_var", "edge_fac", "fac_ptr", "var_ptr", "var_edges"):
        with pytest.raises(ValueError):
            getattr(w, name)[0] = 1


@pytest.mark.parametrize("seed", range(5))
def test_degrees_match_networkx(seed):
    rng = np.random.default_rng(seed)
    n_var = 30
    scopes = [rng.choice(n_var, size=rng.integers(1, 5), replace=False) for _ in range(40)]
    fac_ptr = np.concatenate([[0], np.cumsum([len(s) for s in scopes])])
    w = Wiring.from_edges(n_var, fac_ptr, np.concatenate(scopes))
    w.validate()
    G = w.to_networkx()
    assert nx.is_bipartite(G)
    for i in range(n_var):
        assert G.degree[("v", i)] == w.var_degree()[i]
        assert sorted(a for _, (_, a) in G.edges(("v", i))) == sorted(w.factors_of_var(i).tolist())
    for a, s in enumerate(scopes):
        assert w.scope(a).tolist() == list(s)


def test_same_graph_three_ways_same_wiring():
    """Batched, one-by-one and generic add() give identical wiring (PGMax habit)."""
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 0]])
    g1 = FactorGraph()
    g1.add_variables(4)
    g1.add_ising(edges, 0.5)
    g2 = FactorGraph()
    g2.add_variables(4)
    for e in edges:
        g2.add_ising(e, 0.5)
    g3 = FactorGraph()
    g3.add_variables(4)
    g3.add("ising", edges, J=np.full(4, 0.5))
    c1, c2, c3 = g1.compile(), g2.compile(), g3.compile()
    for name in ("edge_var", "edge_fac", "fac_ptr", "var_ptr", "var_edges"):
        assert np.array_equal(getattr(c1, name), getattr(c2, name))
        assert np.array_equal(getattr(c1, name), getattr(c3, name))
    assert np.array_equal(c1.params[0]["J"], c2.params[0]["J"])


@pytest.mark.parametrize(
    "fac_ptr, edge_var, msg",
    [
        ([0, 2], [0, 0], "more than once"),
        ([0, 2], [0, 5], "outside"),
        ([1, 2], [0, 1], "start at 0"),
        ([0, 2, 1], [0, 1], "non-decreasing|end at"),
    ],
)
def test_from_edges_rejects(fac_ptr, edge_var, msg):
    with pytest.raises(ValueError, match=msg):
        Wiring.from_edges(3, fac_ptr, edge_var)


def test_validate_catches_tampering():
    w = Wiring.from_edges(3, [0, 2, 4], [0, 1, 1, 2])
    bad = np.array(w.var_edges)[::-1].copy()
    bad.flags.writeable = False
    from dataclasses import replace

    with pytest.raises(ValueError, match="var_edges"):
        replace(w, var_edges=bad).validate()
