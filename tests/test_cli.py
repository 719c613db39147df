"""The mcover command line: info, bp, lift, compare and demo; tables and JSON, errors."""

import json
import math
import subprocess
import sys

import pytest

import fgraph
from mcover.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_json_on_testfast(capsys, external):
    code, out, _ = run(capsys, "info", str(external / "libdai" / "testfast.fg"), "--json")
    assert code == 0
    d = json.loads(out)
    assert d["n_variables"] == 16 and d["n_factors"] == 40
    assert d["log_z"] == pytest.approx(14.328233281091578, abs=1e-9)
    assert d["cardinalities"] == {"2": 16}


def test_info_table_on_asia(capsys, external):
    code, out, _ = run(capsys, "info", str(external / "asia" / "asia.uai"))
    assert code == 0
    assert "variables" in out and "log Z" in out
    # asia is a Bayesian network: Z = 1
    line = [ln for ln in out.splitlines() if ln.startswith("log Z")][0]
    assert abs(float(line.split()[-1])) < 1e-9


def test_info_with_evidence(capsys, external):
    f = external / "uai2014" / "Promedus_34.uai"
    code, out, _ = run(capsys, "info", str(f), "--evidence", str(f) + ".evid", "--json")
    d = json.loads(out)
    assert d["n_evidence"] == 3
    assert d["log_z"] == pytest.approx(-7.091871375865228, abs=1e-6)


def test_info_width_limit_gives_null(capsys, external):
    code, out, _ = run(capsys, "info", str(external / "libdai" / "testfast.fg"), "--json", "--max-width", "1")
    d = json.loads(out)
    assert code == 0 and d["log_z"] is None and "width" in d["log_z_note"]


def test_info_alist(capsys, external):
    code, out, _ = run(capsys, "info", str(external / "ldpc" / "96.33.964.alist"), "--json")
    d = json.loads(out)
    assert d["n_variables"] == 96 and d["n_factors"] == 48
    assert d["factor_types"] == {"parity": 48}
    assert d["factor_degree"] == {"min": 6, "max": 6, "mean": 6.0}
    # Z counts the codewords: 2^(96 - rank) with rank 48 (GF(2) elimination; min-fill width is 58)
    assert d["induced_width"] > 40
    assert d["log_z"] == pytest.approx(48 * math.log(2), abs=1e-9)


def test_info_errors_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "info", str(tmp_path / "missing.uai"))
    assert code == 2 and "missing.uai" in err
    bad = tmp_path / "bad.uai"
    bad.write_text("MARKOV\n2\n2 x\n")
    code, _, err = run(capsys, "info", str(bad))
    assert code == 2 and "bad.uai" in err and "line" in err


def test_demo_runs_bp_against_exact(capsys, tmp_path):
    png = tmp_path / "demo.png"
    code, out, _ = run(capsys, "demo", "--size", "4", "--code-length", "600", "--plot", str(png), "--json")
    assert code == 0 and png.stat().st_size > 10_000
    d = json.loads(out.strip().splitlines()[-1])
    for row in d["rows"]:
        assert row["converged"] and row["map_ok"]
        assert row["bethe_log_z"] == pytest.approx(row["log_z"], rel=0.05)
        assert row["max_marginal_error"] < 0.2
    # weak coupling: BP is nearly exact
    assert d["rows"][0]["max_marginal_error"] < 1e-3
    codes = {c["p"]: c for c in d["ldpc"]}
    assert codes[0.3]["unresolved"] == 0 and codes[0.5]["unresolved"] > 0
    assert "Bethe" in out
    # the routing part: one row per kernel, errors of a binary perceptron between 0 and 1/2,
    # and BP on the cover at least as good as the clipped rule's copies
    rt = d["routing"]
    assert [r["kernel"] for r in rt["rows"]] == ["Identity()", "Ring(width=1)", "Uniform()"]
    assert all(0 <= r["copy_error"] < 0.5 and 0 <= r["ensemble_error"] < 0.5 for r in rt["rows"])
    assert rt["bp_error"] <= min(r["copy_error"] for r in rt["rows"]) and rt["bayes_error"] < 1e-3
    # the cover part: identity keeps M x the base's squares and disjoint, disagreeing copies;
    # mixing kernels make the copies agree
    cov = d["covers"]
    rows = {r["kernel"]: r for r in cov["rows"]}
    ident, uni = rows["Identity()"], rows["Uniform()"]
    assert ident["cycles_8"] == cov["M"] * 25  # 6x6 grid: 25 squares
    assert ident["mean_spread"] > 0.3 and ident["overlap"] < 0
    assert uni["mean_spread"] < 1e-6 and uni["overlap"] > 0.5 and all(r["converged"] for r in cov["rows"])
    v = cov["vontobel"]
    assert abs(v[0]["log_z"] - cov["ring"]["log_z"]) < 1e-9
    assert all(a["log_z"] > b["log_z"] > cov["ring"]["bethe_log_z"] for a, b in zip(v, v[1:]))


def test_lift_table_json_and_output(capsys, external, tmp_path):
    f = str(external / "libdai" / "testfast.fg")
    code, out, _ = run(capsys, "lift", f, "--M", "3", "--kernel", "identity", "--json")
    d = json.loads(out)
    assert code == 0 and d["M"] == 3 and d["kernel"] == "Identity()"
    assert d["base"]["n_variables"] == 16 and d["lift"]["n_variables"] == 48
    assert d["lift"]["cycles"] == {k: 3 * v for k, v in d["base"]["cycles"].items()}
    assert d["base"]["girth"] == d["lift"]["girth"] == 8
    out_file = tmp_path / "cover.fg"
    code, out, _ = run(capsys, "lift", f, "--M", "2", "--kernel", "ring:1.0", "--seed", "3",
                       "-o", str(out_file))
    assert code == 0 and "8-cycles" in out and "Ring(width=1)" in out
    cover = fgraph.read(out_file)
    assert cover.n_var == 32 and cover.n_fac == 80


def test_compare_json_and_plot(capsys, external, tmp_path):
    f = str(external / "libdai" / "testfast.fg")
    png = tmp_path / "cmp.png"
    code, out, _ = run(capsys, "compare", f, "--M", "3", "--kernel", "uniform", "--plot", str(png), "--json")
    d = json.loads(out)
    assert code == 0 and png.stat().st_size > 10_000
    assert d["invariance_error"] < 1e-9 and d["init"] == "uniform"
    assert d["base"]["log_z"] == pytest.approx(14.328952010220865, abs=1e-9)  # libDAI's Bethe log Z
    assert sum(d["cover"]["log_z_per_copy"]) == pytest.approx(3 * d["base"]["log_z"], abs=1e-8)
    code, out, _ = run(capsys, "compare", f, "--M", "2", "--init", "asymmetric")
    assert code == 0 and "spread between copies" in out and "Bethe log Z per copy" in out


def test_lift_and_compare_bad_input(capsys, external):
    f = str(external / "libdai" / "testfast.fg")
    code, _, err = run(capsys, "lift", f, "--kernel", "spiral:2")
    assert code == 2 and "spiral" in err
    code, _, err = run(capsys, "lift", f, "--M", "0")
    assert code == 2 and "M" in err
    code, _, err = run(capsys, "compare", f, "--kernel", "ring:-1")
    assert code == 2 and "width" in err
    code, _, err = run(capsys, "compare", str(external / "nope.fg"))
    assert code == 2 and "nope.fg" in err


def test_bp_json_on_testfast(capsys, external):
    code, out, _ = run(capsys, "bp", str(external / "libdai" / "testfast.fg"), "--json")
    d = json.loads(out)
    assert code == 0 and d["converged"] and d["iterations"] > 1
    assert d["log_z"] == pytest.approx(14.328952010220865, abs=1e-9)  # libDAI's Bethe log Z
    assert d["marginals"][0][0] == pytest.approx(0.3486, abs=5e-5)  # testfast.out, BP
    assert "map_state" not in d


def test_bp_max_mode_json_and_table(capsys, external):
    f = str(external / "libdai" / "maxprodbug.fg")
    code, out, _ = run(capsys, "bp", f, "--mode", "max", "--json")
    d = json.loads(out)
    assert d["map_log_score"] == pytest.approx(0.0)  # a jointly consistent state of value 1
    code, out, _ = run(capsys, "bp", f, "--mode", "max", "--schedule", "sequential")
    assert code == 0 and "MAP" in out and "converged: True" in out


def test_bp_bad_options(capsys, external):
    f = str(external / "libdai" / "testfast.fg")
    code, _, err = run(capsys, "bp", f, "--damping", "1.5")
    assert code == 2 and "damping" in err
    code, _, err = run(capsys, "bp", f, "--max-iter", "0")
    assert code == 2 and "max_iter" in err
    code, out, err = run(capsys, "bp", f, "--max-iter", "2")
    assert code == 0 and "converged: False" in out and "did not converge" in err


def test_console_script_help():
    res = subprocess.run([sys.executable, "-m", "mcover", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and all(c in res.stdout for c in ("info", "bp", "lift", "compare", "demo"))


def test_amp_json_follows_se(capsys, tmp_path):
    png = tmp_path / "amp.png"
    code, out, _ = run(capsys, "amp", "--n", "800", "--alpha", "2", "--iterations", "8", "--plot", str(png),
                       "--json")
    d = json.loads(out)
    assert code == 0 and png.stat().st_size > 5_000
    assert d["p"] == 1600 and len(d["amp_overlap"]) == len(d["se_overlap"]) >= 5
    assert max(abs(a - s) for a, s in zip(d["amp_overlap"], d["se_overlap"])) < 0.05
    assert d["amp_overlap"][-1] > 0.99  # alpha = 2 > alpha_alg: perfect recovery
    code, out, _ = run(capsys, "amp", "--n", "300", "--alpha", "1", "--prior", "gaussian",
                       "--iterations", "5", "--M", "4", "--kernel", "ring:1.0")
    assert code == 0 and "4-cover" in out and "SE overlap" in out


def test_amp_bad_options(capsys):
    code, _, err = run(capsys, "amp", "--alpha", "0")
    assert code == 2 and "alpha" in err
    code, _, err = run(capsys, "amp", "--channel", "gaussian")
    assert code == 2 and "noise" in err
    code, _, err = run(capsys, "amp", "--prior", "spherical")
    assert code == 2 and "spherical" in err
    code, _, err = run(capsys, "amp", "--problem", "quantized", "--prior", "binary", "--n", "50")
    assert code == 2 and "levels" in err
