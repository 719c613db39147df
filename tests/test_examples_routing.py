"""The routing examples in their --small mode: real content, and the invariants of routing as oracles."""

import math
import sys

import numpy as np
import pytest
from runners import run_example

_run = run_example


def _same_for_M1(rows, keys, group=("alpha",)):
    """Every M = 1 row with the same ``group`` values has the same errors (the kernel does not matter)."""
    seen = {}
    for r in rows:
        if r["M"] != 1:
            continue
        g = tuple(r.get(k) for k in group)
        vals = tuple(r[k] for k in keys)
        assert seen.setdefault(g, vals) == vals, (g, r)
    assert seen


# ----------------------------------------------------------------------------- perceptron
@pytest.fixture(scope="module")
def perceptron_run(tmp_path_factory):
    return _run("routing_perceptron.py", tmp_path_factory.mktemp("perceptron"))


def test_perceptron_table_and_figure(perceptron_run):
    mod, res, out = perceptron_run
    assert res["figure"].exists() and res["figure"].stat().st_size > 1000
    rows = res["rows"]
    assert len(rows) == len(res["alphas"]) * len(res["Ms"]) * len(res["kernels"])
    assert res["kernels"] == ["identity", "ring:1", "uniform"]
    assert mod["HEADER"] in out and "Bayes-optimal floor" in out
    for r in rows:
        for k in ("copy_error", "ensemble_error", "routed_error"):
            assert 0.0 <= r[k] <= 0.5, r
    assert res["errors"]["copy"].shape == (len(res["alphas"]), len(res["Ms"]), len(res["kernels"]),
                                           len(res["seeds"]))


def test_perceptron_one_copy_ignores_the_kernel(perceptron_run):
    _, res, _ = perceptron_run
    _same_for_M1(res["rows"], ("copy_error", "ensemble_error", "routed_error"))
    e = res["errors"]["copy"][:, 0]  # M = 1: every kernel, every seed
    assert np.array_equal(e, np.broadcast_to(e[:, :1], e.shape))


def test_perceptron_state_evolution_floor(perceptron_run):
    _, res, _ = perceptron_run
    floors = res["floors"]
    assert all(0.0 <= f < 0.5 for f in floors)
    assert all(a >= b for a, b in zip(floors, floors[1:])), "the Bayes error decreases with alpha"
    assert floors[res["alphas"].index(1.0)] == pytest.approx(0.2306, abs=1e-3)
    assert floors[res["alphas"].index(2.0)] == 0.0  # above alpha_IT: perfect recovery
    for r in res["rows"]:  # no learner beats Bayes (up to finite-N fluctuations at N = 101)
        f = floors[res["alphas"].index(r["alpha"])]
        assert r["copy_error"] > f - 0.02 and r["ensemble_error"] > f - 0.03, r
    if res["bp"] is not None:
        for r in res["bp"]:
            assert 0.0 <= r["bp_copy"] <= 0.5 and 0.0 <= r["rule_copy"] <= 0.5
            assert r["floor"] == pytest.approx(floors[res["alphas"].index(r["alpha"])])


def test_perceptron_identity_is_independent_single_runs(perceptron_run):
    """Copy m of an Identity-routed run is a single model trained alone (invariant 1): same mean error."""
    mod, res, _ = perceptron_run
    from algorithms.learning import Perceptron

    a_i, m_i, s = res["alphas"].index(2.0), res["Ms"].index(4), 1
    prob = mod["problem_of"](res["N"], 2.0, res["seeds"][s])
    model = Perceptron(rule=res["rule"])
    single = mod["independent_copy_errors"](prob, model, 4, res["epochs"], res["seeds"][s])
    assert res["errors"]["copy"][a_i, m_i, 0, s] == pytest.approx(single.mean(), abs=1e-12)


def test_perceptron_cycle_expectation_matches_the_library(perceptron_run):
    """N_k tr((P P^T)^{k/2}) / M equals lift_cycle_table's kernel expectation / M on a tiny K_{P,N}."""
    mod, res, _ = perceptron_run
    from algorithms.learning import Perceptron
    from fgraph.problems import perceptron
    from lifts import Identity, Ring, Uniform, lift_cycle_table, route

    prob = perceptron(5, 1.2, seed=0)  # K_{6,5}
    M = 3
    for kern in (Identity(), Ring(1.0), Uniform()):
        run = route(prob, Perceptron(), M, kern, epochs=1, seed=0, n_test=100)
        tab = lift_cycle_table(run.lift, 6, P=kern.P(M))
        for k in (4, 6):
            assert tab[k]["base"] == mod["base_cycles_KPN"](6, 5, k)
            assert mod["expected_cycles_per_copy"](6, 5, M, kern, k) == pytest.approx(
                tab[k]["expected_kernel"] / M, rel=1e-9)
    # in the study's table: Identity keeps every base cycle in each copy, Uniform 1/M of them
    N = res["N"]
    for r in res["rows"]:
        P = int(round(r["alpha"] * N))
        n4 = mod["base_cycles_KPN"](P, N, 4)
        assert n4 == math.comb(P, 2) * math.comb(N, 2)
        if r["kernel"] == "identity" or r["M"] == 1:
            assert r["cycles4_per_copy"] == pytest.approx(n4)
        elif r["kernel"] == "uniform":
            assert r["cycles4_per_copy"] == pytest.approx(n4 / r["M"])
        else:
            assert n4 / r["M"] < r["cycles4_per_copy"] < n4


# ----------------------------------------------------------------------------- committee
def test_committee(tmp_path):
    mod, res, out = _run("routing_committee.py", tmp_path)
    assert res["figure"].exists() and res["figure"].stat().st_size > 1000
    assert mod["HEADER"] in out
    rows = res["rows"]
    assert len(rows) == len(res["alphas"]) * len(res["Ms"]) * len(res["kernels"]) * 2
    assert {r["granularity"] for r in rows} == {"weight", "neuron"}
    for r in rows:
        for k in ("copy_error", "ensemble_error", "routed_error"):
            assert 0.0 <= r[k] <= 0.5, r
    # one copy: neither the kernel nor the routing unit matters
    _same_for_M1(rows, ("copy_error", "ensemble_error", "routed_error"))
    # the identity kernel routes nothing, so per weight and per neuron give the same run
    e = res["errors"]["copy"]
    assert np.array_equal(e[:, :, 0, 0], e[:, :, 0, 1])
    # M copies vote better than one on average over the grid (ensembles of independent copies)
    ens = res["errors"]["ensemble"]
    assert ens[:, -1, 0].mean() < ens[:, 0, 0].mean()


# ----------------------------------------------------------------------------- MLP
def test_mlp(tmp_path):
    mod, res, out = _run("routing_mlp.py", tmp_path)
    assert res["figure"].exists() and res["figure"].stat().st_size > 1000
    assert mod["HEADER"] in out and f"data: {res['source']}" in out
    rows = res["rows"]
    assert len(rows) == len(res["Ms"]) * len(res["kernels"])
    for r in rows:
        for k in ("copy_error", "ensemble_error", "routed_error"):
            assert 0.0 <= r[k] <= 0.5, r
    _same_for_M1(rows, ("copy_error", "ensemble_error", "routed_error"), group=())
    # with the identity kernel freshly routed models are the copies themselves
    ident = [r for r in rows if r["kernel"] == "identity"]
    for r in ident:
        assert r["routed_error"] == pytest.approx(r["copy_error"], abs=1e-12)


def test_mlp_without_scikit_learn(tmp_path, monkeypatch):
    """Without scikit-learn the example runs on the synthetic teacher data and says so."""
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    _, res, out = _run("routing_mlp.py", tmp_path, seeds=1, epochs=1)
    assert res["source"] == "teacher-mlp" and "data: teacher-mlp" in out
    assert res["figure"].exists()
    assert all(0.0 <= r["copy_error"] <= 1.0 for r in res["rows"])
