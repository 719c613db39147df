"""``mcover quant``: each action's JSON against the library called directly, tables, plots, bad input."""

import math

import numpy as np
import pytest
from runners import cli, cli_json


def run(capsys, *argv):
    return cli(capsys, "quant", *argv)


def run_json(capsys, *argv) -> dict:
    return cli_json(capsys, "quant", *argv)


def _same(a, b):
    """A JSON number (None for inf/nan) against the library's float."""
    if a is None:
        return not math.isfinite(b)
    return a == b


# ----------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("extra, beta", [((), math.inf), (("--beta", "10"), 10.0),
                                         (("--beta", "inf"), math.inf)])
def test_rs_equals_solve_rs(capsys, extra, beta):
    from algorithms.theory.quantizers import uniform_levels
    from algorithms.theory.replica import solve_rs

    d = run_json(capsys, "rs", "--alpha", 2, "--bits", 2, "--width", 1.5, "--delta", 0.1, *extra)
    r = solve_rs(2.0, uniform_levels(2, 1.5), 0.1, beta=beta)
    assert d["command"] == "rs" and d["kind"] == "midrise" and d["levels_rule"] == "uniform"
    assert d["beta"] == (None if math.isinf(beta) else beta)
    assert d["levels"] == [-1.5, -0.5, 0.5, 1.5] and d["bits"] == 2 and d["width"] == 1.5
    for k in ("m", "q", "Q", "chi_tilde", "chi", "D", "S", "gen_error", "gen_error_mean", "train_error",
              "train_error_mean", "lambda_at", "rho0"):
        assert _same(d[k], getattr(r, k)), k
    assert d["stable"] is bool(r.stable) and d["converged"] is bool(r.converged)
    if math.isinf(beta):
        assert d["lambda_at"] is None and d["stable"] is False  # discrete levels at T = 0: always unstable


@pytest.mark.parametrize("rule", ["max", "lloyd", "continuous"])
def test_rs_level_rules(capsys, rule):
    from algorithms.theory.quantizers import lloyd_max, max_uniform
    from algorithms.theory.replica import solve_rs

    d = run_json(capsys, "rs", "--levels", rule, "--bits", 3, "--alpha", 3)
    levels = {"max": max_uniform(3).levels, "lloyd": lloyd_max(3).levels, "continuous": None}[rule]
    r = solve_rs(3.0, levels, 0.1)
    assert d["gen_error"] == r.gen_error and d["width"] is None
    if rule == "continuous":
        assert d["levels"] is None and d["bits"] is None
        assert d["gen_error"] == pytest.approx(0.1 * 3 / 2)  # Delta alpha / (alpha - 1)
    else:
        assert d["levels"] == levels.tolist()


def test_phase_equals_phase_diagram(capsys):
    from algorithms.theory.quant_study import phase_diagram

    d = run_json(capsys, "phase", "--bits-range", "1:3", "--widths", "0.2:3:5", "--beta", 5)
    pd = phase_diagram([1, 2, 3], np.linspace(0.2, 3, 5), alpha=2.0, delta=0.1, beta=5.0)
    assert d["bits"] == [1, 2, 3] and d["widths"] == pd.widths.tolist() and d["beta"] == 5.0
    assert d["lambda_at"] == pd.lambda_at.tolist() and d["stable"] == pd.stable.tolist()
    assert d["gen_error"] == pd.gen_error.tolist() and d["converged"] == pd.converged.tolist()
    assert d["unstable_fraction"] == pytest.approx(np.mean(~pd.stable))
    assert d["onset_width"][0] is not None and d["onset_width"][0] <= d["widths"][-1]  # 1 bit turns unstable
    for i, w in enumerate(d["onset_width"]):
        if w is not None:
            j = d["widths"].index(w)
            assert not d["stable"][i][j] and all(d["stable"][i][:j])
    # the default beta of phase is finite; mid-tread starts at 2 bits
    dflt = run_json(capsys, "phase", "--kind", "midtread", "--widths", "0.5:1:2")
    assert dflt["beta"] == 5.0 and dflt["bits"] == list(range(2, 9)) and dflt["kind"] == "midtread"


def test_width_equals_optimal_width(capsys):
    from algorithms.theory.quant_study import optimal_width
    from algorithms.theory.quantizers import max_uniform

    d = run_json(capsys, "width", "--alpha", 1e4, "--bits", 2, "--delta", 0, "--n-grid", 20)
    ow = optimal_width(1e4, 2, 0.0, n_grid=20)
    assert d["width"] == ow.width and d["gen_error"] == ow.gen_error and d["errors"] == ow.errors.tolist()
    assert d["max_width"] == pytest.approx(max_uniform(2).levels[-1])
    assert d["width"] == pytest.approx(1.5 * 0.9957, abs=0.02)  # alpha -> inf, Delta = 0: Max's quantizer
    cells = run_json(capsys, "width", "--kind", "cells", "--bits", 2)
    assert cells["max_width"] == pytest.approx(2 * max_uniform(2).step)
    assert run_json(capsys, "width", "--kind", "midtread", "--bits", 2)["max_width"] is None


def test_curve_equals_error_curve(capsys):
    from algorithms.theory.quant_study import error_curve, interpolation_peak
    from algorithms.theory.quantizers import uniform_levels

    d = run_json(capsys, "curve", "--alphas", "0.5:3:6", "--bits", 2, "--width", 1.5)
    lev = uniform_levels(2, 1.5)
    ec = error_curve(np.linspace(0.5, 3, 6), lev, 0.1)
    assert d["alphas"] == ec.alphas.tolist() and d["gen_error"] == ec.gen_error.tolist()
    assert d["train_error"] == ec.train_error.tolist() and d["S"] == ec.S.tolist()
    assert d["peak_alpha"] == interpolation_peak(lev, 0.1) and 0 < d["peak_alpha"] < 1
    c = run_json(capsys, "curve", "--alphas", "0.5:3:6", "--levels", "continuous")
    assert c["gen_error"][:2] == [None, None]  # inf at alpha <= 1
    assert c["gen_error"][2:] == pytest.approx([0.1 * a / (a - 1) for a in c["alphas"][2:]])
    assert c["peak_alpha"] == 1.0
    assert run_json(capsys, "curve", "--alphas", "1:2:2", "--beta", 5)["peak_alpha"] is None


# ----------------------------------------------------------------------------- table and plot
def test_tables(capsys):
    code, out, _ = run(capsys, "rs", "--beta", 10)
    assert code == 0 and "lambda_AT" in out and "midrise convention" in out and "stable" in out
    code, out, _ = run(capsys, "phase", "--bits-range", "1:2", "--widths", "0.5:3:4")
    assert code == 0 and "onset width" in out and "*" in out and "midrise convention" in out
    code, out, _ = run(capsys, "width", "--kind", "cells")
    assert code == 0 and "omega*" in out and "cells convention" in out
    code, out, _ = run(capsys, "curve", "--alphas", "0.5:2:4", "--levels", "continuous")
    assert code == 0 and "interpolation peak alpha = S: 1.00000" in out and "inf" in out


@pytest.mark.parametrize("argv", [("rs",), ("phase", "--bits-range", "1:2", "--widths", "0.5:2:3"),
                                  ("width", "--n-grid", 5), ("curve", "--alphas", "0.5:2:4")])
def test_plot(capsys, tmp_path, argv):
    png = tmp_path / "q.png"
    d = run_json(capsys, *argv, "--plot", png)
    assert d["plot"] == str(png) and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("argv, option", [
    (("rs", "--bits", 0), "--bits"),
    (("curve", "--bits", -1), "--bits"),
    (("rs", "--width", 0), "--width"),
    (("rs", "--width", -1.5), "--width"),
    (("rs", "--alpha", 0), "--alpha"),
    (("width", "--alpha", -1), "--alpha"),
    (("rs", "--delta", -0.1), "--delta"),
    (("rs", "--beta", 0), "--beta"),
    (("rs", "--beta", -2), "--beta"),
    (("phase", "--beta", "inf"), "--beta"),
    (("rs", "--kind", "midpoint"), "--kind"),
    (("rs", "--kind", "midtread", "--bits", 1), "--bits"),
    (("phase", "--kind", "midtread", "--bits-range", "1:3"), "--bits-range"),
    (("phase", "--widths", "0:1:3"), "--widths"),
    (("phase", "--bits-range", "3"), "--bits-range"),
    (("curve", "--alphas", "1:2"), "--alphas"),
    (("rs", "--levels", "log"), "--levels"),
    (("rs", "--levels", "max", "--width", 1), "--width"),
    (("width", "--n-grid", 2), "--n-grid"),
    (("rs", "--ridge", -1), "--ridge"),
])
def test_bad_input(capsys, argv, option):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcover quant: error:") and option in lines[0], err
