"""``mcover ste``: the JSON against the library called directly, kinds, teachers, table, plot, bad input."""

import math
import re

import numpy as np
import pytest
from runners import cli, cli_json

SMALL = ("--d", 200, "--tau", 10, "--eta", 0.2, "--points", 21)


def run(capsys, *argv):
    return cli(capsys, "ste", *argv)


def run_json(capsys, *argv) -> dict:
    return cli_json(capsys, "ste", *SMALL, *argv)


def _same(a, b):
    """A JSON number (None for inf/nan) against the library's float."""
    if a is None:
        return not math.isfinite(b)
    return a == b


def library(kind="midrise", bits=2, width=2.0, teacher=1.0, delta=0.0, clipped=False, init_std=1.0,
            seeds=1, seed=0, d=200, tau=10.0, eta=0.2, points=21):
    """The library's results with the arguments of ``mcover ste``."""
    from algorithms.theory import ste
    from algorithms.theory.quantizers import uniform_levels

    c = uniform_levels(bits, width, kind=kind)
    kw = dict(teacher=teacher, delta=delta, clipped=clipped, init_std=init_std)
    sim = ste.simulate(c, c, d=d, eta=eta, tau=tau, seeds=seeds, seed=seed, n_points=points, **kw)
    mf = ste.mean_field(c, c, eta=eta, tau=tau, n_points=points, **kw)
    od = ste.ode(c, c, tau=tau, eta=eta, n_points=points, **kw)
    fp = ste.fixed_point(c, c, **kw)
    tp = ste.plateau_length(c, c, eta=eta, **kw)
    return c, sim, mf, od, fp, tp, ste.kappas(c)


# ----------------------------------------------------------------------------- oracles
def test_json_equals_library(capsys):
    from algorithms.theory import ste

    d = run_json(capsys, "--seeds", 3, "--seed", 5, "--delta", 0.05, "--init-std", 0.5)
    c, sim, mf, od, fp, tp, (k1, k2) = library(seeds=3, seed=5, delta=0.05, init_std=0.5)
    assert d["levels"] == c.tolist() == [-2.0, -2 / 3, 2 / 3, 2.0]
    assert (d["bits"], d["width"], d["kind"]) == (2, 2.0, "midrise")
    assert (d["eta"], d["d"], d["tau"]) == (0.2, 200, 10.0)
    assert (d["seeds"], d["seed"], d["teacher"], d["delta"], d["init_std"]) == (3, 5, 1.0, 0.05, 0.5)
    assert d["clipped"] is False and d["clip"] == 2.0 and d["points"] == 21
    assert d["kappa1"] == k1 and d["kappa2"] == k2
    s = d["simulation"]
    assert s["tau"] == sim.tau.tolist() and s["gen_error"] == sim.gen_error.tolist()
    assert s["gen_error_seeds"] == sim.gen_error_seeds.tolist() and len(s["gen_error_seeds"]) == 3
    assert s["sem"] == pytest.approx((sim.gen_error_seeds.std(axis=0, ddof=1) / math.sqrt(3)).tolist())
    assert d["final_error"] == sim.gen_error[-1]
    assert d["mean_field"] == {"tau": mf.tau.tolist(), "gen_error": mf.gen_error.tolist()}
    assert d["ode"] == {"tau": od.tau.tolist(), "gen_error": od.gen_error.tolist(), "m": od.m.tolist(),
                        "q": od.q.tolist()}
    assert d["fixed_point"]["gen_error"] == fp.gen_error and d["fixed_point"]["sliding"] is fp.sliding
    assert _same(d["fixed_point"]["p"], fp.p) and _same(d["fixed_point"]["mean_phi"], fp.mean_phi)
    assert d["fixed_point"]["sliding"] is True and 0 < d["fixed_point"]["p"] < 1
    assert _same(d["plateau_length"], tp) and d["plateau_length"] is not None
    e = ste.ode(c, c, tau=[tp / 4, tp / 2, 3 * tp / 4], eta=0.2, teacher=1.0, delta=0.05,
                init_std=0.5).gen_error
    assert d["plateau_error"] == e[1] and d["plateau_change"] == e[2] - e[0]
    # the deviations: the curves share their times here, so no interpolation is involved
    assert s["tau"] == d["mean_field"]["tau"] == pytest.approx(d["ode"]["tau"])
    assert d["max_deviation"] == pytest.approx(np.max(np.abs(sim.gen_error - mf.gen_error)), abs=1e-15)
    assert d["max_deviation_ode"] == pytest.approx(np.max(np.abs(sim.gen_error - od.gen_error)), abs=1e-15)
    assert set(d["timings"]) == {"simulate", "mean_field", "ode", "theory"}
    assert d["seconds"] >= max(d["timings"].values())


@pytest.mark.parametrize("kind, n_levels", [("midrise", 4), ("midtread", 3), ("cells", 4)])
def test_kinds(capsys, kind, n_levels):
    from algorithms.theory.quantizers import uniform_levels

    d = run_json(capsys, "--kind", kind, "--width", 1.5, "--clipped")
    c, sim, mf, od, fp, tp, (k1, k2) = library(kind=kind, width=1.5, clipped=True)
    assert d["kind"] == kind and d["levels"] == uniform_levels(2, 1.5, kind=kind).tolist()
    assert len(d["levels"]) == n_levels and d["clipped"] is True and d["clip"] == c[-1]
    assert d["kappa1"] == k1 and d["simulation"]["gen_error"] == sim.gen_error.tolist()
    assert d["mean_field"]["gen_error"] == mf.gen_error.tolist()
    assert d["ode"]["gen_error"] == od.gen_error.tolist()
    assert d["fixed_point"]["gen_error"] == fp.gen_error and _same(d["plateau_length"], tp)


def test_gaussian_teacher(capsys):
    d = run_json(capsys, "--teacher", "gaussian", "--kind", "midtread")
    c, sim, mf, od, fp, tp, _ = library(teacher="gaussian", kind="midtread")
    assert d["teacher"] == "gaussian"
    assert d["simulation"]["gen_error"] == sim.gen_error.tolist()
    assert d["mean_field"]["gen_error"] == mf.gen_error.tolist()
    assert d["ode"]["gen_error"] == od.gen_error.tolist()
    assert d["fixed_point"]["gen_error"] == fp.gen_error
    # p and E[phi] are NaN for the Gaussian teacher
    assert d["fixed_point"]["p"] is None and d["fixed_point"]["mean_phi"] is None
    assert _same(d["plateau_length"], tp)
    # a constant teacher gives a different curve from the same seed
    assert run_json(capsys, "--kind", "midtread")["simulation"]["gen_error"] != d["simulation"]["gen_error"]


def test_published_plateau_setting(capsys):
    """Mid-tread, b = 2, omega = 2, w* = 1, Delta = 0, weights near 0: a plateau at 1, then 1.460 (§9.5)."""
    from algorithms.theory.ste import kappas

    d = run_json(capsys, "--kind", "midtread", "--init-std", 0.01)
    k1, _ = kappas(d["levels"])
    assert d["plateau_length"] == pytest.approx(2.0 / (2 * 0.2 * k1), rel=1e-3)  # s / (2 eta kappa1 w*)
    assert d["plateau_error"] == pytest.approx(1.0) and abs(d["plateau_change"]) < 1e-9
    assert round(d["fixed_point"]["gen_error"], 3) == 1.46
    assert d["verdict"].startswith("no drop after the plateau: eps_inf = 1.46 is above the plateau error 1 ")
    assert "dips" not in d["verdict"]  # the plateau itself (error 1 < eps_inf) is no dip
    # the run ends on the plateau when the horizon is shorter than tau_p
    short = cli_json(capsys, "ste", "--d", 200, "--tau", 2, "--eta", 0.2, "--kind", "midtread",
                     "--init-std", 0.01)
    assert "the run ends on the plateau" in short["verdict"]


def test_verdict_rules():
    from mcover.cli_ste import verdict

    base = {"tau": 10.0, "final_error": 0.5, "ode": {"tau": [0.0, 5.0, 10.0], "gen_error": [1.0, 0.8, 0.5]}}
    drop = verdict({**base, "plateau_length": 2.0, "plateau_error": 1.0, "plateau_change": 0.0,
                    "fixed_point": {"gen_error": 0.5}})
    assert drop.startswith("a drop follows the plateau") and "50%" in drop and "+0 from eps_inf" in drop
    flat = verdict({**base, "plateau_length": 2.0, "plateau_error": 1.0, "plateau_change": 0.0,
                    "fixed_point": {"gen_error": 0.98}})
    assert flat.startswith("no marked drop")
    moving = verdict({**base, "plateau_length": 2.0, "plateau_error": 1.0, "plateau_change": -0.3,
                      "fixed_point": {"gen_error": 0.5}})
    assert moving.startswith("no plateau: the eta -> 0 error already moves by -0.3")
    never = verdict({**base, "plateau_length": None, "plateau_error": None, "plateau_change": None,
                     "fixed_point": {"gen_error": 1.0}})
    assert never.startswith("no plateau exit")
    dip = verdict({**base, "plateau_length": 2.0, "plateau_error": 1.0, "plateau_change": 0.0,
                   "fixed_point": {"gen_error": 0.7},
                   "ode": {"tau": [0.0, 5.0, 10.0], "gen_error": [1.0, 0.3, 0.7]}})
    assert "dips to 0.3 at tau = 5 before rising" in dip
    early = verdict({**base, "plateau_length": 6.0, "plateau_error": 1.0, "plateau_change": 0.0,
                     "fixed_point": {"gen_error": 0.7},
                     "ode": {"tau": [0.0, 5.0, 10.0], "gen_error": [1.0, 0.3, 0.7]}})
    assert "dips" not in early  # the minimum lies before tau_p


# ----------------------------------------------------------------------------- table and plot
def test_table(capsys):
    code, out, err = run(capsys, *SMALL, "--seeds", 2, "--kind", "midtread")
    assert code == 0 and err == ""  # no progress bar when standard error is not a terminal
    lines = out.splitlines()
    assert "2-bit midtread levels of width 2" in lines[0] and "2 seed(s) from seed 0, w* = 1" in lines[1]
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["tau", "simulation"])
    assert "± sem" in lines[head] and "PDE (eta)" in lines[head] and "ODE (eta->0)" in lines[head]
    rows = [line.split() for line in lines[head + 1:head + 10]]
    assert [float(r[0]) for r in rows] == pytest.approx([0.0, 1.0, 2.5, 4.0, 5.0, 6.0, 7.5, 9.0, 10.0])
    assert lines[head + 10] == ""
    d = run_json(capsys, "--seeds", 2, "--kind", "midtread")
    assert float(rows[-1][1]) == pytest.approx(d["simulation"]["gen_error"][-1], abs=1e-5)
    assert float(rows[-1][3]) == pytest.approx(d["mean_field"]["gen_error"][-1], abs=1e-5)
    assert float(rows[-1][4]) == pytest.approx(d["ode"]["gen_error"][-1], abs=1e-5)
    assert f"fixed point eps_inf (eta -> 0)     {d['fixed_point']['gen_error']:.5f}" in out
    assert f"max |simulation - PDE|             {d['max_deviation']:.5f}" in out
    assert out.rstrip().splitlines()[-1] == f"verdict: {d['verdict']}"


def test_table_one_seed_has_no_sem(capsys):
    code, out, _ = run(capsys, *SMALL, "--teacher", "gaussian")
    assert code == 0 and "± sem" not in out and "w* ~ N(0, 1)" in out and "E[phi]" not in out


def test_plot(capsys, tmp_path):
    png = tmp_path / "ste.png"
    d = run_json(capsys, "--plot", png)
    assert d["plot"] == str(png) and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run(capsys, *SMALL, "--plot", tmp_path / "t.png")
    assert code == 0 and f"figure written to {tmp_path / 't.png'}" in out


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("argv, option", [
    (("--bits", 0), "--bits"),
    (("--bits", -1), "--bits"),
    (("--kind", "midtread", "--bits", 1), "--bits"),
    (("--width", 0), "--width"),
    (("--width", -2), "--width"),
    (("--eta", 0), "--eta"),
    (("--eta", -0.1), "--eta"),
    (("--eta", "inf"), "--eta"),
    (("--d", 0), "--d"),
    (("--tau", 0), "--tau"),
    (("--tau", -5), "--tau"),
    (("--seeds", 0), "--seeds"),
    (("--seed", -1), "--seed"),
    (("--delta", -0.1), "--delta"),
    (("--init-std", 0), "--init-std"),
    (("--points", 1), "--points"),
    (("--teacher", "uniform"), "--teacher"),
    (("--teacher", "nan"), "--teacher"),
    (("--kind", "midpoint"), "--kind"),
])
def test_bad_input(capsys, argv, option):
    code, out, err = run(capsys, *SMALL, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcover ste: error:"), err
    assert re.search(rf"{re.escape(option)}\b(?!-)", lines[0]), err  # --d is not --delta, --seed not --seeds
