"""Property tests: random valid graphs compile and validate; corruptions are refused.

A corruption must give ValueError/TypeError at the ``add_*`` call or at
``compile()``; never a crash of another kind, and never a graph that compiles.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fgraph import FactorGraph

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def graph_specs(draw):
    n = draw(st.integers(1, 6))
    cards = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    factors = []
    for _ in range(draw(st.integers(0, 6))):
        k = int(rng.integers(1, min(n, 3) + 1))
        scope = rng.choice(n, size=k, replace=False)
        shape = tuple(cards[i] for i in scope)
        table = rng.random(shape) * (rng.random(shape) > 0.3)
        table.flat[rng.integers(table.size)] = 1.0 + rng.random()  # never all-zero
        factors.append((scope, table))
    binaries = [i for i in range(n) if cards[i] == 2]
    pairs = [(i, j) for i in binaries for j in binaries if i < j]
    ising = pairs[: int(rng.integers(0, len(pairs) + 1))]
    J = rng.normal(size=len(ising))
    return cards, factors, ising, J, seed


def build(spec):
    cards, factors, ising, J, _ = spec
    g = FactorGraph()
    g.add_variables(card=cards)
    for scope, table in factors:
        g.add_factor(scope, table)
    if ising:
        g.add_ising(np.array(ising), J)
    return g


@SETTINGS
@given(graph_specs())
def test_random_valid_graphs_compile_and_validate(spec):
    cg = build(spec).compile()
    cg.validate()
    cards, factors, ising, _, _ = spec
    assert cg.n_var == len(cards)
    assert cg.n_fac == len(factors) + len(ising)
    assert cg.n_edge == sum(len(s) for s, _ in factors) + 2 * len(ising)
    # every stored table equals the one given, in log domain
    tabs = [a for a in range(cg.n_fac) if cg.types[cg.type_index(a)] == "table"]
    for a, (scope, table) in zip(tabs, factors):
        assert cg.scope(a).tolist() == list(scope)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(cg.log_table(a), np.log(table))
    # log_score agrees with the dense-table view on random states
    rng = np.random.default_rng(spec[-1])
    xs = np.stack([rng.integers(0, c, size=5) for c in cards], axis=1)
    np.testing.assert_allclose(cg.log_score(xs), cg.to_tables().log_score(xs), atol=1e-12)


CORRUPTIONS = [
    "negative",
    "nan",
    "posinf",
    "shape",
    "unknown_var",
    "repeat_var",
    "card0",
    "all_zero",
    "float_scope",
    "empty",
]


@SETTINGS
@given(graph_specs(), st.sampled_from(CORRUPTIONS), st.integers(0, 10**6))
def test_random_corruptions_are_refused(spec, kind, salt):
    cards, factors, ising, J, seed = spec
    rng = np.random.default_rng(seed + salt)
    n = len(cards)
    with pytest.raises((ValueError, TypeError)):
        if kind == "empty":
            FactorGraph().compile()
        g = FactorGraph()
        g.add_variables(card=cards)
        if kind == "card0":
            g.add_variables(1, card=int(rng.integers(-2, 1)))
        scope = rng.choice(n, size=int(rng.integers(1, min(n, 3) + 1)), replace=False)
        table = rng.random(tuple(cards[i] for i in scope)) + 0.1
        if kind == "negative":
            table.flat[rng.integers(table.size)] = -rng.random() - 1e-3
        elif kind == "nan":
            table.flat[rng.integers(table.size)] = np.nan
        elif kind == "posinf":
            table.flat[rng.integers(table.size)] = np.inf
        elif kind == "shape":
            table = np.ones(table.shape + (2,))
        elif kind == "unknown_var":
            scope = scope.copy()
            scope[rng.integers(scope.size)] = n + int(rng.integers(0, 5))
        elif kind == "repeat_var":
            scope = np.append(scope, scope[0])
            table = np.ones(tuple(cards[i] for i in scope))
        elif kind == "all_zero":
            table = np.zeros_like(table)
        elif kind == "float_scope":
            scope = scope + 0.5
        g.add_factor(scope, table)
        g.compile()
