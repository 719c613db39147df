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


def _ro(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


TAMPERS = [
    "edge_var_range",
    "edge_var_repeat",
    "var_edges_order",
    "var_ptr",
    "fac_ptr",
    "card_zero",
    "card_shape",
    "unary_nan",
    "unary_pad",
    "fac_param_range",
    "logp_nan",
    "logp_posinf",
    "type_ptr",
    "writable",
]


@SETTINGS
@given(graph_specs(), st.sampled_from(TAMPERS))
def test_validate_rejects_tampered_compiled_graphs(spec, kind):
    """A compiled graph whose arrays break an invariant never passes validate()."""
    from dataclasses import replace

    cg = build(spec).compile()
    w = cg.wiring
    rng = np.random.default_rng(spec[-1])
    wiring_kinds = ("edge_var_range", "edge_var_repeat", "var_edges_order", "var_ptr", "fac_ptr")
    if kind in wiring_kinds and cg.n_edge < 2:
        kind = "card_zero"
    if kind in ("fac_param_range", "logp_nan", "logp_posinf", "type_ptr") and "table" not in cg.types:
        kind = "unary_nan"
    if kind == "writable":
        bad = replace(cg, fac_param=np.array(cg.fac_param))
    elif kind == "edge_var_range":
        ev = np.array(w.edge_var)
        ev[rng.integers(ev.size)] = cg.n_var + 1
        bad = replace(cg, wiring=replace(w, edge_var=_ro(ev)))
    elif kind == "edge_var_repeat":
        degs = w.fac_degree()
        if degs.max() < 2:
            ev = np.array(w.edge_var)
            ev[0] = (ev[0] + 1) % cg.n_var if cg.n_var > 1 else ev[0]
            bad = replace(cg, wiring=replace(w, edge_var=_ro(ev)))  # breaks var_ptr/var_edges
            if cg.n_var == 1:
                bad = replace(cg, card=_ro(np.zeros(1, dtype=np.int64)))
        else:
            a = int(np.flatnonzero(degs >= 2)[0])
            ev = np.array(w.edge_var)
            ev[w.fac_ptr[a] + 1] = ev[w.fac_ptr[a]]
            bad = replace(cg, wiring=replace(w, edge_var=_ro(ev)))
    elif kind == "var_edges_order":
        ve = np.array(w.var_edges)
        ve[[0, -1]] = ve[[-1, 0]]
        bad = replace(cg, wiring=replace(w, var_edges=_ro(ve)))
    elif kind == "var_ptr":
        vp = np.array(w.var_ptr)
        vp[-1] += 1
        bad = replace(cg, wiring=replace(w, var_ptr=_ro(vp)))
    elif kind == "fac_ptr":
        fp = np.array(w.fac_ptr)
        fp[-1] -= 1
        bad = replace(cg, wiring=replace(w, fac_ptr=_ro(fp)))
    elif kind == "card_zero":
        c = np.array(cg.card)
        c[rng.integers(c.size)] = 0
        bad = replace(cg, card=_ro(c))
    elif kind == "card_shape":
        bad = replace(cg, card=_ro(np.append(cg.card, 2)))
    elif kind == "unary_nan":
        vu = np.array(cg.var_unary)
        vu[rng.integers(vu.shape[0]), 0] = np.nan
        bad = replace(cg, var_unary=_ro(vu))
    elif kind == "unary_pad":
        vu = np.array(cg.var_unary)
        if vu.shape[1] == int(cg.card.min()):
            vu = np.concatenate([vu, np.zeros((vu.shape[0], 1))], axis=1)
        else:
            i = int(np.argmin(cg.card))
            vu[i, -1] = 0.0
        bad = replace(cg, var_unary=_ro(vu))
    else:
        t = cg.types.index("table")
        params = dict(cg.params[t])
        if kind == "fac_param_range":
            fpar = np.array(cg.fac_param)
            fpar[cg.type_ptr[t]] = 10**6
            bad = replace(cg, fac_param=_ro(fpar))
        elif kind in ("logp_nan", "logp_posinf"):
            logp = np.array(params["logp"])
            logp[rng.integers(logp.size)] = np.nan if kind == "logp_nan" else np.inf
            params["logp"] = logp
            from fgraph.factors import freeze_params

            newp = list(cg.params)
            newp[t] = freeze_params(params)
            bad = replace(cg, params=tuple(newp))
        elif kind == "type_ptr":
            tp = np.array(cg.type_ptr)
            tp[-1] += 1
            bad = replace(cg, type_ptr=_ro(tp))
    with pytest.raises(ValueError):
        bad.validate()
