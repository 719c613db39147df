"""Every example in examples/ runs in seconds, prints its table and saves its figure."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_exact_ising_grid(tmp_path, capsys):
    mod = runpy.run_path(str(EXAMPLES / "exact_ising_grid.py"))
    res = mod["main"](tmp_path, L=4)
    assert res["figure"].exists() and res["figure"].stat().st_size > 1000
    assert res["gap"] < 1e-10
    m = res["magnetisation"]
    assert np.all(np.diff(m) > 0), "magnetisation grows with beta in a positive field"
    assert "log Z / n" in capsys.readouterr().out


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_runs_as_a_script(script, tmp_path):
    args = [sys.executable, str(EXAMPLES / script), "--out", str(tmp_path)]
    if "--small" in (EXAMPLES / script).read_text():  # the seconds-long mode, where an example has one
        args.append("--small")
    res = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert list(tmp_path.glob("*.png"))


def test_bp_vs_exact(tmp_path):
    mod = runpy.run_path(str(EXAMPLES / "bp_vs_exact.py"))
    res = mod["main"](tmp_path, L=4)
    assert res["figure"].exists()
    assert res["tree_error"] < 1e-9 and abs(res["tree_gap"]) < 1e-9
    # on the loopy grid BP is approximate, most visibly at intermediate beta
    assert res["errors"].max() > 1e-3


def test_covers(tmp_path):
    mod = runpy.run_path(str(EXAMPLES / "covers.py"))
    res = mod["main"](tmp_path, L=5)
    assert res["figure"].exists()
    rows = res["loops"]
    assert rows[0]["measured"] == pytest.approx(8 * res["n8"], rel=0.05)  # narrow ring: ~disjoint copies
    for r in rows:  # measured 8-cycle counts follow N_8 tr((P Pt)^4)
        assert abs(r["measured"] - r["predicted"]) < 4 * r["stderr"] + 2
    v = res["vontobel"]
    assert np.allclose(v["cover"], v["closed_form"], atol=1e-9)
    assert abs(v["cover"][0] - v["exact"]) < 1e-9
