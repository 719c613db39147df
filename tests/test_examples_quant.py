"""The quantization examples in their --small mode: real content, with the theory's limits as oracles."""


import numpy as np
import pytest
from runners import run_example

_run = run_example


def _figure_ok(res, kind="midrise"):
    fig = res["figure"]
    assert fig.exists() and fig.stat().st_size > 5000 and kind in fig.name
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- phase diagram
@pytest.fixture(scope="module")
def phase_run(tmp_path_factory):
    return _run("quantization_phase_diagram.py", tmp_path_factory.mktemp("phase"))


def test_phase_diagram_table_and_figure(phase_run):
    mod, res, out = phase_run
    _figure_ok(res)
    assert res["bits"] == (1, 2, 3) and len(res["widths"]) == 8
    lam = res["lambda_at"][5.0]
    assert lam.shape == (3, 8) and np.all(np.isfinite(lam)) and np.all(lam > 0)
    assert "midrise convention" in out and "lambda_AT" in out and "Lloyd-Max" in out
    pd = res["diagrams"][5.0]
    assert not pd.stable[0, -1]          # 1 bit at the largest width: RS unstable
    assert np.all(pd.stable[:, 0])       # every bits at the smallest width: stable
    assert res["onset"][5.0][0] is not None and res["onset"][5.0][0] <= res["onset"][5.0][1]
    # lambda_AT grows with the width for 1 bit (coarser spacing, less stable)
    assert np.all(np.diff(lam[0]) > 0)
    c = res["compare"][5.0]
    assert c.uniform_error.shape == (3,)
    assert c.uniform_error[0] == pytest.approx(c.lloyd_error[0])  # 1 bit: the same two levels


def test_phase_diagram_amp_points(phase_run):
    _, res, out = phase_run
    if res["amp"] is None:
        assert "skipped" in out
        return
    assert len(res["amp"]) == 2 and "AMP" in out
    for r in res["amp"]:
        assert np.isfinite(r["amp_gen_error"])
        if r["rs_lambda_at"] < 1:  # where RS is stable AMP follows it (N = 200: loosely)
            assert r["converged"] and abs(r["amp_gen_error"] - r["rs_gen_error"]) < 0.15


def test_phase_diagram_midtread_starts_at_2_bits(tmp_path):
    _, res, out = _run("quantization_phase_diagram.py", tmp_path, kind="midtread", amp=False)
    assert res["bits"] == (2, 3) and res["lambda_at"][5.0].shape == (2, 8)
    assert "midtread convention" in out and "skipped" in out
    _figure_ok(res, "midtread")


# ----------------------------------------------------------------------------- optimal width
@pytest.fixture(scope="module")
def width_run(tmp_path_factory):
    return _run("quantization_optimal_width.py", tmp_path_factory.mktemp("width"))


def test_optimal_width_approaches_max(width_run):
    _, res, out = width_run
    _figure_ok(res)
    assert "midrise convention" in out and "omega*" in out
    w = res["width"]
    assert w.shape == (2, 2, 3)  # (Delta, bits, alpha)
    # alpha -> inf, Delta = 0: Max's uniform quantizer; 2 bits: outer level 1.5 x 0.9957 = 1.4935
    assert w[0, 1, -1] == pytest.approx(1.5 * 0.9957, abs=0.02)
    assert w[0, 0, -1] == pytest.approx(res["max_width"][1], abs=0.02)    # 1 bit: sqrt(2/pi) = 0.798
    assert res["max_width"][1] == pytest.approx(np.sqrt(2 / np.pi), abs=1e-4)
    # the error at omega* then reaches Max's MSE, and decreases with alpha
    assert res["gen_error"][0, 1, -1] == pytest.approx(res["max_mse"][2], abs=1e-3)
    assert np.all(np.diff(res["gen_error"], axis=2) < 0)
    # omega* grows with alpha (less noise in the effective channel: less clipping needed)
    assert np.all(np.diff(w[0], axis=1) > 0)


def test_optimal_width_tradeoff_curves(width_run):
    _, res, _ = width_run
    for a, e in res["curves"].items():
        j = int(np.argmin(e))
        assert 0 < j < e.size - 1, a     # an interior minimum: clipping on the left, rounding on the right


def test_optimal_width_cells_convention(tmp_path):
    _, res, out = _run("quantization_optimal_width.py", tmp_path, kind="cells")
    # the cells width of Max's 2-bit quantizer is its outer level plus half a step: 2 x 0.9957
    assert res["width"][0, 1, -1] == pytest.approx(2 * 0.9957, abs=0.02)
    assert "cells convention" in out


# ----------------------------------------------------------------------------- double descent
@pytest.fixture(scope="module")
def dd_run(tmp_path_factory):
    return _run("quantization_double_descent.py", tmp_path_factory.mktemp("dd"))


def test_double_descent(dd_run):
    _, res, out = dd_run
    _figure_ok(res)
    assert "midrise convention" in out and "peak alpha" in out
    a = res["alphas"]
    assert 1.0 in a
    cont = res["continuous"]
    above = a > 1
    np.testing.assert_allclose(cont.gen_error[above], 0.1 * a[above] / (a[above] - 1), rtol=1e-12)
    assert np.all(np.isinf(cont.gen_error[~above]))
    i1 = int(np.flatnonzero(a == 1.0)[0])
    for (b, w), ec in res["curves"].items():
        assert np.all(np.isfinite(ec.gen_error)), (b, w)       # quantization keeps the error finite
        assert np.isfinite(ec.gen_error[i1])
        peak = res["peaks"][(b, w)]
        assert 0 < peak < 1, (b, w)                            # the peak moves below alpha = 1
        # below the peak the student interpolates (zero training error), above it does not
        assert np.all(ec.train_error[a < peak - 0.05] < 1e-8)
        assert np.all(ec.train_error[a > peak + 0.05] > 0)
    # more bits: closer to continuous weights, the peak moves towards 1
    assert res["peaks"][(1, 1.5)] < res["peaks"][(2, 1.5)]
    assert np.all(np.isfinite(res["finite_beta"].gen_error))
