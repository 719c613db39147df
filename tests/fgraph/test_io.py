"""fgraph.io: UAI / libDAI .fg / alist readers and writers, .evid files, networkx in and out.

Oracles: files written by others with known facts (the external oracle folder of tests/conftest.py), an
independent straightforward parser of the file text (scores of states), exact
write -> read round trips, and hand-made malformed files with known bad lines.
"""

import dataclasses
import itertools
import math
import os
import stat
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fgraph
from fgraph import FactorGraph
from fgraph.io import read_evidence, write_evidence

UAI_FILES = [f"uai2014/{n}.uai" for n in ("Grids_11", "Grids_12", "ObjectDetection_11", "Promedus_34",
                                          "Segmentation_11")] + ["asia/asia.uai"]
FG_FILES = [f"libdai/{n}.fg" for n in ("alarm", "hoi1", "hoi2", "hoi3", "hoi4", "jtreemapbug", "maxprodbug",
                                       "testfast", "twofactors", "zeroes1")]
ALIST_FILES = ["ldpc/96.33.964.alist"]
ALL_FILES = UAI_FILES + FG_FILES + ALIST_FILES


@pytest.fixture(scope="module")
def ext(external) -> Path:
    """The external data folder (located by tests/conftest.py)."""
    return external


def assert_same(a, b, names=True):
    """Exact equality of two compiled graphs (arrays bit for bit)."""
    assert np.array_equal(a.card, b.card) and a.card.dtype == b.card.dtype
    for k in ("edge_var", "edge_fac", "fac_ptr", "var_ptr", "var_edges"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), k
    assert a.types == b.types
    assert np.array_equal(a.type_ptr, b.type_ptr)
    assert np.array_equal(a.fac_param, b.fac_param)
    assert np.array_equal(a.fac_origin, b.fac_origin)
    for pa, pb in zip(a.params, b.params, strict=True):
        assert list(pa) == list(pb)
        for k in pa:
            assert pa[k].dtype == pb[k].dtype and pa[k].tobytes() == pb[k].tobytes(), k
    assert a.var_unary.shape == b.var_unary.shape and a.var_unary.tobytes() == b.var_unary.tobytes()
    if names:
        assert a.var_names == b.var_names


def all_states(card):
    return np.array(list(itertools.product(*[range(int(c)) for c in card])), dtype=np.int64)


def random_states(g, n, seed):
    rng = np.random.default_rng(seed)
    return (rng.random((n, g.n_var)) * g.card).astype(np.int64)


def write_text(path, text):
    Path(path).write_text(text)
    return path


# --------------------------------------------------------------------- independent parsers
def naive_uai_score(path, states):
    """Straightforward reading of a UAI file, then log-scores of full states."""
    tok = Path(path).read_text().split()[1:]
    it = iter(tok)
    n = int(next(it))
    card = [int(next(it)) for _ in range(n)]
    F = int(next(it))
    scopes = []
    for _ in range(F):
        k = int(next(it))
        scopes.append([int(next(it)) for _ in range(k)])
    tables = []
    for _ in range(F):
        m = int(next(it))
        tables.append([float(next(it)) for _ in range(m)])
    out = []
    for x in states:
        total = 0.0
        for sc, tab in zip(scopes, tables):
            idx = 0
            for v in sc:  # C order: the last variable changes fastest
                idx = idx * card[v] + int(x[v])
            total += math.log(tab[idx]) if tab[idx] > 0 else -math.inf
        out.append(total)
    return np.array(out)


def naive_fg_score(path, states):
    """Straightforward reading of a libDAI file; ``states`` are indexed by sorted label."""
    lines = [ln.split("#")[0] for ln in Path(path).read_text().splitlines()]
    tok = " ".join(lines).split()
    it = iter(tok)
    F = int(next(it))
    facs = []
    for _ in range(F):
        k = int(next(it))
        labels = [int(next(it)) for _ in range(k)]
        cards = [int(next(it)) for _ in range(k)]
        entries = {}
        for _ in range(int(next(it))):
            i = int(next(it))
            entries[i] = float(next(it))
        facs.append((labels, cards, entries))
    order = sorted({lab for f in facs for lab in f[0]})
    pos = {lab: j for j, lab in enumerate(order)}
    out = []
    for x in states:
        total = 0.0
        for labels, cards, entries in facs:
            idx, stride = 0, 1
            for lab, c in zip(labels, cards):  # Fortran order: the first variable changes fastest
                idx += int(x[pos[lab]]) * stride
                stride *= c
            val = entries.get(idx, 0.0)
            total += math.log(val) if val > 0 else -math.inf
        out.append(total)
    return np.array(out)


# --------------------------------------------------------------------- external files
@pytest.mark.parametrize("name", ALL_FILES)
def test_every_external_file_parses_and_validates(ext, name):
    g = fgraph.read(ext / name)
    g.validate()
    assert g.n_var > 0 and g.n_fac > 0


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_external_file_round_trips_exactly(ext, name, tmp_path):
    g = fgraph.read(ext / name)
    out = tmp_path / ("copy" + Path(name).suffix)
    fgraph.write(g, out)
    assert_same(g, fgraph.read(out))
    fgraph.write(fgraph.read(out), out)  # overwrite in place: still the same
    assert_same(g, fgraph.read(str(out)))
    if name.endswith(".uai"):  # every number of the rewritten file equals the original one
        a = (ext / name).read_text().split()[1:]
        b = out.read_text().split()[1:]
        np.testing.assert_array_equal(np.array(a, dtype=float), np.array(b, dtype=float))


@pytest.mark.parametrize("name", UAI_FILES + FG_FILES)
def test_external_files_cross_format(ext, name, tmp_path):
    """.uai <-> .fg keep every table exactly (names: .fg labels vs none in .uai)."""
    g = fgraph.read(ext / name)
    other = ".fg" if name.endswith(".uai") else ".uai"
    fgraph.write(g, tmp_path / ("x" + other))
    h = fgraph.read(tmp_path / ("x" + other))
    assert_same(g, h, names=False)
    assert h.var_names == (tuple(str(i) for i in range(g.n_var)) if other == ".fg" else None)


@pytest.mark.parametrize("name", ["uai2014/Grids_11.uai", "uai2014/ObjectDetection_11.uai",
                                  "uai2014/Promedus_34.uai", "uai2014/Segmentation_11.uai", "asia/asia.uai"])
def test_uai_log_score_matches_independent_parser(ext, name):
    g = fgraph.read(ext / name)
    x = random_states(g, 6, seed=1)
    if "ObjectDetection" in name:
        x = np.maximum(x, 1)  # state 0 has probability 0 there; also check one -inf below
        x[0, 0] = 0
    got = g.log_score(x)
    want = naive_uai_score(ext / name, x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    if "ObjectDetection" in name:
        assert got[0] == -np.inf and np.all(np.isfinite(got[1:]))


@pytest.mark.parametrize("name", ["libdai/testfast.fg", "libdai/alarm.fg", "libdai/hoi1.fg",
                                  "libdai/zeroes1.fg"])
def test_fg_log_score_matches_independent_parser(ext, name):
    g = fgraph.read(ext / name)
    x = random_states(g, 8, seed=2)
    np.testing.assert_allclose(g.log_score(x), naive_fg_score(ext / name, x), rtol=1e-12, atol=1e-9)


def test_uai_counts_from_readme(ext):
    g = fgraph.read(ext / "uai2014/Grids_11.uai")
    assert (g.n_var, g.n_fac) == (100, 300)
    assert np.all(g.card == 2)
    deg = g.wiring.fac_degree()
    assert (deg == 1).sum() == 100 and (deg == 2).sum() == 200
    assert np.all(g.wiring.var_degree() == 5)  # torus: 4 couplings + 1 unary per variable
    g12 = fgraph.read(ext / "uai2014/Grids_12.uai")
    assert (g12.n_var, g12.n_fac, int((g12.wiring.fac_degree() == 2).sum())) == (100, 280, 180)
    od = fgraph.read(ext / "uai2014/ObjectDetection_11.uai")
    assert (od.n_var, od.n_fac) == (60, 225) and np.all(od.card == 11) and od.q_max == 11
    seg = fgraph.read(ext / "uai2014/Segmentation_11.uai")
    assert (seg.n_var, seg.n_fac) == (228, 845)
    pro = fgraph.read(ext / "uai2014/Promedus_34.uai")
    assert (pro.n_var, pro.n_fac) == (415, 415) and pro.types == ("table",)
    assert pro.var_names is None and pro.evidence() == {}
    assert np.array_equal(pro.fac_origin, np.arange(415))


def test_promedus_evidence_every_way(ext):
    path = ext / "uai2014/Promedus_34.uai"
    want = {29: 1, 16: 1, 173: 1}
    assert read_evidence(str(path) + ".evid") == want
    for ev in (True, str(path) + ".evid", Path(str(path) + ".evid"), want):
        g = fgraph.read(path, evidence=ev)
        assert g.evidence() == want
        assert g.var_unary[29].tolist() == [-np.inf, 0.0]
    assert fgraph.read(path, evidence=None).evidence() == {}
    assert read_evidence(ext / "uai2014/Grids_11.uai.evid") == {}
    assert fgraph.read(ext / "uai2014/Grids_11.uai", evidence=True).evidence() == {}


def test_promedus_evidence_round_trip(ext, tmp_path):
    g = fgraph.read(ext / "uai2014/Promedus_34.uai", evidence=True)
    out = tmp_path / "p.uai"
    fgraph.write(g, out, evidence_path=True)
    assert read_evidence(tmp_path / "p.uai.evid") == {16: 1, 29: 1, 173: 1}
    assert_same(g, fgraph.read(out, evidence=True))
    # without an evidence file the observations become 0/1 unary factors at the end
    fgraph.write(g, tmp_path / "q.uai")
    h = fgraph.read(tmp_path / "q.uai")
    assert h.n_fac == g.n_fac + 3 and h.evidence() == {}
    assert [h.scope(a).tolist() for a in range(g.n_fac, h.n_fac)] == [[16], [29], [173]]
    assert np.exp(h.log_table(h.n_fac - 1)).tolist() == [0.0, 1.0]
    x = random_states(g, 20, seed=3)
    x[:, [16, 29, 173]] = 1
    np.testing.assert_array_equal(h.log_score(x), g.log_score(x))


def test_asia_tables(ext):
    g = fgraph.read(ext / "asia/asia.uai")
    assert (g.n_var, g.n_fac) == (8, 8)
    # factor 1 is p(tub | asia) with scope (tub, asia), child first; state 0 = yes
    assert g.scope(1).tolist() == [1, 0]
    np.testing.assert_allclose(np.exp(g.log_table(1)), [[0.05, 0.01], [0.95, 0.99]], rtol=1e-15)
    # p(tub=yes | asia=yes) = 0.05, p(tub=yes | asia=no) = 0.01
    assert math.exp(g.log_table(1)[0, 0]) == pytest.approx(0.05, rel=1e-15)
    # 'either' = tub OR lung: a 0/1 table (zeros become -inf)
    assert g.scope(5).tolist() == [5, 3, 1]
    assert np.isneginf(g.log_table(5)).sum() == 4 and g.log_table(5)[0, 0, 0] == 0.0
    assert g.log_score([0] * 8) == pytest.approx(
        math.log(0.01 * 0.05 * 0.5 * 0.1 * 0.6 * 1 * 0.98 * 0.9), rel=1e-12
    )


def test_libdai_fortran_order_and_labels(ext):
    g = fgraph.read(ext / "libdai/alarm.fg")
    # factor 1: labels (1, 4), cards (3, 3), entries 0.95 0.04 0.01 0.04 0.95 0.01 0.01 0.29 0.7
    assert g.var_names[g.scope(1)[0]] == "1" and g.var_names[g.scope(1)[1]] == "4"
    t = np.exp(g.log_table(1))
    assert t.shape == (3, 3)
    assert t[1, 0] == pytest.approx(0.04) and t[0, 2] == pytest.approx(0.01)
    assert t[1, 2] == pytest.approx(0.29) and t[2, 2] == pytest.approx(0.7)
    mp = fgraph.read(ext / "libdai/maxprodbug.fg")
    assert mp.var_names == ("1", "2", "3") and mp.n_var == 3
    for s in ([0, 0, 1], [1, 1, 0]):
        assert mp.log_score(s) == 0.0  # MAP value 1
    z = fgraph.read(ext / "libdai/zeroes1.fg")
    assert z.var_names == ("0", "1", "2")
    assert z.log_table(0).tolist() == [-np.inf, 0.0]  # hard unary: x0 = 1
    assert z.log_score([1, 0, 1]) == pytest.approx(math.log(4))  # MAP value 4
    jt = fgraph.read(ext / "libdai/jtreemapbug.fg")
    np.testing.assert_allclose(np.exp(jt.log_table(0)), [[1, 2], [2, 1]], rtol=1e-15)
    assert jt.log_score([1, 0]) == pytest.approx(math.log(2))


def test_testfast_known_map_score(ext):
    g = fgraph.read(ext / "libdai/testfast.fg")
    assert (g.n_var, g.n_fac) == (16, 40)
    assert (g.wiring.fac_degree() == 1).sum() == 16 and (g.wiring.fac_degree() == 2).sum() == 24
    x = [1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0]
    assert g.log_score(x) == pytest.approx(9.799580296093874, rel=1e-10)


def test_ldpc_alist_structure(ext, tmp_path):
    g = fgraph.read(ext / "ldpc/96.33.964.alist")
    assert (g.n_var, g.n_fac) == (96, 48) and g.types == ("parity",)
    assert np.all(g.wiring.fac_degree() == 6) and np.all(g.wiring.var_degree() == 3)
    assert np.all(np.isinf(g.params[0]["weight"])) and np.all(g.params[0]["target"] == 0)
    assert np.all(g.card == 2) and np.all(g.var_unary == 0)
    # scopes follow the check lists (the last 48 lines), in file order
    lines = (ext / "ldpc/96.33.964.alist").read_text().split("\n")
    assert g.scope(0).tolist() == [int(t) - 1 for t in lines[4 + 96].split()]
    assert g.scope(47).tolist() == [int(t) - 1 for t in lines[4 + 96 + 47].split()]
    # the variable lists say the same
    first = [int(t) - 1 for t in lines[4].split()]
    assert sorted(first) == sorted(g.wiring.factors_of_var(0).tolist())
    assert g.log_score(np.zeros(96, dtype=np.int64)) == 0.0  # the zero codeword
    one = np.zeros(96, dtype=np.int64)
    one[5] = 1
    assert g.log_score(one) == -np.inf
    # as dense tables in .uai, the same function
    fgraph.write(g, tmp_path / "ldpc.uai")
    h = fgraph.read(tmp_path / "ldpc.uai")
    assert h.types == ("table",) and np.array_equal(h.edge_var, g.edge_var)
    x = random_states(g, 10, seed=4)
    np.testing.assert_array_equal(h.log_score(x), g.log_score(x))


def test_exact_log_z_of_files_read(ext, tmp_path):
    """Files read (and written again as .uai) give the known log Z by exact inference."""
    z = fgraph.read(ext / "libdai/zeroes1.fg")
    lz = float(fgraph.exact.log_z(z))
    assert lz == pytest.approx(math.log(9), abs=1e-10)
    fgraph.write(z, tmp_path / "z.uai")
    assert float(fgraph.exact.log_z(fgraph.read(tmp_path / "z.uai"))) == pytest.approx(math.log(9), abs=1e-10)
    h = fgraph.read(ext / "libdai/hoi1.fg")
    assert float(fgraph.exact.log_z(h)) == pytest.approx(5.530780894349478, abs=1e-8)


# --------------------------------------------------------------------- writers on built graphs
def mixed_graph(evidence=True):
    g = FactorGraph()
    g.add_variables(card=[2, 3, 2, 2, 1])
    g.add_factor([1, 0], [[1.0, 0.0], [0.5, 2.0], [3.0, 0.25]])
    g.add_ising([0, 2], J=0.7)
    g.add_potts([2, 3], J=-0.4)
    g.add_parity([0, 2, 3], weight=1.5, target=1)
    g.add_unary(1, [0.2, 0.3, 0.5])
    g.add_field(3, 0.3)
    g.add_log_evidence(1, [0.1, -np.inf, 0.4])
    if evidence:
        g.set_evidence({0: 1})
    return g.compile()


@pytest.mark.parametrize("suffix", [".uai", ".fg"])
def test_structured_factors_written_as_tables(tmp_path, suffix):
    cg = mixed_graph()
    path = tmp_path / ("m" + suffix)
    fgraph.write(cg, path)
    h = fgraph.read(path)
    assert h.types == ("table",)
    # factors in compiled order, then one unary factor per non-zero var_unary row (0, 1, 3) and,
    # for .fg, one for the isolated variable 4
    extra = [0, 1, 3] + ([4] if suffix == ".fg" else [])
    assert h.n_fac == cg.n_fac + len(extra)
    assert [h.scope(a).tolist() for a in range(cg.n_fac)] == [cg.scope(a).tolist() for a in range(cg.n_fac)]
    assert [h.scope(a).tolist() for a in range(cg.n_fac, h.n_fac)] == [[i] for i in extra]
    assert np.all(h.var_unary[np.arange(h.q_max)[None, :] < h.card[:, None]] == 0)
    x = all_states(cg.card)
    np.testing.assert_allclose(h.log_score(x), cg.log_score(x), rtol=1e-15, atol=1e-15)
    for a in range(cg.n_fac):  # within one ulp of the log-domain values
        lh, lc = h.log_table(a), cg.log_table(a)
        fin = np.isfinite(lc)
        assert np.array_equal(np.isfinite(lh), fin)
        np.testing.assert_array_max_ulp(lh[fin], lc[fin], maxulp=1)
    # a second cycle is exact
    fgraph.write(h, tmp_path / ("n" + suffix))
    assert_same(h, fgraph.read(tmp_path / ("n" + suffix)))


def test_uai_evidence_path_keeps_hard_evidence(tmp_path):
    cg = mixed_graph()
    fgraph.write(cg, tmp_path / "m.uai", evidence_path=tmp_path / "obs.evid")
    assert read_evidence(tmp_path / "obs.evid") == {0: 1}
    h = fgraph.read(tmp_path / "m.uai", evidence=tmp_path / "obs.evid")
    assert h.evidence() == {0: 1}
    assert h.n_fac == cg.n_fac + 2  # soft rows of variables 1 and 3 only
    x = all_states(cg.card)
    np.testing.assert_allclose(h.log_score(x), cg.log_score(x), rtol=1e-15, atol=1e-15)
    fgraph.write(h, tmp_path / "n.uai", evidence_path=True)
    assert_same(h, fgraph.read(tmp_path / "n.uai", evidence=True))
    # no evidence at all -> "0"
    fgraph.write(fgraph.read(tmp_path / "n.uai"), tmp_path / "e.uai", evidence_path=True)
    assert (tmp_path / "e.uai.evid").read_text().split() == ["0"]


def test_builder_tables_round_trip_exactly_through_uai(tmp_path):
    g = FactorGraph()
    g.add_variables(card=[3, 2, 4])
    rng = np.random.default_rng(5)
    g.add_factor([2, 0], rng.random((4, 3)) * (rng.random((4, 3)) > 0.3) + np.eye(4, 3))
    g.add_factor([1], [0.0, 7.5])
    g.add_factors([[0, 1]], [[[1, 2], [3, 4], [5, 6]]])
    cg = g.compile()
    fgraph.write(cg, tmp_path / "b.uai")
    assert_same(cg, fgraph.read(tmp_path / "b.uai"))


def test_values_are_written_short_when_the_log_allows(tmp_path):
    g = FactorGraph()
    g.add_variables(2)
    g.add_factor([0, 1], [[3.0, 5.0], [0.1, 0.81477]])
    fgraph.write(g.compile(), tmp_path / "s.uai")
    assert (tmp_path / "s.uai").read_text().split()[-4:] == ["3.0", "5.0", "0.1", "0.81477"]


def test_fg_labels_from_names(tmp_path):
    g = FactorGraph()
    g.add_variables(2, names=["5", "12"])
    g.add_factor([1, 0], [[1, 2], [3, 4]])
    fgraph.write(g.compile(), tmp_path / "a.fg")
    h = fgraph.read(tmp_path / "a.fg")
    assert h.var_names == ("5", "12")
    assert (tmp_path / "a.fg").read_text().split()[:4] == ["1", "2", "12", "5"]
    # names that are not increasing integers: labels 0..n-1
    g = FactorGraph()
    g.add_variables(2, names=["b", "a"])
    g.add_factor([0, 1], [[1, 2], [3, 4]])
    fgraph.write(g.compile(), tmp_path / "b.fg")
    assert fgraph.read(tmp_path / "b.fg").var_names == ("0", "1")


def test_write_refuses_unwritable_values(tmp_path):
    g = FactorGraph()
    g.add_variables(2)
    g.add_factor([0, 1], log_table=[[0.0, 800.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="too large"):
        fgraph.write(g.compile(), tmp_path / "x.uai")
    g = FactorGraph()
    g.add_variables(2)
    g.add_parity([0, 1], weight=1000.0)
    with pytest.raises(ValueError, match="too small"):
        fgraph.write(g.compile(), tmp_path / "x.fg")
    assert list(tmp_path.iterdir()) == []


def test_alist_write_and_refusals(tmp_path):
    H = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 0, 1], [1, 0, 0, 0, 1]])
    g = FactorGraph()
    g.add_variables(5)
    g.add_parity_checks(H)
    cg = g.compile()
    fgraph.write(cg, tmp_path / "h.alist")
    assert_same(cg, fgraph.read(tmp_path / "h.alist"))
    lines = (tmp_path / "h.alist").read_text().splitlines()
    assert lines[:4] == ["5 3", "2 3", "2 2 1 1 2", "3 3 2"]
    assert lines[4] == "1 3" and lines[-1] == "1 5 0"  # zero padding for the irregular row
    bad = []
    for build, why in [
        (lambda g: g.add_parity([0, 1], weight=2.0), "soft"),
        (lambda g: g.add_parity([0, 1], target=1), "target"),
        (lambda g: g.add_ising([0, 1]), "'ising'"),
        (lambda g: g.add_field(0, 0.5), "var_unary"),
        (lambda g: g.set_evidence({0: 1}), "var_unary"),
    ]:
        g = FactorGraph()
        g.add_variables(3)
        g.add_parity([0, 1, 2])
        build(g)
        bad.append((g.compile(), why))
    g = FactorGraph()
    g.add_variables(card=[2, 3])
    g.add_factor([0, 1], np.ones((2, 3)))
    bad.append((g.compile(), "binary"))
    for graph, why in bad:
        with pytest.raises(ValueError, match=why):
            fgraph.write(graph, tmp_path / "bad.alist")
    assert not (tmp_path / "bad.alist").exists()


def test_writing_is_atomic(tmp_path):
    target = tmp_path / "keep.alist"
    target.write_text("precious\n")
    os.chmod(target, 0o640)
    g = FactorGraph()
    g.add_variables(2)
    g.add_ising([0, 1])
    with pytest.raises(ValueError):
        fgraph.write(g.compile(), target)  # not a parity graph
    assert target.read_text() == "precious\n"
    g = FactorGraph()
    g.add_variables(2)
    g.add_parity([0, 1])
    fgraph.write(g.compile(), target)
    assert target.read_text().startswith("2 1")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640  # the mode of the replaced file is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.alist"]  # no temporary left behind


def test_unknown_extension_and_bad_arguments(tmp_path):
    cg = mixed_graph()
    for call in (lambda: fgraph.read(tmp_path / "m.txt"), lambda: fgraph.write(cg, tmp_path / "m.bif")):
        with pytest.raises(ValueError, match=r"\.uai, \.fg, \.alist"):
            call()
    with pytest.raises(ValueError, match="only supported for .uai"):
        fgraph.write(cg, tmp_path / "m.fg", evidence_path=True)
    with pytest.raises(TypeError):
        fgraph.write("not a graph", tmp_path / "m.uai")
    fgraph.write(cg, str(tmp_path / "M.UAI"))  # str paths and upper-case extensions
    with pytest.raises(TypeError, match="evidence"):
        fgraph.read(tmp_path / "M.UAI", evidence=3)
    with pytest.raises(FileNotFoundError):
        fgraph.read(tmp_path / "missing.uai")


# --------------------------------------------------------------------- evidence files
def test_evidence_formats(tmp_path):
    p = tmp_path / "e.evid"
    for text, want in [
        ("3 29 1 16 1 173 1\n", {29: 1, 16: 1, 173: 1}),
        ("1\n3 29 1 16 1 173 1\n", {29: 1, 16: 1, 173: 1}),  # older layout with a sample count
        ("1\n1 4 0\n", {4: 0}),
        ("1 4 0", {4: 0}),
        ("0\n", {}),
        ("1\n0\n", {}),
        ("", {}),
        ("2 3 1 3 1", {3: 1}),  # a repeat in the same state is harmless
    ]:
        write_text(p, text)
        assert read_evidence(p) == want, text
    write_evidence({7: 2, 1: 0}, p)
    assert p.read_text() == "2 7 2 1 0\n"


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("3 29 1\n16 1\n173\n", 3, "end of file"),
        ("1 5 1 2\n", 1, "unexpected content"),
        ("2 1 1\n2 x\n", 2, "'x' is not a number"),
        ("2\n1 1\n1 -1\n", 3, "integer >= 0"),
        ("2\n1 1\n1 0\n", 3, "observed twice"),
        ("1\n1 4 0\n9\n", 3, "unexpected content"),
        ("1 0 1.5\n", 1, "integer"),
    ],
)
def test_bad_evidence_files(tmp_path, text, line, fragment):
    p = write_text(tmp_path / "bad.evid", text)
    with pytest.raises(ValueError) as err:
        read_evidence(p)
    msg = str(err.value)
    assert "bad.evid" in msg and f"line {line}:" in msg and fragment in msg, msg


def test_evidence_out_of_range_for_the_model(tmp_path):
    model = write_text(tmp_path / "m.uai", "MARKOV\n2\n2 3\n1\n2 0 1\n6\n1 2 3 4 5 6\n")
    write_text(tmp_path / "v.evid", "1\n5 0\n")
    with pytest.raises(ValueError, match=r"v\.evid, line 2: variable 5 is out of range"):
        fgraph.read(model, evidence=tmp_path / "v.evid")
    write_text(tmp_path / "s.evid", "2\n0 1\n1 3\n")
    with pytest.raises(ValueError, match=r"s\.evid, line 3: state 3 of variable 1 is out of range 0\.\.2"):
        fgraph.read(model, evidence=tmp_path / "s.evid")
    with pytest.raises(ValueError):
        fgraph.read(model, evidence={1: 3})


# --------------------------------------------------------------------- malformed model files
UAI_OK = """MARKOV
3
2 2 3
2
2 0 1
1 2

4
1 2 3 4
3
0.5 0.5 1
"""


def _edit(text, line, new):
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


UAI_BAD = [
    ("truncated table", UAI_OK.replace("0.5 0.5 1\n", ""), 10, "unexpected end of file"),
    ("truncated inside a table", UAI_OK.replace("0.5 0.5 1", "0.5 0.5"), 11, "unexpected end of file"),
    ("truncated scopes", "MARKOV\n3\n2 2 3\n2\n2 0 1\n", 5, "unexpected end of file"),
    ("truncated cards", "MARKOV\n3\n2 2\n", 3, "end of file"),
    ("non-numeric", _edit(UAI_OK, 9, "1 2 x 4"), 9, "'x' is not a number"),
    ("negative cardinality", _edit(UAI_OK, 3, "2 -2 3"), 3, "cardinality must be an integer >= 1"),
    ("zero cardinality", _edit(UAI_OK, 3, "2 0 3"), 3, "cardinality"),
    ("fractional cardinality", _edit(UAI_OK, 3, "2 2.5 3"), 3, "cardinality"),
    ("NaN potential", _edit(UAI_OK, 9, "1 nan 3 4"), 9, "potential 'nan'"),
    ("negative potential", _edit(UAI_OK, 11, "0.5 -0.5 1"), 11, "potential '-0.5'"),
    ("infinite potential", _edit(UAI_OK, 11, "0.5 inf 1"), 11, "finite"),
    ("wrong table length", _edit(_edit(UAI_OK, 8, "3"), 9, "1 2 3"), 8, "expected 4 table entries"),
    ("variable out of range", _edit(UAI_OK, 6, "1 3"), 6, "out of range"),
    ("negative variable", _edit(UAI_OK, 5, "2 0 -1"), 5, "variable index"),
    ("repeated variable", _edit(UAI_OK, 5, "2 1 1"), 5, "twice"),
    ("empty scope", _edit(UAI_OK, 6, "0"), 6, "empty scope"),
    ("bad scope size", _edit(UAI_OK, 5, "2.5 0 1"), 5, "scope size"),
    ("unknown preamble", _edit(UAI_OK, 1, "MARKOW"), 1, "unknown preamble 'MARKOW'"),
    ("no variables", _edit(UAI_OK, 2, "0"), 2, "number of variables"),
    ("bad factor count", _edit(UAI_OK, 4, "two"), 4, "'two' is not a number"),
    ("extra content", UAI_OK + "7\n", 12, "unexpected content"),
    ("all-zero table", _edit(UAI_OK, 11, "0 0 0"), 10, "Z = 0"),
    ("empty file", "", 1, "empty"),
    ("blank file", "\n\n  \n", 1, "empty"),
]


@pytest.mark.parametrize("what, text, line, fragment", UAI_BAD, ids=[c[0] for c in UAI_BAD])
def test_malformed_uai(tmp_path, what, text, line, fragment):
    fgraph.read(write_text(tmp_path / "ok.uai", UAI_OK))  # the base file is fine
    p = write_text(tmp_path / "bad.uai", text)
    with pytest.raises(ValueError) as err:
        fgraph.read(p)
    msg = str(err.value)
    assert "bad.uai" in msg and f"line {line}:" in msg and fragment in msg, msg


FG_OK = """# two factors; labels 10 and 3 (not contiguous, not sorted)
2

2
10 3
2 3
3
0 1.5
4 2
5 0.5

1
3
3
2
0 1
2 1
"""

FG_BAD = [
    ("index beyond table", _edit(FG_OK, 10, "6 0.5"), 10, "table index 6 is out of range"),
    ("inconsistent cardinality", _edit(FG_OK, 14, "4"), 14, "cardinality 4 here but 3 in factor 0 (line 6)"),
    ("truncated", FG_OK.replace("2 1\n", ""), 16, "unexpected end of file"),
    ("truncated header", "2\n\n2\n10 3\n", 4, "unexpected end of file"),
    ("non-numeric", _edit(FG_OK, 8, "0 abc"), 8, "'abc' is not a number"),
    ("NaN value", _edit(FG_OK, 8, "0 NaN"), 8, "potential 'NaN'"),
    ("negative value", _edit(FG_OK, 17, "2 -1"), 17, "potential '-1'"),
    ("repeated index", _edit(FG_OK, 10, "0 0.5"), 10, "listed twice"),
    ("negative label", _edit(FG_OK, 5, "10 -3"), 5, "variable label"),
    ("repeated label", _edit(_edit(FG_OK, 5, "3 3"), 6, "3 3"), 5, "twice"),
    ("negative cardinality", _edit(FG_OK, 6, "2 -3"), 6, "cardinality"),
    ("too many entries", _edit(FG_OK, 15, "3"), 17, "end of file"),
    ("more entries than the table", _edit(FG_OK, 7, "7"), 7, "only 6"),
    ("all zero", _edit(_edit(FG_OK, 16, "0 0"), 17, "2 0"), 15, "Z = 0"),
    ("extra content", FG_OK + "1 2\n", 18, "unexpected content"),
    ("empty", "", 1, "empty"),
    ("only comments", "# nothing\n# here\n", 1, "empty"),
]


def test_fg_base_file(tmp_path):
    g = fgraph.read(write_text(tmp_path / "ok.fg", FG_OK))
    assert g.var_names == ("3", "10") and g.card.tolist() == [3, 2]
    assert g.scope(0).tolist() == [1, 0] and g.scope(1).tolist() == [0]
    t = np.exp(g.log_table(0))  # (x_label10, x_label3); Fortran index = x10 + 2 * x3
    np.testing.assert_allclose(t, [[1.5, 0.0, 2.0], [0.0, 0.0, 0.5]], rtol=1e-15)
    assert np.exp(g.log_table(1)).tolist() == pytest.approx([1.0, 0.0, 1.0])
    fgraph.write(g, tmp_path / "back.fg")
    assert_same(g, fgraph.read(tmp_path / "back.fg"))
    assert "10 3" in (tmp_path / "back.fg").read_text()  # labels and argument order kept
    assert fgraph.read(tmp_path / "ok.fg", evidence={"10": 1}).evidence() == {1: 1}


@pytest.mark.parametrize("what, text, line, fragment", FG_BAD, ids=[c[0] for c in FG_BAD])
def test_malformed_fg(tmp_path, what, text, line, fragment):
    p = write_text(tmp_path / "bad.fg", text)
    with pytest.raises(ValueError) as err:
        fgraph.read(p)
    msg = str(err.value)
    assert "bad.fg" in msg and f"line {line}:" in msg and fragment in msg, msg


ALIST_OK = """4 2
2 3
1 2 1 2
3 3
1 0
1 2
2 0
1 2
1 2 4
2 3 4
"""

ALIST_BAD = [
    ("lists disagree", _edit(ALIST_OK, 10, "2 3 1"), 8, "the two lists disagree"),
    ("truncated check lists", ALIST_OK.replace("2 3 4\n", ""), 9, "unexpected end of file"),
    ("truncated variable lists", "4 2\n2 3\n1 2 1 2\n3 3\n1 0\n1 2\n", 6, "unexpected end of file"),
    ("truncated header", "4 2\n2 3\n1 2 1\n", 3, "unexpected end of file"),
    ("check out of range", _edit(ALIST_OK, 6, "1 3"), 6, "check index 3"),
    ("variable out of range", _edit(ALIST_OK, 9, "1 2 5"), 9, "variable index 5"),
    ("weights disagree", _edit(ALIST_OK, 4, "3 2"), 4, "row weights add up to 5"),
    ("weight above maximum", _edit(_edit(ALIST_OK, 3, "1 3 1 1"), 6, "1 2 2"), 3, "exceeds"),
    ("garbled", _edit(ALIST_OK, 7, "2 zero"), 7, "'zero' is not a number"),
    ("negative entry", _edit(ALIST_OK, 7, "2 -1"), 7, "integer >= 0"),
    ("repeated variable", _edit(ALIST_OK, 9, "1 1 4"), 9, "listed together twice"),
    ("extra content", ALIST_OK + "3\n", 11, "unexpected content"),
    ("empty", "", 1, "empty"),
]


@pytest.mark.parametrize("what, text, line, fragment", ALIST_BAD, ids=[c[0] for c in ALIST_BAD])
def test_malformed_alist(tmp_path, what, text, line, fragment):
    p = write_text(tmp_path / "bad.alist", text)
    with pytest.raises(ValueError) as err:
        fgraph.read(p)
    msg = str(err.value)
    assert "bad.alist" in msg and f"line {line}:" in msg and fragment in msg, msg


def test_alist_tolerance(tmp_path):
    want = fgraph.read(write_text(tmp_path / "ok.alist", ALIST_OK))
    assert [want.scope(a).tolist() for a in range(2)] == [[0, 1, 3], [1, 2, 3]]
    variants = {
        "tabs, no padding": "4\t2\n2\t3\n1\t2\t1\t2\n3\t3\n1\n1\t2\n2\n1\t2\n1\t2\t4\n2\t3\t4\n",
        "padding everywhere, one line": "4 2 2 3 1 2 1 2 3 3 1 0 1 2 2 0 1 2 1 2 4 0 2 3 4 0 0 0",
        "variable lists only": "4 2\n2 3\n1 2 1 2\n3 3\n1 0\n1 2\n2 0\n1 2\n",
        "unsorted variable lists": "4 2\n2 3\n1 2 1 2\n3 3\n1 0\n2 1\n2 0\n2 1\n1 2 4\n2 3 4\n",
        "windows line ends": ALIST_OK.replace("\n", "\r\n"),
    }
    for name, text in variants.items():
        g = fgraph.read(write_text(tmp_path / "v.alist", text))
        try:
            assert_same(want, g)
        except AssertionError as err:
            raise AssertionError(name) from err


def test_line_numbers_with_crlf_and_comments(tmp_path):
    text = _edit(FG_OK, 10, "9 0.5").replace("\n", "\r\n")
    with pytest.raises(ValueError, match=r"bad\.fg, line 10: table index 9"):
        fgraph.read(write_text(tmp_path / "bad.fg", text))
    text = "# c\n1 # one factor\n\n1 # arity\n0\n2\n1\n0 x\n"
    with pytest.raises(ValueError, match=r"bad\.fg, line 8: 'x' is not a number"):
        fgraph.read(write_text(tmp_path / "bad.fg", text))


def test_bayes_preamble_reads_like_markov(tmp_path):
    a = fgraph.read(write_text(tmp_path / "a.uai", UAI_OK))
    b = fgraph.read(write_text(tmp_path / "b.uai", UAI_OK.replace("MARKOV", "BAYES")))
    assert_same(a, b)


# --------------------------------------------------------------------- networkx
def test_to_networkx_attributes():
    cg = mixed_graph()
    G = fgraph.to_networkx(cg)
    assert G.number_of_nodes() == cg.n_var + cg.n_fac and G.number_of_edges() == cg.n_edge
    assert G.nodes["v", 1]["card"] == 3 and G.nodes["v", 1]["name"] is None
    assert G.nodes["v", 1]["unary"] == cg.var_unary[1, :3].tolist()
    for a in range(cg.n_fac):
        node = G.nodes["f", a]
        assert node["kind"] == cg.types[cg.type_index(a)]
        assert np.array_equal(node["log_table"], cg.log_table(a))
        assert isinstance(node["params"], str)
        for s, i in enumerate(cg.scope(a).tolist()):
            assert G.edges[("f", a), ("v", i)]["slot"] == s
    kinds = {G.nodes["f", a]["kind"] for a in range(cg.n_fac)}
    assert kinds == {"unary", "table", "ising", "potts", "parity"}


def test_networkx_round_trip_keeps_tables_and_scores():
    cg = mixed_graph()
    back = fgraph.from_networkx(fgraph.to_networkx(cg))
    want = cg.to_tables()
    assert back.types == ("table",)
    assert_same(back, dataclasses.replace(want, fac_origin=back.fac_origin))
    x = all_states(cg.card)
    np.testing.assert_allclose(back.log_score(x), cg.log_score(x), rtol=1e-15, atol=1e-15)


def test_networkx_round_trip_of_file_graph_is_exact(ext):
    for name in ("libdai/alarm.fg", "asia/asia.uai"):
        g = fgraph.read(ext / name)
        assert_same(g, fgraph.from_networkx(fgraph.to_networkx(g)))


def test_from_networkx_ising():
    G = nx.cycle_graph(5)
    nx.set_edge_attributes(G, {(0, 1): -0.5, (2, 3): 2.0}, "J")
    nx.set_node_attributes(G, {0: 0.25, 4: -1.0}, "h")
    cg = fgraph.from_networkx(G)
    g = FactorGraph()
    g.add_variables(5)
    g.add_ising([[0, 1], [0, 4], [1, 2], [2, 3], [3, 4]], [-0.5, 1.0, 1.0, 2.0, 1.0])
    g.add_field([0, 4], [0.25, -1.0])
    want = g.compile()
    assert_same(cg, want)
    x = all_states(cg.card)
    s = 2 * x - 1
    brute = (-0.5 * s[:, 0] * s[:, 1] + s[:, 0] * s[:, 4] + s[:, 1] * s[:, 2] + 2 * s[:, 2] * s[:, 3]
             + s[:, 3] * s[:, 4] + 0.25 * s[:, 0] - s[:, 4])
    np.testing.assert_allclose(cg.log_score(x), brute, atol=1e-12)
    named = fgraph.from_networkx(nx.path_graph(["a", "b", "c"]))
    assert named.var_names == ("a", "b", "c") and named.n_fac == 2


def test_from_networkx_errors():
    with pytest.raises(ValueError, match="empty"):
        fgraph.from_networkx(nx.Graph())
    G = nx.Graph()
    G.add_edge(1, 1)
    with pytest.raises(ValueError, match="self-loop"):
        fgraph.from_networkx(G)
    w = fgraph.Wiring.from_edges(2, [0, 2], [0, 1]).to_networkx()  # topology only: no slots
    with pytest.raises(ValueError, match="slot"):
        fgraph.from_networkx(w)
    G = fgraph.to_networkx(mixed_graph())
    del G.nodes["f", 2]["log_table"]
    with pytest.raises(ValueError, match=r"\('f', 2\) has no 'log_table'"):
        fgraph.from_networkx(G)
    G = fgraph.to_networkx(mixed_graph())
    G.add_edge(("v", 0), ("v", 1))
    with pytest.raises(ValueError, match="joined to variable node"):
        fgraph.from_networkx(G)
    G = fgraph.to_networkx(mixed_graph())
    G.nodes["v", 2]["unary"] = [-np.inf, -np.inf]
    with pytest.raises(ValueError, match="Z = 0"):
        fgraph.from_networkx(G)
    G = fgraph.to_networkx(mixed_graph())
    G.nodes["f", 1]["log_table"] = np.zeros((2, 2))  # factor 1 is the (3, 2) table
    with pytest.raises(ValueError, match="shape"):
        fgraph.from_networkx(G)
    G = fgraph.to_networkx(mixed_graph())
    G.edges[("f", 1), ("v", 0)]["slot"] = 5
    with pytest.raises(ValueError, match="slots"):
        fgraph.from_networkx(G)


# --------------------------------------------------------------------- properties
@st.composite
def table_graphs(draw):
    n = draw(st.integers(1, 5))
    cards = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    g = FactorGraph()
    g.add_variables(card=cards)
    for _ in range(draw(st.integers(0, 5))):
        k = int(rng.integers(1, min(n, 3) + 1))
        scope = rng.choice(n, size=k, replace=False)
        shape = tuple(cards[i] for i in scope)
        table = rng.random(shape) * (rng.random(shape) > 0.3) * 10.0 ** rng.integers(-3, 4)
        table.flat[rng.integers(table.size)] = 1.0 + rng.random()  # never all-zero
        g.add_factor(scope, table)
    binaries = [i for i in range(n) if cards[i] == 2]
    if len(binaries) >= 2 and draw(st.booleans()):
        g.add_ising(binaries[:2], J=float(rng.normal()))
    if binaries and draw(st.booleans()):
        g.add_field(binaries[0], float(rng.normal()))
    return g.compile()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(table_graphs())
def test_property_round_trip_uai_and_fg(tmp_path, cg):
    only_tables = cg.types in ((), ("table",)) and not np.any(cg.var_unary[np.isfinite(cg.var_unary)])
    x = all_states(cg.card)
    for suffix in (".uai", ".fg"):
        p1, p2 = tmp_path / ("one" + suffix), tmp_path / ("two" + suffix)
        fgraph.write(cg, p1)
        g1 = fgraph.read(p1)
        g1.validate()
        if only_tables and suffix == ".uai":
            assert_same(cg, g1)  # built from linear potentials: exact
        np.testing.assert_allclose(g1.log_score(x), cg.log_score(x), rtol=1e-14, atol=1e-14)
        fgraph.write(g1, p2)
        assert_same(g1, fgraph.read(p2))  # read from a file: exact


# --------------------------------------------------------------------- speed
def test_reading_a_large_uai_file_is_fast(tmp_path):
    rng = np.random.default_rng(0)
    n, F = 10_000, 100_000
    e = rng.integers(0, n, size=(F, 2))
    e[:, 1] = (e[:, 0] + 1 + rng.integers(0, n - 1, size=F)) % n  # no repeated variable
    vals = rng.random((F, 4)).round(6) + 0.001
    scopes = "\n".join(f"2 {i} {j}" for i, j in e.tolist())
    tables = "\n".join(f"4\n{a} {b} {c} {d}" for a, b, c, d in vals.tolist())
    path = write_text(tmp_path / "big.uai", f"MARKOV\n{n}\n{' '.join(['2'] * n)}\n{F}\n{scopes}\n{tables}\n")
    t0 = time.perf_counter()
    g = fgraph.read(path)
    elapsed = time.perf_counter() - t0
    assert (g.n_var, g.n_fac, g.n_edge) == (n, F, 2 * F)
    assert np.array_equal(g.edge_var.reshape(F, 2), e)
    np.testing.assert_array_equal(np.exp(g.params[0]["logp"]).reshape(F, 4).round(9), vals.round(9))
    assert elapsed < 5.0, f"reading 1e5 factors took {elapsed:.2f} s"


# --------------------------------------------------------------------- the package layout
def test_one_module_per_format(tmp_path):
    """fgraph.io re-exports the format modules' functions; each reader/writer ignores the extension."""
    from fgraph.io import alist, fg, uai
    from fgraph.io import nx as fnx

    assert fgraph.read_evidence is uai.read_evidence is read_evidence
    assert fgraph.write_evidence is uai.write_evidence is write_evidence
    assert fgraph.to_networkx is fnx.to_networkx and fgraph.from_networkx is fnx.from_networkx
    assert set(fgraph.io.__all__) == {"read", "write", "read_evidence", "write_evidence", "to_networkx",
                                      "from_networkx"}
    cg = mixed_graph()
    for writer, reader, ext in ((uai.write_uai, uai.read_uai, ".uai"), (fg.write_fg, fg.read_fg, ".fg")):
        writer(cg, tmp_path / f"m{ext}.txt")
        fgraph.write(cg, tmp_path / f"m{ext}")
        assert (tmp_path / f"m{ext}.txt").read_bytes() == (tmp_path / f"m{ext}").read_bytes()
        assert_same(reader(tmp_path / f"m{ext}.txt"), fgraph.read(tmp_path / f"m{ext}"))
        with pytest.raises(TypeError, match="CompiledGraph"):
            writer("not a graph", tmp_path / "x")
    g = FactorGraph()
    g.add_variables(3)
    g.add_parity([[0, 1], [1, 2]])
    alist.write_alist(g.compile(), tmp_path / "code.txt")
    assert_same(alist.read_alist(tmp_path / "code.txt"), g.compile())
    with pytest.raises(ValueError, match="only supported for .uai"):
        fgraph.write(cg, tmp_path / "m.alist", evidence_path=True)


def test_the_common_helpers_stay_inside_fgraph_io():
    """fgraph.io._common is private: no module outside fgraph/io imports it."""
    root = Path(fgraph.__file__).resolve().parents[1]
    here = Path(__file__).resolve()
    users = [
        str(p.relative_to(root))
        for pkg in ("fgraph", "lifts", "algorithms", "mcover", "tests", "benchmarks", "examples")
        for p in (root / pkg).rglob("*.py")
        if p.parent != root / "fgraph" / "io" and p != here and "io._common" in p.read_text()
    ]
    assert users == []
