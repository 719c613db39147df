"""FactorGraph builder and CompiledGraph: behaviour, layout, bad input."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

import fgraph
from fgraph import FactorGraph, FactorType, register_factor_type


def brute_log_score(cg, x):
    """Independent log-score: sum of dense tables + unary evidence."""
    total = sum(cg.var_unary[i, x[i]] for i in range(cg.n_var))
    for a in range(cg.n_fac):
        total += cg.log_table(a)[tuple(x[cg.scope(a)])]
    return total


def small_mixed_graph():
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2, 4])
    g.add_factor([1, 0], np.arange(1, 7).reshape(3, 2))
    g.add_factor([3], log_table=[0.0, -np.inf, 1.0, 2.0])
    g.add_ising([0, 2], J=0.7)
    g.add_parity([0, 2], weight=1.25, target=1)
    g.add_unary(1, [0.2, 0.3, 0.5])
    g.add_field(0, 0.3)
    g.add_log_evidence(3, [0.1, 0.2, 0.3, 0.4])
    return g.compile()


def test_layout_and_log_score_against_dense_tables():
    cg = small_mixed_graph()
    cg.validate()
    assert cg.types == ("unary", "table", "ising", "parity")
    assert cg.n_var == 4 and cg.q_max == 4
    # builder ids in creation order: table0, table1, ising, parity, unary
    assert cg.fac_origin.tolist() == [4, 0, 1, 2, 3]
    states = np.array(list(itertools.product(range(2), range(3), range(2), range(4))))
    got = cg.log_score(states)
    want = [brute_log_score(cg, x) for x in states]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cg.to_tables().log_score(states), want, rtol=0, atol=1e-12)


def test_table_is_c_order_last_argument_fastest():
    g = FactorGraph()
    g.add_variables(card=[2, 3])
    g.add_factor([0, 1], [[1, 2, 3], [4, 5, 6]])
    cg = g.compile()
    # state (x0=1, x1=2) -> table[1][2] = 6
    assert cg.log_score([1, 2]) == pytest.approx(math.log(6))


def test_ising_potts_parity_tables():
    g = FactorGraph()
    g.add_variables(2)
    g.add_variables(2, card=3)
    g.add_variables(3)
    g.add_ising([0, 1], J=0.5)
    g.add_potts([2, 3], J=2.0)
    g.add_parity([4, 5, 6])
    cg = g.compile()
    np.testing.assert_array_equal(cg.log_table(0), [[0.5, -0.5], [-0.5, 0.5]])
    np.testing.assert_array_equal(cg.log_table(1), 2.0 * np.eye(3))
    par = cg.log_table(2)
    for x in itertools.product(range(2), repeat=3):
        assert par[x] == (0.0 if sum(x) % 2 == 0 else -np.inf)


def test_field_sign_convention():
    g = FactorGraph()
    g.add_variables(1)
    g.add_field(0, 0.25)
    cg = g.compile()
    # state 1 is s = +1: log phi = h s
    assert cg.var_unary[0].tolist() == [-0.25, 0.25]


def test_arrays_read_only_and_frozen():
    cg = small_mixed_graph()
    with pytest.raises(ValueError):
        cg.card[0] = 5
    with pytest.raises(ValueError):
        cg.var_unary[0, 0] = 1.0
    with pytest.raises(ValueError):
        cg.params[0]["logp"][0] = 1.0
    with pytest.raises(TypeError):
        cg.params[0]["logp"] = np.zeros(3)
    with pytest.raises(AttributeError):
        cg.card = np.zeros(4)


def test_evidence_round():
    cg = small_mixed_graph().with_evidence({1: 2})
    assert cg.evidence() == {1: 2}
    assert cg.var_unary[1].tolist()[:2] == [-np.inf, -np.inf]
    with pytest.raises(ValueError, match="outside"):
        cg.with_evidence({1: 3})
    with pytest.raises(ValueError, match="unknown variable"):
        cg.with_evidence({9: 0})
    with pytest.raises(TypeError):
        cg.with_evidence([1, 2])
    with pytest.raises(ValueError, match="zero weight"):
        cg.with_evidence({1: 0})  # already excluded by the evidence 1 = 2


def test_named_variables_and_evidence_by_name():
    g = FactorGraph()
    g.add_variable(2, name="rain")
    g.add_variable(2, name="wet")
    g.add_factor([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    cg = g.compile()
    assert cg.var_names == ("rain", "wet")
    assert cg.with_evidence({"wet": 1}).evidence() == {1: 1}


def test_batch_tables_shared_and_per_factor():
    g = FactorGraph()
    g.add_variables(4)
    ids = g.add_factors([[0, 1], [1, 2], [2, 3]], np.array([[1.0, 2.0], [3.0, 4.0]]))
    ids2 = g.add_factors([[0, 2], [1, 3]], log_tables=np.zeros((2, 2, 2)))
    assert ids.tolist() == [0, 1, 2] and ids2.tolist() == [3, 4]
    cg = g.compile()
    np.testing.assert_allclose(cg.log_table(1), np.log([[1, 2], [3, 4]]))


def test_mixed_cardinalities_in_one_batch():
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2])
    tabs = np.ones((2, 3, 3))  # not valid for both: shape must match each scope
    with pytest.raises(ValueError):
        g.add_factors([[0, 1], [1, 2]], tabs)


def test_user_factor_type_without_editing_package():
    class Equal(FactorType):
        name = "test_equal"

        def log_table(self, params, row, cards):
            q = int(cards[0])
            return np.where(np.eye(q, dtype=bool), 0.0, -params["penalty"][row])

    register_factor_type(Equal(), overwrite=True)
    g = FactorGraph()
    g.add_variables(3, card=3)
    g.add("test_equal", [[0, 1], [1, 2]], penalty=[1.0, 2.0])
    cg = g.compile()
    cg.validate()
    assert cg.types == ("test_equal",)
    x = np.array([0, 0, 1])
    assert cg.log_score(x) == pytest.approx(-2.0) == brute_log_score(cg, x)


def test_unknown_factor_type_says_what_to_define():
    g = FactorGraph()
    g.add_variables(2)
    with pytest.raises(ValueError, match="register_factor_type"):
        g.add("no_such_type", [[0, 1]])


def test_summary_and_repr():
    cg = small_mixed_graph()
    s = cg.summary()
    assert s["n_variables"] == 4 and s["n_factors"] == 5
    assert s["factor_types"] == {"unary": 1, "table": 2, "ising": 1, "parity": 1}
    assert "n_var=4" in repr(cg)


def test_to_tables_keeps_factor_order():
    cg = small_mixed_graph()
    tg = cg.to_tables()
    tg.validate()
    for a in range(cg.n_fac):
        np.testing.assert_array_equal(cg.log_table(a), tg.log_table(a))


def test_parity_from_sparse_matrix():
    import scipy.sparse as sp

    H = sp.csr_array(np.array([[1, 1, 0, 1], [0, 1, 1, 0]]))
    g = FactorGraph()
    g.add_variables(4)
    g.add_parity_checks(H)
    cg = g.compile()
    assert cg.scope(0).tolist() == [0, 1, 3]
    assert cg.scope(1).tolist() == [1, 2]


# ------------------------------------------------------------------ bad input
def _two_vars():
    g = FactorGraph()
    g.add_variables(2)
    return g


@pytest.mark.parametrize(
    "table, msg",
    [
        ([[1.0, -1.0], [1.0, 1.0]], "must be finite and >= 0"),
        ([[1.0, np.nan], [1.0, 1.0]], "must be finite and >= 0"),
        ([[1.0, np.inf], [1.0, 1.0]], "must be finite and >= 0"),
        ([[0.0, 0.0], [0.0, 0.0]], r"zero everywhere \(Z = 0\)"),
        ([1.0, 2.0, 3.0], "does not match"),
    ],
)
def test_bad_tables(table, msg):
    with pytest.raises(ValueError, match=msg):
        _two_vars().add_factor([0, 1], table)


@pytest.mark.parametrize(
    "log_table, msg",
    [
        ([[0.0, np.nan], [0.0, 0.0]], "NaN or \\+inf"),
        ([[0.0, np.inf], [0.0, 0.0]], "NaN or \\+inf"),
        ([[-np.inf, -np.inf], [-np.inf, -np.inf]], "zero everywhere"),
    ],
)
def test_bad_log_tables(log_table, msg):
    with pytest.raises(ValueError, match=msg):
        _two_vars().add_factor([0, 1], log_table=log_table)


def test_bad_scopes_name_the_item():
    g = _two_vars()
    with pytest.raises(ValueError, match="unknown variable 7"):
        g.add_factor([0, 7], np.ones((2, 2)))
    with pytest.raises(ValueError, match="repeats variable 1"):
        g.add_factor([1, 1], np.ones((2, 2)))
    with pytest.raises(ValueError, match="repeats variable 0"):
        g.add_parity([0, 1, 0])
    with pytest.raises(ValueError, match=r"ising factor 1 repeats variable 1"):
        g.add_ising([[0, 1], [1, 1]])
    with pytest.raises(ValueError, match="unknown variable -1"):
        g.add_ising([[0, -1]])
    with pytest.raises(TypeError, match="integers"):
        g.add_factor([0.5, 1], np.ones((2, 2)))
    with pytest.raises(TypeError, match="exactly one"):
        g.add_factor([0, 1])


@pytest.mark.parametrize("card", [0, -3])
def test_cardinality_below_one(card):
    with pytest.raises(ValueError, match="cardinality must be >= 1"):
        FactorGraph().add_variables(2, card=card)


def test_empty_graph():
    with pytest.raises(ValueError, match="empty graph"):
        FactorGraph().compile()


def test_type_specific_checks():
    g = FactorGraph()
    g.add_variables(card=[2, 3, 3, 4])
    with pytest.raises(ValueError, match="binary"):
        g.add_ising([0, 1])
    with pytest.raises(ValueError, match="cardinalities"):
        g.add_potts([2, 3])
    with pytest.raises(ValueError, match="binary"):
        g.add_parity([0, 1])
    with pytest.raises(ValueError, match="not finite"):
        _two_vars().add_ising([0, 1], J=np.nan)
    with pytest.raises(ValueError, match="weight"):
        _two_vars().add_parity([0, 1], weight=-1.0)
    with pytest.raises(ValueError, match="target"):
        _two_vars().add_parity([0, 1], target=2)
    with pytest.raises(ValueError, match="shape"):
        _two_vars().add_ising([[0, 1]], J=[1.0, 2.0])


def test_contradictory_evidence():
    g = _two_vars()
    g.set_evidence({0: 1})
    with pytest.raises(ValueError, match="already observed"):
        g.set_evidence({0: 0})
    g2 = _two_vars()
    g2.add_log_evidence(0, [-np.inf, 0.0])
    g2.set_evidence({0: 0})
    with pytest.raises(ValueError, match=r"Z = 0"):
        g2.compile()
    with pytest.raises(ValueError, match=r"Z = 0"):
        _two_vars().add_log_evidence(1, [-np.inf, -np.inf])


def test_validate_rejects_tampered_compiled_graph():
    cg = small_mixed_graph()

    def ro(a):
        a = np.array(a)
        a.flags.writeable = False
        return a

    with pytest.raises(ValueError, match="card"):
        replace(cg, card=ro(np.array([2, 0, 2, 4]))).validate()
    vu = np.array(cg.var_unary)
    vu[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        replace(cg, var_unary=ro(vu)).validate()
    with pytest.raises(ValueError, match="fac_param"):
        replace(cg, fac_param=ro(np.zeros(3, dtype=np.int64))).validate()
    writable = np.array(cg.card)
    with pytest.raises(ValueError, match="read-only"):
        replace(cg, card=writable).validate()


def test_isolated_variables_allowed():
    g = FactorGraph()
    g.add_variables(3)
    cg = g.compile()
    cg.validate()
    assert cg.n_fac == 0 and cg.log_score([0, 1, 0]) == 0.0


def test_package_exports():
    for name in ("FactorGraph", "CompiledGraph", "read", "write", "exact", "problems"):
        assert hasattr(fgraph, name)


def test_parity_checks_leave_caller_matrix_untouched():
    import scipy.sparse as sp

    # non-canonical CSR: unsorted indices and an explicit zero
    data, cols, ptr = np.array([1, 0, 1], dtype=np.uint8), np.array([2, 1, 0]), np.array([0, 3])
    H = sp.csr_array((data, cols, ptr), shape=(1, 3))
    before = (H.data.copy(), H.indices.copy(), H.indptr.copy())
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity_checks(H)
    for a, b in zip(before, (H.data, H.indices, H.indptr)):
        np.testing.assert_array_equal(a, b)
    assert g.compile().scope(0).tolist() == [0, 2]
    with pytest.raises(ValueError, match="0/1"):
        g.add_parity_checks(np.array([[2, 1, 0]]))
