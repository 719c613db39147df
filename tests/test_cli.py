"""The mcover command line: info and demo, tables and JSON, errors."""

import json
import math
import subprocess
import sys

import pytest

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


def test_demo_runs_and_checks_map(capsys):
    code, out, _ = run(capsys, "demo", "--size", "4", "--json")
    assert code == 0
    d = json.loads(out.strip().splitlines()[-1])
    L = d["L"]
    for row in d["rows"]:
        # the all-up state is the MAP of a ferromagnet with a positive field
        assert row["map_score"] == pytest.approx(row["beta"] * (2 * L * (L - 1) + 0.1 * L * L))
        assert 0 < row["magnetisation"] < 1


def test_console_script_help():
    res = subprocess.run([sys.executable, "-m", "mcover", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "info" in res.stdout and "demo" in res.stdout
