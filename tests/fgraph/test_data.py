"""fgraph.data: the example model files shipped in the package, and fgraph.example_path.

Oracles: the recipes that made the files (rebuilt here with fgraph.problems and
FactorGraph), an independent numpy enumeration of every joint state for log Z,
GF(2) rank for the code, byte-exact write -> read -> write cycles, and the
numbers quoted in the fgraph.data docstring.
"""

import fnmatch
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import fgraph
from fgraph import exact, problems
from fgraph.data import example_names, example_path

DATA = Path(fgraph.__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]
CARD = [2, 3, 2, 4, 3, 2, 4, 2, 2, 4, 2, 3]
EVIDENCE = {3: 2, 8: 1}
# exact log Z quoted in the fgraph.data docstring (6 decimals)
LOG_Z = {"spinglass4x4.fg": 21.908327, "mixed.uai": 19.872161, "ldpc_96_3_6.alist": 33.271065}
LOG_Z_MIXED_NO_EVIDENCE = 21.621939


def load(name):
    """An example as the docstring uses it: mixed.uai with its evidence file."""
    if name == "mixed.uai":
        return fgraph.read(example_path(name), evidence=example_path("mixed.uai.evid"))
    return fgraph.read(example_path(name))


# --------------------------------------------------------------------- the recipes
def spinglass_recipe():
    return problems.ising_grid(4, J="gauss", J_scale=1.0, h="gauss", h_scale=0.3, seed=4).graph


def mixed_recipe():
    rng = np.random.default_rng(0)
    g = fgraph.FactorGraph()
    g.add_variables(card=CARD)
    edges = [(r * 4 + c, r * 4 + c + 1) for r in range(3) for c in range(3)]
    edges += [(r * 4 + c, (r + 1) * 4 + c) for r in range(2) for c in range(4)]
    triples = [(0, 1, 5), (6, 7, 11), (4, 8, 9)]
    for s in edges + triples + [(2,), (10,)]:
        t = np.exp(rng.normal(0, 1.2, size=[CARD[i] for i in s]))
        g.add_factor(list(s), np.maximum(np.round(t, 2), 0.01))
    g.set_evidence(EVIDENCE)
    return g.compile()


def code_recipe():
    g = fgraph.FactorGraph()
    g.add_variables(96)
    g.add_parity_checks(problems.regular_ldpc(96, 3, 6, seed=0))
    return g.compile()


def assert_same_structure(a, b):
    assert np.array_equal(a.card, b.card)
    for k in ("edge_var", "fac_ptr"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def assert_same_tables(a, b):
    """Same structure, and log tables and var_unary equal bit for bit."""
    assert_same_structure(a, b)
    for f in range(a.n_fac):
        x, y = a.log_table(f), b.log_table(f)
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), f
    assert a.var_unary.tobytes() == b.var_unary.tobytes()


def enumerate_log_z(g):
    """log Z by summing exp(score) over every joint state (numpy only; not fgraph.exact)."""
    states = np.array(list(itertools.product(*[range(int(c)) for c in g.card])), dtype=np.int64)
    score = np.zeros(len(states))
    for f in range(g.n_fac):
        score += g.log_table(f)[tuple(states[:, g.scope(f)].T)]
    score += g.var_unary[np.arange(g.n_var), states].sum(axis=1)
    m = score.max()
    return m + math.log(np.exp(score - m).sum())


# --------------------------------------------------------------------- the helper
def test_names_match_the_files():
    on_disk = sorted(p.name for p in DATA.iterdir() if p.is_file() and p.suffix != ".py")
    assert example_names() == on_disk == sorted(example_names())
    for name in example_names():
        p = example_path(name)
        assert isinstance(p, Path) and p.is_absolute() and p.is_file() and p.parent == DATA.resolve()
    assert fgraph.example_path is example_path
    assert sum(example_path(n).stat().st_size for n in example_names()) < 50_000


@pytest.mark.parametrize(
    "bad", ["grid.fg", "mixed", "MIXED.UAI", "../io/__init__.py", "__init__.py", "", 3, None]
)
def test_unknown_names_are_refused_with_the_list(bad):
    with pytest.raises(ValueError, match="spinglass4x4.fg") as err:
        example_path(bad)
    assert all(n in str(err.value) for n in example_names())


def test_the_files_are_package_data():
    """Every data file matches a package-data pattern of pyproject.toml, so wheels ship it."""
    tomllib = pytest.importorskip("tomllib")
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["fgraph.data"]
    for name in example_names():
        assert any(fnmatch.fnmatch(name, pat) for pat in patterns), name


# --------------------------------------------------------------------- the models
def test_spinglass_sizes():
    g = load("spinglass4x4.fg")
    assert (g.n_var, g.n_fac, g.n_edge) == (16, 40, 64)
    assert g.card.tolist() == [2] * 16 and g.types == ("table",)
    deg = g.wiring.fac_degree()
    assert (deg == 2).sum() == 24 and (deg == 1).sum() == 16
    assert g.var_names == tuple(str(i) for i in range(16))
    assert exact.elimination_order(g).width == 4


def test_mixed_sizes_and_evidence():
    g = load("mixed.uai")
    assert (g.n_var, g.n_fac) == (12, 22)
    assert g.card.tolist() == CARD
    assert np.bincount(g.wiring.fac_degree()).tolist() == [0, 2, 17, 3]
    assert g.evidence() == EVIDENCE
    assert fgraph.read_evidence(example_path("mixed.uai.evid")) == EVIDENCE
    assert fgraph.read(example_path("mixed.uai"), evidence=True).evidence() == EVIDENCE  # <path>.evid
    assert fgraph.read(example_path("mixed.uai")).evidence() == {}


def test_code_sizes():
    g = load("ldpc_96_3_6.alist")
    assert (g.n_var, g.n_fac, g.n_edge) == (96, 48, 288)
    assert g.types == ("parity",)
    assert set(g.wiring.var_degree().tolist()) == {3} and set(g.wiring.fac_degree().tolist()) == {6}
    assert np.all(g.params[0]["weight"] == np.inf) and np.all(g.params[0]["target"] == 0)


def test_the_recipes_give_the_files(tmp_path):
    """fgraph.write of each recipe gives the shipped bytes."""
    fgraph.write(spinglass_recipe(), tmp_path / "spinglass4x4.fg")
    fgraph.write(mixed_recipe(), tmp_path / "mixed.uai", evidence_path=True)
    fgraph.write(code_recipe(), tmp_path / "ldpc_96_3_6.alist")
    for name in example_names():
        assert (tmp_path / name).read_bytes() == example_path(name).read_bytes(), name
    # what the files hold: fields became arity-1 tables; log-domain couplings moved by rounding only
    sg, rec = load("spinglass4x4.fg"), spinglass_recipe()
    for f in range(rec.n_fac):
        assert sg.scope(f).tolist() == rec.scope(f).tolist()
        assert np.allclose(sg.log_table(f), rec.log_table(f), rtol=1e-15, atol=1e-15)
    for i in range(16):
        assert sg.scope(24 + i).tolist() == [i]
        assert np.allclose(sg.log_table(24 + i), rec.var_unary[i], rtol=1e-15, atol=1e-15)
    assert_same_tables(load("mixed.uai"), mixed_recipe())


@pytest.mark.parametrize("name", ["spinglass4x4.fg", "mixed.uai", "ldpc_96_3_6.alist"])
def test_write_read_round_trip_is_byte_exact(name, tmp_path):
    g = load(name)
    out = tmp_path / name
    if name == "mixed.uai":
        fgraph.write(g, out, evidence_path=True)
        assert (tmp_path / "mixed.uai.evid").read_bytes() == example_path("mixed.uai.evid").read_bytes()
        back = fgraph.read(out, evidence=True)
    else:
        fgraph.write(g, out)
        back = fgraph.read(out)
    assert out.read_bytes() == example_path(name).read_bytes()
    assert_same_tables(g, back)
    assert g.var_names == back.var_names and g.types == back.types


# --------------------------------------------------------------------- exact inference
@pytest.mark.parametrize("name", ["spinglass4x4.fg", "mixed.uai"])
def test_exact_log_z_matches_enumeration(name):
    g = load(name)
    lz = float(exact.log_z(g))
    assert lz == pytest.approx(enumerate_log_z(g), abs=1e-10)
    assert lz == pytest.approx(float(exact.brute_force(g).log_z), abs=1e-10)
    assert round(lz, 6) == LOG_Z[name]


def test_mixed_without_evidence():
    g = fgraph.read(example_path("mixed.uai"))
    lz = float(exact.log_z(g))
    assert lz == pytest.approx(enumerate_log_z(g), abs=1e-10)
    assert round(lz, 6) == LOG_Z_MIXED_NO_EVIDENCE


def test_code_log_z_counts_the_codewords():
    g = load("ldpc_96_3_6.alist")
    H = sp.csr_array((np.ones(g.n_edge, dtype=np.uint8), g.edge_var, g.fac_ptr), shape=(g.n_fac, g.n_var))
    rank = problems.gf2_rank(H)
    assert rank == 48
    assert float(exact.log_z(g)) == pytest.approx((96 - rank) * math.log(2), abs=1e-10)
    assert round(float(exact.log_z(g)), 6) == LOG_Z["ldpc_96_3_6.alist"]


def test_mixed_map_state_beats_the_runner_up():
    g = load("mixed.uai")
    state, score = exact.map_state(g)
    w = np.sort(exact.brute_force(g).log_weights)[::-1]
    assert score == pytest.approx(w[0], abs=1e-12) and round(score, 6) == 18.42046
    assert round(w[0] - w[1], 3) == 0.345


# --------------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def cli_main():
    from mcover.cli import main  # imported here: a broken CLI fails these tests only

    return main


def run_json(cli_main, capsys, *argv):
    code = cli_main([*map(str, argv), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("name", ["spinglass4x4.fg", "mixed.uai", "ldpc_96_3_6.alist"])
def test_cli_info(cli_main, capsys, name):
    extra = ["--evidence", example_path("mixed.uai.evid")] if name == "mixed.uai" else []
    d = run_json(cli_main, capsys, "info", example_path(name), *extra)
    assert d["log_z_note"] == "exact" and math.isfinite(d["log_z"])
    assert round(d["log_z"], 6) == LOG_Z[name]
    assert d["n_variables"] == load(name).n_var


def test_cli_bp_is_approximate_on_the_spin_glass(cli_main, capsys):
    d = run_json(cli_main, capsys, "bp", example_path("spinglass4x4.fg"), "--schedule", "sequential")
    assert d["converged"] and d["log_z"] == pytest.approx(21.701096, abs=1e-5)
    ex = exact.marginals(load("spinglass4x4.fg"))
    err = max(np.abs(np.array(m) - e).max() for m, e in zip(d["marginals"], ex))
    assert 0.09 < err < 0.11  # Bethe marginals, visibly off


def test_cli_max_product_finds_the_map_of_mixed(cli_main, capsys):
    ev = example_path("mixed.uai.evid")
    d = run_json(cli_main, capsys, "bp", example_path("mixed.uai"), "--evidence", ev, "--mode", "max",
                 "--schedule", "sequential")
    state, score = exact.map_state(load("mixed.uai"))
    assert d["converged"] and d["map_state"] == state.tolist()
    assert d["map_log_score"] == pytest.approx(score, abs=1e-9)
    s = run_json(cli_main, capsys, "bp", example_path("mixed.uai"), "--evidence", ev,
                 "--schedule", "sequential")
    assert s["converged"] and s["log_z"] == pytest.approx(19.825150, abs=1e-5)
