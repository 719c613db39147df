"""M-covers (lifts.cover): oracle tests.

Oracles used here:

* a slow reference lift written as an explicit loop over the definition of docs/theory.md §3.1
  (slot s of factor copy (a, m) joins variable copy (edge_var[e], perms[e, m])), wired by
  ``Wiring.from_edges`` (an independent code path with a sort);
* networkx: an identity lift is M disjoint copies, each isomorphic to the base;
* exact inference (``fgraph.exact``): Z(identity lift) = Z^M, and the closed form of the
  average partition function of uniform 2- and 3-covers of the Ising ring
  <Z_M> = (2 cosh b)^(nM) sum_{j<=M} t^(nj) (docs/theory.md §3.6), by enumerating all covers;
* cover invariance of BP (classical): on any lift, BP from uniform messages equals the
  base run copied onto every copy, and Bethe log Z(lift) = M log Z_B(base);
* the file formats: write a lift, read it back, same exact log Z.
"""

import dataclasses
import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import algorithms
import fgraph
from fgraph import CompiledGraph, FactorGraph, Wiring, exact
from lifts.cover import (
    Lift,
    ProjectedResult,
    copies,
    copies_of,
    copy_overlap,
    copy_spread,
    edge_copies,
    factor_copies_of,
    lift,
    lift_messages,
    project,
)

WIRING_FIELDS = ("n_var", "n_fac", "n_edge", "edge_var", "edge_fac", "fac_ptr", "var_ptr", "var_edges")
ARRAY_FIELDS = ("card", "var_unary", "type_ptr", "fac_param", "fac_origin")


# =================================================================== graphs
def mixed_graph(seed: int = 0) -> CompiledGraph:
    """Mixed cardinalities, arities 1-3, types table/ising/potts/parity/unary, fields, names."""
    rng = np.random.default_rng(seed)
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2, 2, 3, 2, 4, 2], names=[f"x{k}" for k in range(8)])
    g.add_factor([1, 4], rng.random((3, 3)) + 0.1)
    g.add_factor([0, 1, 6], rng.random((2, 3, 4)) + 0.1)
    g.add_ising([[0, 2], [2, 3], [3, 0], [5, 7]], J=rng.normal(size=4))
    g.add_factor([6], rng.random(4) + 0.1)
    g.add_potts([1, 4], J=0.7)
    g.add_parity([[2, 5, 7], [0, 3]], weight=1.3, target=[1, 0])
    g.add_unary(5, [0.3, 0.7])
    g.add_field(3, 0.4)
    return g.compile()


def random_tables(seed: int, n_var: int = 7, n_fac: int = 9) -> CompiledGraph:
    """Loopy graph of random dense tables of arity 1-3 on mixed cardinalities."""
    rng = np.random.default_rng(seed)
    g = FactorGraph()
    g.add_variables(card=rng.integers(2, 4, size=n_var))
    cards = g.cards()
    for _ in range(n_fac):
        scope = rng.choice(n_var, size=int(rng.integers(1, min(n_var, 3) + 1)), replace=False)
        g.add_factor(scope, rng.random(tuple(cards[scope])) + 0.05)
    return g.compile()


def ring(n: int, J: float) -> CompiledGraph:
    g = FactorGraph()
    g.add_variables(n)
    g.add_ising([[k, (k + 1) % n] for k in range(n)], J=J)
    return g.compile()


def chain_tree() -> CompiledGraph:
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2, 2])
    g.add_factor([0, 1], [[1, 2, 3], [3, 1, 2]])
    g.add_factor([1, 2, 3], np.arange(1, 13).reshape(3, 2, 2))
    g.add_field(0, 0.3)
    return g.compile()


GRAPHS = {
    "mixed": mixed_graph,
    "tables": lambda: random_tables(4),
    "grid": lambda: fgraph.problems.ising_grid(4, J="gauss", h=0.2, seed=3).graph,
    "ring": lambda: ring(5, 0.6),
    "tree": chain_tree,
}


def random_perms(n_edge: int, M: int, seed) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.argsort(rng.random((n_edge, M)), axis=1)


def identity_perms(n_edge: int, M: int) -> np.ndarray:
    return np.tile(np.arange(M), (n_edge, 1))


def reference_wiring(graph: CompiledGraph, perms: np.ndarray, M: int) -> Wiring:
    """The cover by the definition, one edge at a time (slow, independent of lifts.cover)."""
    fac_ptr, edge_var = [0], []
    for a in range(graph.n_fac):
        lo, hi = int(graph.fac_ptr[a]), int(graph.fac_ptr[a + 1])
        for m in range(M):
            for s in range(hi - lo):
                e = lo + s
                edge_var.append(int(graph.edge_var[e]) * M + int(perms[e, m]))
            fac_ptr.append(len(edge_var))
    return Wiring.from_edges(graph.n_var * M, fac_ptr, edge_var)


class FixedKernel:
    """A minimal kernel object: random permutations, with a description."""

    def sample(self, n_edge, M, seed):
        return random_perms(n_edge, M, seed)

    def identify(self):
        return "FixedKernel[test]"


# =================================================================== structure
@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("M", [1, 2, 3, 5])
def test_wiring_matches_reference(name, M):
    base = GRAPHS[name]()
    P = random_perms(base.n_edge, M, seed=M)
    L = lift(base, M, perms=P)
    ref = reference_wiring(base, P, M)
    for f in WIRING_FIELDS:
        assert np.array_equal(getattr(L.wiring, f), getattr(ref, f)), f
    L.validate()
    L.wiring.validate()
    assert np.array_equal(L.perms, P)


@given(
    seed=st.integers(0, 10**6),
    M=st.integers(1, 6),
    n_var=st.integers(1, 6),
    n_fac=st.integers(0, 7),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_wiring_matches_reference_property(seed, M, n_var, n_fac):
    base = random_tables(seed, n_var=n_var, n_fac=n_fac)
    P = random_perms(base.n_edge, M, seed + 1)
    L = lift(base, M, perms=P)
    ref = reference_wiring(base, P, M)
    for f in WIRING_FIELDS:
        assert np.array_equal(getattr(L.wiring, f), getattr(ref, f)), f
    L.validate()


def test_edge_copies_and_hand_example():
    g = FactorGraph()
    g.add_variables(3)
    g.add_ising([[0, 1], [1, 2], [2, 0]], J=0.5)
    base = g.compile()
    P = np.array([[0, 1], [1, 0], [0, 1], [0, 1], [0, 1], [1, 0]])
    L = lift(base, 2, perms=P)
    # factor copy (0, 0) = x0#0 - x1#1, (0, 1) = x0#1 - x1#0, ...
    assert [L.scope(b).tolist() for b in range(6)] == [[0, 3], [1, 2], [2, 4], [3, 5], [4, 1], [5, 0]]
    E = edge_copies(L)
    assert E.tolist() == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9, 11]]
    assert np.array_equal(L.edge_var[E], base.edge_var[:, None] * 2 + P)
    assert np.array_equal(L.edge_fac[E], base.edge_fac[:, None] * 2 + np.arange(2))
    # two crossings cancel: the holonomy around the ring is the identity, two 3-rings
    assert nx.number_connected_components(L.wiring.to_networkx()) == 2
    P[1] = [0, 1]  # one crossing left: a single 6-ring
    assert nx.is_connected(lift(base, 2, perms=P).wiring.to_networkx())


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_factor_copies_share_type_and_parameters(name):
    base = GRAPHS[name]()
    M = 3
    L = lift(base, M, perms=random_perms(base.n_edge, M, 7))
    assert L.types is base.types and L.params is base.params  # shared, not copied
    assert np.array_equal(L.type_ptr, base.type_ptr * M)
    assert np.array_equal(L.fac_param, np.repeat(base.fac_param, M))
    assert np.array_equal(L.card, np.repeat(base.card, M))
    assert np.array_equal(L.var_unary, np.repeat(base.var_unary, M, axis=0))
    assert np.array_equal(L.fac_origin // M, np.repeat(base.fac_origin, M))
    assert np.array_equal(L.fac_origin % M, np.tile(np.arange(M), base.n_fac))
    assert L.base is base and L.M == M and L.kernel == "explicit"
    for a in range(base.n_fac):
        for b in factor_copies_of(L, a):
            assert L.factor_type(b) is base.factor_type(a)
            assert L.describe_factor(b) == base.describe_factor(a)
            assert np.array_equal(L.log_table(b), base.log_table(a))
            assert L.scope(b).size == base.scope(a).size
    for f in ("card", "var_unary", "type_ptr", "fac_param", "fac_origin", "perms", *WIRING_FIELDS[3:]):
        arr = getattr(L, f)
        assert not arr.flags.writeable, f


def test_var_names():
    base = mixed_graph()
    L = lift(base, 2, perms=identity_perms(base.n_edge, 2))
    assert L.var_names[:4] == ("x0#0", "x0#1", "x1#0", "x1#1")
    assert lift(base, 1, perms=identity_perms(base.n_edge, 1)).var_names == base.var_names
    plain = ring(3, 0.5)
    assert lift(plain, 2, perms=identity_perms(plain.n_edge, 2)).var_names is None


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_covering_map_is_a_local_isomorphism(name):
    base = GRAPHS[name]()
    M = 4
    L = lift(base, M, perms=random_perms(base.n_edge, M, 11))
    assert np.array_equal(L.wiring.var_degree(), np.repeat(base.wiring.var_degree(), M))
    assert np.array_equal(L.wiring.fac_degree(), np.repeat(base.wiring.fac_degree(), M))
    for b in range(L.n_fac):
        assert np.array_equal(L.scope(b) // M, base.scope(b // M))  # same variables, same slots
    for v in range(L.n_var):
        i = v // M
        assert np.array_equal(L.wiring.factors_of_var(v) // M, base.wiring.factors_of_var(i))
        assert np.array_equal(L.wiring.edge_slot()[L.wiring.edges_of_var(v)],
                              base.wiring.edge_slot()[base.wiring.edges_of_var(i)])


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_one_cover_is_the_base(name):
    base = GRAPHS[name]()
    L = lift(base, 1, perms=np.zeros((base.n_edge, 1), dtype=np.int64))
    for f in WIRING_FIELDS:
        assert np.array_equal(getattr(L.wiring, f), getattr(base.wiring, f)), f
    for f in ARRAY_FIELDS:
        assert np.array_equal(getattr(L, f), getattr(base, f)), f
    assert L.types == base.types and L.params is base.params and L.var_names == base.var_names


@pytest.mark.parametrize("name", ["mixed", "tables", "ring", "tree"])
@pytest.mark.parametrize("M", [2, 3])
def test_identity_lift_is_disjoint_copies(name, M):
    base = GRAPHS[name]()
    L = lift(base, M, perms=identity_perms(base.n_edge, M))
    G = L.wiring.to_networkx()
    G0 = base.wiring.to_networkx()
    n_base_comp = nx.number_connected_components(G0)
    comps = list(nx.connected_components(G))
    assert len(comps) == M * n_base_comp
    # copy m is the subgraph of ids = m mod M, and it is isomorphic to the base
    for m in range(M):
        nodes = [n for n in G if n[1] % M == m]
        H = G.subgraph(nodes)
        assert nx.is_isomorphic(H, G0, node_match=lambda x, y: x["bipartite"] == y["bipartite"])
        assert not any(e for e in G.edges(nodes) if e[1][1] % M != m)
    assert math.isclose(exact.log_z(L), M * exact.log_z(base), rel_tol=1e-12, abs_tol=1e-12)


# =================================================================== cover invariance of BP
@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("schedule", ["parallel", "sequential"])
@pytest.mark.parametrize("M", [2, 3, 5])
def test_bp_cover_invariance(name, schedule, M):
    base = GRAPHS[name]()
    L = lift(base, M, perms=random_perms(base.n_edge, M, 100 + M))
    r = algorithms.run_bp(base, tol=1e-12, schedule=schedule, max_iter=2000)
    rl = algorithms.run_bp(L, tol=1e-12, schedule=schedule, max_iter=2000)
    assert r.converged and rl.converged and rl.n_iter == r.n_iter
    assert np.abs(copies(rl.beliefs, L) - r.beliefs[:, None, :]).max() < 1e-10
    assert abs(rl.log_z - M * r.log_z) < 1e-9 * (1 + abs(r.log_z))
    # the messages themselves are lifted: f2v on copy m of edge e is the base f2v on e
    assert np.abs(np.exp(rl.f2v[edge_copies(L)]) - np.exp(r.f2v[:, None, :])).max() < 1e-10


@pytest.mark.parametrize("schedule", ["parallel", "sequential"])
def test_bp_cover_invariance_max_product_and_damping(schedule):
    base = GRAPHS["grid"]()
    M = 3
    L = lift(base, M, perms=random_perms(base.n_edge, M, 5))
    for kw in ({"mode": "max", "max_iter": 200}, {"damping": 0.4, "max_iter": 2000}):
        r = algorithms.run_bp(base, tol=1e-12, schedule=schedule, **kw)
        rl = algorithms.run_bp(L, tol=1e-12, schedule=schedule, **kw)
        assert rl.n_iter == r.n_iter
        assert np.abs(copies(rl.beliefs, L) - r.beliefs[:, None, :]).max() < 1e-10
        assert abs(rl.log_z - M * r.log_z) < 1e-9 * (1 + abs(r.log_z))


def test_lift_of_a_lift():
    base = GRAPHS["mixed"]()
    L1 = lift(base, 2, perms=random_perms(base.n_edge, 2, 1))
    L2 = lift(L1, 3, perms=random_perms(L1.n_edge, 3, 2))
    L2.validate()
    assert L2.base is L1 and L2.n_var == base.n_var * 6
    r = algorithms.run_bp(base, tol=1e-12)
    r2 = algorithms.run_bp(L2, tol=1e-12)
    assert abs(r2.log_z - 6 * r.log_z) < 1e-9
    p = project(project(r2, L2).beliefs, L1)
    assert np.abs(p.beliefs - r.beliefs).max() < 1e-10


def test_lift_messages_is_a_fixed_point():
    base = GRAPHS["tables"]()
    L = lift(base, 4, perms=random_perms(base.n_edge, 4, 3))
    r = algorithms.run_bp(base, tol=1e-12)
    rl = algorithms.run_bp(L, init=lift_messages(r.f2v, L), tol=1e-10)
    assert rl.n_iter == 1 and rl.converged
    assert abs(rl.log_z - 4 * r.log_z) < 1e-9


# =================================================================== exact oracles
def _mean_log_z(log_zs) -> float:
    return float(np.logaddexp.reduce(np.asarray(log_zs)) - math.log(len(log_zs)))


@pytest.mark.parametrize(("n", "M", "J"), [(5, 2, 0.7), (4, 2, -0.4), (3, 3, 0.9)])
def test_ising_ring_average_over_all_covers(n, M, J):
    """<Z(cover)> over uniform covers = (2 cosh J)^(nM) sum_{j=0}^M t^(nj), t = tanh J.

    Slot 0 keeps the identity and slot 1 runs over all of S_M (the cover depends only on
    pi_1 pi_0^-1, which is uniform when both are)."""
    base = ring(n, J)
    t = math.tanh(J)
    expect = n * M * math.log(2 * math.cosh(J)) + math.log(sum(t ** (n * j) for j in range(M + 1)))
    perms_M = [np.array(p) for p in itertools.permutations(range(M))]
    log_zs = []
    for choice in itertools.product(range(len(perms_M)), repeat=n):
        P = identity_perms(base.n_edge, M)
        P[1::2] = [perms_M[k] for k in choice]
        log_zs.append(exact.log_z(lift(base, M, perms=P)))
    assert abs(_mean_log_z(log_zs) - expect) < 1e-10


def test_ising_ring_average_over_both_slots():
    n, M, J = 3, 2, 0.5
    base = ring(n, J)
    t = math.tanh(J)
    expect = n * M * math.log(2 * math.cosh(J)) + math.log(1 + t**n + t ** (2 * n))
    log_zs = [
        exact.log_z(lift(base, M, perms=np.array(rows)))
        for rows in itertools.product([[0, 1], [1, 0]], repeat=base.n_edge)
    ]
    assert len(log_zs) == 2 ** (2 * n)
    assert abs(_mean_log_z(log_zs) - expect) < 1e-10


@pytest.mark.parametrize("ext", [".uai", ".fg"])
def test_write_read_round_trip(ext, tmp_path):
    base = GRAPHS["mixed"]()
    L = lift(base, 2, perms=random_perms(base.n_edge, 2, 9))
    path = tmp_path / f"lift{ext}"
    fgraph.write(L, path)
    back = fgraph.read(path)
    assert back.n_var == L.n_var and np.array_equal(back.card, L.card)
    assert math.isclose(exact.log_z(back), exact.log_z(L), rel_tol=1e-12)


# =================================================================== the Lift type
def test_lift_is_a_compiled_graph_value():
    base = GRAPHS["mixed"]()
    L = lift(base, 3, perms=random_perms(base.n_edge, 3, 1))
    assert isinstance(L, CompiledGraph)
    assert repr(L).startswith("Lift(M=3, kernel=explicit, n_var=24")
    with pytest.raises(dataclasses.FrozenInstanceError):
        L.M = 4
    E = L.with_evidence({0: 1, "x2#1": 0})
    assert isinstance(E, Lift) and E.base is base and E.perms is L.perms
    E.validate()
    assert E.evidence() == {0: 1, 7: 0}
    T = L.to_tables()
    assert isinstance(T, Lift) and T.types == ("table",)
    T.validate()
    assert math.isclose(exact.log_z(T), exact.log_z(L), rel_tol=1e-12)


def test_perms_are_copied_and_read_only():
    base = ring(4, 0.3)
    P = random_perms(base.n_edge, 3, 0)
    L = lift(base, 3, perms=P)
    P[0] = [0, 1, 2]
    assert not np.shares_memory(L.perms, P) and L.perms.dtype == np.int64
    with pytest.raises(ValueError):
        L.perms[0, 0] = 1


def test_validate_detects_a_tampered_lift():
    base = ring(4, 0.3)
    L = lift(base, 3, perms=random_perms(base.n_edge, 3, 0))
    other = np.array(random_perms(base.n_edge, 3, 1))
    other.flags.writeable = False
    with pytest.raises(ValueError, match="not the cover of base.wiring"):
        dataclasses.replace(L, perms=other).validate()
    with pytest.raises(ValueError, match="expected base.n_var"):
        dataclasses.replace(L, base=ring(5, 0.3)).validate()
    with pytest.raises(ValueError, match="read-only"):
        dataclasses.replace(L, perms=np.array(L.perms)).validate()


def test_kernel_object_and_seed():
    base = GRAPHS["grid"]()
    L = lift(base, 4, kernel=FixedKernel(), seed=3)
    L.validate()
    assert L.kernel == "FixedKernel[test]"
    assert np.array_equal(L.perms, random_perms(base.n_edge, 4, 3))
    assert np.array_equal(lift(base, 4, kernel=FixedKernel(), seed=3).edge_var, L.edge_var)


def test_default_kernel_is_uniform():
    base = GRAPHS["grid"]()
    L = lift(base, 4, seed=0)
    L.validate()
    assert L.kernel != "explicit"
    assert np.array_equal(lift(base, 4, seed=0).perms, L.perms)
    r = algorithms.run_bp(base, tol=1e-12)
    assert abs(algorithms.run_bp(L, tol=1e-12).log_z - 4 * r.log_z) < 1e-9


@pytest.mark.parametrize("spec", ["identity", "uniform", "shift", "ring:1.0"])
def test_kernel_specs(spec):
    from lifts.kernels import from_spec

    base = GRAPHS["mixed"]()
    L = lift(base, 4, kernel=spec, seed=1)
    L.validate()
    assert L.kernel == from_spec(spec).identify()
    assert np.array_equal(L.perms, from_spec(spec).sample(base.n_edge, 4, 1))
    if spec == "identity":
        assert math.isclose(exact.log_z(L), 4 * exact.log_z(base), rel_tol=1e-12)
    r = algorithms.run_bp(base, tol=1e-12)
    assert abs(algorithms.run_bp(L, tol=1e-12).log_z - 4 * r.log_z) < 1e-9


def test_large_lift_validates():
    base = fgraph.problems.ising_grid(60).graph  # ~7000 edges
    L = lift(base, 8, perms=random_perms(base.n_edge, 8, 0))
    L.validate()
    assert L.n_edge == 8 * base.n_edge


def test_graph_without_factors():
    g = FactorGraph()
    g.add_variables(card=[2, 3])
    g.add_field(0, 0.5)
    base = g.compile()
    L = lift(base, 3, perms=np.zeros((0, 3), dtype=np.int64))
    L.validate()
    assert L.n_var == 6 and L.n_edge == 0
    assert math.isclose(exact.log_z(L), 3 * exact.log_z(base), rel_tol=1e-12)


# =================================================================== projection
def test_project_identity_lift_equals_base():
    base = GRAPHS["mixed"]()
    M = 3
    L = lift(base, M, perms=identity_perms(base.n_edge, M))
    r = algorithms.run_bp(base, tol=1e-12)
    rl = algorithms.run_bp(L, tol=1e-12)
    p = project(rl, L)
    assert isinstance(p, ProjectedResult) and p.M == M
    assert np.abs(p.beliefs - r.beliefs).max() < 1e-12
    assert len(p.marginals) == base.n_var
    for got, want in zip(p.marginals, r.marginals):
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-12)
    assert abs(p.log_z_per_copy - r.log_z) < 1e-10 and abs(p.log_z - M * r.log_z) < 1e-9
    assert np.shares_memory(p.copy_beliefs, rl.beliefs)
    assert not p.beliefs.flags.writeable


def test_project_matches_exact_marginals_on_a_tree_cover():
    base = chain_tree()
    L = lift(base, 4, perms=random_perms(base.n_edge, 4, 2))
    p = project(algorithms.run_bp(L, tol=1e-13), L)
    for got, want in zip(p.marginals, exact.marginals(base)):
        assert np.allclose(got, want, atol=1e-10)
    assert abs(p.log_z_per_copy - exact.log_z(base)) < 1e-10


def test_copies_is_a_view():
    base = GRAPHS["grid"]()
    L = lift(base, 3, perms=random_perms(base.n_edge, 3, 0))
    b = algorithms.run_bp(L).beliefs
    c = copies(b, L)
    assert c.shape == (base.n_var, 3, base.q_max) and np.shares_memory(c, b)
    assert np.array_equal(c[2, 1], b[copies_of(L, 2)[1]])
    x = np.arange(L.n_var)
    assert np.array_equal(copies(x, L)[5], copies_of(L, 5))


def test_copies_of_and_factor_copies_of():
    base = GRAPHS["mixed"]()
    L = lift(base, 3, perms=identity_perms(base.n_edge, 3))
    assert copies_of(L, 2).tolist() == [6, 7, 8] and copies_of(L, 2).dtype == np.int64
    assert copies_of(L, np.array([0, 1])).shape == (2, 3)
    assert factor_copies_of(L, 1).tolist() == [3, 4, 5]
    with pytest.raises(IndexError, match="variable 8 out of range"):
        copies_of(L, 8)
    with pytest.raises(IndexError, match="factor -1 out of range"):
        factor_copies_of(L, -1)


def test_copy_spread_and_overlap():
    base = GRAPHS["grid"]()
    M = 4
    L = lift(base, M, perms=random_perms(base.n_edge, M, 0))
    rl = algorithms.run_bp(L, tol=1e-12)
    assert copy_spread(rl, L).shape == (base.n_var,)
    assert copy_spread(rl, L).max() < 1e-10  # lifted state
    s = 2 * algorithms.run_bp(base, tol=1e-12).beliefs[:, 1] - 1
    assert np.allclose(copy_overlap(rl, L), s**2, atol=1e-10)
    Q = copy_overlap(rl, L, matrix=True)
    assert Q.shape == (M, M) and np.allclose(Q, np.mean(s**2), atol=1e-10)
    # hand-made beliefs: copies 0, 1 at s = +1, copies 2, 3 at s = -1
    b = np.tile([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], (base.n_var, 1))
    assert np.allclose(copy_overlap(b, L), (2 * 1 + 2 * 1 - 8 * 1) / 12)
    assert np.allclose(copy_spread(b, L), 0.5)  # TV(one-hot, uniform) = 1/2


# =================================================================== errors
def test_errors():
    base = ring(4, 0.3)
    P = identity_perms(base.n_edge, 2)
    with pytest.raises(ValueError, match="M must be >= 1, got 0"):
        lift(base, 0, perms=np.zeros((base.n_edge, 0), dtype=np.int64))
    with pytest.raises(TypeError, match="M must be an int"):
        lift(base, 2.0, perms=P)
    with pytest.raises(TypeError, match="M must be an int"):
        lift(base, True, perms=P)
    with pytest.raises(TypeError, match="graph must be a CompiledGraph.*FactorGraph"):
        lift(FactorGraph(), 2, perms=P)
    with pytest.raises(ValueError, match=r"perms must have shape \(n_edge, M\) = \(8, 2\), got \(8, 3\)"):
        lift(base, 2, perms=identity_perms(base.n_edge, 3))
    with pytest.raises(ValueError, match=r"got \(16,\)"):
        lift(base, 2, perms=P.ravel())
    with pytest.raises(TypeError, match="perms must hold integers"):
        lift(base, 2, perms=P + 0.5)
    bad = P.copy()
    bad[3] = [1, 1]
    with pytest.raises(ValueError, match=r"perms row 3 = \[1, 1\] is not a permutation of 0..1"):
        lift(base, 2, perms=bad)
    bad[3] = [0, 2]
    bad[1] = [0, 0]
    with pytest.raises(ValueError, match=r"perms row 3 = \[0, 2\]"):  # out of range is caught first
        lift(base, 2, perms=bad)
    with pytest.raises(ValueError, match="either kernel or perms"):
        lift(base, 2, kernel=FixedKernel(), perms=P)
    with pytest.raises(TypeError, match="kernel must be None, a spec string or an object"):
        lift(base, 2, kernel=42)
    L = lift(base, 2, perms=P)
    with pytest.raises(TypeError, match="lift must be a Lift"):
        copies(np.zeros((8, 2)), base)
    with pytest.raises(ValueError, match="lift.n_var = 8 rows"):
        copies(np.zeros((4, 2)), L)
    with pytest.raises(ValueError, match="was the result computed on this lift"):
        project(algorithms.run_bp(base), L)
    with pytest.raises(TypeError, match="with .beliefs"):
        project(object(), L)
    with pytest.raises(ValueError, match="base.n_edge = 8 rows"):
        lift_messages(np.zeros((3, 2)), L)
    with pytest.raises(ValueError, match="base variable 1 has card 3"):
        copy_overlap(np.zeros((16, 3)), lift(GRAPHS["mixed"](), 2, perms=identity_perms(22, 2)))
    with pytest.raises(ValueError, match="M >= 2"):
        copy_overlap(np.zeros((4, 2)), lift(base, 1, perms=identity_perms(8, 1)))
